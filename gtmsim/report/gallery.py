"""The figure gallery: every figure of a set of designs written as PNG files in one folder.

``gtmsim gallery`` runs the shipped designs and calls :func:`write_gallery`;
this module only draws and writes (it runs nothing).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from gtmsim.experiment.ensemble import Ensemble
from gtmsim.plots.style import DPI, PRESET_COLOURS
from gtmsim.report.figures import Shown, design_figures
from gtmsim.report.html import figure_png


def default_scenarios(root: str | os.PathLike = "scenarios") -> list[str]:
    """The designs the gallery shows when none are given.

    Every ``*.toml`` directly in ``root`` (the org-design presets), the known
    presets first in the order of the story (``over_the_wall``, the baseline the
    others are measured against, to ``integrated``), then any others by name;
    without any, the base market and the examples.
    """
    folder = Path(root)
    order = {name: i for i, name in enumerate(PRESET_COLOURS)}
    presets = sorted(folder.glob("*.toml"), key=lambda p: (order.get(p.stem, len(order)), p.stem))
    if presets:
        return [p.as_posix() for p in presets]
    base = folder / "base" / "market.toml"
    examples = sorted((folder / "examples").glob("*.toml"))
    return [p.as_posix() for p in [base, *examples] if p.exists()]


def save_png(fig: Figure, path: str | os.PathLike, dpi: int = DPI) -> Path:
    """Write a figure as a compact PNG (see :func:`gtmsim.report.html.figure_png`)."""
    out = Path(path)
    out.write_bytes(figure_png(fig, dpi))
    return out


def write_gallery(
    ensemble: Ensemble,
    out: str | os.PathLike,
    baseline: str | int = 0,
    extra: Sequence[Shown] = (),
    dpi: int = DPI,
) -> list[Path]:
    """Write every design figure of ``ensemble``, and ``extra`` ones, as ``out/<key>.png``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        save_png(shown.figure, folder / f"{shown.key}.png", dpi)
        for shown in [*design_figures(ensemble, baseline), *extra]
    ]
