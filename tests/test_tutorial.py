"""docs/tutorial.md stays true: its commands exist and its first steps behave as shown."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from tests.conftest import ROOT

TUTORIAL = (ROOT / "docs" / "tutorial.md").read_text()


def code_lines() -> list[str]:
    """Lines inside fenced code blocks."""
    lines, inside = [], False
    for line in TUTORIAL.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line)
    return lines


def test_every_command_in_the_tutorial_exists():
    help_text = subprocess.run(
        [sys.executable, "-m", "gtmsim.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    used = set(re.findall(r"^(?:\$ )?gtmsim (\w+)", "\n".join(code_lines()), flags=re.M))
    assert used and all(c in help_text for c in used), used
    for path in re.findall(r"scenarios/[\w/]+\.toml", TUTORIAL):
        assert (ROOT / path).exists(), path


def test_the_typo_step_reports_what_the_tutorial_shows(tmp_path):
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    design = tmp_path / "my_design.toml"
    toml = re.search(r"```toml\n(.*?)```", TUTORIAL, flags=re.S).group(1)
    design.write_text(toml)
    run = [sys.executable, "-m", "gtmsim.cli", "validate", "my_design.toml"]
    bad = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 2
    assert (
        "sales.sdr.headcont = 8: unknown setting" in bad.stderr
        and "did you mean 'headcount'" in bad.stderr
    )
    assert bad.stderr.strip().splitlines()[1] in TUTORIAL  # the message shown is the real one
    design.write_text(toml.replace("headcont", "headcount"))
    good = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True)
    assert good.returncode == 0 and "my_design.toml: ok (lean_fast)" in good.stdout
