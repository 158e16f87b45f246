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
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import gtmsim
from gtmsim import calibration
from gtmsim.results.metrics import unknown_metrics
from gtmsim.results.storage import OutputInUse, check_output_dir, write_outputs
from gtmsim.results.table import Table
from gtmsim.scenario.explain import explain
from gtmsim.scenario.shipped import SHIPPED_DIR, shipped_by_name

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


FILE_HELP = "scenario file, or the name of a shipped scenario (see `gtmsim list`)"


def scenario_file(text: str) -> str:
    """A FILE argument: the file as typed or, for the name of a shipped scenario that
    is not a file here, that scenario's file (``gtmsim run examples/fast_follow_up``)."""
    return text if os.path.exists(text) else shipped_by_name(text) or text


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


def cmd_run(args: argparse.Namespace) -> int:
    scenario = gtmsim.load_scenario(args.file, parse_set(args.set))
    ensemble = gtmsim.run_experiment(
        scenario,
        _replications(args.replications),
        executor=_executor(args),
        workers=args.jobs,
        progress=_progress,
    )
    if args.event_log:  # the same replication 0, run again with its event log on
        gtmsim.simulate(ensemble.scenarios[0], 0, event_log=args.event_log)
    keys = list(gtmsim.METRICS) if args.all else list(HEADLINE)
    summary = ensemble.summary(keys)
    if args.json:
        payload = {
            "scenario": scenario.name,
            "scenario_hash": scenario.content_hash(),
            "replications": len(ensemble.replications),
            "metrics": {
                r["metric"]: {k: r[k] for k in ("mean", "sd", "ci_low", "ci_high")}
                for r in summary.rows()
            },
            "lead_final_states": [
                dict(zip(ensemble.states, map(int, c), strict=True))
                for c in ensemble.state_counts[0]
            ],
        }
        print(json.dumps(_json_safe(payload), indent=2, allow_nan=False))
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
    print(table.to_text())
    return 0


def _json_safe(value):
    """JSON has no NaN: a metric without a value (no denominator) is null."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def cmd_list(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if not root.is_dir():
        raise BadInput(
            f"{root}: no such folder (the shipped scenarios are in scenarios/; use --dir)"
        )
    rows = {"file": [], "name": [], "description": []}
    for path in sorted(root.rglob("*.toml")):
        rows["file"].append(str(path))
        try:
            scenario = gtmsim.load_scenario(path)
            rows["name"].append(scenario.name)
            rows["description"].append(scenario.description)
        except gtmsim.ScenarioError as exc:
            rows["name"].append("(invalid)")
            rows["description"].append(str(exc).splitlines()[0])
    print(Table(rows).to_text())
    return 0


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


def cmd_explain(args: argparse.Namespace) -> int:
    print(explain(gtmsim.load_scenario(args.file, parse_set(args.set))), end="")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from gtmsim.scenario.file_schema import file_schema

    print(json.dumps(file_schema(), indent=2))
    return 0


def _executor(args: argparse.Namespace):
    if args.executor == "dask":
        if not args.scheduler:
            raise BadInput("--executor dask needs --scheduler ADDRESS, e.g. tcp://10.0.0.5:8786")
        return args.scheduler
    if args.scheduler:
        raise BadInput("--scheduler goes with --executor dask")
    return args.executor


def _count(text: str) -> int:
    """A replication count where "auto" does not apply."""
    n = _replications(text)
    if n == "auto":
        raise BadInput('-n/--replications: "auto" works with compare and sweep; give a number here')
    return n


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as a command prints them: the message, without Python's file and line."""
    print(f"gtmsim: warning: {message}", file=sys.stderr)


