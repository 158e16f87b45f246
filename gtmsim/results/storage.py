"""Writing results to a folder: whole files only, and never over another run's results."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

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


class OutputInUse(ValueError):
    """The output folder holds the results of a different run."""


def check_output_dir(out: Path, scenario_hashes: list[str], *, force: bool = False) -> None:
    """Refuse a folder that holds a different run's results, unless ``force``.

    A folder with the same designs is the same run: it is resumed.
    """
    manifest = out / "manifest.json"
    if force or not manifest.exists():
        return
    try:
        previous = json.loads(manifest.read_text())["manifest"]["scenario_hashes"]
    except (ValueError, KeyError, TypeError):
        previous = None
    if previous != scenario_hashes:
        raise OutputInUse(
            f"{out}/ holds the results of another run (different designs or settings); "
            "choose another folder, or add --force to write there anyway"
        )


def write_outputs(out: Path, ensemble, summary: Table, comparison: Table, bridges: dict) -> None:
    """Per-replication metrics, weekly series, tables and resolved scenarios as plain files."""
    out.mkdir(parents=True, exist_ok=True)
    nd, nr, _ = ensemble.values.shape
    rows: dict[str, list] = {
        "design": [d for d in ensemble.designs for _ in range(nr)],
        "replication": ensemble.replications * nd,
    }
    flat = ensemble.values.reshape(nd * nr, -1)
    for j, metric in enumerate(ensemble.metrics):
        rows[metric] = flat[:, j].tolist()
    write_text(out / "replications.csv", Table(rows).to_csv())
    weekly: dict[str, list] = {"design": [], "replication": [], "week": []}
    for name in ensemble.weekly:
        weekly[name] = []
    for d, design in enumerate(ensemble.designs):
        for i, r in enumerate(ensemble.replications):
            weeks = next(iter(ensemble.weekly.values())).shape[2] if ensemble.weekly else 0
            for w in range(weeks):
                weekly["design"].append(design)
                weekly["replication"].append(r)
                weekly["week"].append(w)
                for name, series in ensemble.weekly.items():
                    weekly[name].append(float(series[d, i, w]))
    write_text(out / "weekly.csv", Table(weekly).to_csv())
    write_text(out / "summary.csv", summary.to_csv())
    write_text(out / "comparison.csv", comparison.to_csv())
    for design, bridge in bridges.items():
        write_text(out / f"bridge_{_safe(design)}.csv", bridge.to_csv())
    scenarios = out / "scenarios"
    scenarios.mkdir(exist_ok=True)
    for design, scenario in zip(ensemble.designs, ensemble.scenarios, strict=True):
        write_text(scenarios / f"{_safe(design)}.toml", explain(scenario))


def _safe(name: str) -> str:
    """A file-name-safe version of a design name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
