"""Figures that compare org designs: funnel, bookings over time, differences, bridge, people.

Every function takes results (an :class:`~gtmsim.Ensemble`, and tables computed
from it) and returns a :class:`matplotlib.figure.Figure`; none runs a simulation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gtmsim.experiment.compare import compare as compare_designs
from gtmsim.experiment.compare import revenue_bridge as bridge_table
from gtmsim.experiment.compare import step_is_share, step_unit
from gtmsim.experiment.ensemble import FIRST_RESPONSE_EDGES_HOURS, Ensemble
from gtmsim.plots.style import (
    COUNT,
    DOWN,
    GREY,
    MONEY,
    PERCENT,
    UP,
    count,
    describe,
    design_colours,
    money,
    new_figure,
    no_data,
    percent,
    set_title,
    show_numbers,
    styled,
)
from gtmsim.results.metrics import METRICS, metric_range
from gtmsim.results.metrics import better as metric_better
from gtmsim.results.recorder import RESPONSE_BIN_LABELS
from gtmsim.results.summary import mean_interval
from gtmsim.results.table import Table

# The marketing-sourced funnel: each bar is the metric named, buyers who came back by
# themselves apart (they are accepted without being MQLs: accepted = the two together).
FUNNEL = (
    ("inquiries", "inquiries"),
    ("mqls", "MQLs"),
    ("mqls_accepted", "MQLs\naccepted"),
    ("buyers_returned", "buyers who\ncame back"),
    ("opportunities_inbound", "opportunities"),
    ("deals_won_inbound", "won"),
)
# Its rates: the ratio of the mean counts (numerator, denominator, label).
FUNNEL_RATES = (
    ("mqls", "inquiries", "inquiry\n→ MQL"),
    ("mqls_accepted", "mqls", "MQL\n→ accepted"),
    ("opportunities_inbound", "accepted", "accepted (MQLs and\nbuyers back) → opp."),
    ("deals_won_inbound", "opportunities_inbound", "opportunity\n→ won"),
    ("deals_won_inbound", "inquiries", "inquiry\n→ won (overall)"),
)


BAND = 0.90  # the band of bookings over time: 5% to 95% of replications


def pick(ensemble: Ensemble, designs: Sequence[str | int] | None) -> list[int]:
    """Indices of the designs to show (default: all, in order)."""
    if designs is None:
        return list(range(len(ensemble.designs)))
    return [ensemble.design_index(d) for d in designs]


def _metric_or_none(ensemble: Ensemble, name: str) -> np.ndarray | None:
    return ensemble.metric(name) if name in ensemble.metrics else None


def _bar_labels(ax, bars, texts: Sequence[str], rotate: bool) -> None:
    for bar, text in zip(bars, texts, strict=True):
        ax.annotate(
            text,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            rotation=90 if rotate else 0,
            fontsize=11 if rotate else 12,
        )


@styled
def funnel(ensemble: Ensemble, designs: Sequence[str | int] | None = None) -> Figure:
    """The marketing-sourced funnel of several designs: counts per stage and the rates between.

    Top: the mean of each metric of :data:`FUNNEL` (log scale, so that every stage
    shows); buyers who came back by themselves are a stage apart (accepted
    without being MQLs). Bottom: the ratio of the mean counts of
    :data:`FUNNEL_RATES` (``accepted`` is MQLs accepted plus buyers who came
    back). ``fig.numbers`` holds every count and rate, keyed by metric or by
    ``"numerator / denominator"``.
    """
    idx = pick(ensemble, designs)
    names = [ensemble.designs[d] for d in idx]
    colours = design_colours(ensemble.designs)
    stages = [(m, label) for m, label in FUNNEL if m in ensemble.metrics]
    rates_def = [r for r in FUNNEL_RATES if {r[0], r[1]} <= set(ensemble.metrics)]

    def mean(name: str, d: int) -> float:
        return float(np.nanmean(ensemble.metric(name)[d]))

    means = np.array([[mean(m, d) for m, _ in stages] for d in idx])  # design x stage
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.array([[mean(a, d) / mean(b, d) for a, b, _ in rates_def] for d in idx])
    numbers: dict[tuple[str, str], float] = {}
    for k, name in enumerate(names):
        numbers.update({(m, name): v for (m, _), v in zip(stages, means[k], strict=True)})
        numbers.update(
            {(f"{a} / {b}", name): v for (a, b, _), v in zip(rates_def, rates[k], strict=True)}
        )
    labels = [label for _, label in stages]
    steps = [label for _, _, label in rates_def]

    fig = new_figure(15, 10.5)
    top, bottom = fig.subplots(2, 1, height_ratios=[1.15, 1])
    n = len(idx)
    width = 0.8 / n
    rotate = n > 3
    apart = [m == "buyers_returned" for m, _ in stages]
    for k, name in enumerate(names):
        offset = (k - (n - 1) / 2) * width
        x = np.arange(len(stages)) + offset
        bars = top.bar(x, means[k], width, color=colours[name], label=name)
        for bar, is_apart in zip(bars, apart, strict=True):
            if is_apart:
                bar.set_hatch("//")
                bar.set_edgecolor("white")
        _bar_labels(top, bars, [count(v) for v in means[k]], rotate)
        x = np.arange(len(steps)) + offset
        shown = np.nan_to_num(rates[k])
        bars = bottom.bar(x, shown, width, color=colours[name], label=name)
        _bar_labels(
            bottom, bars, [percent(v) if math.isfinite(v) else "–" for v in rates[k]], rotate
        )
    top.set_yscale("log")
    top.yaxis.set_major_formatter(COUNT)
    top.set_ylim(max(0.5, np.nanmin(means[means > 0]) / 3) if (means > 0).any() else 0.5, None)
    top.set_ylim(top.get_ylim()[0], top.get_ylim()[1] * (8 if rotate else 3))
    top.set_xticks(range(len(stages)), labels)
    top.set_ylabel("leads (mean, log scale)")
    top.set_title("How many marketing leads reach each stage (hatched: not MQLs)")
    top.legend(ncols=min(n, 5), loc="upper right")
    bottom.set_xticks(range(len(steps)), steps)
    bottom.yaxis.set_major_formatter(PERCENT)
    bottom.set_ylabel("conversion")
    bottom.set_ylim(0, max(0.05, float(np.nanmax(rates, initial=0))) * (1.35 if rotate else 1.18))
    bottom.set_title("Share of each stage that reaches the next (ratio of the counts above)")
    set_title(
        fig,
        "The marketing-sourced funnel: from inquiry to won deal",
        describe(ensemble, names) + " · without self-sourced prospects",
    )
    return show_numbers(fig, numbers)


@styled
def cumulative_bookings(
    ensemble: Ensemble, designs: Sequence[str | int] | None = None, band: float = BAND
) -> Figure:
    """Bookings to date over the run: mean per design and the middle ``band`` of replications."""
    idx = pick(ensemble, designs)
    colours = design_colours(ensemble.designs)
    weekly = ensemble.weekly.get("bookings_usd")
    fig = new_figure(14, 8)
    ax = fig.subplots()
    if weekly is None:
        no_data(ax, "these runs recorded no weekly bookings")
        set_title(fig, "Cumulative bookings", describe(ensemble))
        return fig
    cum = np.nancumsum(weekly, axis=2)
    weeks = np.arange(1, cum.shape[2] + 1)
    lo_q, hi_q = (1 - band) / 2, 1 - (1 - band) / 2
    ends = []
    for d in idx:
        name = ensemble.designs[d]
        c = colours[name]
        mean = cum[d].mean(axis=0)
        lo, hi = np.quantile(cum[d], [lo_q, hi_q], axis=0)
        ax.fill_between(weeks, lo, hi, color=c, alpha=0.22, linewidth=0)
        ax.plot(weeks, mean, color=c, label=name)
        ends.append((mean[-1], name, c))
    _end_labels(ax, weeks[-1], ends)
    ax.yaxis.set_major_formatter(MONEY)
    ax.set_xlabel("week of the run")
    ax.set_ylabel("bookings to date, USD")
    ax.set_xlim(1, weeks[-1] * 1.22)
    ax.set_ylim(0, None)
    ax.legend(loc="upper left")
    set_title(
        fig,
        f"Cumulative bookings: mean and {band:.0%} of replications (shaded)",
        describe(ensemble, [ensemble.designs[d] for d in idx]),
    )
    return show_numbers(fig, {("bookings", name): y for y, name, _ in ends})


def _end_labels(ax, x: float, ends: list[tuple[float, str, str]]) -> None:
    """Direct labels at the right end of lines, nudged apart so that they never overlap."""
    if not ends:
        return
    ends = sorted(ends)
    lo, hi = ends[0][0], ends[-1][0]
    gap = max(hi - lo, abs(hi), 1.0) * 0.06
    placed: list[float] = []
    for y, _, _ in ends:
        placed.append(max(y, placed[-1] + gap) if placed else y)
    for (y, name, colour), yy in zip(ends, placed, strict=True):
        ax.annotate(
            f"{name}  {money(y)}",
            (x, y),
            xytext=(x * 1.01, yy),
            textcoords="data",
            va="center",
            fontsize=13,
            color=colour,
            fontweight="bold",
        )


# The forest plot's default rows: what a design changes, not the shared market.
FOREST_METRICS = (
    "bookings",
    "deals_won",
    "win_rate",
    "accepted",
    "mqls",
    "mqls_never_followed_up_share",
    "first_response_hours_median",
    "marketing_spend_per_bookings",
    "ae_quota_missed_share",
)


# The forest axis never reaches past these changes: a metric that halves or triples
# (the black hole closing: -99%) must not squeeze the headline into a dot.
FOREST_AXIS = (-1.0, 1.0)


@styled
def forest(
    ensemble: Ensemble,
    baseline: str | int = 0,
    comparison: Table | None = None,
    metrics: Sequence[str] | None = None,
) -> Figure:
    """Percent change of every design's mean versus the baseline's, with its interval.

    Each row is a metric and design: the dot is the relative change of the mean
    (mean paired difference / baseline mean, the ``relative_change`` of
    :func:`gtmsim.compare`), the bar the confidence interval of the paired
    difference on the same scale. Bookings come first, drawn larger. The axis
    is linear in percent and covers every change and the bookings interval, but
    never beyond :data:`FOREST_AXIS` (-100% to +100%): a change or an interval
    end past it is clipped at the edge, marked with an arrow and printed, so one
    metric with a huge relative change (a share falling to almost nothing, a
    count tripling) cannot squeeze the others into dots. Clipping keeps every
    row on one comparable scale, which a separate panel would not. ``comparison``
    is a table from :func:`gtmsim.compare`; it is computed when not given.
    ``fig.numbers`` holds each change under ``("change: <metric>", design)``.
    """
    base = ensemble.designs[ensemble.design_index(baseline)]
    if metrics is None and comparison is None:
        metrics = [m for m in FOREST_METRICS if m in ensemble.metrics]
    if comparison is None:
        comparison = compare_designs(ensemble, base, list(metrics) if metrics else None)
    colours = design_colours(ensemble.designs)
    rows = [
        r
        for r in comparison.rows()
        if (metrics is None or r["metric"] in metrics)
        and r["baseline_mean"] > 0
        and math.isfinite(r["baseline_mean"])
        and math.isfinite(r["difference"])
    ]
    order = list(dict.fromkeys(r["metric"] for r in rows))
    if "bookings" in order:  # the headline first
        order.remove("bookings")
        order.insert(0, "bookings")
    designs = [d for d in ensemble.designs if any(r["design"] == d for r in rows)]
    fig = new_figure(14, min(11.0, max(5.5, 1.8 + 0.3 * len(rows) + 0.15 * len(order))))
    ax = fig.subplots()
    if not rows:
        no_data(ax, "no metric with a positive baseline value to compare against")
        set_title(fig, f"Percent change versus {base}", describe(ensemble))
        return show_numbers(fig, {})
    change = {id(r): r["difference"] / r["baseline_mean"] for r in rows}
    ends = {
        id(r): (r["ci_low"] / r["baseline_mean"], r["ci_high"] / r["baseline_mean"]) for r in rows
    }
    shown = [change[id(r)] for r in rows]
    shown += [e for r in rows if r["metric"] == "bookings" for e in ends[id(r)] if math.isfinite(e)]
    lo = max(FOREST_AXIS[0], min(min(shown), -0.05) * 1.15)
    hi = min(FOREST_AXIS[1], max(max(shown), 0.05) * 1.15)
    numbers: dict[tuple[str, str], float] = {}
    y, ticks, ticklabels = 0.0, [], []
    seen = set()
    for m in order:
        group = [r for r in rows if r["metric"] == m]
        headline = m == "bookings"
        start = y
        for r in group:
            c = colours[r["design"]]
            value = change[id(r)]
            numbers[(f"change: {m}", r["design"])] = value
            label = r["design"] if r["design"] not in seen else None
            seen.add(r["design"])
            low, high = ends[id(r)]
            if math.isfinite(low) and math.isfinite(high):
                a, b = max(low, lo), min(high, hi)
                ax.plot([a, b], [-y, -y], color=c, lw=4 if headline else 2.5, solid_capstyle="butt")
            point = min(max(value, lo), hi)
            clipped = point != value
            ax.plot(
                point,
                -y,
                marker=(">" if value > hi else "<") if clipped else "o",
                ms=15 if headline else 10,
                color=c,
                label=label,
                ls="none",
                clip_on=False,
            )
            if headline or clipped:  # the others' numbers are in the comparison table
                ax.annotate(
                    f"{value:+.0%}",
                    (point, -y),
                    xytext=(-10 if value > hi else 10, 9 if not clipped else 0),
                    textcoords="offset points",
                    ha="right" if value > hi else "left",
                    va="bottom" if not clipped else "center",
                    fontsize=14 if headline else 11,
                    fontweight="bold",
                    color=c,
                )
            y += 1.4 if headline else 1
        ticks.append(-(start + y - (1.4 if headline else 1)) / 2)
        if len(ticks) % 2:
            ax.axhspan(-(y - 0.5), -(start - 0.5), color="#F0F0F0", zorder=0, lw=0)
        better = " (lower is better)" if metric_better(m) == "lower" else ""
        ticklabels.append(m.replace("_", " ") + better)
        y += 0.3
    ax.set_ylim(-(y - 0.3) + 0.3, 0.7)
    ax.axvline(0, color="black", lw=1.2)
    ax.set_yticks(ticks, ticklabels)
    if "bookings" in order:
        ax.get_yticklabels()[0].set_fontweight("bold")
        ax.get_yticklabels()[0].set_fontsize(16)
    ax.grid(axis="y", visible=False)
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos=None: f"{v:+.0%}" if v else "0"))
    ax.set_xlabel(f"percent change of the mean versus {base} (arrow: beyond the axis)")
    if len(designs) > 1:
        fig.legend(loc="outside lower center", ncols=min(len(designs), 5))
    set_title(
        fig,
        f"Percent change versus {base}: mean of paired replications, with 95% interval",
        describe(ensemble),
    )
    return show_numbers(fig, numbers)


# What each bridge step is, in words, on the projector (the table names the metric).
STEP_LABELS = {
    "inquiries": "inquiries",
    "mqls / inquiries": "MQLs per\ninquiry",
    "mqls_accepted / mqls": "MQLs accepted\nper MQL",
    "buyers_returned": "buyers who\ncame back",
    "opportunities_inbound / accepted": "opportunities\nper accepted",
    "deals_won_inbound / opportunities_inbound": "won per\nopportunity",
    "bookings_inbound_usd / deals_won_inbound": "deal size",
    "prospects_created": "self-sourced\nprospects",
    "opportunities_outbound / prospects_created": "opportunities\nper prospect",
    "deals_won_outbound / opportunities_outbound": "won per\nopportunity",
    "bookings_outbound_usd / deals_won_outbound": "deal size",
}


@styled
def revenue_bridge(
    ensemble: Ensemble, baseline: str | int, design: str | int, bridge: Table | None = None
) -> Figure:
    """Waterfall from the baseline's bookings to the design's: what each funnel step added.

    ``bridge`` is a table from :func:`gtmsim.revenue_bridge`; computed when not given.
    Its two chains are drawn one after the other, marketing-sourced then
    sales-sourced, each under a bracket with its own difference. ``fig.numbers``
    holds each step's value in both designs, keyed by the step (a metric or a
    ratio of two), and each row's contribution under ``"contribution: <step>"``.
    """
    a = ensemble.designs[ensemble.design_index(baseline)]
    b = ensemble.designs[ensemble.design_index(design)]
    if bridge is None:
        bridge = bridge_table(ensemble, a, b)
    colours = design_colours(ensemble.designs)
    rows = list(bridge.rows())
    steps = [r for r in rows if r["kind"] == "step"]
    subtotals = [r for r in rows if r["kind"] == "subtotal"]
    total = next(r for r in rows if r["kind"] == "total")
    start, end = total["baseline"], total["design"]
    numbers: dict[tuple[str, str], float] = {("bookings", a): start, ("bookings", b): end}
    fig = new_figure(max(14.0, 1.45 * (len(steps) + 2)), 8)
    ax = fig.subplots()
    x = 0
    ax.bar(x, start, color=colours[a], width=0.7)
    ax.annotate(money(start), (x, start), xytext=(0, 4), textcoords="offset points", ha="center")
    level = start
    labels = [f"{a}\nbookings"]
    levels = [start]
    for r in steps:
        x += 1
        c = r["contribution_usd"]
        ax.bar(
            x,
            c,
            bottom=level,
            color=UP if c >= 0 else DOWN,
            hatch=None if c >= 0 else "//",
            edgecolor="black" if c < 0 else UP,
            linewidth=1,
            width=0.7,
        )
        ax.plot([x - 1.35, x - 0.35], [level, level], color=GREY, lw=1)
        ax.annotate(
            ("+" if c >= 0 else "") + money(c),
            (x, level + max(c, 0)),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontweight="bold",
            fontsize=12,
        )
        level += c
        levels.append(level)
        labels.append(_step_label(r))
        numbers[(r["step"], a)], numbers[(r["step"], b)] = r["baseline"], r["design"]
        numbers[(f"contribution: {r['step']}", b)] = c
    x += 1
    ax.plot([x - 1.35, x - 0.35], [level, level], color=GREY, lw=1)
    ax.bar(x, end, color=colours[b], width=0.7)
    ax.annotate(money(end), (x, end), xytext=(0, 4), textcoords="offset points", ha="center")
    labels.append(f"{b}\nbookings")
    ax.set_xticks(range(len(labels)), labels, fontsize=11)
    ax.yaxis.set_major_formatter(MONEY)
    ax.set_ylabel("mean bookings, USD")
    ax.grid(axis="x", visible=False)
    top = max(start, end, *levels) * 1.22
    ax.set_ylim(0, top)
    first = 1
    for sub in subtotals:  # a bracket over each chain's steps, with the chain's difference
        n = sum(1 for r in steps if r["chain"] == sub["chain"])
        lo, hi = first - 0.4, first + n - 1 + 0.4
        y = top * 0.93
        ax.plot([lo, lo, hi, hi], [y * 0.97, y, y, y * 0.97], color="black", lw=1.2)
        diff = sub["contribution_usd"]
        ax.text(
            (lo + hi) / 2,
            y * 1.01,
            f"{sub['chain']} bookings: {'+' if diff >= 0 else ''}{money(diff)}",
            ha="center",
            va="bottom",
            fontsize=13,
            fontweight="bold",
        )
        numbers[(sub["step"], a)], numbers[(sub["step"], b)] = sub["baseline"], sub["design"]
        numbers[(f"contribution: {sub['step']}", b)] = diff
        first += n
    numbers[("contribution: bookings", b)] = total["contribution_usd"]
    set_title(
        fig,
        f"Where the bookings difference comes from: {a} → {b} ({'+' if end >= start else ''}"
        f"{money(end - start)})",
        describe(ensemble, [a, b]) + " · dark: gain, hatched: loss",
    )
    return show_numbers(fig, numbers)


def _step_label(row: dict) -> str:
    """A bridge step in words with its values in both designs, e.g. 'won per\nopportunity\n25% →
    31%'."""
    va, vb, step = row["baseline"], row["design"], row["step"]
    fmt = percent if step_is_share(step) else money if step_unit(step) == "USD" else count
    return f"{STEP_LABELS.get(step, step)}\n{fmt(va)} → {fmt(vb)}"