def _at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= minimum (argparse names the option)."""

    def whole(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = minimum - 1
        if n < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text!r}")
        return n

    return whole


def _replications(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise BadInput(
            f'-n/--replications: expected a positive whole number or "auto", got {text!r}'
        )
    return n


def cmd_compare(args: argparse.Namespace) -> int:
    overrides = parse_set(args.set)
    files = list(args.files)
    if args.baseline and args.baseline not in files:
        files.insert(0, args.baseline)
    baseline = files.index(args.baseline) if args.baseline else 0
    scenarios = [gtmsim.load_scenario(f, overrides) for f in files]
    metrics = args.metrics.split(",") if args.metrics else list(COMPARE_METRICS)
    unknown = unknown_metrics(metrics)
    if unknown:
        raise BadInput(f"--metrics: unknown metric(s) {unknown}; `gtmsim metrics` lists them")
    out = Path(args.out) if args.out else None
    if out is not None:
        check_output_dir(out, [s.content_hash() for s in scenarios], force=args.force)
    ensemble = gtmsim.run_experiment(
        scenarios,
        _replications(args.replications),
        seed=args.seed,
        executor=_executor(args),
        workers=args.jobs,
        out=out,
        progress=_progress,
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
    if args.json:
        payload = {
            "baseline": base,
            "summary": list(summary.rows()),
            "comparison": list(comparison.rows()),
            "revenue_bridge": {d: list(b.rows()) for d, b in bridges.items()},
            "no_revenue_bridge": no_bridge,
            "manifest": ensemble.manifest,
        }
        print(json.dumps(_json_safe(payload), indent=2, allow_nan=False, default=str))
        return 0
    if args.csv:
        print(comparison.to_csv(), end="")
        return 0
    n = ensemble.manifest["replications"]
    print(f"{len(ensemble.designs)} designs, {n} paired replications each, baseline {base!r}\n")
    print("Mean and 95% confidence interval")
    print(summary.to_text(["metric", "design", "mean", "ci_low", "ci_high"]) + "\n")
    print(f"Paired difference versus {base!r} (design - baseline)")
    print(
        comparison.to_text(
            ["metric", "design", "difference", "ci_low", "ci_high", "relative_change", "p_better"]
        )
    )
    for design, bridge in bridges.items():
        print(f"\nRevenue bridge, {base!r} -> {design!r}: where the bookings difference comes from")
        print(bridge.to_text())
    for design, reason in no_bridge.items():
        print(f"\nNo revenue bridge for {base!r} -> {design!r}: {reason}")
    if out is not None:
        print(f"\nresults written to {out}/")
    return 0


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
        replications=_replications(args.replications),
        seed=args.seed,
        executor=_executor(args),
        workers=args.jobs,
        out=out,
        progress=_progress,
    )
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
        payload = {
            "baseline": result.baseline,
            "design": result.design,
            "table": list(table.rows()),
            "switched_back": switched,
            "not_run": result.invalid,
            "manifest": result.ensemble.manifest,
        }
        print(json.dumps(_json_safe(payload), indent=2, allow_nan=False, default=str))
        return 0
    if args.csv:
        print(table.to_csv(), end="")
        return 0
    n = result.ensemble.manifest["replications"]
    print(
        f"What {result.design!r} loses with each group of settings switched back to "
        f"{result.baseline!r} ({n} paired replications; share: of the whole difference)\n"
    )
    print(table.to_text(["metric", "row", "mean", "ci_low", "ci_high", "share"]))
    print("\nsettings switched back:")
    for name, settings in switched.items():
        shown = (f"{k} = {'none' if v is None else json.dumps(v)}" for k, v in settings.items())
        print(f"  {name}: " + ", ".join(shown))
    for name, reason in result.invalid.items():
        print(f"\nnot run, {name} cannot be switched back alone:\n{reason}")
    if plot is not None:
        print(f"\nfigure of the first metric written to {plot}")
    return 0


def parse_vary(items: Sequence[str], *, steps: bool) -> dict:
    """``KEY=LO:HI[:STEPS]`` ranges, or ``KEY=A,B,C`` lists of values (read as TOML)."""
    vary = {}
    for item in items:
        key, sep, spec = item.partition("=")
        if not sep or not key.strip() or not spec:
            raise BadInput(f"--vary {item!r}: expected KEY=LO:HI{':STEPS' if steps else ''}")
        try:
            if ":" in spec:
                parts = [tomllib.loads(f"v = {p}")["v"] for p in spec.split(":")]
                if len(parts) not in ((2, 3) if steps else (2,)):
                    raise ValueError
                vary[key.strip()] = tuple(parts)
            elif steps:
                vary[key.strip()] = [tomllib.loads(f"v = {p}")["v"] for p in spec.split(",")]
            else:
                raise ValueError
        except (ValueError, tomllib.TOMLDecodeError):
            raise BadInput(
                f"--vary {item!r}: expected KEY=LO:HI{':STEPS' if steps else ''}"
                + (" or KEY=A,B,C" if steps else "")
                + ", e.g. handoff.sla_hours=1:24:4"
            ) from None
    if not vary:
        raise BadInput("give at least one --vary KEY=LO:HI")
    return vary


def _print_table(table: Table, args: argparse.Namespace, columns: list[str] | None = None) -> None:
    if args.json:
        print(json.dumps(_json_safe(list(table.rows())), indent=2, allow_nan=False, default=str))
    elif args.csv:
        print(table.to_csv(), end="")
    else:
        print(table.to_text(columns))


def cmd_sweep(args: argparse.Namespace) -> int:
    scenario = gtmsim.load_scenario(args.file, parse_set(args.set))
    metrics = args.metrics.split(",") if args.metrics else ["bookings", "deals_won"]
    result = gtmsim.sweep(
        scenario,
        parse_vary(args.vary, steps=True),
        design=args.design,
        n=args.points,
        replications=_replications(args.replications),
        metrics=metrics,
        executor=_executor(args),
        out=args.out,
        progress=_progress,
    )
    _print_table(result.table(metrics), args)
    if not (args.json or args.csv):
        best = result.best(metrics[0], maximize=not args.minimize)
        print(f"\nbest {metrics[0]}: " + ", ".join(f"{k} = {v}" for k, v in best.items()))
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    replications, vary = _count(args.replications), parse_vary(args.vary, steps=False)
    scenario = gtmsim.load_scenario(args.file, parse_set(args.set))
    table = gtmsim.sobol_sensitivity(
        scenario,
        vary,
        args.metric,
        n=args.samples,
        replications=replications,
        executor=_executor(args),
        progress=_progress,
    )
    _print_table(table, args)
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    replications, vary = _count(args.replications), parse_vary(args.vary, steps=False)
    scenario = gtmsim.load_scenario(args.file, parse_set(args.set))
    observed = gtmsim.load_observed(args.observed)
    fit = gtmsim.calibrate(
        scenario,
        observed,
        vary,
        replications=replications,
        max_evaluations=args.max_evaluations,
        executor=_executor(args),
        progress=_progress,
    )
    if args.json:
        payload = {
            "parameters": fit.parameters,
            "fit": list(fit.fit.rows()),
            "objective": fit.objective,
        }
        print(json.dumps(_json_safe(payload), indent=2, allow_nan=False, default=str))
        return 0
    if args.csv:
        print(fit.fit.to_csv(), end="")
        return 0
    print("fitted settings (use them with --set or in a scenario file):")
    for key, value in fit.parameters.items():
        print(f"  {key} = {value:.6g}")
    print(f"\nfit after {fit.evaluations} evaluations (objective {fit.objective:.4g}):")
    print(fit.fit.to_text())
    return 0


# ------------------------------------------------------------ figures, report, animation

PLOT_KINDS = {
    "funnel": "the inbound funnel of every design: counts and stage-to-stage rates",
    "bookings": "cumulative bookings over time, mean and 90% band per design",
    "forest": "paired differences versus the baseline with confidence intervals",
    "bridge": "the revenue bridge from the baseline to --design (default: the next design)",
    "sankey": "lead flow of --design (default: the baseline) incl. black hole and recycling",
    "speed": "speed to lead: time to first call, and reach and acceptance by delay",
    "quota": "every AE's quota attainment per design",
    "spiral": "the death-spiral dashboard by quarter",
    "sweep": "a sweep of one FILE over --vary (one or two settings), or a saved sweep folder",
    "sobol": "Sobol indices of --metric over --vary KEY=LO:HI ranges of one FILE",
}
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
GALLERY_SWEEP = {"handoff.sla_hours": (1.0, 25.0, 4), "sales.sdr.headcount": (8, 16, 3)}
GALLERY_SOBOL = {
    "handoff.speed_to_lead.contact_probability": (0.4, 0.9),
    "marketing.scoring.mql_threshold": (0.35, 0.6),
    "sales.sdr.headcount": (6, 18),
}


def _figure_options(p: argparse.ArgumentParser, metavar: str, help: str, nargs="+") -> None:
    """FILEs (or one saved run folder), replication options, baseline, seed and -o."""
    p.add_argument(
        "files",
        nargs=nargs,
        metavar="FILE",
        type=scenario_file,
        help="scenario files or shipped scenario names, one per design; or one folder "
        "written by `compare --out`",
    )
    _replication_options(p, "5", csv=None)
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="the design to compare with (default: the first); for a saved run, its name",
    )
    p.add_argument(
        "--seed", type=_at_least(0), help="one seed for every design (default: the first's)"
    )
    p.add_argument("-o", "--output", metavar=metavar, help=help)


def _saved_run(files: Sequence[str]) -> Path | None:
    """The folder of a saved run when the only FILE is a folder (written by --out)."""
    if len(files) != 1 or not os.path.isdir(files[0]):
        return None
    folder = Path(files[0])
    if not (folder / "manifest.json").exists():
        raise BadInput(f"{folder}/ holds no saved run (write one with compare ... --out {folder})")
    return folder


def _designs(args: argparse.Namespace, overrides: dict | None = None):
    """The ensemble of a saved run, or of the FILEs run now, and the baseline design's name."""
    folder = _saved_run(args.files)
    if folder is not None:
        if args.set:
            raise BadInput("--set changes scenarios before they run; a saved run has already run")
        ensemble = gtmsim.Ensemble.load(folder)
        base = args.baseline or ensemble.designs[0]
        if base not in ensemble.designs:
            raise BadInput(f"--baseline {base!r}: the saved run's designs are {ensemble.designs}")
        return ensemble, base
    files = list(args.files)
    baseline = scenario_file(args.baseline) if args.baseline else None
    if baseline and baseline not in files:
        files.insert(0, baseline)
    scenarios = [
        gtmsim.load_scenario(f, {**parse_set(args.set), **(overrides or {})}) for f in files
    ]
    ensemble = gtmsim.run_experiment(
        scenarios,
        _replications(args.replications),
        seed=args.seed,
        executor=_executor(args),
        workers=args.jobs,
        progress=_progress,
    )
    return ensemble, ensemble.designs[files.index(baseline) if baseline else 0]


