"""M1 and M3: channels buy leads; marketing scores them, passes MQLs on, nurtures the rest.

Everything here is vectorised over a day's batch of leads or the whole nurture
pool; no lead becomes a Python object. The knobs that incentive and feedback
policies move (``mql_threshold``, ``noise_sd``, ``spend_usd_per_week``) are
plain attributes, read afresh every day.
"""

from __future__ import annotations

import sys

import numpy as np

from gtmsim.model.dists import Sampler
from gtmsim.model.leads import (
    IDLE,
    LATENT_FIELDS,
    NEW,
    LatentSource,
    LeadStore,
    State,
    day_fraction,
)
from gtmsim.model.rng import LeadDice, lead_id_base, stream
from gtmsim.results.recorder import LEAD, MQL, Recorder
from gtmsim.scenario.dists import Uniform

_UNIT = Uniform(low=0.0, high=1.0)
_STEPS = np.array([[-1.0], [0.0], [1.0]])
_IS_IDLE = np.isin(np.arange(len(State)), IDLE)  # by state value: np.isin costs 10x more


def poisson_counts(u, lam: np.ndarray) -> np.ndarray:
    """Poisson counts by inversion: the smallest k with CDF(k; lam) >= u.

    Inversion makes a count a monotone function of its rate for a given
    uniform, so more spend never means fewer leads in a paired comparison.
    """
    special = _special()
    u = np.asarray(u, float)
    lam = np.asarray(lam, float)
    k = np.maximum(np.floor(lam + np.sqrt(lam) * special.ndtri(u)), 0.0)  # normal start
    # the CDF at k - 1, k and k + 1 in one call: most counts are found there
    below, at, above = special.pdtr(k + _STEPS, lam).tolist()
    counts = k.astype(np.int64).tolist()
    pdtr = special.pdtr
    for i, ui in enumerate(u.tolist()):
        if at[i] < ui:  # step up to the first k with CDF(k) >= u
            counts[i] += 1
            if above[i] < ui:
                counts[i] += 1
                while pdtr(counts[i], lam[i]) < ui:
                    counts[i] += 1
        elif counts[i] > 0 and below[i] >= ui:  # step down while CDF(k - 1) >= u
            counts[i] -= 1
            while counts[i] > 0 and pdtr(counts[i] - 1, lam[i]) >= ui:
                counts[i] -= 1
    return np.array(counts, dtype=np.int64)


def _special():
    """scipy.special, imported on first use: ``import gtmsim`` stays quick."""
    module = sys.modules.get("scipy.special")  # `from scipy import special` costs more each time
    if module is None:
        import scipy.special as module
    return module


def cumulative(weights) -> np.ndarray:
    """Cumulative shares ending at exactly 1."""
    c = np.cumsum(np.asarray(weights, float))
    return c / c[-1]