@styled
def speed_to_lead(ensemble: Ensemble, designs: Sequence[str | int] | None = None) -> Figure:
    """How fast MQLs are called, and what the delay does to reaching and qualifying them.

    Left: the share of all MQLs first attempted within a given delay (the curve
    stops short of 100%: the rest were never called). Middle and right: the
    share of first attempts that reached the lead, and of worked MQLs that
    sales accepted, by delay from MQL to first attempt (mean over replications,
    bars: 95% interval).
    """
    idx = pick(ensemble, designs)
    names = [ensemble.designs[d] for d in idx]
    colours = design_colours(ensemble.designs)
    fig = new_figure(16, 6.8)
    cdf_ax, contact_ax, qualify_ax = fig.subplots(1, 3, width_ratios=[1.25, 1, 1])
    counts = ensemble.details.get("first_response_counts")
    mqls = _metric_or_none(ensemble, "mqls")
    if counts is None or mqls is None:
        no_data(cdf_ax, "these runs kept no first-response distribution (rerun them)")
    else:
        edges = FIRST_RESPONSE_EDGES_HOURS[1:-1]
        for d, name in zip(idx, names, strict=True):
            within = np.nancumsum(np.nansum(counts[d], axis=0))[:-1]
            total = np.nansum(mqls[d])
            share = within[: len(edges)] / total if total else np.zeros(len(edges))
            cdf_ax.plot(edges, share, color=colours[name], label=name)
        cdf_ax.set_xscale("log")
        ticks = [1 / 60, 5 / 60, 1, 4, 24, 24 * 7, 24 * 30]
        cdf_ax.set_xticks(ticks, ["1 min", "5 min", "1 h", "4 h", "1 day", "1 wk", "1 mo"])
        cdf_ax.minorticks_off()
        cdf_ax.set_ylim(0, 1.02)
        cdf_ax.yaxis.set_major_formatter(PERCENT)
        cdf_ax.set_xlabel("time from MQL to first call")
        cdf_ax.set_ylabel("share of all MQLs called")
        cdf_ax.set_title("MQLs called within…")
        cdf_ax.legend(loc="upper left")
    for ax, prefix, title, ylabel in (
        (contact_ax, "first_contact_rate", "First call reaches the lead", "reached"),
        (qualify_ax, "qualify_rate", "Sales accepts the lead", "accepted"),
    ):
        names_ = [f"{prefix}.{b}" for b in RESPONSE_BIN_LABELS]
        if not all(m in ensemble.metrics for m in names_):
            no_data(ax, f"these runs have no {prefix} metrics")
            continue
        n = len(idx)
        width = 0.8 / n
        for k, (d, name) in enumerate(zip(idx, names, strict=True)):
            # the tables' interval, inside [0, 1] for a share (none with one replication)
            means, lows, highs = np.array(
                [mean_interval(ensemble.metric(m)[d], 0.95, metric_range(m)) for m in names_]
            ).T
            yerr = np.nan_to_num([means - lows, highs - means])
            pos = np.arange(len(names_)) + (k - (n - 1) / 2) * width
            ax.bar(pos, np.nan_to_num(means), width, color=colours[name], label=name)
            ax.errorbar(pos, np.nan_to_num(means), yerr=yerr, fmt="none", ecolor="black", lw=1.2)
        ax.set_xticks(range(len(names_)), [b.replace("min", "m") for b in RESPONSE_BIN_LABELS])
        ax.yaxis.set_major_formatter(PERCENT)
        ax.set_ylim(0, None)
        ax.set_xlabel("delay to first call")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(axis="x", visible=False)
    set_title(
        fig, "Speed to lead: slow calls reach and qualify fewer leads", describe(ensemble, names)
    )
    return show_numbers(fig, {})  # prints no number: its bars are in `gtmsim run --all`


