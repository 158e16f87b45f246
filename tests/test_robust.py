"""Robust comparisons: designs against a baseline across sampled worlds of the declared ranges.

Bad ranges (low above high, a range on a word setting, an end outside the
setting's allowed values) are in the broken-file corpus, tests/broken/range_*.toml,
which test_broken_scenarios.py checks for file, line and key.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gtmsim
from gtmsim.cli import main
from gtmsim.experiment.robust import RobustResult, plan_worlds
from tests.conftest import ROOT

DAYS = {"simulation.horizon_days": 30}
METRIC = "bookings_net_of_gtm_cost_usd"


def shipped(name: str, extra: dict | None = None) -> gtmsim.Scenario:
    return gtmsim.load_scenario(ROOT / "scenarios" / f"{name}.toml", {**DAYS, **(extra or {})})


def plain(name: str) -> dict:
    """A shipped design as data without any declared range."""
    return shipped(name).model_dump(mode="json")


def with_range(data: dict, section: str, key: str, low, value, high) -> gtmsim.Scenario:
    data = json.loads(json.dumps(data))
    data[section][key] = {"value": value, "low": low, "high": high, "source": "test"}
    return gtmsim.load_scenario(data)


def test_a_design_identical_to_the_baseline_wins_in_no_world_and_differs_by_exactly_zero():
    aligned = shipped("aligned")
    assert aligned.assumptions()  # the shipped design declares ranges
    result = gtmsim.robust(
        {"baseline": aligned, "same": aligned},
        "baseline",
        samples=3,
        replications=1,
        executor="serial",
    )
    assert result.designs == ["same"]
    assert result.win_share("same") == 0.0
    assert np.array_equal(result.differences["same"], np.zeros(3))
    assert result.table()["decided_by"] == [""]  # nothing to split: no world is won


def test_a_single_value_range_gives_the_answer_of_a_plain_comparison():
    base = gtmsim.load_scenario(plain("over_the_wall"))
    design = with_range(plain("aligned"), "deals", "enablement_share", 0.2, 0.2, 0.2)
    result = gtmsim.robust([base, design], samples=2, replications=2, executor="serial")
    assert result.assumptions == [] and result.fixed == ["deals.enablement_share"]
    ensemble = gtmsim.run_experiment([base, design], 2, executor="serial")
    compared = gtmsim.compare(ensemble, 0, [METRIC])
    assert list(result.differences["aligned"]) == [compared["difference"][0]] * 2
    assert result.win_share("aligned") == float(compared["difference"][0] > 0)


finite = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    share=st.tuples(finite, finite).map(sorted),
    heads=st.tuples(st.integers(4, 20), st.integers(4, 20)).map(sorted),
    samples=st.integers(1, 6),
    method=st.sampled_from(["lhs", "sobol"]),
)
def test_every_world_respects_the_declared_ranges(share, heads, samples, method):
    if method == "sobol":
        samples = 1 << (samples - 1).bit_length()  # a power of 2
    data = plain("aligned")
    data["deals"]["enablement_share"] = {"value": share[0], "low": share[0], "high": share[1]}
    data["sales"]["sdr"]["headcount"] = {"value": heads[0], "low": heads[0], "high": heads[1]}
    design = gtmsim.load_scenario(data)
    base = gtmsim.load_scenario(plain("over_the_wall"))
    plan = plan_worlds([base, design], samples=samples, method=method, seed=7)
    assert len(plan.worlds) == 2 * samples
    for i in range(samples):
        world = plan.worlds[f"aligned @ world {i}"]
        assert share[0] <= world.deals.enablement_share <= share[1]
        assert heads[0] <= world.sales.sdr.headcount <= heads[1]
        assert isinstance(world.sales.sdr.headcount, int)
        # the baseline declares no range: it keeps its own values in every world
        assert plan.worlds[f"over_the_wall @ world {i}"].deals == base.deals
    assert ((plan.points >= 0) & (plan.points < 1)).all()


def test_a_world_is_the_same_quantile_of_each_designs_own_range():
    a = with_range(plain("aligned"), "deals", "enablement_share", 0.1, 0.2, 0.4)
    b = with_range(plain("integrated"), "deals", "enablement_share", 0.2, 0.3, 0.6)
    plan = plan_worlds([a, b], samples=5, seed=3)
    ua = (plan.values["aligned"][:, 0] - 0.1) / 0.3
    ub = (plan.values["integrated"][:, 0] - 0.2) / 0.4
    assert np.allclose(ua, ub) and np.allclose(ua, plan.points[:, 0])


def test_resuming_an_interrupted_run_gives_the_uninterrupted_answer(tmp_path):
    designs = [shipped("over_the_wall"), shipped("defined")]
    whole = gtmsim.robust(designs, samples=2, replications=1, executor="serial")

    def stop_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(gtmsim.ExperimentInterrupted):
        gtmsim.robust(
            designs,
            samples=2,
            replications=1,
            executor="serial",
            out=tmp_path,
            progress=stop_after_three,
        )
    seen = []
    resumed = gtmsim.robust(
        designs,
        samples=2,
        replications=1,
        executor="serial",
        out=tmp_path,
        progress=lambda done, total: seen.append(done),
    )
    assert seen[0] == 3  # three runs came from the folder
    assert resumed.to_dict() == whole.to_dict()
    assert RobustResult.load(tmp_path).to_dict() == whole.to_dict()


def test_the_assumption_that_decides_the_ranking_is_found():
    """A design that differs only in a cost with a range wins exactly where that cost is low."""
    base = gtmsim.load_scenario(plain("over_the_wall"))
    data = plain("over_the_wall")
    data["name"] = "cost_unknown"
    data["sales"]["ae"]["cost_usd_per_year"] = {"value": 190000, "low": 100000, "high": 300000}
    design = gtmsim.load_scenario(data)
    result = gtmsim.robust([base, design], samples=6, replications=1, executor="serial")
    cost = result.values["cost_unknown"][:, 0]
    diff = result.differences["cost_unknown"]
    assert list(diff > 0) == list(cost < 190000)  # the cost is all that differs
    row = next(result.table().rows())
    assert 0 < row["wins_share"] < 1
    assert row["decided_by"] == "sales.ae.cost_usd_per_year" and row["ks_statistic"] == 1.0
    assert row["spearman_rho"] == pytest.approx(-1.0)
    assert result.drivers("cost_unknown")["wins_when"] == ["low"]
    assert result.decisive("cost_unknown") == "sales.ae.cost_usd_per_year"


def test_bad_arguments_are_refused_before_anything_runs():
    designs = [shipped("over_the_wall"), shipped("aligned")]
    with pytest.raises(ValueError, match="power of 2"):
        gtmsim.robust(designs, samples=3, method="sobol")
    with pytest.raises(ValueError, match="unknown metric"):
        gtmsim.robust(designs, metric="bookingz")
    with pytest.raises(ValueError, match="method"):
        gtmsim.robust(designs, method="grid")
    with pytest.raises(ValueError, match="at least two"):
        gtmsim.robust(designs[:1])


def test_cli_robust_writes_a_result_that_plot_robust_and_the_report_draw(tmp_path, capsys):
    files = [str(ROOT / "scenarios" / f) for f in ("defined.toml", "over_the_wall.toml")]
    out = tmp_path / "run"
    args = ["robust", *files, "--baseline", files[1], "--samples", "2", "-n", "1"]
    args += ["--executor", "serial", "--set", "simulation.horizon_days=30", "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "defined beats over_the_wall in" in text and "wins_share" in text
    assert main([*args, "--json"]) == 0  # resumes from the folder
    payload = json.loads(capsys.readouterr().out)
    assert payload["baseline"] == "over_the_wall" and payload["designs"] == ["defined"]
    assert payload["samples"] == 2 and len(payload["differences"]["defined"]) == 2
    figure = tmp_path / "robust.png"
    assert main(["plot", "robust", str(out), "-o", str(figure)]) == 0
    assert figure.stat().st_size > 10_000
    report = tmp_path / "report.html"
    args = ["report", *files, "-n", "1", "--set", "simulation.horizon_days=30"]
    assert main([*args, "--executor", "serial", "--robust", str(out), "-o", str(report)]) == 0
    html = report.read_text()
    assert "plausible worlds" in html and "defined" in html
    assert main(["plot", "robust", str(tmp_path / "nothing")]) == 2


def test_result_round_trips_through_json():
    result = gtmsim.robust(
        [shipped("over_the_wall"), shipped("defined")],
        samples=2,
        replications=1,
        executor="serial",
    )
    again = RobustResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.to_dict() == result.to_dict()
    assert str(again) == str(result)
    assert all(math.isfinite(v) for v in result.differences["defined"])


def test_the_gallery_draws_the_robust_figure_of_its_designs():
    import argparse

    from gtmsim.cli.figures import _gallery_robust

    files = [str(ROOT / "scenarios" / f) for f in ("over_the_wall.toml", "aligned.toml")]
    args = argparse.Namespace(
        files=files, set=[], explore_days=30, baseline=None, executor="serial", scheduler=None
    )
    shown = _gallery_robust(args, "over_the_wall")
    assert shown.key == "robust" and "over_the_wall" in shown.caption
    assert "beat over_the_wall" in shown.figure.get_suptitle()


def test_a_lower_is_better_metric_wins_where_the_difference_falls():
    result = RobustResult.__new__(RobustResult)
    result.metric = "first_response_hours_median"  # lower is better
    assert list(result._wins(np.array([-2.0, 0.0, 3.0]))) == [True, False, False]
    result.metric = "bookings"
    assert list(result._wins(np.array([-2.0, 0.0, 3.0]))) == [False, False, True]


def test_a_metric_where_neither_way_is_better_is_refused():
    with pytest.raises(ValueError, match="neither way is better"):
        gtmsim.robust(
            [ROOT / "scenarios/over_the_wall.toml", ROOT / "scenarios/aligned.toml"],
            samples=2,
            replications=1,
            metric="mqls",
        )


def test_quantiles_of_a_share_metric_print_in_percentage_points():
    result = RobustResult(
        baseline="a",
        designs=["b"],
        metric="win_rate",
        assumptions=["x"],
        fixed=[],
        ranges={"a": {"x": [0.0, 1.0]}, "b": {}},
        points=np.array([[0.1], [0.5], [0.9]]),
        values={"a": np.array([[0.1], [0.5], [0.9]]), "b": np.array([[0.2], [0.2], [0.2]])},
        baseline_means=np.array([0.2, 0.25, 0.3]),
        differences={"b": np.array([-0.01, 0.02, 0.05])},
        method="lhs",
        samples=3,
        replications=1,
        seed=1,
    )
    text = str(result)
    assert "+2 pp" in text and "-0.01" not in text  # the median and q05, as the report shows them
    row = result.table().to_text().splitlines()[1]
    assert "+2 pp" in row and "67%" in row  # wins_share stays a share of worlds
    assert result.table()["median"] == [pytest.approx(0.02)]  # the numbers themselves: as they are
