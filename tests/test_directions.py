"""Which way is better for each metric, and the commands that pick or count by it."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import gtmsim
from gtmsim.cli import main
from gtmsim.experiment import optimise as optimise_module
from gtmsim.experiment.ensemble import Ensemble
from gtmsim.results.metrics import BETTER, DIRECTIONS, METRICS, better, improves, seeks_higher
from tests.conftest import BASE

SHORT = {"simulation.horizon_days": 30}


def test_every_metric_says_which_way_is_better():
    assert set(BETTER) == set(METRICS)
    assert set(BETTER.values()) <= set(DIRECTIONS)
    expected = {
        "bookings": "higher",
        "deals_won": "higher",
        "win_rate": "higher",
        "first_response_hours_median": "lower",
        "mqls_never_followed_up_share": "lower",
        "ae_quota_missed_share": "lower",
        "cycle_days_median": "lower",
        "mqls": "neither",
        "marketing_spend": "neither",
        "qualify_rate.<1h": "higher",
    }
    assert {k: better(k) for k in expected} == expected


def test_every_metric_a_run_produces_has_a_direction():
    values = gtmsim.simulate(gtmsim.load_scenario(BASE, {"simulation.horizon_days": 7}), 0)
    names = list(values.metrics)
    assert any(".channel." in n for n in names) and any(".segment." in n for n in names)
    for name in names:
        assert better(name) in DIRECTIONS, name
    assert better("bookings.channel.referral") == "higher"
    assert better("mqls.segment.enterprise") == "neither"
    with pytest.raises(KeyError, match="not a metric"):
        better("no_such_metric")


def test_improves_and_seeks_higher_follow_the_direction():
    assert improves("bookings", [2, 1], [1, 1]).tolist() == [True, False]
    assert improves("first_response_hours_median", [2, 0.5], [1, 1]).tolist() == [False, True]
    assert improves("mqls", [2], [1]) is None
    assert seeks_higher("bookings") and not seeks_higher("first_response_hours_median")
    assert seeks_higher("mqls", True) and not seeks_higher("bookings", False)
    with pytest.raises(ValueError, match="neither a higher nor a lower mqls"):
        seeks_higher("mqls")


@pytest.fixture(scope="module")
def sdr_sweep():
    return gtmsim.sweep(
        gtmsim.load_scenario(BASE, SHORT),
        {"sales.sdr.headcount": [1, 12]},
        replications=2,
        executor="serial",
        metrics=["first_response_hours_median", "mqls_worked"],
    )


def test_sweep_best_is_the_lowest_where_lower_is_better(sdr_sweep):
    hours = sdr_sweep.ensemble.metric("first_response_hours_median").mean(axis=1)
    assert hours[1] < hours[0]  # twelve SDRs call back sooner than one
    assert sdr_sweep.best("first_response_hours_median") == {"sales.sdr.headcount": 12}
    assert sdr_sweep.best("first_response_hours_median", maximize=True) == {
        "sales.sdr.headcount": 1
    }
    assert sdr_sweep.best("mqls_worked") == {"sales.sdr.headcount": 12}
    with pytest.raises(ValueError, match="neither"):
        sdr_sweep.best("mqls")


def test_the_sweep_command_names_the_lowest_first_response_as_best(capsys):
    args = ["sweep", str(BASE), "--vary", "sales.sdr.headcount=1,12", "-n", "2"]
    args += ["--metrics", "first_response_hours_median", "--executor", "serial"]
    assert main([*args, "--set", "simulation.horizon_days=30"]) == 0
    out = capsys.readouterr().out
    assert "best first_response_hours_median (lowest): sales.sdr.headcount = 12" in out
    assert main([*args, "--set", "simulation.horizon_days=30", "--maximize"]) == 0
    assert "(highest): sales.sdr.headcount = 1" in capsys.readouterr().out


def test_the_sweep_command_asks_which_way_for_a_metric_with_no_better_way(capsys):
    args = ["sweep", str(BASE), "--vary", "sales.sdr.headcount=1,12", "--metrics", "mqls"]
    assert main(args) == 2  # before anything runs
    assert "--maximize or --minimize" in capsys.readouterr().err
    csv = ["-n", "1", "--set", "simulation.horizon_days=7", "--executor", "serial", "--csv"]
    assert main([*args, *csv]) == 0  # a table names no best point: nothing to ask
    assert capsys.readouterr().out.startswith("design,sales.sdr.headcount,metric")


@pytest.fixture(scope="module")
def slow_fast():
    designs = {
        "slow": gtmsim.load_scenario(BASE, {**SHORT, "sales.sdr.headcount": 2}),
        "fast": gtmsim.load_scenario(BASE, {**SHORT, "sales.sdr.headcount": 12}),
    }
    return gtmsim.run_experiment(designs, 3, executor="serial")


def test_compare_counts_replications_that_improve_in_the_metric_direction(slow_fast):
    ens = slow_fast
    table = gtmsim.compare(ens, "slow", ["first_response_hours_median", "mqls_worked", "mqls"])
    assert "p_better" not in table.columns
    rows = {r["metric"]: r for r in table.rows()}
    b, d = ens.metric("first_response_hours_median")
    hours = rows["first_response_hours_median"]
    assert hours["better"] == "lower" and hours["difference"] < 0
    assert hours["p_improves"] == (d < b).mean() == 1.0  # faster in every replication
    b, d = ens.metric("mqls_worked")
    assert rows["mqls_worked"]["p_improves"] == (d > b).mean()
    assert rows["mqls"]["better"] == "neither" and math.isnan(rows["mqls"]["p_improves"])


def test_the_report_says_better_in_the_metric_direction(slow_fast):
    from gtmsim.report.html import _comparison

    html = _comparison(slow_fast, "slow", {"slow": "#000000", "fast": "#ffffff"})
    rows = {
        m: row for row in html.split("<tr>") if (m := row.partition("</td>")[0].rpartition(">")[2])
    }
    assert "better in 100%" in rows["first_response_hours_median"]  # sooner in every one
    assert "neither way is better" in rows["mqls"]
    assert "higher in" not in html and "was better" in html


def fake_run(metric, objective):
    """A stand-in for run_experiment: ``metric`` = objective(SLA hours) + shared noise."""

    def run(designs, replications, *, seed, executor, progress=None):
        scenarios = list(designs.values())
        luck = np.linspace(-1.0, 1.0, replications)
        values = np.array(
            [[[objective(s.handoff.sla_hours or 48.0) + x] for x in luck] for s in scenarios]
        )
        return Ensemble(
            list(designs), scenarios, list(range(replications)), [metric], values,
            {}, [], np.zeros((len(scenarios), replications, 0), dtype=np.int64),
        )  # fmt: skip

    return run


def test_optimise_goes_the_metric_better_way_by_default(monkeypatch):
    short = gtmsim.load_scenario(BASE, SHORT)
    metric = "first_response_hours_median"
    monkeypatch.setattr(optimise_module, "run_experiment", fake_run(metric, lambda h: h))
    result = gtmsim.optimise(short, "handoff.sla_hours", (1, 24), metric, replications=2)
    assert not result.maximize and result.best_value == 1
    assert "min first_response_hours_median" in str(result)
    with pytest.raises(ValueError, match="neither"):
        gtmsim.optimise(short, "handoff.sla_hours", (1, 24), "mqls", replications=2)


def test_the_metrics_command_shows_the_direction(capsys):
    assert main(["metrics"]) == 0
    table, _, note = capsys.readouterr().out.partition("\n\n")  # the table, then a note
    lines = table.splitlines()
    assert len(lines) == len(METRICS) and "Confidence intervals" in note
    shown = {line.split()[0]: line.split()[1] for line in lines}
    assert shown == BETTER
    assert re.search(r"^first_response_hours_median +lower +median delay", "\n".join(lines), re.M)
