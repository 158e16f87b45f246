"""A corpus of broken scenario files: every mistake is reported in words a user can act on.

Each file in tests/broken/ holds one kind of mistake (one holds several at once)
and starts with ``# expect: FRAGMENT`` comment lines: text that the error message
must contain, such as the dotted key, the bound, the allowed words or the hint.
Files named ``ok_*.toml`` are valid and must load.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from gtmsim import ScenarioError, load_scenario
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "broken"
GOOD = sorted(p for p in CORPUS.glob("*.toml") if p.name.startswith("ok_"))
BROKEN = sorted(p for p in CORPUS.glob("*.toml") if not p.name.startswith("ok_"))

# Text that means the user is looking at the implementation, not at their file.
LEAKS = ("Traceback", "pydantic", "https://")


def expected(path: Path) -> list[str]:
    """The ``# expect:`` fragments of a corpus file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        line.removeprefix("# expect:").strip() for line in lines if line.startswith("# expect:")
    ]


def relative(path: Path) -> str:
    """The file as a user in the repository root names it."""
    return path.relative_to(ROOT).as_posix()


def validate(*files: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gtmsim.cli", "validate", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_corpus_is_large_and_every_file_states_what_it_expects():
    assert len(BROKEN) >= 25, [p.name for p in BROKEN]
    assert GOOD, "no ok_*.toml file to check that a valid file passes"
    assert [p.name for p in BROKEN if not expected(p)] == []
    assert [p.name for p in GOOD if expected(p)] == []


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_load_scenario_reports_the_expected_problem(path, monkeypatch):
    monkeypatch.chdir(ROOT)  # file names in the messages as the user typed them
    with pytest.raises(ScenarioError) as info:
        load_scenario(relative(path))
    text = str(info.value)
    missing = [fragment for fragment in expected(path) if fragment not in text]
    assert not missing, f"missing {missing} in:\n{text}"
    assert [leak for leak in LEAKS if leak in text] == [], text
    # FILE:LINE: for every problem, so the user knows where to look
    unplaced = [str(p) for p in info.value.problems if p.file is None or p.line is None]
    assert not unplaced, unplaced


def test_several_problems_in_one_file_are_reported_together(monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(ScenarioError) as info:
        load_scenario("tests/broken/several_problems.toml")
    problems = info.value.problems
    assert len(problems) == 5, str(info.value)
    assert {p.file for p in problems} == {"tests/broken/several_problems.toml"}
    assert len({p.line for p in problems}) == 5  # each on the line that sets it


def test_validate_command_reports_every_broken_file_in_one_run():
    files = [relative(p) for p in BROKEN]
    out = validate(*files)
    assert out.returncode == 2, out.stderr
    assert out.stdout == ""  # not one broken file is "ok"
    assert [leak for leak in LEAKS if leak in out.stderr] == [], out.stderr
    # one block per file: "FILE: N problem(s)" and then the problems
    headers = list(re.finditer(r"^(\S+\.toml): (\d+) problem\(s\)$", out.stderr, re.MULTILINE))
    assert [m[1] for m in headers] == files, out.stderr
    ends = [m.start() for m in headers[1:]] + [len(out.stderr)]
    for path, header, end in zip(BROKEN, headers, ends, strict=True):
        block = out.stderr[header.start() : end]
        missing = [fragment for fragment in expected(path) if fragment not in block]
        assert not missing, f"{path.name}: missing {missing} in:\n{block}"


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_a_valid_file_extending_the_base_passes_validate(path):
    scenario = load_scenario(path)
    assert set(scenario.market.channels) >= {"paid_search", "referral"}  # from the base
    out = validate(relative(path))
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"{relative(path)}: ok ({scenario.name})\n"
    assert out.stderr == ""
