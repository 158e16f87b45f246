"""Commands that draw: plot, report, animate, gallery."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

import gtmsim
from gtmsim.cli.common import (
    FIGURE_SUFFIXES,
    FILE_HELP,
    BadInput,
    at_least,
    parse_count,
    parse_executor,
    parse_replications,
    parse_set,
    parse_vary,
    replication_options,
    scenario_file,
    show_progress,
    vary_option,
)
from gtmsim.experiment.run import unique_name
from gtmsim.results.metrics import unknown_metrics
from gtmsim.scenario.shipped import scenario_folder

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
    "robust": "a robust comparison: give the folder written by `robust --out`",
}
GALLERY_SWEEP = {"handoff.sla_hours": (1.0, 25.0, 4), "sales.sdr.headcount": (8, 16, 3)}
GALLERY_ROBUST_SAMPLES = 8  # worlds of the gallery's robust figure (one replication each)
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
    replication_options(p, "5", csv=None)
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="the design to compare with (default: the first); for a saved run, its name",
    )
    p.add_argument(
        "--seed", type=at_least(0), help="one seed for every design (default: the first's)"
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
    changed = {**parse_set(args.set), **(overrides or {})}
    scenarios = [gtmsim.load_scenario(f, changed) for f in files]
    ensemble = gtmsim.run_experiment(
        scenarios,
        parse_replications(args.replications),
        seed=args.seed,
        executor=parse_executor(args),
        workers=args.jobs,
        progress=show_progress,
        overrides=changed,
    )
    return ensemble, ensemble.designs[files.index(baseline) if baseline else 0]


def _written(args: argparse.Namespace, paths: Sequence[Path]) -> None:
    if args.json:
        print(json.dumps({"written": [str(p) for p in paths]}, indent=2))
    else:
        for path in paths:
            print(f"wrote {path}")


# ------------------------------------------------------------ plot


def add_plot(sub) -> None:
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
    vary_option(plot, "KEY=LO:HI[:STEPS]", "a setting to vary, for sweep and sobol")
    plot.add_argument(
        "--samples",
        type=at_least(1),
        default=32,
        help="Sobol sample size, a power of 2 (default 32)",
    )
    plot.set_defaults(func=cmd_plot)


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
    elif args.kind == "robust":
        fig = plots.robust(_robust_run(args.files))
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


def _sweep_figure(args: argparse.Namespace):
    from gtmsim.experiment.sweep import SweepResult
    from gtmsim.plots import sweep_heatmap
    from gtmsim.report import differing_settings

    metric = args.metric or "bookings"
    if unknown_metrics([metric]):  # before a sweep runs, not after
        raise BadInput(f"--metric {metric!r}: not a metric; `gtmsim metrics` lists them")
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
            replications=parse_replications(args.replications),
            executor=parse_executor(args),
            progress=show_progress,
        )
        result.ensemble.manifest["overrides"] = parse_set(args.set)
    return sweep_heatmap(result, metric)


def _sobol_figure(args: argparse.Namespace):
    from gtmsim.plots import sobol_indices

    if len(args.files) != 1 or _saved_run(args.files):
        raise BadInput("plot sobol takes one scenario FILE")
    replications, vary = parse_count(args.replications), parse_vary(args.vary, steps=False)
    scenario = gtmsim.load_scenario(args.files[0], parse_set(args.set))
    metric = args.metric or "bookings"
    table = gtmsim.sobol_sensitivity(
        scenario,
        vary,
        metric,
        n=args.samples,
        replications=replications,
        executor=parse_executor(args),
        progress=show_progress,
    )
    return sobol_indices(
        table,
        metric,
        scenario=scenario.name,
        samples=args.samples,
        replications=replications,
        overrides=parse_set(args.set),
    )


def _robust_run(files: Sequence[str]):
    """The result of a robust run saved in a folder (by `gtmsim robust --out DIR`)."""
    from gtmsim.experiment.robust import RESULT_FILE, RobustResult

    if len(files) != 1 or not os.path.isfile(os.path.join(files[0], RESULT_FILE)):
        where = files[0] if len(files) == 1 else "DIR"
        raise BadInput(
            f"{where}: give one folder written by `gtmsim robust FILE... --out DIR` "
            f"(it holds {RESULT_FILE})"
        )
    return RobustResult.load(files[0])


# ------------------------------------------------------------ report, animate, gallery


def add_report(sub) -> None:
    report = sub.add_parser(
        "report",
        help="one self-contained HTML report: headline table, every figure, settings, manifest",
        description="Run the designs (or read one saved run folder) and write one HTML file "
        "with the figures inline: it needs no network and no JavaScript.",
    )
    _figure_options(report, "HTML", "where to write the report (default report.html)")
    report.set_defaults(output="report.html")
    report.add_argument("--title", help="the report's title (default: the designs' names)")
    report.add_argument(
        "--robust",
        metavar="DIR",
        help="add the robust comparison saved in DIR (by `gtmsim robust FILE... --out DIR`)",
    )
    report.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from gtmsim.report import write_report

    robust = _robust_run([args.robust]) if args.robust else None
    ensemble, base = _designs(args)
    _written(args, [write_report(ensemble, args.output, base, args.title, robust=robust)])
    return 0


def add_animate(sub) -> None:
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
    animate.add_argument("--frames", type=at_least(1), default=120, help="frames (default 120)")
    animate.add_argument(
        "--fps", type=at_least(1), default=12, help="frames per second (default 12)"
    )
    animate.add_argument(
        "--sample",
        type=at_least(1),
        default=2500,
        help="leads drawn as dots per design (default 2500)",
    )
    animate.add_argument("--json", action="store_true", help="machine-readable output")
    animate.set_defaults(func=cmd_animate)


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
            name = unique_name(scenario.name, journeys)
            log = Path(tmp) / f"{i}.csv"
            result = gtmsim.simulate(scenario, args.replication, event_log=log)
            journeys[name] = read_event_log(
                log, scenario.simulation.horizon_days, result.weekly["bookings_usd"]
            )
    from gtmsim.plots.style import changed_settings

    subtitle = f"{' vs '.join(journeys)} · replication {args.replication}, seed {seed}"
    subtitle += changed_settings(parse_set(args.set))
    animation = funnel_animation(
        journeys, frames=args.frames, sample=args.sample, subtitle=subtitle
    )
    _written(args, [save_animation(animation, out, fps=args.fps)])
    return 0


def _gallery_robust(args: argparse.Namespace, base: str):
    """The robust figure of the gallery: its designs in a few plausible worlds (kept cheap)."""
    from gtmsim import plots
    from gtmsim.report import Shown

    overrides = {**parse_set(args.set), "simulation.horizon_days": args.explore_days}
    designs = [gtmsim.load_scenario(f, overrides) for f in args.files]
    baseline = base
    if base not in [d.name for d in designs]:  # a --baseline that is not one of the files
        baseline = gtmsim.load_scenario(scenario_file(args.baseline), overrides)
    result = gtmsim.robust(
        designs,
        baseline,
        samples=GALLERY_ROBUST_SAMPLES,
        replications=1,
        executor=parse_executor(args),
        progress=show_progress,
    )
    return Shown(
        "robust",
        f"In what share of {GALLERY_ROBUST_SAMPLES} plausible worlds of the declared assumptions "
        f"each design beats {result.baseline}, coloured by the assumption that decides it.",
        plots.robust(result),
    )


def add_gallery(sub) -> None:
    gallery = sub.add_parser(
        "gallery",
        help="regenerate the figure gallery (plots/) from the shipped designs",
        description="Run the designs (default: every *.toml directly in scenarios/, else the "
        "base market and the examples; the scenarios installed with gtmsim where there is no "
        "scenarios/ folder here) and write every figure as PNG, with the attribution of "
        "the last design's difference from the baseline, a sweep heatmap and Sobol indices "
        "of the baseline, and the designs' robust comparison over their declared assumptions.",
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
        "--no-explore", action="store_true", help="skip the sweep, Sobol and robust figures"
    )
    gallery.set_defaults(func=cmd_gallery)


def cmd_gallery(args: argparse.Namespace) -> int:
    from gtmsim import plots
    from gtmsim.report import Shown
    from gtmsim.report.gallery import default_scenarios, write_gallery

    listing = Path(args.output) / "gallery.toml"  # the gallery says what it shows
    folder = scenario_folder()
    args.files = list(args.files) or default_scenarios(folder, listing)
    if not args.files:
        raise BadInput(f"no FILE given and no scenario files in {folder}/")
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
            executor=parse_executor(args),
            progress=show_progress,
        )
        why.ensemble.manifest["overrides"] = ensemble.manifest.get("overrides", {})
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
            explore,
            GALLERY_SWEEP,
            replications=3,
            executor=parse_executor(args),
            progress=show_progress,
        )
        swept.ensemble.manifest["overrides"] = parse_set(args.set)
        extra.append(
            Shown(
                "sweep",
                "Bookings across SLA hours and SDR headcount.",
                plots.sweep_heatmap(swept, "bookings"),
            )
        )
        indices = gtmsim.sobol_sensitivity(
            explore, GALLERY_SOBOL, "bookings", n=16, replications=1, executor=parse_executor(args)
        )
        extra.append(
            Shown(
                "sobol",
                "Which settings drive bookings.",
                plots.sobol_indices(
                    indices,
                    "bookings",
                    scenario=explore.name,
                    samples=16,
                    replications=1,
                    overrides=parse_set(args.set),
                ),
            )
        )
        if len(ensemble.designs) > 1:
            extra.append(_gallery_robust(args, base))
    _written(args, write_gallery(ensemble, args.output, base, extra))
    return 0
