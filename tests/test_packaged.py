"""The package carries its scenarios and calibration targets: the commands work from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gtmsim import calibration
from gtmsim.cli import main
from gtmsim.scenario.shipped import packaged, packaged_scenarios, shipped_by_name
from tests.conftest import ROOT

DATA = ROOT / "gtmsim" / "data"


def test_package_data_globs_cover_every_data_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["gtmsim"]
    covered = {p for g in globs for p in (ROOT / "gtmsim").glob(g) if p.is_file()}
    files = {p for p in DATA.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert len(files) >= 12 and files <= covered, files - covered


def test_the_checkout_paths_are_the_package_files():
    assert packaged_scenarios() == DATA / "scenarios"
    assert (ROOT / "scenarios").resolve() == packaged_scenarios().resolve()
    assert (ROOT / "docs" / "calibration.toml").resolve() == packaged("calibration.toml")
    assert packaged("calibration.toml") == calibration.DEFAULT_TARGETS


def test_list_and_run_work_from_an_empty_folder(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def gtmsim(*args):
        return subprocess.run(
            [sys.executable, "-m", "gtmsim", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    listing = gtmsim("list")
    assert listing.returncode == 0, listing.stderr
    assert "installed with gtmsim" in listing.stdout
    assert any(line.split()[:2] == ["over_the_wall"] * 2 for line in listing.stdout.splitlines())
    assert any(line.startswith("examples/fast_follow_up ") for line in listing.stdout.splitlines())
    run = gtmsim("run", "over_the_wall", "-n", "1", "--set", "simulation.horizon_days=14")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("over_the_wall: 1 replication(s), 14 days")
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran


def test_calibration_targets_are_found_from_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert calibration.default_targets() == packaged("calibration.toml")
    targets = calibration.load_targets()
    assert {"over_the_wall", "integrated", "smb_defined"} <= set(targets.designs)
    for path in targets.designs.values():
        assert Path(path).is_file() and Path(path).is_relative_to(packaged_scenarios()), path
    assert len(targets.rows) > 10


def test_a_file_in_the_working_directory_comes_first(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert (
        shipped_by_name("over_the_wall") == (packaged_scenarios() / "over_the_wall.toml").as_posix()
    )
    mine = tmp_path / "scenarios" / "over_the_wall.toml"
    mine.parent.mkdir()
    base = (packaged_scenarios() / "base" / "market.toml").as_posix()
    mine.write_text(f'extends = "{base}"\nname = "mine"\n')
    assert shipped_by_name("over_the_wall") == "scenarios/over_the_wall.toml"
    assert shipped_by_name("integrated") == (packaged_scenarios() / "integrated.toml").as_posix()
    assert main(["run", "over_the_wall", "-n", "1", "--set", "simulation.horizon_days=7"]) == 0
    assert capsys.readouterr().out.startswith("mine: 1 replication(s)")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "calibration.toml").write_text("")
    assert calibration.default_targets() == Path("docs") / "calibration.toml"
    assert main(["list"]) == 0  # the folder here, not the package's
    assert "scenarios/over_the_wall.toml  mine" in capsys.readouterr().out


def test_a_misspelt_name_gets_the_installed_scenarios_from_an_empty_folder(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "over_the_wal"]) == 2
    err = capsys.readouterr().err
    assert "over_the_wal: cannot read this file: no such file" in err
    assert "did you mean 'over_the_wall'?" in err, err  # a name that `gtmsim run` takes
    assert main(["validate", "fast_folow_up"]) == 2
    assert "did you mean 'examples/fast_follow_up'?" in capsys.readouterr().err
    assert main(["run", "xyzzy"]) == 2  # nothing close: where to look
    assert "`gtmsim list` shows the shipped scenario files" in capsys.readouterr().err


def test_the_gallery_takes_the_installed_designs_from_an_empty_folder(tmp_path, monkeypatch):
    from gtmsim.cli import figures

    monkeypatch.chdir(tmp_path)
    given = []

    def resolved_only(args, overrides=None):  # the designs, not the gallery's runs
        given.extend(args.files)
        raise figures.BadInput("resolved")

    monkeypatch.setattr(figures, "_designs", resolved_only)
    assert main(["gallery", "--no-explore"]) == 2
    presets = sorted(packaged_scenarios().glob("*.toml"))
    assert [Path(f) for f in given] == presets and len(presets) == 5
    assert list(tmp_path.iterdir()) == []


def test_python_loads_a_shipped_scenario_by_name_from_any_folder(tmp_path, monkeypatch):
    import gtmsim
    from gtmsim.scenario.errors import ScenarioError

    monkeypatch.chdir(tmp_path)
    by_name = gtmsim.load_scenario("over_the_wall", {"simulation.horizon_days": 7})
    by_path = gtmsim.load_scenario(
        packaged_scenarios() / "over_the_wall.toml", {"simulation.horizon_days": 7}
    )
    assert by_name.content_hash() == by_path.content_hash()
    assert gtmsim.load_scenario("examples/fast_follow_up").name == "fast_follow_up"
    with pytest.raises(ScenarioError, match="did you mean 'over_the_wall'"):
        gtmsim.load_scenario("over_the_wal")
    (tmp_path / "over_the_wall").write_text('name = "mine"\n')  # a file of that name first
    assert gtmsim.load_scenario("over_the_wall").name == "mine"


def test_a_name_loads_past_a_folder_of_that_name_and_hints_follow_what_loads(tmp_path, monkeypatch):
    import gtmsim
    from gtmsim.scenario.errors import ScenarioError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "over_the_wall").mkdir()  # e.g. a run's --out folder
    assert gtmsim.load_scenario("over_the_wall").name == "over_the_wall"
    mine = tmp_path / "scenarios" / "mine.toml"  # a scenarios/ folder of the user's own
    mine.parent.mkdir()
    mine.write_text('name = "mine"\n')
    with pytest.raises(ScenarioError, match="did you mean 'over_the_wall'"):
        gtmsim.load_scenario("over_the_wal")  # the installed one still loads by name
    with pytest.raises(ScenarioError, match="did you mean 'scenarios/mine.toml'"):
        gtmsim.load_scenario("mien")
