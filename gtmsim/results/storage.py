"""Writing results to a folder: whole files only, and never over another run's results."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from gtmsim.results.table import Table
from gtmsim.scenario.explain import explain


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
    """The output folder holds the results of a different run."""


def check_output_dir(out: Path, scenario_hashes: list[str], *, force: bool = False) -> None:
    """Refuse a folder that holds a different run's results, unless ``force``; create it.

    A folder with the same designs is the same run: it is resumed. Creating it
    here, before anything runs, turns a path that cannot be a folder into an
    error now rather than after the simulations.
    """
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.json"
    if force or not manifest.exists():
        return
    try:
        previous = json.loads(manifest.read_text())["manifest"]["scenario_hashes"]
    except (ValueError, KeyError, TypeError):
        previous = None
    if previous != scenario_hashes:
        raise OutputInUse(
            f"{out}/ holds the results of another run (different designs or settings, or "
            "an earlier version of gtmsim); "
            "choose another folder, or add --force to write there anyway"
        )


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
