"""optimise(): grid search of one setting under common random numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gtmsim
from gtmsim.experiment import optimise as optimise_module
from gtmsim.experiment.ensemble import Ensemble
from gtmsim.experiment.executors import ProcessExecutor
from gtmsim.experiment.optimise import OptimiseResult, optimise
from tests.conftest import BASE


@pytest.fixture(scope="module")
def short():
    return gtmsim.load_scenario(BASE, {"simulation.horizon_days": 30})


# --------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def sdrs(short) -> OptimiseResult:
    # more SDRs work more of the MQLs: the most SDRs in the range should win
    return optimise(
        short, "sales.sdr.headcount", (2, 16), "mqls_worked", replications=3,
        executor=ProcessExecutor(2),
    )  # fmt: skip


def test_more_sdrs_work_more_mqls(sdrs):
    assert isinstance(sdrs.best_value, int)
    assert sdrs.best_value >= 13
    assert sdrs.candidates["value"] == list(range(2, 17))  # few integers: every one
    assert set(sdrs.candidates["round"]) == {1}
    assert sdrs.best_ci[0] <= sdrs.best_mean <= sdrs.best_ci[1]
    row = sdrs.candidates.where(value=sdrs.best_value)[0]
    assert row["mean"] == sdrs.best_mean and row["n"] == 3
    assert sdrs.best_mean >= max(sdrs.candidates["mean"])
    assert sdrs.scenario.sales.sdr.headcount == sdrs.best_value
    assert "sales.sdr.headcount = " in str(sdrs)


def test_candidates_share_common_random_numbers(sdrs):
    (ensemble,) = sdrs.ensembles  # one round, one run_experiment call
    assert len({s.simulation.seed for s in ensemble.scenarios}) == 1
    inquiries = ensemble.metric("inquiries")
    assert np.all(inquiries == inquiries[0])  # the same leads reach every candidate
    assert len(set(inquiries[0])) > 1  # ... and replications differ from each other
    # the current value (12) is a candidate: it is not run twice
    assert "current" not in ensemble.designs and sdrs.current_value == 12


def test_paired_difference_against_the_current_value(sdrs):
    best = sdrs.ensembles[0].metric("mqls_worked")
    names = sdrs.ensembles[0].designs
    diff = best[names.index(f"sales.sdr.headcount={sdrs.best_value}")] - best[names.index(
        "sales.sdr.headcount=12"
    )]  # fmt: skip
    assert math.isclose(sdrs.difference, diff.mean())
    assert sdrs.difference_ci[0] <= sdrs.difference <= sdrs.difference_ci[1]
    assert math.isclose(sdrs.difference, sdrs.best_mean - sdrs.current_mean)
    assert sdrs.difference >= 0


def test_a_first_response_target_is_met_and_beats_no_target(short):
    # reps respond within the SLA: the tightest SLA gives the fastest first response
    result = optimise(
        short, "handoff.sla_hours", (0.5, 48), "first_response_hours_median",
        maximize=False, replications=3, candidates=5, executor=ProcessExecutor(2),
    )  # fmt: skip
    assert result.current_value is None  # the base has no SLA
    assert result.best_value == pytest.approx(0.5)
    assert isinstance(result.best_value, float)
    assert max(result.candidates["round"]) == 3  # a coarse grid and two refinements
    refined = [r["value"] for r in result.candidates.rows() if r["round"] > 1]
    assert refined and max(refined) < 48 / 4 + 0.5  # the refinements stay near the best
    # the paired difference against the scenario as given (no SLA) is clearly negative
    assert result.difference < 0 and result.difference_ci[1] < 0
    assert result.ensembles[0].designs[0] == "current"
    assert result.scenario.handoff.sla_hours == pytest.approx(0.5)


def test_explicit_candidates_are_evaluated_once(short):
    result = optimise(
        short, "sales.sdr.headcount", (1, 20), "inquiries",
        candidates=[8, 4, 12, 4], replications=2, executor="serial",
    )  # fmt: skip
    assert result.candidates["value"] == [4, 8, 12]
    assert len(result.ensembles) == 1
    # every candidate sees the same inquiries: the metric cannot tell them apart
    assert len(set(result.candidates["mean"])) == 1
    assert result.best_value == 4  # a tie goes to the smallest value
    assert result.difference == 0 and result.difference_ci == (0.0, 0.0)


# --------------------------------------------------------------------------- search logic


def fake_experiment(objective, key_of):
    """A stand-in for run_experiment: metric "bookings" = objective(value) + CRN noise."""
    calls = []

    def run(designs, replications, *, seed, executor, progress=None):
        names = list(designs)
        scenarios = list(designs.values())
        luck = np.linspace(-1.0, 1.0, replications)  # replication r's luck, shared
        values = np.array([[[objective(key_of(s)) + x] for x in luck] for s in scenarios])
        calls.append(names)
        if progress:
            progress(len(names) * replications, len(names) * replications)
        return Ensemble(
            names, scenarios, list(range(replications)), ["bookings"], values,
            {}, [], np.zeros((len(names), replications, 0), dtype=np.int64),
        )  # fmt: skip

    return run, calls


def test_a_float_optimum_inside_the_range_is_refined(short, monkeypatch):
    run, calls = fake_experiment(
        lambda v: -((v - 0.437) ** 2), lambda s: s.marketing.scoring.mql_threshold
    )
    monkeypatch.setattr(optimise_module, "run_experiment", run)
    seen = []
    result = optimise(
        short, "marketing.scoring.mql_threshold", (0.0, 1.0), "bookings",
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert len(calls) == 3  # a coarse grid and two refinements, one experiment each
    assert "current" in calls[0] and "current" not in calls[1]
    # resolution after two refinements: 1/8 * 2/8 * 2/8 of the range
    assert abs(result.best_value - 0.437) <= 1 / 128 / 2 + 1e-12
    assert result.current_value == 0.45
    assert result.difference > 0
    assert seen[-1][0] == seen[-1][1] == sum(len(c) for c in calls) * 8


def test_a_wide_integer_range_is_refined_to_the_exact_integer(short, monkeypatch):
    run, calls = fake_experiment(lambda v: -abs(v - 637), lambda s: s.sales.ae.headcount)
    monkeypatch.setattr(optimise_module, "run_experiment", run)
    result = optimise(short, "sales.ae.headcount", (1, 2000), "bookings", maximize=True)
    assert result.best_value == 637
    assert len(result.candidates) < 80  # far fewer than the 2000 values
    assert len(calls) >= 2
    values = result.candidates["value"]
    assert values == sorted(values) and all(isinstance(v, int) for v in values)


def test_minimise_picks_the_smallest_mean(short, monkeypatch):
    run, _ = fake_experiment(lambda v: (v - 3.2) ** 2, lambda s: s.handoff.retry_after_hours)
    monkeypatch.setattr(optimise_module, "run_experiment", run)
    result = optimise(short, "handoff.retry_after_hours", (0, 10), "bookings", maximize=False)
    assert abs(result.best_value - 3.2) < 10 / 128
    assert result.best_mean == min(result.candidates["mean"])


def test_integer_can_be_forced_on_a_float_setting(short, monkeypatch):
    run, _ = fake_experiment(lambda v: -((v - 7.4) ** 2), lambda s: s.handoff.retry_after_hours)
    monkeypatch.setattr(optimise_module, "run_experiment", run)
    result = optimise(short, "handoff.retry_after_hours", (0, 20), "bookings", integer=True)
    assert result.best_value == 7 and result.candidates["value"] == list(range(21))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ((5, 5), "low < high"),
        ((9, 3), "low < high"),
        ((0.0, math.nan), "finite"),
        ((1, "ten"), "finite"),
        ((1, 2, 3), "pair"),
        ("1,5", "pair"),
        ((2.2, 2.8), "no integer"),
        ((-3, 5), "rejects"),  # a negative head count
    ],
)
def test_bad_bounds_are_a_clear_value_error(short, bounds, message):
    with pytest.raises(ValueError, match=message):
        optimise(short, "sales.sdr.headcount", bounds, "deals_won", executor="serial")


def test_unknown_or_non_numeric_settings_and_metrics(short):
    with pytest.raises(ValueError, match="did you mean 'sales.sdr.headcount'"):
        optimise(short, "sales.sdr.headcont", (1, 5), "deals_won")
    with pytest.raises(ValueError, match="not a number"):
        optimise(short, "handoff.route", (1, 5), "deals_won")
    with pytest.raises(ValueError, match="did you mean 'deals_won'"):
        optimise(short, "sales.sdr.headcount", (1, 5), "deal_won")
    with pytest.raises(ValueError, match="replications"):
        optimise(short, "sales.sdr.headcount", (1, 5), "deals_won", replications=1)
    with pytest.raises(ValueError, match="outside the bounds"):
        optimise(short, "sales.sdr.headcount", (1, 5), "deals_won", candidates=[2, 9])
