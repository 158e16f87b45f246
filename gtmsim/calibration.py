"""The calibration report: the shipped org designs against published figures.

The rows (CALIBRATION.md sections A, B and C) are data, in a TOML file that
names each design's scenario file (``gtmsim/data/calibration.toml``, installed with
the package, by default); this
module knows no design by name. It runs every design with common random
numbers, then computes each row from the replications: the simulated mean, its
95% confidence interval, and pass, edge (passes) or fail.

Run ``python -m gtmsim.calibration`` (or ``gtmsim calibration``) from any folder.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gtmsim.experiment.ensemble import Ensemble
from gtmsim.experiment.run import run_experiment
from gtmsim.results.summary import mean_ci
from gtmsim.results.table import Table
from gtmsim.scenario.loader import load_scenario
from gtmsim.scenario.shipped import packaged

DEFAULT_TARGETS = packaged("calibration.toml")
"""The targets installed with the package; ``docs/calibration.toml`` of the working
directory comes first when there is one (see :func:`default_targets`)."""
WEEKS_PER_QUARTER = 13
KINDS = ("value", "ratio", "relative", "gap", "trend", "not_better", "info")


@dataclass(frozen=True)
class Targets:
    """The rows to check and the designs they need."""

    designs: dict[str, str]  # design name -> scenario path
    rows: list[dict[str, Any]]
    horizon_days: float
    replications: int


def default_targets() -> Path:
    """``docs/calibration.toml`` of the working directory if there is one, else the
    targets installed with the package."""
    here = Path("docs") / "calibration.toml"
    return here if here.is_file() else DEFAULT_TARGETS


def load_targets(path: str | os.PathLike | None = None) -> Targets:
    """Read a targets file (default: :func:`default_targets`); scenario paths are
    relative to the file, links followed (a checkout's ``docs/calibration.toml``
    is a link to the package's).

    Raises
    ------
    ValueError
        Naming the file and the key, for a file that is not TOML or not of the
        shape of ``docs/calibration.toml`` (a missing key, a value of the wrong
        type, an unknown row kind or design).
    """
    path = Path(default_targets() if path is None else path).resolve()
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not a TOML file: {exc}") from None
    _check_targets(path, data)
    designs = {k: os.path.normpath(path.parent / v) for k, v in data["designs"].items()}
    return Targets(designs, data["rows"], data["horizon_days"], data["replications"])


# What every row needs besides its kind, by kind; a row with `weeks` needs no `metric`.
ROW_KEYS = {
    "value": ("metric",),
    "ratio": ("metric", "over"),
    "relative": ("metric", "baseline"),
    "gap": ("metric", "baseline", "other"),
    "trend": ("series", "direction"),
    "not_better": ("metric", "baseline"),
    "info": ("metric", "baseline"),
}


def _check_targets(path: Path, data: dict) -> None:
    """Refuse a targets file of the wrong shape, naming the file and the key."""

    def bad(key: str, expected: str, got: Any = None) -> ValueError:
        shown = "it is missing" if got is None else f"got {got!r}"
        return ValueError(f"{path}: {key}: expected {expected}; {shown}")

    number = (int, float)
    if not isinstance(data.get("horizon_days"), number) or isinstance(
        data.get("horizon_days"), bool
    ):
        raise bad("horizon_days", "a number of days", data.get("horizon_days"))
    reps = data.get("replications")
    if not isinstance(reps, int) or isinstance(reps, bool) or reps < 1:
        raise bad("replications", "a whole number >= 1", reps)
    designs = data.get("designs")
    if not isinstance(designs, dict) or not designs:
        raise bad("[designs]", "a table of design name = scenario file", designs)
    for name, file in designs.items():
        if not isinstance(file, str):
            raise bad(f"designs.{name}", "the path of a scenario file", file)
    rows = data.get("rows")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise bad("[[rows]]", "one or more [[rows]] tables", rows)
    for i, row in enumerate(rows):
        kind = row.get("kind")
        if kind not in KINDS:
            raise bad(f"rows[{i}].kind", f"one of {', '.join(KINDS)}", kind)
        needed = ["section", "label", "design", *ROW_KEYS[kind]]
        if "weeks" in row:
            needed = [k for k in needed if k != "metric"]
            weeks = row["weeks"]
            if not (
                isinstance(weeks, list)
                and len(weeks) == 2
                and all(isinstance(w, int) for w in weeks)
            ):
                raise bad(f"rows[{i}].weeks", "[first week, last week + 1]", weeks)
        for key in needed:
            if not isinstance(row.get(key), str):
                raise bad(f"rows[{i}].{key}", f"a text (a {kind} row needs it)", row.get(key))
        for key in ("design", "baseline", "other"):
            if key in row and row[key] not in designs:
                raise bad(f"rows[{i}].{key}", "a design of [designs]", row[key])
        for key in ("low", "high"):
            if key in row and (not isinstance(row[key], number) or isinstance(row[key], bool)):
                raise bad(f"rows[{i}].{key}", "a number", row[key])


def run_designs(
    targets: Targets,
    replications: int | None = None,
    workers: int | None = None,
    progress=None,
    out: str | os.PathLike | None = None,
    force: bool = False,
) -> Ensemble:
    """Every design of the targets, paired replications over the targets' horizon.

    With ``out``, replications are kept there and a rerun reuses them; a folder of
    another run is refused unless ``force`` (see ``run_experiment``).
    """
    overrides = {"simulation.horizon_days": targets.horizon_days}
    scenarios = {name: load_scenario(path, overrides) for name, path in targets.designs.items()}
    return run_experiment(
        scenarios,
        replications or targets.replications,
        workers=workers,
        progress=progress,
        out=out,
        force=force,
    )


# ---------------------------------------------------------------------------- rows


def _metric(ens: Ensemble, design: str, metric: str) -> np.ndarray:
    return ens.values[ens.designs.index(design), :, ens.metrics.index(metric)]


def _figure(ens: Ensemble, design: str, row: dict[str, Any]) -> np.ndarray:
    """Per replication: the row's metric, or with ``weeks = [a, b]`` the sum of the weekly
    ``series`` (default bookings) over weeks a to b - 1."""
    if "weeks" not in row:
        return _metric(ens, design, row["metric"])
    a, b = row["weeks"]
    return ens.weekly[row.get("series", "bookings_usd")][ens.designs.index(design)][:, a:b].sum(1)


def _quarters(ens: Ensemble, design: str, series: str, how: Callable) -> np.ndarray:
    """(replication, quarter) aggregate of a weekly series."""
    w = ens.weekly[series][ens.designs.index(design)]
    n = w.shape[1] // WEEKS_PER_QUARTER
    return how(w[:, : n * WEEKS_PER_QUARTER].reshape(len(w), n, WEEKS_PER_QUARTER), axis=2)


def row_values(ens: Ensemble, row: dict[str, Any]) -> np.ndarray:
    """The per-replication values of one row."""
    kind, design = row["kind"], row["design"]
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "value":
            return _figure(ens, design, row)
        if kind == "ratio":
            a, b = _metric(ens, design, row["metric"]), _metric(ens, design, row["over"])
            if row.get("odds"):
                a, b = a / (1 - a), b / (1 - b)
            return a / b
        if kind in ("relative", "not_better", "info"):
            x, y = _figure(ens, design, row), _figure(ens, row["baseline"], row)
            return x / y - 1.0 if kind == "relative" else (x - y) / np.abs(y)
        if kind == "gap":  # design's relative change over the baseline minus other's
            x, o = _figure(ens, design, row), _figure(ens, row["other"], row)
            return (x - o) / _figure(ens, row["baseline"], row)
        # trend: quarters are counted from 1; counts add up, levels average
        how = np.nansum if row.get("aggregate") == "sum" else np.nanmean
        q = _quarters(ens, design, row["series"], how)
        if "per" in row:
            q = q / _quarters(ens, design, row["per"], how)
        early = [i - 1 for i in row.get("early", (2, 3))]
        late = [i - 1 for i in row.get("late", (7, 8))]
        return q[:, late].mean(axis=1) / q[:, early].mean(axis=1) - 1.0


def _target_text(row: dict[str, Any]) -> str:
    if row["kind"] == "trend":
        return "up" if row["direction"] == "up" else "down"
    if row["kind"] == "not_better":
        return "within noise or worse"
    if row["kind"] == "info":
        return "(information)"
    low, high = row.get("low"), row.get("high")
    if low is not None and high is not None:
        return f"{low:g} .. {high:g}"
    return f">= {low:g}" if low is not None else f"<= {high:g}"


def row_result(row: dict[str, Any], mean: float, half: float) -> str:
    """The verdict on a row, "pass", "edge" or "FAIL", from its mean and 95% half-width.

    A range row passes when its mean is inside the range; it is at the "edge",
    which still passes, when the mean is outside but the interval reaches into
    the range (CALIBRATION.md fails a row only when the whole interval lies
    outside). A trend row needs its whole interval on the named side of zero; a
    not_better row passes when the interval contains 0 or lies below it. An info
    row is reported, not judged.
    """
    if row["kind"] == "info":
        return "info"
    if math.isnan(mean):
        return "FAIL"
    if row["kind"] == "trend":
        half = 0.0 if math.isnan(half) else half
        up = row["direction"] == "up"
        return "pass" if (mean - half > 0 if up else mean + half < 0) else "FAIL"
    if row["kind"] == "not_better":
        return "pass" if math.isnan(half) or mean - half <= 0 else "FAIL"
    low, high = row.get("low", -math.inf), row.get("high", math.inf)
    if low <= mean <= high:
        return "pass"
    half = 0.0 if math.isnan(half) else half
    return "edge" if mean - half <= high and mean + half >= low else "FAIL"


def report(ens: Ensemble, targets: Targets) -> Table:
    """One line per row: its id (section and number), figure, target, mean, 95% interval,
    verdict and source."""
    lines = []
    numbers: dict[str, int] = {}
    for row in targets.rows:
        mean, half = mean_ci(row_values(ens, row))
        section = row["section"]
        numbers[section] = numbers.get(section, 0) + 1
        lines.append(
            {
                "row": f"{section}{numbers[section]}",
                "section": section,
                "figure": row["label"],
                "target": _target_text(row),
                "mean": mean,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "result": row_result(row, mean, half),
                "source": row.get("source", ""),
            }
        )
    return Table({k: [line[k] for line in lines] for k in lines[0]})


if __name__ == "__main__":  # python -m gtmsim.calibration: the same as gtmsim calibration
    import sys

    from gtmsim.cli import main

    sys.exit(main(["calibration", *sys.argv[1:]]))
