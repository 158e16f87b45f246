"""Dask as users run it: executor="dask" on the active distributed.Client, and a scheduler
address whose client is closed after the run (no traceback at exit)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import gtmsim
from tests.conftest import ROOT

distributed = pytest.importorskip("distributed")

DEFINED = str(ROOT / "scenarios" / "defined.toml")


def short():
    return gtmsim.load_scenario(DEFINED, {"simulation.horizon_days": 10})


def cluster(**kw):
    """One worker thread in this process: cheap, and enough to run replications."""
    return distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, **kw
    )


def no_client() -> bool:
    try:
        distributed.default_client()
    except ValueError:
        return True
    return False


def test_executor_dask_runs_on_the_active_client():
    serial = gtmsim.run_experiment(short(), 2, executor="serial")
    with cluster() as c, distributed.Client(c):
        ensemble = gtmsim.run_experiment(short(), 2, executor="dask")
    assert ensemble.manifest["executor"] == "dask"
    np.testing.assert_array_equal(ensemble.values, serial.values)


def test_executor_dask_without_a_client_says_what_to_do():
    assert no_client()
    with pytest.raises(ValueError, match="active distributed.Client, and there is none"):
        gtmsim.run_experiment(short(), 1, executor="dask")


def test_a_scheduler_address_is_used_and_its_client_closed_after_the_run():
    with cluster(protocol="tcp") as c:
        ensemble = gtmsim.run_experiment(short(), 2, executor=c.scheduler_address)
        assert ensemble.manifest["executor"] == "dask"
        assert no_client(), "the client opened for the address is left open"
        command = [sys.executable, "-m", "gtmsim", "compare", DEFINED, "-n", "2"]
        command += ["--set", "simulation.horizon_days=10", "--executor", "dask"]
        command += ["--scheduler", c.scheduler_address]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr
    assert "1 designs, 2 paired replications" in done.stdout
