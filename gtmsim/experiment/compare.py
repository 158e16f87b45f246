"""Paired comparisons of designs, and the revenue bridge between two of them."""

from __future__ import annotations

import math

import numpy as np

from gtmsim.experiment.ensemble import Ensemble
from gtmsim.results.metrics import better, improves, unit
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

# The revenue bridge has two chains, one per source of bookings; each step is a metric
# (a count, or the ratio of two counts) of the same name in METRICS.
#   marketing-sourced: bookings_inbound_usd = accepted x (opportunities_inbound / accepted)
#       x (deals_won_inbound / opportunities_inbound) x (bookings_inbound_usd / deals_won_inbound),
#     where accepted = mqls_accepted + buyers_returned
#     and mqls_accepted = inquiries x (mqls / inquiries) x (mqls_accepted / mqls);
#   sales-sourced: bookings_outbound_usd = prospects_created
#       x (opportunities_outbound / prospects_created)
#       x (deals_won_outbound / opportunities_outbound) x (bookings_outbound_usd / deals_won_outbound).
MARKETING_CHAIN = "marketing-sourced"
SALES_CHAIN = "sales-sourced"
BRIDGE_STEPS = {
    MARKETING_CHAIN: (
        ("inquiries", None),
        ("mqls", "inquiries"),
        ("mqls_accepted", "mqls"),
        ("buyers_returned", None),  # added to mqls_accepted: accepted = the two together
        ("opportunities_inbound", "accepted"),
        ("deals_won_inbound", "opportunities_inbound"),
        ("bookings_inbound_usd", "deals_won_inbound"),
    ),
    SALES_CHAIN: (
        ("prospects_created", None),
        ("opportunities_outbound", "prospects_created"),
        ("deals_won_outbound", "opportunities_outbound"),
        ("bookings_outbound_usd", "deals_won_outbound"),
    ),
}
CHAIN_TOTALS = {MARKETING_CHAIN: "bookings_inbound_usd", SALES_CHAIN: "bookings_outbound_usd"}


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


def step_name(num: str, den: str | None) -> str:
    """A bridge step as the metric it is: ``"mqls / inquiries"``, or a count's name."""
    return f"{num} / {den}" if den else num


def step_unit(step: str) -> str:
    """The unit of a bridge step's values: its numerator's (:func:`~gtmsim.results.metrics.unit`),
    ``"USD"`` for a USD total or USD per deal, ``""`` for a count or a ratio of counts; a
    step's note (``"bookings_inbound_usd (not split: ...)"``) is not part of its name."""
    return unit(step.partition(" (")[0].partition(" / ")[0])


def step_is_share(step: str) -> bool:
    """Whether a bridge step's values are a share, shown as a percent: a ratio of two
    counts (``"mqls / inquiries"``), not a count, a USD total or USD per deal."""
    return " / " in step.partition(" (")[0] and step_unit(step) != "USD"


def _means(ensemble: Ensemble, d: int) -> dict[str, float]:
    """The mean over replications of every metric the bridge reads, for one design."""
    names = {"bookings", "accepted", "opportunities", "deals_won"} | {
        m for steps in BRIDGE_STEPS.values() for pair in steps for m in pair if m
    }
    names -= {"opportunities_outbound", "deals_won_outbound", "bookings_outbound_usd"}
    missing = sorted(n for n in names if n not in ensemble.metrics)
    if missing:
        raise ValueError(f"the revenue bridge needs the metrics {missing}: rerun these results")
    out = {n: float(np.nanmean(ensemble.metric(n)[d])) for n in names}
    # the sales-sourced chain is what the marketing-sourced one leaves: the two chains add up
    # to the total, and results saved before the outbound metrics existed have a bridge too
    for name, total, inbound in (
        ("opportunities_outbound", "opportunities", "opportunities_inbound"),
        ("deals_won_outbound", "deals_won", "deals_won_inbound"),
        ("bookings_outbound_usd", "bookings", "bookings_inbound_usd"),
    ):
        out[name] = float(np.nanmean(ensemble.metric(total)[d])) - out[inbound]
    return out


