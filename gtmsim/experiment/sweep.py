"""Parameter sweeps: many variants of one scenario, run together with common random numbers.

:func:`design_points` lays out the points (a full grid, a Latin hypercube or a
scrambled Sobol' sample); :func:`sweep` builds one scenario per point and runs
them all in a single :func:`~gtmsim.experiment.run.run_experiment` call, so that
replication ``r`` of every point sees the same leads and the same luck.
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gtmsim.experiment.compare import KEY_METRICS
from gtmsim.experiment.ensemble import Ensemble
from gtmsim.experiment.run import Progress, run_experiment, unique_name
from gtmsim.results.metrics import metric_range, seeks_higher, unknown_metrics
from gtmsim.results.summary import mean_interval
from gtmsim.results.table import Table
from gtmsim.scenario.loader import load_scenario
from gtmsim.scenario.schema import Scenario

DESIGNS = ("grid", "lhs", "sobol")


@dataclass(frozen=True)
class _Range:
    """A numeric range of one key; ``steps`` is None when not given."""

    key: str
    lo: float
    hi: float
    steps: int | None
    integer: bool


def design_points(
    vary: Mapping[str, tuple | list],
    design: str = "grid",
    n: int | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The points of a sweep: one dict of dotted key -> value per point.

    Parameters
    ----------
    vary
        Dotted scenario key -> what to try. A tuple ``(lo, hi, steps)`` is a
        numeric range; a list (or ``range``) gives explicit values (``grid`` only).
        For ``lhs`` and ``sobol`` a range may be written ``(lo, hi)``; ``steps``
        is ignored there. When ``lo`` and ``hi`` are both ints the key is an
        integer (a headcount): its values are ints. Write ``(1.0, 8.0, 8)`` for a
        float range with integer ends.
    design
        ``"grid"``: the Cartesian product of every key's values, ``steps``
        evenly spaced values from ``lo`` to ``hi`` inclusive (``steps = 1``: just
        ``lo``; integer ranges are rounded, with a :class:`RoundedLevels` warning
        that names the key and the values run, and repeated values dropped).
        ``"lhs"``: a Latin hypercube of ``n`` points
        (:class:`scipy.stats.qmc.LatinHypercube`). ``"sobol"``: the first ``n``
        points of a scrambled Sobol' sequence (:class:`scipy.stats.qmc.Sobol`);
        ``n`` must be a power of 2 to keep the sequence balanced. Both are scaled
        to ``[lo, hi]``; integer ranges are rounded so that every integer from
        ``lo`` to ``hi`` is equally likely.
    n
        Number of points for ``lhs`` and ``sobol``; not used by ``grid``.
    seed
        Seeds the ``lhs`` and ``sobol`` samples (the same seed gives the same points).

    Returns
    -------
    list of dict
        One dict per point, keys in the order of ``vary``; values are plain
        Python ``int``, ``float`` or whatever the explicit lists hold.

    Raises
    ------
    ValueError
        Naming the key, for a range with ``lo > hi``, ``steps < 1``, a
        non-numeric bound or an explicit list outside ``grid``; or for an unknown
        ``design``, a missing ``n``, or a ``sobol`` ``n`` that is not a power of 2.
    """
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {', '.join(map(repr, DESIGNS))}, got {design!r}")
    if not vary:
        raise ValueError("vary is empty: give at least one dotted key to vary")
    specs = {str(key): _parse_spec(str(key), spec, design) for key, spec in vary.items()}
    if design == "grid":
        if n is not None:
            raise ValueError("n is for design='lhs' or 'sobol'; a grid's size is set by its steps")
        levels = [
            _grid_levels(spec) if isinstance(spec, _Range) else list(spec)
            for spec in specs.values()
        ]
        return [dict(zip(specs, combo, strict=True)) for combo in itertools.product(*levels)]

    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"design={design!r} needs n, a positive number of points, got {n!r}")
    n = int(n)
    d = len(specs)
    from scipy.stats import qmc  # imported when first needed: `import gtmsim` stays quick

    if design == "sobol":
        if n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            raise ValueError(
                f"design='sobol' needs n to be a power of 2 (balanced Sobol' points), "
                f"got {n}; use {lower} or {lower * 2}"
            )
        unit = qmc.Sobol(d, scramble=True, seed=seed).random(n)
    else:
        unit = qmc.LatinHypercube(d, seed=seed).random(n)
    columns = [_scale(spec, unit[:, j]) for j, spec in enumerate(specs.values())]
    return [dict(zip(specs, row, strict=True)) for row in zip(*columns, strict=True)]


