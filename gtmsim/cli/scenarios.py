"""Commands on one scenario file at a time: run, validate, explain, list, schema, metrics."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import gtmsim
from gtmsim.cli.common import (
    FILE_HELP,
    BadInput,
    parse_executor,
    parse_replications,
    parse_set,
    print_overrides,
    replication_options,
    scenario_file,
    show_progress,
)
from gtmsim.results.metrics import HEADLINE_METRICS, better
from gtmsim.results.storage import json_safe
from gtmsim.results.table import TEXT_WIDTH, Table
from gtmsim.scenario.explain import explain
from gtmsim.scenario.shipped import SHIPPED_DIR, packaged_scenarios, scenario_folder


def add_run(sub) -> None:
    run = sub.add_parser(
        "run",
        help="run a scenario file and print its key metrics with 95%% confidence intervals",
        description="Run replications of one scenario; print mean and 95% CI of the key metrics.",
    )
    run.add_argument(
        "file",
        type=scenario_file,
        help="scenario TOML file, e.g. scenarios/base/market.toml, or the name of a shipped "
        "scenario (its path under scenarios/ without .toml: the file column of `gtmsim list`), "
        "e.g. base/market",
    )
    replication_options(run, "5", csv=None)
    run.add_argument(
        "--event-log",
        metavar="CSV",
        help="write replication 0's per-lead event log (`gtmsim metrics --events` explains it)",
    )
    run.add_argument("--all", action="store_true", help="print every metric, not just the headline")
    run.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    overrides = parse_set(args.set)
    scenario = gtmsim.load_scenario(args.file, overrides)
    ensemble = gtmsim.run_experiment(
        scenario,
        parse_replications(args.replications),
        executor=parse_executor(args),
        workers=args.jobs,
        progress=show_progress,
        overrides=overrides,
    )
    if args.event_log:  # the same replication 0, run again with its event log on
        gtmsim.simulate(ensemble.scenarios[0], 0, event_log=args.event_log)
    keys = list(gtmsim.METRICS) if args.all else list(HEADLINE_METRICS)
    summary = ensemble.summary(keys)
    if args.json:
        payload = {
            "scenario": scenario.name,
            "scenario_hash": scenario.content_hash(),
            "replications": len(ensemble.replications),
            "overrides": overrides,
            "metrics": {
                r["metric"]: {k: r[k] for k in ("mean", "sd", "ci_low", "ci_high")}
                for r in summary.rows()
            },
            "lead_final_states": [
                dict(zip(ensemble.states, map(int, c), strict=True))
                for c in ensemble.state_counts[0]
            ],
        }
        print(json.dumps(json_safe(payload), indent=2, allow_nan=False))
        return 0
    table = Table(
        {
            **{k: summary[k] for k in ("metric", "mean", "ci_low", "ci_high")},
            "meaning": [gtmsim.METRICS[m] for m in summary["metric"]],
        }
    )
    print(
        f"{scenario.name}: {len(ensemble.replications)} replication(s), "
        f"{scenario.simulation.horizon_days:g} days, seed {scenario.simulation.seed}; "
        "mean and 95% confidence interval"
    )
    print_overrides(overrides, "this run")
    print(table.to_text(width=TEXT_WIDTH))
    return 0


def add_validate(sub) -> None:
    validate = sub.add_parser("validate", help="check scenario files and report every problem")
    validate.add_argument("files", nargs="+", metavar="FILE", type=scenario_file, help=FILE_HELP)
    validate.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="check with this override"
    )
    validate.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    bad = 0
    for file in args.files:
        try:
            scenario = gtmsim.load_scenario(file, parse_set(args.set))
        except gtmsim.ScenarioError as exc:
            bad += 1
            print(f"{file}: {len(exc.problems)} problem(s)\n{exc}\n", file=sys.stderr)
        else:
            print(f"{file}: ok ({scenario.name})")
    return 2 if bad else 0


def add_explain(sub) -> None:
    explain_ = sub.add_parser(
        "explain", help="print the fully resolved scenario as TOML, defaults marked"
    )
    explain_.add_argument("file", metavar="FILE", type=scenario_file, help=FILE_HELP)
    explain_.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    explain_.set_defaults(func=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    print(explain(gtmsim.load_scenario(args.file, parse_set(args.set))), end="")
    return 0


def add_list(sub) -> None:
    listing = sub.add_parser("list", help="list scenario files with their names and descriptions")
    listing.add_argument(
        "--dir",
        help=f"folder to look in (default: {SHIPPED_DIR}/ here if there is one, else the "
        "scenarios installed with gtmsim)",
    )
    listing.set_defaults(func=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    root = Path(args.dir) if args.dir else scenario_folder()
    installed = args.dir is None and root == packaged_scenarios()
    if not root.is_dir():
        raise BadInput(f"{root}: no such folder (leave out --dir for the shipped scenarios)")
    rows = {"file": [], "name": [], "description": []}
    if installed:
        print(
            "the scenarios installed with gtmsim: give the file column as FILE "
            "(gtmsim run over_the_wall), copy one with gtmsim explain FILE > mine.toml"
        )
    for path in sorted(root.rglob("*.toml")):
        shown = path.relative_to(root).with_suffix("").as_posix() if installed else str(path)
        rows["file"].append(shown)
        try:
            scenario = gtmsim.load_scenario(path)
            rows["name"].append(scenario.name)
            rows["description"].append(scenario.description)
        except gtmsim.ScenarioError as exc:
            rows["name"].append("(invalid)")
            rows["description"].append(str(exc).splitlines()[0])
    print(Table(rows).to_text(width=TEXT_WIDTH))
    return 0


def add_schema(sub) -> None:
    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files (for editors)")
    schema.set_defaults(func=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    from gtmsim.scenario.file_schema import file_schema

    print(json.dumps(file_schema(), indent=2))
    return 0


def add_metrics(sub) -> None:
    metrics = sub.add_parser(
        "metrics",
        help="list every metric, which way is better (higher, lower or neither), its meaning and unit",
    )
    metrics.add_argument(
        "--events",
        action="store_true",
        help="list the event log's columns and activities instead (see run --event-log)",
    )
    metrics.set_defaults(func=cmd_metrics)


EVENT_LOG_NOTE = (
    "One row per event of a lead (case_id), sorted by time; timestamp is ISO 8601 local "
    "time from simulation.start_date (day 0, a Monday), timestamp_days the simulated day; "
    "before_run is true for leads born before day 0 (returning buyers' history)."
)
CI_NOTE = (
    "Confidence intervals stay in a metric's range: a share's within [0, 1] (a Wilson "
    "score interval), a count's or a USD total's not below 0 (a quasi-Poisson score "
    "interval); other metrics have the Student t interval over replications."
)


def cmd_metrics(args: argparse.Namespace) -> int:
    if args.events:
        from gtmsim.results.eventlog import EVENT_ACTIVITIES, EVENT_LOG_FILE_COLUMNS

        print("columns: " + ", ".join(EVENT_LOG_FILE_COLUMNS))
        print(EVENT_LOG_NOTE + "\n\nactivities:")
        for name, meaning in EVENT_ACTIVITIES.items():
            print(f"  {name:20s} {meaning}")
        return 0
    for name, meaning in gtmsim.METRICS.items():
        print(f"{name:34s} {better(name):7s} {meaning}")
    print(f"\n{CI_NOTE}")
    return 0
