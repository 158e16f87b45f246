"""--out folders: another run's folder refused unless --force, which clears that run's
files; one run at a time (a lock); stray temporary files removed; a damaged replication
named and run again."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import gtmsim
from gtmsim.cli import main
from gtmsim.experiment.run import DamagedReplication
from gtmsim.results.storage import LOCK_FILE, OutputInUse, output_lock
from tests.conftest import ROOT

SHORT = ["--set", "simulation.horizon_days=10", "-n", "2", "--executor", "serial"]
DEFINED, ALIGNED = str(ROOT / "scenarios/defined.toml"), str(ROOT / "scenarios/aligned.toml")


def scenario(path: str = DEFINED):
    return gtmsim.load_scenario(path, {"simulation.horizon_days": 10})


def folders(out) -> set[str]:
    return {p.name for p in (out / "replications").iterdir()}


def test_every_command_with_out_refuses_another_runs_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["compare", DEFINED, ALIGNED, *SHORT, "--out", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    sweep = ["sweep", DEFINED, "--vary", "sales.ae.headcount=8,10", *SHORT, "--out", str(out)]
    calibration = tmp_path / "targets.toml"
    calibration.write_text(
        f'horizon_days = 10\nreplications = 2\n[designs]\nx = "{ROOT / "scenarios/oc2.toml"}"\n'
        '[[rows]]\nkind = "value"\nsection = "A"\nlabel = "x"\ndesign = "x"\nmetric = "mqls"\n'
    )
    for command in (
        sweep,
        ["compare", DEFINED, *SHORT, "--out", str(out)],
        ["attribute", DEFINED, ALIGNED, *SHORT, "--out", str(out)],
        ["calibration", "--targets", str(calibration), "--out", str(out)],
    ):
        assert main(command) == 2, command
        assert "holds the results of another run" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_force_removes_the_previous_runs_files_it_would_not_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["compare", DEFINED, ALIGNED, *SHORT, "--out", str(out)]) == 0
    (out / "notes.txt").write_text("mine")  # not gtmsim's: left alone
    (out / "bridge_aligned.csv").write_text("step\n")  # as a run long enough to win writes
    defined, aligned = scenario().content_hash(), scenario(ALIGNED).content_hash()
    assert folders(out) == {defined, aligned}
    assert main(["compare", DEFINED, *SHORT, "--out", str(out), "--force"]) == 0
    assert folders(out) == {defined}  # its own replications are reused
    assert not list(out.glob("bridge_*.csv"))
    assert [p.name for p in (out / "scenarios").iterdir()] == ["defined.toml"]
    assert (out / "notes.txt").read_text() == "mine"
    sweep = ["sweep", DEFINED, "--vary", "sales.ae.headcount=8,10", *SHORT, "--out", str(out)]
    assert main([*sweep, "--force"]) == 0
    assert defined not in folders(out) and len(folders(out)) == 2
    for name in ("comparison.csv", "summary.csv", "replications.csv", "scenarios"):
        assert not (out / name).exists(), name
    assert gtmsim.Ensemble.load(out).designs[0].startswith("sales.ae.headcount=")


def test_the_api_refuses_another_runs_folder_unless_forced(tmp_path):
    gtmsim.run_experiment(scenario(), 1, executor="serial", out=tmp_path)
    with pytest.raises(OutputInUse, match="another run"):
        gtmsim.run_experiment(scenario(ALIGNED), 1, executor="serial", out=tmp_path)
    gtmsim.run_experiment(scenario(ALIGNED), 1, executor="serial", out=tmp_path, force=True)


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path):
    command = [sys.executable, "-m", "gtmsim", "compare", DEFINED, *SHORT, "--out", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with output_lock(tmp_path):  # as a run in this process holds it
        with output_lock(tmp_path):  # nested in one process: shared
            pass
        second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert second.returncode == 2, second.stderr
    assert "is in use: another gtmsim run (process " in second.stderr
    assert "Traceback" not in second.stderr
    # the lock file stays behind, but a lock nobody holds does not block
    assert (tmp_path / LOCK_FILE).exists()
    gtmsim.run_experiment(scenario(), 1, executor="serial", out=tmp_path)


def test_stray_temporaries_go_and_a_damaged_replication_is_named_and_run_again(tmp_path):
    first = gtmsim.run_experiment(scenario(), 2, executor="serial", out=tmp_path)
    folder = tmp_path / "replications" / scenario().content_hash()
    damaged = folder / "r000001.npz"
    damaged.write_bytes(damaged.read_bytes()[:200])  # a write cut short by a crash
    stray = [folder / ".r000000.npz.x1y2.tmp", tmp_path / ".manifest.json.k3.tmp"]
    for path in stray:
        path.write_text("half")
    with pytest.warns(DamagedReplication, match=f"{damaged} is damaged"):
        again = gtmsim.run_experiment(scenario(), 2, executor="serial", out=tmp_path)
    np.testing.assert_array_equal(again.values, first.values)
    assert not any(path.exists() for path in stray)
    with np.load(damaged) as data:  # replaced by a whole file
        assert "metric_values" in data.files
