"""The gtmsim command: parse arguments, call the public API, format the answer.

Exit codes: 0 success, 2 bad input (a scenario or argument problem), 1 a bug,
130 interrupted (the replications that finished are still reported).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Sequence

import gtmsim
from gtmsim.results.summary import mean_ci

HEADLINE = (
    "inquiries",
    "mqls",
    "mqls_never_followed_up_share",
    "first_response_hours_median",
    "accepted",
    "opportunities",
    "win_rate",
    "deals_won",
    "bookings",
    "cycle_days_median",
    "marketing_spend",
    "marketing_spend_per_bookings",
    "ae_quota_missed_share",
    "ae_selling_share",
)


class BadInput(Exception):
    """A problem with what the user typed (exit code 2)."""


def parse_set(items: Sequence[str]) -> dict:
    """``KEY=VALUE`` pairs to overrides; values are read as TOML (numbers, words, tables)."""
    overrides = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set {item!r}: expected KEY=VALUE, e.g. --set sales.ae.headcount=30")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare word, e.g. --set handoff.route=pooled
        overrides[key.strip()] = value
    return overrides


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        width = 30
        filled = round(width * done / total)
        bar = "#" * filled + "." * (width - filled)
        end = "\n" if done == total else ""
        print(f"\r  replications [{bar}] {done}/{total}", end=end, file=sys.stderr, flush=True)


def _fmt(value: float) -> str:
    if value != value:  # nan
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) < 1:
        return f"{value:.3f}"
    return f"{value:.1f}"


def cmd_run(args: argparse.Namespace) -> int:
    scenario = gtmsim.load_scenario(args.file, parse_set(args.set))
    if args.replications < 1:
        raise BadInput(f"-n/--replications must be at least 1, got {args.replications}")
    results = []
    try:
        for r in range(args.replications):
            log = args.event_log if r == 0 else None
            results.append(gtmsim.simulate(scenario, replication=r, event_log=log))
            _progress(r + 1, args.replications)
    except KeyboardInterrupt:
        print(f"\ninterrupted after {len(results)} replication(s)", file=sys.stderr)
        if not results:
            return 130
        interrupted = True
    else:
        interrupted = False

    keys = list(gtmsim.METRICS) if args.all else list(HEADLINE)
    rows = {k: mean_ci([res.metrics[k] for res in results]) for k in keys}
    if args.json:
        payload = {
            "scenario": scenario.name,
            "scenario_hash": scenario.content_hash(),
            "replications": len(results),
            "metrics": {k: {"mean": m, "ci95_half_width": h} for k, (m, h) in rows.items()},
            "lead_final_states": [res.lead_final_states for res in results],
        }
        print(json.dumps(_json_safe(payload), indent=2, allow_nan=False))
    else:
        print(
            f"{scenario.name}: {len(results)} replication(s), "
            f"{scenario.simulation.horizon_days:g} days, seed {scenario.simulation.seed}"
        )
        print(f"  {'metric':34s} {'mean':>14s} {'95% CI +/-':>12s}  meaning")
        for k, (m, h) in rows.items():
            print(f"  {k:34s} {_fmt(m):>14s} {_fmt(h):>12s}  {gtmsim.METRICS[k]}")
    return 130 if interrupted else 0


def _json_safe(value):
    """JSON has no NaN: a metric without a value (no denominator) is null."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def cmd_metrics(args: argparse.Namespace) -> int:
    for name, meaning in gtmsim.METRICS.items():
        print(f"{name:34s} {meaning}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gtmsim",
        description="Simulate how marketing hands leads to sales, and what it does to revenue.",
    )
    parser.add_argument("--version", action="version", version=f"gtmsim {gtmsim.__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback for unexpected errors"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a scenario file and print its key metrics with 95%% confidence intervals",
        description="Run replications of one scenario; print mean and 95%% CI of the key metrics.",
    )
    run.add_argument("file", help="scenario TOML file, e.g. scenarios/base/market.toml")
    run.add_argument(
        "-n", "--replications", type=int, default=5, help="independent replications (default 5)"
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set sales.ae.headcount=30 (repeatable)",
    )
    run.add_argument("--event-log", metavar="CSV", help="write replication 0's per-lead event log")
    run.add_argument("--all", action="store_true", help="print every metric, not just the headline")
    run.add_argument("--json", action="store_true", help="machine-readable output")
    run.set_defaults(func=cmd_run)

    metrics = sub.add_parser("metrics", help="list every metric with its meaning and unit")
    metrics.set_defaults(func=cmd_metrics)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gtmsim`` command."""
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # inside the try: a reader that went away is not a bug
        return code
    except gtmsim.ScenarioError as exc:
        print(f"gtmsim: {exc}", file=sys.stderr)
        return 2
    except BadInput as exc:
        print(f"gtmsim: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        print(f"gtmsim: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"gtmsim: internal error: {exc!r} (run with --debug for a traceback; please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
