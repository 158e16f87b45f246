"""optimise(): the best value of one setting for one metric, under common random numbers.

Every candidate value is run on the same replications (the same seed, replication
``r`` of every candidate sharing its leads and its luck), so candidates are
compared on paired data and the grid comparison is fair even though each
replication is noisy. A round of candidates is one :func:`run_experiment` call.

Integer settings (head counts, attempts) are searched exhaustively when the range
is small, otherwise on a coarse grid that is then refined around the best value
down to single integers. Real-valued settings are searched on a coarse grid and
then on finer grids between the best value's neighbours: a grid is robust to the
noise and the plateaus that make golden-section or gradient searches fragile here.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np

from gtmsim.experiment.ensemble import Ensemble
from gtmsim.experiment.run import run_experiment
from gtmsim.experiment.sweep import is_number
from gtmsim.results.metrics import METRICS, seeks_higher
from gtmsim.results.summary import mean_ci
from gtmsim.results.table import Table
from gtmsim.scenario.errors import ScenarioError
from gtmsim.scenario.loader import load_scenario
from gtmsim.scenario.schema import Scenario

Progress = Callable[[int, int], None]

MAX_EXHAUSTIVE = 25  # integer ranges up to this many values are evaluated in full
GRID_POINTS = 9  # candidates per round of a grid search


@dataclass(frozen=True)
class OptimiseResult:
    """What :func:`optimise` found.

    Attributes
    ----------
    key
        The dotted setting that was optimised.
    metric
        The metric that was optimised.
    maximize
        True if larger values of ``metric`` are better.
    best_value
        The best candidate value of ``key`` (an ``int`` for integer settings).
    best_mean, best_ci
        Mean of ``metric`` at ``best_value`` over the replications, and its 95%
        confidence interval ``(low, high)``.
    current_value
        The scenario's own value of ``key`` (``None`` when the setting is off).
    current_mean, current_ci
        Mean of ``metric`` under the scenario as given, and its 95% interval.
    difference, difference_ci
        Mean paired difference ``best - current`` of ``metric`` over the shared
        replications, and its 95% confidence interval.
    candidates
        A :class:`Table` of every evaluated candidate, sorted by value: ``value``,
        ``mean``, ``ci_low``, ``ci_high``, ``n`` (replications with a value) and
        ``round`` (1 for the coarse grid, then each refinement).
    scenario
        The scenario with ``key`` set to ``best_value``.
    replications, seed
        Replications per candidate and the common seed.
    ensembles
        The :class:`Ensemble` of each round (every metric of every candidate);
        the design ``"current"`` of the first round is the scenario as given.
    """

    key: str
    metric: str
    maximize: bool
    best_value: float | int
    best_mean: float
    best_ci: tuple[float, float]
    current_value: float | int | None
    current_mean: float
    current_ci: tuple[float, float]
    difference: float
    difference_ci: tuple[float, float]
    candidates: Table
    scenario: Scenario
    replications: int
    seed: int
    ensembles: list[Ensemble] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        sense = "max" if self.maximize else "min"
        return (
            f"{self.key} = {self.best_value!r} ({sense} {self.metric}: {self.best_mean:.6g}, "
            f"95% CI {self.best_ci[0]:.6g} .. {self.best_ci[1]:.6g}); versus the current "
            f"{self.current_value!r}: {self.difference:+.6g} "
            f"(95% CI {self.difference_ci[0]:+.6g} .. {self.difference_ci[1]:+.6g}), "
            f"{len(self.candidates)} candidates x {self.replications} paired replications"
        )


def optimise(
    scenario: Any,
    key: str,
    bounds: tuple[float, float],
    metric: str,
    *,
    maximize: bool | None = None,
    integer: bool | None = None,
    replications: int = 8,
    candidates: int | Sequence[float] | None = None,
    refinements: int = 2,
    seed: int | None = None,
    executor: Any = None,
    progress: Progress | None = None,
) -> OptimiseResult:
    """Find the value of one setting that gives a metric its best mean.

    Parameters
    ----------
    scenario
        A :class:`Scenario`, the path of a scenario file, or a scenario mapping.
    key
        Dotted key of a numeric setting, e.g. ``"marketing.scoring.mql_threshold"``,
        ``"handoff.sla_hours"`` or ``"sales.sdr.headcount"`` (see
        ``docs/scenario-reference.md``).
    bounds
        ``(low, high)``: the range searched, both ends included.
    metric
        The metric to optimise (see :data:`gtmsim.METRICS`); its mean over the
        replications is compared.
    maximize
        True to look for the largest mean, False for the smallest; None (the
        default) goes the metric's better way (:func:`gtmsim.results.metrics.better`:
        the smallest ``first_response_hours_median``), and is needed for a metric
        where neither way is better.
    integer
        Search integers only. Default: inferred from the scenario's current value
        (an ``int`` means an integer setting).
    replications
        Replications per candidate; every candidate uses the same ones.
    candidates
        Candidates per round (default 9), or an explicit sequence of values to
        evaluate in a single round, without refinement.
    refinements
        Rounds of finer grids after the coarse grid, for real-valued settings.
        Integer searches refine until neighbouring integers have been compared.
    seed
        The common seed (default: the scenario's).
    executor
        Where replications run, as for :func:`gtmsim.run_experiment`.
    progress
        Called as ``progress(done, total)`` after each finished replication;
        ``total`` grows as refinement rounds are added.

    Returns
    -------
    OptimiseResult
        The best value, its mean and confidence interval, every evaluated
        candidate, and the paired difference against the scenario as given.

    Raises
    ------
    ValueError
        The key is unknown or not a number, the bounds are not two finite numbers
        with ``low < high`` (or hold no integer), a bound is a value the scenario
        rejects, the metric does not exist, ``maximize`` is None for a metric
        where neither way is better, or ``replications`` < 2.

    Examples
    --------
    >>> result = optimise(scenario, "handoff.sla_hours", (0.5, 48),  # doctest: +SKIP
    ...                   "first_response_hours_median")  # lower is better
    >>> result.best_value, result.difference_ci  # doctest: +SKIP
    """
    base = as_scenario(scenario)
    current = current_value(base, key)
    check_metric_name(metric)
    maximize = seeks_higher(metric, maximize)
    if integer is None:
        integer = isinstance(current, int)
    lo, hi = check_bounds(key, bounds, integer=bool(integer))
    if not isinstance(replications, int) or replications < 2:
        raise ValueError(
            f"replications must be an integer >= 2 (for a confidence interval), got {replications!r}"
        )
    if not isinstance(refinements, int) or refinements < 0:
        raise ValueError(f"refinements must be a non-negative integer, got {refinements!r}")
    payload = base.model_dump(mode="json")
    seed = base.simulation.seed if seed is None else int(seed)
    convert: Callable[[float], float | int] = int if integer else float

    explicit: list[float | int] | None = None
    points = GRID_POINTS
    if isinstance(candidates, Sequence | np.ndarray) and not isinstance(candidates, str):
        explicit = _explicit_candidates(key, list(candidates), lo, hi, integer=bool(integer))
    elif candidates is not None:
        if not isinstance(candidates, Integral) or isinstance(candidates, bool) or candidates < 3:
            raise ValueError(
                f"candidates must be a number of grid points >= 3 or a sequence of values, "
                f"got {candidates!r}"
            )
        points = int(candidates)
    first = explicit if explicit is not None else _grid(lo, hi, points, integer=bool(integer))
    for end in (first[0], first[-1]):
        variant(payload, {key: convert(end)}, what=f"{key} = {end!r} (within the bounds)")

    samples: dict[float | int, np.ndarray] = {}
    rounds: dict[float | int, int] = {}
    ensembles: list[Ensemble] = []
    current_samples: np.ndarray | None = None
    done_before = 0

    def evaluate(values: list[float | int], with_current: bool) -> None:
        nonlocal current_samples, done_before
        designs: dict[str, Scenario] = {}
        twin = None
        if with_current and current is not None:
            twin = next((v for v in values if _same(v, current)), None)
        if with_current and twin is None:
            designs["current"] = base
        for v in values:
            designs[f"{key}={v!r}"] = variant(payload, {key: v})
        offset = done_before

        def forward(done: int, total: int) -> None:
            if progress is not None:
                progress(offset + done, offset + total)

        ensemble = run_experiment(
            designs, replications, seed=seed, executor=executor, progress=forward
        )
        done_before += len(designs) * replications
        ensembles.append(ensemble)
        data = metric_array(ensemble, metric)
        names = list(designs)
        for v in values:
            samples[v] = data[names.index(f"{key}={v!r}")]
            rounds[v] = len(ensembles)
        if with_current:
            current_samples = samples[twin] if twin is not None else data[names.index("current")]

    evaluate(first, with_current=True)
    if explicit is None:
        refine = math.inf if integer else refinements
        n_round = 0
        while n_round < refine:
            n_round += 1
            best = _best(samples, maximize)
            left, right = _neighbours(sorted(samples), best, lo, hi)
            new = [
                v
                for v in _grid(left, right, points, integer=bool(integer))
                if not any(_same(v, w) for w in samples)
            ]
            if not new:
                break
            evaluate(new, with_current=False)

    best = _best(samples, maximize)
    assert current_samples is not None
    best_mean, best_half = mean_ci(samples[best])
    cur_mean, cur_half = mean_ci(current_samples)
    diff = samples[best] - current_samples
    diff_mean, diff_half = mean_ci(diff[~np.isnan(diff)])
    order = sorted(samples)
    stats = [mean_ci(samples[v]) for v in order]
    table = Table(
        {
            "value": order,
            "mean": [m for m, _ in stats],
            "ci_low": [m - h for m, h in stats],
            "ci_high": [m + h for m, h in stats],
            "n": [int(np.count_nonzero(~np.isnan(samples[v]))) for v in order],
            "round": [rounds[v] for v in order],
        }
    )
    return OptimiseResult(
        key=key,
        metric=metric,
        maximize=maximize,
        best_value=best,
        best_mean=best_mean,
        best_ci=(best_mean - best_half, best_mean + best_half),
        current_value=current,
        current_mean=cur_mean,
        current_ci=(cur_mean - cur_half, cur_mean + cur_half),
        difference=diff_mean,
        difference_ci=(diff_mean - diff_half, diff_mean + diff_half),
        candidates=table,
        scenario=variant(payload, {key: best}),
        replications=replications,
        seed=seed,
        ensembles=ensembles,
    )


# --------------------------------------------------------------------------- search


def _grid(lo: float, hi: float, points: int, *, integer: bool) -> list[float | int]:
    """``points`` evenly spaced values from lo to hi (every integer, if few enough)."""
    if integer:
        a, b = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
        if b - a + 1 <= max(points, MAX_EXHAUSTIVE):
            return list(range(a, b + 1))
        return sorted({int(round(x)) for x in np.linspace(a, b, points)})
    return [_tidy(float(x)) for x in np.linspace(lo, hi, points)]


def _tidy(x: float) -> float:
    """Drop floating-point dust from grid values (0.30000000000000004 -> 0.3)."""
    return float(f"{x:.12g}")


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _neighbours(values: list, best: float, lo: float, hi: float) -> tuple[float, float]:
    """The evaluated values either side of ``best`` (the bounds at either end)."""
    i = values.index(best)
    left = values[i - 1] if i > 0 else max(lo, best)
    right = values[i + 1] if i + 1 < len(values) else min(hi, best)
    return left, right


def _best(samples: Mapping[float | int, np.ndarray], maximize: bool) -> float | int:
    """The value with the best mean; ties go to the smallest value."""
    means = {v: mean_ci(x)[0] for v, x in samples.items()}
    finite = {v: m for v, m in means.items() if math.isfinite(m)}
    if not finite:
        raise ValueError(
            "the metric has no value in any replication of any candidate "
            "(a rate with no denominator?): nothing to optimise"
        )
    target = max(finite.values()) if maximize else min(finite.values())
    return min(v for v, m in finite.items() if m == target)


def _explicit_candidates(
    key: str, values: Sequence[Any], lo: float, hi: float, *, integer: bool
) -> list[float | int]:
    out: list[float | int] = []
    for v in values:
        if not is_number(v) or not math.isfinite(v):
            raise ValueError(f"candidate {v!r} for {key} is not a finite number")
        if integer and float(v) != int(v):
            raise ValueError(f"candidate {v!r} for the integer setting {key} is not an integer")
        if not lo <= v <= hi:
            raise ValueError(f"candidate {v!r} for {key} is outside the bounds ({lo}, {hi})")
        v = int(v) if integer else float(v)
        if not any(_same(v, w) for w in out):
            out.append(v)
    if not out:
        raise ValueError(f"no candidates given for {key}")
    return sorted(out)


# --------------------------------------------------------------------------- helpers
# (shared with gtmsim.experiment.calibrate)


def as_scenario(scenario: Any) -> Scenario:
    """A :class:`Scenario` from a scenario, a path or a mapping."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def flat_settings(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every leaf of nested scenario data by its dotted key."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        dotted = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(flat_settings(v, dotted + "."))
        else:
            out[dotted] = v
    return out


def current_value(scenario: Scenario, key: str) -> float | int | None:
    """The scenario's value of a numeric dotted setting (None: the setting is off).

    Raises
    ------
    ValueError
        The key does not exist (with a suggestion) or is not a number.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(
            f"the setting must be a dotted key such as sales.sdr.headcount, got {key!r}"
        )
    settings = flat_settings(scenario.model_dump(mode="json"))
    if key not in settings:
        close = difflib.get_close_matches(key, list(settings), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"{key!r} is not a setting of scenario {scenario.name!r}{hint} "
            "(see docs/scenario-reference.md for every key)"
        )
    value = settings[key]
    if value is None or (is_number(value)):
        return value
    raise ValueError(f"{key} is {value!r}, not a number: only numeric settings can be searched")


def check_bounds(key: str, bounds: Any, *, integer: bool) -> tuple[float, float]:
    """``(low, high)`` as floats, or a ValueError saying what is wrong with them."""
    if isinstance(bounds, str | bytes) or not isinstance(bounds, Sequence) or len(bounds) != 2:
        raise ValueError(f"bounds for {key} must be a pair (low, high), got {bounds!r}")
    lo, hi = bounds
    for end in (lo, hi):
        if not is_number(end) or not math.isfinite(end):
            raise ValueError(f"bounds for {key} must be finite numbers, got {bounds!r}")
    lo, hi = float(lo), float(hi)
    if not lo < hi:
        raise ValueError(f"bounds for {key} must have low < high, got ({lo:g}, {hi:g})")
    if integer and math.ceil(lo - 1e-9) > math.floor(hi + 1e-9):
        raise ValueError(f"bounds ({lo:g}, {hi:g}) for the integer setting {key} hold no integer")
    return lo, hi


def variant(payload: Mapping[str, Any], overrides: Mapping[str, Any], what: str = "") -> Scenario:
    """The scenario ``payload`` with dotted ``overrides``; a ValueError if it is rejected."""
    try:
        return load_scenario(payload, overrides)
    except ScenarioError as exc:
        label = what or ", ".join(f"{k} = {v!r}" for k, v in overrides.items())
        raise ValueError(f"the scenario rejects {label}:\n{exc}") from None


def metric_array(ensemble: Ensemble, metric: str) -> np.ndarray:
    """``ensemble.metric(metric)``, or a ValueError naming the closest metrics."""
    if metric in ensemble.metrics:
        return ensemble.metric(metric)
    close = difflib.get_close_matches(metric, ensemble.metrics, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise ValueError(f"no metric {metric!r} in the results{hint} (see gtmsim.METRICS)")


def is_known_metric(name: str) -> bool:
    """Whether ``name`` is a metric of :data:`METRICS`, or one split by channel or segment."""
    if name in METRICS:
        return True
    for split in (".channel.", ".segment."):
        head, sep, tail = name.partition(split)
        if sep and tail and head in METRICS:
            return True
    return False


def metric_suggestion(name: str) -> str:
    """``"; did you mean 'x'?"`` for the closest known metric name, or ``""``."""
    close = difflib.get_close_matches(name, list(METRICS), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_metric_name(name: Any) -> None:
    """A ValueError, with a suggestion, unless ``name`` is a known metric."""
    if not isinstance(name, str) or not is_known_metric(name):
        raise ValueError(
            f"unknown metric {name!r}{metric_suggestion(str(name))} "
            "(see gtmsim.METRICS for every metric)"
        )
