"""The committed scenario reference is what the schema says today."""

from __future__ import annotations

from gtmsim.scenario.reference import render, rows
from gtmsim.scenario.schema import Scenario
from tests.conftest import ROOT


def test_committed_reference_is_current():
    committed = (ROOT / "docs" / "scenario-reference.md").read_text()
    assert committed == render(), (
        "docs/scenario-reference.md is stale: run "
        "python -m gtmsim.scenario.reference > docs/scenario-reference.md"
    )


def test_every_setting_is_documented():
    keys = [r[0] for r in rows()]
    for key, _, _, _, meaning in rows():
        assert meaning, f"{key} has no description"
    assert "handoff.sla_hours" in keys and "deals.stages.NAME.pass_probability" in keys
    assert "market.channels.NAME.spend_usd_per_week" in keys
    assert len(keys) == len(set(keys))
    # every top-level section of the schema is covered
    assert {k.split(".")[0] for k in keys} == set(Scenario.model_fields)
