"""Global sensitivity: Sobol' indices of a metric over ranges of scenario settings.

:func:`sobol_indices_of` estimates first- and total-order Sobol' indices of any
vectorised function with :func:`scipy.stats.sobol_indices` (Saltelli 2010);
:func:`sobol_sensitivity` applies it to the simulation, running every point of
each of scipy's evaluation batches in one
:func:`~gtmsim.experiment.run.run_experiment` call.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from gtmsim.experiment.executors import make_executor
from gtmsim.experiment.run import Progress, run_experiment
from gtmsim.experiment.sweep import is_int
from gtmsim.results.metrics import unknown_metrics
from gtmsim.results.table import Table
from gtmsim.scenario.loader import load_scenario
from gtmsim.scenario.schema import Scenario

Inputs = dict[str, np.ndarray]


def sobol_indices_of(
    func: Callable[[Inputs], Any],
    bounds: Mapping[str, tuple[float, float]],
    n: int,
    seed: int = 0,
    *,
    n_resamples: int = 200,
    level: float = 0.95,
) -> Table:
    """First- and total-order Sobol' indices of a vectorised function.

    Each input is uniform on its bounds and independent of the others. The
    function is evaluated at ``n * (d + 2)`` points for ``d`` inputs, in three
    calls (scipy's matrices A, B and the ``d`` mixes of them).

    Parameters
    ----------
    func
        Called with a dict of input name -> 1-d array (one value per point, all
        the same length ``N``); returns the output at each point, shape ``(N,)``.
        Every value must be finite.
    bounds
        Input name -> ``(lo, hi)`` with ``lo < hi``. When both are ints the
        input is discrete: every integer from ``lo`` to ``hi`` equally likely
        (:data:`scipy.stats.randint`); its values still arrive as floats.
    n
        Base sample size, a power of 2. The estimates' error shrinks roughly as
        ``1 / sqrt(n)``.
    seed
        Seeds the scrambled Sobol' sample and the bootstrap.
    n_resamples
        Bootstrap resamples for the confidence intervals (BCa); ``0`` skips the
        bootstrap and leaves the interval columns nan. The bootstrap
        re-evaluates only the estimator, never ``func``: with the default it
        takes well under a second up to ``n = 2048`` and grows as ``n**2``.
    level
        Confidence level of the intervals.

    Returns
    -------
    Table
        One row per input: ``input``, ``first_order``, ``total_order``,
        ``first_order_low``, ``first_order_high``, ``total_order_low``,
        ``total_order_high``. Estimates can stray slightly below 0 or above 1
        by sampling error; intervals are nan when the sample is too small or
        too degenerate to bootstrap.

    Raises
    ------
    ValueError
        For empty or bad bounds (naming the input), ``n`` not a power of 2, or
        ``func`` output of the wrong shape or not finite.
    """
    names = [str(k) for k in bounds]
    if not names:
        raise ValueError("bounds is empty: give at least one input and its (lo, hi)")
    _check_power_of_two(n)
    from scipy import stats  # imported when first needed: `import gtmsim` stays quick

    dists, discrete = [], []
    for name, spec in bounds.items():
        lo, hi = _bounds(str(name), spec)
        if is_int(lo) and is_int(hi):
            dists.append(stats.randint(int(lo), int(hi) + 1))
        else:
            dists.append(stats.uniform(loc=float(lo), scale=float(hi) - float(lo)))
        discrete.append(is_int(lo) and is_int(hi))

    def wrapped(x: np.ndarray) -> np.ndarray:
        points = x.shape[1]
        y = np.asarray(func(dict(zip(names, x, strict=True))), dtype=float)
        if y.shape != (points,):
            raise ValueError(
                f"func must return one value per point, shape ({points},); got shape {y.shape}"
            )
        if not np.isfinite(y).all():
            raise ValueError(f"func returned {int((~np.isfinite(y)).sum())} non-finite value(s)")
        return y

    result = stats.sobol_indices(func=wrapped, n=n, dists=dists, random_state=seed)
    first = np.atleast_1d(result.first_order)
    total = np.atleast_1d(result.total_order)
    nan = np.full(len(names), np.nan)
    first_ci, total_ci = (nan, nan), (nan, nan)
    if n_resamples > 0:
        first_ci, total_ci = _bootstrap(result, level, n_resamples, seed, len(names))
    return Table(
        {
            "input": names,
            "first_order": [float(v) for v in first],
            "total_order": [float(v) for v in total],
            "first_order_low": [float(v) for v in first_ci[0]],
            "first_order_high": [float(v) for v in first_ci[1]],
            "total_order_low": [float(v) for v in total_ci[0]],
            "total_order_high": [float(v) for v in total_ci[1]],
        }
    )


def _bootstrap(result, level: float, n_resamples: int, seed: int, d: int):
    """BCa intervals from scipy's ``SobolResult.bootstrap``, made reproducible.

    That method draws from numpy's global random state and takes no generator,
    so the state is seeded for the call and restored afterwards (not thread-safe).
    """
    state = np.random.get_state()  # noqa: NPY002 - scipy gives no other way to seed it
    try:
        np.random.seed(seed)  # noqa: NPY002
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # tiny or degenerate samples: the interval is nan
            boot = result.bootstrap(confidence_level=level, n_resamples=n_resamples)
    except (ValueError, FloatingPointError):
        nan = np.full(d, np.nan)
        return (nan, nan), (nan, nan)
    finally:
        np.random.set_state(state)  # noqa: NPY002

    def interval(r):
        ci = r.confidence_interval
        return np.atleast_1d(ci.low).astype(float), np.atleast_1d(ci.high).astype(float)

    return interval(boot.first_order), interval(boot.total_order)


def sobol_sensitivity(
    scenario: Scenario | str | os.PathLike | Mapping[str, Any],
    vary: Mapping[str, tuple[float, float]],
    metric: str,
    *,
    n: int = 64,
    replications: int = 1,
    seed: int = 0,
    executor: Any = None,
    progress: Progress | None = None,
    n_resamples: int = 200,
) -> Table:
    """Sobol' indices of one metric over ranges of scenario settings.

    Each setting is uniform on its range (ints on both ends: every integer
    equally likely). The metric at each point is its mean over
    ``replications``; every point uses the scenario's seed, so points share
    common random numbers. The simulation's own noise still counts as
    variance that no input explains: first-order indices then add up to less
    than 1, and more ``replications`` shrink that share.

    Cost: ``n * (len(vary) + 2)`` points times ``replications`` runs, fewer when
    points repeat (integer settings), since a repeated point gives the same
    result and runs once. scipy evaluates the points in three batches; each batch
    is one ``run_experiment`` call, designs named by point index.

    Parameters
    ----------
    scenario
        The base: a :class:`Scenario`, a scenario file or scenario data.
    vary
        Dotted key -> ``(lo, hi)``, ``lo < hi``. Both ints: an integer setting
        such as a headcount; write ``(1.0, 8.0)`` for a continuous range.
    metric
        Metric name (see ``gtmsim.METRICS``; per-channel and per-segment
        metrics such as ``"bookings.channel.referral"`` work too).
    n
        Base sample size, a power of 2.
    replications
        Replications averaged per point.
    seed
        Seeds the Sobol' sample and the bootstrap (the simulation uses the
        scenario's seed).
    executor
        Where replications run (see ``run_experiment``); one executor serves
        every batch.
    progress
        Called as ``progress(done, total)`` over all replications of all batches.
    n_resamples
        Bootstrap resamples for the confidence intervals; ``0`` skips them. The
        bootstrap does not rerun the simulation, so it is cheap.

    Returns
    -------
    Table
        As :func:`sobol_indices_of`: ``input`` (the dotted key),
        ``first_order``, ``total_order`` and their bootstrap intervals
        ``first_order_low``, ``first_order_high``, ``total_order_low``,
        ``total_order_high``.

    Raises
    ------
    ValueError
        For bad ranges (naming the key), ``n`` not a power of 2, an unknown
        metric, or a point where the metric has no value in any replication.
    ScenarioError
        For an unknown key or a value the schema rejects, before anything runs.
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ValueError(f"replications must be a positive integer, got {replications!r}")
    if unknown_metrics([metric]):
        raise ValueError(f"unknown metric {metric!r}; `gtmsim metrics` lists them")
    _check_power_of_two(n)
    keys = [str(k) for k in vary]
    if len(keys) < 2:
        raise ValueError(
            "Sobol indices need at least two settings to vary (one alone explains all of the "
            "variance); to see how one setting moves a metric, sweep it"
        )
    ranges = {key: _bounds(key, spec) for key, spec in zip(keys, vary.values(), strict=True)}
    integer = {key: is_int(lo) and is_int(hi) for key, (lo, hi) in ranges.items()}
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    data = base.model_dump(mode="json")
    for end in (0, 1):  # unknown keys and rejected values fail here, before any run
        load_scenario(data, {key: r[end] for key, r in ranges.items()})

    pool = make_executor(executor)
    cache: dict[tuple, float] = {}
    total = n * (len(keys) + 2) * replications
    done = 0

    def func(inputs: Inputs) -> np.ndarray:
        nonlocal done
        points = [
            tuple(
                _integer_in(v, *ranges[key]) if integer[key] else float(v)
                for key, v in zip(keys, (inputs[k][i] for k in keys), strict=True)
            )
            for i in range(len(inputs[keys[0]]))
        ]
        new = list(dict.fromkeys(p for p in points if p not in cache))
        done += (len(points) - len(new)) * replications
        if progress and len(new) < len(points):
            progress(done, total)
        if new:
            offset = done
            designs = {
                str(i): load_scenario(data, dict(zip(keys, p, strict=True)))
                for i, p in enumerate(new)
            }
            ensemble = run_experiment(
                designs,
                replications,
                executor=pool,
                progress=(lambda d, _t: progress(offset + d, total)) if progress else None,
            )
            values = ensemble.metric(metric)
            for i, p in enumerate(new):
                x = values[i][~np.isnan(values[i])]
                if x.size == 0:
                    raise ValueError(
                        f"{metric!r} has no value at {dict(zip(keys, p, strict=True))} in any of "
                        f"{replications} replication(s) (a rate with nothing to divide by?); "
                        "choose another metric, a longer horizon or more replications"
                    )
                cache[p] = float(x.mean())
            done += len(new) * replications
        return np.array([cache[p] for p in points])

    try:
        return sobol_indices_of(func, ranges, n, seed, n_resamples=n_resamples)
    finally:
        if executor is not pool and hasattr(pool, "close"):
            pool.close()


def _check_power_of_two(n: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1 or n & (n - 1):
        raise ValueError(f"n must be a power of 2 (balanced Sobol' points), got {n!r}")


def _bounds(name: str, spec: Any) -> tuple[float, float]:
    if not isinstance(spec, tuple | list) or len(spec) != 2:
        raise ValueError(f"{name}: give a range (lo, hi), got {spec!r}")
    lo, hi = spec
    for what, value in (("lo", lo), ("hi", hi)):
        if (
            not isinstance(value, numbers.Real)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{name}: {what} must be a finite number, got {value!r}")
    if not lo < hi:
        raise ValueError(f"{name}: lo ({lo!r}) must be less than hi ({hi!r})")
    return lo, hi


def _integer_in(value: float, lo: int, hi: int) -> int:
    """An integer setting from a sample value (scipy's discrete ppf can give lo - 1 at 0)."""
    return int(min(max(round(value), lo), hi))
