"""Calibration: fit scenario settings so that the simulated funnel matches observed figures.

:func:`load_observed` reads observed figures (metric name -> value, optional
weights) from a small TOML or CSV file. :func:`calibrate` searches the given
settings within their bounds for the values whose simulated means match the
observed values best, in the least-squares sense on relative errors.

Every evaluation runs the same replications (common random numbers), so the
objective is a deterministic function of the settings: two candidate settings
are compared on the same leads and the same luck. The search starts from a
Latin hypercube of points (one :func:`run_experiment` call), then runs
Nelder-Mead from the best of them, within the bounds, up to an evaluation budget.
"""

from __future__ import annotations

import csv
import inspect
import io
import math
import os
import tomllib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gtmsim.experiment.optimise import (
    as_scenario,
    check_bounds,
    current_value,
    is_known_metric,
    metric_array,
    metric_suggestion,
    variant,
)
from gtmsim.experiment.run import run_experiment
from gtmsim.results.metrics import METRICS
from gtmsim.results.summary import mean_ci
from gtmsim.results.table import Table
from gtmsim.scenario.errors import find_line
from gtmsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scipy.stats import qmc

Progress = Callable[[int, int], None]

NAN_PENALTY = 1e6  # objective contribution of a metric the simulation cannot compute
INITIAL_STEP = 0.15  # Nelder-Mead's first simplex, as a share of each range
XATOL = 1e-3  # Nelder-Mead's tolerance on the settings, as a share of each range
MISS = 0.10  # a fitted metric further than this (relative) from its target is reported


class CalibrationWarning(UserWarning):
    """A target the fit leaves far from its observed value (see ``CalibrationResult.missed``)."""


