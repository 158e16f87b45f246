"""Ctrl-C and SIGTERM during `gtmsim compare --out`: finished replications kept, a quick
exit with 130 or 143, no traceback; after SIGKILL no partial file is read; the resumed run
equals an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gtmsim
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals to a process group")

DESIGNS = [str(ROOT / "scenarios" / "defined.toml"), str(ROOT / "scenarios" / "aligned.toml")]
HORIZON = {"simulation.horizon_days": 20}
N = 4


def compare(out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gtmsim", "compare", *DESIGNS, "-n", str(N), "--jobs", "2"]
    cmd += ["--set", "simulation.horizon_days=20", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # its own process group: the signal reaches the workers too, as a terminal's Ctrl-C does
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip


def saved(out: Path) -> int:
    return len(list((out / "replications").glob("*/r*.npz")))


def interrupt(out: Path, after: int, sig: int) -> tuple[int, str, float]:
    """Start the comparison, send ``sig`` once ``after`` more replications are saved."""
    before = saved(out) if out.exists() else 0
    proc = compare(out)
    deadline = time.monotonic() + 60
    while (saved(out) if out.exists() else 0) < before + after and proc.poll() is None:
        assert time.monotonic() < deadline, "no replication finished"
        time.sleep(0.01)
    sent = time.monotonic()
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err, time.monotonic() - sent


def test_interrupted_runs_resume_to_the_uninterrupted_result(tmp_path):
    out = tmp_path / "run"
    moments = [(1, signal.SIGINT), (1, signal.SIGTERM), (2, signal.SIGINT)]
    for after, sig in moments:
        before = saved(out) if out.exists() else 0
        code, err, took = interrupt(out, after, sig)
        if code == 0:  # the run finished before the signal landed: nothing to check
            break
        assert code == (130 if sig == signal.SIGINT else 143), err
        assert took < 2.0, f"took {took:.2f} s to stop"
        assert "Traceback" not in err, err
        assert "the same command resumes" in err
        kept = saved(out)
        assert kept >= before + after
        if kept < len(DESIGNS) * N:  # else it landed while the tables were being written
            assert f"interrupted after {kept} finished replication(s)" in err
        assert not list(out.rglob("*.tmp"))
    # SIGKILL: no cleanup at all; whatever it was writing must not be read as a replication
    code, err, _ = interrupt(out, 1, signal.SIGKILL)
    if code != 0:
        assert code == -signal.SIGKILL
        for path in (out / "replications").glob("*/r*.npz"):
            with np.load(path) as data:  # whole files only: a write cut short is a .tmp
                assert "metric_values" in data.files
    done = compare(out)  # the lock dies with the killed run: this one is not refused
    _, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    assert not list(out.rglob("*.tmp"))  # a killed write's leftovers are removed
    resumed = gtmsim.Ensemble.load(out)
    scenarios = [gtmsim.load_scenario(f, HORIZON) for f in DESIGNS]
    straight = gtmsim.run_experiment(scenarios, N, executor="serial")
    assert resumed.metrics == straight.metrics
    np.testing.assert_array_equal(resumed.values, straight.values)
    np.testing.assert_array_equal(resumed.state_counts, straight.state_counts)
