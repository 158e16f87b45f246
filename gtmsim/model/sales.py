"""M5: SDRs and AEs, the constrained resources; one SimPy process per rep.

A rep's process wakes only when it starts a task (a contact attempt or a deal
meeting), or when it may find new work. Between tasks the rep prospects: those
hours are accounted in closed form from the working calendar, and they turn
into self-sourced first meetings as a renewal process in prospecting hours.
No lead is a SimPy process; a lead is touched only when a rep spends hours on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heappop, heappush
from itertools import repeat

import numpy as np
from simpy.core import NORMAL, URGENT

from gtmsim.model.calendar import WorkCalendar
from gtmsim.model.deals import NO_DECISION, PASS, SLIP, DealRules
from gtmsim.model.dists import Sampler
from gtmsim.model.handoff import FifoQueue, Verdict, new_queue
from gtmsim.model.leads import NEW, STATE_NAMES, Card, State
from gtmsim.model.rng import stream
from gtmsim.results.recorder import ACCEPTED, OPPORTUNITY, WON
from gtmsim.scenario.dists import Uniform

_INF = math.inf
_NAN = math.nan
# plain ints: an IntEnum member costs several times more to look up and to index with
_NEVER_FOLLOWED_UP, _WORKING, _UNREACHED, _REJECTED = (
    int(State.NEVER_FOLLOWED_UP),
    int(State.WORKING),
    int(State.UNREACHED),
    int(State.REJECTED),
)
_ACCEPTED, _OPPORTUNITY, _WON = int(State.ACCEPTED), int(State.OPPORTUNITY), int(State.WON)
_LOST_COMPETITOR, _LOST_NO_DECISION = int(State.LOST_COMPETITOR), int(State.LOST_NO_DECISION)


class _Wake:
    """What a rep's process waits on: no more of an event than SimPy's scheduler reads.

    ``Environment.step`` reads ``callbacks`` and ``_ok``; a SimPy ``Timeout``
    and ``Process`` around a generator cost about twice as much per wake.
    """

    __slots__ = ("callbacks",)
    _ok = True

    def __init__(self, callbacks: list) -> None:
        self.callbacks = callbacks


class SlotTree:
    """Values by slot in a segment tree: the leftmost slot with the least value, or with a
    value above a bound, in O(log n) (``highest=True`` keeps maxima instead of minima).

    A team numbers its reps by joining order, which is also their order in the team,
    so "leftmost" is "first in the team", as ``min`` and a scan over ``team.reps`` give.
    """

    __slots__ = ("_n", "_t", "_empty", "_highest")

    def __init__(self, highest: bool = False) -> None:
        self._highest = highest
        self._empty = -_INF if highest else _INF
        self._n = 1
        self._t = [self._empty] * 2

    def set(self, slot: int, value: float) -> None:
        if slot >= self._n:
            self._grow(slot + 1)
        t, highest = self._t, self._highest
        j = slot + self._n
        t[j] = value
        j >>= 1
        while j:
            a, b = t[2 * j], t[2 * j + 1]
            m = (a if a >= b else b) if highest else (a if a <= b else b)
            if t[j] == m:
                break  # ancestors are unchanged
            t[j] = m
            j >>= 1

    def least(self) -> int:
        """The leftmost slot holding the least value (a tree of minima)."""
        t, n, j = self._t, self._n, 1
        while j < n:
            j = 2 * j if t[2 * j] <= t[2 * j + 1] else 2 * j + 1
        return j - n

    def first_above(self, bound: float) -> int:
        """The leftmost slot with a value above ``bound``, or -1 (a tree of maxima)."""
        t, n, j = self._t, self._n, 1
        if not t[1] > bound:
            return -1
        while j < n:
            j = 2 * j if t[2 * j] > bound else 2 * j + 1
        return j - n

    def _grow(self, size: int) -> None:
        n = self._n
        while n < size:
            n *= 2
        leaves = self._t[self._n :] + [self._empty] * (n - self._n)
        t = [self._empty] * n + leaves
        for j in range(n - 1, 0, -1):
            a, b = t[2 * j], t[2 * j + 1]
            t[j] = (a if a >= b else b) if self._highest else (a if a <= b else b)
        self._n, self._t = n, t


class Rep:
    """One sales rep: a queue of leads (own or shared), a heap of deal meetings, trust, hours.

    Prospecting fills every working hour not spent on a task. Rather than being
    accounted hour by hour, it is read off the working-hours clock W(t) of the
    team calendar: idle hours up to t are W(t) - busy hours. The next
    self-sourced meeting is booked when W reaches ``prospect_w``.
    """

    __slots__ = (
        "team",
        "name",
        "segment",
        "queue",
        "deals",
        "trust",
        "selling_hours",
        "follow_up_hours",
        "busy_w",
        "prospect_w",
        "prospect_after",
        "last_end",
        "idle",
        "wake_at",
        "_step",
        "_env",
        "_wakes",
        "_wake",
        "bookings_usd",
        "open_deals",
        "review_hours",
        "cap_day",
        "cap_used",
        "joined_day",
        "paid_from_day",
        "left_day",
        "slot",
        "pending",
    )

    def __init__(
        self, team: SalesTeam, index: int, segment: int | None, joined_day: float = 0.0
    ) -> None:
        self.team = team
        self.name = f"{team.key}-{index + 1}"
        self.segment = segment
        shared = team.shared_queue
        self.queue = shared if shared is not None else new_queue(team.spec.queue_order)
        self.deals: list = []  # heap of (due day, seq, card, stage index)
        self.trust = team.trust_initial
        self.selling_hours = self.follow_up_hours = 0.0
        # working hours spent on tasks (admin included); a hire's hours before joining count too
        self.busy_w = team.cal.worked(joined_day)
        self.prospect_w = self.busy_w + team.next_prospect_hours() / team.ps
        self.prospect_after = joined_day  # a lower bound of when W reaches prospect_w
        self.last_end = joined_day
        self.joined_day = self.paid_from_day = joined_day
        self.left_day = _INF
        self.idle = False
        self.wake_at = _INF
        self._step: Callable | None = None  # the running process's send, None when it has ended
        self._env = team.world.env
        self._wakes = [self._resume]  # the callbacks of every wait
        self._wake = _Wake(
            self._wakes
        )  # the wait, re-armed each time (made anew after an interrupt)
        self.bookings_usd = 0.0
        self.open_deals = 0
        self.review_hours = 0.0
        self.cap_day, self.cap_used = -1, 0.0  # marketing-lead hours used on that day
        self.slot = len(team.by_slot)  # joining order (the team's loads and idle reps by it)
        team.by_slot.append(self)
        self.pending = 0  # leads routed to the rep in a batch not yet queued (least_loaded)

    @property
    def prospecting_hours(self) -> float:
        """Productive hours spent prospecting up to the horizon (or the last task's end)."""
        team = self.team
        end = max(min(team.world.horizon, self.left_day), self.last_end)
        return max(0.0, team.cal.worked(end) - self.busy_w) * team.ps

    # ------------------------------------------------------------ the process

    def start(self) -> None:
        """Start the rep's process now, ahead of ordinary events at this instant (as SimPy does).

        The process is the generator :meth:`run`, which yields how long to wait;
        :meth:`_resume` schedules the wake, as a SimPy ``Process`` would a
        ``Timeout``, so that events come in the same order as with them.
        """
        self._step = self.run().send
        self._env.schedule(_Wake([self._resume]), URGENT)

    def _resume(self, _event) -> None:
        try:
            delay = self._step(None)
        except StopIteration:
            self._step = None
            return
        env, wake = self._env, self._wake
        wake.callbacks = self._wakes
        # env.schedule(wake, NORMAL, delay), inlined: the same time and event number
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), wake))

    def interrupt(self) -> None:
        """End the rep's current wait now, ahead of ordinary events (as ``Process.interrupt``)."""
        self._env.schedule(_Wake([self._interrupted]), URGENT)

    def _interrupted(self, event) -> None:
        if self._step is None:
            return
        self._wake.callbacks = []  # the wait ends; its scheduled wake will find nothing to do
        self._wake = _Wake(self._wakes)
        self._resume(event)

    def run(self):
        """The rep's process: yields the days to wait until it looks again (see :meth:`start`).

        A rep knows every task that can reach it before the next midnight from
        the daily lead batch and its own retries, so it works through them in one
        go and yields once, at the end of the last; resolutions are applied with
        their own end times. Two kinds of rep cannot plan that far: one sharing a
        pooled queue yields after every task (the first free rep takes the next
        lead), and one that others hand deals to (AEs, when there are SDRs) waits
        interruptibly through any gap before its next task, so that a meeting
        booked meanwhile for an earlier time is not held up.
        """
        team = self.team
        world, rec = team.world, team.rec
        env, cal, ps, horizon = world.env, team.cal, team.ps, world.horizon
        deals, queue, works_leads = self.deals, self.queue, team.works_leads
        capped = works_leads and team.cap_at_zero_trust < 1.0
        cap_z, cap_day_hours = team.cap_at_zero_trust, team.day_hours
        one_at_a_time = team.shared_queue is not None
        gets_handoffs = team.gets_handoffs
        next_open, at_worked, add = cal.next_open, cal.at_worked, cal.add
        # next_open and add are inlined below in their common cases, with the calendar's arithmetic
        start, end, workday, skip, open_until, always_open = cal.constants()
        hours_per_week, prefix = cal.hours_per_week, cal.week_prefix
        next_time, pop, stage_hours = queue.next_time, queue.pop, team.stage_hours
        fifo = type(queue) is FifoQueue  # its next_time and pop are inlined
        finish_attempt, deal_step = team.finish_attempt, team.deal_step
        store, transitions, push = world.store, rec.transitions, queue.push
        max_attempts, retry_days = team.max_attempts, team.retry_days
        reload = team.reload if team._loads is not None else None
        abandon_days, speed_to_lead = team.abandon_days, team.speed_to_lead.__call__
        qualification_hours, attempt_hours = team.qualification_hours, team.attempt_hours
        logging = rec.logging
        tracked = team._loads is not None and queue is not team.shared_queue  # least_loaded
        idle_index = team._idle
        first_response_day = rec.first_response_day.append
        first_response_hours = rec.first_response_hours.append
        first_attempt_reached = rec.first_attempt_reached.append
        memo_w, memo_t = None, _NAN  # the last at_worked(prospect_w) (a rep often asks twice)
        # env._now is what env.now returns (a property call in this hot loop)
        while self.left_day > env._now:
            now = t = env._now
            tomorrow = int(now) + 1.0
            limit = now if one_at_a_time else (horizon if horizon < tomorrow else tomorrow)
            wake = None  # team.wake_cap(now), computed when first needed
            t_next = _INF  # the next task, when the rep waits for it instead of committing
            # hours are accumulated in locals while no other process can run, stored before a yield
            busy_w, prospect_w, prospect_after = self.busy_w, self.prospect_w, self.prospect_after
            selling, follow_up = self.selling_hours, self.follow_up_hours
            while True:
                t_deal = deals[0][0] if deals else _INF
                if works_leads:
                    if fifo:  # queue.next_time(t), inlined
                        heap = queue._heap
                        t_lead = heap[0][0] if heap else _INF
                    else:
                        t_lead = next_time(t)
                    if capped and t_lead < _INF:  # today's hours for marketing leads used up?
                        capped_lead = True  # opened below, then the day's cap applied
                        x = t_lead = t_lead if t_lead > t else t
                    else:
                        capped_lead = False
                        t_due = t_lead if t_lead < t_deal else t_deal
                else:
                    capped_lead = False
                    t_due = t_deal
                if not capped_lead:
                    if t_due == _INF:
                        break
                    x = t_due if t_due > t else t
                d = int(x)  # t_task = next_open(x), inlined
                frac = x - d
                dow = d % 7
                if frac < open_until[dow]:
                    t_task = x if frac >= start else d + start
                else:
                    t_task = d + skip[dow] + start
                if capped_lead:
                    day = int(t_task)
                    if day == self.cap_day and self.cap_used >= cap_day_hours * (
                        cap_z + (1.0 - cap_z) * self.trust
                    ):  # team.lead_hours_cap(self.trust), inlined
                        t_lead = t_task = next_open(day + 1.0)
                    if t_lead >= t_deal:  # the deal comes first
                        t_task = next_open(t_deal if t_deal > t else t)
                if t_task >= horizon:
                    break
                if t_task >= prospect_after:
                    if always_open:  # w_task = worked(t_task), inlined
                        w_task = t_task * 24.0
                    else:
                        d = int(t_task)
                        weeks = d // 7
                        dow = d - 7 * weeks
                        w_task = weeks * hours_per_week + prefix[dow]
                        if workday[dow]:
                            frac = t_task - d
                            if frac < start:
                                frac = start
                            if frac > end:
                                frac = end
                            w_task += (frac - start) * 24.0
                    if w_task >= prospect_w:
                        break  # a prospecting meeting is booked first
                    # W gains at most 24 hours a day: no need to look again before this
                    # (a hair early, so that rounding never skips a look that would book)
                    prospect_after = t_task + (prospect_w - w_task) / 24.0 - 1e-9
                if t_task > t and gets_handoffs:
                    t_next = t_task
                    break
                if t > now:
                    if t_task >= limit:
                        break
                elif t_task >= tomorrow:
                    if wake is None:
                        wake = next_open(tomorrow) if works_leads else _INF  # team.wake_cap(now)
                    if t_task > wake:
                        break  # tomorrow's leads may come first
                if t_deal <= t_task:
                    _, _, card, stage = heappop(deals)
                    hours = stage_hours[stage]()
                    w = hours / ps
                    t = t_task + w / 24.0  # add(t_task, w) of a task within its day, inlined
                    d = int(t_task)
                    if not (
                        w > 0.0
                        and (
                            always_open or (workday[d % 7] and d + start <= t_task and t <= d + end)
                        )
                    ):
                        t = add(t_task, w)
                    if card is None:  # a joint review (M8) in the rep's diary
                        self.review_hours += hours
                    else:
                        selling += hours
                        if t <= horizon:  # a meeting that ends after the horizon is not counted
                            deal_step(self, card, stage, t)
                else:  # a contact attempt
                    card = heappop(queue._heap)[2] if fifo else pop(t_task)
                    if tracked:
                        team.reload(self)
                    n = card.attempts
                    if n == 0 and t_task - card.mql_day > abandon_days:
                        world.move(card, _NEVER_FOLLOWED_UP, t_task, self.name)
                        continue  # it went into the black hole; choose again
                    card.attempts = n + 1
                    delay_hours = (t_task - card.mql_day) * 24.0
                    reached = card.u_contact[n] < speed_to_lead(delay_hours)
                    if n == 0:
                        card.first_response_hours = delay_hours
                        first_response_day(t_task)
                        first_response_hours(delay_hours)
                        first_attempt_reached(reached)
                    if logging:
                        world.log(card.lead, "attempt", t_task, self.name)
                    hours = qualification_hours() if reached else attempt_hours()
                    follow_up += hours
                    if capped:
                        if int(t_task) != self.cap_day:
                            self.cap_day, self.cap_used = int(t_task), 0.0
                        self.cap_used += hours
                    w = hours / ps
                    t = t_task + w / 24.0  # add(t_task, w) of a task within its day, inlined
                    d = int(t_task)
                    if not (
                        w > 0.0
                        and (
                            always_open or (workday[d % 7] and d + start <= t_task and t <= d + end)
                        )
                    ):
                        t = add(t_task, w)
                    if t > horizon:
                        pass
                    elif reached or n + 1 >= max_attempts:
                        finish_attempt(self, card, reached, t)
                    else:  # try again later: finish_attempt's first branch, inlined
                        store.state[card.lead] = _WORKING
                        transitions[card.state][_WORKING] += 1
                        card.state = _WORKING
                        push(t + retry_days, card, card.score)
                        if reload is not None:
                            reload(self)
                busy_w += w
                prospect_w += w
                if one_at_a_time and t > now:
                    break  # what the loop would find next, it would not start before yielding
            self.busy_w, self.prospect_w, self.prospect_after = busy_w, prospect_w, prospect_after
            self.selling_hours, self.follow_up_hours = selling, follow_up
            if t > now:
                self.last_end = t
                yield t - now
                continue
            if prospect_w < _INF:
                if prospect_w != memo_w:
                    memo_w, memo_t = prospect_w, at_worked(prospect_w)
                t_prospect = memo_t
            else:
                t_prospect = _INF
            if wake is None:
                wake = next_open(tomorrow) if works_leads else _INF
            t_wake = t_next if t_next < t_prospect else t_prospect  # max(now, min(...)), inlined
            if wake < t_wake:
                t_wake = wake
            if horizon < t_wake:
                t_wake = horizon
            if now > t_wake:
                t_wake = now
            self.idle, self.wake_at = True, t_wake
            if idle_index is not None:
                idle_index.set(self.slot, t_wake)
            yield t_wake - now  # or less: new work may interrupt the wait
            self.idle = False
            if idle_index is not None:
                idle_index.set(self.slot, -_INF)
            if env._now >= t_prospect:
                team.new_prospect(self, env._now)
                self.prospect_w += team.next_prospect_hours() / ps

    def learn(self, outcome: float) -> None:
        """Move trust towards the outcome of a marketing lead just worked (1 good, 0 bad)."""
        if self.team.trust_on:
            self.trust += self.team.trust_rate * (outcome - self.trust)


