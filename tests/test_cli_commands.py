"""list, validate, explain, schema and compare, run as a user runs them."""

from __future__ import annotations

import json
import tomllib

import gtmsim
from tests.conftest import ROOT
from tests.test_cli import gtmsim as run_cli

BASE = "scenarios/base/market.toml"
FAST = "scenarios/examples/fast_follow_up.toml"
SHORT = ["--set", "simulation.horizon_days=75", "-n", "2", "--jobs", "2"]


def test_list_shows_every_shipped_scenario():
    out = run_cli("list")
    assert out.returncode == 0, out.stderr
    for path in (ROOT / "scenarios").rglob("*.toml"):
        assert path.relative_to(ROOT).as_posix() in out.stdout
    assert "fast_follow_up" in out.stdout and "SDRs share one queue" in out.stdout


def test_validate_reports_good_and_bad_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'extends = "{(ROOT / BASE).as_posix()}"\n[handoff]\nroute = "sideways"\nmax_attempts = 0\n'
    )
    out = run_cli("validate", BASE, FAST, str(bad))
    assert out.returncode == 2
    assert f"{BASE}: ok (base)" in out.stdout and f"{FAST}: ok (fast_follow_up)" in out.stdout
    assert "2 problem(s)" in out.stderr
    assert "handoff.route" in out.stderr and "handoff.max_attempts" in out.stderr
    assert "Traceback" not in out.stderr


def test_explain_prints_toml_that_loads_back_to_the_same_scenario():
    out = run_cli("explain", FAST, "--set", "sales.sdr.headcount=9")
    assert out.returncode == 0, out.stderr
    assert "# default" in out.stdout and 'route = "pooled"' in out.stdout
    again = gtmsim.load_scenario(tomllib.loads(out.stdout))
    expected = gtmsim.load_scenario(ROOT / FAST, {"sales.sdr.headcount": 9})
    assert again == expected


def test_explain_marks_default_only_what_no_file_or_override_set(tmp_path):
    from gtmsim.scenario.explain import explain

    design = tmp_path / "mine.toml"
    design.write_text('name = "mine"\n[handoff]\nroute = "pooled"\n')
    lines = explain(gtmsim.load_scenario(design, {"simulation.seed": 0})).splitlines()
    default = gtmsim.Scenario().handoff
    assert default.route == "pooled"  # written at its default value, still not marked
    assert 'route = "pooled"' in lines
    assert "seed = 0" in lines  # an override at the default value
    assert 'sla_hours = "none"  # default' in lines
    assert "horizon_days = 365.0  # default" in lines


def test_schema_is_json_schema_of_scenarios():
    out = run_cli("schema")
    schema = json.loads(out.stdout)
    assert {"market", "handoff", "sales", "deals"} <= set(schema["properties"])


def test_compare_prints_summary_differences_and_bridge():
    out = run_cli("compare", BASE, FAST, *SHORT)
    assert out.returncode == 0, out.stderr
    assert "2 designs, 2 paired replications each, baseline 'base'" in out.stdout
    assert "Paired difference versus 'base'" in out.stdout
    assert "Revenue bridge, 'base' -> 'fast_follow_up'" in out.stdout


def test_compare_json_and_csv():
    out = run_cli("compare", BASE, FAST, *SHORT, "--json", "--metrics", "bookings,deals_won")
    data = json.loads(out.stdout)
    assert data["baseline"] == "base"
    assert {r["metric"] for r in data["comparison"]} == {"bookings", "deals_won"}
    assert "fast_follow_up" in data["revenue_bridge"]
    csv = run_cli("compare", BASE, FAST, *SHORT, "--csv", "--metrics", "bookings")
    header, row = csv.stdout.strip().splitlines()
    assert header.startswith("design,metric,baseline_mean") and row.startswith(
        "fast_follow_up,bookings,"
    )


def test_compare_baseline_can_be_any_design():
    out = run_cli("compare", BASE, FAST, *SHORT, "--baseline", FAST, "--metrics", "bookings")
    assert "baseline 'fast_follow_up'" in out.stdout and "'fast_follow_up' -> 'base'" in out.stdout


def test_compare_out_writes_files_resumes_and_guards_other_runs(tmp_path):
    out_dir = tmp_path / "results"
    first = run_cli("compare", BASE, FAST, *SHORT, "--out", str(out_dir))
    assert first.returncode == 0, first.stderr
    for name in (
        "replications.csv",
        "weekly.csv",
        "summary.csv",
        "comparison.csv",
        "manifest.json",
        "ensemble.npz",
    ):
        assert (out_dir / name).exists(), name
    assert (out_dir / "bridge_fast_follow_up.csv").exists()
    assert (out_dir / "scenarios" / "fast_follow_up.toml").exists()
    assert len(list((out_dir / "replications").rglob("*.npz"))) == 4
    again = run_cli("compare", BASE, FAST, *SHORT, "--out", str(out_dir))  # same run: reused
    assert again.returncode == 0 and again.stdout == first.stdout.replace(
        str(out_dir), str(out_dir)
    )
    other = run_cli("compare", BASE, *SHORT, "--out", str(out_dir))
    assert other.returncode == 2 and "holds the results of another run" in other.stderr
    forced = run_cli("compare", BASE, *SHORT, "--out", str(out_dir), "--force")
    assert forced.returncode == 0, forced.stderr


