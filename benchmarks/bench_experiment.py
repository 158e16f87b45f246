"""Experiment benchmark: replications per second, serial versus a process pool versus Dask.

Run from the repository root::

    python benchmarks/bench_experiment.py            # full: 8 one-year replications per executor
    python benchmarks/bench_experiment.py --quick    # smoke test: short horizon

Figures:

1. replications/s in this process (serial);
2. replications/s on a local process pool with one worker per core;
3. their ratio, the speed-up (target: at least 1.8 on 2 cores);
4. replications/s on a Dask LocalCluster with as many worker processes, and its
   overhead relative to the pool (when ``distributed`` is installed).

Every executor must give bit-identical results; the script checks that too.
Benchmarks report, they do not gate: the exit code is always 0.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import gtmsim

BASE = Path(__file__).resolve().parents[1] / "scenarios" / "base" / "market.toml"
TARGET_SPEEDUP = 1.8


def timed(scenario, replications: int, executor, workers=None):
    t0 = time.perf_counter()
    ensemble = gtmsim.run_experiment(scenario, replications, executor=executor, workers=workers)
    return ensemble, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short horizon, for a smoke test")
    ap.add_argument("--replications", type=int, default=None, help="per executor (default 8)")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args(argv)

    cores = os.cpu_count() or 1
    n = args.replications or (4 if args.quick else 8)
    overrides = {"simulation.horizon_days": 30} if args.quick else {}
    scenario = gtmsim.load_scenario(BASE, overrides)
    print(
        f"scenario {scenario.name} ({scenario.simulation.horizon_days:g} days), {n} replications, {cores} cores"
    )

    gtmsim.run_experiment(scenario, 1, executor="serial")  # warm imports and caches
    serial, t_serial = timed(scenario, n, "serial")
    pool, t_pool = timed(scenario, n, "process", workers=cores)
    figures = {
        "cores": cores,
        "replications": n,
        "serial_replications_per_s": n / t_serial,
        "pool_replications_per_s": n / t_pool,
        "speedup": t_serial / t_pool,
        "pool_identical": bool(np.array_equal(serial.values, pool.values, equal_nan=True)),
    }
    try:
        import distributed
    except ImportError:
        distributed = None
    if distributed is not None:
        with (
            distributed.LocalCluster(
                n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            timed(scenario, 1, client)  # workers import gtmsim once
            dask, t_dask = timed(scenario, n, client)
        figures["dask_replications_per_s"] = n / t_dask
        figures["dask_over_pool_time"] = t_dask / t_pool
        figures["dask_identical"] = bool(np.array_equal(serial.values, dask.values, equal_nan=True))

    print(f"  serial       {figures['serial_replications_per_s']:8.2f} replications/s")
    print(
        f"  process pool {figures['pool_replications_per_s']:8.2f} replications/s ({cores} workers)"
    )
    verdict = "PASS" if figures["speedup"] >= TARGET_SPEEDUP else "FAIL"
    print(
        f"  speed-up     {figures['speedup']:8.2f} x  (target >= {TARGET_SPEEDUP} on 2 cores: {verdict})"
    )
    if "dask_replications_per_s" in figures:
        print(
            f"  dask cluster {figures['dask_replications_per_s']:8.2f} replications/s "
            f"({figures['dask_over_pool_time']:.2f} x the pool's time)"
        )
    print(
        f"  bit-identical results: pool {figures['pool_identical']}, dask {figures.get('dask_identical')}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