def _written(args: argparse.Namespace, paths: Sequence[Path]) -> None:
    if args.json:
        print(json.dumps({"written": [str(p) for p in paths]}, indent=2))
    else:
        for path in paths:
            print(f"wrote {path}")


def _sweep_figure(args: argparse.Namespace):
    from gtmsim.experiment.sweep import SweepResult
    from gtmsim.plots import sweep_heatmap
    from gtmsim.report import differing_settings

    folder = _saved_run(args.files)
    if folder is not None:  # the points are the settings in which the saved designs differ
        ensemble = gtmsim.Ensemble.load(folder)
        varied = {
            k: v for k, v in differing_settings(ensemble.scenarios).items() if k != "description"
        }
        points = [{k: v[i] for k, v in varied.items()} for i in range(len(ensemble.designs))]
        result = SweepResult(points, ensemble)
    else:
        if len(args.files) != 1:
            raise BadInput("plot sweep takes one scenario FILE (or one saved sweep folder)")
        result = gtmsim.sweep(
            gtmsim.load_scenario(args.files[0], parse_set(args.set)),
            parse_vary(args.vary, steps=True),
            replications=_replications(args.replications),
            executor=_executor(args),
            progress=_progress,
        )
    return sweep_heatmap(result, args.metric or "bookings")


