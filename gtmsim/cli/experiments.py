"""Commands that run experiments over designs and settings: compare, attribute, sweep,
sensitivity, calibrate."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from contextlib import nullcontext
from pathlib import Path

import gtmsim
from gtmsim.cli.common import (
    FIGURE_SUFFIXES,
    FILE_HELP,
    BadInput,
    at_least,
    design_options,
    parse_count,
    parse_executor,
    parse_replications,
    parse_set,
    parse_vary,
    print_json,
    print_overrides,
    print_table,
    replication_options,
    scenario_file,
    show_progress,
    vary_option,
    with_baseline,
)
from gtmsim.experiment.calibrate import CalibrationWarning
from gtmsim.results.metrics import seeks_higher, unknown_metrics
from gtmsim.results.storage import check_output_dir, output_lock, write_outputs
from gtmsim.results.table import TEXT_WIDTH
from gtmsim.scenario.shipped import packaged

COMPARE_METRICS = (
    "bookings",
    "deals_won",
    "win_rate",
    "opportunities",
    "accepted",
    "mqls_never_followed_up_share",
    "first_response_hours_median",
    "cycle_days_median",
    "marketing_spend_per_bookings",
    "ae_quota_missed_share",
)


def add_compare(sub) -> None:
    compare = sub.add_parser(
        "compare",
        help="compare designs with paired replications: means, differences, revenue bridge",
        description="Replicate every design with common random numbers and compare them with "
        "a baseline: mean and 95% CI per design, paired differences, and the revenue bridge.",
    )
    design_options(
        compare,
        baseline="the design to compare with (default: the first)",
        seed="one seed for every design (default: the first file's)",
        out="write every result there as it finishes (rerun to resume)",
    )
    replication_options(compare, "5", csv="the comparison table as CSV")
    compare.add_argument("--metrics", help="comma-separated metrics (default: the headline ones)")
    compare.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    overrides = parse_set(args.set)
    files, baseline = with_baseline(args)
    scenarios = [gtmsim.load_scenario(f, overrides) for f in files]
    metrics = args.metrics.split(",") if args.metrics else list(COMPARE_METRICS)
    unknown = unknown_metrics(metrics)
    if unknown:
        raise BadInput(f"--metrics: unknown metric(s) {unknown}; `gtmsim metrics` lists them")
    out = Path(args.out) if args.out else None
    with output_lock(out) if out is not None else nullcontext():  # the tables too
        if out is not None:
            check_output_dir(out, [s.content_hash() for s in scenarios], force=args.force)
        results = _compare(args, scenarios, baseline, metrics, out, overrides)
    return _print_compare(args, *results, out, overrides)


def _compare(args, scenarios, baseline: int, metrics: list[str], out, overrides) -> tuple:
    """Run the comparison and write its files; returns what cmd_compare prints."""
    ensemble = gtmsim.run_experiment(
        scenarios,
        parse_replications(args.replications),
        seed=args.seed,
        executor=parse_executor(args),
        workers=args.jobs,
        out=out,
        progress=show_progress,
        overrides=overrides,
    )
    base = ensemble.designs[baseline]
    summary = ensemble.summary(metrics)
    comparison = gtmsim.compare(ensemble, base, metrics)
    bridges, no_bridge = {}, {}
    for design in ensemble.designs:
        if design != base:
            try:
                bridges[design] = gtmsim.revenue_bridge(ensemble, base, design)
            except ValueError as exc:  # e.g. no deal won yet in a short run
                no_bridge[design] = str(exc)
    if out is not None:
        write_outputs(out, ensemble, summary, comparison, bridges)
    return ensemble, base, summary, comparison, bridges, no_bridge


def _print_compare(
    args, ensemble, base, summary, comparison, bridges, no_bridge, out, overrides
) -> int:
    if args.json:
        print_json(
            {
                "baseline": base,
                "overrides": overrides,
                "summary": list(summary.rows()),
                "comparison": list(comparison.rows()),
                "revenue_bridge": {d: list(b.rows()) for d, b in bridges.items()},
                "no_revenue_bridge": no_bridge,
                "manifest": ensemble.manifest,
            }
        )
        return 0
    if args.csv:
        print(comparison.to_csv(), end="")
        return 0
    n = ensemble.manifest["replications"]
    print(f"{len(ensemble.designs)} designs, {n} paired replications each, baseline {base!r}")
    print_overrides(overrides)
    print()
    print("Mean and 95% confidence interval")
    print(
        summary.to_text(["metric", "design", "mean", "ci_low", "ci_high"], width=TEXT_WIDTH) + "\n"
    )
    print(f"Paired difference versus {base!r} (design - baseline)")
    print(
        comparison.to_text(
            [
                "metric",
                "design",
                "difference",
                "ci_low",
                "ci_high",
                "relative_change",
                "better",
                "p_improves",
            ],
            width=TEXT_WIDTH,
        )
    )
    print(
        "better: which way is better for the metric; p_improves: the share of paired\n"
        "replications in which the design is better that way (- where neither way is)"
    )
    for design, bridge in bridges.items():
        print(
            f"\nRevenue bridge, {base!r} -> {design!r}: where the bookings difference comes "
            "from,\nin two chains (each step is the metric, or ratio of metrics, it names; "
            "a chain's steps\nadd up to its subtotal, the subtotals to the total)"
        )
        print(
            bridge.to_text(
                ["chain", "step", "baseline", "design", "contribution_usd"], width=TEXT_WIDTH
            )
        )
    for design, reason in no_bridge.items():
        print(f"\nNo revenue bridge for {base!r} -> {design!r}:\n  {reason}")
    if out is not None:
        print(f"\nresults written to {str(out).rstrip('/')}/")
    return 0


def add_attribute(sub) -> None:
    attr = sub.add_parser(
        "attribute",
        help="which settings make a design's difference: each group switched back in turn",
        description="Run DESIGN once per group of the settings in which it differs from "
        "BASELINE, with that group switched back to the baseline's values (common random "
        "numbers), and print what the design loses without each group.",
    )
    attr.add_argument("baseline", metavar="BASELINE", type=scenario_file, help=FILE_HELP)
    attr.add_argument("design", metavar="DESIGN", type=scenario_file, help=FILE_HELP)
    replication_options(attr, "5", csv="the table as CSV")
    attr.add_argument(
        "--by",
        choices=["table", "setting"],
        default="table",
        help="group settings by their table (default) or switch back each setting alone",
    )
    attr.add_argument(
        "--metrics",
        help="comma-separated metrics (default: bookings,bookings_net_of_gtm_cost_usd)",
    )
    attr.add_argument(
        "--seed", type=at_least(0), help="one seed for every run (default: the baseline's)"
    )
    attr.add_argument(
        "--out", metavar="DIR", help="write every replication as it finishes (rerun to resume)"
    )
    attr.add_argument(
        "--force",
        action="store_true",
        help="write into an --out folder that holds another run (its files are removed first)",
    )
    attr.add_argument(
        "--plot", metavar="FILE", help="also draw the first metric's bars (.png, .svg, .pdf)"
    )
    attr.set_defaults(func=cmd_attribute)


def cmd_attribute(args: argparse.Namespace) -> int:
    from gtmsim.experiment.attribute import attribution_runs, dotted
    from gtmsim.experiment.run import resolve_designs

    overrides = parse_set(args.set)
    metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else None
    plot = Path(args.plot) if args.plot else None
    if plot is not None and plot.suffix.lower() not in FIGURE_SUFFIXES:
        raise BadInput(f"--plot {plot}: a figure is written as {', '.join(FIGURE_SUFFIXES)}")
    baseline = gtmsim.load_scenario(args.baseline, overrides)
    design = gtmsim.load_scenario(args.design, overrides)
    out = Path(args.out) if args.out else None
    if out is not None:  # do not write over another run (say, a comparison a report reads)
        runs = resolve_designs(attribution_runs(baseline, design, args.by)[0], args.seed)[1]
        check_output_dir(out, [s.content_hash() for s in runs], force=args.force)
    result = gtmsim.attribute(
        baseline,
        design,
        metrics=metrics,
        by=args.by,
        replications=parse_replications(args.replications),
        seed=args.seed,
        executor=parse_executor(args),
        workers=args.jobs,
        out=out,
        progress=show_progress,
    )
    result.ensemble.manifest["overrides"] = overrides  # figure subtitles say so
    table = result.table()
    if plot is not None:
        from gtmsim import plots

        plot.parent.mkdir(parents=True, exist_ok=True)
        plots.attribution(result).savefig(plot, dpi=plots.DPI)
    switched = {
        name: {dotted(path): value for path, value in settings.items()}
        for name, settings in result.groups.items()
    }
    if args.json:
        print_json(
            {
                "baseline": result.baseline,
                "design": result.design,
                "overrides": overrides,
                "table": list(table.rows()),
                "switched_back": switched,
                "not_run": result.invalid,
                "manifest": result.ensemble.manifest,
            }
        )
        return 0
    if args.csv:
        print(table.to_csv(), end="")
        return 0
    n = result.ensemble.manifest["replications"]
    print(
        f"What {result.design!r} loses with each group of settings switched back to "
        f"{result.baseline!r} ({n} paired replications; share: of the whole difference)"
    )
    print_overrides(overrides, "both designs")
    print()
    print(table.to_text(["metric", "row", "mean", "ci_low", "ci_high", "share"], width=TEXT_WIDTH))
    print("\nsettings switched back:")
    for name, settings in switched.items():
        shown = (f"{k} = {'none' if v is None else json.dumps(v)}" for k, v in settings.items())
        print(f"  {name}: " + ", ".join(shown))
    for name, reason in result.invalid.items():
        print(f"\nnot run, {name} cannot be switched back alone:\n{reason}")
    if plot is not None:
        print(f"\nfigure of the first metric written to {plot}")
    return 0


def add_sweep(sub) -> None:
    sweep = sub.add_parser(
        "sweep",
        help="run a scenario over a grid or a sample of settings (common random numbers)",
        description="Vary settings over a grid (KEY=LO:HI:STEPS or KEY=A,B,C) or a Latin "
        "hypercube / Sobol sample (KEY=LO:HI with --design lhs|sobol --points N).",
    )
    sweep.add_argument("file", metavar="FILE", type=scenario_file, help=FILE_HELP)
    replication_options(sweep, "5", csv="the table as CSV")
    vary_option(sweep, "KEY=LO:HI:STEPS", "a setting to vary (repeatable)")
    sweep.add_argument("--design", choices=["grid", "lhs", "sobol"], default="grid")
    sweep.add_argument("--points", type=at_least(1), help="sample size for lhs and sobol designs")
    sweep.add_argument("--metrics", help="comma-separated metrics (default: bookings,deals_won)")
    sense = sweep.add_mutually_exclusive_group()
    sense.add_argument(
        "--maximize",
        dest="maximize",
        action="store_const",
        const=True,
        help="the best point has the highest first metric (default: its better way, "
        "as `gtmsim metrics` shows)",
    )
    sense.add_argument(
        "--minimize",
        dest="maximize",
        action="store_const",
        const=False,
        help="the best point has the lowest first metric",
    )
    sweep.add_argument(
        "--out", metavar="DIR", help="write every replication as it finishes (rerun to resume)"
    )
    sweep.add_argument(
        "--force",
        action="store_true",
        help="write into an --out folder that holds another run (its files are removed first)",
    )
    sweep.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    overrides = parse_set(args.set)
    scenario = gtmsim.load_scenario(args.file, overrides)
    metrics = args.metrics.split(",") if args.metrics else ["bookings", "deals_won"]
    unknown = unknown_metrics(metrics)
    if unknown:
        raise BadInput(f"--metrics: unknown metric(s) {unknown}; `gtmsim metrics` lists them")
    tables_only = args.json or args.csv  # no best point to name
    maximize = None if tables_only else seeks_higher(metrics[0], args.maximize)
    result = gtmsim.sweep(
        scenario,
        parse_vary(args.vary, steps=True),
        design=args.design,
        n=args.points,
        replications=parse_replications(args.replications),
        metrics=metrics,
        executor=parse_executor(args),
        out=args.out,
        force=args.force,
        progress=show_progress,
    )
    result.ensemble.manifest["overrides"] = overrides  # the heatmap's subtitle says so
    if not (args.json or args.csv):
        n = len(result.ensemble.replications)
        print(
            f"sweep of {scenario.name}: {len(result.points)} points, {n} paired replications each"
        )
        print_overrides(overrides, "every point")
        print()
    print_table(result.table(metrics), args)
    if not tables_only:
        best = result.best(metrics[0], maximize=maximize)
        sense = "highest" if maximize else "lowest"
        print(f"\nbest {metrics[0]} ({sense}): " + ", ".join(f"{k} = {v}" for k, v in best.items()))
    return 0


def add_sensitivity(sub) -> None:
    sens = sub.add_parser(
        "sensitivity",
        help="first- and total-order Sobol indices of a metric over ranges of settings",
    )
    sens.add_argument("file", metavar="FILE", type=scenario_file, help=FILE_HELP)
    replication_options(sens, "1", csv="the table as CSV")
    vary_option(sens, "KEY=LO:HI", "an input and its range (repeatable)")
    sens.add_argument("--metric", required=True, help="the output metric, e.g. deals_won")
    sens.add_argument(
        "--samples",
        type=at_least(1),
        default=64,
        help="Sobol sample size, a power of 2 (default 64)",
    )
    sens.set_defaults(func=cmd_sensitivity)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    replications, vary = parse_count(args.replications), parse_vary(args.vary, steps=False)
    scenario = gtmsim.load_scenario(args.file, parse_set(args.set))
    table = gtmsim.sobol_sensitivity(
        scenario,
        vary,
        args.metric,
        n=args.samples,
        replications=replications,
        executor=parse_executor(args),
        progress=show_progress,
    )
    print_table(table, args)
    return 0


def add_calibrate(sub) -> None:
    cal = sub.add_parser(
        "calibrate",
        help="fit settings so that simulated funnel figures match your own",
        description="Fit the settings given with --vary KEY=LO:HI so that the simulated means "
        "match OBSERVED (a TOML [observed] table or a CSV metric,value[,weight]).",
    )
    cal.add_argument("file", metavar="FILE", type=scenario_file, help=FILE_HELP)
    replication_options(cal, "4", csv="the fit table as CSV")
    vary_option(cal, "KEY=LO:HI", "a setting to fit and its range (repeatable)")
    cal.add_argument(
        "--observed",
        required=True,
        metavar="FILE",
        type=observed_file,
        help="your observed figures; observed_funnel is the example shipped with gtmsim",
    )
    cal.add_argument(
        "--max-evaluations", type=at_least(1), default=40, help="simulation budget (default 40)"
    )
    cal.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    replications, vary = parse_count(args.replications), parse_vary(args.vary, steps=False)
    scenario = gtmsim.load_scenario(args.file, parse_set(args.set))
    observed = gtmsim.load_observed(args.observed)
    with warnings.catch_warnings():  # said after the fit table instead
        warnings.simplefilter("ignore", CalibrationWarning)
        fit = gtmsim.calibrate(
            scenario,
            observed,
            vary,
            replications=replications,
            max_evaluations=args.max_evaluations,
            executor=parse_executor(args),
            progress=show_progress,
        )
    if args.json:
        print_json(
            {
                "parameters": fit.parameters,
                "fit": list(fit.fit.rows()),
                "objective": fit.objective,
                "missed": fit.missed,
            }
        )
    elif args.csv:
        print(fit.fit.to_csv(), end="")
    else:
        print("fitted settings (use them with --set or in a scenario file):")
        for key, value in fit.parameters.items():
            print(f"  {key} = {value:.6g}")
        print(f"\nfit after {fit.evaluations} evaluations (objective {fit.objective:.4g}):")
        print(fit.fit.to_text(width=TEXT_WIDTH))
    sys.stdout.flush()
    for reason in fit.missed.values():
        print(f"gtmsim: warning: {reason}", file=sys.stderr)
    return 0


def observed_file(text: str) -> str:
    """An --observed argument: the file as typed or, for ``observed_funnel`` when no such
    file is here, the example shipped with gtmsim."""
    shipped = packaged(f"{text}.toml")
    if os.path.exists(text) or Path(text).suffix or not shipped.is_file():
        return text
    return str(shipped)
