"""Writing the per-lead event log to CSV, one chunk at a time."""

from __future__ import annotations

import csv
from typing import TextIO

from gtmsim.results.recorder import EVENT_LOG_COLUMNS


class CsvEventLog:
    """A chunk sink for :class:`gtmsim.results.recorder.Recorder` that appends to a CSV file.

    Columns: case_id, activity, timestamp_days, resource, channel, segment.
    """

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream)
        self._writer.writerow(EVENT_LOG_COLUMNS)

    def __call__(self, chunk: dict[str, list]) -> None:
        self._writer.writerows(zip(*(chunk[c] for c in EVENT_LOG_COLUMNS), strict=True))
