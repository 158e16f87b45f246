"""What several commands share: argument types and options, --set and --vary parsing,
progress, the executor options, JSON and table output, and the bad-input error."""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Callable, Sequence

from gtmsim.results.storage import json_safe
from gtmsim.results.table import TEXT_WIDTH, Table
from gtmsim.scenario.shipped import scenario_path

FILE_HELP = "scenario file, or the name of a shipped scenario (see `gtmsim list`)"
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


class BadInput(Exception):
    """A problem with what the user typed (exit code 2)."""


# ------------------------------------------------------------ argument types


def scenario_file(text: str) -> str:
    """A FILE argument: the file as typed or, for the name of a shipped scenario that
    is not a file here, that scenario's file (``gtmsim run examples/fast_follow_up``)."""
    return scenario_path(text)


def at_least(minimum: int) -> Callable[[str], int]:
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


def parse_replications(text: str) -> int | str:
    """The -n/--replications value: a positive whole number or "auto"."""
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


def parse_count(text: str) -> int:
    """A replication count where "auto" does not apply."""
    n = parse_replications(text)
    if n == "auto":
        raise BadInput('-n/--replications: "auto" works with compare and sweep; give a number here')
    return n


def toml_value(raw: str):
    """A value typed on the command line, read as TOML; a bare word is that text
    (``pooled`` as ``"pooled"``), as the shell leaves little room for quotes."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        if raw.strip() and all(c.isalnum() or c in "_-." for c in raw.strip()):
            return raw.strip()
        raise


def parse_set(items: Sequence[str]) -> dict:
    """``KEY=VALUE`` pairs to overrides; values are read as TOML (numbers, words, tables)."""
    overrides = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set {item!r}: expected KEY=VALUE, e.g. --set sales.ae.headcount=30")
        try:
            value = toml_value(raw)
        except tomllib.TOMLDecodeError:
            value = raw  # text TOML cannot read is taken as it is
        overrides[key.strip()] = value
    return overrides


def parse_vary(items: Sequence[str], *, steps: bool) -> dict:
    """``KEY=LO:HI[:STEPS]`` ranges, or ``KEY=A,B,C`` lists of values (read as TOML;
    bare words are text)."""
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
            elif steps:  # words may go unquoted, as in --set: handoff.route=pooled,round_robin
                vary[key.strip()] = [toml_value(p) for p in spec.split(",")]
            else:
                raise ValueError
        except (ValueError, tomllib.TOMLDecodeError):
            raise BadInput(
                f"--vary {item!r}: expected KEY=LO:HI{':STEPS' if steps else ''}"
                + (" or KEY=A,B,C" if steps else "")
                + ", e.g. handoff.sla_hours=1:25:4"
            ) from None
    if not vary:
        raise BadInput("give at least one --vary KEY=LO:HI")
    return vary


def parse_executor(args: argparse.Namespace):
    """The executor of --executor and --scheduler: a name, or a Dask scheduler's address."""
    if args.executor == "dask":
        if not args.scheduler:
            raise BadInput("--executor dask needs --scheduler ADDRESS, e.g. tcp://10.0.0.5:8786")
        return args.scheduler
    if args.scheduler:
        raise BadInput("--scheduler goes with --executor dask")
    return args.executor


# ------------------------------------------------------------ options


def design_options(p: argparse.ArgumentParser, *, baseline: str, seed: str, out: str) -> None:
    """Arguments of a command that sets designs against a baseline: FILE (one per
    design), --baseline, --seed, --out and --force, with this command's help texts
    (see :func:`with_baseline`)."""
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        type=scenario_file,
        help="scenario files or shipped scenario names, one per design",
    )
    p.add_argument("--baseline", metavar="FILE", type=scenario_file, help=baseline)
    p.add_argument("--seed", type=at_least(0), help=seed)
    p.add_argument("--out", metavar="DIR", help=out)
    p.add_argument(
        "--force",
        action="store_true",
        help="write into an --out folder that holds another run (its files are removed first)",
    )


def with_baseline(args: argparse.Namespace) -> tuple[list[str], int]:
    """The FILEs with --baseline among them (put first when it is not one of them),
    and the baseline's index (0 without --baseline: the first FILE)."""
    files = list(args.files)
    if args.baseline and args.baseline not in files:
        files.insert(0, args.baseline)
    return files, files.index(args.baseline) if args.baseline else 0


def replication_options(p: argparse.ArgumentParser, replications: str, csv: str | None) -> None:
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
    p.add_argument("--jobs", type=at_least(1), help="local worker processes (default: every core)")
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


def vary_option(p: argparse.ArgumentParser, metavar: str, help: str) -> None:
    """The repeatable --vary option."""
    p.add_argument("--vary", action="append", default=[], metavar=metavar, help=help)


# ------------------------------------------------------------ output


def overrides_line(overrides: dict, what: str = "every design") -> str:
    """The header line that says which settings --set changed ("" without any)."""
    from gtmsim.scenario.loader import overrides_text

    text = overrides_text(overrides)
    return f"settings changed for {what} (--set): {text}" if text else ""


def print_overrides(overrides: dict, what: str = "every design") -> None:
    """Print :func:`overrides_line`, when there is one."""
    line = overrides_line(overrides, what)
    if line:
        print(line)


def show_progress(done: int, total: int) -> None:
    """A progress bar of finished replications on stderr, when it is a terminal."""
    if sys.stderr.isatty():
        width = 30
        filled = round(width * done / total)
        bar = "#" * filled + "." * (width - filled)
        end = "\n" if done == total else ""
        print(f"\r  replications [{bar}] {done}/{total}", end=end, file=sys.stderr, flush=True)


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as a command prints them: the message, without Python's file and line."""
    print(f"gtmsim: warning: {message}", file=sys.stderr)


def print_json(payload) -> None:
    """Print a payload as JSON, NaN as null; values JSON does not know as text."""
    print(json.dumps(json_safe(payload), indent=2, allow_nan=False, default=str))


def print_table(table: Table, args: argparse.Namespace, columns: list[str] | None = None) -> None:
    """A table as --json asks (its rows), as --csv asks, or as text."""
    if args.json:
        print_json(list(table.rows()))
    elif args.csv:
        print(table.to_csv(), end="")
    else:
        print(table.to_text(columns, width=TEXT_WIDTH))
