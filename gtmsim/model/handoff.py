"""M4: the handoff contract: queues of MQLs, speed-to-lead decay, and sales' verdict."""

from __future__ import annotations

import math
from bisect import bisect_right
from heapq import heappop, heappush
from statistics import NormalDist

_INF = math.inf
_exp = math.exp
_normal = NormalDist()


class LeadQueue:
    """MQLs waiting for a rep: one per rep, or one shared by a pooled team.

    A lead becomes *visible* at its MQL time plus the rep's response delay.
    Among visible leads, ``order="fifo"`` takes the one visible longest and
    ``order="score"`` the highest score (cherry-picking).
    """

    __slots__ = ("_pending", "_ready", "_by_score", "_seq", "_upto")

    def __init__(self, order: str = "fifo") -> None:
        self._pending: list = []  # (visible, seq, card, score)
        self._ready: list = []  # (key, seq, card, visible)
        self._by_score = order == "score"
        self._seq = 0
        self._upto = -_INF  # every ready card is visible by then

    def __len__(self) -> int:
        return len(self._pending) + len(self._ready)

    def push(self, visible: float, card, score: float) -> None:
        """Add a lead's card that a rep may take from time ``visible`` (days) on."""
        self._seq += 1
        heappush(self._pending, (visible, self._seq, card, score))

    def next_time(self, now: float = -_INF) -> float:
        """Earliest time a waiting lead is visible (``-inf``: one is visible by ``now``).

        Reps sharing a queue plan at different times, so a card one rep made
        ready for a later task may not be visible yet at another rep's time.
        """
        if self._ready and now >= self._upto:
            return -_INF
        t = self._pending[0][0] if self._pending else _INF
        for entry in self._ready:
            if entry[3] < t:
                t = entry[3]
        return t

    def pop(self, t: float):
        """Take the best card visible by ``t`` (the caller knows there is one)."""
        pending, ready = self._pending, self._ready
        if pending and pending[0][0] <= t:
            if t > self._upto:
                self._upto = t
            by_score = self._by_score
            while pending and pending[0][0] <= t:
                visible, seq, card, score = heappop(pending)
                heappush(ready, (-score if by_score else visible, seq, card, visible))
        if ready[0][3] <= t:
            return heappop(ready)[2]
        later = []
        while ready[0][3] > t:  # made ready by a rep planning further ahead
            later.append(heappop(ready))
        card = heappop(ready)[2]
        for entry in later:
            heappush(ready, entry)
        return card

    def drain(self) -> list:
        """Take every waiting card out: (visible time, card) pairs, earliest first."""
        entries = [(e[0], e[1], e[2]) for e in self._pending]
        entries += [(e[3], e[1], e[2]) for e in self._ready]
        self._pending, self._ready, self._upto = [], [], -_INF
        return [(visible, card) for visible, _, card in sorted(entries, key=lambda e: e[:2])]

    def cards(self) -> list:
        """Every waiting card (for end-of-run accounting)."""
        return [e[2] for e in self._pending] + [e[2] for e in self._ready]


class FifoQueue:
    """A :class:`LeadQueue` with ``order="fifo"``, in one heap and at a fraction of the cost.

    The lead visible longest is the one that became visible first, so the
    earliest card by (visible time, arrival) is the one to take whatever the
    rep's time; a second heap of ready cards is not needed. It takes the cards
    a ``LeadQueue("fifo")`` takes, in the same order.
    """

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list = []  # (visible, seq, card)
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, visible: float, card, score: float) -> None:
        """Add a lead's card that a rep may take from time ``visible`` (days) on."""
        self._seq += 1
        heappush(self._heap, (visible, self._seq, card))

    def next_time(self, now: float = -_INF) -> float:
        """Earliest time a waiting lead is visible (``inf``: none is waiting)."""
        return self._heap[0][0] if self._heap else _INF

    def pop(self, t: float):
        """Take the card visible longest (the caller knows one is visible by ``t``)."""
        return heappop(self._heap)[2]

    def drain(self) -> list:
        """Take every waiting card out: (visible time, card) pairs, earliest first."""
        entries, self._heap = sorted(self._heap, key=lambda e: e[:2]), []
        return [(visible, card) for visible, _, card in entries]

    def cards(self) -> list:
        """Every waiting card (for end-of-run accounting)."""
        return [e[2] for e in self._heap]


def new_queue(order: str = "fifo") -> FifoQueue | LeadQueue:
    """A queue of MQLs taken in ``order`` (``"fifo"`` or ``"score"``, see :class:`LeadQueue`)."""
    return FifoQueue() if order == "fifo" else LeadQueue(order)


class SpeedToLead:
    """P(an attempt reaches the lead) as a function of hours since it raised its hand.

    Log-linear interpolation between the scenario's points; flat beyond the last.
    """

    __slots__ = ("_p", "_h", "_pieces", "_n", "_first", "_last")

    def __init__(self, spec) -> None:
        self._p = spec.contact_probability
        self._h = h = list(spec.decay_hours)
        logm = [math.log(m) for m in spec.decay_multiplier]
        self._n = len(self._h)
        # piece i (between points i - 1 and i): its start, width, log multiplier and its rise
        self._pieces = [None] + [
            (h[i - 1], h[i] - h[i - 1], logm[i - 1], logm[i] - logm[i - 1])
            for i in range(1, self._n)
        ]
        self._first = self._p * math.exp(logm[0])
        self._last = self._p * math.exp(logm[-1])

    def __call__(self, delay_hours: float) -> float:
        i = bisect_right(self._h, delay_hours)
        if i >= self._n:
            return self._last
        if i == 0:
            return self._first
        h0, width, m0, rise = self._pieces[i]
        return self._p * _exp(m0 + (delay_hours - h0) / width * rise)


def normal_from_uniform(u: float) -> float:
    """A standard normal deviate from a uniform one (inverse CDF)."""
    return _normal.inv_cdf(min(max(u, 1e-12), 1.0 - 1e-12))


class Verdict:
    """Sales' judgement of a reached lead: true fit and in-market status, seen with noise.

    ``lenience`` lowers the acceptance threshold (SDRs paid per meeting booked).
    """

    __slots__ = ("fit_weight", "intent_weight", "threshold", "noise_sd", "horizon_days")

    def __init__(self, handoff, scoring, lenience: float = 0.0) -> None:
        self.fit_weight = scoring.fit_weight
        self.intent_weight = scoring.intent_weight
        self.threshold = handoff.acceptance_threshold - lenience
        self.noise_sd = handoff.qualification_noise_sd
        self.horizon_days = handoff.in_market_horizon_days

    def accepts(
        self, fit: float, window_open: float, window_close: float, t: float, u: float
    ) -> bool:
        """Whether sales accepts a lead reached at time ``t`` (``u``: the lead's uniform)."""
        in_market = 1.0 if (window_open - t <= self.horizon_days and t < window_close) else 0.0
        quality = self.fit_weight * fit + self.intent_weight * in_market
        if self.noise_sd:
            quality += self.noise_sd * normal_from_uniform(u)
        return quality >= self.threshold