def _sobol_figure(args: argparse.Namespace):
    from gtmsim.plots import sobol_indices

    if len(args.files) != 1 or _saved_run(args.files):
        raise BadInput("plot sobol takes one scenario FILE")
    replications, vary = _count(args.replications), parse_vary(args.vary, steps=False)
    scenario = gtmsim.load_scenario(args.files[0], parse_set(args.set))
    metric = args.metric or "bookings"
    table = gtmsim.sobol_sensitivity(
        scenario,
        vary,
        metric,
        n=args.samples,
        replications=replications,
        executor=_executor(args),
        progress=_progress,
    )
    return sobol_indices(
        table, metric, scenario=scenario.name, samples=args.samples, replications=replications
    )


def cmd_plot(args: argparse.Namespace) -> int:
    from gtmsim import plots

    out = Path(args.output or f"{args.kind}.png")
    if out.suffix.lower() not in FIGURE_SUFFIXES:
        raise BadInput(f"-o {out}: a figure is written as {', '.join(FIGURE_SUFFIXES)}")
    if args.vary and args.kind not in ("sweep", "sobol"):
        raise BadInput("--vary goes with `plot sweep` and `plot sobol`")
    if args.kind == "sweep":
        fig = _sweep_figure(args)
    elif args.kind == "sobol":
        fig = _sobol_figure(args)
    else:
        ensemble, base = _designs(args)
        others = [d for d in ensemble.designs if d != base]
        if args.design is not None and args.design not in ensemble.designs:
            raise BadInput(f"--design {args.design!r}: the designs are {ensemble.designs}")
        if args.kind in ("forest", "bridge") and not others:
            raise BadInput(f"plot {args.kind} compares designs: give two or more FILEs")
        fig = {
            "funnel": lambda: plots.funnel(ensemble),
            "bookings": lambda: plots.cumulative_bookings(ensemble),
            "forest": lambda: plots.forest(ensemble, base),
            "bridge": lambda: plots.revenue_bridge(ensemble, base, args.design or others[0]),
            "sankey": lambda: plots.sankey(ensemble, args.design or base),
            "speed": lambda: plots.speed_to_lead(ensemble),
            "quota": lambda: plots.quota_attainment(ensemble),
            "spiral": lambda: plots.death_spiral(ensemble),
        }[args.kind]()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=plots.DPI)
    _written(args, [out])
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from gtmsim.report import write_report

    ensemble, base = _designs(args)
    _written(args, [write_report(ensemble, args.output, base, args.title)])
    return 0


