"""The recorder's event log: buffered rows handed to a sink in chunks, and the CSV sink."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from gtmsim.model.leads import IDLE, NEW, STATE_NAMES, State
from gtmsim.model.org import QUARTER_DAYS
from gtmsim.results.eventlog import EVENT_LOG_FILE_COLUMNS, CsvEventLog
from gtmsim.results.recorder import EVENT_LOG_COLUMNS, FUNNEL_STAGES, LeadStates, Recorder

STATES = LeadStates(STATE_NAMES, IDLE)


class Sink:
    """Keeps every chunk it is handed."""

    def __init__(self) -> None:
        self.chunks: list[dict[str, list]] = []

    def __call__(self, chunk: dict[str, list]) -> None:
        self.chunks.append(chunk)

    def sizes(self) -> list[int]:
        return [len(c["case_id"]) for c in self.chunks]

    def rows(self) -> list[tuple]:
        return [
            row for c in self.chunks for row in zip(*(c[k] for k in EVENT_LOG_COLUMNS), strict=True)
        ]


def log_rows(rec: Recorder, n: int, start: int = 0) -> list[tuple]:
    rows = []
    for i in range(start, start + n):
        row = (i, "created", i / 4, f"rep{i % 3}", "search", "smb")
        rec.log(*row)
        rows.append(row)
    return rows


def test_logging_off_without_sink():
    rec = Recorder(2, 3, 30.0, STATES, QUARTER_DAYS)
    assert not rec.logging
    rec.flush()  # nothing to hand, nowhere to hand it
    assert rec.event_rows == 0


def test_logging_on_with_sink():
    assert Recorder(2, 3, 30.0, STATES, QUARTER_DAYS, event_sink=Sink()).logging


def test_rows_buffered_until_a_chunk_is_full():
    sink = Sink()
    rec = Recorder(1, 1, 30.0, STATES, QUARTER_DAYS, event_sink=sink, chunk_rows=4)
    log_rows(rec, 3)
    assert sink.chunks == []
    assert rec.event_rows == 0
    log_rows(rec, 1, start=3)
    assert sink.sizes() == [4]
    assert rec.event_rows == 4


def test_chunks_of_chunk_rows_then_flush_hands_the_rest():
    sink = Sink()
    rec = Recorder(1, 1, 30.0, STATES, QUARTER_DAYS, event_sink=sink, chunk_rows=4)
    rows = log_rows(rec, 10)
    assert sink.sizes() == [4, 4]
    assert rec.event_rows == 8
    rec.flush()
    assert sink.sizes() == [4, 4, 2]
    assert rec.event_rows == 10
    assert sink.rows() == rows  # every row once, in order
    rec.flush()  # nothing left: no empty chunk
    assert sink.sizes() == [4, 4, 2]
    assert rec.event_rows == 10


def test_chunk_columns():
    sink = Sink()
    rec = Recorder(1, 1, 30.0, STATES, QUARTER_DAYS, event_sink=sink, chunk_rows=2)
    rec.log(7, "mql", 1.5, "marketing", "events", "enterprise")
    rec.log(8, "won", 9.25, "ae0", "outbound", "smb")
    (chunk,) = sink.chunks
    assert tuple(chunk) == EVENT_LOG_COLUMNS
    assert chunk == {
        "case_id": [7, 8],
        "activity": ["mql", "won"],
        "timestamp_days": [1.5, 9.25],
        "resource": ["marketing", "ae0"],
        "channel": ["events", "outbound"],
        "segment": ["enterprise", "smb"],
    }


def test_chunks_are_not_reused_after_handing_over():
    sink = Sink()
    rec = Recorder(1, 1, 30.0, STATES, QUARTER_DAYS, event_sink=sink, chunk_rows=2)
    log_rows(rec, 2)
    first = sink.chunks[0]
    log_rows(rec, 2, start=2)
    assert first["case_id"] == [0, 1]
    assert sink.chunks[1]["case_id"] == [2, 3]


def test_log_many():
    sink = Sink()
    rec = Recorder(1, 1, 30.0, STATES, QUARTER_DAYS, event_sink=sink, chunk_rows=100)
    rec.log_many(
        np.array([3, 4, 5]),
        "created",
        np.array([0.5, 0.75, 1.0]),
        "marketing",
        ["a", "b", "a"],
        ["smb", "smb", "ent"],
    )
    assert sink.chunks == []
    rec.flush()
    assert sink.rows() == [
        (3, "created", 0.5, "marketing", "a", "smb"),
        (4, "created", 0.75, "marketing", "b", "smb"),
        (5, "created", 1.0, "marketing", "a", "ent"),
    ]
    chunk = sink.chunks[0]
    assert all(type(v) is int for v in chunk["case_id"])
    assert all(type(v) is float for v in chunk["timestamp_days"])
    assert rec.event_rows == 3


def test_log_many_hands_a_chunk_once_full():
    sink = Sink()
    rec = Recorder(1, 1, 30.0, STATES, QUARTER_DAYS, event_sink=sink, chunk_rows=5)
    log_rows(rec, 2)
    rec.log_many(np.arange(10, 14), "mql", np.ones(4), "marketing", ["c"] * 4, ["s"] * 4)
    assert sum(sink.sizes()) == 6  # the batch is not split: the chunk holds every buffered row
    assert rec.event_rows == 6
    rec.flush()
    assert rec.event_rows == 6


def test_week_bins():
    rec = Recorder(1, 1, 30.0, STATES, QUARTER_DAYS)
    assert rec.n_weeks == 5
    assert rec.week(0.0) == 0
    assert rec.week(6.99) == 0
    assert rec.week(7.0) == 1
    assert rec.week(29.9) == 4
    assert rec.week(400.0) == 4  # clipped to the horizon
    assert Recorder(1, 1, 1.0, STATES, QUARTER_DAYS).n_weeks == 1
    assert Recorder(1, 1, 14.0, STATES, QUARTER_DAYS).n_weeks == 2


def test_tables_sized_by_channels_segments_and_weeks():
    rec = Recorder(3, 2, 21.0, STATES, QUARTER_DAYS)
    assert rec.funnel.shape == (len(FUNNEL_STAGES), 3, 2)
    assert rec.funnel.sum() == 0
    assert len(rec.transitions) == NEW + 1
    assert all(len(row) == len(State) for row in rec.transitions)
    assert rec.weekly_mqls.shape == (3,)
    assert len(rec.weekly_bookings_usd) == 3
    assert rec.spend_by_channel_usd.shape == (3,)
    assert len(rec.bookings_by_channel_usd) == 3


def test_lead_states_are_the_models_by_code():
    assert STATES.new == NEW
    assert all(STATES.code(s.name.lower()) == s for s in State)


def test_mqls_accepted_counts_moves_into_accepted_from_a_reps_queue_only():
    rec = Recorder(1, 1, 30.0, STATES, QUARTER_DAYS)
    rec.transitions[State.QUEUED][State.ACCEPTED] += 2
    rec.transitions[State.WORKING][State.ACCEPTED] += 3
    rec.transitions[State.NURTURE][State.ACCEPTED] += 5  # a returning buyer
    rec.transitions[NEW][State.ACCEPTED] += 7  # self-sourced
    assert rec.mqls_accepted == 5


def test_lead_states_without_a_state_the_recorder_reads_are_refused():
    names = tuple(n for n in STATE_NAMES if n != "working")
    with pytest.raises(ValueError, match="working"):
        LeadStates(names, ())


# ------------------------------------------------------------------ CSV sink


def test_csv_event_log_writes_header_only_when_empty():
    out = io.StringIO()
    CsvEventLog(out).close()
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [list(EVENT_LOG_FILE_COLUMNS)]


def test_csv_event_log_writes_rows_from_chunks():
    out = io.StringIO()
    sink = CsvEventLog(out, "2026-01-05")
    rec = Recorder(1, 1, 30.0, STATES, QUARTER_DAYS, event_sink=sink, chunk_rows=2)
    rec.log(1, "created", 0.25, "marketing", "search", "smb")
    rec.log(1, "mql", 0.5, "marketing", "search", "smb")
    rec.log(2, "stage:close", 12.125, "ae, senior", "events", "mid market")
    rec.flush()
    sink.close()
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [
        list(EVENT_LOG_FILE_COLUMNS),
        ["1", "created", "2026-01-05T06:00:00.000", "0.25", "marketing", "search", "smb", "false"],
        ["1", "mql", "2026-01-05T12:00:00.000", "0.5", "marketing", "search", "smb", "false"],
        [
            "2", "stage:close", "2026-01-17T03:00:00.000", "12.125", "ae, senior", "events",
            "mid market", "false",
        ],
    ]  # fmt: skip
    assert rec.event_rows == 3


def test_csv_event_log_rejects_ragged_chunks():
    sink = CsvEventLog(io.StringIO())
    chunk = {c: [1] for c in EVENT_LOG_COLUMNS}
    chunk["segment"] = []
    with pytest.raises(ValueError):
        sink(chunk)
