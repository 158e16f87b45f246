"""Paired comparisons of designs, and the revenue bridge between two of them."""

from __future__ import annotations

import math

import numpy as np

from gtmsim.experiment.ensemble import Ensemble
from gtmsim.results.metrics import better, improves
from gtmsim.results.summary import mean_ci
from gtmsim.results.table import Table

KEY_METRICS = (
    "bookings",
    "deals_won",
    "win_rate",
    "opportunities",
    "mqls",
    "accepted",
    "first_response_hours_median",
    "mqls_never_followed_up_share",
    "marketing_spend_per_bookings",
    "ae_quota_missed_share",
)

# The revenue bridge: bookings = leads x (mqls / leads) x (accepted / mqls)
#   x (opportunities / accepted) x (won / opportunities) x (bookings / won),
# counted over every source (self-sourced prospects enter at "accepted").
BRIDGE_STEPS = (
    ("lead volume", "lead", None),
    ("MQL rate", "mql", "lead"),
    ("acceptance", "accepted", "mql"),
    ("opportunity rate", "opportunity", "accepted"),
    ("win rate", "won", "opportunity"),
    ("deal size", "bookings", "won"),
)


def compare(
    ensemble: Ensemble,
    baseline: str | int = 0,
    metrics: list[str] | None = None,
    level: float = 0.95,
) -> Table:
    """Paired differences of every design against a baseline.

    For each design and metric: the baseline and design means, the mean paired
    difference (design - baseline) with its confidence interval, the relative
    change, ``better`` (which way is better for the metric: ``"higher"``,
    ``"lower"`` or ``"neither"``, see :func:`gtmsim.results.metrics.better`),
    ``p_improves`` (the share of paired replications in which the design is
    strictly better than the baseline in that direction; nan where neither way
    is better) and ``variance_reduction``: how much narrower the paired
    interval is than an unpaired one would be (unpaired width / paired width).
    """
    b = ensemble.design_index(baseline)
    cols: dict[str, list] = {
        k: []
        for k in (
            "design",
            "metric",
            "baseline_mean",
            "design_mean",
            "difference",
            "ci_low",
            "ci_high",
            "relative_change",
            "better",
            "p_improves",
            "variance_reduction",
        )
    }
    for name in metrics or [m for m in KEY_METRICS if m in ensemble.metrics]:
        data = ensemble.metric(name)
        for d, design in enumerate(ensemble.designs):
            if d == b:
                continue
            x, y = data[b], data[d]
            ok = ~(np.isnan(x) | np.isnan(y))
            x, y = x[ok], y[ok]
            diff, half = mean_ci(y - x, level)
            base_mean = float(x.mean()) if x.size else math.nan
            cols["design"].append(design)
            cols["metric"].append(name)
            cols["baseline_mean"].append(base_mean)
            cols["design_mean"].append(float(y.mean()) if y.size else math.nan)
            cols["difference"].append(diff)
            cols["ci_low"].append(diff - half)
            cols["ci_high"].append(diff + half)
            cols["relative_change"].append(diff / base_mean if base_mean else math.nan)
            cols["better"].append(better(name))
            wins = improves(name, y, x)
            cols["p_improves"].append(
                float(wins.mean()) if wins is not None and x.size else math.nan
            )
            cols["variance_reduction"].append(_pairing_gain(x, y))
    return Table(cols)


def _pairing_gain(x: np.ndarray, y: np.ndarray) -> float:
    """Unpaired CI width / paired CI width (inf when pairing removes all noise)."""
    if x.size < 2:
        return math.nan
    unpaired = math.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
    paired = math.sqrt((y - x).var(ddof=1) / x.size)
    if paired == 0:
        return math.inf if unpaired > 0 else math.nan
    return unpaired / paired


def _funnel_means(ensemble: Ensemble, d: int) -> dict[str, float]:
    """Mean funnel counts of one design over its replications, every source counted."""

    def mean(name: str) -> float:
        cols = [j for j, m in enumerate(ensemble.metrics) if m.startswith(f"{name}.channel.")]
        return float(np.nanmean(ensemble.values[d][:, cols].sum(axis=1)))

    return {
        "lead": mean("leads_created"),
        "mql": mean("mqls"),
        "accepted": mean("accepted"),
        "opportunity": mean("opportunities"),
        "won": mean("deals_won"),
        "bookings": float(np.nanmean(ensemble.metric("bookings")[d])),
    }


def revenue_bridge(ensemble: Ensemble, baseline: str | int, design: str | int) -> Table:
    """Split the difference in mean bookings between two designs into funnel stages.

    Bookings are the product of lead volume, MQL rate, acceptance, opportunity
    rate, win rate and deal size. Each step's contribution is its log change
    weighted by the logarithmic mean of the two bookings figures (the LMDI
    decomposition), so the contributions add up exactly to the total difference.
    """
    a = _funnel_means(ensemble, ensemble.design_index(baseline))
    b = _funnel_means(ensemble, ensemble.design_index(design))
    total = b["bookings"] - a["bookings"]
    steps, base_vals, design_vals, contrib = [], [], [], []
    values = []
    for label, num, den in BRIDGE_STEPS:
        va = a[num] / a[den] if den else a[num]
        vb = b[num] / b[den] if den else b[num]
        if not (va > 0 and vb > 0):
            raise ValueError(
                f"the revenue bridge needs every funnel step above zero; {label} is "
                f"{va:g} (baseline) and {vb:g} (design)"
            )
        values.append((label, va, vb))
    weight = _log_mean(a["bookings"], b["bookings"])
    for label, va, vb in values:
        steps.append(label)
        base_vals.append(va)
        design_vals.append(vb)
        contrib.append(weight * math.log(vb / va))
    steps.append("total")
    base_vals.append(a["bookings"])
    design_vals.append(b["bookings"])
    contrib.append(total)
    return Table(
        {"step": steps, "baseline": base_vals, "design": design_vals, "contribution_usd": contrib}
    )


def _log_mean(x: float, y: float) -> float:
    """The logarithmic mean (x - y) / (ln x - ln y); x when they are equal."""
    if math.isclose(x, y, rel_tol=1e-15):
        return x
    return (y - x) / (math.log(y) - math.log(x))