class Observed(dict):
    """Observed figures, metric name -> value, with the file's weights (if any).

    A plain ``dict[str, float]``; ``weights`` maps metric names to their weights
    (empty: every metric weighs 1) and ``source`` names the file read.
    """

    def __init__(
        self,
        values: Mapping[str, float],
        weights: Mapping[str, float] | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(values)
        self.weights: dict[str, float] = dict(weights or {})
        self.source = source


@dataclass(frozen=True)
class CalibrationResult:
    """What :func:`calibrate` found.

    Attributes
    ----------
    parameters
        The fitted value of each setting (dotted key -> value).
    scenario
        The scenario with the fitted values.
    fit
        A :class:`Table`, one row per observed metric: ``metric``, ``observed``,
        ``simulated`` (mean over the replications), ``ci_low``, ``ci_high`` (its
        95% interval), ``relative_error`` ((simulated - observed) / observed) and
        ``weight``.
    objective
        The weighted sum of squared relative errors at the fitted values.
    evaluations
        Distinct parameter settings simulated (each with every replication).
    history
        A :class:`Table` of every evaluation in order: ``evaluation``, ``stage``
        (``"start"`` for the space-filling design, ``"search"`` for Nelder-Mead),
        one column per setting, and ``objective``.
    replications, seed
        Replications per evaluation and the common seed.
    converged
        True if Nelder-Mead met its tolerances within the budget.
    message
        Nelder-Mead's termination message.
    bounds
        The bounds searched, dotted key -> ``(low, high)``.
    missed
        Observed metric -> why the fit leaves it more than 10% off (outside its
        95% interval too): either no setting tried within the bounds came near it
        (the target cannot be reached within the ranges given), or the ranges
        reach it but not together with the other targets. Each is also issued as
        a :class:`CalibrationWarning`.
    """

    parameters: dict[str, float | int]
    scenario: Scenario
    fit: Table
    objective: float
    evaluations: int
    history: Table
    replications: int
    seed: int
    converged: bool = False
    message: str = ""
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    missed: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        params = ", ".join(f"{k} = {v:.6g}" for k, v in self.parameters.items())
        lines = [
            f"fitted {params}; objective {self.objective:.4g} after "
            f"{self.evaluations} evaluations x {self.replications} replications"
        ]
        for row in self.fit.rows():
            lines.append(
                f"  {row['metric']}: observed {row['observed']:.6g}, simulated "
                f"{row['simulated']:.6g} ({row['relative_error']:+.2%})"
            )
        lines += [f"  warning: {reason}" for reason in self.missed.values()]
        return "\n".join(lines)


# --------------------------------------------------------------------------- observed


def load_observed(path: str | os.PathLike[str]) -> Observed:
    """Read observed funnel figures from a TOML or CSV file.

    TOML: a table ``[observed]`` of metric name -> value and an optional table
    ``[weights]`` of metric name -> weight::

        [observed]
        mqls = 1100
        mql_acceptance_rate = 0.52
        "first_contact_rate.<5min" = 0.55

        [weights]
        mqls = 2

    CSV (any other suffix than ``.toml``): a header ``metric,value`` or
    ``metric,value,weight``, then one metric a line; blank lines and lines
    starting with ``#`` are skipped, an empty weight means 1.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    Observed
        A ``dict`` of metric name -> observed value, whose ``weights`` attribute
        holds the weights given in the file.

    Raises
    ------
    ValueError
        The file cannot be read or parsed, a metric name is not a known metric
        (the message lists the known ones and suggests the closest), a metric is
        given twice, or a value or weight is not a finite number (weights must
        also be >= 0). Every problem is reported with the file and its line or key.
    """
    name = os.fspath(path)
    try:
        raw = Path(name).read_bytes()
    except OSError as exc:
        raise ValueError(f"{name}: cannot read observed figures: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{name}: not UTF-8 text") from None
    if name.lower().endswith(".toml"):
        values, weights, problems = _read_toml(name, text)
    else:
        values, weights, problems = _read_csv(name, text)
    if not values and not problems:
        problems.append(f"{name}: no observed figures")
    if problems:
        raise ValueError(_problem_report(problems))
    return Observed(values, weights, source=name)


def _read_toml(name: str, text: str) -> tuple[dict, dict, list[str]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{name}: not valid TOML: {exc}") from None
    problems: list[str] = []
    for key in data:
        if key not in ("observed", "weights"):
            problems.append(
                f"{name}, line {find_line(text, (key,)) or '?'}: unexpected key {key!r}; "
                "put observed figures in a table [observed] and weights in [weights]"
            )
    tables = {}
    for table in ("observed", "weights"):
        got = data.get(table, {})
        if not isinstance(got, dict):
            problems.append(f"{name}: {table} must be a table [{table}], got {got!r}")
            got = {}
        tables[table] = _flatten(got)
    if "observed" not in data:
        problems.append(f"{name}: no table [observed] of metric name -> value")

    def where(table: str, metric: str) -> str:
        # a dotted metric may be one quoted key or nested keys; the key's own line
        # comes after its table's, so the later of the two guesses is the better one
        guesses = [find_line(text, (table, metric)), find_line(text, (table, *metric.split(".")))]
        line = max((g for g in guesses if g is not None), default=None)
        return f"{name}, line {line or '?'}, {table}.{metric}"

    values, weights = {}, {}
    for metric, value in tables["observed"].items():
        if (p := _check_entry(metric, value, "value")) is not None:
            problems.append(f"{where('observed', metric)}: {p}")
        else:
            values[metric] = float(value)
    for metric, weight in tables["weights"].items():
        if metric not in tables["observed"]:
            problems.append(
                f"{where('weights', metric)}: a weight for {metric!r}, which is not observed"
            )
        elif (p := _check_entry(metric, weight, "weight")) is not None:
            problems.append(f"{where('weights', metric)}: {p}")
        else:
            weights[metric] = float(weight)
    return values, weights, problems


def _read_csv(name: str, text: str) -> tuple[dict, dict, list[str]]:
    rows = [
        (number, row)
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1)
        if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")
    ]
    if not rows:
        return {}, {}, []
    number, header = rows[0]
    header = [h.strip().lower() for h in header]
    if header not in (["metric", "value"], ["metric", "value", "weight"]):
        raise ValueError(
            f"{name}, line {number}: the header must be metric,value or metric,value,weight; "
            f"got {','.join(header)}"
        )
    values, weights, problems, seen = {}, {}, [], {}
    for number, row in rows[1:]:
        where = f"{name}, line {number}"
        if len(row) not in (2, len(header)) or len(row) > len(header):
            problems.append(f"{where}: expected {len(header)} fields, got {len(row)}")
            continue
        metric = row[0].strip()
        if metric in seen:
            problems.append(f"{where}: {metric!r} is given twice (first on line {seen[metric]})")
            continue
        seen[metric] = number
        value = _parse_number(row[1])
        if (p := _check_entry(metric, value, "value", raw=row[1])) is not None:
            problems.append(f"{where}: {p}")
            continue
        values[metric] = value
        if len(row) == 3 and row[2].strip():
            weight = _parse_number(row[2])
            if (p := _check_entry(metric, weight, "weight", raw=row[2])) is not None:
                problems.append(f"{where}: {p}")
            else:
                weights[metric] = weight
    return values, weights, problems


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"mqls": {"channel": {"website": 3}}}`` -> ``{"mqls.channel.website": 3}``."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _parse_number(text: str) -> Any:
    try:
        return float(text.strip())
    except ValueError:
        return text


