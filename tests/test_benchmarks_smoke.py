"""The benchmark suite still runs (its figures are recorded in benchmarks/RESULTS.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("script", "figures"),
    [
        ("bench_engine.py", ("bare", "leads/s", "ratio", "work per lead", "per rep task")),
        ("bench_experiment.py", ("serial", "process pool", "speed-up", "bit-identical")),
        ("bench_scaling.py", ("leads", "reps", "growth exponent")),
        ("bench_robust.py", ("wall time", "runs/s", "beats over_the_wall in")),
    ],
)
def test_benchmark_quick_mode_runs(script, figures):
    out = subprocess.run(
        [sys.executable, f"benchmarks/{script}", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    for figure in figures:
        assert figure in out.stdout
    assert "bit-identical results: pool True" in out.stdout or script != "bench_experiment.py"
