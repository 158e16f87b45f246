"""Robust comparisons: which design beats the baseline across the plausible values of the assumptions.

A comparison's confidence interval says how sure we are *given* the settings.
Several settings are assumptions, declared in the scenario files with a
plausible range (``enablement_share = { value = 0.2, low = 0.1, high = 0.4,
source = "assumption" }``, see :mod:`gtmsim.scenario.assumptions`).
:func:`robust` draws ``samples`` points over those ranges ("plausible worlds"),
runs every design and the baseline in every world with common random numbers,
and reports for each design:

* the share of worlds in which it beats the baseline on the key metric (by
  default bookings net of sales, marketing and coordination cost);
* quantiles of the difference (design - baseline) across the worlds;
* which assumptions the ranking depends on, by **Monte Carlo filtering**
  (regional sensitivity analysis): the worlds are split into those where the
  design wins and those where it loses, and for each assumption a two-sample
  Kolmogorov-Smirnov test (:func:`scipy.stats.ks_2samp`) asks whether its
  values differ between the two groups; the larger the statistic, the more
  the verdict hangs on that assumption. Spearman's rank correlation
  (:func:`scipy.stats.spearmanr`) of each assumption with the difference says
  which way it pushes the margin, also when the design wins (or loses) in
  every world and there is nothing to split.

Why this method and not Sobol indices: Sobol indices need a Saltelli design of
``N (d + 2)`` runs per design and many samples before they settle, and they
split the *variance* of the difference, not the question asked here (win or
lose). Filtering works on any sample, including a Latin hypercube of a few
dozen points, costs nothing beyond the runs themselves, and answers the
question directly: in the worlds where the design loses, which assumptions
are different? With many assumptions and few worlds one of them will look
decisive by chance now and then: read its p-value against 0.05 divided by
the number of assumptions (Bonferroni), and draw more worlds when it is above. (It is the filtering step of regional sensitivity analysis,
Hornberger and Spear 1981; PRIM scenario discovery asks the same question
with boxes, and needs more points to find them.)

The worlds
----------
The sampled assumptions are the union of those every design and the baseline
declare, over the dotted keys of :meth:`Scenario.assumptions
<gtmsim.scenario.schema.Scenario.assumptions>`. A point is one value in
``[0, 1)`` per key (a Latin hypercube by default, or scrambled Sobol' points;
:mod:`scipy.stats.qmc`), the same for every design. Each design maps it onto
its *own* declared range: a design that declares no range for a key keeps
its value there, and two designs that declare different ranges for one key
(aligned and integrated each have their own enablement share) are at the
same quantile of their ranges, so the world where buyer enablement works
well is that world for both. Every run of every design in every world uses
the same replication seeds (common random numbers), so differences come from
the designs and the world, not from luck.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from gtmsim.experiment.ensemble import Ensemble
from gtmsim.experiment.run import Progress, resolve_designs, run_experiment, unique_name
from gtmsim.experiment.sweep import design_points
from gtmsim.results.metrics import better, improves, is_share, unknown_metrics
from gtmsim.results.storage import check_output_dir, json_safe, output_lock, write_text
from gtmsim.results.table import Table
from gtmsim.scenario.assumptions import with_values
from gtmsim.scenario.loader import load_scenario
from gtmsim.scenario.schema import Scenario

DEFAULT_METRIC = "bookings_net_of_gtm_cost_usd"
"""The key metric of :func:`robust`: bookings minus sales, marketing and coordination cost."""
METHODS = ("lhs", "sobol")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SHOWN_DRIVERS = 5  # assumptions per design in the printed result (all are in drivers())
RESULT_FILE = "robust.json"
"""The file :func:`robust` writes in ``out`` (read back with :meth:`RobustResult.load`)."""


@dataclass
class RobustResult:
    """The outcome of :func:`robust`: every design against the baseline in every world.

    Attributes
    ----------
    baseline : str
        The baseline design's name.
    designs : list of str
        The other designs, in the order given.
    metric : str
        The key metric.
    assumptions : list of str
        The dotted keys that vary across the worlds (columns of ``points``).
    fixed : list of str
        Keys declared with a range that is a single value in every design
        (known points: nothing to sample).
    ranges : dict
        Design name (baseline included) -> key -> ``[low, high]`` the design
        declares for it; a key the design does not declare is absent.
    points : ndarray, shape (samples, len(assumptions))
        Each world as a point of the unit cube.
    values : dict of str to ndarray
        Design name (baseline included) -> the value of every assumption it
        ran with in every world (its own value where it declares no range).
    baseline_means : ndarray, shape (samples,)
        The baseline's mean metric over replications, per world.
    differences : dict of str to ndarray
        Design name -> the mean paired difference (design - baseline) over
        replications, per world.
    method, samples, replications, seed, horizon_days
        How the worlds were drawn and run (the baseline's simulated days).
    ensemble : Ensemble or None
        Every run (design ``d`` in world ``i`` is named ``"d @ world i"``);
        ``None`` for a result read back from a file.
    """

    baseline: str
    designs: list[str]
    metric: str
    assumptions: list[str]
    fixed: list[str]
    ranges: dict[str, dict[str, list[float]]]
    points: np.ndarray
    values: dict[str, np.ndarray]
    baseline_means: np.ndarray
    differences: dict[str, np.ndarray]
    method: str
    samples: int
    replications: int
    seed: int
    horizon_days: float | None = None
    ensemble: Ensemble | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ figures

    def win_share(self, design: str) -> float:
        """The share of worlds in which ``design`` beats the baseline: is better in the
        metric's direction (:func:`gtmsim.results.metrics.better`); nan when no world
        has a value."""
        diff = self._diff(design)
        ok = ~np.isnan(diff)
        return float(self._wins(diff[ok]).mean()) if ok.any() else math.nan

    def _wins(self, diff: np.ndarray) -> np.ndarray:
        """Where a difference (design - baseline) is a win in the metric's direction."""
        return improves(self.metric, diff, 0.0)

    def table(self) -> Table:
        """One row per design: the share of worlds it wins, the difference's quantiles, what decides.

        Columns: ``design``, ``wins_share``, ``worlds`` (with a value),
        ``mean``, ``q05``, ``q25``, ``median``, ``q75``, ``q95`` (of the
        difference design - baseline over the worlds), ``decided_by`` (the
        assumption with the largest Kolmogorov-Smirnov statistic between winning
        and losing worlds; empty when the design wins or loses in every world),
        ``ks_statistic``, ``ks_pvalue``, ``margin_moved_by`` (the assumption
        with the largest absolute Spearman correlation with the difference) and
        ``spearman_rho``. Printed, the mean and quantiles of a share metric are in
        percentage points.
        """
        cols: dict[str, list] = {
            k: []
            for k in (
                "design",
                "wins_share",
                "worlds",
                "mean",
                *_quantile_names(),
                "decided_by",
                "ks_statistic",
                "ks_pvalue",
                "margin_moved_by",
                "spearman_rho",
            )
        }
        for design in self.designs:
            diff = self._diff(design)
            ok = diff[~np.isnan(diff)]
            cols["design"].append(design)
            cols["wins_share"].append(self.win_share(design))
            cols["worlds"].append(int(ok.size))
            cols["mean"].append(float(ok.mean()) if ok.size else math.nan)
            qs = np.quantile(ok, QUANTILES) if ok.size else [math.nan] * len(QUANTILES)
            for name, q in zip(_quantile_names(), qs, strict=True):
                cols[name].append(float(q))
            drivers = self.drivers(design)
            decided = _best(drivers, "ks_statistic")
            moved = _best(drivers, "spearman_rho", absolute=True)
            cols["decided_by"].append(decided["assumption"] if decided else "")
            cols["ks_statistic"].append(decided["ks_statistic"] if decided else math.nan)
            cols["ks_pvalue"].append(decided["ks_pvalue"] if decided else math.nan)
            cols["margin_moved_by"].append(moved["assumption"] if moved else "")
            cols["spearman_rho"].append(moved["spearman_rho"] if moved else math.nan)
        differences = ("mean", *_quantile_names())  # of a share: in percentage points
        return Table(
            cols, shown_as=dict.fromkeys(differences, "points") if is_share(self.metric) else {}
        )

    def drivers(self, design: str) -> Table:
        """How much each assumption decides ``design``'s verdict, most decisive first.

        Columns: ``assumption``; ``low`` and ``high``, the range of the design
        (else the baseline's); ``wins`` and ``losses``, the number of worlds in
        each group; ``ks_statistic`` and ``ks_pvalue`` of
        :func:`scipy.stats.ks_2samp` between the assumption's values in
        winning and losing worlds (nan when either group is empty);
        ``spearman_rho`` and ``spearman_pvalue`` of the assumption with the
        difference (nan when either is constant); ``wins_when``: ``"high"``
        when the design wins more often (or by more) with the assumption high,
        ``"low"`` otherwise. Only the assumptions that vary for the design or
        the baseline are listed.
        """
        from scipy import stats  # imported when first needed: `import gtmsim` stays quick

        diff = self._diff(design)
        ok = ~np.isnan(diff)
        won = self._wins(np.where(ok, diff, 0.0))
        wins, losses = ok & won, ok & ~won
        lower = better(self.metric) == "lower"  # then a larger difference is a loss
        rows = []
        for j, key in enumerate(self.assumptions):
            span = self.ranges[design].get(key) or self.ranges[self.baseline].get(key)
            if not span or span[0] == span[1]:
                continue  # the assumption does not vary for this pair
            u = self.points[:, j]
            ks, p = math.nan, math.nan
            if wins.any() and losses.any():
                test = stats.ks_2samp(u[wins], u[losses])
                ks, p = float(test.statistic), float(test.pvalue)
            rho, rho_p = math.nan, math.nan
            if ok.sum() > 2 and np.ptp(diff[ok]) > 0:
                corr = stats.spearmanr(u[ok], diff[ok])
                rho, rho_p = float(corr.statistic), float(corr.pvalue)
            rows.append(
                {
                    "assumption": key,
                    "low": span[0],
                    "high": span[1],
                    "wins": int(wins.sum()),
                    "losses": int(losses.sum()),
                    "ks_statistic": ks,
                    "ks_pvalue": p,
                    "spearman_rho": rho,
                    "spearman_pvalue": rho_p,
                    "wins_when": ""
                    if math.isnan(rho)
                    else ("high" if (rho > 0) != lower else "low"),
                }
            )
        rows.sort(key=lambda r: (_nan_last(r["ks_statistic"]), _nan_last(abs(r["spearman_rho"]))))
        names = [
            "assumption",
            "low",
            "high",
            "wins",
            "losses",
            "ks_statistic",
            "ks_pvalue",
            "spearman_rho",
            "spearman_pvalue",
            "wins_when",
        ]
        return Table({k: [r[k] for r in rows] for k in names})

    def decisive(self, design: str) -> str | None:
        """The assumption that decides ``design``'s verdict most, else the one that moves its margin most."""
        drivers = self.drivers(design)
        best = _best(drivers, "ks_statistic") or _best(drivers, "spearman_rho", absolute=True)
        return best["assumption"] if best else None

    def _diff(self, design: str) -> np.ndarray:
        if design not in self.differences:
            raise KeyError(f"unknown design {design!r}; the designs are {self.designs}")
        return self.differences[design]

    # ------------------------------------------------------------------ output

    def __str__(self) -> str:
        table = self.table()
        lines = [
            f"{len(self.designs)} design(s) against {self.baseline!r} in {self.samples} plausible "
            f"worlds ({self.method} over {len(self.assumptions)} assumption(s)), "
            f"{self.replications} paired replication(s) each"
            + (f" of {self.horizon_days:g} days" if self.horizon_days else "")
            + f"; metric {self.metric}",
            "",
            table.to_text(
                ["design", "wins_share", "q05", "median", "q95", "decided_by", "ks_pvalue"]
            ),
        ]
        for row in table.rows():
            design = row["design"]
            share = row["wins_share"]
            share_text = "no world" if math.isnan(share) else f"{share:.0%} of the worlds"
            lines += ["", f"{design} beats {self.baseline} in {share_text}."]
            drivers = self.drivers(design)
            if len(drivers):
                top = Table({k: v[:SHOWN_DRIVERS] for k, v in drivers.columns.items()})
                lines.append(
                    top.to_text(
                        ["assumption", "ks_statistic", "ks_pvalue", "spearman_rho", "wins_when"]
                    )
                )
            if len(drivers) > SHOWN_DRIVERS:
                lines.append(
                    f"... and {len(drivers) - SHOWN_DRIVERS} more: result.drivers({design!r}), "
                    "or --json"
                )
        if self.fixed:
            lines += ["", "declared as a single value (not sampled): " + ", ".join(self.fixed)]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the ensemble as plain lists and numbers (nan as None), for JSON."""
        return json_safe(
            {
                "baseline": self.baseline,
                "designs": self.designs,
                "metric": self.metric,
                "assumptions": self.assumptions,
                "fixed": self.fixed,
                "ranges": self.ranges,
                "method": self.method,
                "samples": self.samples,
                "replications": self.replications,
                "seed": self.seed,
                "horizon_days": self.horizon_days,
                "points": self.points.tolist(),
                "values": {d: v.tolist() for d, v in self.values.items()},
                "baseline_means": self.baseline_means.tolist(),
                "differences": {d: v.tolist() for d, v in self.differences.items()},
                "table": list(self.table().rows()),
                "drivers": {d: list(self.drivers(d).rows()) for d in self.designs},
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RobustResult:
        """The result :meth:`to_dict` wrote (without its ensemble)."""

        def array(values: Any, columns: int | None = None) -> np.ndarray:
            out = np.array(
                [[math.nan if v is None else v for v in row] for row in values]
                if columns is not None
                else [math.nan if v is None else v for v in values],
                dtype=float,
            )
            return out.reshape(-1, columns) if columns is not None else out

        k = len(data["assumptions"])
        return cls(
            baseline=data["baseline"],
            designs=list(data["designs"]),
            metric=data["metric"],
            assumptions=list(data["assumptions"]),
            fixed=list(data["fixed"]),
            ranges={d: {key: list(s) for key, s in r.items()} for d, r in data["ranges"].items()},
            points=array(data["points"], k),
            values={d: array(v, k) for d, v in data["values"].items()},
            baseline_means=array(data["baseline_means"]),
            differences={d: array(v) for d, v in data["differences"].items()},
            method=data["method"],
            samples=int(data["samples"]),
            replications=int(data["replications"]),
            seed=int(data["seed"]),
            horizon_days=data.get("horizon_days"),
        )

    def save(self, directory: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` as ``robust.json`` in ``directory``; returns its path."""
        path = Path(directory) / RESULT_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(self.to_dict(), indent=1, allow_nan=False))
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike) -> RobustResult:
        """Read the result :meth:`save` (or ``robust(..., out=directory)``) wrote."""
        path = Path(directory)
        path = path / RESULT_FILE if path.is_dir() else path
        if not path.is_file():
            raise ValueError(
                f"{path} does not exist: write a robust run there with "
                f"`gtmsim robust FILE... --out {path.parent}`"
            )
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is not a robust run's result ({exc})") from None


