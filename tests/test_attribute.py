"""attribute(): which of a design's settings make its difference from a baseline."""

from __future__ import annotations

import json

import pytest

import gtmsim
from gtmsim import plots
from gtmsim.experiment.attribute import setting_groups, switched_back
from tests.conftest import BASE, ROOT
from tests.test_cli import gtmsim as run_cli

DESIGN = {
    "handoff.sla_hours": 4,
    "handoff.route": "pooled",
    "deals.enablement_share": 0.1,
    "market.segments.smb.deal_size_usd": {"kind": "constant", "value": 9000},
    "simulation.seed": 99,  # not a design setting
    "name": "other",
}


def _settings(scenario: gtmsim.Scenario) -> dict:
    data = scenario.model_dump(mode="json")
    for key in ("name", "description"):
        data.pop(key)
    data["simulation"].pop("seed")
    return data


def test_groups_by_table_or_by_setting_with_the_baselines_values():
    base = gtmsim.load_scenario(BASE)
    design = gtmsim.load_scenario(BASE, DESIGN)
    groups = setting_groups(base, design)
    smb_size = base.market.segments["smb"].deal_size_usd.model_dump(mode="json")
    assert groups == {
        "market.segments.smb": {("market", "segments", "smb", "deal_size_usd"): smb_size},
        "handoff": {("handoff", "route"): "round_robin", ("handoff", "sla_hours"): None},
        "deals": {("deals", "enablement_share"): 0.0},
    }
    single = setting_groups(base, design, by="setting")
    assert list(single) == [
        "market.segments.smb.deal_size_usd",
        "handoff.route",
        "handoff.sla_hours",
        "deals.enablement_share",
    ]
    with pytest.raises(ValueError, match="by"):
        setting_groups(base, design, by="channel")


@pytest.mark.parametrize(
    "baseline, design",
    [
        ("base/market", "integrated"),
        ("over_the_wall", "oc2"),
        ("defined", "aligned"),
        ("smb/defined", "smb/integrated"),
        ("integrated", "base/market"),
    ],
)
def test_switching_groups_back_moves_exactly_those_settings(baseline, design):
    base = gtmsim.load_scenario(ROOT / "scenarios" / f"{baseline}.toml")
    des = gtmsim.load_scenario(ROOT / "scenarios" / f"{design}.toml")
    groups = setting_groups(base, des)
    assert groups
    everything = {k: v for settings in groups.values() for k, v in settings.items()}
    assert _settings(switched_back(des, everything)) == _settings(base)
    for name, settings in groups.items():
        try:
            variant = switched_back(des, settings)
        except gtmsim.ScenarioError as exc:  # valid only with settings of another group
            assert exc.problems
            continue
        others = {k: v for k, v in groups.items() if k != name}
        assert setting_groups(base, variant) == others


def test_a_table_whose_keys_differ_or_move_is_switched_back_whole():
    base = gtmsim.load_scenario(BASE)
    for change in ("drop", "reorder"):
        data = base.model_dump(mode="json")
        stages = data["deals"]["stages"]
        if change == "drop":
            stages.pop("negotiation")
        else:  # the order of the stages is the order of the sale
            stages["demo"], stages["discovery"] = stages.pop("discovery"), stages.pop("demo")
        design = gtmsim.load_scenario(data)
        groups = setting_groups(base, design, by="setting")
        assert list(groups) == ["deals.stages"], change
        back = switched_back(design, groups["deals.stages"])
        assert list(back.deals.stages) == list(base.deals.stages)


def test_keys_with_dots_and_names_like_settings_work():
    data = gtmsim.load_scenario(BASE, {"simulation.horizon_days": 20}).model_dump(mode="json")
    channels = data["market"]["channels"]
    data["market"]["channels"] = {
        ("paid.search" if k == "paid_search" else k): v for k, v in channels.items()
    }
    data["name"] = "sales"  # a name that is also a top-level key of a scenario
    base = gtmsim.load_scenario(data)
    data["market"]["channels"]["paid.search"]["spend_usd_per_week"] = 1000
    data["name"] = "market"
    design = gtmsim.load_scenario(data)
    groups = setting_groups(base, design)
    path = ("market", "channels", "paid.search", "spend_usd_per_week")
    assert groups == {"market.channels.paid.search": {path: 30000}}
    result = gtmsim.attribute(base, design, replications=1, executor="serial")
    assert result.ensemble.designs == [
        "sales",
        "market",
        "market without market.channels.paid.search",
    ]


def test_groups_valid_only_together_are_reported_not_run():
    short = {"simulation.horizon_days": 20}
    lists = {
        "handoff.speed_to_lead.decay_hours": [0.0, 24.0],
        "handoff.speed_to_lead.decay_multiplier": [1.0, 0.1],
        **short,
    }
    base = gtmsim.load_scenario(BASE, short)
    design = gtmsim.load_scenario(BASE, {**lists, "handoff.sla_hours": 2, "name": "other"})
    result = gtmsim.attribute(base, design, by="setting", replications=1, executor="serial")
    assert set(result.invalid) == {
        "handoff.speed_to_lead.decay_hours",
        "handoff.speed_to_lead.decay_multiplier",
    }
    assert "same length" in result.invalid["handoff.speed_to_lead.decay_hours"]
    assert list(result.groups) == ["handoff.sla_hours"]
    rows = [r["row"] for r in result.table(["mqls"]).rows()]
    assert rows == ["design - baseline", "handoff.sla_hours", "interactions and groups not run"]
    only_lists = gtmsim.load_scenario(BASE, lists)
    with pytest.raises(ValueError, match="no group .* back; try --by table"):
        gtmsim.attribute(base, only_lists, by="setting", replications=1, executor="serial")


