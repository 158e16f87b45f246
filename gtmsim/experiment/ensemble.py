"""Ensemble: every replication of every design, as design x replication x metric arrays."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from gtmsim.model.org import QUARTER_DAYS
from gtmsim.results.metrics import HEADLINE_METRICS, metric_range, quota_attainment
from gtmsim.results.storage import atomic_write
from gtmsim.results.summary import mean_interval
from gtmsim.results.table import ShownAsTable, Table
from gtmsim.scenario.schema import Scenario

# Bin edges (hours) of the first-response histogram kept per replication: one
# minute to a month, log-spaced, with open ends below and above (every first
# attempt is counted, whatever its delay).
FIRST_RESPONSE_EDGES_HOURS = np.concatenate(
    ([-np.inf], np.geomspace(1 / 60, 24 * 30, 31), [np.inf])
)


@dataclass
class Replication:
    """What one replication leaves behind: scalars, weekly series and small arrays.

    ``details`` holds small arrays that are not scalars: ``transitions`` (lead
    state moves, from x to; last row: newly created), ``ae_quota_attainment``
    (bookings / pro-rated quota of each AE the
    quota metrics count) and ``first_response_counts`` (first
    attempts per bin of :data:`FIRST_RESPONSE_EDGES_HOURS`). No per-lead data.
    """

    metrics: dict[str, float]
    weekly: dict[str, np.ndarray]
    states: dict[str, int]
    wall_time_s: float
    details: dict[str, np.ndarray] = field(default_factory=dict)


def replication_details(result: Any, scenario: Scenario) -> dict[str, np.ndarray]:
    """The small arrays of one run kept in an ensemble (see :class:`Replication`)."""
    # the AEs the quota metrics count, pro-rated as they are: the figure and the table agree
    attainment = quota_attainment(
        {k: np.asarray(v) for k, v in result.reps["ae"].items()},
        result.manifest["horizon_days"],
        scenario.sales.ae.quota_usd_per_year,
        QUARTER_DAYS,
    )
    counts, _ = np.histogram(result.first_response_hours, FIRST_RESPONSE_EDGES_HOURS)
    return {
        "transitions": np.asarray(result.transitions, float),
        "ae_quota_attainment": attainment,
        "first_response_counts": counts.astype(float),
    }


@dataclass
class Ensemble(ShownAsTable):
    """Results of an experiment: design x replication x metric.

    Replication ``r`` of every design used the same random streams (common
    random numbers), so differences between designs are paired.

    Attributes
    ----------
    designs
        Design names (unique), in the order given.
    scenarios
        The resolved scenario of each design (with the experiment's seed).
    replications
        Replication numbers, the same for every design.
    metrics
        Metric names (the union over designs; a metric a design lacks is nan).
    values
        Array (design, replication, metric).
    weekly
        Weekly series by name, arrays (design, replication, week).
    states
        Lead final-state names; ``state_counts`` is (design, replication, state).
    manifest
        Seeds, scenario hashes, versions, executor, wall time.
    details
        Small arrays by name (see :class:`Replication`), shape (design,
        replication, ...), padded with nan where runs differ in size (e.g. the
        number of AEs). Empty for ensembles saved before they were kept.
    """

    designs: list[str]
    scenarios: list[Scenario]
    replications: list[int]
    metrics: list[str]
    values: np.ndarray
    weekly: dict[str, np.ndarray]
    states: list[str]
    state_counts: np.ndarray
    manifest: dict[str, Any] = field(default_factory=dict)
    details: dict[str, np.ndarray] = field(default_factory=dict)

    # ------------------------------------------------------------ building

    @classmethod
    def from_replications(
        cls,
        designs: list[str],
        scenarios: list[Scenario],
        replications: list[int],
        runs: dict[tuple[int, int], Replication],
        manifest: dict[str, Any],
    ) -> Ensemble:
        """Assemble from ``runs[(design index, replication)]``."""
        metric_names: dict[str, None] = {}
        state_names: dict[str, None] = {}
        weekly_names: dict[str, int] = {}
        for run in runs.values():
            metric_names.update(dict.fromkeys(run.metrics))
            state_names.update(dict.fromkeys(run.states))
            for k, v in run.weekly.items():
                weekly_names[k] = max(weekly_names.get(k, 0), len(v))
        metrics, states = list(metric_names), list(state_names)
        nd, nr = len(designs), len(replications)
        values = np.full((nd, nr, len(metrics)), np.nan)
        counts = np.zeros((nd, nr, len(states)), dtype=np.int64)
        weekly = {k: np.full((nd, nr, n), np.nan) for k, n in weekly_names.items()}
        col = {m: j for j, m in enumerate(metrics)}
        for d in range(nd):
            for i, r in enumerate(replications):
                run = runs[(d, r)]
                for k, v in run.metrics.items():
                    values[d, i, col[k]] = v
                counts[d, i] = [run.states.get(s, 0) for s in states]
                for k, v in run.weekly.items():
                    weekly[k][d, i, : len(v)] = v
        details = _stack_details([[runs[(d, r)].details for r in replications] for d in range(nd)])
        return cls(
            designs,
            scenarios,
            replications,
            metrics,
            values,
            weekly,
            states,
            counts,
            manifest,
            details,
        )

    # ------------------------------------------------------------ reading

    def design_index(self, design: str | int) -> int:
        """Index of a design given by name or index."""
        if isinstance(design, int):
            return design
        try:
            return self.designs.index(design)
        except ValueError:
            raise KeyError(f"no design {design!r}; designs are {self.designs}") from None

    def metric(self, name: str) -> np.ndarray:
        """One metric as an array (design, replication)."""
        try:
            return self.values[:, :, self.metrics.index(name)]
        except ValueError:
            raise KeyError(f"no metric {name!r}; see gtmsim.METRICS") from None

    def summary(self, metrics: list[str] | None = None, level: float = 0.95) -> Table:
        """Mean, standard deviation and ``level`` confidence interval per design and metric.

        The interval stays in the range the metric can take
        (:func:`~gtmsim.results.summary.mean_interval`): a share's (win rate) within
        [0, 1] by a Wilson score interval, a count's or a USD total's (bookings) not
        below 0 by a quasi-Poisson score interval; other metrics have the Student t
        interval over replications. The means are the plain means either way.
        """
        cols: dict[str, list] = {
            k: [] for k in ("design", "metric", "n", "mean", "sd", "ci_low", "ci_high")
        }
        for name in metrics or self.metrics:
            data = self.metric(name)
            for d, design in enumerate(self.designs):
                x = data[d][~np.isnan(data[d])]
                mean, low, high = mean_interval(x, level, metric_range(name))
                cols["design"].append(design)
                cols["metric"].append(name)
                cols["n"].append(int(x.size))
                cols["mean"].append(mean)
                cols["sd"].append(float(x.std(ddof=1)) if x.size > 1 else float("nan"))
                cols["ci_low"].append(low)
                cols["ci_high"].append(high)
        return Table(cols)

    def table(self) -> Table:
        """One row per design and replication, one column per metric."""
        nd, nr, _ = self.values.shape
        cols: dict[str, list] = {
            "design": [d for d in self.designs for _ in range(nr)],
            "replication": self.replications * nd,
        }
        flat = self.values.reshape(nd * nr, -1)
        for j, m in enumerate(self.metrics):
            cols[m] = flat[:, j].tolist()
        return Table(cols)

    def to_pandas(self):
        """:meth:`table` as a pandas DataFrame (needs pandas)."""
        return self.table().to_pandas()

    # ------------------------------------------------------------ display

    def _display(self) -> tuple[str, Table]:
        """A title and the headline metrics' means and 95% intervals, per design."""
        days = self.scenarios[0].simulation.horizon_days if self.scenarios else float("nan")
        title = (
            f"Ensemble: {len(self.designs)} design(s) ({', '.join(self.designs)}), "
            f"{len(self.replications)} paired replication(s), {days:g} days; "
            "mean and 95% confidence interval"
        )
        shown = [m for m in HEADLINE_METRICS if m in self.metrics] or self.metrics
        summary = self.summary(shown)
        return title, Table(
            {k: summary[k] for k in ("metric", "design", "mean", "ci_low", "ci_high")}
        )

    # ------------------------------------------------------------ storage

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the ensemble to a directory: arrays, resolved scenarios and a manifest."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        arrays = {"values": self.values, "state_counts": self.state_counts}
        arrays.update({f"weekly__{k}": v for k, v in self.weekly.items()})
        arrays.update({f"details__{k}": v for k, v in self.details.items()})
        atomic_write(path / "ensemble.npz", lambda f: np.savez(f, **arrays), binary=True)
        meta = {
            "designs": self.designs,
            "replications": self.replications,
            "metrics": self.metrics,
            "states": self.states,
            "weekly": list(self.weekly),
            "scenarios": [s.model_dump(mode="json") for s in self.scenarios],
            "manifest": self.manifest,
        }
        atomic_write(path / "manifest.json", lambda f: json.dump(meta, f, indent=1))
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Ensemble:
        """Read an ensemble written by :meth:`save`."""
        path = Path(directory)
        meta = json.loads((path / "manifest.json").read_text())
        with np.load(path / "ensemble.npz") as data:
            weekly = {k: data[f"weekly__{k}"] for k in meta["weekly"]}
            details = {
                k[len("details__") :]: data[k] for k in data.files if k.startswith("details__")
            }
            values, counts = data["values"], data["state_counts"]
        return cls(
            meta["designs"],
            [Scenario.model_validate(s) for s in meta["scenarios"]],
            meta["replications"],
            meta["metrics"],
            values,
            weekly,
            meta["states"],
            counts,
            meta["manifest"],
            details,
        )


def _stack_details(grid: list[list[dict[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    """Per-run detail arrays as (design, replication, ...) arrays, nan-padded to fit all."""
    shapes: dict[str, tuple[int, ...]] = {}
    for row in grid:
        for details in row:
            for k, v in details.items():
                old = shapes.get(k, np.shape(v))
                if len(old) != np.ndim(v):
                    raise ValueError(f"detail {k!r} changes its number of dimensions")
                shapes[k] = tuple(max(a, b) for a, b in zip(old, np.shape(v), strict=True))
    nd, nr = len(grid), len(grid[0]) if grid else 0
    out = {k: np.full((nd, nr, *shape), np.nan) for k, shape in shapes.items()}
    for d, row in enumerate(grid):
        for i, details in enumerate(row):
            for k, v in details.items():
                out[k][(d, i, *(slice(0, n) for n in np.shape(v)))] = v
    return out


def engine_fingerprint() -> str:
    """A hash of the code that turns a scenario into a replication, and of numpy's and SimPy's
    versions: a saved replication is reused only by the engine that made it."""
    root = Path(__file__).resolve().parents[1]
    sources = [root / "simulate.py", root / "experiment" / "ensemble.py"]
    sources += sorted((root / "model").glob("*.py")) + sorted((root / "results").glob("*.py"))
    digest = hashlib.sha256(f"numpy {np.__version__} simpy {simpy.__version__}".encode())
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def environment() -> dict[str, str]:
    """Versions of what produced the results."""
    import scipy

    from gtmsim import __version__

    return {
        "gtmsim": __version__,
        "gtmsim_engine": ENGINE,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "simpy": simpy.__version__,
        "platform": platform.platform(),
    }


ENGINE = engine_fingerprint()
