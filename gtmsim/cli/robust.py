"""The robust command: which design beats the baseline across the declared assumptions."""

from __future__ import annotations

import argparse
from pathlib import Path

import gtmsim
from gtmsim.cli.common import (
    FIGURE_SUFFIXES,
    BadInput,
    at_least,
    design_options,
    parse_count,
    parse_executor,
    parse_set,
    print_json,
    replication_options,
    show_progress,
    with_baseline,
)
from gtmsim.experiment.robust import DEFAULT_METRIC, METHODS


def add_robust(sub) -> None:
    robust = sub.add_parser(
        "robust",
        help="which design beats the baseline in what share of the plausible worlds",
        description="Draw --samples points over the ranges the scenario files declare "
        "(KEY = { value, low, high, source }), run every design and the baseline in every "
        "one with common random numbers, and report per design the share of worlds in which "
        "it beats the baseline on --metric, quantiles of the difference, and which "
        "assumptions the verdict depends on (Monte Carlo filtering: Kolmogorov-Smirnov "
        "between winning and losing worlds, Spearman correlation with the difference).",
    )
    design_options(
        robust,
        baseline="the design to beat (default: the first FILE)",
        seed="one seed for every run (default: the baseline's)",
        out="write every run there as it finishes, and robust.json at the end (rerun to resume)",
    )
    replication_options(robust, "2", csv="the per-design table as CSV")
    robust.add_argument(
        "--samples", type=at_least(1), default=32, help="plausible worlds to draw (default 32)"
    )
    robust.add_argument(
        "--method",
        choices=list(METHODS),
        default="lhs",
        help="Latin hypercube (default) or scrambled Sobol' points (--samples a power of 2)",
    )
    robust.add_argument(
        "--metric", default=DEFAULT_METRIC, help=f"the key metric (default {DEFAULT_METRIC})"
    )
    robust.add_argument("--plot", metavar="FILE", help="also draw the figure (.png, .svg or .pdf)")
    robust.set_defaults(func=cmd_robust)


def cmd_robust(args: argparse.Namespace) -> int:
    plot = Path(args.plot) if args.plot else None
    if plot is not None and plot.suffix.lower() not in FIGURE_SUFFIXES:
        raise BadInput(f"--plot {plot}: a figure is written as {', '.join(FIGURE_SUFFIXES)}")
    overrides = parse_set(args.set)
    files, baseline = with_baseline(args)
    if len(files) < 2:
        raise BadInput("robust compares designs with a baseline: give two or more FILEs")
    scenarios = [gtmsim.load_scenario(f, overrides) for f in files]
    result = gtmsim.robust(
        scenarios,
        baseline,
        samples=args.samples,
        replications=parse_count(args.replications),
        metric=args.metric,
        method=args.method,
        seed=args.seed,
        executor=parse_executor(args),
        workers=args.jobs,
        out=args.out,
        force=args.force,
        progress=show_progress,
    )
    if plot is not None:
        from gtmsim import plots

        plot.parent.mkdir(parents=True, exist_ok=True)
        plots.robust(result).savefig(plot, dpi=plots.DPI)
    if args.json:
        print_json({**result.to_dict(), "manifest": result.ensemble.manifest})
        return 0
    if args.csv:
        print(result.table().to_csv(), end="")
        return 0
    print(result)
    if args.out:
        out = str(args.out).rstrip("/")
        print(f"\nresults written to {out}/ (`gtmsim plot robust {out}` draws them)")
    if plot is not None:
        print(f"figure written to {plot}")
    return 0
