"""M6: opportunities move through stages; the buyer's window and buying group decide what closes."""

from __future__ import annotations

import math
from functools import lru_cache

PASS, COMPETITOR, NO_DECISION, SLIP = 0, 1, 2, 3
MAX_GROUP = 1000  # the largest buying group a lead can have (see LatentSource)


def consensus_probability(stakeholders: list[float], purchase: list[float], n: float) -> float:
    """The chance that a buying group of ``n`` reaches consensus, relative to a group of one.

    ``purchase`` at ``stakeholders`` (starting at 1) is interpolated as a power law
    between the points and extended beyond the last with the last piece's slope.
    """
    if len(stakeholders) == 1 or n <= 1:
        return 1.0
    i = 1
    while i < len(stakeholders) - 1 and n > stakeholders[i]:
        i += 1
    n0, n1 = stakeholders[i - 1], stakeholders[i]
    p0, p1 = math.log(purchase[i - 1]), math.log(purchase[i])
    slope = (p1 - p0) / (math.log(n1) - math.log(n0))
    return min(1.0, math.exp(p0 + slope * (math.log(n) - math.log(n0)) - math.log(purchase[0])))


@lru_cache(maxsize=64)
def _consensus_table(
    stakeholders: tuple, purchase: tuple, after_engagement: float, shares: tuple, k: int
) -> tuple:
    """Per-stage consensus chance by group size (0 to MAX_GROUP), a row for each share of
    the shortfall recovered; the same for every replication of a scenario, so kept."""
    rows, points = [], (list(stakeholders), list(purchase))
    for share in shares:
        row = []
        for n in range(MAX_GROUP + 1):
            c = consensus_probability(*points, max(n, 1))
            c **= after_engagement
            row.append((c + share * (1.0 - c)) ** (1.0 / k) if k else 1.0)
        rows.append(tuple(row))
    return tuple(rows)


class DealRules:
    """Pass probabilities of each stage for a given lead at a given time.

    A stage passes with ``pass_probability`` x fit factor x window factor, and
    at the close also x (1 + affinity uplift x affinity). The window factor is 1
    while the account is in market (its buying window is open, or opens within
    ``in_market_horizon_days``) and ``closed_window_pass_factor`` otherwise. The
    close needs the window open: a close while the account is in market but
    before its window opens slips to the day it opens; out of market it ends in
    no decision. Once the window has closed the account has bought elsewhere. A
    failed stage is lost to a competitor when the account is in market, and to
    no decision otherwise.

    At a consensus stage the buying group must also agree (see
    :class:`gtmsim.scenario.schema.Consensus`): a group of ``n`` reaches
    consensus over all consensus stages with chance c(n) (relative to a group
    of one, for the part of the journey after it meets sales), each stage with
    c(n) ** (1 / stages). Marketing's enablement recovers
    ``enablement_share`` of the shortfall 1 - c(n) for every deal, and an
    embedded marketer ``consensus_share`` more of what is left for the deals
    they cover. A group that does not agree ends in no decision. One uniform
    decides both, so that help only turns no decisions into passes.
    """

    __slots__ = (
        "names",
        "base",
        "last",
        "fit_sensitivity",
        "closed_factor",
        "affinity",
        "horizon_days",
        "consensus_stage",
        "_factor",
    )

    def __init__(
        self, deals, in_market_horizon_days: float, covered_consensus_share: float = 0.0
    ) -> None:
        self.horizon_days = in_market_horizon_days
        self.names = list(deals.stages)
        self.base = [s.pass_probability for s in deals.stages.values()]
        self.consensus_stage = [s.consensus for s in deals.stages.values()]
        self.last = len(self.names) - 1
        self.fit_sensitivity = deals.fit_sensitivity
        self.closed_factor = deals.closed_window_pass_factor
        self.affinity = deals.affinity_win_uplift
        k = sum(self.consensus_stage)
        spec = deals.consensus
        enabled = deals.enablement_share
        covered = 1.0 - (1.0 - enabled) * (1.0 - covered_consensus_share)
        # per-stage consensus chance by group size, for deals not covered [0] and covered [1]
        self._factor = _consensus_table(
            tuple(spec.stakeholders),
            tuple(spec.purchase_probability),
            spec.after_engagement_share,
            (enabled, covered),
            k,
        )

    def consensus(self, buying_group: int, covered: bool = False) -> float:
        """The chance that a buying group of this size agrees at one consensus stage."""
        return self._factor[covered][buying_group]

    def outcome(
        self,
        stage: int,
        fit: float,
        window_open: float,
        window_close: float,
        affinity: float,
        t: float,
        u: float,
        buying_group: int = 1,
        covered: bool = False,
    ) -> int:
        """PASS, COMPETITOR, NO_DECISION or SLIP for a stage meeting at ``t`` (``u`` uniform)."""
        if t >= window_close:
            return COMPETITOR
        in_market = window_open - t <= self.horizon_days
        fs = self.fit_sensitivity
        p = self.base[stage] * ((1.0 - fs) + fs * fit * 2.0)
        if not in_market:
            p *= self.closed_factor
        if stage == self.last:
            p *= 1.0 + self.affinity * affinity
        if u >= p:
            return COMPETITOR if in_market else NO_DECISION
        if self.consensus_stage[stage] and u >= p * self._factor[covered][buying_group]:
            return NO_DECISION  # the buying group could not agree
        if stage == self.last and t < window_open:
            return SLIP if in_market else NO_DECISION
        return PASS
