"""run_experiment, Ensemble and compare: pairing, executors, resume, failures, the bridge."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gtmsim
from gtmsim.experiment import run as run_module
from tests.conftest import BASE


def short(**overrides):
    o = {"simulation.horizon_days": 45, **overrides}
    return gtmsim.load_scenario(BASE, o)


@pytest.fixture(scope="module")
def pair():
    designs = {
        "base": short(),
        "fast": short(**{"handoff.sla_hours": 1, "handoff.route": "pooled"}),
    }
    return gtmsim.run_experiment(designs, 6, executor="serial")


def test_identical_designs_give_exactly_zero_paired_difference():
    e = gtmsim.run_experiment({"a": short(), "b": short()}, 4, executor="serial")
    assert np.array_equal(e.values[0], e.values[1], equal_nan=True)
    table = gtmsim.compare(e, "a", metrics=["bookings", "deals_won", "mqls"])
    assert table["difference"] == [0.0, 0.0, 0.0]
    assert table["ci_low"] == [0.0, 0.0, 0.0] and table["ci_high"] == [0.0, 0.0, 0.0]


def test_one_seed_pairs_designs_even_when_their_files_differ():
    a = short(**{"simulation.seed": 1})
    b = short(**{"simulation.seed": 2, "name": "other"})
    e = gtmsim.run_experiment([a, b], 2, executor="serial")
    assert {s.simulation.seed for s in e.scenarios} == {1}
    assert e.designs == ["base", "other"]
    assert np.array_equal(e.metric("inquiries")[0], e.metric("inquiries")[1])


def test_ensemble_shapes_summary_and_pandas(pair):
    assert pair.values.shape[:2] == (2, 6)
    assert pair.weekly["bookings_usd"].shape[:2] == (2, 6)
    s = pair.summary(["bookings"])
    assert len(s) == 2 and s["n"] == [6, 6]
    for row in s.rows():
        assert row["ci_low"] <= row["mean"] <= row["ci_high"]
    df = pair.to_pandas()
    assert len(df) == 12 and "bookings" in df.columns
    assert sum(pair.state_counts[0, 0]) == pair.metric("leads_created")[0, 0]


def test_compare_reports_paired_differences_and_what_pairing_bought(pair):
    table = gtmsim.compare(pair, "base", metrics=["deals_won", "inquiries"])
    deals = table.where(metric="deals_won")[0]
    b, f = pair.metric("deals_won")
    assert math.isclose(deals["difference"], (f - b).mean())
    assert deals["ci_low"] <= deals["difference"] <= deals["ci_high"]
    assert deals["better"] == "higher" and deals["p_improves"] == (f > b).mean()
    assert deals["variance_reduction"] > 0
    inquiries = table.where(metric="inquiries")[0]
    assert inquiries["difference"] == 0  # the same leads arrive in both designs
    assert inquiries["variance_reduction"] == math.inf


def test_revenue_bridge_adds_up_exactly(pair):
    bridge = gtmsim.revenue_bridge(pair, "base", "fast")
    steps = [r["contribution_usd"] for r in bridge.where(kind="step")]
    (total,) = [r["contribution_usd"] for r in bridge.where(kind="total")]
    assert bridge["kind"][-1] == "total" and len(steps) == 11
    assert math.isclose(sum(steps), total, rel_tol=1e-9, abs_tol=1e-6)
    b, f = pair.metric("bookings")
    assert math.isclose(total, f.mean() - b.mean())
    # a design compared with itself: every contribution is zero
    assert all(c == 0 for c in gtmsim.revenue_bridge(pair, "base", "base")["contribution_usd"])


def test_executors_give_bit_identical_results():
    designs = [short(), short(**{"sales.sdr.headcount": 6, "name": "lean"})]
    serial = gtmsim.run_experiment(designs, 3, executor="serial")
    pool = gtmsim.run_experiment(designs, 3, executor="process", workers=2)
    assert np.array_equal(serial.values, pool.values, equal_nan=True)
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        dask = gtmsim.run_experiment(designs, 3, executor=client)
    assert np.array_equal(serial.values, dask.values, equal_nan=True)
    assert dask.manifest["executor"] == "dask"


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path):
    designs = [short(), short(**{"handoff.max_attempts": 1, "name": "one_attempt"})]
    full = gtmsim.run_experiment(designs, 4, executor="serial")

    def interrupt_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(gtmsim.ExperimentInterrupted) as info:
        gtmsim.run_experiment(
            designs, 4, executor="serial", out=tmp_path, progress=interrupt_after_three
        )
    assert info.value.finished == 3
    assert len(list((tmp_path / "replications").rglob("*.npz"))) == 3
    calls = []
    resumed = gtmsim.run_experiment(
        designs, 4, executor="serial", out=tmp_path, progress=lambda d, t: calls.append(d)
    )
    assert calls[0] == 3  # the three finished ones were reused, not rerun
    assert np.array_equal(full.values, resumed.values, equal_nan=True)
    loaded = gtmsim.Ensemble.load(tmp_path)
    assert np.array_equal(loaded.values, full.values, equal_nan=True)
    assert loaded.designs == full.designs and loaded.manifest["replications"] == 4


def test_replications_saved_by_another_engine_are_run_again(monkeypatch, tmp_path):
    scenario = short()
    first = gtmsim.run_experiment(scenario, 2, executor="serial", out=tmp_path)
    monkeypatch.setattr(run_module, "ENGINE", "a-changed-model")
    calls = []
    again = gtmsim.run_experiment(
        scenario, 2, executor="serial", out=tmp_path, progress=lambda d, t: calls.append(d)
    )
    assert calls == [1, 2]  # nothing reused: the saved ones came from another engine
    assert np.array_equal(first.values, again.values, equal_nan=True)
    assert len(list((tmp_path / "replications").rglob("*.npz"))) == 2  # replaced, not added
    monkeypatch.undo()
    assert run_module.ReplicationStore(tmp_path).get(scenario.content_hash(), 0) is None


def test_a_failed_replication_is_reported_with_its_seed_and_scenario(monkeypatch, tmp_path):
    real = run_module.run_replication

    def flaky(task):
        if task[1] == 1:
            raise RuntimeError("boom")
        return real(task)

    monkeypatch.setattr(run_module, "run_replication", flaky)
    scenario = short()
    with pytest.raises(gtmsim.ExperimentError) as info:
        gtmsim.run_experiment(scenario, 3, executor="serial", out=tmp_path)
    (failure,) = info.value.failures
    assert failure.replication == 1 and failure.seed == scenario.simulation.seed
    assert failure.scenario_hash == scenario.content_hash() and "boom" in failure.error
    assert len(list((tmp_path / "replications").rglob("*.npz"))) == 2  # the others were kept


def test_auto_replications_stop_at_the_precision_asked_for():
    e = gtmsim.run_experiment(
        short(), "auto", executor="serial", key_metric="inquiries", rel_half_width=0.02
    )
    mean, half = gtmsim.results.summary.mean_ci(e.metric("inquiries")[0])
    assert half <= 0.02 * mean
    assert e.manifest["replications"] >= 8


def test_auto_replications_say_when_they_stop_at_the_cap_short_of_the_precision():
    with pytest.warns(gtmsim.PrecisionNotReached, match="cap of 3"):
        ens = gtmsim.run_experiment(
            short(), "auto", rel_half_width=1e-6, max_replications=3, executor="serial"
        )
    assert ens.manifest["replications"] == 3 and ens.manifest["precision_reached"] is False


def test_bad_replications_argument():
    with pytest.raises(ValueError, match="auto"):
        gtmsim.run_experiment(short(), 0)


def test_a_negative_seed_is_refused_before_anything_runs():
    with pytest.raises(ValueError, match="seed: expected a whole number >= 0, got -1"):
        gtmsim.run_experiment(short(), 2, seed=-1, executor="serial")
