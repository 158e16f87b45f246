"""Output files: Parquet beside the CSV when pyarrow is installed, and only then."""

from __future__ import annotations

import csv
import math
from types import SimpleNamespace

import pytest

from gtmsim.results import storage
from gtmsim.results.table import Table
from gtmsim.scenario import Scenario
from tests.test_cli import gtmsim as run_cli

BASE = "scenarios/base/market.toml"
FAST = "scenarios/examples/fast_follow_up.toml"


def stub_ensemble() -> SimpleNamespace:
    """What write_outputs reads of an ensemble: one design, two replications."""
    table = Table(
        {
            "design": ["a", "a"],
            "replication": [0, 1],
            "bookings": [10.0, float("nan")],
            "cycle_days_median": [float("nan"), float("nan")],
        }
    )
    return SimpleNamespace(
        designs=["a"], replications=[0, 1], scenarios=[Scenario()], weekly={}, table=lambda: table
    )


def write(out, ensemble) -> None:
    empty = Table({"metric": []})
    storage.write_outputs(out, ensemble, empty, empty, {})


def test_without_pyarrow_only_csv_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "_pyarrow", lambda: None)
    write(tmp_path, stub_ensemble())
    assert (tmp_path / "replications.csv").exists()
    assert list(tmp_path.glob("*.parquet")) == []
    with pytest.raises(ImportError, match="pip install pyarrow"):
        storage.write_parquet(tmp_path / "x.parquet", Table({"a": [1]}))


def test_parquet_keeps_types_and_a_missing_value_is_null(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    write(tmp_path, stub_ensemble())
    table = pq.read_table(tmp_path / "replications.parquet")
    assert [str(t) for t in table.schema.types] == ["string", "int64", "double", "double"]
    assert table.to_pydict() == {
        "design": ["a", "a"],
        "replication": [0, 1],
        "bookings": [10.0, None],  # empty in the CSV, null here: no value, not a number
        "cycle_days_median": [None, None],  # all missing: still a number column
    }
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left behind


def test_compare_out_writes_parquet_beside_the_csv(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    out = run_cli(
        "compare", BASE, FAST, "--set", "simulation.horizon_days=14", "-n", "2", "--jobs", "2",
        "--metrics", "bookings", "--out", str(tmp_path),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    for name in ("replications", "weekly"):
        with open(tmp_path / f"{name}.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        data = pq.read_table(tmp_path / f"{name}.parquet").to_pydict()
        assert list(data) == list(rows[0]), name
        for column, values in data.items():
            text = [r[column] for r in rows]
            if column == "design":
                assert values == text
            else:  # the same numbers; null where the CSV cell is empty
                assert [math.nan if v is None else v for v in values] == pytest.approx(
                    [float(t) if t else math.nan for t in text], nan_ok=True
                ), (name, column)


def test_json_safe_carries_nan_infinity_and_numpy_values_as_json_can():
    import json

    import numpy as np

    value = {
        "nan": math.nan,
        "inf": [math.inf, -math.inf, 1.5],
        "numpy": (np.float64("nan"), np.int64(3), np.array([0.5, np.inf])),
        "text": "x",
    }
    safe = storage.json_safe(value)
    assert safe == {
        "nan": None,
        "inf": [None, None, 1.5],
        "numpy": [None, 3, [0.5, None]],
        "text": "x",
    }
    assert type(safe["numpy"][1]) is int
    json.dumps(safe, allow_nan=False)
