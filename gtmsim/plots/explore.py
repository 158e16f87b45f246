"""Figures of explorations: a sweep as a heatmap (or a line), Sobol indices as bars."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gtmsim.experiment.sweep import SweepResult
from gtmsim.plots.style import (
    GREY,
    OKABE_ITO,
    changed_settings,
    count,
    money,
    new_figure,
    no_data,
    set_title,
    styled,
)
from gtmsim.results.metrics import is_share, unit
from gtmsim.results.table import Table


def _value_formatter(metric: str, difference: bool = False):
    """How a figure prints values of ``metric`` (or, with ``difference``, of a difference
    of two of them): USD, a percent (percentage points for a difference of shares), or
    a number, as the metric's unit and range say (as the tables print them)."""
    if unit(metric) == "USD":
        return money
    if is_share(metric):
        if difference:
            return lambda v: f"{100 * v:+.1f} pp" if v else "0 pp"
        return lambda v: f"{100 * v:.1f}%"
    return lambda v: count(v) if abs(v) >= 100 else f"{v:.3g}"


def _label(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _sweep_subtitle(result: SweepResult) -> str:
    ens = result.ensemble
    base = ens.scenarios[0].name if ens.scenarios else ""
    n = len(ens.replications)
    days = ens.scenarios[0].simulation.horizon_days if ens.scenarios else None
    parts = [f"scenario {base}", f"{len(result.points)} points"]
    parts.append(f"{n} paired replication{'s' if n != 1 else ''} each")
    if days:
        parts.append(f"{days:g} days")
    return " · ".join(parts) + changed_settings(ens.manifest.get("overrides"))


@styled
def sweep_heatmap(result: SweepResult, metric: str = "bookings", level: float = 0.95) -> Figure:
    """The mean of a metric over the points of a sweep.

    Two varied settings on a grid: a heatmap with the mean in every cell. Two
    settings not on a grid (Latin hypercube, Sobol points): a scatter coloured by
    the mean. One setting: the mean against the setting, with its confidence
    interval shaded.

    Raises
    ------
    ValueError
        When the sweep varied more than two settings.
    KeyError
        For a metric the runs did not produce.
    """
    keys = result.keys
    if len(keys) > 2:
        raise ValueError(
            f"a sweep figure shows one or two varied settings; this sweep varied {len(keys)} "
            f"({', '.join(keys)}): use result.table() or sweep fewer settings"
        )
    table = result.table([metric], level)
    fmt = _value_formatter(metric)
    means = np.array(table["mean"], float)
    fig = new_figure(13, 8.5)
    ax = fig.subplots()
    if not keys or not len(table):
        no_data(ax, "the sweep has no points")
        set_title(fig, f"{metric} across the sweep", _sweep_subtitle(result))
        return fig
    if len(keys) == 1:
        key = keys[0]
        xs = table[key]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in xs)
        pos = np.array(xs, float) if numeric else np.arange(len(xs))
        order = np.argsort(pos)
        lo, hi = np.array(table["ci_low"], float), np.array(table["ci_high"], float)
        ax.fill_between(pos[order], lo[order], hi[order], color=OKABE_ITO["blue"], alpha=0.2, lw=0)
        ax.plot(pos[order], means[order], color=OKABE_ITO["blue"], marker="o")
        if not numeric:
            ax.set_xticks(pos, [_label(v) for v in xs])
        ax.set_xlabel(key)
        ax.set_ylabel(f"{metric} (mean, {level:.0%} CI shaded)")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v)))
        set_title(fig, f"{metric} against {key}", _sweep_subtitle(result))
        return fig
    kx, ky = keys
    xs, ys = list(dict.fromkeys(table[kx])), list(dict.fromkeys(table[ky]))
    cells = {(r[kx], r[ky]): r["mean"] for r in table.rows()}
    if len(cells) == len(xs) * len(ys) == len(table):
        xs, ys = sorted(xs, key=_sort_key), sorted(ys, key=_sort_key)
        grid = np.array([[cells[(x, y)] for x in xs] for y in ys], float)
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="cividis")
        finite = grid[np.isfinite(grid)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0
        for (i, j), v in np.ndenumerate(grid):
            ax.text(
                j,
                i,
                fmt(v) if math.isfinite(v) else "–",
                ha="center",
                va="center",
                fontsize=13 if grid.size <= 36 else 10,
                color="black" if v >= mid else "white",
            )
        ax.set_xticks(range(len(xs)), [_label(v) for v in xs])
        ax.set_yticks(range(len(ys)), [_label(v) for v in ys])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
    else:
        image = ax.scatter(
            np.array(table[kx], float),
            np.array(table[ky], float),
            c=means,
            cmap="cividis",
            s=140,
            edgecolor=GREY,
        )
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(f"{metric} (mean over replications)")
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v)))
    ax.set_xlabel(kx)
    ax.set_ylabel(ky)
    set_title(fig, f"{metric} across {kx} and {ky}", _sweep_subtitle(result))
    return fig


