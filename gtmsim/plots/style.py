"""One look for every figure: colour-blind-safe colours, one per design, fonts for a projector.

Colours come from the Okabe-Ito palette (distinguishable with the common
colour-vision deficiencies). A design's colour is keyed by its name (see
:func:`design_colour`), so it is the same in every figure, report, gallery and
animation, whichever other designs are shown and in whatever order.
"""

from __future__ import annotations

import functools
import hashlib
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import matplotlib
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gtmsim.scenario.shipped import display

# Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
GREY = "#8C8C8C"

# The palette designs take their colours from (yellow last: weak on white).
DESIGN_ORDER = (
    OKABE_ITO["vermillion"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["blue"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["black"],
    GREY,
    OKABE_ITO["yellow"],
)
# The shipped org designs' colours, read from the package's display data.
SHIPPED_COLOURS = {name: OKABE_ITO[colour] for name, colour in display()["colours"].items()}
# Gains and losses (bridge steps, lost leads) in greys, so they never look like a design.
UP, DOWN = "#4D4D4D", "#BDBDBD"

# Sizes read from the back of a room when the figure fills a projector.
RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 14,
    "text.parse_math": False,  # "$" is money (and design names are the user's), never TeX
    "axes.titlesize": 16,
    "axes.titleweight": "bold",
    "axes.labelsize": 15,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 13,
    "legend.frameon": False,
    "figure.titlesize": 19,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.8,
    "lines.linewidth": 2.8,
    "lines.markersize": 8,
    "patch.linewidth": 0,
    "axes.prop_cycle": cycler(color=list(DESIGN_ORDER)),
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 100,
}
DPI = 100  # saved PNGs: 100 dpi at figure sizes of 13-16 inches fill a 1600-px projector

F = TypeVar("F", bound=Callable[..., Any])


def styled(func: F) -> F:
    """Run a figure-building function with the style in force (no global state changed)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(RC):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def new_figure(width: float, height: float, **kwargs: Any) -> Figure:
    """A figure with constrained layout, outside pyplot (no global figure registry)."""
    return Figure(figsize=(width, height), layout="constrained", **kwargs)


def design_colour(name: str) -> str:
    """The colour of the design called ``name``, the same in every command and figure.

    The shipped designs have fixed colours (:data:`SHIPPED_COLOURS`); any other
    name takes a palette colour from a hash of the name (stable across runs and
    machines, unlike Python's ``hash``).
    """
    if name in SHIPPED_COLOURS:
        return SHIPPED_COLOURS[name]
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return DESIGN_ORDER[int.from_bytes(digest[:4], "big") % len(DESIGN_ORDER)]


def design_colours(designs: Sequence[str]) -> dict[str, str]:
    """One colour per design, keyed by name (:func:`design_colour`).

    Two designs of one figure never share a colour while the palette lasts: a
    design whose colour is taken (shipped designs claim theirs first, the others
    by name) takes the next free one of :data:`DESIGN_ORDER`. The result depends
    on the set of names, never on their order.
    """
    names = list(dict.fromkeys(designs))
    out: dict[str, str] = {}
    for name in sorted(names, key=lambda n: (n not in SHIPPED_COLOURS, n)):
        colour = design_colour(name)
        if colour in out.values() and len(out) < len(DESIGN_ORDER):
            start = DESIGN_ORDER.index(colour)
            ring = DESIGN_ORDER[start:] + DESIGN_ORDER[:start]
            colour = next(c for c in ring if c not in out.values())
        out[name] = colour
    return {name: out[name] for name in names}


def show_numbers(fig: Figure, numbers: dict[tuple[str, str], float]) -> Figure:
    """Attach the numbers a figure prints to it, as ``fig.numbers``.

    Keys are ``(quantity, design)``: ``quantity`` is a metric of
    :data:`gtmsim.METRICS` (its mean over replications), the ratio of two
    (``"mqls_accepted / mqls"``: the ratio of their means), or a row of a table
    the figure draws (named in the figure's docstring). Tests and notebooks read
    them instead of the picture.
    """
    fig.numbers = dict(numbers)  # type: ignore[attr-defined]
    return fig


def describe(ensemble: Any, designs: Sequence[str] | None = None) -> str:
    """What a figure shows: its scenarios, paired replications, horizon and the settings
    changed for every design (the manifest's ``overrides``: ``--set``), never hidden."""
    names = list(designs if designs is not None else ensemble.designs)
    n = len(ensemble.replications)
    days = ensemble.scenarios[0].simulation.horizon_days if ensemble.scenarios else None
    parts = [", ".join(names), f"{n} paired replication{'s' if n != 1 else ''}"]
    if days:
        parts.append(f"{days:g} days")
    return " · ".join(parts) + changed_settings(ensemble.manifest.get("overrides"))


def changed_settings(overrides: Any) -> str:
    """The subtitle's part for settings changed for every design; ``""`` without any."""
    from gtmsim.scenario.loader import overrides_text

    text = overrides_text(overrides)
    return f" · settings changed for every design: {text}" if text else ""


def set_title(fig: Figure, title: str, subtitle: str = "") -> None:
    """The figure's point in bold, then what it shows (scenarios, replications)."""
    text = title
    if subtitle:  # about 7 characters of the title font per inch of figure
        text += "\n" + textwrap.fill(subtitle, int(fig.get_figwidth() * 7))
    fig.suptitle(text)


def money(value: float, _pos: Any = None) -> str:
    """USD for people: $1.2M, $350k, $900."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e9:
        return f"{sign}${v / 1e9:.3g}B"
    if v >= 1e6:
        return f"{sign}${v / 1e6:.3g}M"
    if v >= 1e3:
        return f"{sign}${v / 1e3:.3g}k"
    return f"{sign}${v:.0f}"


def count(value: float, _pos: Any = None) -> str:
    """Counts for people: 63k, 1,536, 12."""
    v = abs(value)
    if v >= 1e6:
        return f"{value / 1e6:.3g}M"
    if v >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:,.0f}"


def percent(value: float, _pos: Any = None) -> str:
    """A share as a percentage, with a decimal only where it matters."""
    v = 100 * value
    if v == 0:
        return "0%"
    if abs(v) < 1:
        return f"{v:.2g}%"
    if abs(v) < 10:
        return f"{v:.1f}%".replace(".0%", "%")
    return f"{v:.0f}%"


MONEY = FuncFormatter(money)
COUNT = FuncFormatter(count)
PERCENT = FuncFormatter(percent)


def no_data(ax: Any, message: str) -> None:
    """An empty panel that says why it is empty."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.text(
        0.5,
        0.5,
        textwrap.fill(message, 30),
        ha="center",
        va="center",
        transform=ax.transAxes,
        color=GREY,
        fontsize=13,
    )