def _chain(chain: str, a: dict[str, float], b: dict[str, float]) -> list[tuple]:
    """The steps of one chain: (step, baseline value, design value, contribution).

    Each multiplicative step contributes its log change weighted by the logarithmic
    mean of the chain's bookings (LMDI); ``buyers_returned`` is added to
    ``mqls_accepted``, so accepted's share is split between the two in proportion
    to their changes, and mqls_accepted's share between its own factors by their
    log changes. The steps add up exactly to the chain's difference in bookings.
    A chain with an empty stage in either design is one step, not split.
    """
    total = CHAIN_TOTALS[chain]
    steps = BRIDGE_STEPS[chain]
    needed = [total, *(n for n, d in steps if n != "buyers_returned")]
    if chain == MARKETING_CHAIN:
        needed.append("accepted")
    empty = [n for n in dict.fromkeys(needed) if not (a[n] > 0 and b[n] > 0)]
    if empty:
        return [
            (
                f"{total} (not split: {', '.join(empty)} is zero in a design)",
                a[total],
                b[total],
                b[total] - a[total],
            )
        ]
    values = [(step_name(n, d), *(v[n] / v[d] if d else v[n] for v in (a, b))) for n, d in steps]
    weight = _log_mean(a[total], b[total])
    out = []
    if chain == MARKETING_CHAIN:
        acc = _log_mean(a["accepted"], b["accepted"])
        share = weight * _log_mean(a["mqls_accepted"], b["mqls_accepted"]) / acc
        for step, va, vb in values[:3]:
            out.append((step, va, vb, share * math.log(vb / va)))
        step, va, vb = values[3]
        out.append((step, va, vb, weight * (vb - va) / acc))
        rest = values[4:]
    else:
        rest = values
    out += [(step, va, vb, weight * math.log(vb / va)) for step, va, vb in rest]
    return out


def revenue_bridge(ensemble: Ensemble, baseline: str | int, design: str | int) -> Table:
    """Split the difference in mean bookings between two designs into funnel steps.

    Two chains, one per source of bookings: marketing-sourced (inquiries, MQLs per
    inquiry, MQLs accepted per MQL, buyers who came back by themselves, then
    opportunities per accepted lead, deals won per opportunity and deal size) and
    sales-sourced (reps' self-sourced prospects, then the same three stages).
    Each step is named by the metric it is (``"mqls_accepted / mqls"``), valued at
    the ratio of the designs' mean metrics, and contributes by the LMDI
    decomposition (see :func:`_chain`), so a chain's steps add up exactly to its
    difference in bookings (its ``subtotal`` row) and the two subtotals to the
    difference in mean bookings (the ``total`` row).

    Returns
    -------
    Table
        Columns ``chain``, ``step``, ``kind`` (``step``, ``subtotal`` or
        ``total``), ``baseline``, ``design`` and ``contribution_usd``; printed, the
        ratio steps of counts (:func:`step_is_share`) are percents.

    Raises
    ------
    ValueError
        When a design booked nothing, or the results lack a metric the bridge reads
        (saved by an older version).
    """
    a = _means(ensemble, ensemble.design_index(baseline))
    b = _means(ensemble, ensemble.design_index(design))
    if not (a["bookings"] > 0 and b["bookings"] > 0):
        raise ValueError(
            "the revenue bridge needs bookings in both designs; mean bookings are "
            f"{a['bookings']:g} (baseline) and {b['bookings']:g} (design)"
        )
    cols: dict[str, list] = {
        k: [] for k in ("chain", "step", "kind", "baseline", "design", "contribution_usd")
    }

    def row(chain: str, step: str, kind: str, va: float, vb: float, c: float) -> None:
        for k, v in zip(cols, (chain, step, kind, va, vb, c), strict=True):
            cols[k].append(v)

    for chain, total in CHAIN_TOTALS.items():
        for step in _chain(chain, a, b):
            row(chain, *step[:1], "step", *step[1:])
        row(chain, total, "subtotal", a[total], b[total], b[total] - a[total])
    row("total", "bookings", "total", a["bookings"], b["bookings"], b["bookings"] - a["bookings"])
    shown = ["percent" if step_is_share(step) else "number" for step in cols["step"]]
    return Table(cols, shown_as={"baseline": shown, "design": shown})


def _log_mean(x: float, y: float) -> float:
    """The logarithmic mean (x - y) / (ln x - ln y); x when they are equal."""
    if math.isclose(x, y, rel_tol=1e-15):
        return x
    return (y - x) / (math.log(y) - math.log(x))