def _check_entry(metric: str, value: Any, what: str, raw: str | None = None) -> str | None:
    """What is wrong with one observed metric and its value or weight, if anything."""
    if not is_known_metric(metric):
        return f"unknown metric {metric!r}{metric_suggestion(metric) or '.'} {_known_metrics()}"
    shown = raw.strip() if raw is not None else repr(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"the {what} of {metric} must be a number, got {shown}"
    if not math.isfinite(value):
        return f"the {what} of {metric} must be finite, got {shown}"
    if what == "weight" and value < 0:
        return f"the weight of {metric} must be >= 0, got {shown}"
    return None


def _known_metrics() -> str:
    return (
        "Known metrics: "
        + ", ".join(METRICS)
        + " (counts also as <metric>.channel.<name> and <metric>.segment.<name>)"
    )


def _problem_report(problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems with the observed figures:\n" + "\n".join(
        f"- {p}" for p in problems
    )


# --------------------------------------------------------------------------- calibrate


def calibrate(
    scenario: Any,
    observed: Mapping[str, float] | str | os.PathLike[str],
    parameters: Mapping[str, tuple[float, float]],
    *,
    weights: Mapping[str, float] | None = None,
    replications: int = 4,
    seed: int | None = None,
    executor: Any = None,
    max_evaluations: int = 60,
    starts: int | None = None,
    progress: Progress | None = None,
) -> CalibrationResult:
    """Fit settings of a scenario so that its simulated metrics match observed figures.

    Minimises the weighted sum of squared relative errors
    ``sum_m w_m ((simulated_m - observed_m) / observed_m) ** 2`` (the absolute
    error where ``observed_m`` is 0) of the mean over ``replications`` common-
    random-number replications. The search evaluates a Latin hypercube of
    ``starts`` points (plus the scenario's own values, if within the bounds) in
    one experiment, then runs bounded Nelder-Mead from the best of them (restarted
    with a smaller simplex when it converges early) until ``max_evaluations`` is
    spent or a restart no longer improves the fit. Evaluations are cached by their
    parameter values.

    Parameters
    ----------
    scenario
        A :class:`Scenario`, the path of a scenario file, or a scenario mapping.
    observed
        Metric name -> observed value, or the path of a file for
        :func:`load_observed` (whose weights are used unless ``weights`` is given).
    parameters
        Dotted key -> ``(low, high)`` for each numeric setting to fit, e.g.
        ``{"marketing.scoring.mql_threshold": (0.3, 0.7)}``. Integer settings (an
        ``int`` in the scenario) are rounded to integers.
    weights
        Metric name -> weight >= 0 (default 1 each; metrics not named weigh 1).
    replications
        Replications per evaluation; every evaluation uses the same ones.
    seed
        The common seed (default: the scenario's).
    executor
        Where replications run, as for :func:`gtmsim.run_experiment`.
    max_evaluations
        The most parameter settings to simulate, start points included.
    starts
        Latin hypercube points to start from (default ``max(5, 3 * d + 1)`` for
        ``d`` settings, at most half the budget).
    progress
        Called as ``progress(evaluations, max_evaluations)`` after each evaluation.

    Returns
    -------
    CalibrationResult
        The fitted values and scenario, the fit per metric, the objective and the
        evaluation history.

    Raises
    ------
    ValueError
        Unknown or non-numeric settings, bad bounds or values the scenario
        rejects, unknown metrics, non-finite observed values, bad weights or a
        budget too small for the search.
    """
    base = as_scenario(scenario)
    if isinstance(observed, str | os.PathLike):
        observed = load_observed(observed)
    if not isinstance(observed, Mapping) or not observed:
        raise ValueError("observed must be a non-empty mapping of metric name -> value, or a file")
    obs = _check_observed(observed)
    w = _check_weights(obs, weights if weights is not None else getattr(observed, "weights", {}))
    keys, lo, hi, integer = _check_parameters(base, parameters)
    if not isinstance(replications, int) or replications < 1:
        raise ValueError(f"replications must be a positive integer, got {replications!r}")
    if not isinstance(max_evaluations, int) or isinstance(max_evaluations, bool):
        raise ValueError(f"max_evaluations must be an integer, got {max_evaluations!r}")
    d = len(keys)
    if starts is None:
        starts = min(max(5, 3 * d + 1), max(2, max_evaluations // 2))
    if not isinstance(starts, int) or starts < 1:
        raise ValueError(f"starts must be a positive integer, got {starts!r}")
    if max_evaluations < starts + d + 1:
        raise ValueError(
            f"max_evaluations must be at least starts + parameters + 1 = {starts + d + 1} "
            f"(a start design and one Nelder-Mead simplex), got {max_evaluations!r}"
        )
    seed = base.simulation.seed if seed is None else int(seed)
    payload = base.model_dump(mode="json")
    metrics = list(obs)
    span = hi - lo

    def to_values(u: np.ndarray) -> tuple:
        x = lo + np.clip(u, 0.0, 1.0) * span
        return tuple(
            int(round(v)) if is_int else float(f"{v:.12g}")
            for v, is_int in zip(x, integer, strict=True)
        )

    cache: dict[tuple, dict[str, Any]] = {}
    order: list[tuple] = []
    stages: list[str] = []

    def run(points: list[tuple], stage: str) -> None:
        todo = [p for p in dict.fromkeys(points) if p not in cache]
        if not todo:
            return
        designs = {
            f"e{len(order) + i}": variant(payload, dict(zip(keys, p, strict=True)))
            for i, p in enumerate(todo)
        }
        ensemble = run_experiment(designs, replications, seed=seed, executor=executor)
        data = {m: metric_array(ensemble, m) for m in metrics}
        for i, p in enumerate(todo):
            sims = {m: data[m][i] for m in metrics}
            cache[p] = {"samples": sims, "objective": _objective(sims, obs, w)}
            order.append(p)
            stages.append(stage)
            if progress is not None:
                progress(len(order), max_evaluations)

    # space-filling start, plus the scenario's own values when they are inside the bounds
    sampler = _latin_hypercube(d, seed)
    start_points = [to_values(u) for u in sampler.random(starts)]
    own = [current_value(base, k) for k in keys]
    if all(v is not None and a <= v <= b for v, a, b in zip(own, lo, hi, strict=True)):
        start_points.append(to_values((np.array(own, dtype=float) - lo) / span))
    run(start_points, "start")

    def best_point() -> tuple:
        return min(order, key=lambda p: (cache[p]["objective"], order.index(p)))

    def objective(u: np.ndarray) -> float:
        p = to_values(u)
        if p not in cache:
            run([p], "search")
        return cache[p]["objective"]

    from scipy import optimize as sp_optimize  # imported when needed: `import gtmsim` stays quick

    # Nelder-Mead from the best point so far; when it converges with budget left,
    # restart it there with a simplex half the size (a stalled simplex is the
    # usual failure of Nelder-Mead on a noisy objective)
    message, converged = "the start design used the whole budget", False
    step = INITIAL_STEP
    while True:
        start = best_point()
        before = cache[start]["objective"]
        if before == 0:
            message, converged = "a point fits exactly", True
            break
        budget = max_evaluations - len(order)
        if budget < d + 1 or step < XATOL:
            break
        u0 = (np.array(start, dtype=float) - lo) / span
        res = sp_optimize.minimize(
            objective,
            u0,
            method="Nelder-Mead",
            bounds=[(0.0, 1.0)] * d,
            options={
                "initial_simplex": _simplex(u0, step),
                "maxfev": budget,
                "xatol": XATOL,
                "fatol": 1e-9,
            },
        )
        message, converged = str(res.message), bool(res.success)
        if not res.success or cache[best_point()]["objective"] >= before:
            break
        step /= 2

    best = best_point()
    fitted = dict(zip(keys, best, strict=True))
    fit = _fit_table(cache[best]["samples"], obs, w)
    history_cols: dict[str, list] = {
        "evaluation": list(range(1, len(order) + 1)),
        "stage": stages,
    }
    for j, k in enumerate(keys):
        history_cols[k] = [p[j] for p in order]
    history_cols["objective"] = [cache[p]["objective"] for p in order]
    missed = _missed(fit, {m: [mean_ci(cache[p]["samples"][m])[0] for p in order] for m in obs})
    for reason in missed.values():
        warnings.warn(reason, CalibrationWarning, stacklevel=2)
    return CalibrationResult(
        parameters=fitted,
        scenario=variant(payload, fitted),
        fit=fit,
        objective=cache[best]["objective"],
        evaluations=len(order),
        history=Table(history_cols),
        replications=replications,
        seed=seed,
        converged=converged,
        message=message,
        bounds={k: (float(a), float(b)) for k, a, b in zip(keys, lo, hi, strict=True)},
        missed=missed,
    )


def _missed(fit: Table, tried: Mapping[str, list[float]]) -> dict[str, str]:
    """Targets the fit leaves more than :data:`MISS` off and outside its interval, and why:
    out of reach of every setting tried, or reached only at the expense of other targets."""
    out = {}
    for row in fit.rows():
        m, target, error = row["metric"], row["observed"], row["relative_error"]
        inside = row["ci_low"] <= target <= row["ci_high"]
        if math.isfinite(error) and (abs(error) <= MISS or inside):
            continue
        means = [x for x in tried[m] if math.isfinite(x)]
        left = f"{m} is left at {error:+.0%} of its observed {target:.6g}"
        if not means:
            out[m] = f"{m} has no value in any setting tried (no denominator in the runs)"
        elif target < min(means) or target > max(means):
            out[m] = (
                f"{left}: it cannot be reached within the ranges given (every setting tried "
                f"gives {min(means):.6g} to {max(means):.6g}); widen a range or --vary a "
                "setting that moves it"
            )
        else:
            out[m] = (
                f"{left}: the ranges reach it, but not together with the other targets "
                "(weights decide which target gives way)"
            )
    return out


def _check_observed(observed: Mapping[str, Any]) -> dict[str, float]:
    problems = []
    for metric, value in observed.items():
        if (p := _check_entry(str(metric), value, "value")) is not None:
            problems.append(f"observed {metric}: {p}")
    if problems:
        raise ValueError(_problem_report(problems))
    return {str(k): float(v) for k, v in observed.items()}


def _check_weights(obs: Mapping[str, float], weights: Mapping[str, Any]) -> dict[str, float]:
    problems = []
    for metric, weight in (weights or {}).items():
        if metric not in obs:
            problems.append(f"weight for {metric!r}, which is not observed (observed: {list(obs)})")
        elif (p := _check_entry(metric, weight, "weight")) is not None:
            problems.append(p)
    if problems:
        raise ValueError(_problem_report(problems))
    w = {m: float((weights or {}).get(m, 1.0)) for m in obs}
    if not any(w.values()):
        raise ValueError("every weight is 0: nothing to fit")
    return w


def _check_parameters(
    base: Scenario, parameters: Mapping[str, Any]
) -> tuple[list[str], np.ndarray, np.ndarray, list[bool]]:
    if not isinstance(parameters, Mapping) or not parameters:
        raise ValueError(
            "parameters must be a non-empty mapping of dotted key -> (low, high), e.g. "
            '{"marketing.scoring.mql_threshold": (0.3, 0.7)}'
        )
    keys, lows, highs, integer = [], [], [], []
    payload = base.model_dump(mode="json")
    for key, bounds in parameters.items():
        is_int = isinstance(current_value(base, key), int)
        a, b = check_bounds(key, bounds, integer=is_int)
        if is_int:
            a, b = float(math.ceil(a - 1e-9)), float(math.floor(b + 1e-9))
        for end in (a, b):
            value = int(end) if is_int else end
            variant(payload, {key: value}, what=f"{key} = {value!r} (a bound)")
        keys.append(key)
        lows.append(a)
        highs.append(b)
        integer.append(is_int)
    return keys, np.array(lows), np.array(highs), integer


def _simplex(u0: np.ndarray, step: float) -> np.ndarray:
    """A right-angled simplex at ``u0`` with sides ``step``, inside the unit cube."""
    points = [u0]
    for i in range(u0.size):
        v = u0.copy()
        v[i] = v[i] + step if v[i] + step <= 1.0 else v[i] - step
        points.append(v)
    return np.array(points)


def _latin_hypercube(d: int, seed: int) -> qmc.LatinHypercube:
    """A seeded Latin hypercube sampler (scipy renamed ``seed`` to ``rng`` in 1.15)."""
    from scipy.stats import qmc

    rng = np.random.default_rng(seed)
    if "rng" in inspect.signature(qmc.LatinHypercube).parameters:
        return qmc.LatinHypercube(d, rng=rng)
    return qmc.LatinHypercube(d, seed=rng)  # pragma: no cover - scipy < 1.15


def _scale(observed: float) -> float:
    return abs(observed) if observed != 0 else 1.0


def _objective(
    samples: Mapping[str, np.ndarray], obs: Mapping[str, float], w: Mapping[str, float]
) -> float:
    total = 0.0
    for m, target in obs.items():
        mean = mean_ci(samples[m])[0]
        if not math.isfinite(mean):
            total += w[m] * NAN_PENALTY
        else:
            total += w[m] * ((mean - target) / _scale(target)) ** 2
    return float(total)


def _fit_table(
    samples: Mapping[str, np.ndarray], obs: Mapping[str, float], w: Mapping[str, float]
) -> Table:
    cols: dict[str, list] = {
        k: []
        for k in (
            "metric",
            "observed",
            "simulated",
            "ci_low",
            "ci_high",
            "relative_error",
            "weight",
        )
    }
    for m, target in obs.items():
        mean, half = mean_ci(samples[m])
        cols["metric"].append(m)
        cols["observed"].append(target)
        cols["simulated"].append(mean)
        cols["ci_low"].append(mean - half)
        cols["ci_high"].append(mean + half)
        cols["relative_error"].append((mean - target) / _scale(target))
        cols["weight"].append(w[m])
    return Table(cols)
