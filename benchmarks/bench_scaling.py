"""Scaling benchmark: is simulation time linear in leads and in reps, for every routing?

Run from the repository root::

    python benchmarks/bench_scaling.py            # every routing, 1x / 4x / 16x
    python benchmarks/bench_scaling.py --quick    # smoke test: round robin, 60 days, 1x / 2x
    python benchmarks/bench_scaling.py --json out.json

Two series on one simulated year of ``scenarios/base/market.toml``, each run in
a child process of its own (its CPU time and peak RSS are its own):

- leads: every channel's volume x1, x4 and x16, the sales teams as they are;
- reps: 40, 160 and 640 AEs (SDRs 12, 48 and 192) with leads in proportion.

For each scale it prints the CPU time, the peak RSS and the time per lead
relative to x1 (1.0 is linear; "growth exponent" b fits time ~ scale^b). Time
per lead can fall with more leads when the sales teams saturate (most leads are
then handled by the vectorised marketing step only), so the reps series, where
the work per lead stays the same, is the test of linearity. Benchmarks report,
they do not gate: the exit code is always 0.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parents[1] / "scenarios" / "base" / "market.toml"
ROUTES = ("round_robin", "least_loaded", "segment", "pooled")
SEGMENTS = ("smb", "midmarket", "enterprise")
SEGMENT_SHARES = {"sdr": (4, 5, 3), "ae": (10, 18, 12)}  # of 12 SDRs and 40 AEs


def overrides(route: str, lead_factor: float, rep_factor: int, days: float) -> dict:
    """Base-market overrides for one point: routing, lead volume and headcount scales."""
    import gtmsim

    scenario = gtmsim.load_scenario(BASE)
    o: dict = {"handoff.route": route, "simulation.horizon_days": days}
    for name, ch in scenario.market.channels.items():
        o[f"market.channels.{name}.max_leads_per_week"] = ch.max_leads_per_week * lead_factor
        o[f"market.channels.{name}.organic_leads_per_week"] = (
            ch.organic_leads_per_week * lead_factor
        )
    for team, shares in SEGMENT_SHARES.items():
        o[f"sales.{team}.headcount"] = sum(shares) * rep_factor
        if route == "segment":
            o[f"sales.{team}.headcount_by_segment"] = {
                s: k * rep_factor for s, k in zip(SEGMENTS, shares, strict=True)
            }
    return o


def child(route: str, lead_factor: float, rep_factor: int, days: float) -> None:
    """Body of a child process: one replication, then one JSON line of figures."""
    import gtmsim
    from gtmsim.model.world import World

    scenario = gtmsim.load_scenario(BASE, overrides(route, lead_factor, rep_factor, days))
    t0, c0 = time.perf_counter(), time.process_time()
    world = World(scenario, 0).run()
    out = {
        "leads": world.store.n,
        "cpu_s": time.process_time() - c0,
        "wall_s": time.perf_counter() - t0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(out))


def point(route: str, lead_factor: float, rep_factor: int, days: float) -> dict:
    cmd = [sys.executable, __file__, "--child", route, str(lead_factor), str(rep_factor), str(days)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def series(route: str, kind: str, scales: list[int], days: float) -> list[dict]:
    rows = []
    for k in scales:
        p = point(route, k, k if kind == "reps" else 1, days)
        p["scale"] = k
        rows.append(p)
    base = rows[0]["cpu_s"] / rows[0]["leads"]
    for r in rows:
        r["cpu_per_lead_vs_1x"] = r["cpu_s"] / r["leads"] / base
    first, last = rows[0], rows[-1]
    b = math.log(last["cpu_s"] / first["cpu_s"]) / math.log(last["leads"] / first["leads"])
    return [{"route": route, "kind": kind, "growth_exponent": b, "points": rows}]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="round robin, 60 days, x1 and x2")
    ap.add_argument("--routes", nargs="+", choices=ROUTES, help="routings to run (default all)")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        route, lead_factor, rep_factor, days = args.child
        child(route, float(lead_factor), int(rep_factor), float(days))
        return 0
    routes = args.routes or (("round_robin",) if args.quick else ROUTES)
    scales, days = ([1, 2], 60.0) if args.quick else ([1, 4, 16], 365.0)
    results = []
    print(f"{'routing':13} {'series':6} {'scale':>5} {'leads':>10} {'CPU s':>8} {'peak MB':>8} "
          f"{'CPU/lead vs x1':>15}")  # fmt: skip
    for route in routes:
        for kind in ("leads", "reps"):
            for s in series(route, kind, scales, days):
                results.append(s)
                for p in s["points"]:
                    print(
                        f"{route:13} {kind:6} {p['scale']:>4}x {p['leads']:>10,} "
                        f"{p['cpu_s']:>8.2f} {p['peak_rss_mb']:>8.0f} "
                        f"{p['cpu_per_lead_vs_1x']:>15.2f}"
                    )
                verdict = "linear" if s["growth_exponent"] <= 1.1 else "FASTER THAN LINEAR"
                print(f"{'':13} {kind:6} growth exponent {s['growth_exponent']:.2f}: {verdict}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
