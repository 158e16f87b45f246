"""The death-spiral dashboard: the loop of seed 003 drawn quarter by quarter.

Sales misses, marketing lowers its bar and buys more, cheaper MQLs, fewer of
them close, reps stop trusting the leads and prospect instead, bookings miss and
the budget is cut. Each panel is one link of that loop, from the weekly series
of an :class:`~gtmsim.Ensemble` grouped into quarters of 13 weeks.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager

import numpy as np
from matplotlib.figure import Figure

from gtmsim.experiment.ensemble import Ensemble
from gtmsim.plots.designs import BAND, pick
from gtmsim.plots.style import (
    COUNT,
    MONEY,
    PERCENT,
    describe,
    design_colours,
    new_figure,
    no_data,
    set_title,
    show_numbers,
    styled,
)

WEEKS_PER_QUARTER = 13

# Weekly series the dashboard reads (arrays design x replication x week).
SERIES = (
    "mql_threshold",
    "mqls",
    "deals_won_inbound",
    "trust_ae_mean",
    "trust_sdr_mean",
    "ae_prospecting_share",
    "marketing_budget_usd_per_week",
    "marketing_spend_usd",
)


def quarterly(series: np.ndarray, how: str = "mean") -> np.ndarray:
    """Weekly (design, replication, week) to quarters (design, replication, quarter).

    Only whole quarters count: a last, partial quarter is dropped.
    """
    n = series.shape[-1] // WEEKS_PER_QUARTER
    q = series[..., : n * WEEKS_PER_QUARTER].reshape(*series.shape[:-1], n, WEEKS_PER_QUARTER)
    with np.errstate(invalid="ignore"), _quiet():
        return np.nansum(q, axis=-1) if how == "sum" else np.nanmean(q, axis=-1)


@contextmanager
def _quiet():
    """Silence numpy's warning for the mean of an all-nan quarter (it is nan, as it should be)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _panels(weekly: dict[str, np.ndarray]) -> list[tuple[str, str, object, Callable | None]]:
    """(title, y label, formatter, quarters function or None when the series is missing)."""

    def have(*names: str) -> bool:
        return all(n in weekly for n in names)

    def ratio(num: str, den: str) -> Callable:
        def f() -> np.ndarray:
            a, b = quarterly(weekly[num], "sum"), quarterly(weekly[den], "sum")
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(b > 0, a / b, np.nan)

        return f

    budget = None
    if have("marketing_budget_usd_per_week"):
        budget = lambda: quarterly(weekly["marketing_budget_usd_per_week"]) * WEEKS_PER_QUARTER  # noqa: E731
    elif have("marketing_spend_usd"):
        budget = lambda: quarterly(weekly["marketing_spend_usd"], "sum")  # noqa: E731
    return [
        (
            "MQL threshold (marketing's bar)",
            "score needed to be an MQL",
            None,
            (lambda: quarterly(weekly["mql_threshold"])) if have("mql_threshold") else None,
        ),
        (
            "MQL volume",
            "MQLs per quarter",
            COUNT,
            (lambda: quarterly(weekly["mqls"], "sum")) if have("mqls") else None,
        ),
        (
            "MQL → won",
            "inbound deals won (returning buyers' included) / MQLs",
            PERCENT,
            ratio("deals_won_inbound", "mqls") if have("deals_won_inbound", "mqls") else None,
        ),
        (
            "Reps' trust in marketing leads",
            "mean trust (0-1); AEs solid, SDRs dashed",
            None,
            (lambda: quarterly(weekly["trust_ae_mean"])) if have("trust_ae_mean") else None,
        ),
        (
            "AE time spent prospecting",
            "share of AE working hours",
            PERCENT,
            (lambda: quarterly(weekly["ae_prospecting_share"]))
            if have("ae_prospecting_share")
            else None,
        ),
        ("Marketing budget", "USD per quarter", MONEY, budget),
    ]


def _band(ax, x, q: np.ndarray, colour: str, band: float, **line) -> None:
    """Mean over replications, and the middle ``band`` of them shaded."""
    with _quiet():
        mean = np.nanmean(q, axis=0)
        lo, hi = np.nanquantile(q, [(1 - band) / 2, 1 - (1 - band) / 2], axis=0)
    if q.shape[0] > 1:
        ax.fill_between(x, lo, hi, color=colour, alpha=0.2, linewidth=0)
    ax.plot(x, mean, color=colour, marker="o", **line)


@styled
def death_spiral(
    ensemble: Ensemble, designs: Sequence[str | int] | None = None, band: float = BAND
) -> Figure:
    """Six panels by quarter: MQL threshold, MQL volume, MQL->won, trust, prospecting, budget.

    Lines are means over replications, shading the middle ``band`` of them.
    A panel whose weekly series the runs did not record says so.
    """
    idx = pick(ensemble, designs)
    names = [ensemble.designs[d] for d in idx]
    colours = design_colours(ensemble.designs)
    weekly = ensemble.weekly
    fig = new_figure(17, 10)
    axes = fig.subplots(2, 3, sharex=True).ravel()
    n_weeks = next(iter(weekly.values())).shape[-1] if weekly else 0
    n_q = n_weeks // WEEKS_PER_QUARTER
    x = np.arange(1, n_q + 1)
    for ax, (title, ylabel, fmt, make) in zip(axes, _panels(weekly), strict=True):
        ax.set_title(title)
        if n_q == 0:
            no_data(ax, "the runs are shorter than one quarter (13 weeks)")
            continue
        if make is None:
            no_data(ax, "not recorded by these runs")
            continue
        data = make()
        for d, name in zip(idx, names, strict=True):
            _band(ax, x, data[d], colours[name], band, label=name)
        if title.startswith("Reps' trust") and "trust_sdr_mean" in weekly:
            sdr = quarterly(weekly["trust_sdr_mean"])
            for d, name in zip(idx, names, strict=True):
                if not np.isnan(sdr[d]).all():
                    _band(ax, x, sdr[d], colours[name], band, ls="--", markerfacecolor="white")
        ax.set_ylabel(ylabel, fontsize=13)
        if fmt is not None:
            ax.yaxis.set_major_formatter(fmt)
        if not title.startswith("MQL threshold"):
            ax.set_ylim(0, None)
        ax.set_xticks(x, [f"Q{q}" for q in x])
    for ax in axes[3:]:
        ax.set_xlabel("quarter of the run")
    handles = next((h for ax in axes if (h := ax.get_legend_handles_labels()[0])), [])
    if handles:
        fig.legend(
            handles,
            names,
            loc="outside lower center",
            ncols=min(len(names), 5),
            fontsize=14,
        )
    set_title(
        fig,
        "The death spiral, quarter by quarter",
        describe(ensemble, names) + f" · shaded: {band:.0%} of replications",
    )
    return show_numbers(fig, {})  # prints no number: quarterly series only
