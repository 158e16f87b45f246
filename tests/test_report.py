"""The HTML report: every figure inline, nothing loaded from anywhere, every user string
escaped, and it renders in a real browser; the plot, report, animate and gallery commands."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import gtmsim
from gtmsim.cli import main
from gtmsim.report import design_figures, differing_settings, report_html, write_report
from gtmsim.report.gallery import default_scenarios
from tests.conftest import BASE, ROOT

FAST = ROOT / "scenarios" / "examples" / "fast_follow_up.toml"
EVIL = "<script>alert(1)</script>"
SHORT = {"simulation.horizon_days": 60}


@pytest.fixture(scope="session")
def ensemble() -> gtmsim.Ensemble:
    evil = gtmsim.load_scenario(BASE, {**SHORT, "name": EVIL, "description": 'a <b>"&'})
    fast = gtmsim.load_scenario(FAST, SHORT)
    return gtmsim.run_experiment([evil, fast], 2, executor="serial")


@pytest.fixture(scope="session")
def report(ensemble, tmp_path_factory) -> Path:
    return write_report(ensemble, tmp_path_factory.mktemp("report") / "report.html")


@pytest.fixture(scope="session")
def html(report) -> str:
    return report.read_text()


def test_report_has_every_figure_inline(ensemble, html):
    keys = [shown.key for shown in design_figures(ensemble)]
    assert {"funnel", "bookings", "forest", "speed_to_lead", "quota"} <= set(keys)
    for key in keys:
        assert f'id="fig-{key}"' in html
    images = re.findall(r'<img [^>]*src="([^"]*)"', html)
    assert len(images) == len(keys)
    assert all(src.startswith("data:image/png;base64,") for src in images)


def test_report_is_self_contained_and_has_no_script(html):
    assert "<script" not in html.lower()
    for attribute in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert attribute.startswith(("data:", "#")), attribute
    assert "@import" not in html and "url(" not in html


def test_report_escapes_user_strings(html):
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'a <b>"&' not in html and "a &lt;b&gt;&quot;&amp;" in html


def test_report_tables(ensemble, html):
    assert "Headline figures" in html and "bookings" in html
    assert "Paired difference versus" in html
    assert "handoff.sla_hours" in html  # a setting in which the designs differ
    assert "scenario_hashes" in html  # the manifest


def test_report_tables_show_shares_as_percents_and_their_differences_in_points(html):
    headline = re.search(r'title="[^"]*">win_rate</td>(.*?)</tr>', html).group(1)
    means = re.findall(r"<td>([^<]*)<", headline)
    assert len(means) == 2 and all(m.endswith("%") for m in means), means
    paired = re.findall(r'<td class="key">win_rate</td>(.*?)</tr>', html)
    assert paired and re.search(r"<b>[-+]?[\d.]+ pp</b>", paired[0]), paired


def test_differing_settings_names_only_what_differs(ensemble):
    diff = differing_settings(ensemble.scenarios)
    assert {"handoff.sla_hours", "handoff.route", "description"} <= set(diff)
    assert "name" not in diff and "market.arrivals.hourly_weights" not in diff
    assert diff["handoff.sla_hours"] == [None, 1.0]


def test_report_of_one_design(ensemble):
    one = gtmsim.run_experiment(
        gtmsim.load_scenario(BASE, {"simulation.horizon_days": 21}), 1, executor="serial"
    )
    text = report_html(one, design_figures(one))
    assert "nothing to compare" in text and "forest" not in text


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(chromium() is None, reason="Debian's chromium is not installed here")
def test_report_renders_in_headless_chromium_without_console_errors(report, tmp_path):
    shot = tmp_path / "report.png"
    run = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            "--window-size=1300,2400",
            f"--screenshot={shot}",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


@pytest.fixture(scope="session")
def saved_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "results"
    code = main(
        ["compare", str(BASE), str(FAST), "-n", "2", "--executor", "serial"]
        + ["--set", "simulation.horizon_days=45", "--out", str(out)]
    )
    assert code == 0
    return out


def test_plot_command_draws_from_a_saved_run(saved_run, tmp_path, capsys):
    for kind in ("funnel", "bridge", "sankey", "spiral"):
        out = tmp_path / f"{kind}.png"
        assert main(["plot", kind, str(saved_run), "-o", str(out)]) == 0
        assert out.read_bytes()[:4] == b"\x89PNG"
    out = tmp_path / "sankey.svg"
    assert (
        main(["plot", "sankey", str(saved_run), "--design", "fast_follow_up", "-o", str(out)]) == 0
    )
    assert "fast_follow_up" in out.read_text()
    assert f"wrote {out}" in capsys.readouterr().out


def test_plot_command_refuses_bad_input(saved_run, tmp_path, capsys):
    assert main(["plot", "funnel", str(saved_run), "-o", str(tmp_path / "x.txt")]) == 2
    assert main(["plot", "sankey", str(saved_run), "--design", "nope"]) == 2
    assert main(["plot", "funnel", str(tmp_path)]) == 2  # a folder with no saved run
    assert main(["plot", "funnel", str(saved_run), "--set", "sales.ae.headcount=3"]) == 2
    err = capsys.readouterr().err
    assert ".png, .svg, .pdf" in err and "no saved run" in err and "nope" in err


def test_plot_sweep_from_a_scenario(tmp_path):
    out = tmp_path / "sweep.png"
    code = main(
        ["plot", "sweep", str(BASE), "--vary", "handoff.sla_hours=1:24:2", "-n", "1"]
        + ["--set", "simulation.horizon_days=21", "--executor", "serial", "-o", str(out)]
    )
    assert code == 0 and out.exists()


def test_report_command_from_saved_run_and_from_files(saved_run, tmp_path):
    out = tmp_path / "from_saved.html"
    assert main(["report", str(saved_run), "-o", str(out), "--title", "<i>x</i>"]) == 0
    text = out.read_text()
    assert "<title>&lt;i&gt;x&lt;/i&gt;</title>" in text
    out = tmp_path / "from_files.html"
    code = main(
        ["report", str(FAST), "--baseline", str(BASE), "-n", "1", "--executor", "serial"]
        + ["--set", "simulation.horizon_days=21", "-o", str(out)]
    )
    assert code == 0
    assert "baseline\n<b>base</b>" in out.read_text()


def test_animate_command(tmp_path):
    out = tmp_path / "funnel.gif"
    code = main(
        ["animate", str(BASE), str(FAST), "--days", "14", "--frames", "2", "--sample", "200"]
        + ["-o", str(out)]
    )
    assert code == 0 and out.read_bytes()[:4] == b"GIF8"
    assert main(["animate", str(BASE), str(FAST), "-o", str(tmp_path / "x.avi")]) == 2


def test_gallery_command(tmp_path, capsys):
    out = tmp_path / "gallery"
    code = main(
        ["gallery", str(BASE), str(FAST), "--days", "30", "-n", "1", "--executor", "serial"]
        + ["--no-explore", "-o", str(out)]
    )
    assert code == 0
    names = {p.name for p in out.glob("*.png")}
    assert {
        "funnel.png",
        "bookings.png",
        "forest.png",
        "sankey_base.png",
        "attribution.png",
    } <= names
    assert all(p.stat().st_size < 200_000 for p in out.glob("*.png"))


def test_gallery_default_scenarios(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "market.toml").write_text("")
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "a.toml").write_text("")
    assert default_scenarios(tmp_path) == [
        (tmp_path / "base" / "market.toml").as_posix(),
        (tmp_path / "examples" / "a.toml").as_posix(),
    ]
    for name in ("c", "a", "b"):
        (tmp_path / f"{name}.toml").write_text("")
    assert [Path(p).stem for p in default_scenarios(tmp_path)] == ["a", "b", "c"]
    listing = tmp_path / "gallery.toml"
    listing.write_text('designs = ["x/c.toml", "x/a.toml"]\n')
    assert default_scenarios(tmp_path, listing) == ["x/c.toml", "x/a.toml"]


def test_the_shipped_gallery_lists_existing_designs():
    listed = default_scenarios(ROOT / "scenarios", ROOT / "plots" / "gallery.toml")
    assert len(listed) >= 2
    assert all((ROOT / p).is_file() for p in listed)
