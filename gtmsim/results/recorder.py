"""The recorder: what a run counts as it goes, in fixed-size arrays.

The model writes here and never reads files or prints. The optional per-lead
event log is buffered and handed in chunks to a sink supplied by the caller
(for example :class:`gtmsim.results.eventlog.CsvEventLog`), so memory stays
bounded however long the run. The recorder knows the model only through plain
values its builder hands in: the lead states (:class:`LeadStates`) and the
length of a quarter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FUNNEL_STAGES = ("lead", "mql", "accepted", "opportunity", "won")
LEAD, MQL, ACCEPTED, OPPORTUNITY, WON = range(len(FUNNEL_STAGES))

# First-response delay bins for speed-to-lead, hours: [edge_i, edge_i+1)
RESPONSE_BIN_EDGES_HOURS = (0.0, 5 / 60, 0.5, 1.0, 24.0, float("inf"))
RESPONSE_BIN_LABELS = ("<5min", "5-30min", "30-60min", "1-24h", ">=24h")

# Weekly state of the organisation (M7-M9), recorded by the world; nan where undefined.
BEHAVIOUR_SERIES = (
    "mql_threshold",
    "scoring_noise_sd",
    "marketing_budget_usd_per_week",
    "missed_quarters",
    "ae_headcount",
    "trust_ae_mean",
    "trust_sdr_mean",
    "ae_prospecting_share",
)

EVENT_LOG_COLUMNS = ("case_id", "activity", "timestamp_days", "resource", "channel", "segment")

ChunkSink = Callable[[dict[str, list]], None]

# The lead states the recorder and the metrics read, by name.
READ_STATES = ("queued", "working", "accepted", "won", "lost_competitor", "lost_no_decision")


@dataclass(frozen=True)
class LeadStates:
    """The model's lead states as plain data.

    Parameters
    ----------
    names
        Every state's name in the order of the codes the model stores: code ``i`` is
        ``names[i]``. It includes every name in :data:`READ_STATES`.
    idle
        Codes of the states of leads nobody in sales is working on; such a lead may
        come back by itself (the ``buyers_returned`` metric).
    """

    names: tuple[str, ...]
    idle: tuple[int, ...]

    def __post_init__(self) -> None:
        missing = [name for name in READ_STATES if name not in self.names]
        if missing:
            raise ValueError(f"lead states {missing} are missing: the recorder reads them")

    @property
    def new(self) -> int:
        """The row of newly created leads in the transition table, after every state's."""
        return len(self.names)

    def code(self, name: str) -> int:
        """The code of the state called ``name``."""
        return self.names.index(name)


class Recorder:
    """Counters, weekly series and the optional event log of one run.

    Parameters
    ----------
    n_channels, n_segments
        Sizes of the by-channel and by-segment tables (channels include ``outbound``).
    horizon_days
        Length of the run; fixes the number of weekly bins.
    states
        The lead states; they size the transition table.
    quarter_days
        Length of the organisation's quarter; AEs who sold for less than one are left
        out of the quota metrics.
    event_sink
        Called with each chunk of event-log rows; ``None`` switches the log off.
    chunk_rows
        Rows buffered before a chunk is handed to the sink.

    Attributes
    ----------
    logging
        Whether the per-lead event log is on (a plain attribute: the hot path reads it).
    """

    def __init__(
        self,
        n_channels: int,
        n_segments: int,
        horizon_days: float,
        states: LeadStates,
        quarter_days: float,
        event_sink: ChunkSink | None = None,
        chunk_rows: int = 50_000,
    ) -> None:
        self.n_weeks = max(1, int(np.ceil(horizon_days / 7.0)))
        w = self.n_weeks
        self.states, self.quarter_days = states, quarter_days
        self._queued, self._working, self._accepted = map(
            states.code, ("queued", "working", "accepted")
        )
        # vectorised writers (marketing) use numpy; the reps' hot path appends to lists
        self.funnel = np.zeros((len(FUNNEL_STAGES), n_channels, n_segments), dtype=np.int64)
        self.transitions = [[0] * len(states.names) for _ in range(states.new + 1)]
        self.weekly_mqls = np.zeros(w, dtype=np.int64)
        self.weekly_marketing_spend_usd = np.zeros(w)
        self.spend_by_channel_usd = np.zeros(n_channels)
        self.weekly_bookings_usd = [0.0] * w
        self.weekly_pipeline_created_usd = [0.0] * w
        self.bookings_by_channel_usd = [0.0] * n_channels
        self.pipeline_by_channel_usd = [0.0] * n_channels
        self.weekly_deals_won_inbound = [0] * w
        self.weekly_spend_by_channel_usd = np.zeros((w, n_channels))
        self.behaviour = {name: np.full(w, np.nan) for name in BEHAVIOUR_SERIES}
        # one entry per first attempt: when, how long after the MQL, whether it reached the lead
        self.first_response_day: list[float] = []
        self.first_response_hours: list[float] = []
        self.first_attempt_reached: list[bool] = []
        # one entry per MQL sales finished working: its first-response delay, accepted or not
        self.resolved_first_response_hours: list[float] = []
        self.resolved_accepted: list[bool] = []
        self.cycle_days: list[float] = []
        self.won_deal_sizes_usd: list[float] = []
        self.mqls_judged = 0  # reached MQLs that sales accepted or rejected
        self._sink = event_sink
        self.logging = event_sink is not None  # whether the per-lead event log is on
        self._chunk_rows = chunk_rows
        self._log: dict[str, list] = {c: [] for c in EVENT_LOG_COLUMNS}
        self.event_rows = 0

    @property
    def mqls_accepted(self) -> int:
        """MQLs sales reached and accepted: every move into accepted from a rep's queue."""
        into = self._accepted
        return self.transitions[self._queued][into] + self.transitions[self._working][into]

    # ---------------------------------------------------------------- event log

    def log(
        self, case_id: int, activity: str, t: float, resource: str, channel: str, segment: str
    ) -> None:
        """Append one event-log row (only call when :attr:`logging`)."""
        log = self._log
        log["case_id"].append(case_id)
        log["activity"].append(activity)
        log["timestamp_days"].append(t)
        log["resource"].append(resource)
        log["channel"].append(channel)
        log["segment"].append(segment)
        if len(log["case_id"]) >= self._chunk_rows:
            self.flush()

    def log_many(self, case_ids, activity: str, times, resource: str, channels, segments) -> None:
        """Append rows for many leads at once (arrays or lists of equal length)."""
        log = self._log
        log["case_id"].extend(np.asarray(case_ids).tolist())
        log["activity"].extend([activity] * len(case_ids))
        log["timestamp_days"].extend(np.asarray(times, float).tolist())
        log["resource"].extend([resource] * len(case_ids))
        log["channel"].extend(channels)
        log["segment"].extend(segments)
        if len(log["case_id"]) >= self._chunk_rows:
            self.flush()

    def flush(self) -> None:
        """Hand the buffered rows to the sink."""
        if self._sink is None or not self._log["case_id"]:
            return
        chunk, self._log = self._log, {c: [] for c in EVENT_LOG_COLUMNS}
        self.event_rows += len(chunk["case_id"])
        self._sink(chunk)

    # ---------------------------------------------------------------- series

    def week(self, t: float) -> int:
        """Weekly bin of time ``t`` (days), clipped to the horizon."""
        return min(int(t // 7.0), self.n_weeks - 1)
