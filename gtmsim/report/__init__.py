"""The workshop report: one self-contained HTML file, and the figure gallery.

>>> from gtmsim.report import write_report
>>> write_report(ensemble, "report.html", baseline="status quo")   # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from gtmsim.experiment.ensemble import Ensemble
from gtmsim.experiment.robust import RobustResult
from gtmsim.report.figures import Shown, design_figures
from gtmsim.report.html import differing_settings, report_html
from gtmsim.results.storage import write_text

__all__ = ["Shown", "design_figures", "differing_settings", "report_html", "write_report"]


def write_report(
    ensemble: Ensemble,
    path: str | os.PathLike,
    baseline: str | int = 0,
    title: str | None = None,
    robust: RobustResult | None = None,
) -> Path:
    """Write the HTML report of an ensemble (every figure that applies) to ``path``.

    Given ``robust`` (a :func:`gtmsim.robust` result), the report gains its section:
    the share of plausible worlds each design wins, and the figure.
    """
    out = Path(path)
    html = report_html(ensemble, design_figures(ensemble, baseline), baseline, title, robust)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, html)
    out.chmod(0o644)  # a report is for sharing (the atomic write made it private)
    return out