def _parse_spec(key: str, spec: Any, design: str) -> _Range | list:
    if isinstance(spec, tuple):
        if len(spec) == 3:
            lo, hi, steps = spec
        elif len(spec) == 2 and design != "grid":
            (lo, hi), steps = spec, None
        else:
            want = "(lo, hi, steps)" if design == "grid" else "(lo, hi) or (lo, hi, steps)"
            raise ValueError(f"{key}: a range is {want}, got {spec!r}")
        for what, value in (("lo", lo), ("hi", hi)):
            if not is_number(value) or not math.isfinite(value):
                raise ValueError(f"{key}: {what} must be a finite number, got {value!r}")
        if lo > hi:
            raise ValueError(f"{key}: lo ({lo!r}) is greater than hi ({hi!r})")
        if steps is not None or design == "grid":
            if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
                raise ValueError(f"{key}: steps must be an integer, got {steps!r}")
            if steps < 1:
                raise ValueError(f"{key}: steps must be at least 1, got {steps!r}")
        integer = is_int(lo) and is_int(hi)
        return _Range(
            key,
            int(lo) if integer else float(lo),
            int(hi) if integer else float(hi),
            None if steps is None else int(steps),
            integer,
        )
    if isinstance(spec, str | bytes | Mapping) or not isinstance(spec, Sequence | np.ndarray):
        raise ValueError(
            f"{key}: give a range (lo, hi, steps) as a tuple, or explicit values as a list; "
            f"got {spec!r}"
        )
    if design != "grid":
        raise ValueError(
            f"{key}: explicit values are for design='grid' only; design={design!r} needs a "
            "range (lo, hi)"
        )
    values = [_plain(v) for v in spec]
    if not values:
        raise ValueError(f"{key}: the list of values is empty")
    return values


class RoundedLevels(UserWarning):
    """An integer range's evenly spaced steps were not whole numbers and were rounded."""


def _grid_levels(spec: _Range) -> list:
    assert spec.steps is not None
    levels = np.linspace(spec.lo, spec.hi, spec.steps)
    if not spec.integer:
        return [float(v) for v in levels]
    rounded = list(dict.fromkeys(int(v) for v in np.round(levels)))
    if not np.array_equal(levels, np.round(levels)):
        span = spec.hi - spec.lo
        exact = [k + 1 for k in range(1, min(span, 20) + 1) if span % k == 0]
        warnings.warn(
            RoundedLevels(
                f"{spec.key}: {spec.steps} evenly spaced steps from {spec.lo} to {spec.hi} "
                f"are not whole numbers ({', '.join(f'{v:g}' for v in levels)}); running "
                f"{', '.join(map(str, rounded))}. Steps that give whole numbers: "
                f"{', '.join(map(str, exact))}"
            ),
            stacklevel=3,
        )
    return rounded


def _scale(spec: _Range, u: np.ndarray) -> list:
    """Map unit-interval samples onto a key's range."""
    if spec.integer:
        k = np.floor(u * (spec.hi - spec.lo + 1)).astype(np.int64)
        return [int(v) for v in spec.lo + np.minimum(k, spec.hi - spec.lo)]
    return [float(v) for v in spec.lo + u * (spec.hi - spec.lo)]


def is_number(value: Any) -> bool:
    """A real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    """An integer that is not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _plain(value: Any) -> Any:
    """numpy scalars as Python scalars, so that scenarios and tables hold plain values."""
    return value.item() if isinstance(value, np.generic) else value


def point_name(point: Mapping[str, Any]) -> str:
    """A design name for a point, e.g. ``"handoff.sla_hours=4, sales.sdr.headcount=10"``."""
    return ", ".join(f"{key}={_format(value)}" for key, value in point.items())


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


