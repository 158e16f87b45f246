"""Confidence intervals stay in the range a metric can take; the means do not move."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import gtmsim
from gtmsim.results.metrics import METRICS, metric_range
from gtmsim.results.summary import mean_ci, mean_interval
from tests.conftest import BASE

shares = st.lists(st.floats(0, 1), min_size=2, max_size=30)
counts = st.lists(
    st.one_of(st.integers(0, 10**6).map(float), st.floats(0, 1e9)), min_size=2, max_size=30
)


@given(shares, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_a_share_interval_lies_in_0_1_and_holds_its_mean(values, level):
    mean, low, high = mean_interval(values, level, "share")
    assert mean == mean_ci(values, level)[0]
    assert 0.0 <= low <= mean <= high <= 1.0 or math.isclose(low, high)


@given(counts)
def test_a_count_interval_is_not_below_0_and_holds_its_mean(values):
    mean, low, high = mean_interval(values, 0.95, "count")
    assert mean == mean_ci(values)[0]
    assert 0.0 <= low <= mean * (1 + 1e-12) and high >= mean * (1 - 1e-12)


@given(st.lists(st.floats(0, 1e6), min_size=2, max_size=20))
def test_a_non_negative_interval_is_the_t_interval_cut_at_0(values):
    mean, half = mean_ci(values)
    assert mean_interval(values, 0.95, "non_negative") == (mean, max(0.0, mean - half), mean + half)


def test_far_from_its_bounds_a_share_interval_is_the_t_interval():
    x = 0.5 + 0.001 * np.sin(np.arange(20))
    mean, half = mean_ci(x)
    _, low, high = mean_interval(x, 0.95, "share")
    assert math.isclose(low, mean - half, rel_tol=1e-4)
    assert math.isclose(high, mean + half, rel_tol=1e-4)


def test_near_0_the_t_interval_would_go_negative_and_these_do_not():
    x = [0.0, 0.0, 0.0, 0.1]
    mean, half = mean_ci(x)
    assert mean - half < 0
    _, low, high = mean_interval(x, 0.95, "share")
    assert 0 < low < mean < high < 1
    _, low, high = mean_interval([0, 0, 0, 2], 0.95, "count")
    assert 0 < low < 0.5 < high


def test_values_outside_the_range_fall_back_to_the_t_interval():
    mean, half = mean_ci([1.1, 1.5, 1.2])
    assert mean_interval([1.1, 1.5, 1.2], 0.95, "share") == (mean, mean - half, mean + half)
    mean, half = mean_ci([-1.0, 2.0, 5.0])
    assert mean_interval([-1.0, 2.0, 5.0], 0.95, "count") == (mean, mean - half, mean + half)


def test_every_metric_with_a_range_is_a_metric_and_breakdowns_inherit_it():
    from gtmsim.results.metrics import METRIC_RANGES

    assert set(METRIC_RANGES) <= set(METRICS)
    assert set(METRIC_RANGES.values()) == {"share", "rate", "change", "count", "non_negative"}
    assert metric_range("deals_won.channel.referral") == "count"
    assert metric_range("bookings.segment.smb") == "count"
    assert metric_range("win_rate") == "share"
    assert metric_range("bookings_net_of_gtm_cost_usd") is None
    # every metric has a range but net figures and levels, which can take any value: a new
    # metric must say (a growth rate too, which is shown as a percent)
    unbounded = {"bookings_net_of_gtm_cost_usd", "mql_threshold_end"}
    assert set(METRICS) - set(METRIC_RANGES) == unbounded


def test_a_summary_keeps_shares_in_0_1_and_counts_above_0_with_the_plain_means():
    scenario = gtmsim.load_scenario(BASE, {"simulation.horizon_days": 20})
    ensemble = gtmsim.run_experiment(scenario, 3, executor="serial")
    summary = ensemble.summary()
    for row in summary.rows():
        data = ensemble.metric(row["metric"])[0]
        data = data[~np.isnan(data)]
        if data.size:
            assert row["mean"] == float(data.mean())
        kind = metric_range(row["metric"])
        if row["n"] < 2 or kind in (None, "change"):
            continue
        assert row["ci_low"] >= 0.0, row
        if kind == "share":
            assert row["ci_high"] <= 1.0, row
