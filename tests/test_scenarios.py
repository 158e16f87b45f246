"""Every shipped scenario file loads and runs end to end through the public API."""

from __future__ import annotations

import pytest

import gtmsim
from tests.conftest import ROOT

FILES = sorted((ROOT / "scenarios").rglob("*.toml"))


def test_there_are_scenarios():
    assert FILES


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_scenario_runs(path):
    scenario = gtmsim.load_scenario(path, {"simulation.horizon_days": 21})
    result = gtmsim.simulate(scenario)
    m = result.metrics
    assert m["leads_created"] > 0
    assert m["mqls"] > 0
    assert sum(result.lead_final_states.values()) == m["leads_created"]
    assert m["marketing_spend"] > 0


def test_base_market_is_the_reference_size():
    """The base market is the size CALIBRATION.md describes, over one year."""
    scenario = gtmsim.load_scenario(ROOT / "scenarios" / "base" / "market.toml")
    assert scenario.sales.ae.headcount == 40 and scenario.sales.sdr.headcount == 12
    m = gtmsim.simulate(scenario).metrics
    assert 50_000 <= m["inquiries"] <= 80_000
    assert m["deals_won"] > 0 and m["bookings"] > 0
    assert 0.1 < m["win_rate"] < 0.5
    assert 20 < m["cycle_days_median"] < 150
