"""docs/tutorial.md stays true: its commands exist and its first steps behave as shown."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import gtmsim
from tests.conftest import ROOT

TUTORIAL = (ROOT / "docs" / "tutorial.md").read_text()

# What step 1 says the copy changes in the preset it starts from.
PRESET = "scenarios/defined.toml"
CHANGES = {"handoff.route": "pooled", "handoff.sla_hours": 1, "sales.sdr.headcount": 16}


def code_lines() -> list[str]:
    """Lines inside fenced code blocks."""
    lines, inside = [], False
    for line in TUTORIAL.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line)
    return lines


def the_copied_design() -> str:
    """The tutorial's my_design.toml, typo included (its only TOML block)."""
    blocks = re.findall(r"```toml\n(.*?)```", TUTORIAL, flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_every_command_in_the_tutorial_exists():
    help_text = subprocess.run(
        [sys.executable, "-m", "gtmsim.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    commands = set(re.findall(r"^    (\w+)", help_text, flags=re.M))
    used = set(re.findall(r"^(?:\$ )?gtmsim (\w+)", "\n".join(code_lines()), flags=re.M))
    used |= set(re.findall(r"`gtmsim (\w+)", TUTORIAL))
    assert {"validate", "compare", "sweep", "report"} <= used
    assert used <= commands, used - commands


def test_every_scenario_path_in_the_tutorial_exists():
    paths = set(re.findall(r"scenarios/[\w/]+\.toml", TUTORIAL))
    assert PRESET in paths and "scenarios/over_the_wall.toml" in paths
    for path in paths:
        assert (ROOT / path).exists(), path


def test_the_typo_step_reports_what_the_tutorial_shows(tmp_path):
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    design = tmp_path / "my_design.toml"
    toml = the_copied_design()
    assert "headcont = " in toml
    design.write_text(toml)
    run = [sys.executable, "-m", "gtmsim.cli", "validate", "my_design.toml"]
    bad = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 2
    assert "sales.sdr.headcont = 16: unknown setting" in bad.stderr
    assert "did you mean 'headcount'" in bad.stderr
    for line in bad.stderr.strip().splitlines():  # the message shown is the real one
        assert line in TUTORIAL, line
    design.write_text(toml.replace("headcont", "headcount"))
    good = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True)
    assert good.returncode == 0
    assert good.stdout.strip() in TUTORIAL and "ok (" in good.stdout


def test_the_copy_is_the_preset_with_the_changes_the_text_describes(tmp_path):
    """If the preset is retuned, the copy shown (and every number after it) is stale."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    design = tmp_path / "my_design.toml"
    design.write_text(the_copied_design().replace("headcont", "headcount"))
    ignore = {"name", "description"}
    copy = gtmsim.load_scenario(design).model_dump(exclude=ignore)
    preset = gtmsim.load_scenario(tmp_path / PRESET, CHANGES).model_dump(exclude=ignore)
    assert copy == preset
    assert f"cp {PRESET} my_design.toml" in TUTORIAL