@styled
def quota_attainment(ensemble: Ensemble, designs: Sequence[str | int] | None = None) -> Figure:
    """Each AE's bookings against the pro-rated quota, pooled over replications, per design.

    The dots are the AEs the quota metrics count; the line and the words under each
    design are the metrics ``ae_quota_attainment_median`` and
    ``ae_quota_missed_share`` (mean over replications, as the tables show them),
    also in ``fig.numbers``.
    """
    idx = pick(ensemble, designs)
    names = [ensemble.designs[d] for d in idx]
    colours = design_colours(ensemble.designs)
    fig = new_figure(14, 7.5)
    ax = fig.subplots()
    data = ensemble.details.get("ae_quota_attainment")
    if data is None:
        no_data(ax, "these runs kept no per-AE attainment (rerun them)")
        set_title(fig, "AE quota attainment", describe(ensemble, names))
        return fig
    pooled = [data[d][~np.isnan(data[d])] for d in idx]
    pos = np.arange(len(idx))
    ok = [p.size > 0 for p in pooled]
    if any(ok):
        parts = ax.violinplot(
            [p for p in pooled if p.size],
            pos[ok],
            widths=0.8,
            showextrema=False,
            showmedians=False,
        )
        for body, name in zip(
            parts["bodies"], [n for n, o in zip(names, ok, strict=True) if o], strict=True
        ):
            body.set_facecolor(colours[name])
            body.set_alpha(0.55)
    ticks = list(names)
    numbers: dict[tuple[str, str], float] = {}
    rng = np.random.default_rng(0)  # jitter only: the same picture every time
    for k, (d, p, name) in enumerate(zip(idx, pooled, names, strict=True)):
        if not p.size:
            continue
        jitter = rng.uniform(-0.12, 0.12, p.size)
        ax.scatter(
            k + jitter, p, s=12, color=colours[name], edgecolor="white", linewidth=0.3, zorder=3
        )
        # the words are the table's metrics (mean over replications), not the pooled dots'
        med = float(np.nanmean(ensemble.metric("ae_quota_attainment_median")[d]))
        missed = float(np.nanmean(ensemble.metric("ae_quota_missed_share")[d]))
        numbers[("ae_quota_attainment_median", name)] = med
        numbers[("ae_quota_missed_share", name)] = missed
        ax.plot([k - 0.3, k + 0.3], [med, med], color="black", lw=3, zorder=4)
        ticks[k] = f"{name}\nmedian AE {percent(med)}\n{percent(missed)} miss quota"
    ax.axhline(1.0, color="black", lw=1.5, ls="--")
    ax.annotate(
        "quota", (len(idx) - 0.5, 1.0), xytext=(0, 4), textcoords="offset points", ha="right"
    )
    ax.set_xticks(pos, ticks)
    ax.yaxis.set_major_formatter(PERCENT)
    ax.set_ylabel("AE bookings / pro-rated quota")
    ax.set_ylim(0, None)
    ax.set_xlim(-0.6, len(idx) - 0.4)
    ax.grid(axis="x", visible=False)
    set_title(
        fig,
        "AE quota attainment (each dot: one AE in one replication)",
        describe(ensemble, names)
        + " · line and words: ae_quota_attainment_median and ae_quota_missed_share, "
        "mean over replications",
    )
    return show_numbers(fig, numbers)


