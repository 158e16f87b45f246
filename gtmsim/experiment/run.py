"""run_experiment(): replications of several designs, paired, in parallel, resumable."""

from __future__ import annotations

import math
import os
import signal
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from gtmsim.experiment.ensemble import (
    ENGINE,
    Ensemble,
    Replication,
    environment,
    replication_details,
)
from gtmsim.experiment.executors import make_executor
from gtmsim.results.storage import atomic_write, check_output_dir, output_lock
from gtmsim.results.summary import mean_ci
from gtmsim.scenario.loader import load_scenario
from gtmsim.scenario.schema import Scenario
from gtmsim.simulate import simulate

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReplicationFailure:
    """A replication that raised: enough to reproduce it."""

    design: str
    scenario_hash: str
    seed: int
    replication: int
    error: str

    def __str__(self) -> str:
        return (
            f"design {self.design!r} (scenario {self.scenario_hash}, seed {self.seed}), "
            f"replication {self.replication}:\n{self.error}"
        )


class PrecisionNotReached(UserWarning):
    """``replications="auto"`` stopped at ``max_replications`` short of the precision asked for."""


class ExperimentError(RuntimeError):
    """Some replications failed; the others finished (and were saved, given ``out``)."""

    def __init__(self, failures: list[ReplicationFailure]) -> None:
        self.failures = failures
        super().__init__(
            f"{len(failures)} replication(s) failed:\n" + "\n".join(str(f) for f in failures)
        )


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt by :func:`raise_on_sigterm`'s handler."""


def raise_on_sigterm() -> None:
    """Make SIGTERM stop this process as Ctrl-C does: finished replications are kept.

    Only from the main thread (a signal handler's rule); the ``gtmsim`` command does it.
    """

    def handler(signum, frame):
        raise Terminated

    signal.signal(signal.SIGTERM, handler)


class ExperimentInterrupted(KeyboardInterrupt):
    """Interrupted: ``finished`` holds the replications that completed (also saved to ``out``).

    ``signal`` is the signal that stopped it: ``SIGINT`` (Ctrl-C) or ``SIGTERM``.
    """

    def __init__(self, finished: int, out: Path | None, signal: str = "SIGINT") -> None:
        self.finished, self.out, self.signal = finished, out, signal
        where = f"; rerun with out={str(out)!r} to resume" if out else ""
        super().__init__(f"interrupted after {finished} finished replication(s){where}")


def run_replication(task: tuple[dict, int]) -> Replication:
    """One replication of one scenario (runs in a worker; the scenario travels as JSON)."""
    scenario_json, replication = task
    scenario = Scenario.model_validate(scenario_json)
    result = simulate(scenario, replication)
    return Replication(
        result.metrics,
        result.weekly,
        result.lead_final_states,
        result.manifest["wall_time_s"],
        replication_details(result, scenario),
    )


class DamagedReplication(UserWarning):
    """A saved replication could not be read; it is run again and replaced."""


class ReplicationStore:
    """Finished replications on disk, one file each, keyed by scenario hash and number.

    Each file records the engine that made it (``ENGINE``); one made by other code, an
    earlier gtmsim say, counts as missing, so it is run again and replaced. So does a
    damaged one, with a :class:`DamagedReplication` warning that names it.
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        self.root = Path(directory) / "replications"

    def _path(self, scenario_hash: str, replication: int) -> Path:
        return self.root / scenario_hash / f"r{replication:06d}.npz"

    def get(self, scenario_hash: str, replication: int) -> Replication | None:
        path = self._path(scenario_hash, replication)
        if not path.exists():
            return None
        try:
            return self._read(path)
        except Exception as exc:  # a truncated or overwritten file: np.load says how
            warnings.warn(
                DamagedReplication(f"{path} is damaged ({exc}); running that replication again"),
                stacklevel=2,
            )
            return None

    @staticmethod
    def _read(path: Path) -> Replication | None:
        with np.load(path) as data:
            if "engine" not in data.files or str(data["engine"]) != ENGINE:
                return None
            metrics = dict(
                zip(data["metric_names"].tolist(), data["metric_values"].tolist(), strict=True)
            )
            states = dict(
                zip(data["state_names"].tolist(), data["state_counts"].tolist(), strict=True)
            )
            weekly = {k[len("weekly__") :]: data[k] for k in data.files if k.startswith("weekly__")}
            details = {
                k[len("details__") :]: data[k] for k in data.files if k.startswith("details__")
            }
            return Replication(metrics, weekly, states, float(data["wall_time_s"]), details)

    def put(self, scenario_hash: str, replication: int, run: Replication) -> None:
        path = self._path(scenario_hash, replication)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {
            "metric_names": np.array(list(run.metrics), dtype=str),
            "metric_values": np.array(list(run.metrics.values()), dtype=float),
            "state_names": np.array(list(run.states), dtype=str),
            "state_counts": np.array(list(run.states.values()), dtype=np.int64),
            "wall_time_s": np.array(run.wall_time_s),
            "engine": np.array(ENGINE),
            **{f"weekly__{k}": v for k, v in run.weekly.items()},
            **{f"details__{k}": v for k, v in run.details.items()},
        }
        atomic_write(path, lambda f: np.savez(f, **arrays), binary=True)


def resolve_designs(scenarios: Any, seed: int | None) -> tuple[list[str], list[Scenario]]:
    """Names and scenarios of the designs, every one with the same seed (paired runs)."""
    if isinstance(scenarios, Mapping) and not _looks_like_scenario(scenarios):
        items = list(scenarios.items())
    else:
        seq = (
            scenarios
            if isinstance(scenarios, Sequence) and not isinstance(scenarios, str)
            else [scenarios]
        )
        items = [(None, s) for s in seq]
    if not items:
        raise ValueError("run_experiment needs at least one scenario")
    loaded = [(name, s if isinstance(s, Scenario) else load_scenario(s)) for name, s in items]
    seed = loaded[0][1].simulation.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected a whole number >= 0, got {seed!r}")
    names: list[str] = []
    resolved: list[Scenario] = []
    for name, s in loaded:
        names.append(unique_name(name or s.name, names))
        resolved.append(
            s.model_copy(update={"simulation": s.simulation.model_copy(update={"seed": seed})})
        )
    return names, resolved


def unique_name(name: str, taken) -> str:
    """``name``, or ``name#2``, ``name#3``, ... if it is already among ``taken``."""
    out, k = name, 2
    while out in taken:
        out, k = f"{name}#{k}", k + 1
    return out


