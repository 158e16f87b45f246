"""The event log as process-mining tools read it: ISO 8601 timestamps from
simulation.start_date, the day kept, rows sorted by time, activities documented,
leads born before the run marked."""

from __future__ import annotations

import csv
import datetime
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gtmsim
from gtmsim.results.eventlog import EVENT_ACTIVITIES, EVENT_LOG_FILE_COLUMNS, CsvEventLog
from gtmsim.results.recorder import EVENT_LOG_COLUMNS
from tests.conftest import ROOT

DEFINED = ROOT / "scenarios" / "defined.toml"


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    """The rows of a short run's event log, starting on Monday 2 March 2026."""
    path = tmp_path_factory.mktemp("log") / "events.csv"
    scenario = gtmsim.load_scenario(
        DEFINED, {"simulation.horizon_days": 21, "simulation.start_date": "2026-03-02"}
    )
    result = gtmsim.simulate(scenario, event_log=path)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return path, rows, result


def test_timestamps_are_iso_dates_from_the_start_date_and_the_day_is_kept(log):
    _, rows, result = log
    assert list(rows[0]) == list(EVENT_LOG_FILE_COLUMNS)
    assert len(rows) == result.manifest["event_log_rows"]
    start = datetime.datetime(2026, 3, 2)
    for row in rows[::97]:
        stamp = datetime.datetime.fromisoformat(row["timestamp"])
        days = (stamp - start) / datetime.timedelta(days=1)
        assert abs(days - float(row["timestamp_days"])) < 1e-6


def test_rows_are_sorted_by_time(log):
    _, rows, _ = log
    days = np.array([float(r["timestamp_days"]) for r in rows])
    assert (np.diff(days) >= 0).all()
    assert [r["timestamp"] for r in rows] == sorted(r["timestamp"] for r in rows)


def test_every_activity_is_documented(log):
    _, rows, _ = log
    documented = {a for a in EVENT_ACTIVITIES if not a.endswith(":NAME")}
    for activity in {r["activity"] for r in rows}:
        assert activity in documented or activity.startswith("stage:"), activity
    assert {"created", "mql", "attempt", "accepted", "stage:discovery"} <= {
        r["activity"] for r in rows
    }


def test_leads_born_before_the_run_are_marked_on_every_row(log):
    _, rows, _ = log
    history = {
        r["case_id"] for r in rows if r["activity"] == "created" and r["timestamp"] < "2026-03-02"
    }
    assert history, "the base market has returning buyers"
    for row in rows:
        assert row["before_run"] == ("true" if row["case_id"] in history else "false")


def test_pm4py_reads_the_log_as_written_and_discovers_a_model(log):
    pm4py = pytest.importorskip("pm4py")
    pd = pytest.importorskip("pandas")
    path, rows, _ = log
    frame = pd.read_csv(path)
    frame = pm4py.format_dataframe(
        frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp"
    )
    assert len(frame) == len(rows)
    dfg, starts, ends = pm4py.discover_dfg(frame)
    assert ("created", "mql") in dfg and "created" in starts
    net, initial, final = pm4py.discover_petri_net_inductive(frame[~frame["before_run"]])
    assert {t.label for t in net.transitions} >= {"created", "mql"}


@given(st.lists(st.floats(-400, 4000), min_size=1, max_size=60), st.integers(1, 7))
def test_chunks_in_any_order_come_out_sorted_with_ties_in_logged_order(times, chunk):
    out = io.StringIO()
    sink = CsvEventLog(out, "2026-01-05")
    for start in range(0, len(times), chunk):
        part = times[start : start + chunk]
        sink(
            {
                "case_id": list(range(start, start + len(part))),
                "activity": ["attempt"] * len(part),
                "timestamp_days": part,
                "resource": ["ae 1"] * len(part),
                "channel": ["events"] * len(part),
                "segment": ["smb"] * len(part),
            }
        )
    sink.close()
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    got = [(float(r["timestamp_days"]), int(r["case_id"])) for r in rows]
    assert got == sorted((t, i) for i, t in enumerate(times))


def test_an_empty_log_is_a_header():
    out = io.StringIO()
    sink = CsvEventLog(out)
    sink.close()
    assert out.getvalue().splitlines() == [",".join(EVENT_LOG_FILE_COLUMNS)]
    assert set(EVENT_LOG_COLUMNS) <= set(EVENT_LOG_FILE_COLUMNS)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-01-06", "2026-01-06 is a Tuesday: use 2026-01-05"),
        ("05/01/2026", "expected a date written YYYY-MM-DD"),
        (datetime.datetime(2026, 1, 5, 9), "not a date and time"),
    ],
)
def test_the_start_date_is_a_monday(value, message):
    with pytest.raises(gtmsim.ScenarioError, match=message):
        gtmsim.load_scenario(DEFINED, {"simulation.start_date": value})


def test_a_toml_date_is_a_start_date_and_does_not_change_the_results(tmp_path):
    path = tmp_path / "later.toml"
    path.write_text(f'extends = "{DEFINED.as_posix()}"\n[simulation]\nstart_date = 2027-03-01\n')
    later = gtmsim.load_scenario(path, {"simulation.horizon_days": 14})
    assert later.simulation.start_date == "2027-03-01"
    default = gtmsim.load_scenario(DEFINED, {"simulation.horizon_days": 14})
    assert default.simulation.start_date == "2026-01-05"
    assert datetime.date(2026, 1, 5).weekday() == 0
    assert gtmsim.simulate(later).metrics == pytest.approx(
        gtmsim.simulate(default).metrics, nan_ok=True
    )


def test_a_name_with_a_comma_or_a_newline_stays_on_its_row():
    out = io.StringIO()
    sink = CsvEventLog(out)
    sink(
        {
            "case_id": [1, 2],
            "activity": ["attempt", "attempt"],
            "timestamp_days": [2.0, 1.0],
            "resource": ["ae, senior", "ae\nnight"],
            "channel": ["events", "events"],
            "segment": ["smb", "smb"],
        }
    )
    sink.close()
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["case_id"], r["resource"]) for r in rows] == [
        ("2", "ae\\nnight"),
        ("1", "ae, senior"),
    ]
