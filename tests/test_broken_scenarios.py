"""A corpus of broken scenario files: every mistake is reported in words a user can act on.

Each file in tests/broken/ holds one kind of mistake (one holds several at once)
and starts with ``# expect: FRAGMENT`` comment lines: text that the error message
must contain, such as the dotted key, the bound, the allowed words or the hint.
Files named ``ok_*.toml`` are valid and must load.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gtmsim import ScenarioError, load_scenario
from gtmsim.scenario import Problem
from gtmsim.scenario.reference import rows
from tests.conftest import BASE, ROOT

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
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", text), repr(text)  # names escaped
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


def test_an_override_with_a_misspelt_stage_is_refused_unless_it_says_new(monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASE, {"deals.stages.clsoe.pass_probability": 0.5})
    (problem,) = info.value.problems
    assert problem.key == "deals.stages.clsoe" and problem.file is None
    assert "did you mean 'close'?" in problem.hint
    assert "--set deals.stages.clsoe.new=true" in problem.hint
    added = load_scenario(
        BASE, {"deals.stages.clsoe.new": True, "deals.stages.clsoe.pass_probability": 0.5}
    )
    assert list(added.deals.stages)[-1] == "clsoe"
    assert added.deals.stages["clsoe"].pass_probability == 0.5


def test_a_new_stage_that_says_so_is_added_and_the_flag_is_not_a_setting(tmp_path):
    child = tmp_path / "child.toml"
    child.write_text(
        f"extends = {json.dumps(BASE.as_posix())}\n"
        "[deals.stages.demo2]\nnew = true\npass_probability = 0.9\n"
        "[market.segments.smb_emea]\nbuyer_delay_multiplier = 0.7\n",  # far from every name
        encoding="utf-8",
    )
    scenario = load_scenario(child)
    assert list(scenario.deals.stages)[-1] == "demo2"
    assert "smb_emea" in scenario.market.segments
    assert load_scenario(BASE).content_hash() != scenario.content_hash()
    grandchild = tmp_path / "grandchild.toml"  # the stage is inherited now: no flag needed
    grandchild.write_text(
        'extends = "child.toml"\n[deals.stages.demo2]\npass_probability = 0.8\n', encoding="utf-8"
    )
    assert load_scenario(grandchild).deals.stages["demo2"].pass_probability == 0.8


@pytest.mark.parametrize("name", ["clsoe", "Close", "closee", "negotation"])
def test_near_misses_are_found_and_distinct_names_are_not(name):
    from gtmsim.scenario.loader import _nearest

    known = ["discovery", "demo", "proposal", "negotiation", "close"]
    assert _nearest(name, known) in ("close", "negotiation")
    assert _nearest("legal_review", known) is None
    assert _nearest("enterprise_emea", ["smb", "midmarket", "enterprise"]) is None


def test_brackets_nested_thousands_deep_name_the_file(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: nests tables or lists deeper than 16 levels")


def test_a_mapping_that_contains_itself_is_refused():
    data: dict = {"name": "loop"}
    data["market"] = data
    with pytest.raises(ScenarioError, match="deeper than 16 levels"):
        load_scenario(data)


def test_a_huge_file_is_refused_with_its_size(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text('name = "huge"\n' + "# padding\n" * 120_000, encoding="utf-8")
    with pytest.raises(ScenarioError, match="larger than 1 MB"):
        load_scenario(path)


def test_a_nan_override_is_refused():
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASE, {"deals.enablement_share": float("nan")})
    assert str(info.value) == (
        "deals.enablement_share = nan: must be a finite number "
        "(NaN and infinity are not numbers the model can use)"
    )


def test_every_number_setting_has_an_upper_bound():
    unbounded = [
        key
        for key, kind, _, bounds, _ in rows()
        if kind.split(" or ")[0] in ("float", "int") and "<" not in bounds
    ]
    assert unbounded == ["simulation.seed"]  # any whole number is a seed
    dists = [(key, bounds) for key, kind, _, bounds, _ in rows() if "distribution" in kind]
    assert dists and all("mean <=" in b or "values in [" in b for _, b in dists), dists


def test_control_characters_are_escaped_in_every_part_of_a_problem():
    problem = Problem("a\x1b[2J.toml", 'x."b\u202e"', "bad\x07 name", "v\x00", 3, "try\x1b")
    text = str(problem)
    assert not re.search(r"[\x00-\x1f\u202e]", text.replace("\n", "")), repr(text)
    assert "a\\x1b[2J.toml:3:" in text and "\\x07" in text and "\\u202e" in text