def cmd_animate(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from gtmsim.plots.animate import funnel_animation, read_event_log, save_animation

    out = Path(args.output)
    if out.suffix.lower() not in (".gif", ".mp4"):
        raise BadInput(f"-o {out}: an animation is written as .gif or .mp4")
    if out.suffix.lower() == ".mp4" and shutil.which("ffmpeg") is None:
        raise BadInput(f"-o {out}: writing .mp4 needs ffmpeg on the PATH; write a .gif instead")
    if not 1 <= len(args.files) <= 4:
        raise BadInput("animate shows one to four designs side by side: give two FILEs, say")
    overrides = parse_set(args.set)
    if args.days:
        overrides["simulation.horizon_days"] = args.days
    first = gtmsim.load_scenario(args.files[0], overrides)
    seed = first.simulation.seed  # one seed: the same leads arrive in every panel
    journeys = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, file in enumerate(args.files):
            scenario = gtmsim.load_scenario(file, {**overrides, "simulation.seed": seed})
            name, k = scenario.name, 2
            while name in journeys:
                name, k = f"{scenario.name}#{k}", k + 1
            log = Path(tmp) / f"{i}.csv"
            result = gtmsim.simulate(scenario, args.replication, event_log=log)
            journeys[name] = read_event_log(
                log, scenario.simulation.horizon_days, result.weekly["bookings_usd"]
            )
    subtitle = f"{' vs '.join(journeys)} · replication {args.replication}, seed {seed}"
    animation = funnel_animation(
        journeys, frames=args.frames, sample=args.sample, subtitle=subtitle
    )
    _written(args, [save_animation(animation, out, fps=args.fps)])
    return 0


def cmd_gallery(args: argparse.Namespace) -> int:
    from gtmsim import plots
    from gtmsim.report import Shown
    from gtmsim.report.gallery import default_scenarios, write_gallery

    listing = Path(args.output) / "gallery.toml"  # the gallery says what it shows
    args.files = list(args.files) or default_scenarios(SHIPPED_DIR, listing)
    if not args.files:
        raise BadInput(f"no FILE given and no scenario files in {SHIPPED_DIR}/")
    overrides = {"simulation.horizon_days": args.days} if args.days else {}
    ensemble, base = _designs(args, overrides)
    extra = []
    last = ensemble.designs[-1]
    if last != base:  # what makes the last design of the story differ from the baseline
        why = gtmsim.attribute(
            ensemble.scenarios[ensemble.design_index(base)],
            ensemble.scenarios[-1],
            metrics=["bookings"],
            replications=len(ensemble.replications),
            executor=_executor(args),
            progress=_progress,
        )
        extra.append(
            Shown(
                "attribution",
                f"What {last} loses without each group of its settings.",
                plots.attribution(why),
            )
        )
    if not args.no_explore:
        explore = gtmsim.load_scenario(
            scenario_file(args.baseline) if args.baseline else args.files[0],
            {**parse_set(args.set), "simulation.horizon_days": args.explore_days},
        )
        swept = gtmsim.sweep(
            explore, GALLERY_SWEEP, replications=3, executor=_executor(args), progress=_progress
        )
        extra.append(
            Shown(
                "sweep",
                "Bookings across SLA hours and SDR headcount.",
                plots.sweep_heatmap(swept, "bookings"),
            )
        )
        indices = gtmsim.sobol_sensitivity(
            explore, GALLERY_SOBOL, "bookings", n=16, replications=1, executor=_executor(args)
        )
        extra.append(
            Shown(
                "sobol",
                "Which settings drive bookings.",
                plots.sobol_indices(
                    indices, "bookings", scenario=explore.name, samples=16, replications=1
                ),
            )
        )
    _written(args, write_gallery(ensemble, args.output, base, extra))
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    for name, meaning in gtmsim.METRICS.items():
        print(f"{name:34s} {meaning}")
    return 0


def _replication_options(p: argparse.ArgumentParser, replications: str, csv: str | None) -> None:
    """Options of every command that runs replications: overrides, count, where, output."""
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set sales.ae.headcount=30 (repeatable)",
    )
    p.add_argument(
        "-n",
        "--replications",
        default=replications,
        help=f'replications (paired across designs), or "auto" (default {replications})',
    )
    p.add_argument("--jobs", type=_at_least(1), help="local worker processes (default: every core)")
    p.add_argument(
        "--executor",
        choices=["process", "serial", "dask"],
        default="process",
        help="where replications run (default: a local process pool)",
    )
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address, with --executor dask"
    )
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable output")
    if csv:
        output.add_argument("--csv", action="store_true", help=csv)


