"""design_points and sweep: grids and samples, int handling, pairing across points, best()."""

from __future__ import annotations

import numpy as np
import pytest

import gtmsim
from gtmsim.experiment.sweep import RoundedLevels, SweepResult, design_points, point_name, sweep
from tests.conftest import BASE

# ------------------------------------------------------------------ design_points


def test_grid_is_the_cartesian_product_with_inclusive_ends():
    points = design_points({"a": (0.0, 1.0, 3), "b": [True, False]})
    assert len(points) == 6
    assert points[0] == {"a": 0.0, "b": True}
    assert points[-1] == {"a": 1.0, "b": False}
    assert sorted({p["a"] for p in points}) == [0.0, 0.5, 1.0]
    assert all(list(p) == ["a", "b"] for p in points)


def test_grid_keeps_integer_ranges_int_and_drops_repeated_levels():
    points = design_points({"sales.sdr.headcount": (8, 16, 5)})
    assert [p["sales.sdr.headcount"] for p in points] == [8, 10, 12, 14, 16]
    assert all(type(p["sales.sdr.headcount"]) is int for p in points)
    with pytest.warns(RoundedLevels, match=r"k: 5 evenly spaced steps .* running 10, 11, 12"):
        crowded = design_points({"k": (10, 12, 5)})
    assert [p["k"] for p in crowded] == [10, 11, 12]
    assert design_points({"k": (1.0, 2.0, 2)}) == [{"k": 1.0}, {"k": 2.0}]
    assert design_points({"k": (3, 7, 1)}) == [{"k": 3}]


@pytest.mark.parametrize("design, n", [("lhs", 20), ("sobol", 32)])
def test_samples_have_n_points_within_bounds_and_ints_for_int_ranges(design, n):
    vary = {"x": (2.0, 5.0), "k": (1, 4), "y": (0.0, 1.0, 7)}  # steps ignored here
    points = design_points(vary, design, n=n, seed=3)
    assert len(points) == n
    xs = np.array([p["x"] for p in points])
    ks = [p["k"] for p in points]
    assert xs.min() >= 2.0 and xs.max() <= 5.0
    assert len(set(xs.tolist())) == n  # continuous: no repeats
    assert all(type(k) is int for k in ks) and set(ks) == {1, 2, 3, 4}
    assert design_points(vary, design, n=n, seed=3) == points
    assert design_points(vary, design, n=n, seed=4) != points


def test_lhs_puts_one_point_in_each_stratum():
    points = design_points({"x": (0.0, 10.0)}, "lhs", n=10, seed=0)
    assert sorted(int(p["x"]) for p in points) == list(range(10))


def test_sobol_needs_a_power_of_two():
    with pytest.raises(ValueError, match="power of 2.*got 12; use 8 or 16"):
        design_points({"x": (0.0, 1.0)}, "sobol", n=12)
    assert len(design_points({"x": (0.0, 1.0)}, "sobol", n=16)) == 16


@pytest.mark.parametrize(
    "vary, design, n, match",
    [
        ({"handoff.sla_hours": (8.0, 1.0, 3)}, "grid", None, "handoff.sla_hours: lo .* greater"),
        (
            {"handoff.sla_hours": (1.0, 8.0, 0)},
            "grid",
            None,
            "handoff.sla_hours: steps .* at least 1",
        ),
        (
            {"handoff.sla_hours": (1.0, 8.0)},
            "grid",
            None,
            r"handoff.sla_hours: .*\(lo, hi, steps\)",
        ),
        ({"handoff.sla_hours": ("a", 8.0, 2)}, "grid", None, "handoff.sla_hours: lo must be"),
        ({"handoff.route": ["pooled"]}, "lhs", 4, "handoff.route: explicit values"),
        ({"handoff.route": []}, "grid", None, "handoff.route: the list of values is empty"),
        ({"x": (0.0, 1.0)}, "lhs", None, "needs n"),
        ({"x": (0.0, 1.0, 2)}, "grid", 4, "n is for"),
        ({"x": (0.0, 1.0, 2)}, "factorial", None, "design must be one of"),
        ({}, "grid", None, "vary is empty"),
    ],
)
def test_bad_specs_raise_value_errors_naming_the_key(vary, design, n, match):
    with pytest.raises(ValueError, match=match):
        design_points(vary, design, n=n)


def test_point_names():
    assert point_name({"handoff.sla_hours": 4, "sales.sdr.headcount": 10}) == (
        "handoff.sla_hours=4, sales.sdr.headcount=10"
    )
    assert point_name({"x": 1 / 3, "route": "pooled"}) == "x=0.333333, route=pooled"


# ------------------------------------------------------------------ sweep


