"""M2: leads as a struct of arrays, each carrying a latent truth drawn once at birth.

A lead is a row in :class:`LeadStore`, never a Python object. Its latent truth
(segment, ICP fit, deal-size potential, buying window) comes from a per-channel
:class:`LatentSource` that pre-draws blocks from the channel's named stream:
the k-th lead of a channel is the same account in every design, whatever the
spend, headcount or handoff rules.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from gtmsim.model.dists import draw


class State(IntEnum):
    """Where a lead is. Every lead is in exactly one state at any time.

    A lead in one of the :data:`IDLE` states may come back to sales by itself
    when its buying window opens (``market.buying_window.return_share``).
    """

    DISCARDED = 0  # scored below the MQL threshold, no nurture: lost
    NURTURE = 1  # in the nurture pool, re-scored on each touch
    NURTURE_EXPIRED = 2  # dropped out of nurture after its maximum stay
    QUEUED = 3  # MQL waiting for its first attempt
    NEVER_FOLLOWED_UP = 4  # MQL nobody attempted: the black hole
    WORKING = 5  # attempted, not yet reached, waiting for the next attempt
    UNREACHED = 6  # every attempt failed; not recycled
    REJECTED = 7  # reached, rejected by sales; not recycled
    ACCEPTED = 8  # accepted by sales (or self-sourced), discovery meeting pending
    OPPORTUNITY = 9  # passed discovery: an open opportunity
    WON = 10
    LOST_COMPETITOR = 11  # the account bought, from someone else
    LOST_NO_DECISION = 12  # the account did not buy


STATE_NAMES = tuple(s.name.lower() for s in State)
NEW = len(State)  # row index for "just created" in the transition matrix
_QUEUED = int(State.QUEUED)  # a plain int: an IntEnum member is slower to index with

# Leads nobody in sales is working on; one may come back when its buying window opens.
IDLE = (
    State.DISCARDED,
    State.NURTURE,
    State.NURTURE_EXPIRED,
    State.NEVER_FOLLOWED_UP,
    State.UNREACHED,
    State.REJECTED,
)

# The lifecycle: which transitions the model may make (checked by the tests).
ALLOWED_TRANSITIONS = {
    **{idle: {State.ACCEPTED} for idle in IDLE},
    NEW: {State.DISCARDED, State.NURTURE, State.QUEUED, State.ACCEPTED},
    State.NURTURE: {State.QUEUED, State.NURTURE_EXPIRED, State.ACCEPTED},
    State.QUEUED: {
        State.NEVER_FOLLOWED_UP,
        State.WORKING,
        State.UNREACHED,
        State.REJECTED,
        State.ACCEPTED,
        State.NURTURE,
    },
    State.WORKING: {State.WORKING, State.UNREACHED, State.REJECTED, State.ACCEPTED, State.NURTURE},
    State.ACCEPTED: {State.OPPORTUNITY, State.LOST_COMPETITOR, State.LOST_NO_DECISION},
    State.OPPORTUNITY: {State.WON, State.LOST_COMPETITOR, State.LOST_NO_DECISION},
}

_FIELDS = {
    "uid": np.int64,  # the lead's id for its dice: its source's base + its number there
    "created_day": np.float64,  # when the lead raised its hand (or was sourced)
    "channel": np.int16,
    "segment": np.int16,
    "fit": np.float64,  # ICP fit, 0..1
    "window_open_day": np.float64,  # absolute day the buying window opens (inf: never buys)
    "window_close_day": np.float64,
    "deal_size_usd": np.float64,
    "score": np.float64,  # last observed marketing score
    "nurture_since_day": np.float64,
    "nurture_entry_score": np.float64,  # score when it (last) entered nurture
    "nurture_sent_back": np.bool_,  # it entered nurture because sales sent it back
    "nurture_touch_day": np.float64,  # the touch at which it requalifies or drops out
    "state": np.int8,
    "mql_day": np.float64,  # last time it became an MQL (nan: never)
    "affinity": np.float64,  # brand affinity from nurture touches, 0..1
    "score_z": np.float64,  # how the lead definition misreads this lead (standard normal)
    "mql_count": np.int16,  # times it became an MQL (nurture can make it one again)
    "opportunity_day": np.float64,  # when it passed discovery (nan: not yet)
    "buying_group": np.int16,  # people in the account who must agree to buy
}
_NAN_FIELDS = ("mql_day", "nurture_since_day", "opportunity_day")
# the columns LeadStore.add_one writes later, in its order
_LATER_FIELDS = (
    "uid",
    "created_day",
    "channel",
    "segment",
    "fit",
    "window_open_day",
    "window_close_day",
    "deal_size_usd",
    "score_z",
    "buying_group",
)


class LeadStore:
    """All leads of one run, one array per attribute, grown by doubling."""

    def __init__(self, capacity: int = 4096) -> None:
        self.n = 0
        self._later: list[tuple] = []  # rows added by add_one, not written yet
        for name, dtype in _FIELDS.items():
            setattr(self, name, np.zeros(capacity, dtype=dtype))
        for name in _NAN_FIELDS:
            getattr(self, name)[:] = np.nan

    @property
    def capacity(self) -> int:
        return len(self.state)

    def append(
        self, created_day: np.ndarray, channel, latent: dict[str, np.ndarray], uid: np.ndarray
    ) -> slice:
        """Add leads (``channel``: one index or one per lead); returns their index range."""
        k = len(created_day)
        lo, hi = self.n, self.n + k
        if hi > self.capacity:
            self._grow(hi)
        self.uid[lo:hi] = uid
        self.created_day[lo:hi] = created_day
        self.channel[lo:hi] = channel
        self.segment[lo:hi] = latent["segment"]
        self.fit[lo:hi] = latent["fit"]
        self.window_open_day[lo:hi] = created_day + latent["window_start_days"]
        self.window_close_day[lo:hi] = self.window_open_day[lo:hi] + latent["window_length_days"]
        self.deal_size_usd[lo:hi] = latent["deal_size_usd"]
        self.score_z[lo:hi] = latent["score_z"]
        self.buying_group[lo:hi] = latent["buying_group"]
        self.n = hi
        return slice(lo, hi)

    def append_one(
        self, created_day: float, channel: int, row: tuple, uid: int
    ) -> tuple[int, tuple]:
        """Add one lead from a :meth:`LatentSource.take_one` row.

        Returns its index and (segment, fit, window open day, window close day, deal size,
        buying group).
        """
        segment, fit, start, length, size, z, group = row
        i = self.n
        if i >= len(self.state):
            self._grow(i + 1)
        w_open = created_day + start
        self.uid[i] = uid
        self.created_day[i] = created_day
        self.channel[i] = channel
        self.segment[i] = segment
        self.fit[i] = fit
        self.window_open_day[i] = w_open
        self.window_close_day[i] = w_open + length
        self.deal_size_usd[i] = size
        self.score_z[i] = z
        self.buying_group[i] = group
        self.n = i + 1
        return i, (segment, fit, w_open, w_open + length, size, group)

    def add_one(self, created_day: float, channel: int, row: tuple, uid: int) -> tuple[int, tuple]:
        """:meth:`append_one`, with the row written at the next :meth:`settle`.

        A row is one numpy scalar write per column; a day's self-sourced leads
        are written in one go instead. Until then only the lead's ``state`` and
        the columns the caller writes itself may be read or written.
        """
        segment, fit, start, length, size, z, group = row
        i = self.n
        if i >= len(self.state):
            self._grow(i + 1)
        self.n = i + 1
        w_open = created_day + start
        w_close = w_open + length
        self._later.append(
            (i, uid, created_day, channel, segment, fit, w_open, w_close, size, z, group)
        )
        return i, (segment, fit, w_open, w_close, size, group)

    def settle(self) -> None:
        """Write the rows of :meth:`add_one` not written yet."""
        later = self._later
        if not later:
            return
        self._later = []
        idx, *columns = zip(*later, strict=True)
        idx = list(idx)
        for name, values in zip(_LATER_FIELDS, columns, strict=True):
            getattr(self, name)[idx] = values

    def _grow(self, needed: int) -> None:
        new_cap = max(needed, 2 * self.capacity)
        for name in _FIELDS:
            old = getattr(self, name)
            new = np.full(new_cap, np.nan if name in _NAN_FIELDS else 0, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def intent(self, idx, t: float, ramp_days: float) -> np.ndarray:
        """Observable intent at time ``t``: rises as the window approaches, 1 while open."""
        wait = np.maximum(self.window_open_day[idx] - t, 0.0)
        return np.where(t >= self.window_close_day[idx], 0.0, np.exp(-wait / ramp_days))

    def state_counts(self) -> np.ndarray:
        """Number of leads in each :class:`State`."""
        return np.bincount(self.state[: self.n], minlength=len(State))


class Card:
    """A lead in a rep's hands: the attributes the hot path needs, as Python numbers.

    A lead gets a card only when it reaches sales (an MQL or a self-sourced
    prospect); the store stays the record of its state. The card carries the
    lead's own uniforms for each contact attempt, the qualification verdict and
    each deal stage, so the same lead meets the same luck in every design.
    """

    __slots__ = (
        "lead",
        "channel",
        "segment",
        "fit",
        "window_open",
        "window_close",
        "deal_size_usd",
        "affinity",
        "score",
        "mql_day",
        "attempts",
        "first_response_hours",
        "opportunity_day",
        "buying_group",
        "covered",
        "u_contact",
        "u_qualify",
        "u_stage",
        "state",
    )

    def __init__(
        self,
        lead: int,
        channel: int,
        segment: int,
        fit: float,
        window_open: float,
        window_close: float,
        deal_size_usd: float,
        affinity: float,
        score: float,
        mql_day: float,
        buying_group: int,
        u_contact: list,
        u_qualify: float,
        u_stage: list,
        state: int = _QUEUED,
    ) -> None:
        self.lead, self.channel, self.segment, self.fit = lead, channel, segment, fit
        self.window_open, self.window_close = window_open, window_close
        self.deal_size_usd, self.affinity, self.score = deal_size_usd, affinity, score
        self.mql_day, self.buying_group = mql_day, buying_group
        self.u_contact, self.u_qualify, self.u_stage = u_contact, u_qualify, u_stage
        self.state = state  # mirrors the store while the card is in play (default: QUEUED)
        self.attempts = 0
        self.first_response_hours = math.nan
        self.opportunity_day = math.nan
        self.covered = False  # worked by an embedded marketer (account-based marketing)


_ROW = (
    "segment",
    "fit",
    "window_start_days",
    "window_length_days",
    "deal_size_usd",
    "score_z",
    "buying_group",
)
LATENT_FIELDS = (*_ROW, "day_fraction", "u_return")  # rows of LatentSource.take_block


class LatentSource:
    """The latent truth of one channel's leads, pre-drawn in blocks from its own stream.

    Parameters
    ----------
    rng
        The channel's named generator.
    segment_cum
        Cumulative segment shares of this channel.
    segment_deal_size, segment_group_size
        Deal-size and buying-group-size distribution specs of each segment, in segment order.
    fit, buy_probability, window_start, window_length
        The channel's fit spec, 12-month buy probability and buying-window specs.
    hour_cum
        Cumulative hourly arrival profile (24 entries, last = 1); ``None`` for leads
        whose time of day is not needed (their ``day_fraction`` is nan; the
        uniforms are still drawn, so the stream is the same).
    first_id
        The id of the source's first lead; ``next_id`` is the id of the next one taken.
    """

    def __init__(
        self,
        rng,
        segment_cum,
        segment_deal_size,
        segment_group_size,
        fit,
        buy_probability,
        window_start,
        window_length,
        hour_cum,
        first_id: int = 0,
        block: int = 4096,
    ) -> None:
        self.next_id = first_id
        self._rng = rng
        self._seg_cum = np.asarray(segment_cum, float)
        self._deal = segment_deal_size
        self._group = segment_group_size
        self._fit = fit
        self._p_buy = buy_probability
        self._start, self._length = window_start, window_length
        self._hour_cum = None if hour_cum is None else np.asarray(hour_cum, float)
        self._block = block
        self._buf = np.empty((len(LATENT_FIELDS), 0))  # one row per field (segment as float)
        self._rows: list[tuple] | None = None
        self._i = 0
        self._n = 0

    def take_one(self) -> tuple:
        """The next lead as (segment, fit, window start days, window length days, deal size,
        score z, buying group)."""
        if self._i >= self._n:
            self._refill(1)
        if self._rows is None:
            b = self._buf
            segment = b[0].astype(np.int64).tolist()
            group = b[6].astype(np.int64).tolist()
            self._rows = list(
                zip(segment, *(b[j].tolist() for j in range(1, 6)), group, strict=True)
            )
        i, self._i = self._i, self._i + 1
        self.next_id += 1
        return self._rows[i]

    def take(self, k: int) -> dict[str, np.ndarray]:
        """The next ``k`` leads' latent attributes."""
        block = self.take_block(k)
        out = dict(zip(LATENT_FIELDS, block, strict=True))
        out["segment"] = out["segment"].astype(np.int64)
        out["buying_group"] = out["buying_group"].astype(np.int64)
        return out

    def take_block(self, k: int) -> np.ndarray:
        """The next ``k`` leads as one float array, a row per field of :data:`LATENT_FIELDS`."""
        if self._i + k > self._n or not self._buf.size:
            self._refill(k)
        self._rows = None
        i, self._i = self._i, self._i + k
        self.next_id += k
        return self._buf[:, i : i + k]

    def _refill(self, k: int) -> None:
        """Draw whole blocks until ``k`` leads are buffered.

        Always whole blocks: the k-th lead of a channel must not depend on how
        many leads were asked for at once.
        """
        parts = [self._buf[:, self._i :]] if self._buf.size else []
        have = self._n - self._i
        while have < k or not parts:
            parts.append(self._block_of_leads())
            have += self._block
        self._buf = np.concatenate(parts, axis=1)
        self._i, self._n = 0, have
        self._rows = None  # Python copies of the block, made on the first take_one

    def _block_of_leads(self) -> np.ndarray:
        """One block of leads, a row per field of :data:`LATENT_FIELDS` (in drawing order)."""
        n, rng = self._block, self._rng
        out = np.empty((len(LATENT_FIELDS), n))
        segment, fit, start, length, deal, z, group, t, u_return = out
        seg = np.searchsorted(self._seg_cum, rng.random(n) * self._seg_cum[-1], side="right")
        segment[:] = seg = np.minimum(seg, len(self._seg_cum) - 1)
        for s, spec in enumerate(self._deal):
            mask = seg == s
            deal[mask] = draw(spec, rng, int(mask.sum()))
        buyer = rng.random(n) < self._p_buy
        start[:] = np.where(buyer, draw(self._start, rng, n), np.inf)
        fit[:] = draw(self._fit, rng, n)
        length[:] = draw(self._length, rng, n)
        z[:] = rng.standard_normal(n)
        u = rng.random(n)
        t[:] = np.nan if self._hour_cum is None else day_fraction(u, self._hour_cum)
        u_return[:] = rng.random(n)  # whether it comes back by itself, if ever dropped
        for s, spec in enumerate(self._group):
            mask = seg == s
            group[mask] = np.clip(np.floor(draw(spec, rng, int(mask.sum())) + 0.5), 1.0, 1000.0)
        return out


def day_fraction(u: np.ndarray, hour_cum: np.ndarray) -> np.ndarray:
    """Times of day (fractions of a day) for uniforms ``u``, from a cumulative hourly profile."""
    hour = np.minimum(np.searchsorted(hour_cum, u, side="right"), 23)
    lo = np.where(hour > 0, hour_cum[hour - 1], 0.0)
    within = (u - lo) / np.maximum(hour_cum[hour] - lo, 1e-12)
    return (hour + np.clip(within, 0.0, 1.0 - 1e-9)) / 24.0
