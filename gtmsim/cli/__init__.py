"""The gtmsim command: parse arguments, call the public API, format the answer.

One module per group of commands: :mod:`~gtmsim.cli.scenarios` (run, validate,
explain, list, schema, metrics), :mod:`~gtmsim.cli.experiments` (compare,
attribute, sweep, sensitivity, calibrate), :mod:`~gtmsim.cli.robust` (robust),
:mod:`~gtmsim.cli.figures` (plot, report, animate, gallery), :mod:`~gtmsim.cli.live`
(live) and :mod:`~gtmsim.cli.calibration`; what several
share is in :mod:`~gtmsim.cli.common`. Each command has ``add_<command>(subparsers)``,
which adds its parser, next to ``cmd_<command>(args)``, which runs it.

Exit codes: 0 success, 2 bad input (a scenario or argument problem), 1 a bug,
130 interrupted by Ctrl-C and 143 by SIGTERM (the replications that finished are
kept in ``--out`` and reported).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence

import gtmsim
from gtmsim.cli import calibration, experiments, figures, live, robust, scenarios
from gtmsim.cli.common import BadInput, show_warning
from gtmsim.experiment.run import Terminated, raise_on_sigterm
from gtmsim.results.storage import OutputInUse

# The commands in the order `gtmsim --help` lists them.
COMMANDS = (
    scenarios.add_run,
    experiments.add_compare,
    experiments.add_attribute,
    experiments.add_sweep,
    robust.add_robust,
    experiments.add_sensitivity,
    experiments.add_calibrate,
    calibration.add_calibration,
    scenarios.add_validate,
    scenarios.add_explain,
    scenarios.add_list,
    scenarios.add_schema,
    figures.add_plot,
    figures.add_report,
    figures.add_animate,
    figures.add_gallery,
    live.add_live,
    scenarios.add_metrics,
)


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``gtmsim`` command and every subcommand."""
    parser = argparse.ArgumentParser(
        prog="gtmsim",
        description="Simulate how marketing hands leads to sales, and what it does to revenue.",
        epilog="A FILE is a scenario file, or the name of a shipped scenario: its path under "
        "scenarios/ without .toml (the file column of `gtmsim list`, not its name column; e.g. "
        "`gtmsim run examples/fast_follow_up`), or just its file name if no other shipped file has it "
        "(`gtmsim run fast_follow_up`). Names are looked up in the scenarios/ folder of the "
        "working directory, where a file of that name comes first, then among the scenarios "
        "installed with gtmsim.",
    )
    parser.add_argument("--version", action="version", version=f"gtmsim {gtmsim.__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback for unexpected errors"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gtmsim`` command."""
    args = build_parser().parse_args(argv)
    warnings.showwarning = show_warning
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main_thread else None
    if main_thread:
        raise_on_sigterm()  # SIGTERM stops a run as Ctrl-C does, finished work kept
    try:
        return _run(args)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _run(args: argparse.Namespace) -> int:
    """Run the command and turn what it raises into a message and an exit code."""
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
        return 143 if exc.signal == "SIGTERM" else 130
    except (Terminated, KeyboardInterrupt) as exc:  # outside a run's replications
        out = getattr(args, "out", None)
        kept = f"; what was written to {out}/ is kept: the same command resumes" if out else ""
        print(f"\ngtmsim: interrupted{kept}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
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