class SalesTeam:
    """A team of reps (SDRs or AEs) with one calendar, one routing rule and its samplers."""

    def __init__(self, world, key: str, spec, works_leads: bool, runs_deals: bool) -> None:
        sc = world.scenario
        seed, rep_no = sc.simulation.seed, world.replication
        self.world, self.key, self.spec = world, key, spec
        self.rec, self.speed_to_lead = world.rec, world.speed_to_lead
        self.cal = WorkCalendar.from_spec(spec.work_hours)
        self.ps = spec.productive_share
        self.works_leads, self.runs_deals = works_leads, runs_deals
        handoff = sc.handoff
        self.route = handoff.route
        self.sla_days = None if handoff.sla_hours is None else handoff.sla_hours / 24.0
        self.max_attempts = handoff.max_attempts
        self.retry_days = handoff.retry_after_hours / 24.0
        self.abandon_days = handoff.abandon_after_days
        self.recycle = handoff.rejected == "recycle"

        def sampler(name: str, dist) -> Callable[[], float]:
            return Sampler(dist, stream(seed, rep_no, f"{key}/{name}")).next

        self.attempt_hours = sampler("attempt_hours", spec.attempt_hours)
        self.qualification_hours = sampler("qualification_hours", spec.qualification_hours)
        self.response_delay_hours = sampler("response_delay_hours", spec.response_delay_hours)
        per_prospect = spec.prospecting.hours_per_prospect
        self.next_prospect_hours = (
            (lambda: _INF) if per_prospect is None else sampler("hours_per_prospect", per_prospect)
        )
        stages = sc.deals.stages
        self.stage_hours = [sampler(f"stage/{n}/rep_hours", s.rep_hours) for n, s in stages.items()]
        self.n_stages = len(stages)
        self.review = self.n_stages  # the diary's "stage" of a joint review (M8)
        self.stage_hours.append(repeat(sc.feedback.hours_per_attendee).__next__)
        self.stage_delay = [
            sampler(f"stage/{n}/buyer_delay_days", s.buyer_delay_days) for n, s in stages.items()
        ]
        self.delay_multiplier = [s.buyer_delay_multiplier for s in sc.market.segments.values()]
        # self-sourced prospects differ by design anyway: their luck comes from a plain stream
        self.prospect_luck = Sampler(
            Uniform(low=0.0, high=1.0), stream(seed, rep_no, f"{key}/prospect_luck")
        ).take
        outbound_mix = {k: s.outbound_share for k, s in sc.market.segments.items()}
        self.outbound_channel = world.marketing.outbound_channel
        self.prospects = world.marketing.latent_source(
            f"outbound/{key}",
            outbound_mix if any(outbound_mix.values()) else {},
            spec.prospecting.fit,
            spec.prospecting.in_market_multiplier,
        )

        trust, pay = sc.sales.trust, sc.incentives.sales
        self.trust_on = trust.enabled
        self.trust_initial, self.trust_rate = trust.initial, trust.learning_rate
        # on an individual plan a doubtful rep acts on the doubt; on a team plan the team's
        # bookings pay, so every lead given is worked (only the slower response remains)
        selfish = trust.enabled and pay.plan == "individual"
        self.cherry_pick = trust.cherry_pick_score if selfish and self.sla_days is None else 0.0
        self.cherry_floor = sc.marketing.scoring.mql_threshold
        self.slow_response = trust.slow_response_multiplier - 1.0 if trust.enabled else 0.0
        self.cap_at_zero_trust = (
            trust.follow_up_share_at_zero_trust if selfish and self.sla_days is None else 1.0
        )
        wh = spec.work_hours
        self.day_hours = (wh.end_hour - wh.start_hour) * self.ps
        lenient = key == "sdr" and pay.sdr_paid_on == "meetings"
        self.verdict = Verdict(
            handoff, sc.marketing.scoring, pay.meetings_pay_acceptance_drop if lenient else 0.0
        )

        self.shared_queue = new_queue(spec.queue_order) if self.route == "pooled" else None
        self.by_slot: list[Rep] = []  # every rep who ever joined, in order
        # least-loaded routing (pooled teams too give each deal an owner) and waking the first
        # idle rep of a pooled queue, in O(log reps): values by rep slot (see SlotTree)
        self._loads = SlotTree() if self.route in ("least_loaded", "pooled") else None
        self._idle = SlotTree(highest=True) if self.shared_queue is not None else None
        segments = list(sc.market.segments)
        seg_of = [None] * spec.headcount
        if spec.headcount_by_segment:
            seg_of = [
                segments.index(s) for s, k in spec.headcount_by_segment.items() for _ in range(k)
            ]
        self.reps = [Rep(self, i, seg_of[i]) for i in range(spec.headcount)]
        self.former: list[Rep] = []  # reps who left (M5 attrition), for the run's accounting
        self.by_segment = [[r for r in self.reps if r.segment == s] for s in range(len(segments))]
        self._turn: dict[int, int] = {}  # round-robin position per segment (-1: whole team)
        self._seq = 0
        for rep in self.reps:
            self.reload(rep)
        # others hand this team deals (SDRs book AE meetings): it cannot plan through gaps
        self.gets_handoffs = runs_deals and bool(world.sdr.reps)

    def start(self) -> None:
        """Start one SimPy process per rep."""
        for rep in self.reps:
            rep.start()

    def hire(self, paid_from_day: float, segment: int | None = None) -> Rep:
        """A new rep who starts selling now (M9 hiring), paid since ``paid_from_day``.

        A new position (``segment`` None) in a team of segment reps goes to the
        segment with the fewest reps for its original headcount; a refilled
        seat keeps its segment.
        """
        if segment is None and self.spec.headcount_by_segment:
            by_name = self.spec.headcount_by_segment
            initial = [by_name.get(name, 0) for name in self.world.segments]  # market order
            segment = min(
                (s for s, k in enumerate(initial) if k),
                key=lambda s: len(self.by_segment[s]) / initial[s],
            )
        rep = Rep(self, len(self.reps) + len(self.former), segment, joined_day=self.world.env.now)
        rep.paid_from_day = paid_from_day
        self.reps.append(rep)
        if segment is not None:
            self.by_segment[segment].append(rep)
        self.reload(rep)
        rep.start()
        return rep

    def leave(self, rep: Rep) -> None:
        """``rep`` leaves now (M5 attrition); colleagues (at least one) take over their work."""
        now = self.world.env.now
        rep.left_day = now
        self.reps.remove(rep)
        self.former.append(rep)
        if rep.segment is not None:
            self.by_segment[rep.segment].remove(rep)
        if rep.idle:
            self.set_idle(rep, False)
            rep.interrupt()
        if self._loads is not None:
            self._loads.set(rep.slot, _INF)  # no longer picked
        for due, _, card, stage in sorted(rep.deals):
            if card is None:  # a review in the leaver's diary
                continue
            heir = self.pick_rep(card.segment)
            heir.open_deals += 1
            self.reload(heir)
            self._book(heir, due, card, stage)
        rep.deals.clear()
        rep.open_deals = 0
        if rep.queue is not self.shared_queue:
            for visible, card in rep.queue.drain():
                self.enqueue(card, self.pick_rep(card.segment), visible)

    # ------------------------------------------------------------ routing

    def pick_rep(self, segment: int) -> Rep:
        """The rep that gets a new lead or deal of ``segment`` under the routing rule.

        least_loaded (and a pooled team, which still gives each deal one owner): the
        first rep with the fewest queued leads (leads routed in the same batch
        included) and open deals.
        """
        if self.route in ("segment", "round_robin"):
            turn = segment if self.route == "segment" else -1  # one turn order per segment
            reps = self.by_segment[segment] if turn >= 0 else self.reps
            i = self._turn.get(turn, 0)
            self._turn[turn] = i + 1
            return reps[i % len(reps)]
        return self.by_slot[self._loads.least()]

    def reload(self, rep: Rep) -> None:
        """Note a change in ``rep``'s load (queued leads, open deals) for least-loaded routing.

        A pooled queue is everyone's: it adds the same to each load and is left out.
        """
        if self._loads is not None:
            queued = 0 if rep.queue is self.shared_queue else len(rep.queue)
            self._loads.set(rep.slot, queued + rep.open_deals + rep.pending)

    def set_idle(self, rep: Rep, idle: bool) -> None:
        """Whether ``rep`` waits for work (until ``rep.wake_at``); pooled teams index it."""
        rep.idle = idle
        if self._idle is not None:
            self._idle.set(rep.slot, rep.wake_at if idle else -_INF)

    def wake_cap(self, now: float) -> float:
        """Latest time an idle rep may sleep: lead teams look again after each day's births."""
        return self.cal.next_open(math.floor(now) + 1.0) if self.works_leads else _INF

    def _notify(self, rep: Rep | None, t: float) -> None:
        """Wake an idle rep that would otherwise sleep past new work ready at ``t``.

        ``rep`` None (a pooled queue): the first such rep of the team.
        """
        if rep is not None:
            if rep.idle and rep.wake_at > self.cal.next_open(t):
                self.set_idle(rep, False)
                rep.interrupt()
            return
        slot = self._idle.first_above(self.cal.next_open(t))  # the first such rep of the team
        if slot >= 0:
            rep = self.by_slot[slot]
            self.set_idle(rep, False)
            rep.interrupt()

    # ------------------------------------------------------------ leads (M4)

    def triage(self, idx: np.ndarray, mql_day: np.ndarray) -> tuple[list, list, list]:
        """Route a day's MQLs and decide which ones a rep will ever look at.

        A rep who distrusts marketing leads ignores those scoring below the
        scenario's MQL threshold plus ``cherry_pick_score`` x (1 - trust): they
        are never followed up. The bar is the agreed threshold, not marketing's
        current one: a rep does not lower it because marketing did. The others become visible to their rep (or the pooled
        queue) after the rep's response delay, capped by the SLA.

        Returns
        -------
        (kept positions, reps, visible times)
            For the MQLs that stay in play; ``reps`` holds None for a pooled queue.
        """
        w = self.world
        store = w.store
        floor, cherry = self.cherry_floor, self.cherry_pick
        slow, sla = self.slow_response, self.sla_days
        response_delay_hours = self.response_delay_hours
        pooled = self.shared_queue is not None
        mean_trust = self.mean_trust()
        # round robin inlined: the same turns as pick_rep, kept in a local for the batch
        round_robin = not pooled and self.route == "round_robin"
        turn, team = self._turn.get(-1, 0), self.reps
        least_loaded = self.route == "least_loaded"
        routed = []  # reps with leads pending in this batch (least_loaded)
        kept, reps, visible, dropped = [], [], [], []
        for i, (day, score, seg) in enumerate(
            zip(
                mql_day.tolist(),
                store.score[idx].tolist(),
                store.segment[idx].tolist(),
                strict=True,
            )
        ):
            if pooled:
                rep, trust = None, mean_trust
            else:
                if round_robin:
                    rep = team[turn % len(team)]
                    turn += 1
                else:
                    rep = self.pick_rep(seg)
                trust = rep.trust
            if cherry and score < floor + cherry * (1.0 - trust):
                dropped.append(i)
                continue
            delay = response_delay_hours() / 24.0 * (1.0 + slow * (1.0 - trust))
            if sla is not None:
                delay = min(delay, sla)
            if least_loaded:
                rep.pending += 1
                self.reload(rep)
                routed.append(rep)
            kept.append(i)
            reps.append(rep)
            visible.append(day + delay)
        if round_robin:
            self._turn[-1] = turn
        for rep in routed:  # their leads are queued next
            rep.pending = 0
            self.reload(rep)
        if dropped:
            gone = idx[dropped]
            w.marketing.move(gone, State.NEVER_FOLLOWED_UP, State.QUEUED)
            if w.rec.logging:
                w.marketing.log(gone, "never_followed_up", mql_day[dropped], self.key)
        return kept, reps, visible

    def enqueue(self, card: Card, rep: Rep | None, visible: float) -> None:
        """Put a lead's card in its rep's queue (or the pooled queue) from ``visible`` on."""
        if rep is None:
            self.shared_queue.push(visible, card, card.score)
        else:
            rep.queue.push(visible, card, card.score)
            if self._loads is not None:
                self.reload(rep)
        self._notify(rep, visible)

    def enqueue_many(self, cards: list[Card], reps: list, visible: list[float]) -> None:
        """:meth:`enqueue` of each (card, rep, visible time) in turn; extra cards are left."""
        if self.shared_queue is not None or self._loads is not None:
            for card, rep, v in zip(cards, reps, visible, strict=False):
                self.enqueue(card, rep, v)
            return
        next_open = self.cal.next_open
        for card, rep, v in zip(cards, reps, visible, strict=False):
            rep.queue.push(v, card, card.score)
            if rep.idle and rep.wake_at > next_open(v):  # self._notify(rep, v), inlined
                self.set_idle(rep, False)
                rep.interrupt()

    def mean_trust(self) -> float:
        return sum(r.trust for r in self.reps) / len(self.reps) if self.reps else 0.0

    def lead_hours_cap(self, trust: float) -> float:
        """Productive hours a rep with ``trust`` gives marketing leads in one working day."""
        z = self.cap_at_zero_trust
        return self.day_hours * (z + (1.0 - z) * trust)

    def prospecting_and_worked_hours(self, t: float) -> tuple[float, float]:
        """Productive hours all reps spent prospecting, and worked in total, up to ``t``."""
        cal, prospecting, total = self.cal, 0.0, 0.0
        for r in (*self.reps, *self.former):
            worked = cal.worked(min(t, r.left_day))
            prospecting += max(0.0, worked - r.busy_w)
            total += max(0.0, worked - cal.worked(r.joined_day))
        return prospecting * self.ps, total * self.ps

    def finish_attempt(self, rep: Rep, card: Card, reached: bool, now: float) -> None:
        """Resolve an attempt at its end, ``now``: accept, reject, retry or give up."""
        w = self.world
        rec = w.rec
        if not reached and card.attempts < self.max_attempts:
            # w.move(card, _WORKING, now, rep.name, log=False), inlined
            w.store.state[card.lead] = _WORKING
            rec.transitions[card.state][_WORKING] += 1
            card.state = _WORKING
            rep.queue.push(now + self.retry_days, card, card.score)
            if self._loads is not None:
                self.reload(rep)
            return
        accepted = reached and self.verdict.accepts(
            card.fit, card.window_open, card.window_close, now, card.u_qualify
        )
        rec.resolved_first_response_hours.append(card.first_response_hours)
        rec.resolved_accepted.append(accepted)
        rec.mqls_judged += reached
        rep.learn(1.0 if accepted else 0.0)
        if accepted:
            w.move(card, _ACCEPTED, now, rep.name)
            w.count(ACCEPTED, card)
            w.ae.new_deal(card, now, rep if self.runs_deals else None)
        elif self.recycle:
            w.marketing.recycle(card.lead, now, card.state)
        else:
            w.move(card, _REJECTED if reached else _UNREACHED, now, rep.name)

    # ------------------------------------------------------------ prospects and deals (M6)

    def new_prospect(self, rep: Rep, t: float) -> None:
        """A prospecting rep books a first meeting with a self-sourced account at ``t``."""
        w = self.world
        mk = w.marketing
        lead, (segment, fit, w_open, w_close, size, group) = mk.new_prospect(t, self.prospects)
        card = Card(
            lead,
            mk.outbound_channel,
            segment,
            fit,
            w_open,
            w_close,
            size,
            0.0,
            _NAN,
            _NAN,
            group,
            [],
            _NAN,
            self.prospect_luck(self.n_stages),
            NEW,
        )
        w.store.state[lead] = _ACCEPTED  # w.move(card, _ACCEPTED, t, rep.name), inlined
        rec = self.rec
        rec.transitions[NEW][_ACCEPTED] += 1
        card.state = _ACCEPTED
        if rec.logging:
            w.log(lead, STATE_NAMES[_ACCEPTED], t, rep.name)
        rec.funnel[ACCEPTED, card.channel, segment] += 1
        w.ae.new_deal(card, t, rep if self.runs_deals else None)

    def new_deal(self, card: Card, t: float, owner: Rep | None) -> None:
        """Schedule the discovery meeting of an accepted lead with an AE."""
        rep = owner or self.pick_rep(card.segment)
        rep.open_deals += 1
        if self._loads is not None:
            self.reload(rep)
        self._schedule(rep, card, 0, t)

    def _schedule(self, rep: Rep, card: Card, stage: int, t: float) -> None:
        due = t + self.stage_delay[stage]() * self.delay_multiplier[card.segment]
        self._seq += 1  # self._book(rep, due, card, stage), inlined
        heappush(rep.deals, (due, self._seq, card, stage))
        if rep.idle and rep.wake_at > self.cal.next_open(due):  # self._notify(rep, due)
            self.set_idle(rep, False)
            rep.interrupt()

    def book_review(self, rep: Rep, day: int) -> None:
        """Put a joint review (M8) in ``rep``'s diary from the start of ``day``'s working hours."""
        self._book(rep, self.cal.next_open(float(day)), None, self.review)

    def _book(self, rep: Rep, due: float, card: Card | None, stage: int) -> None:
        """Put a deal meeting in ``rep``'s diary at ``due``, waking the rep if idle."""
        self._seq += 1
        heappush(rep.deals, (due, self._seq, card, stage))
        self._notify(rep, due)

    def deal_step(self, rep: Rep, card: Card, stage: int, now: float) -> None:
        """Resolve a deal meeting at its end, ``now``: next stage, won, or lost."""
        w = self.world
        rec = w.rec
        rules: DealRules = w.deal_rules
        outcome = rules.outcome(
            stage,
            card.fit,
            card.window_open,
            card.window_close,
            card.affinity,
            now,
            card.u_stage[stage],
            card.buying_group,
            card.covered,
        )
        marketing_lead = card.channel != self.outbound_channel
        if rec.logging:
            w.log(card.lead, f"stage:{rules.names[stage]}", now, rep.name)
        size = card.deal_size_usd
        if outcome == SLIP and w.org.quarters.close_early(self, rep, card.window_open, now):
            outcome, size = PASS, w.org.quarters.discounted(size)  # signed this quarter, for less
        if outcome == SLIP:  # the buyer is not ready to sign yet: meet again when the window opens
            self._seq += 1
            heappush(rep.deals, (card.window_open, self._seq, card, stage))
        elif outcome == PASS and stage == rules.last:
            w.move(card, _WON, now, rep.name)
            w.count(WON, card)
            w.account_marketing.release(card)
            rep.bookings_usd += size
            rep.open_deals -= 1
            if self._loads is not None:
                self.reload(rep)
            rec.weekly_bookings_usd[rec.week(now)] += size
            rec.bookings_by_channel_usd[card.channel] += size
            if marketing_lead:
                rec.weekly_deals_won_inbound[rec.week(now)] += 1
            rec.won_deal_sizes_usd.append(size)
            rec.cycle_days.append(now - card.opportunity_day)
        elif outcome == PASS:
            if stage == 0:
                w.move(card, _OPPORTUNITY, now, rep.name)
                w.count(OPPORTUNITY, card)
                card.opportunity_day = now
                w.store.opportunity_day[card.lead] = now
                w.account_marketing.cover(card)
                rec.weekly_pipeline_created_usd[rec.week(now)] += card.deal_size_usd
                rec.pipeline_by_channel_usd[card.channel] += card.deal_size_usd
                if marketing_lead and not self.works_leads:  # else it learned at the verdict
                    rep.learn(1.0)
            self._schedule(rep, card, stage + 1, now)
        else:
            lost = _LOST_NO_DECISION if outcome == NO_DECISION else _LOST_COMPETITOR
            w.store.state[card.lead] = lost  # w.move(card, lost, now, rep.name), inlined
            rec.transitions[card.state][lost] += 1
            card.state = lost
            if rec.logging:
                w.log(card.lead, STATE_NAMES[lost], now, rep.name)
            w.account_marketing.release(card)
            rep.open_deals -= 1
            if self._loads is not None:
                self.reload(rep)
            if stage == 0 and marketing_lead and not self.works_leads:
                rep.learn(0.0)
