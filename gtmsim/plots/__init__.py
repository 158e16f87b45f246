"""Figures from results: pure functions that return :class:`matplotlib.figure.Figure`.

Nothing here runs a simulation: every function takes an
:class:`~gtmsim.Ensemble` (or a table computed from one, a sweep or Sobol
indices, a robust comparison) and draws it. Figures are built without pyplot, so no global state
changes and any backend works; save one with ``fig.savefig("x.png")``.

>>> from gtmsim import plots
>>> fig = plots.funnel(ensemble)              # doctest: +SKIP
>>> fig.savefig("funnel.png")                 # doctest: +SKIP
"""

from gtmsim.plots.designs import (
    attribution,
    cumulative_bookings,
    forest,
    funnel,
    quota_attainment,
    revenue_bridge,
    speed_to_lead,
)
from gtmsim.plots.dynamics import death_spiral
from gtmsim.plots.explore import sobol_indices, sweep_heatmap
from gtmsim.plots.flow import sankey
from gtmsim.plots.robustness import robust
from gtmsim.plots.style import DPI, design_colours

__all__ = [
    "DPI",
    "attribution",
    "cumulative_bookings",
    "death_spiral",
    "design_colours",
    "forest",
    "funnel",
    "quota_attainment",
    "revenue_bridge",
    "robust",
    "sankey",
    "sobol_indices",
    "speed_to_lead",
    "sweep_heatmap",
]
