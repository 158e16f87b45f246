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
            "The marketing-sourced funnel: how many marketing leads reach each stage, and the "
            "ratio of the counts from one stage to the next. Buyers who came back by themselves "
            "are a stage apart (sales accepts them without their being MQLs); reps' "
            "self-sourced prospects are not in it. Every bar is the metric of the same name "
            "in the table above.",
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
                f"Percent change of each design's mean versus {base}'s over paired "
                "replications (same leads, same luck), bookings first; the bar is its 95% "
                "confidence interval. The axis stops at -100% and +100%: a change beyond it is "
                "drawn as an arrow at the edge with its value.",
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
                f"Where the bookings difference between {base} and {other} comes from, in two "
                "chains: marketing-sourced (inquiries, MQLs, MQLs accepted, buyers who came "
                "back, then opportunities, wins and deal size) and sales-sourced (reps' "
                "self-sourced prospects, then the same three). Each chain's steps add up "
                "exactly to its difference, and the two to the total.",
                fig,
            )
        )
    for design in ensemble.designs:
        shown.append(
            Shown(
                f"sankey_{safe_name(design)}",
                f"Where the leads of {design} go: the black hole (MQLs dropped uncalled), "
                "unreached, rejected, recycled to nurture, and the way to won deals; discovery "
                "takes MQLs accepted, buyers who came back and self-sourced prospects.",
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
            "Every AE's bookings against the quota pro-rated over the days they sold (AEs "
            "who sold less than a quarter left out); the line and the words are the table's "
            "ae_quota_attainment_median and ae_quota_missed_share.",
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
