"""Engine benchmark: how fast and how lean is gtmsim, next to the models users might write?

Run from the repository root::

    python benchmarks/bench_engine.py              # full run, about a minute
    python benchmarks/bench_engine.py --commands   # also time gtmsim compare and calibration
    python benchmarks/bench_engine.py --quick      # smoke test, a few seconds
    python benchmarks/bench_engine.py --quick --memory --json out.json

Figures (see benchmarks/README.md):

1. bare SimPy events/s: one process yielding ``env.timeout(1)`` N times, best of 3;
2. leads/s and CPU seconds of the reference year (scenarios/base/market.toml);
3. ratio of (2, median leads/s) to (1), with bare measurements interleaved between runs;
4. peers on the same leads per year: a one-process-per-lead SimPy model, and an
   M/M/12 queue in Ciw (if installed: ``pip install -e .[bench]``);
5. work per lead: SimPy events and rep tasks (contact attempts, deal meetings,
   self-sourced meetings);
6. peak RSS of a ~1M-lead run with the event log off, in a child process;
7. ``import gtmsim`` in a fresh process;
8. with ``--commands``: wall time of the README's ``gtmsim compare`` and of
   ``gtmsim calibration`` (the slowest command a user meets).

Benchmarks report, they do not gate: the exit code is always 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import simpy

import gtmsim
from gtmsim.model.handoff import SpeedToLead
from gtmsim.model.sales import SalesTeam
from gtmsim.model.world import World

BASE = Path(__file__).resolve().parents[1] / "scenarios" / "base" / "market.toml"
TARGETS = {
    "leads_per_s": 100_000,
    "cpu_s_per_year": 0.2,  # the reference year, World built and run, median CPU seconds
    "vs_naive": 3.0,  # gtmsim leads/s over the one-process-per-lead SimPy model's
    "peak_rss_mb": 500,
    "import_s": 0.4,
    "calibration_wall_s": 30.0,  # on 2 cores
}
ROOT = Path(__file__).resolve().parents[1]
README_COMPARE = ["compare", "scenarios/*.toml", "--baseline", "scenarios/over_the_wall.toml"]


# ---------------------------------------------------------------- measurements


def bare_rate(n: int, repeats: int = 3) -> float:
    """Events per second of one SimPy process yielding ``env.timeout(1)`` n times; best of repeats."""

    def ticker(env):
        for _ in range(n):
            yield env.timeout(1)

    best = 0.0
    for _ in range(repeats):
        env = simpy.Environment()
        env.process(ticker(env))
        t0 = time.perf_counter()
        env.run()
        best = max(best, n / (time.perf_counter() - t0))
    return best


def reference_run(scenario, replication: int) -> tuple[int, float, float]:
    """Leads, wall and CPU seconds of one replication (World construction and run; no loading)."""
    t0, c0 = time.perf_counter(), time.process_time()
    world = World(scenario, replication).run()
    return world.store.n, time.perf_counter() - t0, time.process_time() - c0


def work_per_lead(scenario, replication: int = 0) -> dict[str, float]:
    """What one replication asks of Python, per lead: SimPy events and rep tasks (not timed).

    Rep tasks are the units of per-lead work that cannot be vectorised: contact
    attempts, deal meetings and self-sourced first meetings, each an hour-consuming
    step of one rep's process.
    """
    counts = {"contact attempts": 0, "deal meetings": 0, "self-sourced meetings": 0}
    # each attempt reads the speed-to-lead curve once (the rep loop retries inline)
    names = {(SpeedToLead, "__call__"): "contact attempts"}
    names[SalesTeam, "deal_step"] = "deal meetings"
    names[SalesTeam, "new_prospect"] = "self-sourced meetings"
    originals = {key: getattr(*key) for key in names}

    def counting(key):
        def wrapper(*args, **kwargs):
            counts[names[key]] += 1
            return originals[key](*args, **kwargs)

        return wrapper

    for key in names:
        setattr(*key, counting(key))
    try:
        world = World(scenario, replication).run()
    finally:
        for (cls, name), method in originals.items():
            setattr(cls, name, method)
    leads = world.store.n
    events = next(world.env._eid)  # SimPy numbers every event it schedules
    tasks = sum(counts.values())
    return {
        "leads": leads,
        "simpy_events_per_lead": events / leads,
        "rep_tasks_per_lead": tasks / leads,
        **{f"{k}_per_lead": v / leads for k, v in counts.items()},
    }


def naive_run(leads_per_year: float, horizon_days: float, seed: int) -> tuple[int, float]:
    """A textbook SimPy model: one process per lead, 12 servers at ~80% utilisation."""
    rng = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=12)
    rate = leads_per_year / 365.0  # leads per day
    mean_service = 0.8 * servers.capacity / rate
    created = 0

    def lead(env):
        with servers.request() as req:
            yield req
            yield env.timeout(rng.expovariate(1.0 / mean_service))

    def arrivals(env):
        nonlocal created
        while True:
            yield env.timeout(rng.expovariate(rate))
            env.process(lead(env))
            created += 1

    env.process(arrivals(env))
    t0 = time.perf_counter()
    env.run(until=horizon_days)
    return created, time.perf_counter() - t0


def ciw_run(leads_per_year: float, horizon_days: float, seed: int) -> tuple[int, float] | None:
    """An M/M/12 queue at ~80% utilisation in Ciw, the same arrivals as :func:`naive_run`."""
    try:
        import ciw
    except ImportError:
        return None
    rate = leads_per_year / 365.0
    mean_service = 0.8 * 12 / rate
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=rate)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / mean_service)],
        number_of_servers=[12],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    t0 = time.perf_counter()
    sim.simulate_until_max_time(horizon_days)
    return len(sim.get_all_individuals()), time.perf_counter() - t0


def import_seconds(repeats: int = 5) -> float:
    """Best of ``repeats`` fresh processes: seconds spent in ``import gtmsim``."""
    code = "import time; t = time.perf_counter(); import gtmsim; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
            ).stdout
        )  # fmt: skip
        for _ in range(repeats)
    ]
    return min(runs)


def command_seconds(args: list[str]) -> float:
    """Wall seconds of one ``gtmsim`` command run from the repository root (shell globs expanded)."""
    expanded = [a for arg in args for a in (sorted(map(str, ROOT.glob(arg))) or [arg])]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gtmsim", *expanded], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - t0


def scaled_overrides(factor: float) -> dict[str, float]:
    """Overrides multiplying every channel's paid and organic lead volume by factor."""
    scenario = gtmsim.load_scenario(BASE)
    overrides = {}
    for name, ch in scenario.market.channels.items():
        overrides[f"market.channels.{name}.max_leads_per_week"] = ch.max_leads_per_week * factor
        overrides[f"market.channels.{name}.organic_leads_per_week"] = (
            ch.organic_leads_per_week * factor
        )
    return overrides


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def memory_child(kind: str, factor: float) -> None:
    """Body of the child process: print peak RSS (and leads, wall time) as one JSON line."""
    scenario = gtmsim.load_scenario(BASE, scaled_overrides(factor))
    out = {"leads": 0, "wall_s": 0.0}
    if kind == "run":
        t0 = time.perf_counter()
        result = gtmsim.simulate(scenario, replication=0)  # event log off (the default)
        out = {"leads": int(result.metrics["leads_created"]), "wall_s": time.perf_counter() - t0}
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