def test_compare_bad_arguments_exit_2():
    for args, message in (
        (["-n", "zero"], "positive whole number"),
        (["--executor", "dask"], "--scheduler"),
        (["--metrics", "bookngs"], "unknown metric"),
    ):
        out = run_cli("compare", BASE, *args)
        assert out.returncode == 2, args
        assert message in out.stderr and "Traceback" not in out.stderr


def test_bad_options_are_refused_before_anything_runs(tmp_path):
    (tmp_path / "afile").write_text("")
    vary = ["--vary", "handoff.sla_hours=1:24:2"]
    for args, message in (
        (["compare", BASE, "--seed", "-4"], "--seed: expected a whole number >= 0"),
        (["compare", BASE, "--jobs", "0"], "--jobs: expected a whole number >= 1"),
        (["animate", BASE, FAST, "--fps", "0", "-o", "a.gif"], "--fps"),
        (["compare", BASE, "--out", str(tmp_path / "afile" / "sub")], "Not a directory"),
        (["sweep", BASE, *vary, "--metrics", "bookngs"], "unknown metric"),
        (
            ["sensitivity", BASE, "--vary", "handoff.sla_hours=1:24", "--metric", "mqls"],
            "at least two settings",
        ),
    ):
        out = run_cli(*args, timeout=20)  # refused at once: nothing is simulated
        assert out.returncode == 2, (args, out.stderr)
        assert message in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)


def test_metrics_broken_down_by_channel_can_be_compared():
    metric = "deals_won.channel.referral"
    out = run_cli("compare", BASE, FAST, *SHORT, "--metrics", metric, "--json")
    assert out.returncode == 0, out.stderr
    assert metric in out.stdout


def test_compare_without_deals_explains_why_there_is_no_bridge():
    out = run_cli(
        "compare", BASE, FAST, "--set", "simulation.horizon_days=10", "-n", "2", "--metrics", "mqls"
    )
    assert out.returncode == 0, out.stderr
    assert "No revenue bridge for 'base' -> 'fast_follow_up'" in out.stdout


def test_sweep_over_a_handoff_setting():
    out = run_cli(
        "sweep", BASE, "--vary", "handoff.sla_hours=1:24:3", "--set", "simulation.horizon_days=60",
        "-n", "2", "--jobs", "2", "--metrics", "deals_won",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("handoff.sla_hours=") == 3
    assert "best deals_won (highest): handoff.sla_hours = " in out.stdout
    csv = run_cli(
        "sweep", BASE, "--vary", "sales.sdr.headcount=8,12", "--set", "simulation.horizon_days=20",
        "-n", "2", "--metrics", "mqls_worked", "--csv",
    )  # fmt: skip
    assert csv.returncode == 0, csv.stderr
    assert csv.stdout.splitlines()[0].startswith("design,sales.sdr.headcount,metric")


def test_sensitivity_prints_sobol_indices():
    out = run_cli(
        "sensitivity", BASE, "--vary", "handoff.speed_to_lead.contact_probability=0.4:0.9",
        "--vary", "marketing.scoring.mql_threshold=0.4:0.55", "--metric", "accepted",
        "--samples", "8", "--set", "simulation.horizon_days=20", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["input"] for r in rows] == [
        "handoff.speed_to_lead.contact_probability",
        "marketing.scoring.mql_threshold",
    ]


def test_calibrate_fits_settings_to_observed_figures(tmp_path):
    observed = tmp_path / "funnel.toml"
    observed.write_text("[observed]\nmqls = 700\n")
    out = run_cli(
        "calibrate", BASE, "--observed", str(observed), "--vary", "marketing.scoring.mql_threshold=0.35:0.6",
        "--set", "simulation.horizon_days=14", "-n", "2", "--max-evaluations", "8",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "marketing.scoring.mql_threshold = " in out.stdout and "relative_error" in out.stdout


def test_experiment_commands_reject_bad_ranges_and_files(tmp_path):
    for args, message in (
        (["sweep", BASE, "--vary", "handoff.sla_hours"], "expected KEY=LO:HI"),
        (
            ["sensitivity", BASE, "--vary", "handoff.sla_hours=1:2:3", "--metric", "mqls"],
            "expected KEY=LO:HI",
        ),
        (
            [
                "calibrate",
                BASE,
                "--observed",
                str(tmp_path / "none.toml"),
                "--vary",
                "handoff.sla_hours=1:4",
            ],
            "none.toml",
        ),
        (
            ["calibrate", BASE, "--observed", "x.toml", "--vary", "a=1:2", "-n", "auto"],
            "give a number",
        ),
    ):
        out = run_cli(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert message in out.stderr and "Traceback" not in out.stderr


def test_compare_and_robust_put_a_baseline_that_is_not_a_file_first():
    from gtmsim.cli import build_parser
    from gtmsim.cli.common import with_baseline

    for command in ("compare", "robust"):
        parse = build_parser().parse_args
        args = parse([command, "a.toml", "b.toml", "--seed", "3", "--out", "o", "--force"])
        assert with_baseline(args) == (["a.toml", "b.toml"], 0)
        assert (args.seed, args.out, args.force) == (3, "o", True)
        args = parse([command, "a.toml", "b.toml", "--baseline", "b.toml"])
        assert with_baseline(args) == (["a.toml", "b.toml"], 1)
        args = parse([command, "a.toml", "--baseline", "c.toml"])
        assert with_baseline(args) == (["c.toml", "a.toml"], 0)