def _vary_option(p: argparse.ArgumentParser, metavar: str, help: str) -> None:
    p.add_argument("--vary", action="append", default=[], metavar=metavar, help=help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gtmsim",
        description="Simulate how marketing hands leads to sales, and what it does to revenue.",
        epilog="A FILE is a scenario file, or the name of a shipped scenario: its path under "
        "scenarios/ without .toml (the file column of `gtmsim list`, not its name column; e.g. "
        "`gtmsim run examples/fast_follow_up`), or just its file name if no other shipped file has it "
        "(`gtmsim run fast_follow_up`). Names are looked up in the scenarios/ folder of the "
        "working directory; a file of that name there comes first.",
    )
    parser.add_argument("--version", action="version", version=f"gtmsim {gtmsim.__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback for unexpected errors"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    _replication_options(run, "5", csv=None)
    run.add_argument("--event-log", metavar="CSV", help="write replication 0's per-lead event log")
    run.add_argument("--all", action="store_true", help="print every metric, not just the headline")
    run.set_defaults(func=cmd_run)

    compare = sub.add_parser(
        "compare",
        help="compare designs with paired replications: means, differences, revenue bridge",
        description="Replicate every design with common random numbers and compare them with "
        "a baseline: mean and 95% CI per design, paired differences, and the revenue bridge.",
    )
    compare.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        type=scenario_file,
        help="scenario files or shipped scenario names, one per design",
    )
    _replication_options(compare, "5", csv="the comparison table as CSV")
    compare.add_argument(
        "--baseline",
        metavar="FILE",
        type=scenario_file,
        help="the design to compare with (default: the first)",
    )
    compare.add_argument(
        "--seed", type=_at_least(0), help="one seed for every design (default: the first file's)"
    )
    compare.add_argument("--metrics", help="comma-separated metrics (default: the headline ones)")
    compare.add_argument(
        "--out", metavar="DIR", help="write every result there as it finishes (rerun to resume)"
    )
    compare.add_argument(
        "--force", action="store_true", help="reuse an --out folder that holds another run"
    )
    compare.set_defaults(func=cmd_compare)

    attr = sub.add_parser(
        "attribute",
        help="which settings make a design's difference: each group switched back in turn",
        description="Run DESIGN once per group of the settings in which it differs from "
        "BASELINE, with that group switched back to the baseline's values (common random "
        "numbers), and print what the design loses without each group.",
    )
    attr.add_argument("baseline", metavar="BASELINE", type=scenario_file, help=FILE_HELP)
    attr.add_argument("design", metavar="DESIGN", type=scenario_file, help=FILE_HELP)
    _replication_options(attr, "5", csv="the table as CSV")
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
        "--seed", type=_at_least(0), help="one seed for every run (default: the baseline's)"
    )
    attr.add_argument(
        "--out", metavar="DIR", help="write every replication as it finishes (rerun to resume)"
    )
    attr.add_argument(
        "--force", action="store_true", help="reuse an --out folder that holds another run"
    )
    attr.add_argument(
        "--plot", metavar="FILE", help="also draw the first metric's bars (.png, .svg, .pdf)"
    )
    attr.set_defaults(func=cmd_attribute)

    sweep = sub.add_parser(
        "sweep",
        help="run a scenario over a grid or a sample of settings (common random numbers)",
        description="Vary settings over a grid (KEY=LO:HI:STEPS or KEY=A,B,C) or a Latin "
        "hypercube / Sobol sample (KEY=LO:HI with --design lhs|sobol --points N).",
    )
    sweep.add_argument("file", metavar="FILE", type=scenario_file, help=FILE_HELP)
    _replication_options(sweep, "5", csv="the table as CSV")
    _vary_option(sweep, "KEY=LO:HI:STEPS", "a setting to vary (repeatable)")
    sweep.add_argument("--design", choices=["grid", "lhs", "sobol"], default="grid")
    sweep.add_argument("--points", type=_at_least(1), help="sample size for lhs and sobol designs")
    sweep.add_argument("--metrics", help="comma-separated metrics (default: bookings,deals_won)")
    sweep.add_argument(
        "--minimize", action="store_true", help="the best point has the lowest first metric"
    )
    sweep.add_argument("--out", metavar="DIR", help="write every replication as it finishes")
    sweep.set_defaults(func=cmd_sweep)

    sens = sub.add_parser(
        "sensitivity",
        help="first- and total-order Sobol indices of a metric over ranges of settings",
    )
    sens.add_argument("file", metavar="FILE", type=scenario_file, help=FILE_HELP)
    _replication_options(sens, "1", csv="the table as CSV")
    _vary_option(sens, "KEY=LO:HI", "an input and its range (repeatable)")
    sens.add_argument("--metric", required=True, help="the output metric, e.g. deals_won")
    sens.add_argument(
        "--samples",
        type=_at_least(1),
        default=64,
        help="Sobol sample size, a power of 2 (default 64)",
    )
    sens.set_defaults(func=cmd_sensitivity)

    cal = sub.add_parser(
        "calibrate",
        help="fit settings so that simulated funnel figures match your own",
        description="Fit the settings given with --vary KEY=LO:HI so that the simulated means "
        "match OBSERVED (a TOML [observed] table or a CSV metric,value[,weight]).",
    )
    cal.add_argument("file", metavar="FILE", type=scenario_file, help=FILE_HELP)
    _replication_options(cal, "4", csv="the fit table as CSV")
    _vary_option(cal, "KEY=LO:HI", "a setting to fit and its range (repeatable)")
    cal.add_argument("--observed", required=True, metavar="FILE", help="your observed figures")
    cal.add_argument(
        "--max-evaluations", type=_at_least(1), default=40, help="simulation budget (default 40)"
    )
    cal.set_defaults(func=cmd_calibrate)

    published = sub.add_parser(
        "calibration",
        help="check the shipped org designs against published figures (CALIBRATION.md)",
        description=calibration.DESCRIPTION,
    )
    calibration.add_arguments(published)
    published.set_defaults(func=calibration.run_report)

    validate = sub.add_parser("validate", help="check scenario files and report every problem")
    validate.add_argument("files", nargs="+", metavar="FILE", type=scenario_file, help=FILE_HELP)
    validate.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="check with this override"
    )
    validate.set_defaults(func=cmd_validate)

    explain_ = sub.add_parser(
        "explain", help="print the fully resolved scenario as TOML, defaults marked"
    )
    explain_.add_argument("file", metavar="FILE", type=scenario_file, help=FILE_HELP)
    explain_.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    explain_.set_defaults(func=cmd_explain)

    listing = sub.add_parser("list", help="list scenario files with their names and descriptions")
    listing.add_argument(
        "--dir", default=SHIPPED_DIR, help=f"folder to look in (default: {SHIPPED_DIR})"
    )
    listing.set_defaults(func=cmd_list)

    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files (for editors)")
    schema.set_defaults(func=cmd_schema)

    plot = sub.add_parser(
        "plot",
        help="draw one figure from scenario files or a saved run (--out folder)",
        description="Draw one figure. FILEs are run first (paired replications), or give one "
        "folder written by `compare --out` to draw from its saved results. Kinds: "
        + "; ".join(f"{k}: {v}" for k, v in PLOT_KINDS.items()),
    )
    plot.add_argument("kind", choices=list(PLOT_KINDS), metavar="KIND", help=", ".join(PLOT_KINDS))
    _figure_options(plot, "FIG", "where to write the figure (.png, .svg or .pdf; default KIND.png)")
    plot.add_argument("--design", help="the design a sankey or bridge shows (a design name)")
    plot.add_argument("--metric", help="the metric of sweep and sobol (default bookings)")
    _vary_option(plot, "KEY=LO:HI[:STEPS]", "a setting to vary, for sweep and sobol")
    plot.add_argument(
        "--samples",
        type=_at_least(1),
        default=32,
        help="Sobol sample size, a power of 2 (default 32)",
    )
    plot.set_defaults(func=cmd_plot)

    report = sub.add_parser(
        "report",
        help="one self-contained HTML report: headline table, every figure, settings, manifest",
        description="Run the designs (or read one saved run folder) and write one HTML file "
        "with the figures inline: it needs no network and no JavaScript.",
    )
    _figure_options(report, "HTML", "where to write the report (default report.html)")
    report.set_defaults(output="report.html")
    report.add_argument("--title", help="the report's title (default: the designs' names)")
    report.set_defaults(func=cmd_report)

    animate = sub.add_parser(
        "animate",
        help="workshop mode: leads flowing through two designs side by side (.gif or .mp4)",
        description="Run one replication of each design with its event log on, then animate "
        "the leads moving through the stages, with running bookings. .mp4 needs ffmpeg.",
    )
    animate.add_argument("files", nargs="+", metavar="FILE", type=scenario_file, help=FILE_HELP)
    animate.add_argument("-o", "--output", default="funnel.gif", help="default funnel.gif")
    animate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    animate.add_argument("--days", type=float, help="simulate this many days (default: the file's)")
    animate.add_argument("--replication", type=int, default=0, help="which replication (default 0)")
    animate.add_argument("--frames", type=_at_least(1), default=120, help="frames (default 120)")
    animate.add_argument(
        "--fps", type=_at_least(1), default=12, help="frames per second (default 12)"
    )
    animate.add_argument(
        "--sample",
        type=_at_least(1),
        default=2500,
        help="leads drawn as dots per design (default 2500)",
    )
    animate.add_argument("--json", action="store_true", help="machine-readable output")
    animate.set_defaults(func=cmd_animate)

    gallery = sub.add_parser(
        "gallery",
        help="regenerate the figure gallery (plots/) from the shipped designs",
        description="Run the designs (default: every *.toml directly in scenarios/, else the "
        "base market and the examples) and write every figure as PNG, with the attribution of "
        "the last design's difference from the baseline, and a sweep heatmap and Sobol indices "
        "of the baseline.",
    )
    _figure_options(gallery, "DIR", "the gallery folder (default plots)", nargs="*")
    gallery.set_defaults(output="plots")
    gallery.add_argument("--days", type=float, help="simulate this many days (default: the files')")
    gallery.add_argument(
        "--explore-days",
        type=float,
        default=180,
        help="horizon of the sweep and Sobol runs (default 180)",
    )
    gallery.add_argument(
        "--no-explore", action="store_true", help="skip the sweep and Sobol figures"
    )
    gallery.set_defaults(func=cmd_gallery)

    metrics = sub.add_parser("metrics", help="list every metric with its meaning and unit")
    metrics.set_defaults(func=cmd_metrics)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gtmsim`` command."""
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        code = args.func(args)
        sys.stdout.flush()  # inside the try: a reader that went away is not a bug
        return code
    except gtmsim.ScenarioError as exc:
        print(f"gtmsim: {exc}", file=sys.stderr)
        return 2
    except (BadInput, OutputInUse, ValueError) as exc:  # the experiment API's bad-input errors
        if args.debug and not isinstance(exc, BadInput | OutputInUse):
            raise
        print(f"gtmsim: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        print(f"gtmsim: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    except gtmsim.ExperimentInterrupted as exc:
        kept = f"; they are kept in {exc.out}/: the same command resumes" if exc.out else ""
        message = f"interrupted after {exc.finished} finished replication(s){kept}"
        print(f"\ngtmsim: {message}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        return 130
    except gtmsim.ExperimentError as exc:
        print(f"gtmsim: {exc}", file=sys.stderr)
        return 1
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
