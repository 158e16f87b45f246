"""The benchmark suite still runs (its figures are recorded in benchmarks/RESULTS.md)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_engine_benchmark_quick_mode_runs():
    out = subprocess.run(
        [sys.executable, "benchmarks/bench_engine.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    for figure in ("bare", "leads/s", "ratio"):
        assert figure in out.stdout
