"""M6: opportunities move through stages; the buyer's window decides what can close."""

from __future__ import annotations

PASS, COMPETITOR, NO_DECISION, SLIP = 0, 1, 2, 3


class DealRules:
    """Pass probabilities of each stage for a given lead at a given time.

    A stage passes with ``pass_probability`` x fit factor x window factor x
    (1 + enablement uplift) x (1 + the segment's uplift from embedded
    marketers), and at the close also x (1 + affinity uplift x
    affinity). The window factor is 1 while the account is in market (its
    buying window is open, or opens within ``in_market_horizon_days``) and
    ``closed_window_pass_factor`` otherwise. The close needs the window
    open: a close while the account is in market but before its window opens
    slips to the day it opens; out of market it ends in no decision. Once the
    window has closed the account has bought elsewhere. A failed stage is lost to a competitor when
    the account is in market, and to no decision otherwise.
    """

    __slots__ = (
        "names",
        "base",
        "last",
        "fit_sensitivity",
        "closed_factor",
        "uplift",
        "affinity",
        "horizon_days",
    )

    def __init__(
        self, deals, in_market_horizon_days: float, segment_uplift: list[float] | None = None
    ) -> None:
        self.horizon_days = in_market_horizon_days
        self.names = list(deals.stages)
        self.base = [s.pass_probability for s in deals.stages.values()]
        self.last = len(self.names) - 1
        self.fit_sensitivity = deals.fit_sensitivity
        self.closed_factor = deals.closed_window_pass_factor
        # per segment: enablement for everyone, times account insight where marketers are embedded
        self.uplift = [(1.0 + deals.enablement_uplift) * (1.0 + u) for u in segment_uplift or [0.0]]
        self.affinity = deals.affinity_win_uplift

    def outcome(
        self,
        stage: int,
        fit: float,
        window_open: float,
        window_close: float,
        affinity: float,
        t: float,
        u: float,
        segment: int = 0,
    ) -> int:
        """PASS, COMPETITOR, NO_DECISION or SLIP for a stage meeting at ``t`` (``u`` uniform)."""
        if t >= window_close:
            return COMPETITOR
        in_market = window_open - t <= self.horizon_days
        fs = self.fit_sensitivity
        p = self.base[stage] * ((1.0 - fs) + fs * fit * 2.0) * self.uplift[segment]
        if not in_market:
            p *= self.closed_factor
        if stage == self.last:
            p *= 1.0 + self.affinity * affinity
        if u >= p:
            return COMPETITOR if in_market else NO_DECISION
        if stage == self.last and t < window_open:
            return SLIP if in_market else NO_DECISION
        return PASS