def in_child(kind: str, factor: float) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--factor", str(factor)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_test(factor: float) -> dict | None:
    """Peak RSS of a scaled one-year run and of a child that only imports and loads.

    Linux carries a parent's peak RSS into ru_maxrss of the children it spawns, so
    this must run while the parent is still small (its peak is returned too).
    """
    parent = peak_rss_mb()
    try:
        base, run = in_child("baseline", factor), in_child("run", factor)
    except subprocess.CalledProcessError as exc:  # report, do not gate
        print(f"5. memory run failed:\n{exc.stderr}")
        return None
    return {
        "factor": factor,
        "leads": run["leads"],
        "wall_s": run["wall_s"],
        "peak_rss_mb": run["peak_rss_mb"],
        "baseline_rss_mb": base["peak_rss_mb"],
        "parent_rss_at_spawn_mb": parent,
    }


# ---------------------------------------------------------------- reporting


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "simpy": simpy.__version__,
        "gtmsim": gtmsim.__version__,
        "cpu_count": os.cpu_count(),
    }


def verdict(value, target, below: bool = False) -> str:
    if value is None:
        return "SKIP"
    return "PASS" if (value < target if below else value >= target) else "FAIL"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    ap.add_argument("--memory", action="store_true", help="with --quick: run the 1M-lead test too")
    ap.add_argument(
        "--commands", action="store_true", help="also time gtmsim compare and gtmsim calibration"
    )
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    ap.add_argument(
        "--factor", type=float, default=16.0, help="lead volume scale of the memory run"
    )
    ap.add_argument("--child", choices=["baseline", "run"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        memory_child(args.child, args.factor)
        return 0

    n_bare = 30_000 if args.quick else 300_000
    reps = 1 if args.quick else 5
    naive_repeats = 1 if args.quick else 3
    overrides = {"simulation.horizon_days": 30} if args.quick else None
    info = machine()
    # 6 is measured first: children inherit the parent's peak RSS (see memory_test)
    memory = memory_test(args.factor) if args.memory or not args.quick else None
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    print(f"mode: {'quick' if args.quick else 'full'}\n")

    # 1-3. reference scenario, bare SimPy measured before, between and after the runs
    scenario = gtmsim.load_scenario(BASE, overrides)
    horizon = scenario.simulation.horizon_days
    World(scenario, 0).run()  # warm-up: scipy and the first-use imports
    bare = [bare_rate(n_bare)]
    runs = []
    for r in range(reps):
        leads, wall, cpu = reference_run(scenario, r)
        runs.append((leads, wall, cpu))
        bare.append(bare_rate(n_bare))
        print(
            f"  replication {r}: {leads:,} leads in {wall:.3f} s ({cpu:.3f} s CPU) = "
            f"{leads / wall:,.0f} leads/s"
        )
    rates = [leads / wall for leads, wall, _ in runs]
    leads_best, leads_median = max(rates), statistics.median(rates)
    cpu_median, cpu_min = statistics.median(c for *_, c in runs), min(c for *_, c in runs)
    bare_mean = statistics.mean(bare)
    ratio = leads_median / bare_mean
    print(
        f"1. bare SimPy: {bare_mean:,.0f} events/s (mean of {len(bare)} best-of-3 measurements "
        f"of N={n_bare:,}; range {min(bare):,.0f}-{max(bare):,.0f})"
    )
    print(
        f"2. reference scenario ({horizon:g} days, {reps} replications, "
        f"hash {scenario.content_hash()}): best {leads_best:,.0f} leads/s, median "
        f"{leads_median:,.0f} leads/s; CPU per year median {cpu_median:.3f} s, best {cpu_min:.3f} s"
    )
    print(f"3. ratio leads/s (median) / bare events/s: {ratio:.3f}")

    # 4. peers on the same leads per simulated year and horizon, bracketed by bare measurements
    leads_per_year = statistics.median(leads for leads, *_ in runs) * 365.0 / horizon
    naive_bare = [bare_rate(n_bare)]
    naive = []
    for seed in range(naive_repeats):
        naive.append(naive_run(leads_per_year, horizon, seed))
        naive_bare.append(bare_rate(n_bare))
    naive_rate = statistics.median(leads / wall for leads, wall in naive)
    naive_ratio = naive_rate / statistics.mean(naive_bare)
    vs_naive = ratio / naive_ratio  # each rate over the bare SimPy rate measured around it
    print(
        f"4. peers: one-process-per-lead SimPy model ({naive[0][0]:,} leads, {horizon:g} days): "
        f"{naive_rate:,.0f} leads/s, ratio {naive_ratio:.3f}; gtmsim {vs_naive:.2f} times as fast"
    )
    ciw = ciw_run(leads_per_year, horizon, 0)
    ciw_rate = ciw_ratio = vs_ciw = None
    if ciw is None:
        print("   Ciw M/M/12: not installed (pip install -e .[bench])")
    else:
        ciw_bare = bare_rate(n_bare)
        ciw_rate = ciw[0] / ciw[1]
        ciw_ratio = ciw_rate / ciw_bare
        vs_ciw = ratio / ciw_ratio
        print(
            f"   Ciw M/M/12 ({ciw[0]:,} customers): {ciw_rate:,.0f} leads/s, ratio "
            f"{ciw_ratio:.3f}; gtmsim {vs_ciw:.2f} times as fast"
        )

    # 5. what each lead costs, in SimPy events and rep tasks
    work = work_per_lead(scenario)
    bare_per_lead = 1.0 / ratio
    per_task = bare_per_lead / work["rep_tasks_per_lead"]
    print(
        f"5. work per lead (replication 0): {work['simpy_events_per_lead']:.2f} SimPy events, "
        f"{work['rep_tasks_per_lead']:.2f} rep tasks ("
        + ", ".join(
            f"{work[f'{k}_per_lead']:.2f} {k}"
            for k in ("contact attempts", "deal meetings", "self-sourced meetings")
        )
        + f"); each lead costs {bare_per_lead:.1f} bare-event times, about {per_task:.1f} per "
        "rep task"
    )

    # 6. peak memory of a ~1M-lead year, isolated in child processes (measured above)
    if memory:
        print(
            f"6. {memory['leads']:,}-lead run (channels x{args.factor:g}, event log off): "
            f"{memory['wall_s']:.1f} s, peak RSS {memory['peak_rss_mb']:.0f} MB "
            f"(baseline: import + load {memory['baseline_rss_mb']:.0f} MB; "
            f"parent at spawn {memory['parent_rss_at_spawn_mb']:.0f} MB)"
        )
    elif args.quick and not args.memory:
        print("6. 1M-lead memory run: skipped (--quick without --memory)")

    # 7-8. what a user waits for
    import_s = import_seconds(2 if args.quick else 5)
    print(f"7. import gtmsim: {import_s:.3f} s (best of fresh processes)")
    commands = {}
    if args.commands:
        commands["compare_wall_s"] = command_seconds(README_COMPARE)
        commands["calibration_wall_s"] = command_seconds(["calibration"])
        print(
            f"8. gtmsim {' '.join(README_COMPARE)}: {commands['compare_wall_s']:.1f} s wall; "
            f"gtmsim calibration: {commands['calibration_wall_s']:.1f} s wall "
            f"({os.cpu_count()} cores)"
        )

    # summary
    peak = memory["peak_rss_mb"] if memory else None
    mb = (lambda key: f"{memory[key]:.0f}") if memory else (lambda key: "skipped")
    t = TARGETS
    calibration = commands.get("calibration_wall_s")
    table = [
        ("figure", "measured", "target", "result"),
        ("bare SimPy events/s", f"{bare_mean:,.0f}", "", ""),
        ("leads/s, best", f"{leads_best:,.0f}", "", ""),
        (
            "leads/s, median",
            f"{leads_median:,.0f}",
            f">= {t['leads_per_s']:,}",
            verdict(leads_median, t["leads_per_s"]),
        ),
        (
            "CPU s per reference run, median",
            f"{cpu_median:.3f}",
            f"<= {t['cpu_s_per_year']}",
            verdict(cpu_median, t["cpu_s_per_year"], below=True),
        ),
        ("ratio leads/s / bare events/s", f"{ratio:.3f}", "", ""),
        ("naive model leads/s (ratio)", f"{naive_rate:,.0f} ({naive_ratio:.3f})", "", ""),
        (
            "gtmsim / naive model, leads/s",
            f"{vs_naive:.2f}",
            f">= {t['vs_naive']}",
            verdict(vs_naive, t["vs_naive"]),
        ),
        (
            "Ciw M/M/12 leads/s (ratio)",
            "not installed" if ciw is None else f"{ciw_rate:,.0f} ({ciw_ratio:.3f})",
            "",
            "",
        ),
        ("peak RSS, 1M-lead run (MB)", mb("peak_rss_mb"), f"< {t['peak_rss_mb']}", verdict(peak, t["peak_rss_mb"], True)),
        ("baseline RSS, import + load (MB)", mb("baseline_rss_mb"), "", ""),
        ("import gtmsim (s)", f"{import_s:.3f}", f"<= {t['import_s']}", verdict(import_s, t["import_s"], True)),
        (
            "gtmsim calibration, wall s",
            "skipped" if calibration is None else f"{calibration:.1f}",
            f"<= {t['calibration_wall_s']:g}",
            verdict(calibration, t["calibration_wall_s"], True),
        ),
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    print("\nsummary")
    for row in table:
        print(("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))).rstrip())

    if args.json:
        figures = {
            "mode": "quick" if args.quick else "full",
            "machine": info,
            "bare_events_per_s": {"mean": bare_mean, "measurements": bare, "n": n_bare},
            "reference": {
                "horizon_days": horizon,
                "scenario_hash": scenario.content_hash(),
                "runs": [{"leads": n, "wall_s": w, "cpu_s": c} for n, w, c in runs],
                "leads_per_s_best": leads_best,
                "leads_per_s_median": leads_median,
                "cpu_s_median": cpu_median,
                "ratio": ratio,
            },
            "naive": {
                "runs": [{"leads": leads, "wall_s": wall} for leads, wall in naive],
                "leads_per_s_median": naive_rate,
                "bare_events_per_s": naive_bare,
                "ratio": naive_ratio,
                "gtmsim_times_as_fast": vs_naive,
            },
            "ciw": None
            if ciw is None
            else {"leads": ciw[0], "wall_s": ciw[1], "ratio": ciw_ratio, "gtmsim_times_as_fast": vs_ciw},
            "work_per_lead": work,
            "memory": memory,
            "import_s": import_s,
            "commands": commands,
            "targets": TARGETS,
            "results": {
                "leads_per_s": verdict(leads_median, t["leads_per_s"]),
                "cpu_s_per_year": verdict(cpu_median, t["cpu_s_per_year"], below=True),
                "vs_naive": verdict(vs_naive, t["vs_naive"]),
                "peak_rss_mb": verdict(peak, t["peak_rss_mb"], below=True),
                "import_s": verdict(import_s, t["import_s"], below=True),
                "calibration_wall_s": verdict(calibration, t["calibration_wall_s"], below=True),
            },
        }  # fmt: skip
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
