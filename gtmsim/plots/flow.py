"""Lead flow as a Sankey diagram: where the leads of one design go.

Four panels, each with its own scale (the funnel narrows too fast for one):
marketing's bar (inquiries to nurture, discard or MQL), the handoff (what
happens to MQLs: the black hole, unreached, rejected, recycled, accepted),
discovery (accepted leads and self-sourced prospects to opportunities) and
opportunities (won, lost, still open).
Flows are mean lead moves per replication, from the ensemble's transition counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.sankey import Sankey

from gtmsim.experiment.ensemble import Ensemble
from gtmsim.model.leads import IDLE, NEW, State
from gtmsim.plots.style import (
    GREY,
    count,
    describe,
    design_colours,
    new_figure,
    no_data,
    percent,
    set_title,
    show_numbers,
    styled,
)

# The flows that are metrics of the same meaning (metric -> flow), for fig.numbers.
SANKEY_METRICS = {
    "inquiries": "inquiries",
    "mqls": "mqls",
    "mqls_accepted": "accepted_inbound",
    "buyers_returned": "returned",
    "prospects_created": "prospects",
    "opportunities": "opportunities",
    "lost_at_discovery": "lost_at_discovery",
    "lost_competitor": "lost_competitor",
    "lost_no_decision": "lost_no_decision",
    "deals_won": "won",
}

S = State
LOST = (S.LOST_COMPETITOR, S.LOST_NO_DECISION)
FOLLOW_UP = (S.QUEUED, S.WORKING)


@dataclass(frozen=True)
class Flow:
    """One arrow of a panel: a label, a mean count and where it points."""

    label: str
    value: float
    orientation: int  # 0: in from the left / out to the right; -1: down; 1: up
    colour: str | None = None  # None: the design's colour


def lead_flows(transitions: np.ndarray) -> dict[str, float]:
    """Named lead flows from a (from x to) transition matrix (last row: new leads)."""
    T = transitions

    def moves(src, dst) -> float:
        src = src if isinstance(src, tuple) else (src,)
        dst = dst if isinstance(dst, tuple) else (dst,)
        return float(sum(T[a, b] for a in src for b in dst))

    f = {
        "discarded": moves(NEW, S.DISCARDED),
        "to_nurture": moves(NEW, S.NURTURE),
        "mql_new": moves(NEW, S.QUEUED),
        "prospects": moves(NEW, S.ACCEPTED),
        "returned": moves(IDLE, S.ACCEPTED),
        "requalified": moves(S.NURTURE, S.QUEUED),
        "nurture_expired": moves(S.NURTURE, S.NURTURE_EXPIRED),
        "black_hole": moves(FOLLOW_UP, S.NEVER_FOLLOWED_UP),
        "unreached": moves(FOLLOW_UP, S.UNREACHED),
        "rejected": moves(FOLLOW_UP, S.REJECTED),
        "recycled": moves(FOLLOW_UP, S.NURTURE),
        "accepted_inbound": moves(FOLLOW_UP, S.ACCEPTED),
        "opportunities": moves(S.ACCEPTED, S.OPPORTUNITY),
        "lost_at_discovery": moves(S.ACCEPTED, LOST),
        "won": moves(S.OPPORTUNITY, S.WON),
        "lost_competitor": moves(S.OPPORTUNITY, S.LOST_COMPETITOR),
        "lost_no_decision": moves(S.OPPORTUNITY, S.LOST_NO_DECISION),
    }
    f["inquiries"] = f["discarded"] + f["to_nurture"] + f["mql_new"]
    f["mqls"] = f["mql_new"] + f["requalified"]
    done = sum(
        f[k] for k in ("black_hole", "unreached", "rejected", "recycled", "accepted_inbound")
    )
    f["in_follow_up"] = max(0.0, f["mqls"] - done)
    f["accepted"] = f["accepted_inbound"] + f["prospects"] + f["returned"]
    f["accepted_open"] = max(0.0, f["accepted"] - f["opportunities"] - f["lost_at_discovery"])
    lost_opp = f["lost_competitor"] + f["lost_no_decision"]
    f["opportunities_open"] = max(0.0, f["opportunities"] - f["won"] - lost_opp)
    return f


def _panel(ax, flows: list[Flow], colour: str) -> tuple[float, float, float, float] | None:
    """One Sankey diagram: the input from the left, the main outflow to the right,
    other outflows up (kept: nurture) or down (lost), at a scale of its own."""
    flows = [f for f in flows if abs(f.value) >= 0.5]
    total = sum(f.value for f in flows if f.value > 0)
    if not total:
        no_data(ax, "no leads reached this stage")
        return None
    # side arrows staggered in length, so that neighbouring labels never meet
    lengths = [0.25] * len(flows)
    for side in (1, -1):
        arrows = [j for j, f in enumerate(flows) if f.orientation == side]
        for k, j in enumerate(arrows[::-1] if side == -1 else arrows):
            lengths[j] = 0.25 + 1.0 * k
    labels = [
        f"{f.label}\n{count(abs(f.value))}"
        + (f" ({percent(-f.value / total)})" if f.value < 0 else "")
        for f in flows
    ]
    sankey = Sankey(
        ax=ax, scale=1.0 / total, unit=None, gap=0.3, radius=0.06, shoulder=0.05, margin=0.3
    )
    sankey.add(
        flows=[f.value for f in flows],
        orientations=[f.orientation for f in flows],
        labels=labels,
        pathlengths=lengths,
        trunklength=1.2,
        facecolor=colour,
        edgecolor="white",
        alpha=0.9,
    )
    (diagram,) = sankey.finish()
    for text, flow in zip(diagram.texts, flows, strict=True):
        text.set_fontsize(13)
        text.set_linespacing(1.05)
        if flow.colour:
            text.set_color(flow.colour)
            text.set_fontweight("normal" if flow.colour == GREY else "bold")
    ax.axis("off")
    return tuple(sankey.extent)


@styled
def sankey(ensemble: Ensemble, design: str | int = 0) -> Figure:
    """Where the leads of one design go, in four panels: marketing, handoff, discovery, deals.

    Discovery takes three inflows, each named as its metric: MQLs accepted, buyers
    who came back by themselves and reps' self-sourced prospects. ``fig.numbers``
    holds the flows of :data:`SANKEY_METRICS` keyed by metric.
    """
    d = ensemble.design_index(design)
    name = ensemble.designs[d]
    colour = design_colours(ensemble.designs)[name]
    fig = new_figure(20, 8)
    axes = fig.subplots(1, 4)
    trans = ensemble.details.get("transitions")
    if trans is None:
        for ax in axes:
            no_data(ax, "these runs kept no lead transitions (rerun them)")
        set_title(fig, f"Lead flow: {name}", describe(ensemble, [name]))
        return fig
    f = lead_flows(np.nanmean(trans[d], axis=0))
    loss, kept = "black", "#4D4D4D"
    panels = [
        (
            "1. Marketing's bar\n\n",
            [
                Flow("inquiries", f["inquiries"], 0),
                Flow("to nurture", -f["to_nurture"], 1, kept),
                Flow("discarded", -f["discarded"], -1, loss),
                Flow("MQL", -f["mql_new"], 0),
            ],
        ),
        (
            "2. The handoff\n"
            + (
                f"({count(f['requalified'])} of them\nrequalified from nurture)"
                if f["requalified"] >= 0.5
                else "\n"
            ),
            [
                Flow("MQLs", f["mqls"], 0),
                Flow("recycled to nurture", -f["recycled"], 1, kept),
                Flow("black hole (dropped uncalled)", -f["black_hole"], -1, loss),
                Flow("unreached", -f["unreached"], -1, loss),
                Flow("rejected", -f["rejected"], -1, loss),
                Flow("still in follow-up", -f["in_follow_up"], -1, GREY),
                Flow("MQLs accepted", -f["accepted_inbound"], 0),
            ],
        ),
        (
            f"3. Discovery\n({count(f['accepted'])} leads: MQLs accepted,\n"
            "buyers who came back, prospects)",
            [
                Flow("MQLs accepted", f["accepted_inbound"], 0),
                Flow("buyers who came back", f["returned"], 1, kept),
                Flow("self-sourced prospects", f["prospects"], 1, kept),
                Flow("lost at discovery", -f["lost_at_discovery"], -1, loss),
                Flow("open", -f["accepted_open"], -1, GREY),
                Flow("opportunity", -f["opportunities"], 0),
            ],
        ),
        (
            "4. Opportunities\n\n",
            [
                Flow("opportunities", f["opportunities"], 0),
                Flow("lost to competitor", -f["lost_competitor"], -1, loss),
                Flow("no decision", -f["lost_no_decision"], -1, loss),
                Flow("open", -f["opportunities_open"], -1, GREY),
                Flow("won", -f["won"], 0),
            ],
        ),
    ]
    extents = []
    for ax, (title, flows) in zip(axes, panels, strict=True):
        extents.append(_panel(ax, flows, colour))
        ax.set_title(title, fontsize=15)
    # one vertical scale for the panels' frames, widths in proportion: equal-looking trunks
    drawn = [e for e in extents if e is not None]
    if drawn:
        y0 = min(e[2] for e in drawn) - 0.5
        y1 = max(e[3] for e in drawn) + 0.3
        widths = []
        for ax, e in zip(axes, extents, strict=True):
            x0, x1 = (e[0] - 0.7, e[1] + 0.9) if e is not None else (0.0, 2.0)
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            ax.set_aspect("equal", adjustable="box")
            widths.append(x1 - x0)
        axes[0].get_gridspec().set_width_ratios(widths)
    set_title(
        fig,
        f"Lead flow of {name}: mean leads per replication (each panel has its own scale)",
        describe(ensemble, [name]) + " · up: kept in nurture, or joining; down: lost",
    )
    return show_numbers(fig, {(metric, name): f[key] for metric, key in SANKEY_METRICS.items()})
