"""The gtmsim command, run as a user runs it: through a subprocess."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys

import pytest

import gtmsim as gtmsim_api
from gtmsim.cli import build_parser
from tests.conftest import ROOT

BASE = "scenarios/base/market.toml"


def gtmsim(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gtmsim.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_run_prints_a_table_with_confidence_intervals():
    out = gtmsim("run", BASE, "-n", "2", "--set", "simulation.horizon_days=30")
    assert out.returncode == 0, out.stderr
    assert "base: 2 replication(s), 30 days" in out.stdout
    assert "95% confidence interval" in out.stdout and "bookings" in out.stdout
    assert out.stderr == ""  # piped: no progress bar


def test_json_output_is_machine_readable():
    out = gtmsim("run", BASE, "-n", "2", "--set", "simulation.horizon_days=20", "--json", "--all")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["replications"] == 2
    assert set(data["metrics"]["leads_created"]) == {"mean", "sd", "ci_low", "ci_high"}
    assert len(data["lead_final_states"]) == 2
    assert data["metrics"]["sla_compliance_share"]["mean"] is None  # no SLA: null, not NaN


def test_headline_metrics_are_all_documented():
    import gtmsim
    from gtmsim.results.metrics import HEADLINE_METRICS

    assert set(HEADLINE_METRICS) <= set(gtmsim.METRICS)


def test_set_reads_toml_values_and_words():
    out = gtmsim(
        "run", BASE, "-n", "1", "--json",
        "--set", "simulation.horizon_days=10",
        "--set", "handoff.route=pooled",
        "--set", 'sales.sdr.attempt_hours={kind="exponential", mean=0.2}',
    )  # fmt: skip
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", BASE, "--set", "sales.ae.headcont=3"], "did you mean 'headcount'"),
        (["run", "no/such/file.toml"], "no/such/file.toml"),
        (
            ["run", "scenarios/examples/fast_folow_up.toml"],
            "'scenarios/examples/fast_follow_up.toml'",
        ),
        (["run", BASE, "--set", "handoff.route=sideways"], "handoff.route"),
        (["run", BASE, "--set", "nonsense"], "expected KEY=VALUE"),
        (["run", BASE, "-n", "0"], "positive whole number"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_traceback(args, message):
    out = gtmsim(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_metrics_lists_every_documented_metric():
    out = gtmsim("metrics")
    assert out.returncode == 0
    assert "win_rate" in out.stdout and "first_response_hours_median" in out.stdout


def test_help_explains_the_commands():
    out = gtmsim("run", "--help")
    assert out.returncode == 0
    assert "--set" in out.stdout and "--replications" in out.stdout


def test_no_help_text_shows_a_doubled_percent_sign():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, sub in commands.choices.items():
        assert "%%" not in sub.format_help(), name  # descriptions are not %-formatted


def test_warnings_print_as_messages_of_the_command(capsys):
    from gtmsim.cli.common import show_warning

    show_warning(gtmsim_api.PrecisionNotReached("stopped at the cap"), UserWarning, "x.py", 1)
    assert capsys.readouterr().err == "gtmsim: warning: stopped at the cap\n"


def test_readme_opens_with_the_two_commands_and_the_main_one_works():
    lines = (ROOT / "README.md").read_text().splitlines()
    block = lines[lines.index("```") + 1 : lines.index("```", lines.index("```") + 1)]
    assert len(block) == 2
    install, run = block[0].split(" && ")
    assert install == "python -m pip install ." and "pytest" in block[1]
    assert run.startswith("gtmsim compare ")
    # run it as a user's shell would (it uses a glob), with this interpreter's gtmsim, over
    # 60 days instead of a year (the same command; the full year is the README's excerpt)
    command = run.replace("gtmsim", f"{shlex.quote(sys.executable)} -m gtmsim.cli", 1)
    command += " --set simulation.horizon_days=60"
    out = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "5 designs, 5 paired replications each" in out.stdout
    assert "simulation.horizon_days = 60" in out.stdout  # the override is shown
    assert "Revenue bridge" in out.stdout


def test_a_reader_that_stops_reading_is_not_an_error():
    proc = subprocess.Popen(
        [sys.executable, "-m", "gtmsim.cli", "metrics"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # like `| head` that has already exited
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert "Broken pipe" not in err and "Traceback" not in err and "Exception ignored" not in err


def test_run_writes_the_event_log_of_replication_zero(tmp_path):
    log = tmp_path / "events.csv"
    out = gtmsim(
        "run", BASE, "-n", "2", "--set", "simulation.horizon_days=7", "--event-log", str(log)
    )
    assert out.returncode == 0, out.stderr
    lines = log.read_text().splitlines()
    assert (
        lines[0] == "case_id,activity,timestamp,timestamp_days,resource,channel,segment,before_run"
        and len(lines) > 100
    )


def gtmsim_in(cwd, *args: str) -> subprocess.CompletedProcess:
    """The command run from another folder (with this checkout's gtmsim)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "gtmsim.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture
def shipped(tmp_path):
    """A folder laid out like the checkout: scenarios/ with a base, presets and variants."""
    base = tmp_path / "scenarios" / "base" / "market.toml"
    base.parent.mkdir(parents=True)
    shutil.copy(ROOT / "scenarios" / "base" / "market.toml", base)
    for name in ("over_the_wall", "defined", "smb/defined", "examples/follow", "examples/fast"):
        path = tmp_path / "scenarios" / f"{name}.toml"
        path.parent.mkdir(exist_ok=True)
        up = "../" * name.count("/")
        path.write_text(f'extends = "{up}base/market.toml"\nname = "{name.replace("/", "_")}"\n')
    (tmp_path / "scenarios" / "smb" / "fast.toml").write_text('name = "smb_fast"\n')
    return tmp_path


def test_a_misspelt_scenario_file_gets_the_closest_shipped_ones(shipped):
    for args in (["run", "over_the_wal"], ["compare", "defined", "scenarios/over_the_wal.toml"]):
        out = gtmsim_in(shipped, *args)
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert "over_the_wal" in out.stderr and "no such file" in out.stderr
        assert "did you mean 'scenarios/over_the_wall.toml'?" in out.stderr, out.stderr
    # an extends that misses is told the path to write, relative to its own file
    (shipped / "mine").mkdir()
    (shipped / "mine" / "design.toml").write_text('extends = "../scenarios/defind.toml"\n')
    out = gtmsim_in(shipped, "validate", "mine/design.toml")
    assert out.returncode == 2
    assert "mine/design.toml:1: extends" in out.stderr
    assert "did you mean '../scenarios/defined.toml'?" in out.stderr, out.stderr
    # nothing close: where to look
    out = gtmsim_in(shipped, "run", "xyzzy")
    assert out.returncode == 2 and "`gtmsim list` shows the shipped scenario files" in out.stderr


def test_a_shipped_scenario_can_be_named_without_its_path(shipped):
    out = gtmsim_in(shipped, "validate", "defined", "over_the_wall", "smb/defined", "follow")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "scenarios/defined.toml: ok (defined)",  # the top one, not smb/defined.toml
        "scenarios/over_the_wall.toml: ok (over_the_wall)",
        "scenarios/smb/defined.toml: ok (smb_defined)",
        "scenarios/examples/follow.toml: ok (examples_follow)",  # the one of that name
    ]
    out = gtmsim_in(shipped, "run", "defined", "-n", "1", "--set", "simulation.horizon_days=7")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("defined: 1 replication(s), 7 days")
    # two files of that name further down: ambiguous, so both are offered and neither is run
    out = gtmsim_in(shipped, "validate", "fast")
    assert out.returncode == 2
    assert "'scenarios/examples/fast.toml' or 'scenarios/smb/fast.toml'" in out.stderr
    # a file of that name here comes first; a name with .toml is a file name, not a preset
    (shipped / "defined").write_text('extends = "scenarios/base/market.toml"\nname = "mine"\n')
    assert gtmsim_in(shipped, "validate", "defined").stdout == "defined: ok (mine)\n"
    out = gtmsim_in(shipped, "validate", "over_the_wall.toml")
    assert out.returncode == 2 and "did you mean 'scenarios/over_the_wall.toml'?" in out.stderr


def test_help_says_a_file_can_be_a_shipped_scenario_name():
    assert "name of a shipped scenario" in gtmsim("--help").stdout
    assert "name of a shipped" in gtmsim("run", "--help").stdout