@dataclass
class SweepResult:
    """The points of a sweep and the ensemble of their replications.

    Attributes
    ----------
    points
        One dict of dotted key -> value per point, in the order of
        ``ensemble.designs`` (design ``i`` is point ``i``).
    ensemble
        Every replication of every point (common random numbers across points).
    metrics
        The default metrics of :meth:`table` (``None``: the key metrics of
        :func:`gtmsim.compare` that the runs produced).
    """

    points: list[dict[str, Any]]
    ensemble: Ensemble
    metrics: list[str] | None = field(default=None)

    @property
    def keys(self) -> list[str]:
        """The varied dotted keys, in order."""
        return list(self.points[0]) if self.points else []

    def table(self, metrics: list[str] | None = None, level: float = 0.95) -> Table:
        """One row per metric and point: the mean with its confidence interval.

        Parameters
        ----------
        metrics
            Metric names (default: those given to :func:`sweep`, else the key
            metrics of :func:`gtmsim.compare`).
        level
            Confidence level of the interval over replications: a share's stays in
            [0, 1], a count's not below 0 (see :meth:`Ensemble.summary
            <gtmsim.experiment.ensemble.Ensemble.summary>`).

        Returns
        -------
        Table
            Columns ``design``, one per varied key, ``metric``, ``mean``,
            ``ci_low``, ``ci_high`` and ``n`` (replications with a value).
            Rows are grouped by metric, points in order within each metric.

        Raises
        ------
        KeyError
            For a metric the runs did not produce.
        """
        names = metrics or self.metrics or [m for m in KEY_METRICS if m in self.ensemble.metrics]
        keys = self.keys
        cols: dict[str, list] = {"design": [], **{k: [] for k in keys}}
        cols.update({k: [] for k in ("metric", "mean", "ci_low", "ci_high", "n")})
        for name in names:
            data = self.ensemble.metric(name)
            for i, point in enumerate(self.points):
                x = data[i][~np.isnan(data[i])]
                mean, low, high = mean_interval(x, level, metric_range(name))
                cols["design"].append(self.ensemble.designs[i])
                for k in keys:
                    cols[k].append(point[k])
                cols["metric"].append(name)
                cols["mean"].append(mean)
                cols["ci_low"].append(low)
                cols["ci_high"].append(high)
                cols["n"].append(int(x.size))
        return Table(cols)

    def best(self, metric: str, maximize: bool | None = None) -> dict[str, Any]:
        """The point with the best mean of a metric: the highest, or the lowest for a
        metric where lower is better (:func:`gtmsim.results.metrics.better`).

        Parameters
        ----------
        metric
            Metric name.
        maximize
            ``True`` for the highest mean, ``False`` for the lowest; ``None`` (the
            default) goes the metric's better way, and is needed for a metric where
            neither way is better.

        Returns
        -------
        dict
            A copy of the point (dotted key -> value), usable as overrides of
            :func:`gtmsim.load_scenario`. Ties go to the earlier point. The
            point's design name is :func:`point_name` of it (unless two points
            were equal), its row is in :meth:`table`.

        Raises
        ------
        KeyError
            For a metric the runs did not produce.
        ValueError
            When no point has a value of the metric, or ``maximize`` is None for a
            metric where neither way is better.
        """
        data = self.ensemble.metric(metric)
        maximize = seeks_higher(metric, maximize)
        count = (~np.isnan(data)).sum(axis=1)
        means = np.full(len(count), np.nan)
        np.divide(np.nansum(data, axis=1), count, out=means, where=count > 0)
        if np.isnan(means).all():
            raise ValueError(f"no point has a value of {metric!r}")
        i = int(np.nanargmax(means) if maximize else np.nanargmin(means))
        return dict(self.points[i])


def sweep(
    scenario: Scenario | str | os.PathLike | Mapping[str, Any],
    vary: Mapping[str, tuple | list],
    *,
    design: str = "grid",
    n: int | None = None,
    replications: int | str = 5,
    metrics: list[str] | None = None,
    seed: int | None = None,
    executor: Any = None,
    out: str | os.PathLike | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> SweepResult:
    """Run variants of a scenario over a grid or a sample of settings.

    Every point becomes one design, named like
    ``"handoff.sla_hours=4, sales.sdr.headcount=10"``, and all of them run in a
    single :func:`~gtmsim.experiment.run.run_experiment` call: replication ``r``
    of every point uses the same random streams, so differences between points
    are paired (common random numbers).

    Parameters
    ----------
    scenario
        The base: a :class:`Scenario`, a scenario file or scenario data.
    vary
        Dotted key -> range ``(lo, hi, steps)`` or list of values; see
        :func:`design_points`.
    design, n
        ``"grid"``, ``"lhs"`` (``n`` points) or ``"sobol"`` (``n`` a power of 2);
        see :func:`design_points`.
    replications
        Replications per point, or ``"auto"`` (see ``run_experiment``).
    metrics
        Default metrics of :meth:`SweepResult.table`.
    seed
        The experiment's seed, shared by every point (default: the scenario's);
        it also seeds the ``lhs`` and ``sobol`` samples.
    executor, out, progress, force
        Passed to ``run_experiment``: where replications run, a directory that
        keeps them (a rerun resumes; another run's folder is refused unless
        ``force``), and ``progress(done, total)``.

    Returns
    -------
    SweepResult

    Raises
    ------
    ValueError
        For a bad range or design (naming the key; see :func:`design_points`).
    ScenarioError
        For an unknown key or a value the schema rejects, naming the key;
        raised before anything runs.
    """
    unknown = unknown_metrics(metrics or [])
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; `gtmsim metrics` lists them")
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    sample_seed = base.simulation.seed if seed is None else seed
    points = design_points(vary, design, n, sample_seed)
    data = base.model_dump(mode="json")
    designs: dict[str, Scenario] = {}
    for point in points:
        designs[unique_name(point_name(point), designs)] = load_scenario(data, point)
    ensemble = run_experiment(
        designs,
        replications,
        seed=seed,
        executor=executor,
        out=out,
        progress=progress,
        force=force,
    )
    return SweepResult(points, ensemble, list(metrics) if metrics else None)
