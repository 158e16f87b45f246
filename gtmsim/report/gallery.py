"""The figure gallery: every figure of a set of designs written as PNG files in one folder.

``gtmsim gallery`` runs the shipped designs and calls :func:`write_gallery`;
this module only draws and writes (it runs nothing).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from gtmsim.experiment.ensemble import Ensemble
from gtmsim.plots.style import DPI
from gtmsim.report.figures import Shown, design_figures
from gtmsim.report.html import figure_png


def default_scenarios(
    root: str | os.PathLike = "scenarios", listing: str | os.PathLike | None = None
) -> list[str]:
    """The designs the gallery shows when none are given.

    ``listing`` (the gallery's own ``gallery.toml``) names them in the order of
    the story, the baseline first: ``designs = ["scenarios/...", ...]``, paths
    relative to the working directory. Without it, every ``*.toml`` directly in
    ``root`` (the org-design presets) by name; without any, the base market and
    the examples.
    """
    if listing is not None and Path(listing).is_file():
        with open(listing, "rb") as f:
            listed = [str(p) for p in tomllib.load(f).get("designs", [])]
        if listed:
            return listed
    folder = Path(root)
    presets = sorted(folder.glob("*.toml"))
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
