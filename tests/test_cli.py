"""The gtmsim command, run as a user runs it: through a subprocess."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

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
    from gtmsim.cli import HEADLINE

    assert set(HEADLINE) <= set(gtmsim.METRICS)


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


def test_readme_opens_with_the_two_commands_and_the_main_one_works():
    lines = (ROOT / "README.md").read_text().splitlines()
    block = lines[lines.index("```") + 1 : lines.index("```", lines.index("```") + 1)]
    assert len(block) == 2
    install, run = block[0].split(" && ")
    assert install == "python -m pip install ." and "pytest" in block[1]
    assert run.startswith("gtmsim compare ")
    # run it as a user's shell would (it uses a glob), with this interpreter's gtmsim
    command = run.replace("gtmsim", f"{shlex.quote(sys.executable)} -m gtmsim.cli", 1)
    out = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "3 designs, 5 paired replications each" in out.stdout
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
        lines[0] == "case_id,activity,timestamp_days,resource,channel,segment" and len(lines) > 100
    )