class Marketing:
    """The marketing department of one run: channels, scoring, and the nurture pool.

    Parameters
    ----------
    scenario
        The validated scenario.
    replication
        Replication number (selects the random streams).
    store, rec
        The run's lead store and recorder.
    """

    def __init__(self, scenario, replication: int, store: LeadStore, rec: Recorder) -> None:
        seed = scenario.simulation.seed
        market = scenario.market
        self.store, self.rec = store, rec
        self.segments = list(market.segments)
        self.channels = list(market.channels)
        self._specs = [market.channels[c] for c in self.channels]
        self.hour_cum = cumulative(market.arrivals.hourly_weights)
        week = np.asarray(market.arrivals.weekday_weights, float)
        self.weekday_factor = week * 7.0 / week.sum()
        bw = market.buying_window
        self.ramp_days = bw.intent_ramp_days
        deal_specs = [s.deal_size_usd for s in market.segments.values()]
        self._group_specs = [s.buying_group_size for s in market.segments.values()]

        self._seed, self._replication = seed, replication
        self._id_bases: set[int] = set()
        self._deal_specs = deal_specs
        self._bw = bw
        self.sources = [
            self.latent_source(c, s.segment_mix, s.fit, s.in_market_multiplier)
            for c, s in zip(self.channels, self._specs, strict=True)
        ]
        self.outbound_channel = len(self.channels)

        # one stream per channel: moving one channel's spend leaves the others' leads alone
        self._arrivals = [
            Sampler(_UNIT, stream(seed, replication, f"arrivals/{c}")).next for c in self.channels
        ]
        self._requalify_dice = LeadDice(seed, replication, "nurture/requalify_time")
        self.return_share = bw.return_share
        self._horizon = scenario.simulation.horizon_days
        self._returns: dict[int, list[int]] = {}  # day a window opens -> buyers who would return

        scoring = scenario.marketing.scoring
        self.fit_weight = scoring.fit_weight
        self.intent_weight = scoring.intent_weight
        # knobs that policies move
        self.mql_threshold = scoring.mql_threshold
        self.noise_sd = scoring.noise_sd
        self.spend_usd_per_week = np.array([s.spend_usd_per_week for s in self._specs], dtype=float)
        self._organic = np.array([s.organic_leads_per_week for s in self._specs], dtype=float)
        self._max = np.array([s.max_leads_per_week for s in self._specs], dtype=float)
        self._half = np.array([s.half_saturation_usd_per_week for s in self._specs], dtype=float)

        nurture = scenario.marketing.nurture
        self.nurture_on = nurture.enabled
        self.rescore_every_days = nurture.rescore_every_days
        self.nurture_max_days = nurture.max_days
        self.affinity_per_touch = nurture.affinity_per_touch
        self.requalify_gain = nurture.requalify_score_gain
        self.engaged_share = nurture.engaged_share
        self._engaged_dice = LeadDice(seed, replication, "nurture/engaged")
        self._due: list[tuple[np.ndarray, np.ndarray]] = []  # (touch day, lead) of the pool
        self._entering: list[tuple[tuple, np.ndarray]] = []  # (knobs, leads) not yet scheduled
        self._scheduled_with = self._schedule_key()
        if self.return_share:
            self._add_history()

    def latent_source(
        self, name: str, mix: dict[str, float], fit, in_market: float, times: bool = True
    ) -> LatentSource:
        """The latent truth of a lead source (a channel, or a team's prospecting).

        ``times=False``: the source's leads need no time of day (see :class:`LatentSource`).
        """
        shares = [mix.get(s, 0.0) for s in self.segments] if mix else [1.0] * len(self.segments)
        bw = self._bw
        return LatentSource(
            stream(self._seed, self._replication, f"leads/{name}"),
            cumulative(shares),
            self._deal_specs,
            self._group_specs,
            fit,
            min(1.0, bw.buy_within_12_months_probability * in_market),
            bw.start_days,
            bw.length_days,
            self.hour_cum if times else None,
            lead_id_base(name, self._id_bases),
        )

    # ------------------------------------------------------------------ leads

    def leads_per_week(self) -> np.ndarray:
        """Expected leads per channel in a week at the current spend."""
        spend = self.spend_usd_per_week  # the same curve as Channel.leads_per_week, vectorised
        return self._organic + self._max * spend / (spend + self._half)

    def leads_per_day(self, day: int) -> np.ndarray:
        """Expected leads per channel on ``day`` at the current spend."""
        return self.leads_per_week() * (self.weekday_factor[day % 7] / 7.0)

    @property
    def buys_leads(self) -> np.ndarray:
        """Which channels' spend buys leads at all (a positive maximum)."""
        return self._max > 0

    def paid_fraction(self) -> np.ndarray:
        """Share of each channel's leads that its spend buys at the current spend (not organic)."""
        spend = self.spend_usd_per_week
        bought = self._max * spend / (spend + self._half)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.nan_to_num(bought / (bought + self._organic))

    def day(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Run one day of marketing: spend, births, scoring, nurture touches.

        Returns
        -------
        (lead indices, MQL times)
            The leads that became MQLs today, sorted by the time they did.
        """
        rec = self.rec
        spend = self.spend_usd_per_week / 7.0
        week = rec.week(day)
        rec.spend_by_channel_usd[: len(spend)] += spend
        rec.weekly_spend_by_channel_usd[week, : len(spend)] += spend
        rec.weekly_marketing_spend_usd[week] += spend.sum()

        mql_idx, mql_t = [], []
        if self.nurture_on and day > 0 and day % self.rescore_every_days == 0:
            idx, t = self._touch_pool(day)
            if len(idx):
                mql_idx.append(idx)
                mql_t.append(t)

        counts = poisson_counts([u() for u in self._arrivals], self.leads_per_day(day)).tolist()
        blocks, channels, sizes, offsets = [], [], [], []  # per channel with leads today
        total = 0
        for c, k in enumerate(counts):
            if k:
                source = self.sources[c]
                offsets.append(source.next_id - total)  # lead i of the day has id i + offset
                blocks.append(source.take_block(k))
                channels.append(c)
                sizes.append(k)
                total += k
        if blocks:
            block = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
            latent = dict(zip(LATENT_FIELDS, block, strict=True))
            channel = np.array(channels).repeat(sizes)
            uid = np.array(offsets).repeat(sizes) + np.arange(total)
            t = day + latent["day_fraction"]
            sl = self.store.append(t, channel, latent, uid)
            idx = np.arange(sl.start, sl.stop)
            self._count(LEAD, sl, channel)
            if self.return_share:
                self._plan_returns(idx, latent["u_return"])
            if self.rec.logging:
                self.log(idx, "created", t)
            is_mql = self._score(sl, t)
            is_lead = ~is_mql
            self._to_nurture_or_discard(idx[is_lead], t[is_lead], from_state=NEW)
            idx, t = idx[is_mql], t[is_mql]
            self._become_mql(idx, t, from_state=NEW)
            mql_idx.append(idx)
            mql_t.append(t)

        if not mql_idx:
            return np.empty(0, dtype=np.int64), np.empty(0)
        if len(mql_idx) == 1:
            idx, t = mql_idx[0], mql_t[0]
        else:
            idx, t = np.concatenate(mql_idx), np.concatenate(mql_t)
        order = np.argsort(t, kind="stable")
        return idx[order], t[order]

    def _add_history(self) -> None:
        """The year before the run: its buyers who come back during the run.

        A run starts in a firm that has taken inquiries for years, so returns
        must not ramp up from zero. Its past year of inquiries is drawn at the
        channels' starting rates from streams of their own, as if every lead had
        been dropped; the ones that come back during the run are stored (as
        discarded inquiries created before day 0), the rest are forgotten.
        """
        days = 365
        per_day = self.leads_per_week() / 7.0
        for c, name in enumerate(self.channels):
            rng = stream(self._seed, self._replication, f"history/{name}")
            k = int(rng.poisson(per_day[c] * days))
            if not k:
                continue
            spec = self._specs[c]
            source = self.latent_source(
                f"history/{name}", spec.segment_mix, spec.fit, spec.in_market_multiplier, False
            )
            first = source.next_id
            block = source.take_block(k)
            drawn = dict(zip(LATENT_FIELDS, block, strict=True))
            created = rng.uniform(-days, 0.0, k)
            opens = created + drawn["window_start_days"]
            back = (opens >= 0) & self._returns_in_run(opens, drawn["u_return"])
            if not back.any():
                continue
            uid = first + np.flatnonzero(back)
            latent = dict(zip(LATENT_FIELDS, block[:, back], strict=True))
            sl = self.store.append(created[back], c, latent, uid)
            idx = np.arange(sl.start, sl.stop)
            self._count(LEAD, idx)
            self.move(idx, State.DISCARDED, NEW)
            if self.rec.logging:
                self.log(idx, "created", created[back])
            self._schedule_returns(idx)

    def _returns_in_run(self, opens: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Which buyers would come back by themselves before the run ends."""
        return (opens < self._horizon) & (u < self.return_share)

    def _plan_returns(self, idx: np.ndarray, u: np.ndarray) -> None:
        """Note which new leads would come back by themselves when their window opens."""
        self._schedule_returns(idx[self._returns_in_run(self.store.window_open_day[idx], u)])

    def _schedule_returns(self, idx: np.ndarray) -> None:
        days = self.store.window_open_day[idx].astype(np.int64).tolist()
        for lead, day in zip(idx.tolist(), days, strict=True):
            self._returns.setdefault(day, []).append(lead)

    def returning(self, day: int) -> np.ndarray:
        """Leads whose buying window opens on ``day`` and who come back to sales themselves.

        Each buying lead comes back with probability ``return_share`` (a number
        drawn with its latent truth: the same leads in every design), but only
        if nobody in sales is working on it: a lead still queued or in a deal
        needs no return.
        """
        leads = self._returns.pop(day, None)
        if not leads:
            return np.empty(0, dtype=np.int64)
        idx = np.array(leads, dtype=np.int64)
        idx = idx[_IS_IDLE[self.store.state[idx]]]
        # in the order of their windows, then of their ids: not of the channels' order in the file
        store = self.store
        return idx[np.lexsort((store.uid[idx], store.window_open_day[idx]))]

    def new_prospect(self, t: float, source: LatentSource) -> tuple[int, tuple]:
        """Add one self-sourced (outbound) lead created at ``t``.

        Returns its index and (segment, fit, window open day, window close day, deal size).
        Its row in the store is written at the store's next ``settle`` (the world's
        next midnight).
        """
        uid = source.next_id
        lead, truth = self.store.add_one(t, self.outbound_channel, source.take_one(), uid)
        self.rec.funnel[LEAD, self.outbound_channel, truth[0]] += 1
        if self.rec.logging:
            self.store.settle()
            self.log(np.array([lead]), "created", np.array([t]))
        return lead, truth

    # ------------------------------------------------------------------ scoring

    def _score(self, idx: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Observed score = fit and intent plus noise; stores it, returns the MQL mask.

        The noise is the lead's own (drawn at birth) times the current noise level:
        an unclear lead definition misreads the same account the same way each
        time, so only rising intent requalifies a nurtured lead.
        """
        store = self.store
        score = (
            self.fit_weight * store.fit[idx]
            + self.intent_weight * store.intent(idx, t, self.ramp_days)
            + self.noise_sd * store.score_z[idx]
        )
        store.score[idx] = score
        return score >= self.mql_threshold

    def _become_mql(self, idx: np.ndarray, t: np.ndarray, from_state: int) -> None:
        self.move(idx, State.QUEUED, from_state)
        store = self.store
        store.mql_day[idx] = t
        store.mql_count[idx] += 1
        self._count(MQL, idx)
        if len(idx):
            self.rec.weekly_mqls[self.rec.week(float(t[0]))] += len(idx)  # one day's batch
        if self.rec.logging:
            self.log(idx, "mql", t)

    def _to_nurture_or_discard(self, idx: np.ndarray, t: np.ndarray, from_state: int) -> None:
        if not self.nurture_on:
            self.move(idx, State.DISCARDED, from_state)
            if self.rec.logging:
                self.log(idx, "discarded", t)
            return
        self.move(idx, State.NURTURE, from_state)
        store = self.store
        store.nurture_since_day[idx] = t
        store.nurture_entry_score[idx] = store.score[idx]
        store.nurture_sent_back[idx] = from_state != NEW
        self._entering.append((self._schedule_key(), idx))
        if self.rec.logging:
            self.log(idx, "nurture", t)

    def recycle(self, lead: int, t: float, from_state: int) -> None:
        """Put one lead back into nurture (sales rejected it or could not reach it)."""
        self._to_nurture_or_discard(np.array([lead]), np.array([t]), from_state)

    # Nurture touches every k days re-score the pool. A lead's score only changes
    # through its intent, which rises until its buying window opens and drops to 0
    # when it closes; so the touch at which each lead requalifies (or drops out
    # after nurture.max_days) follows in closed form when it enters. A touch then
    # handles only the leads due that day, not the whole pool. If a policy moves
    # the threshold, the noise or the weights, the pool is rescheduled. Leads that
    # enter the pool are scheduled in one batch at the next touch, each with the
    # knobs in force when it entered: nothing reads the schedule before then.

    def _schedule_key(self) -> tuple:
        return (self.mql_threshold, self.noise_sd, self.fit_weight, self.intent_weight)

    def _bar(self, idx: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """The score each nurtured lead needs to be an MQL again.

        A lead sales sent back must score ``requalify_score_gain`` more than when
        it was sent back (its intent has to rise); any other lead needs the
        threshold (by default the current one).
        """
        store = self.store
        if threshold is None:
            threshold = self.mql_threshold
        return np.where(
            store.nurture_sent_back[idx],
            np.maximum(store.nurture_entry_score[idx] + self.requalify_gain, threshold),
            threshold,
        )

    def _schedule_entering(self) -> None:
        """Schedule the leads that entered the pool since the last touch, in order of entry."""
        entering, self._entering = self._entering, []
        i = 0
        while i < len(entering):
            key, j = entering[i][0], i + 1
            while j < len(entering) and entering[j][0] == key:
                j += 1
            parts = [idx for _, idx in entering[i:j]]
            self._schedule(parts[0] if len(parts) == 1 else np.concatenate(parts), 0, key)
            i = j

    def _schedule(self, idx: np.ndarray, earliest: int, key: tuple | None = None) -> None:
        """Bucket nurtured leads by the touch (day) at which they requalify or drop out.

        ``key`` holds the knobs to use (see :meth:`_schedule_key`); by default the current ones.
        """
        if not len(idx):
            return
        threshold, noise_sd, fit_weight, intent_weight = key or self._schedule_key()
        store, k = self.store, self.rescore_every_days
        since = store.nurture_since_day[idx]
        first = np.maximum(k * (np.floor(since / k) + 1), earliest)
        expire = np.maximum(first, k * np.ceil((since + self.nurture_max_days) / k))
        bar = self._bar(idx, threshold)
        need = bar - fit_weight * store.fit[idx] - noise_sd * store.score_z[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            # first time t with intent(t) >= need / intent_weight, before the window closes
            ratio = need / intent_weight if intent_weight else np.inf * np.sign(need)
            t_cross = store.window_open_day[idx] + self.ramp_days * np.log(ratio)
        t_cross = np.where(np.isnan(t_cross), np.inf, t_cross)  # np.nan_to_num costs 3x more
        t_cross[t_cross == -np.inf] = 0.0
        cross = np.maximum(first, k * np.ceil(t_cross / k))
        reachable = (ratio <= 1.0) & (cross < store.window_close_day[idx])
        if self.engaged_share < 1.0:
            reachable &= self.engaged(idx)
        cross = np.where(need <= 0, first, np.where(reachable, cross, np.inf))
        day = np.minimum(cross, expire)
        store.nurture_touch_day[idx] = day
        self._due.append((day, idx))

    def engaged(self, idx: np.ndarray) -> np.ndarray:
        """Which of these leads read their nurture e-mails (the same leads in every design)."""
        return self._engaged_dice.many(self.store.uid[idx], 0) < self.engaged_share

    def _touch_pool(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """A nurture touch: the leads due today requalify or drop out; returns new MQLs."""
        store = self.store
        if self._schedule_key() != self._scheduled_with:
            self._scheduled_with = self._schedule_key()
            self._due.clear()
            self._entering.clear()  # they are in the pool: scheduled now with the others
            self._schedule(np.flatnonzero(store.state[: store.n] == State.NURTURE), earliest=day)
        else:
            self._schedule_entering()
        if not self._due:
            return np.empty(0, dtype=np.int64), np.empty(0)
        days = np.concatenate([d for d, _ in self._due])
        leads = np.concatenate([i for _, i in self._due])
        later = days > day
        self._due = [(days[later], leads[later])]
        due = leads[days == day]
        # a lead rescheduled since (a policy moved the bar) is due at its new day only
        due = due[(store.state[due] == State.NURTURE) & (store.nurture_touch_day[due] == day)]
        expired = store.nurture_since_day[due] + self.nurture_max_days <= day
        self.move(due[expired], State.NURTURE_EXPIRED, State.NURTURE)
        if self.rec.logging:
            self.log(due[expired], "nurture_expired", np.full(expired.sum(), float(day)))
        due = due[~expired]
        is_mql = self._score(due, float(day))
        is_mql &= store.score[due] >= self._bar(due) - 1e-12
        # rounding at the crossing: try again at the next touch
        self._schedule(due[~is_mql], earliest=day + self.rescore_every_days)
        mqls = due[is_mql]
        k = self.rescore_every_days
        touches = (day - k * (np.floor(store.nurture_since_day[mqls] / k) + 1)) // k + 1
        store.affinity[mqls] = np.minimum(
            1.0, store.affinity[mqls] + touches * self.affinity_per_touch
        )
        u = self._requalify_dice.many(store.uid[mqls], store.mql_count[mqls])
        t = day + day_fraction(u, self.hour_cum)
        self._become_mql(mqls, t, from_state=State.NURTURE)
        return mqls, t

    # ------------------------------------------------------------------ bookkeeping

    def move(self, idx: np.ndarray, new: State, from_state: int) -> None:
        """Set the state of many leads that all come from ``from_state``."""
        self.store.state[idx] = new
        self.rec.transitions[from_state][new] += len(idx)

    def _count(self, stage: int, idx, channel: np.ndarray | None = None) -> None:
        """Count leads ``idx`` (indices or a slice) at a funnel stage; ``channel``: theirs, if known."""
        funnel = self.rec.funnel[stage]
        if channel is None:
            channel = self.store.channel[idx].astype(np.int64)
        cell = channel * funnel.shape[1] + self.store.segment[idx]
        funnel += np.bincount(cell, minlength=funnel.size).reshape(funnel.shape)

    def log(
        self, idx: np.ndarray, activity: str, t: np.ndarray, resource: str = "marketing"
    ) -> None:
        """Event-log rows for many leads (only call when the log is on)."""
        names = self.channels + ["outbound"]
        ch = [names[c] for c in self.store.channel[idx]]
        seg = [self.segments[s] for s in self.store.segment[idx]]
        self.rec.log_many(idx, activity, t, resource, ch, seg)
