"""Which figures a set of designs gets, in the order a facilitator tells the story."""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure

from gtmsim import plots
from gtmsim.experiment.ensemble import Ensemble
from gtmsim.plots.dynamics import WEEKS_PER_QUARTER


def safe_name(name: str) -> str:
    """A file-name-safe version of a design name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


@dataclass
class Shown:
    """A figure with the file stem it is saved under and what to read in it."""

    key: str
    caption: str
    figure: Figure


def design_figures(ensemble: Ensemble, baseline: str | int = 0) -> list[Shown]:
    """Every figure that applies to the designs of an ensemble.

    Bridges are drawn from the baseline to every other design (skipped, with
    the reason in the caption list, when a funnel stage is empty); the
    death-spiral dashboard needs at least two quarters of weekly series.
    """
    base = ensemble.designs[ensemble.design_index(baseline)]
    others = [d for d in ensemble.designs if d != base]
    shown = [
        Shown(
            "funnel",
            "How many marketing leads reach each stage, and what share of each stage reaches "
            "the next (inbound leads only).",
            plots.funnel(ensemble),
        ),
        Shown(
            "bookings",
            "Bookings to date, week by week: the line is the mean over replications, the "
            "shading the middle 90% of them.",
            plots.cumulative_bookings(ensemble),
        ),
    ]
    if others:
        shown.append(
            Shown(
                "forest",
                f"Paired differences versus {base}: each dot is a mean difference over paired "
                "replications (same leads, same luck), the bar its 95% confidence interval.",
                plots.forest(ensemble, base),
            )
        )
    for other in others:
        try:
            fig = plots.revenue_bridge(ensemble, base, other)
        except ValueError:  # an empty funnel stage (e.g. no deal won in a short run)
            continue
        shown.append(
            Shown(
                f"bridge_{safe_name(other)}",
                f"Where the bookings difference between {base} and {other} comes from, stage by "
                "stage; the steps add up exactly to the difference.",
                fig,
            )
        )
    for design in ensemble.designs:
        shown.append(
            Shown(
                f"sankey_{safe_name(design)}",
                f"Where the leads of {design} go: the black hole (MQLs never called), unreached, "
                "rejected, recycled to nurture, and the way to won deals.",
                plots.sankey(ensemble, design),
            )
        )
    shown.append(
        Shown(
            "speed_to_lead",
            "How fast MQLs are called, and how the delay cuts the chance to reach and qualify "
            "them.",
            plots.speed_to_lead(ensemble),
        )
    )
    shown.append(
        Shown(
            "quota",
            "Every AE's bookings against the pro-rated quota.",
            plots.quota_attainment(ensemble),
        )
    )
    weeks = max((v.shape[-1] for v in ensemble.weekly.values()), default=0)
    if weeks >= 2 * WEEKS_PER_QUARTER:
        shown.append(
            Shown(
                "death_spiral",
                "The loop quarter by quarter: marketing's bar, MQL volume, MQL to won, reps' "
                "trust, time spent prospecting and the marketing budget.",
                plots.death_spiral(ensemble),
            )
        )
    return shown
