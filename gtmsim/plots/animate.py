"""Workshop mode: leads flowing through the stages of two designs, side by side, over time.

The animation is drawn from per-lead event logs (see ``gtmsim.simulate(...,
event_log=...)``) of the same replication of each design, so the same accounts
arrive in both panels; every dot is a sampled lead, the counters are the full
counts. Nothing here runs a simulation.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter
from matplotlib.patches import FancyBboxPatch

from gtmsim.plots.style import GREY, RC, count, design_colours, money, new_figure

# Where a lead can be, drawn as boxes: (label, x, y, lost?)
NODES = (
    ("new leads", 0.0, 0.0, False),
    ("MQL", 1.0, 0.0, False),
    ("called", 2.0, 0.0, False),
    ("accepted", 3.0, 0.0, False),
    ("opportunity", 4.0, 0.0, False),
    ("won", 5.0, 0.0, False),
    ("nurture", 0.5, 1.45, False),
    ("discarded", 0.0, -1.5, True),
    ("black hole", 1.2, -1.5, True),
    ("unreached /\nrejected", 2.4, -1.5, True),
    ("lost", 3.8, -1.5, True),
)
NODE = {label.split()[0]: i for i, (label, *_rest) in enumerate(NODES)}
ACTIVITY_NODE = {
    "created": NODE["new"],
    "mql": NODE["MQL"],
    "queued": NODE["MQL"],
    "attempt": NODE["called"],
    "working": NODE["called"],
    "accepted": NODE["accepted"],
    "opportunity": NODE["opportunity"],
    "won": NODE["won"],
    "nurture": NODE["nurture"],
    "discarded": NODE["discarded"],
    "nurture_expired": NODE["discarded"],
    "never_followed_up": NODE["black"],
    "unreached": NODE["unreached"],
    "rejected": NODE["unreached"],
    "lost_competitor": NODE["lost"],
    "lost_no_decision": NODE["lost"],
}
BOX = 0.36  # half-size of a node's box


@dataclass(frozen=True)
class Journeys:
    """The moves of one design's leads: lead ``lead[i]`` entered node ``node[i]`` at ``time[i]``.

    Sorted by time. ``n_leads`` counts every lead; ``bookings_usd`` is the
    weekly bookings series of the same run (for the running counter).
    """

    lead: np.ndarray
    time: np.ndarray
    node: np.ndarray
    n_leads: int
    horizon_days: float
    bookings_usd: np.ndarray


def journeys_from_events(
    case_id, activity, timestamp_days, horizon_days: float, bookings_usd
) -> Journeys:
    """Journeys from event-log columns (activities the animation does not show are skipped)."""
    nodes = np.array([ACTIVITY_NODE.get(a.split(":")[0], -1) for a in activity], dtype=np.int16)
    keep = nodes >= 0
    lead = np.asarray(case_id, dtype=np.int64)[keep]
    time = np.asarray(timestamp_days, dtype=float)[keep]
    order = np.lexsort((np.arange(lead.size), time))  # by time, then by log order
    return Journeys(
        lead[order],
        time[order],
        nodes[keep][order],
        int(lead.max()) + 1 if lead.size else 0,
        float(horizon_days),
        np.asarray(bookings_usd, dtype=float),
    )


def read_event_log(path: str | os.PathLike, horizon_days: float, bookings_usd) -> Journeys:
    """Journeys from an event-log CSV written by ``gtmsim.simulate(..., event_log=path)``."""
    ids, acts, times = [], [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            ids.append(int(row["case_id"]))
            acts.append(row["activity"])
            times.append(float(row["timestamp_days"]))
    return journeys_from_events(ids, acts, times, horizon_days, bookings_usd)


class _Panel:
    """One design's panel: sampled dots moving between node boxes, and counters."""

    def __init__(self, ax, name: str, colour: str, j: Journeys, sample: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.j = j
        chosen = np.sort(rng.choice(j.n_leads, size=min(sample, j.n_leads), replace=False))
        slot = np.full(j.n_leads, -1)
        slot[chosen] = np.arange(chosen.size)
        mask = slot[j.lead] >= 0
        self.ev_slot, self.ev_time, self.ev_node = slot[j.lead][mask], j.time[mask], j.node[mask]
        self.cursor = 0
        n = chosen.size
        self.node = np.full(n, -1)
        self.prev = np.full(n, -1)
        self.since = np.zeros(n)
        self.jitter = rng.uniform(-BOX * 0.85, BOX * 0.85, size=(n, 2))
        self.anchor = np.array([(x, y) for _, x, y, _ in NODES])
        lost = np.array([is_lost for *_, is_lost in NODES])
        self.colour_of = np.where(lost, GREY, colour)
        # full counts: leads that ever reached each node, by time
        first = np.unique(j.lead * len(NODES) + j.node, return_index=True)[1]
        self.entered = [np.sort(j.time[first][j.node[first] == k]) for k in range(len(NODES))]
        self.cum_bookings = np.concatenate(([0.0], np.cumsum(np.nan_to_num(j.bookings_usd))))

        for _label, x, y, is_lost in NODES:
            ax.add_patch(
                FancyBboxPatch(
                    (x - BOX, y - BOX),
                    2 * BOX,
                    2 * BOX,
                    boxstyle="round,pad=0.02",
                    facecolor="#F6F6F6" if not is_lost else "#EDEDED",
                    edgecolor="#CCCCCC",
                    lw=1,
                )
            )
        self.labels = [
            ax.text(x, y - BOX - 0.06, "", ha="center", va="top", fontsize=12)
            for _, x, y, _ in NODES
        ]
        self.dots = ax.scatter([], [], s=12, linewidths=0)
        self.money = ax.text(
            2.5, 2.35, "", ha="center", va="center", fontsize=22, fontweight="bold", color=colour
        )
        ax.set_title(name, fontsize=20, color=colour, fontweight="bold")
        ax.set_xlim(-0.6, 5.6)
        ax.set_ylim(-2.25, 2.7)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.annotate(
            "",
            (4.62, 0),
            (0.38, 0),
            arrowprops=dict(arrowstyle="-", color="#DDDDDD", lw=6),
            zorder=0,
        )

    def update(self, t: float, glide: float) -> list:
        end = np.searchsorted(self.ev_time, t, side="right")
        if end > self.cursor:
            s = self.ev_slot[self.cursor : end]
            k = self.ev_node[self.cursor : end]
            tt = self.ev_time[self.cursor : end]
            last = s.size - 1 - np.unique(s[::-1], return_index=True)[1]  # each lead's last move
            moved, to, at = s[last], k[last], tt[last]
            changed = self.node[moved] != to
            moved, to, at = moved[changed], to[changed], at[changed]
            self.prev[moved] = np.where(self.node[moved] >= 0, self.node[moved], to)
            self.node[moved] = to
            self.since[moved] = at
            self.cursor = end
        born = self.node >= 0
        alpha = np.clip((t - self.since[born]) / glide, 0, 1)[:, None]
        a, b = self.anchor[self.prev[born]], self.anchor[self.node[born]]
        self.dots.set_offsets(a + alpha * (b - a) + self.jitter[born])
        self.dots.set_facecolors(self.colour_of[self.node[born]])
        for k, text in enumerate(self.labels):
            text.set_text(f"{NODES[k][0]}\n{count(np.searchsorted(self.entered[k], t, 'right'))}")
        week = min(int(t // 7), len(self.cum_bookings) - 1)
        frac = min(1.0, t / 7 - week)
        booked = self.cum_bookings[week] + frac * (
            self.cum_bookings[min(week + 1, len(self.cum_bookings) - 1)] - self.cum_bookings[week]
        )
        self.money.set_text(f"bookings {money(booked)}")
        return [self.dots, self.money, *self.labels]


def funnel_animation(
    journeys: Mapping[str, Journeys],
    *,
    frames: int = 120,
    sample: int = 2500,
    seed: int = 0,
    subtitle: str = "",
) -> FuncAnimation:
    """Leads of two (or more) designs moving through the stages over simulated time.

    Parameters
    ----------
    journeys
        Design name -> its :class:`Journeys` (the same replication of each design).
    frames
        Number of frames over the horizon.
    sample
        Leads drawn as dots per design (the same random choice of lead numbers
        in every design); counters always count every lead.
    seed
        Seeds the sample and the dots' places in their boxes.
    subtitle
        A second title line, e.g. the scenarios and replication shown.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Save it with :func:`save_animation`.
    """
    import matplotlib

    names = list(journeys)
    colours = design_colours(names)
    horizon = max(j.horizon_days for j in journeys.values())
    with matplotlib.rc_context(RC):
        fig = new_figure(7.5 * len(names), 6.2)
        axes = np.atleast_1d(fig.subplots(1, len(names)))
        panels = [
            _Panel(ax, name, colours[name], journeys[name], sample, seed)
            for ax, name in zip(axes, names, strict=True)
        ]
        title = fig.suptitle("")
    times = np.linspace(0, horizon, frames)
    glide = max(horizon / frames * 2.5, 1e-9)

    def draw(i: int) -> list:
        t = times[i]
        artists = [a for p in panels for a in p.update(t, glide)]
        head = f"Leads flowing through the funnel · day {t:.0f} of {horizon:g}"
        title.set_text(head + (f"\n{subtitle}" if subtitle else ""))
        return [*artists, title]

    return FuncAnimation(fig, draw, frames=frames, interval=80, blit=False, repeat=False)


def save_animation(animation: FuncAnimation, path: str | os.PathLike, fps: int = 12) -> Path:
    """Write an animation as GIF (Pillow) or, for ``.mp4``, with ffmpeg when it is installed.

    Raises
    ------
    ValueError
        For another suffix, or ``.mp4`` without ffmpeg on the PATH.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".gif":
        writer = PillowWriter(fps=fps)
    elif suffix == ".mp4":
        if shutil.which("ffmpeg") is None:
            raise ValueError(f"{out}: writing .mp4 needs ffmpeg on the PATH; write a .gif instead")
        writer = FFMpegWriter(fps=fps)
    else:
        raise ValueError(
            f"{out}: an animation is written as .gif or .mp4, not {suffix or 'no suffix'!r}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    animation.save(out, writer=writer, dpi=80)
    return out