def _looks_like_scenario(mapping: Mapping) -> bool:
    return any(
        k in mapping for k in ("market", "simulation", "handoff", "sales", "extends", "name")
    )


def run_experiment(
    scenarios: Any,
    replications: int | str,
    *,
    seed: int | None = None,
    executor: Any = None,
    out: str | os.PathLike | None = None,
    progress: Progress | None = None,
    key_metric: str = "bookings",
    rel_half_width: float = 0.02,
    max_replications: int = 200,
    workers: int | None = None,
    force: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> Ensemble:
    """Replicate one or more designs with common random numbers.

    Parameters
    ----------
    scenarios
        A scenario (a :class:`Scenario`, a path, or a mapping), a list of them, or a
        mapping of design name -> scenario.
    replications
        How many replications per design, or ``"auto"``: keep adding replications
        until the 95% confidence interval of ``key_metric`` is within
        ``rel_half_width`` of its mean for every design (at most ``max_replications``;
        stopping there short of that precision warns with :class:`PrecisionNotReached`,
        and the manifest's ``precision_reached`` says which happened).
    seed
        One seed for every design (default: the first design's), so that
        replication ``r`` of every design sees the same leads and the same luck.
    executor
        ``None`` or ``"process"`` (a local process pool, ``workers`` processes,
        default every core), ``"serial"``, a Dask scheduler address
        (``"tcp://host:8786"``) or a ``distributed.Client``. Results are
        bit-identical whatever the executor.
    out
        A directory. Each replication is written there as soon as it finishes;
        calling again with the same ``out`` reuses them (an interrupted run
        resumes), and the ensemble is saved there at the end. A folder that
        holds another run's results is refused (:class:`OutputInUse`), and so is
        one another run is writing to (a lock file); half-written files of a
        killed run are removed, a damaged replication is run again.
    force
        Write into an ``out`` that holds another run's results: the files of that
        run this one would not overwrite are removed first.
    progress
        Called as ``progress(done, total)`` after every finished replication.
    overrides
        Dotted settings changed for every design (``{"sales.ae.headcount": 30}``, as
        ``--set`` does), applied over each design's own settings. They are kept in
        the manifest's ``overrides``, so that tables, reports and figure subtitles say
        what was changed (applying ones a design already has changes nothing).

    Returns
    -------
    Ensemble

    Raises
    ------
    ExperimentError
        Some replications raised; each is reported with its design, scenario hash,
        seed and replication number. The others finished (and are saved in ``out``).
    ExperimentInterrupted
        On Ctrl-C (or SIGTERM, see :func:`raise_on_sigterm`); finished replications,
        those that finish while the pool stops included, are kept in ``out``.
    OutputInUse
        For an ``out`` of another run (without ``force``) or in use by another run.
    """
    started = time.perf_counter()
    names, designs = resolve_designs(scenarios, seed)
    overrides = dict(overrides or {})
    if overrides:
        designs = [load_scenario(d.model_dump(mode="json"), overrides) for d in designs]
    hashes = [d.content_hash() for d in designs]
    with output_lock(out) if out is not None else nullcontext():
        if out is not None:
            check_output_dir(Path(out), hashes, force=force)
        pool = make_executor(executor, workers=workers)
        try:
            return _replicate(
                names, designs, hashes, replications, started, pool, out, progress,
                key_metric, rel_half_width, max_replications, overrides,
            )  # fmt: skip
        finally:  # a client opened for a scheduler address is closed, not left to exit
            if pool is not executor and hasattr(pool, "close"):
                pool.close()


def _replicate(
    names, designs, hashes, replications, started, pool, out, progress, key_metric,
    rel_half_width, max_replications, overrides,
) -> Ensemble:  # fmt: skip
    """The body of :func:`run_experiment`: ``out`` (if any) checked and locked, ``pool`` open."""
    payloads = [d.model_dump(mode="json") for d in designs]
    store = ReplicationStore(out) if out is not None else None
    runs: dict[tuple[int, int], Replication] = {}
    saved: set[tuple[int, int]] = set()  # runs that are on disk in ``out``

    def run_round(reps: list[int]) -> None:
        todo = []
        for d in range(len(designs)):
            for r in reps:
                cached = store.get(hashes[d], r) if store else None
                if cached is not None:
                    runs[(d, r)] = cached
                    saved.add((d, r))
                else:
                    todo.append((d, r))
        failures: list[ReplicationFailure] = []
        done = len(runs)
        total = done + len(todo)
        if progress and done:
            progress(done, total)

        def keep(i: int, result) -> None:
            nonlocal done
            d, r = todo[i]
            if isinstance(result, BaseException):
                error = "".join(traceback.format_exception(result)).rstrip()
                failures.append(
                    ReplicationFailure(names[d], hashes[d], designs[d].simulation.seed, r, error)
                )
                return
            runs[(d, r)] = result
            if store:
                store.put(hashes[d], r, result)
                saved.add((d, r))
            done += 1
            if progress:
                progress(done, total)

        results = pool.run(run_replication, [(payloads[d], r) for d, r in todo])
        try:
            for i, result in results:
                keep(i, result)
        except KeyboardInterrupt as exc:
            try:  # replications that finish while the pool shuts down are kept too
                for i, result in _after_interrupt(results):
                    keep(i, result)
            except KeyboardInterrupt:  # a second Ctrl-C: stop now
                pass
            finally:
                results.close()
                if store:  # one interrupted while it was being written
                    for d, r in runs.keys() - saved:
                        store.put(hashes[d], r, runs[(d, r)])
            stopped_by = "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"
            raise ExperimentInterrupted(len(runs), Path(out) if out else None, stopped_by) from None
        finally:
            results.close()
        if failures:
            raise ExperimentError(failures)

    reached = None  # whether "auto" reached its precision
    if replications == "auto":
        n = min(8, max_replications)
        run_round(list(range(n)))
        while True:
            needed = _replications_needed(runs, len(designs), n, key_metric, rel_half_width)
            reached = needed <= n
            if reached or n >= max_replications:
                break
            more = min(max_replications, max(needed, n + 2))
            run_round(list(range(n, more)))
            n = more
        if not reached:
            warnings.warn(
                PrecisionNotReached(
                    f"automatic replications stopped at the cap of {n} before the 95% interval "
                    f"of {key_metric} was within {rel_half_width:.0%} of its mean for every design"
                ),
                stacklevel=3,
            )
        reps = list(range(n))
    elif isinstance(replications, int) and replications >= 1:
        reps = list(range(replications))
        run_round(reps)
    else:
        raise ValueError(f'replications must be a positive integer or "auto", got {replications!r}')

    manifest = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "designs": names,
        "scenario_hashes": hashes,
        "seed": designs[0].simulation.seed,
        "replications": len(reps),
        "executor": pool.name,
        "workers": getattr(pool, "workers", None),
        "wall_time_s": time.perf_counter() - started,
        "key_metric": key_metric,
        "rel_half_width": rel_half_width if replications == "auto" else None,
        "precision_reached": reached,
        "overrides": overrides,
        "environment": environment(),
    }
    ensemble = Ensemble.from_replications(names, designs, reps, runs, manifest)
    if out is not None:
        ensemble.save(out)
    return ensemble


def _after_interrupt(results):
    """What an executor still hands back after an interrupt (see ``ProcessExecutor``)."""
    try:
        first = results.throw(KeyboardInterrupt())
    except (KeyboardInterrupt, StopIteration):  # it had stopped already, or has nothing
        return
    yield first
    try:
        yield from results
    except KeyboardInterrupt:  # re-raised once the running ones are in
        return


def _replications_needed(runs, n_designs: int, n: int, metric: str, target: float) -> int:
    """Replications for the CI half-width of ``metric`` to reach ``target`` x |mean|."""
    needed = n
    for d in range(n_designs):
        x = [runs[(d, r)].metrics.get(metric, math.nan) for r in range(n)]
        mean, half = mean_ci(x)
        if not math.isfinite(half) or mean == 0:
            continue
        ratio = half / (target * abs(mean))
        needed = max(needed, math.ceil(n * ratio * ratio))
    return needed
