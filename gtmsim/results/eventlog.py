"""Writing the per-lead event log to CSV, sorted by time, in a form process-mining tools
(pm4py, Disco, Celonis) read as written.

A run hands the log over in chunks as it goes (see
:class:`gtmsim.results.recorder.Recorder`), not in time order: leads born in a
day's batch are logged before that day's calls, and a lead that waited too long
is logged when it is given up on. Each chunk is sorted and set aside in a
temporary file; :meth:`CsvEventLog.close` merges them into one file sorted by time
(rows at the same time keep the order the model logged them in), so memory stays
bounded however long the run.
"""

from __future__ import annotations

import csv
import datetime
import heapq
import tempfile
from typing import TextIO

import numpy as np

from gtmsim.results.recorder import EVENT_LOG_COLUMNS

# The file's columns: the case (a lead), the activity, when (an ISO 8601 date and
# time, and the simulated day), who (resource) and the lead's channel and segment.
EVENT_LOG_FILE_COLUMNS = (
    "case_id",
    "activity",
    "timestamp",
    "timestamp_days",
    "resource",
    "channel",
    "segment",
    "before_run",
)

# Every activity of the log and what it means; "stage:NAME" is one per deal stage.
EVENT_ACTIVITIES: dict[str, str] = {
    "created": "the lead is born: a marketing inquiry, or a rep's self-sourced prospect "
    "(timestamps before day 0: returning buyers' history, before_run is true)",
    "mql": "the lead became marketing-qualified and entered the sales queue",
    "nurture": "scored below the MQL threshold, into the nurture pool",
    "discarded": "scored below the MQL threshold with no nurture: dropped",
    "nurture_expired": "left the nurture pool after its longest stay",
    "attempt": "a rep tried to reach the lead (a contact attempt)",
    "never_followed_up": "an MQL nobody attempted in time: given up (the black hole)",
    "unreached": "every attempt failed",
    "rejected": "reached, and turned down by sales",
    "accepted": "accepted by sales (resource buyer: a returning buyer who booked a "
    "meeting by itself)",
    "stage:NAME": "a meeting of deal stage NAME was held (stage:discovery, stage:demo, ...)",
    "opportunity": "passed discovery: an open opportunity",
    "won": "the deal was won",
    "lost_competitor": "the opportunity was lost to a competitor",
    "lost_no_decision": "the opportunity was lost to no decision",
}


class CsvEventLog:
    """A chunk sink for :class:`gtmsim.results.recorder.Recorder` that writes a CSV file.

    Columns (:data:`EVENT_LOG_FILE_COLUMNS`): ``case_id``, ``activity`` (see
    :data:`EVENT_ACTIVITIES`), ``timestamp`` (ISO 8601, to the millisecond, local
    business time from ``start_date`` at midnight), ``timestamp_days`` (days since
    day 0), ``resource``, ``channel``, ``segment`` and ``before_run`` (``true`` for
    every row of a lead born before day 0: the history of returning buyers, not a
    prospect of the run). Rows are sorted by time once :meth:`close` is called.

    Parameters
    ----------
    stream
        Where the CSV goes (a text file opened with ``newline=""``).
    start_date
        The date of day 0, ``"YYYY-MM-DD"`` (``simulation.start_date``).
    """

    def __init__(self, stream: TextIO, start_date: str = "2026-01-05") -> None:
        self._stream = stream
        self._origin = np.datetime64(datetime.date.fromisoformat(start_date), "ms")
        self._runs: list[tuple[TextIO, np.ndarray, np.ndarray, np.ndarray]] = []
        self._rows = 0
        self._before_run: set[int] = set()
        self._closed = False

    def __call__(self, chunk: dict[str, list]) -> None:
        columns = [chunk[c] for c in EVENT_LOG_COLUMNS]
        n = len(columns[0])
        if any(len(c) != n for c in columns):
            raise ValueError("event-log chunk with columns of different lengths")
        if not n:
            return
        days = np.asarray(chunk["timestamp_days"], float)
        cases = np.asarray(chunk["case_id"], np.int64)
        order = np.argsort(days, kind="stable")
        created = np.asarray(chunk["activity"]) == "created"
        self._before_run.update(cases[created & (days < 0)].tolist())
        stamps = np.datetime_as_string(
            self._origin + np.round(days[order] * 86_400_000).astype("timedelta64[ms]"), unit="ms"
        )
        pick = order.tolist()
        run = tempfile.TemporaryFile("w+", newline="")  # noqa: SIM115 (read back in close())
        csv.writer(run, lineterminator="\n").writerows(
            zip(
                cases[order].tolist(),
                _one_line([chunk["activity"][i] for i in pick]),
                stamps.tolist(),
                days[order].tolist(),
                *(
                    _one_line([chunk[c][i] for i in pick])
                    for c in ("resource", "channel", "segment")
                ),
                strict=True,
            )
        )
        self._runs.append((run, days[order], self._rows + order, cases[order]))
        self._rows += n

    def close(self) -> None:
        """Merge the sorted chunks into the file (once; the stream stays open)."""
        if self._closed:
            return
        self._closed = True
        csv.writer(self._stream, lineterminator="\n").writerow(EVENT_LOG_FILE_COLUMNS)
        before = self._before_run
        write = self._stream.write
        for _, _, case, line in heapq.merge(*(_rows(*run) for run in self._runs)):
            write(f"{line[:-1]},{'true' if case in before else 'false'}\n")
        for run in self._runs:
            run[0].close()
        self._runs = []


def _rows(run: TextIO, days: np.ndarray, seq: np.ndarray, cases: np.ndarray):
    """(day, order logged, case, CSV line) of one sorted chunk, read back in slices."""
    run.seek(0)
    step = 8192
    for start in range(0, len(days), step):
        end = start + step
        # the slice comes first: zip stops on it before taking a line too many
        yield from zip(
            days[start:end].tolist(),
            seq[start:end].tolist(),
            cases[start:end].tolist(),
            run,
            strict=False,
        )


def _one_line(values: list) -> list:
    """Names as one line each (a row of the file is a line; names rarely hold a newline)."""
    if any("\n" in v or "\r" in v for v in set(values) if isinstance(v, str)):
        return [
            v.replace("\r", "\\r").replace("\n", "\\n") if isinstance(v, str) else v for v in values
        ]
    return values
