"""Robust-comparison benchmark: the five shipped designs in 32 plausible worlds, 2 replications.

Run from the repository root::

    python benchmarks/bench_robust.py            # full: one simulated year, 32 worlds, 2 replications
    python benchmarks/bench_robust.py --quick    # smoke test: 30 days, 4 worlds, 1 replication

It does what this command does (with a fresh output folder, so nothing is resumed)::

    gtmsim robust scenarios/defined.toml scenarios/aligned.toml scenarios/oc2.toml \\
        scenarios/integrated.toml --baseline scenarios/over_the_wall.toml --samples 32 -n 2

Figures: wall time of the whole run (drawing the worlds, every run on a local
process pool of one worker per core, the statistics), simulations per second,
and the time of the statistics alone. Benchmarks report, they do not gate: the
exit code is always 0.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import gtmsim

ROOT = Path(__file__).resolve().parents[1] / "scenarios"
BASELINE = ROOT / "over_the_wall.toml"
DESIGNS = [ROOT / f"{name}.toml" for name in ("defined", "aligned", "oc2", "integrated")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short horizon and few worlds")
    ap.add_argument("--samples", type=int, help="worlds (default 32, quick 4)")
    ap.add_argument("--replications", type=int, help="per design and world (default 2, quick 1)")
    ap.add_argument(
        "--out", metavar="DIR", help="keep the runs there (default: a temporary folder)"
    )
    args = ap.parse_args(argv)

    samples = args.samples or (4 if args.quick else 32)
    replications = args.replications or (1 if args.quick else 2)
    overrides = {"simulation.horizon_days": 30} if args.quick else {}
    scenarios = [gtmsim.load_scenario(f, overrides) for f in [BASELINE, *DESIGNS]]
    cores = os.cpu_count() or 1
    runs = len(scenarios) * samples * replications
    days = scenarios[0].simulation.horizon_days
    print(
        f"{len(scenarios)} designs x {samples} worlds x {replications} replications = {runs} "
        f"runs of {days:g} days, process pool of {cores} workers"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "robust"
        t0 = time.perf_counter()
        result = gtmsim.robust(scenarios, samples=samples, replications=replications, out=out)
        wall = time.perf_counter() - t0
        t1 = time.perf_counter()
        text = str(result)
        statistics = time.perf_counter() - t1
    print(f"wall time: {wall:.1f} s ({runs / wall:.2f} runs/s)")
    print(f"statistics and table: {statistics:.2f} s")
    print()
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
