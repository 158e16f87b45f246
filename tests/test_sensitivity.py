"""Sobol' indices: the Ishigami function's known indices, and a smoke run on the engine."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gtmsim
from gtmsim.experiment.sensitivity import sobol_indices_of, sobol_sensitivity
from tests.conftest import BASE

COLUMNS = [
    "input",
    "first_order",
    "total_order",
    "first_order_low",
    "first_order_high",
    "total_order_low",
    "total_order_high",
]

# Ishigami with a = 7, b = 0.1 on [-pi, pi]^3: analytic indices.
FIRST = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
TOTAL = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def ishigami(x):
    return np.sin(x["x1"]) + 7 * np.sin(x["x2"]) ** 2 + 0.1 * x["x3"] ** 4 * np.sin(x["x1"])


PI_BOUNDS = {k: (-math.pi, math.pi) for k in ("x1", "x2", "x3")}


def test_recovers_the_ishigami_indices():
    table = sobol_indices_of(ishigami, PI_BOUNDS, n=4096, seed=1, n_resamples=0)
    assert list(table.columns) == COLUMNS and table["input"] == ["x1", "x2", "x3"]
    for row in table.rows():
        assert row["first_order"] == pytest.approx(FIRST[row["input"]], abs=0.03)
        assert row["total_order"] == pytest.approx(TOTAL[row["input"]], abs=0.03)
        assert math.isnan(row["first_order_low"]) and math.isnan(row["total_order_high"])


def test_bootstrap_intervals_cover_the_ishigami_indices_and_are_reproducible():
    table = sobol_indices_of(ishigami, PI_BOUNDS, n=1024, seed=2, n_resamples=100)
    for row in table.rows():
        name = row["input"]
        assert row["first_order_low"] <= FIRST[name] <= row["first_order_high"]
        assert row["total_order_low"] <= TOTAL[name] <= row["total_order_high"]
        assert row["first_order_high"] - row["first_order_low"] < 0.2
    state = np.random.get_state()  # noqa: NPY002 - the bootstrap must leave it alone
    again = sobol_indices_of(ishigami, PI_BOUNDS, n=1024, seed=2, n_resamples=100)
    assert again.columns == table.columns
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(state[1], after[1]) and state[2] == after[2]


def test_an_additive_function_has_equal_first_and_total_indices():
    def additive(x):
        return 2.0 * x["a"] + x["b"]

    table = sobol_indices_of(additive, {"a": (0.0, 1.0), "b": (0.0, 1.0)}, n=1024, seed=0)
    (a, b) = table.rows()
    assert a["first_order"] == pytest.approx(0.8, abs=0.02)
    assert b["first_order"] == pytest.approx(0.2, abs=0.02)
    for row in (a, b):
        assert row["total_order"] == pytest.approx(row["first_order"], abs=0.02)


def test_integer_bounds_give_a_discrete_uniform_input():
    seen = set()

    def f(x):
        seen.update(x["k"].tolist())
        return x["k"] + 0.0 * x["u"]

    table = sobol_indices_of(f, {"k": (1, 4), "u": (0.0, 1.0)}, n=256, seed=0, n_resamples=0)
    assert seen == {1.0, 2.0, 3.0, 4.0}
    assert table["first_order"][0] == pytest.approx(1.0, abs=0.05)
    assert table["total_order"][1] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "bounds, n, func, match",
    [
        (PI_BOUNDS, 1000, ishigami, "power of 2"),
        ({"x": (1.0, 1.0)}, 8, ishigami, "x: lo .* less than hi"),
        ({"x": (0.0, 1.0, 3)}, 8, ishigami, r"x: give a range \(lo, hi\)"),
        ({}, 8, ishigami, "bounds is empty"),
        ({"x": (0.0, 1.0)}, 8, lambda x: np.zeros(3), "one value per point"),
        ({"x": (0.0, 1.0)}, 8, lambda x: np.full(x["x"].shape, np.inf), "non-finite"),
    ],
)
def test_bad_arguments(bounds, n, func, match):
    with pytest.raises(ValueError, match=match):
        sobol_indices_of(func, bounds, n=n, seed=0)


# ------------------------------------------------------------------ on the engine


@pytest.fixture(scope="module")
def short():
    return gtmsim.load_scenario(BASE, {"simulation.horizon_days": 20})


def test_sobol_sensitivity_smoke(short):
    calls = []
    table = sobol_sensitivity(
        short,
        {"sales.sdr.headcount": (2, 12), "handoff.sla_hours": (1.0, 24.0)},
        "mqls_worked",
        n=8,
        replications=1,
        executor="serial",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert list(table.columns) == COLUMNS
    assert table["input"] == ["sales.sdr.headcount", "handoff.sla_hours"]
    assert all(math.isfinite(v) for v in table["first_order"] + table["total_order"])
    assert calls and calls[-1] == (8 * 4, 8 * 4)  # n (d + 2) points, one replication each
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_sobol_sensitivity_checks_its_arguments_before_running(short):
    other = {"sales.ae.headcount": (30, 50)}
    with pytest.raises(gtmsim.ScenarioError, match="handoff.sla_hourz"):
        sobol_sensitivity(short, {"handoff.sla_hourz": (1.0, 2.0), **other}, "bookings", n=8)
    with pytest.raises(gtmsim.ScenarioError, match="sales.sdr.headcount"):
        sobol_sensitivity(short, {"sales.sdr.headcount": (-2, 3), **other}, "bookings", n=8)
    with pytest.raises(ValueError, match="unknown metric"):
        sobol_sensitivity(short, {"handoff.sla_hours": (1.0, 2.0), **other}, "bookingz", n=8)
    with pytest.raises(ValueError, match="power of 2"):
        sobol_sensitivity(short, {"handoff.sla_hours": (1.0, 2.0), **other}, "bookings", n=12)
    with pytest.raises(ValueError, match="handoff.sla_hours: lo"):
        sobol_sensitivity(short, {"handoff.sla_hours": (2.0, 1.0), **other}, "bookings", n=8)
    with pytest.raises(ValueError, match="at least two settings"):
        sobol_sensitivity(short, {"handoff.sla_hours": (1.0, 2.0)}, "bookings", n=8)