def robust(
    designs: Any,
    baseline: Any = None,
    *,
    samples: int = 32,
    replications: int = 2,
    metric: str = DEFAULT_METRIC,
    method: str = "lhs",
    seed: int | None = None,
    executor: Any = None,
    workers: int | None = None,
    out: str | os.PathLike | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> RobustResult:
    """Compare designs with a baseline in many plausible worlds of their declared assumptions.

    See the module's documentation for how the worlds are drawn and why the
    ranking's dependence on assumptions is found by Monte Carlo filtering.

    Parameters
    ----------
    designs
        The designs: scenarios, scenario files or scenario data, as a list or a
        mapping of name -> scenario.
    baseline
        The design to beat: a design's name or index in ``designs``, or a
        scenario or file of its own (default: the first design).
    samples
        Number of worlds; a power of 2 for ``method="sobol"``.
    replications
        Paired replications of every design in every world.
    metric
        The key metric (default: bookings net of sales and marketing cost).
    method
        ``"lhs"`` (a Latin hypercube, :class:`scipy.stats.qmc.LatinHypercube`)
        or ``"sobol"`` (scrambled Sobol' points, :class:`scipy.stats.qmc.Sobol`).
    seed
        The simulation seed of every run (default: the baseline's); it also
        seeds the sample of worlds.
    executor, workers, out, progress
        As for :func:`~gtmsim.experiment.run.run_experiment`: where runs go,
        and a folder where each run is saved as it finishes (a rerun with the
        same ``out`` resumes). The result is saved there as ``robust.json``.
    force
        Write into an ``out`` folder that holds another run's results.

    Returns
    -------
    RobustResult

    Raises
    ------
    ValueError
        For an unknown metric or method, a bad sample size, or an ``out``
        folder of another run (:class:`~gtmsim.results.storage.OutputInUse`).
    ScenarioError
        For a scenario that does not load, or a world a design rejects.
    """
    if unknown := unknown_metrics([metric]):
        raise ValueError(f"unknown metric {unknown[0]!r}; `gtmsim metrics` lists them")
    if better(metric) == "neither":
        raise ValueError(
            f"neither way is better for {metric!r}, so no design can beat another on it; "
            "pick a metric that says which way is better (`gtmsim metrics` lists them)"
        )
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a whole number >= 1, got {samples!r}")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ValueError(f"replications must be a whole number >= 1, got {replications!r}")
    plan = plan_worlds(designs, baseline, samples=samples, method=method, seed=seed)
    worlds = plan.worlds
    with output_lock(out) if out is not None else nullcontext():  # robust.json too
        if out is not None:
            check_output_dir(Path(out), [s.content_hash() for s in worlds.values()], force=force)
        ensemble = run_experiment(
            worlds, replications, executor=executor, workers=workers, out=out, progress=progress
        )
        return _result(ensemble, plan, metric, method, samples, replications, out)


def _result(ensemble, plan, metric, method, samples, replications, out) -> RobustResult:
    """The robust comparison of a finished ensemble of the plan's worlds (saved in ``out``)."""
    names, base = plan.names, plan.baseline
    data = ensemble.metric(metric)  # (designs x worlds, replications)
    rows = {
        name: data[[ensemble.design_index(_world(name, i)) for i in range(samples)]]
        for name in names
    }
    base_name = names[base]
    x = rows[base_name]
    differences = {n: _paired_means(rows[n] - x) for n in names if n != base_name}
    result = RobustResult(
        baseline=base_name,
        designs=[n for n in names if n != base_name],
        metric=metric,
        assumptions=plan.assumptions,
        fixed=plan.fixed,
        ranges=plan.ranges,
        points=plan.points,
        values=plan.values,
        baseline_means=_paired_means(x),
        differences=differences,
        method=method,
        samples=samples,
        replications=replications,
        seed=plan.seed,
        horizon_days=plan.worlds[_world(base_name, 0)].simulation.horizon_days,
        ensemble=ensemble,
    )
    if out is not None:
        result.save(out)
    return result


class WorldPlan(NamedTuple):
    """The worlds of a robust comparison, before anything runs (see :func:`plan_worlds`)."""

    names: list[str]
    """Design names, the baseline's included."""
    baseline: int
    """The baseline's index in ``names``."""
    assumptions: list[str]
    fixed: list[str]
    ranges: dict[str, dict[str, list[float]]]
    points: np.ndarray
    values: dict[str, np.ndarray]
    worlds: dict[str, Scenario]
    """Every design in every world, named ``"design @ world i"``, designs in the order of ``names``."""
    seed: int


def plan_worlds(
    designs: Any,
    baseline: Any = None,
    *,
    samples: int = 32,
    method: str = "lhs",
    seed: int | None = None,
) -> WorldPlan:
    """The scenario of every design in every sampled world (what :func:`robust` runs).

    Parameters are those of :func:`robust`; the fields of the answer are those
    of :class:`RobustResult` of the same name, and ``worlds``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    names, scenarios, base = _designs(designs, baseline, seed)
    assumptions, fixed, ranges = _union(names, scenarios)
    run_seed = scenarios[base].simulation.seed
    points = _unit_points(len(assumptions), samples, method, run_seed)
    worlds: dict[str, Scenario] = {}
    values: dict[str, np.ndarray] = {}
    for name, scenario in zip(names, scenarios, strict=True):
        own = scenario.assumptions()
        grid = np.empty((samples, len(assumptions)))
        for i, point in enumerate(points):
            at = {}
            for j, key in enumerate(assumptions):
                a = own.get(key)
                at[key] = _scale(a.low, a.high, point[j]) if a else _current(scenario, key)
                grid[i, j] = at[key]
            declared = {k: v for k, v in at.items() if k in own}
            worlds[_world(name, i)] = with_values(scenario, declared) if declared else scenario
        values[name] = grid
    return WorldPlan(names, base, assumptions, fixed, ranges, points, values, worlds, run_seed)


# --------------------------------------------------------------------------- helpers


def _designs(
    designs: Any, baseline: Any, seed: int | None
) -> tuple[list[str], list[Scenario], int]:
    """Names and scenarios (one seed for all, the baseline's) and the baseline's index."""
    if isinstance(designs, Mapping):
        items = list(designs.items())
    elif isinstance(designs, Sequence) and not isinstance(designs, str):
        items = [(None, d) for d in designs]
    else:
        items = [(None, designs)]
    loaded = [(n, s if isinstance(s, Scenario) else load_scenario(s)) for n, s in items]
    if not loaded:
        raise ValueError("robust needs at least one design to compare with the baseline")
    base: int | None = None
    if baseline is None:
        base = 0
    elif isinstance(baseline, int) and not isinstance(baseline, bool):
        if not 0 <= baseline < len(loaded):
            raise ValueError(f"baseline index {baseline} is not one of the {len(loaded)} designs")
        base = baseline
    elif isinstance(baseline, str):
        given = [n or s.name for n, s in loaded]
        base = given.index(baseline) if baseline in given else None
    if base is None:  # a scenario of its own, first
        scenario = baseline if isinstance(baseline, Scenario) else load_scenario(baseline)
        loaded.insert(0, (None, scenario))
        base = 0
    if len(loaded) < 2:
        raise ValueError("robust compares designs with a baseline: give at least two designs")
    if seed is None:
        seed = loaded[base][1].simulation.seed
    names, resolved = resolve_designs({n or s.name: s for n, s in _unique(loaded)}, seed)
    # resolve_designs copies the scenarios with the common seed; keep their declared ranges
    for copy, (_, original) in zip(resolved, loaded, strict=True):
        copy._assumptions = original.assumptions()
    return names, resolved, base


def _unique(items: list[tuple[str | None, Scenario]]) -> list[tuple[str, Scenario]]:
    """Design names made unique (``name#2``) before they key a mapping."""
    names: list[str] = []
    for name, scenario in items:
        names.append(unique_name(name or scenario.name, names))
    return [(n, s) for n, (_, s) in zip(names, items, strict=True)]


def _union(
    names: list[str], scenarios: list[Scenario]
) -> tuple[list[str], list[str], dict[str, dict[str, list[float]]]]:
    """The keys that vary in some design, those declared single-valued everywhere, and every range."""
    ranges = {
        name: {k: [a.low, a.high] for k, a in s.assumptions().items()}
        for name, s in zip(names, scenarios, strict=True)
    }
    keys = list(dict.fromkeys(k for r in ranges.values() for k in r))
    varying = [
        k for k in keys if any(r.get(k, (0, 0))[0] != r.get(k, (0, 0))[1] for r in ranges.values())
    ]
    return varying, [k for k in keys if k not in varying], ranges


def _unit_points(dimensions: int, samples: int, method: str, seed: int) -> np.ndarray:
    """``samples`` points of the unit cube (Latin hypercube or scrambled Sobol')."""
    if dimensions == 0:
        return np.zeros((samples, 0))
    unit = {f"u{j}": (0.0, 1.0) for j in range(dimensions)}
    points = design_points(unit, method, samples, seed)
    return np.array([list(p.values()) for p in points], dtype=float)


def _scale(low: float, high: float, u: float) -> float:
    """A unit-interval value on ``[low, high]``; whole numbers stay whole, each equally likely."""
    if isinstance(low, int) and isinstance(high, int):
        return low + min(math.floor(u * (high - low + 1)), high - low)
    return low + u * (high - low)


def _current(scenario: Scenario, key: str) -> float:
    """The number a scenario holds at a dotted key it declares no range for (nan if none)."""
    node: Any = scenario
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            return math.nan
    node = getattr(node, "value", node)  # a constant distribution
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else math.nan


def _world(design: str, i: int) -> str:
    return f"{design} @ world {i}"


def _paired_means(diff: np.ndarray) -> np.ndarray:
    """The mean over replications (columns) of each world, replications without a value left out."""
    counts = (~np.isnan(diff)).sum(axis=1)
    sums = np.nansum(diff, axis=1)
    return np.divide(sums, counts, out=np.full(diff.shape[0], math.nan), where=counts > 0)


def _quantile_names() -> list[str]:
    return ["median" if q == 0.5 else f"q{round(q * 100):02d}" for q in QUANTILES]


def _best(table: Table, column: str, absolute: bool = False) -> dict[str, Any] | None:
    """The row with the largest (absolute) finite value of ``column``, or None."""
    best, top = None, -math.inf
    for row in table.rows():
        v = row[column]
        v = abs(v) if absolute else v
        if math.isfinite(v) and v > top:
            best, top = row, v
    return best


def _nan_last(value: float) -> float:
    """A sort key: larger values first, nan after every number."""
    return math.inf if math.isnan(value) else -value
