"""The public API: names, result shapes, the event log and the policy seam."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

import gtmsim
from gtmsim.model.world import World
from gtmsim.results.metrics import METRICS
from tests.conftest import BASE

REQUIRED = (
    "leads_created",
    "mqls",
    "accepted",
    "opportunities",
    "deals_won",
    "bookings",
    "marketing_spend",
    "first_response_hours_median",
    "mqls_never_followed_up_share",
    "ae_quota_missed_share",
    "win_rate",
)


@pytest.fixture(scope="module")
def short():
    return gtmsim.load_scenario(BASE, {"simulation.horizon_days": 28})


@pytest.fixture(scope="module")
def result(short):
    return gtmsim.simulate(short, replication=2)


def test_public_names():
    for name in ("load_scenario", "simulate", "Scenario", "RunResult", "ScenarioError", "METRICS"):
        assert name in gtmsim.__all__ and hasattr(gtmsim, name)


def test_required_metrics_are_present_and_documented(result):
    for key in REQUIRED:
        assert key in result.metrics and key in METRICS
    undocumented = [k for k in result.metrics if "." not in k and k not in METRICS]
    assert not undocumented
    for key in result.metrics:
        if ".channel." in key or ".segment." in key:
            assert key.split(".")[0] in METRICS, key


def test_weekly_series(result):
    assert set(result.weekly) >= {
        "bookings_usd",
        "pipeline_created_usd",
        "mqls",
        "first_response_hours_mean",
    }
    for series in result.weekly.values():
        assert isinstance(series, np.ndarray) and series.shape == (4,)
    assert result.weekly["mqls"].sum() == result.metrics["mqls"]
    assert math.isclose(result.weekly["bookings_usd"].sum(), result.metrics["bookings"])


def test_funnel_and_reps(result):
    m = result.metrics
    assert result.funnel.shape == (5, len(result.funnel_labels["channel"]), 3)
    assert result.funnel[0].sum() == m["leads_created"]
    assert m["leads_created"] == sum(
        m[f"leads_created.channel.{c}"] for c in result.funnel_labels["channel"]
    )
    assert m["inquiries"] + m["prospects_created"] == m["leads_created"]
    assert len(result.reps["ae"]["name"]) == 40 and len(result.reps["sdr"]["name"]) == 12
    assert math.isclose(result.reps["ae"]["bookings_usd"].sum(), m["bookings"])


def test_manifest(result, short):
    assert result.manifest["scenario_hash"] == short.content_hash() == result.scenario_hash
    assert result.manifest["replication"] == 2 and result.manifest["seed"] == short.simulation.seed
    assert result.manifest["wall_time_s"] > 0


def test_scenarios_that_differ_only_in_order_have_different_hashes(short):
    # stage order is the deal's path, and channel order is the order of the draws:
    # both change what is simulated, so a saved replication must not be reused across them
    data = short.model_dump(mode="json")
    stages = list(data["deals"]["stages"].items())
    stages[1], stages[2] = stages[2], stages[1]
    swapped = {**data, "deals": {**data["deals"], "stages": dict(stages)}}
    channels = dict(reversed(list(data["market"]["channels"].items())))
    reordered = {**data, "market": {**data["market"], "channels": channels}}
    hashes = {gtmsim.load_scenario(d).content_hash() for d in (data, swapped, reordered)}
    assert len(hashes) == 3
    assert gtmsim.load_scenario(data).content_hash() == short.content_hash()


def test_simulate_rejects_bad_arguments(short):
    with pytest.raises(TypeError, match="load_scenario"):
        gtmsim.simulate({"name": "x"})
    with pytest.raises(ValueError, match="replication"):
        gtmsim.simulate(short, replication=-1)


def test_event_log_is_streamed_to_csv(tmp_path, short):
    path = tmp_path / "events.csv"
    result = gtmsim.simulate(short, event_log=path)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        "case_id", "activity", "timestamp", "timestamp_days", "resource", "channel", "segment",
        "before_run",
    ]  # fmt: skip
    assert len(rows) - 1 == result.manifest["event_log_rows"] > result.metrics["leads_created"]
    activities = {r[1] for r in rows[1:]}
    assert {"created", "mql", "attempt", "accepted", "stage:discovery"} <= activities
    created = sum(1 for r in rows[1:] if r[1] == "created")
    assert created == result.metrics["leads_created"]
    # the log is only a view: the run is the same with it on or off
    assert gtmsim.simulate(short).metrics == pytest.approx(result.metrics, nan_ok=True)


class RaiseThreshold:
    """A test policy: every 7 days, marketing raises the MQL bar."""

    every_days = 7

    def __init__(self):
        self.calls = []

    def __call__(self, world, day):
        self.calls.append((day, int(world.rec.funnel[1].sum())))
        world.marketing.mql_threshold += 0.1


def test_policies_run_on_schedule_and_move_knobs(short):
    policy = RaiseThreshold()
    world = World(short, 0, policies=[policy]).run()
    plain = World(short, 0).run()
    assert [d for d, _ in policy.calls] == [0, 7, 14, 21]
    assert policy.calls[1][1] > 0  # it read the recorded state
    assert world.rec.funnel[1].sum() < plain.rec.funnel[1].sum()  # fewer MQLs
    with pytest.raises(RuntimeError):
        world.run()