def test_one_group_explains_the_whole_difference_exactly():
    short = {"simulation.horizon_days": 60}
    base = gtmsim.load_scenario(BASE, short)
    design = gtmsim.load_scenario(BASE, {**short, "handoff.sla_hours": 1, "name": "fast"})
    result = gtmsim.attribute(base, design, replications=2, executor="serial")
    assert list(result.groups) == ["handoff"]
    table = result.table(["deals_won", "first_response_hours_median"])
    for metric in ("deals_won", "first_response_hours_median"):
        rows = {r["row"]: r for r in table.where(metric=metric)}
        assert list(rows) == ["design - baseline", "handoff", "interactions"]
        # switched back, the design is the baseline: same settings, same random streams
        assert rows["handoff"]["mean"] == pytest.approx(rows["design - baseline"]["mean"])
        assert rows["interactions"]["mean"] == pytest.approx(0.0, abs=1e-9)
    speed = {r["row"]: r for r in table.where(metric="first_response_hours_median")}
    assert speed["handoff"]["mean"] < 0 and speed["handoff"]["share"] == pytest.approx(1.0)
    fig = plots.attribution(result, "deals_won")  # one bar per row: whole, handoff, interactions
    assert len(fig.axes[0].patches) == 3
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        f"fast - {base.name}",
        "handoff",
        "interactions",
    ]


def test_bad_requests_say_what_is_wrong():
    base = gtmsim.load_scenario(BASE)
    with pytest.raises(ValueError, match="same settings"):
        gtmsim.attribute(base, gtmsim.load_scenario(BASE, {"name": "copy"}))
    with pytest.raises(ValueError, match="unknown metric"):
        gtmsim.attribute(base, gtmsim.load_scenario(BASE, {"handoff.sla_hours": 2}), metrics=["x"])


def test_command_line(tmp_path):
    fast = tmp_path / "fast.toml"
    fast.write_text(
        f'extends = "{(ROOT / BASE).as_posix()}"\nname = "fast"\n'
        '[handoff]\nsla_hours = 1\nroute = "pooled"\n[deals]\nenablement_share = 0.1\n'
    )
    short = ["--set", "simulation.horizon_days=45", "-n", "2", "--executor", "serial"]
    saved = tmp_path / "runs"
    args = ("attribute", BASE, str(fast), *short, "--metrics", " deals_won", "--out", str(saved))
    out = run_cli(*args)
    assert out.returncode == 0, out.stderr
    files = sorted(saved.glob("replications/*/*.npz"))
    assert len(files) == 4 * 2  # baseline, design, a variant per table (2); two replications
    written = [f.stat().st_mtime_ns for f in files]
    assert run_cli(*args).stdout == out.stdout  # a rerun reads them back ...
    assert [f.stat().st_mtime_ns for f in files] == written  # ... and writes nothing
    assert "What 'fast' loses" in out.stdout
    for row in ("design - baseline", "handoff", "deals", "interactions"):
        assert row in out.stdout
    assert 'handoff.route = "round_robin"' in out.stdout
    png = tmp_path / "why.png"
    csv = run_cli(
        "attribute", BASE, str(fast), *short, "--by", "setting", "--csv", "--plot", str(png)
    )
    assert png.stat().st_size > 10_000
    assert csv.returncode == 0, csv.stderr
    header, *lines = csv.stdout.splitlines()
    assert header.split(",")[:2] == ["metric", "row"]
    assert sum(",handoff.route," in line for line in lines) == 2  # one per default metric
    compared = tmp_path / "compared"
    assert run_cli("compare", BASE, str(fast), *short, "--out", str(compared)).returncode == 0
    clash = run_cli("attribute", BASE, str(fast), *short, "--out", str(compared))
    assert clash.returncode == 2 and "holds the results of another run" in clash.stderr
    js = json.loads(run_cli(*args, "--json").stdout)  # the saved runs, read back
    assert js["switched_back"]["handoff"] == {
        "handoff.sla_hours": None,
        "handoff.route": "round_robin",
    }
    assert js["not_run"] == {} and js["table"][0]["row"] == "design - baseline"
    same = run_cli("attribute", BASE, BASE, "-n", "1")
    assert same.returncode == 2 and "same settings" in same.stderr
    for bad, says in (
        (["--plot", "why.txt"], "a figure is written as .png"),
        (["--metrics", "deals_won, bookingz"], "unknown metric(s) ['bookingz']"),
    ):
        out = run_cli("attribute", BASE, str(fast), "-n", "1", *bad)
        assert out.returncode == 2 and says in out.stderr, out.stderr


def test_a_group_is_switched_back_with_the_outside_settings_its_error_names():
    short = {"simulation.horizon_days": 20}
    base = gtmsim.load_scenario(BASE, {**short, "marketing.nurture.enabled": False})
    design = gtmsim.load_scenario(BASE, {**short, "handoff.rejected": "recycle", "name": "recycle"})
    assert list(setting_groups(base, design)) == ["marketing.nurture", "handoff"]
    result = gtmsim.attribute(base, design, replications=1, executor="serial")
    assert result.invalid == {}
    assert list(result.groups) == ["marketing.nurture + handoff.rejected", "handoff"]
    both = result.groups["marketing.nurture + handoff.rejected"]
    assert both == {("marketing", "nurture", "enabled"): False, ("handoff", "rejected"): "discard"}