def _sort_key(value: Any):
    return (0, value, "") if isinstance(value, int | float) else (1, 0, str(value))


@styled
def sobol_indices(
    indices: Table,
    metric: str,
    *,
    scenario: str = "",
    samples: int | None = None,
    replications: int | None = None,
    overrides: dict | None = None,
) -> Figure:
    """First- and total-order Sobol indices of one metric, one pair of bars per input.

    ``indices`` is a table from :func:`gtmsim.sobol_sensitivity`; confidence
    intervals are drawn when it has them. First order: the share of the
    metric's variance a setting explains alone; total order: including its
    interactions with the others. ``overrides``: settings changed for every run
    (``--set``), shown in the subtitle.
    """
    rows = sorted(indices.rows(), key=lambda r: -_finite(r["total_order"]))
    fig = new_figure(13, max(5.0, 2.4 + 0.9 * len(rows)))
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    h = 0.38
    for offset, key, colour, label in (
        (h / 2, "first_order", OKABE_ITO["sky_blue"], "first order (alone)"),
        (-h / 2, "total_order", OKABE_ITO["blue"], "total order (with interactions)"),
    ):
        values = np.array([_finite(r[key]) for r in rows])
        lo = np.array([r.get(f"{key}_low", math.nan) for r in rows], float)
        hi = np.array([r.get(f"{key}_high", math.nan) for r in rows], float)
        ax.barh(y + offset, values, h, color=colour, label=label)
        ok = np.isfinite(lo) & np.isfinite(hi)
        if ok.any():
            err = np.vstack([np.clip(values - lo, 0, None), np.clip(hi - values, 0, None)])
            ax.errorbar(
                values[ok],
                (y + offset)[ok],
                xerr=err[:, ok],
                fmt="none",
                ecolor="black",
                lw=1.3,
                capsize=4,
            )
    ax.set_yticks(y, [r["input"] for r in rows])
    ax.axvline(0, color="black", lw=1)
    ax.set_xlim(min(0.0, ax.get_xlim()[0]), max(1.0, ax.get_xlim()[1]))
    ax.set_xlabel(f"share of the variance of {metric}")
    ax.grid(axis="y", visible=False)
    fig.legend(loc="outside lower center", ncols=2)
    parts = [p for p in (f"scenario {scenario}" if scenario else "",) if p]
    if samples:
        parts.append(f"{samples} Sobol samples")
    if replications:
        parts.append(f"{replications} replication{'s' if replications != 1 else ''} per point")
    values = [r[k] for r in rows for k in ("first_order", "total_order")]
    if any(math.isfinite(v) and not 0 <= v <= 1 for v in values):
        parts.append("values outside 0-1 are estimation noise: more samples narrow them")
    set_title(
        fig,
        f"What drives {metric}: Sobol sensitivity indices",
        " · ".join(parts) + changed_settings(overrides),
    )
    return fig


def _finite(value: float) -> float:
    return float(value) if value is not None and math.isfinite(value) else 0.0
