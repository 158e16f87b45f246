"""simulate(): one replication of one scenario, from validated settings to a RunResult."""

from __future__ import annotations

import os
import platform
import time
from contextlib import ExitStack

import numpy as np
import simpy

from gtmsim import __version__
from gtmsim.model.leads import STATE_NAMES
from gtmsim.model.world import World
from gtmsim.results.eventlog import CsvEventLog
from gtmsim.results.metrics import (
    compute_metrics,
    final_state_counts,
    rep_table,
    weekly_first_response_hours_mean,
)
from gtmsim.results.recorder import FUNNEL_STAGES
from gtmsim.results.run import RunResult
from gtmsim.scenario.schema import Scenario


def simulate(
    scenario: Scenario,
    replication: int = 0,
    *,
    event_log: str | os.PathLike | None = None,
) -> RunResult:
    """Run one replication of a scenario.

    Parameters
    ----------
    scenario
        A validated scenario (see :func:`gtmsim.load_scenario`).
    replication
        Replication number. With ``scenario.simulation.seed`` it fixes every
        random draw: the same scenario and replication give identical results,
        and replication ``r`` of two designs shares its leads (common random numbers).
    event_log
        Path of a CSV file for the per-lead event log, sorted by time: case_id,
        activity, timestamp (ISO 8601 from ``simulation.start_date``),
        timestamp_days, resource, channel, segment, before_run (see
        :class:`gtmsim.results.eventlog.CsvEventLog`; the activities are
        :data:`~gtmsim.results.eventlog.EVENT_ACTIVITIES`). Off by default: it
        costs time and disk.

    Returns
    -------
    RunResult
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(
            f"simulate() needs a Scenario (use gtmsim.load_scenario), got {type(scenario).__name__}"
        )
    if replication < 0:
        raise ValueError(f"replication must be >= 0, got {replication}")
    started = time.perf_counter()
    with ExitStack() as stack:
        sink = None
        if event_log is not None:
            stream = stack.enter_context(open(event_log, "w", newline=""))
            sink = CsvEventLog(stream, scenario.simulation.start_date)
        world = World(scenario, replication, event_sink=sink).run()
        if sink is not None:
            sink.close()
    return _result(world, time.perf_counter() - started)


def _result(world: World, wall_time_s: float) -> RunResult:
    rec, sc = world.rec, world.scenario

    return RunResult(
        scenario_name=sc.name,
        scenario_hash=sc.content_hash(),
        replication=world.replication,
        seed=sc.simulation.seed,
        metrics=compute_metrics(world),
        lead_final_states=final_state_counts(world),
        weekly={
            "bookings_usd": np.asarray(rec.weekly_bookings_usd),
            "pipeline_created_usd": np.asarray(rec.weekly_pipeline_created_usd),
            "mqls": rec.weekly_mqls,
            "first_response_hours_mean": weekly_first_response_hours_mean(rec),
            "marketing_spend_usd": rec.weekly_marketing_spend_usd,
            "deals_won_inbound": np.asarray(rec.weekly_deals_won_inbound),
            **{
                f"marketing_spend_usd.channel.{name}": rec.weekly_spend_by_channel_usd[:, c]
                for c, name in enumerate(world.marketing.channels)
            },
            **rec.behaviour,
        },
        funnel=rec.funnel,
        funnel_labels={
            "stage": list(FUNNEL_STAGES),
            "channel": list(world.channels),
            "segment": list(world.segments),
        },
        transitions=np.asarray(rec.transitions),
        reps={"ae": rep_table(world.ae), "sdr": rep_table(world.sdr)},
        first_response_hours=np.asarray(rec.first_response_hours),
        manifest={
            "gtmsim": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "simpy": simpy.__version__,
            "scenario": sc.name,
            "scenario_hash": sc.content_hash(),
            "seed": sc.simulation.seed,
            "replication": world.replication,
            "horizon_days": world.horizon,
            "state_names": list(STATE_NAMES) + ["new"],
            "event_log_rows": rec.event_rows,
            "wall_time_s": wall_time_s,
        },
    )
