"""Summaries of replicated metrics: mean and confidence interval.

:func:`mean_ci` is the Student t interval of a mean over replications.
:func:`mean_interval` keeps the interval in the range the metric can take: a
share's inside [0, 1], a count's or a USD total's not below 0 (see
:data:`gtmsim.results.metrics.METRIC_RANGES`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

SHARE, COUNT, NON_NEGATIVE, RATE = "share", "count", "non_negative", "rate"


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the ``level`` confidence interval (Student t) of replications.

    NaN values (a rate with no denominator in a replication) are left out; the
    half-width is nan with fewer than two values.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return math.nan, math.nan
    if x.size == 1:
        return float(x[0]), math.nan
    half = _t(level, x.size) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(half)


def mean_interval(
    values: Sequence[float], level: float = 0.95, kind: str | None = None
) -> tuple[float, float, float]:
    """Mean and ``level`` confidence interval ``(mean, low, high)`` of replications,
    inside the range a metric of this ``kind`` can take.

    ``kind=None``: the Student t interval of :func:`mean_ci`. ``"share"`` (values in
    [0, 1]): a Wilson score interval, with the number of trials replaced by the
    effective one, mean x (1 - mean) / squared standard error, so that it always lies
    in [0, 1] and is the t interval wherever that one is far from 0 and 1.
    ``"count"`` (counts and USD totals, never negative): the score interval of a
    quasi-Poisson mean, whose variance is proportional to the mean (the ratio estimated
    from the replications), so that it never goes below 0; bookings, a sum of deal
    sizes over a Poisson number of deals, have a variance proportional to their mean
    too. ``"non_negative"`` and ``"rate"`` (medians, means and ratios that cannot be
    negative): the t interval cut at 0, which keeps its coverage since the true mean is
    not below 0. Any other kind (``"change"``) is the t interval.
    The critical value is Student t's with n - 1 degrees of freedom in every case.

    The interval of a kind is used only when every value is in its range (else: the t
    interval). NaN values are left out; low and high are nan with fewer than two values.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    mean, half = mean_ci(x, level)
    if not math.isfinite(half):
        return mean, mean - half, mean + half
    if kind == SHARE and ((x >= 0) & (x <= 1)).all():
        return (mean, *_score_interval(mean, _standard_error(x) ** 2, _t(level, x.size), 1.0))
    if kind == COUNT and (x >= 0).all():
        return (mean, *_score_interval(mean, _standard_error(x) ** 2, _t(level, x.size), None))
    if kind in (SHARE, COUNT, NON_NEGATIVE, RATE) and (x >= 0).all():
        return mean, max(0.0, mean - half), mean + half
    return mean, mean - half, mean + half


def _score_interval(mean: float, se2: float, z: float, top: float | None) -> tuple[float, float]:
    """The mu with (mean - mu)^2 <= z^2 c v(mu): v(mu) = mu (top - mu) for a share
    (``top`` 1), mu for a count (``top`` None); c = se2 / v(mean), from the replications."""
    v = mean * (top - mean) if top is not None else mean
    if se2 == 0 or v <= 0:  # every replication the same (or at a bound): no spread to show
        return mean, mean
    k = z * z * se2 / v  # z^2 c
    if top is None:  # mu^2 - (2 mean + k) mu + mean^2 <= 0
        centre, root = mean + k / 2, math.sqrt(k * mean + k * k / 4)
        return max(0.0, centre - root), centre + root
    # (1 + k) mu^2 - (2 mean + k) mu + mean^2 <= 0 (Wilson, n = 1 / k trials)
    centre = (mean + k / 2) / (1 + k)
    root = math.sqrt(k * mean * (1 - mean) + k * k / 4) / (1 + k)
    return max(0.0, centre - root), min(1.0, centre + root)


def _standard_error(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / math.sqrt(x.size))


def _t(level: float, n: int) -> float:
    from scipy import stats  # imported when first needed: `import gtmsim` stays quick

    return float(stats.t.ppf(0.5 + level / 2, n - 1))