def _number(value: float, _pos: Any = None) -> str:
    return count(value) if abs(value) >= 100 else f"{value:.3g}"


@styled
def attribution(result: Any, metric: str | None = None) -> Figure:
    """What a design loses without each group of its settings: bars with their intervals.

    ``result`` is an :class:`~gtmsim.experiment.attribute.Attribution`; the bars
    show ``metric`` (default: its first metric), from the whole difference at
    the top to the remainder (interactions, and groups not run) at the bottom.
    """
    metric = metric or result.metrics[0]
    rows = result.table([metric]).where(metric=metric)
    colours = design_colours(result.ensemble.designs)
    fig = new_figure(14, max(5.0, 1.8 + 0.65 * len(rows)))
    ax = fig.subplots()
    fmt = money if "USD" in METRICS.get(metric, "") else _number
    for y, r in enumerate(rows):
        mean = r["mean"]
        if r["row"] == "design - baseline":
            style = {"color": colours[result.design]}
        elif r["row"] == result.remainder:
            style = {"color": "white", "edgecolor": GREY, "hatch": "..", "linewidth": 1}
        else:
            style = {"color": UP if mean >= 0 else DOWN}
        ax.barh(-y, mean, height=0.65, **style)
        if math.isfinite(r["ci_low"]) and math.isfinite(r["ci_high"]):
            ax.errorbar(
                mean,
                -y,
                xerr=[[mean - r["ci_low"]], [r["ci_high"] - mean]],
                fmt="none",
                ecolor="black",
                capsize=4,
                lw=1.5,
            )
        ax.annotate(
            ("+" if mean >= 0 else "") + fmt(mean),
            (max(mean, r["ci_high"]) if mean >= 0 else min(mean, r["ci_low"]), -y),
            xytext=(6 if mean >= 0 else -6, 0),
            textcoords="offset points",
            ha="left" if mean >= 0 else "right",
            va="center",
            fontsize=12,
        )
    labels = [
        f"{result.design} - {result.baseline}" if r["row"] == "design - baseline" else r["row"]
        for r in rows
    ]
    ax.set_yticks([-y for y in range(len(rows))], labels)
    ax.axvline(0, color="black", lw=1)
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_formatter(FuncFormatter(fmt))
    ax.margins(x=0.18)
    ax.set_xlabel(f"{metric}: mean paired difference (bars: 95% interval)")
    set_title(
        fig,
        f"What {result.design} loses without each group of its settings",
        describe(result.ensemble, [result.baseline, result.design])
        + f" · each group switched back to {result.baseline}'s values in turn",
    )
    return fig
