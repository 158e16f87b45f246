"""The one place where a Scenario is wired into SimPy.

A :class:`World` holds the SimPy environment, the lead store, the recorder, the
marketing department and the two sales teams. A daily process (scheduled ahead
of everything else at midnight) runs policies, spends, creates the day's leads
and hands MQLs to sales; the reps' processes do the rest.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Sequence
from heapq import heappop
from typing import Protocol

import numpy as np
import simpy
from simpy.core import URGENT

from gtmsim.model.deals import DealRules
from gtmsim.model.handoff import SpeedToLead
from gtmsim.model.leads import IDLE, STATE_NAMES, Card, LeadStore, State
from gtmsim.model.marketing import Marketing
from gtmsim.model.org import QUARTER_DAYS, AccountMarketing, Organisation, staffing
from gtmsim.model.rng import DiceRows, LeadDice
from gtmsim.model.sales import SalesTeam
from gtmsim.results.recorder import ACCEPTED, ChunkSink, LeadStates, Recorder

_ACCEPTED = int(State.ACCEPTED)


class Policy(Protocol):
    """A behaviour that acts on a schedule (incentives, reviews, budgets: M7-M10).

    Called at midnight of every day divisible by ``every_days``, before that
    day's leads are created. It reads the recorded state (``world.rec``, the
    teams, the store) and moves knobs such as ``world.marketing.mql_threshold``,
    ``world.marketing.noise_sd`` or ``world.marketing.spend_usd_per_week``.
    """

    every_days: int

    def __call__(self, world: World, day: int) -> None: ...


class World:
    """One replication of one scenario, ready to run.

    Parameters
    ----------
    scenario
        A validated :class:`gtmsim.scenario.schema.Scenario`.
    replication
        Replication number; with the scenario's seed it fixes every random draw.
    event_sink
        Receives chunks of the per-lead event log; ``None`` (default) switches it off.
    policies
        Scheduled behaviours (see :class:`Policy`), run after the organisation's
        own dynamics (M7-M9, :class:`gtmsim.model.org.Organisation`).
    """

    def __init__(
        self,
        scenario,
        replication: int = 0,
        event_sink: ChunkSink | None = None,
        policies: Sequence[Policy] = (),
    ) -> None:
        self.scenario, self.replication = scenario, replication
        self.horizon = scenario.simulation.horizon_days
        seed = scenario.simulation.seed
        self.env = simpy.Environment()
        self.store = LeadStore(_expected_leads(scenario))
        self.segments = list(scenario.market.segments)
        self.channels = [*scenario.market.channels, "outbound"]
        self.rec = Recorder(
            len(self.channels),
            len(self.segments),
            self.horizon,
            LeadStates(STATE_NAMES, IDLE),
            QUARTER_DAYS,
            event_sink,
        )
        self.marketing = Marketing(scenario, replication, self.store, self.rec)
        self.speed_to_lead = SpeedToLead(scenario.handoff.speed_to_lead)
        self.deal_rules = DealRules(
            scenario.deals,
            scenario.handoff.in_market_horizon_days,
            scenario.budget.embedded_marketers.consensus_share,
        )
        self.account_marketing = AccountMarketing(scenario.budget.embedded_marketers, self.segments)
        self.dice_contact = LeadDice(seed, replication, "contact")
        self.dice_qualify = LeadDice(seed, replication, "qualify")
        self.dice_stage = LeadDice(seed, replication, "stage")
        self._attempt_cols = scenario.handoff.max_attempts
        self._dice_rows = DiceRows(
            [(self.dice_contact, a) for a in range(self._attempt_cols)]
            + [(self.dice_qualify, 0)]
            + [(self.dice_stage, s) for s in range(len(self.deal_rules.names))]
        )
        by_ae = scenario.handoff.qualifier == "ae"
        sdr_spec, ae_spec = staffing(scenario)
        self.sdr = SalesTeam(self, "sdr", sdr_spec, works_leads=not by_ae, runs_deals=False)
        self.ae = SalesTeam(self, "ae", ae_spec, works_leads=by_ae, runs_deals=True)
        self.lead_team = self.ae if by_ae else self.sdr
        self.org = Organisation(self)
        self.policies = [self.org, *policies]
        self._ae_hours_mark = (0.0, 0.0)
        self.finished = False

    # ------------------------------------------------------------ running

    def run(self) -> World:
        """Simulate to the horizon; returns self."""
        if self.finished:
            raise RuntimeError("this world has already run; build a new one")
        self.env.process(self._days())
        self.sdr.start()
        self.ae.start()
        # A run makes almost no reference cycles but keeps many objects alive, so the
        # cyclic collector's passes over them are pure cost: pause it while the run lasts.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._run_until(self.horizon)
        finally:
            if collecting:
                gc.enable()
        self._finish()
        return self

    def _run_until(self, until: float) -> None:
        """``env.run(until=until)`` with ``Environment.step`` inlined: the same events, in order."""
        env = self.env
        stop = simpy.Event(env)  # as env.run makes it: ahead of every other event at `until`
        stop._ok, stop._value = True, None
        env.schedule(stop, URGENT, until - env.now)
        queue = env._queue
        while True:
            env._now, _, _, event = heappop(queue)
            if event is stop:
                return
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):  # a process failed
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc

    def _days(self):
        env = self.env
        store = self.store
        for day in range(math.ceil(self.horizon)):
            if day > env.now:
                yield self._midnight(day)
            store.settle()  # yesterday's self-sourced leads, before anything reads the store
            if day % 7 == 0 and day:
                self._end_week(day // 7 - 1)
            for policy in self.policies:
                if day % policy.every_days == 0:
                    policy(self, day)
            if day % 7 == 0:
                self._start_week(day // 7)
            idx, t = self.marketing.day(day)
            self._to_sales(day, idx, t)

    def _start_week(self, week: int) -> None:
        """Record the knobs in force during ``week`` (after the day's policies)."""
        b, mk = self.rec.behaviour, self.marketing
        b["mql_threshold"][week] = mk.mql_threshold
        b["scoring_noise_sd"][week] = mk.noise_sd
        b["marketing_budget_usd_per_week"][week] = mk.spend_usd_per_week.sum()
        b["missed_quarters"][week] = self.org.quarters.missed_streak
        b["ae_headcount"][week] = len(self.ae.reps)

    def _end_week(self, week: int) -> None:
        """Record where trust and the AEs' time stood at the end of ``week``."""
        b = self.rec.behaviour
        b["trust_ae_mean"][week] = self.ae.mean_trust() if self.ae.reps else math.nan
        b["trust_sdr_mean"][week] = self.sdr.mean_trust() if self.sdr.reps else math.nan
        t = min(7.0 * (week + 1), self.horizon)
        prospecting, worked = self.ae.prospecting_and_worked_hours(t)
        last_p, last_w = self._ae_hours_mark
        self._ae_hours_mark = (prospecting, worked)
        if worked > last_w:
            b["ae_prospecting_share"][week] = min(
                1.0, max(0.0, (prospecting - last_p) / (worked - last_w))
            )

    def _midnight(self, day: int) -> simpy.Event:
        # Like env.timeout, but ahead of the reps' events at the same instant, so that
        # a rep waking at midnight already sees the day's leads.
        event = simpy.Event(self.env)
        event._ok, event._value = True, None
        self.env.schedule(event, URGENT, day - self.env.now)
        return event

    def _to_sales(self, day: int, idx: np.ndarray, t: np.ndarray) -> None:
        """Hand the day's MQLs (``idx``, MQL times ``t``) to the lead team, then idle buyers
        whose window opens today book a discovery meeting with an AE.

        The cards of both are made in one go (they only read the store, which the
        queueing in between leaves alone).
        """
        team = self.lead_team
        kept, reps, visible = team.triage(idx, t) if len(idx) else ([], [], [])
        back = self.marketing.returning(day)  # after triage: leads it dropped may return
        if not kept and not len(back):
            return
        leads = np.concatenate((idx[kept], back))
        cards = self.cards(leads, np.concatenate((t[kept], self.store.window_open_day[back])))
        team.enqueue_many(cards, reps, visible)  # the MQLs' cards come first
        if len(back):
            states = self.store.state[back].tolist()
            for card, state in zip(cards[len(kept) :], states, strict=True):
                card.state = state
                self.move(card, _ACCEPTED, card.mql_day, "buyer")
                self.count(ACCEPTED, card)
                self.ae.new_deal(card, card.mql_day, None)

    def _finish(self) -> None:
        self.store.settle()
        abandon = self.scenario.handoff.abandon_after_days
        for card in sorted(self.queued_cards(), key=lambda c: c.lead):  # log rows in lead order
            waited = self.horizon - card.mql_day
            if card.state == State.QUEUED and waited > abandon:
                self.move(card, State.NEVER_FOLLOWED_UP, self.horizon, "end")
        self._end_week(self.rec.n_weeks - 1)
        self.rec.flush()
        self.finished = True

    # ------------------------------------------------------------ bookkeeping

    def move(self, card: Card, new: int, t: float, resource: str, log: bool = True) -> None:
        """Move the lead of a card to a new state (a :class:`State` or its int value)."""
        self.store.state[card.lead] = new
        self.rec.transitions[card.state][new] += 1
        card.state = new
        if log and self.rec.logging:
            self.log(card.lead, STATE_NAMES[new], t, resource)

    def cards(self, idx: np.ndarray, mql_day: np.ndarray) -> list[Card]:
        """Cards for leads reaching sales, with their own uniforms (common random numbers)."""
        store = self.store
        slot0 = 32 * store.mql_count[idx].astype(np.int64)  # fresh luck each time it is an MQL
        u = self.lead_luck(idx, slot0)
        a = self._attempt_cols
        u_contact = u[:, :a].tolist()
        u_qualify = u[:, a].tolist()
        u_stage = u[:, a + 1 :].tolist()
        # one call of Card per lead, straight from the columns (no row tuples)
        return list(
            map(
                Card,
                idx.tolist(),
                store.channel[idx].tolist(),
                store.segment[idx].tolist(),
                store.fit[idx].tolist(),
                store.window_open_day[idx].tolist(),
                store.window_close_day[idx].tolist(),
                store.deal_size_usd[idx].tolist(),
                store.affinity[idx].tolist(),
                store.score[idx].tolist(),
                np.asarray(mql_day, float).tolist(),
                store.buying_group[idx].tolist(),
                u_contact,
                u_qualify,
                u_stage,
            )
        )

    def lead_luck(self, idx: np.ndarray, slot0: np.ndarray | int = 0) -> np.ndarray:
        """Uniforms of leads ``idx`` for contact attempts, qualification and stages (a row each).

        They come from the lead's id, so a lead meets the same luck in every design.
        """
        return self._dice_rows(self.store.uid[idx], slot0)

    def count(self, stage: int, card: Card) -> None:
        """Count a lead reaching a funnel stage, by its channel and segment."""
        self.rec.funnel[stage, card.channel, card.segment] += 1

    def log(self, lead: int, activity: str, t: float, resource: str) -> None:
        """One row of the event log (only when the log is on)."""
        self.store.settle()
        self.rec.log(
            lead,
            activity,
            t,
            resource,
            self.channels[self.store.channel[lead]],
            self.segments[self.store.segment[lead]],
        )

    def queued_cards(self) -> list[Card]:
        """MQLs still waiting in any queue at the end of the run."""
        queues = {id(r.queue): r.queue for r in self.lead_team.reps}
        return [card for q in queues.values() for card in q.cards()]


def _expected_leads(scenario) -> int:
    """Room for the leads a run is likely to create, so the store rarely has to grow."""
    per_week = sum(
        ch.organic_leads_per_week
        + ch.max_leads_per_week
        * ch.spend_usd_per_week
        / (ch.spend_usd_per_week + ch.half_saturation_usd_per_week)
        for ch in scenario.market.channels.values()
    )
    return int(1.2 * per_week * scenario.simulation.horizon_days / 7.0) + 16_384
