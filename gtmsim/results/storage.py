"""Writing results to a folder: whole files only, and never over another run's results."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from gtmsim.results.table import Table
from gtmsim.scenario.explain import explain

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


def json_safe(value: Any) -> Any:
    """A value as JSON can carry it: NaN and infinity (a metric without a value) as
    null, numpy scalars and arrays as Python numbers and lists, tuples as lists;
    through dicts and lists."""
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def atomic_write(path: Path, write, binary: bool = False) -> None:
    """Write a file so that it is either complete or absent (never half-written)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text(path: Path, text: str) -> None:
    """Atomically write a text file."""
    atomic_write(path, lambda f: f.write(text))


def _pyarrow():
    """The pyarrow module, or None: Parquet output is optional, never a dependency."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401  (the submodule must be imported to be used)
    except ImportError:
        return None
    return pyarrow


def write_parquet(path: Path, table: Table) -> None:
    """Atomically write a table as Parquet (needs pyarrow); nan becomes null, as in the CSV."""
    pa = _pyarrow()
    if pa is None:
        raise ImportError("Parquet output needs pyarrow: pip install pyarrow")
    data = pa.table({k: _arrow_column(pa, v) for k, v in table.columns.items()})
    atomic_write(path, lambda f: pa.parquet.write_table(data, f), binary=True)


def _arrow_column(pa, values: list):
    # A metric without a value in every replication is all nan: still a float column.
    floats = bool(values) and all(isinstance(v, float) for v in values)
    return pa.array(values, type=pa.float64() if floats else None, from_pandas=True)


class OutputInUse(ValueError):
    """The output folder holds the results of a different run, or another run is writing there."""


# What a run writes into its folder. ``run.json`` names the run's designs from the
# moment it starts (``manifest.json`` only once it has finished); ``.gtmsim.lock`` is
# held while it runs.
RUN_FILE = "run.json"
LOCK_FILE = ".gtmsim.lock"
OUTPUT_FILES = (
    RUN_FILE,
    "manifest.json",
    "ensemble.npz",
    "replications.csv",
    "weekly.csv",
    "replications.parquet",
    "weekly.parquet",
    "summary.csv",
    "comparison.csv",
    "robust.json",
)
OUTPUT_PATTERNS = ("bridge_*.csv",)
REPLICATIONS, SCENARIOS = "replications", "scenarios"


def check_output_dir(out: Path, scenario_hashes: list[str], *, force: bool = False) -> None:
    """Refuse a folder that holds a different run's results, unless ``force``; create it.

    A folder with the same designs is the same run: it is resumed. With ``force``,
    the other run's files that this one would not overwrite are removed first (its
    tables, manifest, resolved scenarios and the replications of designs this run
    does not have), so that no file in the folder belongs to another run. The
    designs are then written to ``run.json``, so that a run interrupted before its
    manifest exists is recognised too. Creating the folder here, before anything
    runs, turns a path that cannot be a folder into an error now rather than after
    the simulations.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    previous = _previous_hashes(out)
    if previous is not None and previous != scenario_hashes:
        if not force:
            raise OutputInUse(
                f"{out}/ holds the results of another run (different designs or settings, or "
                "an earlier version of gtmsim); "
                "choose another folder, or add --force to write there anyway"
            )
        remove_previous_run(out, keep=scenario_hashes)
    write_text(out / RUN_FILE, json.dumps({"scenario_hashes": scenario_hashes}, indent=1))


def _previous_hashes(out: Path) -> list[str] | None | bool:
    """The designs of the run a folder holds; None when it holds none; False when it holds
    one that cannot be read (treated as another run)."""
    for name, read in (
        (RUN_FILE, lambda meta: meta["scenario_hashes"]),
        ("manifest.json", lambda meta: meta["manifest"]["scenario_hashes"]),
    ):
        if (out / name).exists():
            try:
                return read(json.loads((out / name).read_text()))
            except (ValueError, KeyError, TypeError):
                return False
    return None


