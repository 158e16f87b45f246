"""Fingerprint every simulated result, to check that a speed change leaves them bit-identical.

Run from the repository root::

    python benchmarks/check_identical.py --write ref.json     # before a change
    python benchmarks/check_identical.py --check ref.json     # after it: exit 1 and name
                                                              # what differs, if anything

The cases cover every scenario file in scenarios/ (replications 0 and 1, their
own horizon; replication 2 over 30 days), two designs over three years, each
routing rule on the base market and on the design where AEs work the leads,
the event log on, and a dozen randomly drawn org settings (fixed seeds) that
switch mechanisms on and off. A fingerprint holds every metric, weekly series,
funnel, transition, rep table and list the recorder kept, the lead store's
final columns (every lead's state, score, times) and the event log, as exact
values (floats by their hex form) or, for long arrays, a SHA-256 of their bytes.
Comparison is exact: one bit of one float differs, the case and key are named.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

import gtmsim
from gtmsim.model.leads import _FIELDS
from gtmsim.model.world import World
from gtmsim.simulate import _result

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "gtmsim" / "data" / "scenarios"  # a checkout links scenarios/ here
BASE = SCENARIOS / "base" / "market.toml"
SEGMENTS_SDR = {"smb": 4, "midmarket": 5, "enterprise": 3}
SEGMENTS_AE = {"smb": 10, "midmarket": 18, "enterprise": 12}
LONG = 256  # arrays longer than this are hashed, shorter ones kept value by value


def cases(quick: bool = False) -> list[tuple[str, Path, dict, int, bool]]:
    """(name, file, overrides, replication, event log on) of every case."""
    files = sorted(SCENARIOS.rglob("*.toml"))
    out = []
    for f in files:
        rel = f.relative_to(SCENARIOS).as_posix()
        for r in (0,) if quick else (0, 1):
            out.append((f"{rel} r{r}", f, {}, r, False))
        out.append((f"{rel} 30d r2", f, {"simulation.horizon_days": 30}, 2, False))
    if quick:
        return out
    for name in ("over_the_wall.toml", "integrated.toml"):
        out.append((f"{name} 3y", SCENARIOS / name, {"simulation.horizon_days": 1095}, 0, False))
    for base in ("base/market.toml", "over_the_wall.toml"):
        f = SCENARIOS / base
        for route in ("least_loaded", "pooled", "round_robin"):
            out.append((f"{base} route={route}", f, {"handoff.route": route}, 0, False))
        seg = {"handoff.route": "segment", "sales.ae.headcount_by_segment": SEGMENTS_AE}
        if base == "base/market.toml":
            seg["sales.sdr.headcount_by_segment"] = SEGMENTS_SDR
        out.append((f"{base} route=segment", f, seg, 0, False))
    out.append(("defined.toml 90d log", SCENARIOS / "defined.toml", _days(90), 0, True))
    out.append(("aligned.toml 60d log", SCENARIOS / "aligned.toml", _days(60), 1, True))
    for k in range(12):
        out.append((f"random {k}", BASE, random_overrides(k), k % 3, False))
    return out


def _days(n: int) -> dict:
    return {"simulation.horizon_days": n}


def random_overrides(k: int) -> dict:
    """Org settings drawn with a fixed seed: mechanisms switched on and off (like tests/strategies)."""
    rng = random.Random(1000 + k)
    qualifier = rng.choice(["sdr", "ae"])
    route = rng.choice(["pooled", "round_robin", "least_loaded", "segment"])
    nurture = rng.random() < 0.6
    o = {
        "simulation.horizon_days": rng.choice([60, 120, 200]),
        "handoff.qualifier": qualifier,
        "handoff.route": route,
        "handoff.sla_hours": rng.choice(["none", 1.0, 8.0]),
        "handoff.max_attempts": rng.randint(1, 4),
        "handoff.abandon_after_days": rng.choice([2.0, 30.0]),
        "handoff.rejected": rng.choice(["recycle", "discard"]) if nurture else "discard",
        "marketing.nurture.enabled": nurture,
        "marketing.nurture.rescore_every_days": rng.randint(1, 14),
        "marketing.nurture.engaged_share": rng.choice([0.1, 1.0]),
        "market.buying_window.return_share": rng.choice([0.0, 0.05, 0.5]),
        "marketing.scoring.mql_threshold": round(rng.uniform(0.2, 0.7), 3),
        "marketing.scoring.noise_sd": round(rng.uniform(0.0, 0.3), 3),
        "sales.trust.enabled": rng.random() < 0.7,
        "sales.sdr.queue_order": rng.choice(["fifo", "score"]),
        "sales.ae.queue_order": rng.choice(["fifo", "score"]),
        "deals.enablement_share": rng.choice([0.0, 0.3]),
        "incentives.sales.plan": rng.choice(["individual", "team"]),
    }
    sdr = rng.randint(3 if qualifier == "sdr" else 0, 14)
    ae = rng.randint(3, 30)
    o["sales.sdr.headcount"], o["sales.ae.headcount"] = sdr, ae
    if rng.random() < 0.3:
        o["sales.sdr.work_hours"] = {"start_hour": 0, "end_hour": 24, "days": ["mon", "tue",
                                     "wed", "thu", "fri", "sat", "sun"]}  # fmt: skip
    if route == "segment":
        if sdr >= 3:
            o["sales.sdr.headcount_by_segment"] = _split(sdr, rng)
        o["sales.ae.headcount_by_segment"] = _split(ae, rng)
    return o


def _split(n: int, rng: random.Random) -> dict:
    a = rng.randint(1, n - 2)
    b = rng.randint(1, n - a - 1)
    return {"smb": a, "midmarket": b, "enterprise": n - a - b}


def _exact(value):
    """A JSON value that keeps every bit: floats as hex, long arrays as a hash."""
    if isinstance(value, dict):
        return {str(k): _exact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "USO":
            return [str(v) for v in value.tolist()]
        if value.size > LONG:
            a = np.ascontiguousarray(value)
            return f"sha256:{a.dtype.str}:{a.shape}:{hashlib.sha256(a.tobytes()).hexdigest()}"
        return [_exact(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value).hex()
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def fingerprint(path: Path, overrides: dict, replication: int, log: bool) -> dict:
    scenario = gtmsim.load_scenario(path, overrides)
    chunks: list[dict] = []
    world = World(scenario, replication, event_sink=chunks.append if log else None).run()
    res = _result(world, 0.0)
    fp = {
        "metrics": res.metrics,
        "lead_final_states": res.lead_final_states,
        "weekly": res.weekly,
        "funnel": res.funnel,
        "transitions": res.transitions,
        "reps": res.reps,
        "first_response_hours": res.first_response_hours,
    }
    rec = world.rec
    fp["recorder"] = {
        k: v for k, v in vars(rec).items() if isinstance(v, list) and k not in ("transitions",)
    }
    fp["recorder"]["mqls_judged"] = rec.mqls_judged
    n = world.store.n
    fp["store"] = {name: getattr(world.store, name)[:n] for name in _FIELDS}
    fp["store"]["n"] = n
    if log:
        rows = [
            row for chunk in chunks for row in zip(*(chunk[c] for c in sorted(chunk)), strict=True)
        ]
        fp["event_log"] = {
            "rows": len(rows),
            "sha256": hashlib.sha256(repr(rows).encode()).hexdigest(),
            # the same rows in any order: tells a reordering from a change
            "sha256_sorted": hashlib.sha256(repr(sorted(rows, key=repr)).encode()).hexdigest(),
        }
    return _exact(fp)


def differences(ref, new, where: str = "") -> list[str]:
    """Keys (dotted) at which two fingerprints differ."""
    if isinstance(ref, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(ref) | set(new)):
            if k not in ref or k not in new:
                out.append(f"{where}.{k}: only in {'reference' if k in ref else 'new'}")
            else:
                out += differences(ref[k], new[k], f"{where}.{k}")
        return out
    if isinstance(ref, list) and isinstance(new, list) and len(ref) == len(new):
        bad = [i for i, (a, b) in enumerate(zip(ref, new, strict=True)) if a != b]
        return [f"{where}[{bad[0]}] ({len(bad)} entries differ)"] if bad else []
    return [] if ref == new else [f"{where}: {str(ref)[:60]} -> {str(new)[:60]}"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", metavar="REF", help="write the fingerprints to REF (JSON)")
    mode.add_argument("--check", metavar="REF", help="compare with REF; exit 1 if any differs")
    ap.add_argument("--quick", action="store_true", help="scenario files only, fewer runs")
    ap.add_argument("--only", metavar="TEXT", help="only the cases whose name contains TEXT")
    args = ap.parse_args(argv)
    selected = [c for c in cases(args.quick) if not args.only or args.only in c[0]]
    ref = json.loads(Path(args.check).read_text()) if args.check else {}
    out, failed = {}, []
    t0 = time.perf_counter()
    for name, path, overrides, replication, log in selected:
        fp = fingerprint(path, overrides, replication, log)
        out[name] = fp
        if args.check:
            if name not in ref:
                print(f"  {name}: not in the reference")
                continue
            diff = differences(ref[name], fp)
            if diff:
                failed.append(name)
                print(f"DIFF {name}:\n    " + "\n    ".join(diff[:12]))
            else:
                print(f"  ok {name}")
        else:
            print(f"  {name}")
    print(f"{len(selected)} cases in {time.perf_counter() - t0:.1f} s")
    if args.write:
        Path(args.write).write_text(json.dumps(out, sort_keys=True) + "\n")
        return 0
    print(f"{len(failed)} of {len(selected)} cases differ" if failed else "all identical")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