@pytest.fixture(scope="module")
def short():
    return gtmsim.load_scenario(BASE, {"simulation.horizon_days": 30})


@pytest.fixture(scope="module")
def headcount_sweep(short):
    return sweep(
        short,
        {"sales.sdr.headcount": (2, 12, 3)},
        replications=2,
        executor="serial",
        metrics=["inquiries", "mqls_worked"],
    )


def test_sweep_runs_one_design_per_point(headcount_sweep):
    result = headcount_sweep
    assert isinstance(result, SweepResult)
    assert result.points == [{"sales.sdr.headcount": h} for h in (2, 7, 12)]
    assert result.keys == ["sales.sdr.headcount"]
    assert result.ensemble.designs == [f"sales.sdr.headcount={h}" for h in (2, 7, 12)]
    assert [s.sales.sdr.headcount for s in result.ensemble.scenarios] == [2, 7, 12]
    assert result.ensemble.values.shape[:2] == (3, 2)


def test_sweep_points_share_common_random_numbers(headcount_sweep):
    # SDR headcount does not change arrivals: with common random numbers every
    # point sees exactly the same inquiries in each replication.
    inquiries = headcount_sweep.ensemble.metric("inquiries")
    assert np.array_equal(inquiries[0], inquiries[1]) and np.array_equal(inquiries[0], inquiries[2])
    assert inquiries[0, 0] != inquiries[0, 1]  # but replications differ


def test_sweep_table_has_one_row_per_point_and_metric(headcount_sweep):
    table = headcount_sweep.table()
    assert len(table) == 6
    assert list(table.columns) == [
        "design",
        "sales.sdr.headcount",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "n",
    ]
    rows = [r for r in table.rows() if r["metric"] == "mqls_worked"]
    assert [r["sales.sdr.headcount"] for r in rows] == [2, 7, 12]
    for r in table.rows():
        assert r["n"] == 2 and r["ci_low"] <= r["mean"] <= r["ci_high"]
    worked = headcount_sweep.ensemble.metric("mqls_worked").mean(axis=1)
    assert [r["mean"] for r in rows] == pytest.approx(worked.tolist())
    one = headcount_sweep.table(["bookings"])
    assert one["metric"] == ["bookings"] * 3
    assert len(table.to_pandas()) == 6


def test_best_picks_the_point_with_the_highest_or_lowest_mean(headcount_sweep):
    worked = headcount_sweep.ensemble.metric("mqls_worked").mean(axis=1)
    best = headcount_sweep.best("mqls_worked")
    assert best == headcount_sweep.points[int(np.argmax(worked))]
    assert best == {"sales.sdr.headcount": 12}  # more SDRs work more MQLs in a month
    worst = headcount_sweep.best("mqls_worked", maximize=False)
    assert worst == headcount_sweep.points[int(np.argmin(worked))]
    best["sales.sdr.headcount"] = 0  # a copy
    assert headcount_sweep.points[2] == {"sales.sdr.headcount": 12}
    with pytest.raises(KeyError, match="no metric"):
        headcount_sweep.best("no_such_metric")


def test_sweep_over_two_keys_with_a_sample(short):
    result = sweep(
        short,
        {"handoff.sla_hours": (1.0, 24.0), "sales.sdr.headcount": (6, 14)},
        design="lhs",
        n=3,
        replications=1,
        executor="serial",
        seed=7,
    )
    assert len(result.points) == 3 and len(result.ensemble.designs) == 3
    assert result.ensemble.manifest["seed"] == 7
    for point, s in zip(result.points, result.ensemble.scenarios, strict=True):
        assert s.handoff.sla_hours == point["handoff.sla_hours"]
        assert s.sales.sdr.headcount == point["sales.sdr.headcount"]
    assert len(result.table(["bookings"])) == 3


def test_unknown_keys_and_bad_values_fail_before_running(short):
    with pytest.raises(gtmsim.ScenarioError, match="handoff.sla_hourz"):
        sweep(short, {"handoff.sla_hourz": [1, 2]}, executor="serial")
    with pytest.raises(gtmsim.ScenarioError, match="sales.sdr.headcount"):
        sweep(short, {"sales.sdr.headcount": [-3]}, executor="serial")
    with pytest.raises(ValueError, match="handoff.sla_hours: lo"):
        sweep(short, {"handoff.sla_hours": (4.0, 1.0, 2)}, executor="serial")


def test_repeated_points_get_distinct_design_names(short):
    result = sweep(short, {"handoff.sla_hours": [4, 4]}, replications=1, executor="serial")
    assert result.ensemble.designs == ["handoff.sla_hours=4", "handoff.sla_hours=4#2"]