def remove_previous_run(out: Path, keep: list[str] = ()) -> None:
    """Remove the files a run wrote into ``out``, except the replications of ``keep``
    (scenario hashes). Other files in the folder are left alone."""
    for name in OUTPUT_FILES:
        (out / name).unlink(missing_ok=True)
    for pattern in OUTPUT_PATTERNS:
        for path in out.glob(pattern):
            path.unlink()
    shutil.rmtree(out / SCENARIOS, ignore_errors=True)
    if (out / REPLICATIONS).is_dir():
        for folder in (out / REPLICATIONS).iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)


def remove_stray_temporaries(out: Path) -> list[Path]:
    """Remove the half-written files (``.NAME.XXXX.tmp``) a killed write left in ``out``."""
    stray = [p for p in Path(out).rglob(".*.tmp") if p.is_file()]
    for path in stray:
        path.unlink(missing_ok=True)
    return stray


_held: dict[Path, list] = {}  # folder -> [open lock file, depth]: a process may nest


@contextmanager
def output_lock(out: str | os.PathLike):
    """Hold ``out``'s lock file while a run writes there; refuse a second concurrent run.

    The lock is the operating system's (``flock``): it goes away with the process that
    held it, even a killed one, so a lock file left behind never blocks a new run.
    Taking and releasing it also remove the stray temporary files of a killed write
    (a worker stopped mid-write when a run is interrupted). Nested uses
    in one process share the lock. Without ``fcntl`` (Windows) nothing is locked.

    Raises
    ------
    OutputInUse
        When another process holds the lock.
    """
    path = Path(out).resolve()
    if path in _held:
        _held[path][1] += 1
        try:
            yield
        finally:
            _held[path][1] -= 1
        return
    path.mkdir(parents=True, exist_ok=True)
    f = open(path / LOCK_FILE, "a+")  # noqa: SIM115 (kept open while the lock is held)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip() or "another process"
                raise OutputInUse(
                    f"{Path(out)}/ is in use: another gtmsim run ({holder}) is writing there; "
                    "wait for it to finish, or choose another folder"
                ) from None
        f.seek(0)
        f.truncate()
        f.write(f"process {os.getpid()}")
        f.flush()
        remove_stray_temporaries(path)
        _held[path] = [f, 1]
        try:
            yield
        finally:  # the run's workers are gone by now: what they left half-written goes too
            del _held[path]
            remove_stray_temporaries(path)
    finally:
        f.close()  # releases the lock


def write_outputs(out: Path, ensemble, summary: Table, comparison: Table, bridges: dict) -> None:
    """Per-replication metrics, weekly series, tables and resolved scenarios as plain files.

    The per-replication metrics and weekly series are also written as Parquet
    when pyarrow is installed.
    """
    out.mkdir(parents=True, exist_ok=True)
    replications = ensemble.table()
    write_text(out / "replications.csv", replications.to_csv())
    weekly = _weekly_table(ensemble)
    write_text(out / "weekly.csv", weekly.to_csv())
    if _pyarrow() is not None:  # optional: typed columns for pandas, polars, DuckDB, R
        write_parquet(out / "replications.parquet", replications)
        write_parquet(out / "weekly.parquet", weekly)
    write_text(out / "summary.csv", summary.to_csv())
    write_text(out / "comparison.csv", comparison.to_csv())
    for design, bridge in bridges.items():
        write_text(out / f"bridge_{_safe(design)}.csv", bridge.to_csv())
    scenarios = out / "scenarios"
    scenarios.mkdir(exist_ok=True)
    for design, scenario in zip(ensemble.designs, ensemble.scenarios, strict=True):
        write_text(scenarios / f"{_safe(design)}.toml", explain(scenario))


def _weekly_table(ensemble) -> Table:
    """One row per design, replication and week; one column per weekly series."""
    if not ensemble.weekly:
        return Table({"design": [], "replication": [], "week": []})
    nd, nr, nw = next(iter(ensemble.weekly.values())).shape
    cols: dict[str, list] = {
        "design": np.repeat(ensemble.designs, nr * nw).tolist(),
        "replication": np.tile(np.repeat(ensemble.replications, nw), nd).tolist(),
        "week": np.tile(np.arange(nw), nd * nr).tolist(),
    }
    for name, series in ensemble.weekly.items():
        cols[name] = series.reshape(-1).tolist()
    return Table(cols)


def _safe(name: str) -> str:
    """A file-name-safe version of a design name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
