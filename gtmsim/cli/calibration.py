"""The ``calibration`` command: the shipped org designs against published figures.

The rows, the runs and the verdicts are :mod:`gtmsim.calibration`'s; this module
parses the options and prints the report.
"""

from __future__ import annotations

import argparse
import sys

from gtmsim import calibration
from gtmsim.results.table import TEXT_WIDTH

DESCRIPTION = (
    "Run the shipped org designs and check them against the published figures of "
    "CALIBRATION.md (sections A, B, C): one line per figure with the target, the simulated "
    "mean, its 95% confidence interval and pass, edge or FAIL (edge: the mean is outside "
    "the range but its interval is not, which passes). Exit code 0 when no row fails, 1 "
    "when one does."
)


def add_calibration(sub) -> None:
    published = sub.add_parser(
        "calibration",
        help="check the shipped org designs against published figures (CALIBRATION.md)",
        description=DESCRIPTION,
    )
    published.add_argument(
        "--targets",
        help="targets file (default: docs/calibration.toml here if there is one, else the "
        "one installed with gtmsim)",
    )
    published.add_argument(
        "-n", "--replications", type=int, help="replications per design (default: the file's)"
    )
    published.add_argument("--jobs", type=int, help="local processes (default: every core)")
    published.add_argument("--csv", action="store_true", help="print the report as CSV")
    published.add_argument(
        "--out", help="directory that keeps the replications (a rerun reuses them)"
    )
    published.add_argument(
        "--force",
        action="store_true",
        help="write into an --out folder that holds another run (its files are removed first)",
    )
    published.set_defaults(func=cmd_calibration)


def cmd_calibration(args: argparse.Namespace) -> int:
    """Run the designs, print the report; 0 when every row passes, else 1."""
    targets = calibration.load_targets(args.targets)
    tty = sys.stderr.isatty()

    def progress(n: int, total: int) -> None:
        if tty:
            end = "\n" if n == total else ""
            print(f"\r{n}/{total} replications", end=end, file=sys.stderr, flush=True)

    ens = calibration.run_designs(
        targets, args.replications, args.jobs, progress, args.out, force=args.force
    )
    table = calibration.report(ens, targets)
    if args.csv:
        print(table.to_csv(), end="")
    else:
        shown = [c for c in table.columns if c not in ("section", "source")]
        print(table.to_text(shown, width=TEXT_WIDTH), end="")
        print("\nsources")
        for row, source in zip(table["row"], table["source"], strict=True):
            print(f"  {row:<4} {source}")
    results = table["result"]
    failed, edge = results.count("FAIL"), results.count("edge")
    judged = len(results) - results.count("info")
    at_edge = (
        f" ({edge} at the edge: the mean is outside the range, its 95% interval is not)"
        if edge
        else ""
    )
    print(f"\n{judged - failed} of {judged} rows pass{at_edge}", file=sys.stderr)
    return 1 if failed else 0
