"""Settings changed with --set are never hidden: headers, JSON, the report, figure subtitles."""

from __future__ import annotations

import json

import pytest

import gtmsim
from gtmsim.cli import main
from gtmsim.report import design_figures, report_html
from gtmsim.scenario.loader import overrides_text
from tests.conftest import BASE, ROOT

FAST = str(ROOT / "scenarios" / "examples" / "fast_follow_up.toml")
SET = ["--set", "simulation.horizon_days=21", "--set", "handoff.route=pooled"]
SHOWN = 'simulation.horizon_days = 21, handoff.route = "pooled"'


def cli(capsys, *argv: str) -> str:
    assert main([*argv, "--executor", "serial"]) == 0
    return capsys.readouterr().out


def test_overrides_read_as_a_scenario_file_writes_them():
    assert overrides_text({}) == ""
    assert overrides_text({"a.b": 3, "c": "x", "d": True, "e": [1, 2], "f": {"g": 0.5}}) == (
        'a.b = 3, c = "x", d = true, e = [1, 2], f = { g = 0.5 }'
    )


def test_run_experiment_applies_and_records_them():
    a = gtmsim.load_scenario(BASE, {"simulation.horizon_days": 14})
    e = gtmsim.run_experiment(a, 1, executor="serial", overrides={"sales.sdr.headcount": 3})
    assert e.scenarios[0].sales.sdr.headcount == 3
    assert e.manifest["overrides"] == {"sales.sdr.headcount": 3}
    plain = gtmsim.run_experiment(a, 1, executor="serial")
    assert plain.manifest["overrides"] == {}


def test_run_shows_them_in_its_header_and_json(capsys):
    out = cli(capsys, "run", str(BASE), *SET, "-n", "1")
    assert f"settings changed for this run (--set): {SHOWN}" in out.splitlines()[1]
    data = json.loads(cli(capsys, "run", str(BASE), *SET, "-n", "1", "--json"))
    assert data["overrides"] == {"simulation.horizon_days": 21, "handoff.route": "pooled"}


def test_compare_and_sweep_show_them_in_their_header(capsys):
    out = cli(capsys, "compare", str(BASE), FAST, *SET, "-n", "1", "--metrics", "mqls")
    assert out.splitlines()[1] == f"settings changed for every design (--set): {SHOWN}"
    data = json.loads(cli(capsys, "compare", str(BASE), FAST, *SET, "-n", "1", "--json"))
    assert data["overrides"]["handoff.route"] == "pooled"
    out = cli(capsys, "sweep", str(BASE), *SET, "-n", "1", "--vary", "handoff.sla_hours=1,4")
    assert out.splitlines()[1] == f"settings changed for every point (--set): {SHOWN}"


@pytest.mark.parametrize("overrides", [{"simulation.horizon_days": 21, "handoff.route": "pooled"}])
def test_the_report_and_every_figure_subtitle_show_them(overrides):
    scenarios = [gtmsim.load_scenario(f, overrides) for f in (BASE, FAST)]
    e = gtmsim.run_experiment(scenarios, 1, executor="serial", overrides=overrides)
    figures = design_figures(e, 0)
    for shown in figures:
        subtitle = shown.figure.get_suptitle().replace("\n", " ")
        assert "settings changed for every design:" in subtitle, shown.key
        assert "handoff.route" in subtitle, shown.key
    html = report_html(e, figures[:1], 0)
    assert "Settings changed for every design: <code>" in html
    assert "handoff.route = &quot;pooled&quot;" in html
