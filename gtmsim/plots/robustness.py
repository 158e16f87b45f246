"""The figure of a robust comparison: every design's difference from the baseline in every world."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gtmsim.experiment.robust import RobustResult
from gtmsim.plots.explore import _value_formatter
from gtmsim.plots.style import GREY, new_figure, no_data, set_title, styled

CMAP = "cividis"  # readable in grey and with the common colour-vision deficiencies


@styled
def robust(result: RobustResult) -> Figure:
    """The difference (design - baseline) of each design in every plausible world.

    One row per design, one dot per world, coloured by where the world puts
    the assumption that decides the design's verdict most (from the low end
    of its range, dark, to the high end, light); the row's label gives the
    share of worlds the design wins and that assumption. The bar behind the
    dots spans the middle 90% of the worlds, the tick is the median; the
    vertical line is zero: dots to its right are worlds the design wins.
    """
    designs = list(result.designs)
    fmt = _value_formatter(result.metric, difference=True)
    fig = new_figure(14, 2.8 + 1.25 * max(len(designs), 1))
    ax = fig.subplots()
    title = f"In what share of plausible worlds does each design beat {result.baseline}?"
    subtitle = (
        f"{result.samples} worlds ({result.method}) over {len(result.assumptions)} "
        f"assumptions · {result.replications} paired replication(s) each"
    )
    if result.horizon_days:
        subtitle += f" · {result.horizon_days:g} days"
    if not designs:
        no_data(ax, "no design to compare with the baseline")
        set_title(fig, title, subtitle)
        return fig
    scatter = None
    labels = []
    for row, design in enumerate(reversed(designs)):
        diff = result.differences[design]
        ok = ~np.isnan(diff)
        key = result.decisive(design)
        if key is not None:
            colour = result.points[:, result.assumptions.index(key)]
        else:
            colour = np.full(diff.shape, 0.5)
        if ok.any():
            lo, mid, hi = np.quantile(diff[ok], [0.05, 0.5, 0.95])
            ax.plot([lo, hi], [row, row], color=GREY, lw=9, alpha=0.35, solid_capstyle="butt")
            ax.plot([mid, mid], [row - 0.3, row + 0.3], color="black", lw=2.5)
        jitter = (np.arange(diff.size) % 5 - 2) * 0.07  # spread dots that coincide
        scatter = ax.scatter(
            diff[ok],
            row + jitter[ok],
            c=colour[ok],
            cmap=CMAP,
            vmin=0,
            vmax=1,
            s=70,
            edgecolors="white",
            linewidths=0.6,
            zorder=3,
        )
        share = result.win_share(design)
        share_text = "–" if np.isnan(share) else f"{share:.0%}"
        decided = f"\ncolour: {key}" if key else ""
        labels.append(f"{design}\nwins in {share_text}{decided}")
    ax.axvline(0, color="black", lw=1.5, zorder=2)
    ax.set_yticks(range(len(designs)), labels)
    ax.set_ylim(-0.7, len(designs) - 0.3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v)))
    ax.set_xlabel(
        f"{result.metric}: design − {result.baseline}, per world (mean over replications)"
    )
    ax.grid(axis="y", visible=False)
    if scatter is not None and result.assumptions:
        bar = fig.colorbar(scatter, ax=ax, pad=0.01, fraction=0.04, ticks=[0, 1])
        bar.ax.set_yticklabels(["low", "high"])
        bar.set_label("colour assumption")
    set_title(fig, title, subtitle)
    return fig
