"""The revenue bridge's two chains, and breakdowns that add up to their totals."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

import gtmsim
from gtmsim.experiment.compare import BRIDGE_STEPS, CHAIN_TOTALS, MARKETING_CHAIN, SALES_CHAIN
from gtmsim.results.metrics import FUNNEL_METRICS, METRICS, unknown_metrics
from tests.conftest import BASE


@pytest.fixture(scope="module")
def pair() -> gtmsim.Ensemble:
    o = {"simulation.horizon_days": 60}
    designs = {
        "base": gtmsim.load_scenario(BASE, o),
        "fast": gtmsim.load_scenario(
            BASE, {**o, "handoff.sla_hours": 1, "handoff.route": "pooled"}
        ),
    }
    return gtmsim.run_experiment(designs, 2, executor="serial")


def mean(e: gtmsim.Ensemble, name: str, d: int) -> float:
    return float(np.nanmean(e.metric(name)[d]))


def test_each_chain_adds_up_to_its_subtotal_and_the_two_to_the_total(pair):
    bridge = gtmsim.revenue_bridge(pair, "base", "fast")
    subtotals = {r["chain"]: r for r in bridge.where(kind="subtotal")}
    assert set(subtotals) == {MARKETING_CHAIN, SALES_CHAIN}
    for chain, metric in CHAIN_TOTALS.items():
        steps = [r["contribution_usd"] for r in bridge.where(kind="step", chain=chain)]
        assert len(steps) == len(BRIDGE_STEPS[chain])
        sub = subtotals[chain]
        assert sub["step"] == metric
        assert math.isclose(sum(steps), sub["contribution_usd"], rel_tol=1e-9, abs_tol=1e-6)
        assert sub["baseline"] == pytest.approx(mean(pair, metric, 0), rel=1e-12)
        assert sub["design"] == pytest.approx(mean(pair, metric, 1), rel=1e-12)
    (total,) = bridge.where(kind="total")
    both = sum(r["contribution_usd"] for r in subtotals.values())
    assert math.isclose(both, total["contribution_usd"], rel_tol=1e-9)
    assert total["contribution_usd"] == pytest.approx(
        mean(pair, "bookings", 1) - mean(pair, "bookings", 0)
    )


def test_every_step_is_the_metric_or_the_ratio_of_metrics_it_names(pair):
    bridge = gtmsim.revenue_bridge(pair, "base", "fast")
    for r in bridge.where(kind="step"):
        names = r["step"].split(" / ")
        assert not unknown_metrics(names), r["step"]
        for d, column in enumerate(("baseline", "design")):
            value = mean(pair, names[0], d)
            if len(names) == 2:
                value /= mean(pair, names[1], d)
            assert r[column] == pytest.approx(value, rel=1e-9), (r["step"], column)


def test_the_printed_bridge_shows_ratio_steps_of_counts_as_percents(pair):
    bridge = gtmsim.revenue_bridge(pair, "base", "fast")
    lines = bridge.to_text(["step", "baseline", "design"]).splitlines()[1:]
    shown = {line.split("  ")[0].strip(): line.split()[-2:] for line in lines}
    for r in bridge.rows():
        per_deal = r["step"].startswith("bookings") and " / " in r["step"]
        percents = [v.endswith("%") for v in shown[r["step"]]]
        assert percents == [" / " in r["step"] and not per_deal] * 2, (r["step"], shown)
    assert bridge.where(step="mqls / inquiries")[0]["baseline"] < 1  # the value stays a ratio


def test_a_chain_with_an_empty_stage_is_one_step_that_still_adds_up(pair):
    """No self-sourced deal won in the baseline: the sales-sourced chain cannot be split."""
    values = pair.values.copy()
    won = pair.metrics.index("deals_won")
    values[0, :, won] -= values[0, :, pair.metrics.index("deals_won_outbound")]
    empty = replace(pair, values=values)
    bridge = gtmsim.revenue_bridge(empty, "base", "fast")
    (step,) = bridge.where(kind="step", chain=SALES_CHAIN)
    assert "not split" in step["step"] and "deals_won_outbound" in step["step"]
    (sub,) = bridge.where(kind="subtotal", chain=SALES_CHAIN)
    assert step["contribution_usd"] == sub["contribution_usd"]
    assert len(bridge.where(kind="step", chain=MARKETING_CHAIN)) == len(
        BRIDGE_STEPS[MARKETING_CHAIN]
    )


def test_breakdowns_add_up_to_their_totals(pair):
    channels = [s.split(".channel.")[1] for s in pair.metrics if s.startswith("mqls.channel.")]
    for name, splits in [
        *((m, ("channel", "segment")) for m in FUNNEL_METRICS),
        ("bookings", ("channel",)),
    ]:
        for split in splits:
            parts = [m for m in pair.metrics if m.startswith(f"{name}.{split}.")]
            assert parts, (name, split)
            total = sum(pair.metric(m) for m in parts)
            np.testing.assert_allclose(total, pair.metric(name), err_msg=f"{name}.{split}")
    accepted = {m.split(".channel.")[1] for m in pair.metrics if m.startswith("accepted.channel.")}
    assert "outbound" not in accepted and accepted < set(channels)
    np.testing.assert_array_equal(
        pair.metric("accepted"), pair.metric("mqls_accepted") + pair.metric("buyers_returned")
    )
    for name, inbound, outbound in (
        ("opportunities", "opportunities_inbound", "opportunities_outbound"),
        ("deals_won", "deals_won_inbound", "deals_won_outbound"),
        ("bookings", "bookings_inbound_usd", "bookings_outbound_usd"),
    ):
        np.testing.assert_allclose(pair.metric(inbound) + pair.metric(outbound), pair.metric(name))


def test_leads_born_before_the_run_are_counted_and_said_so(pair):
    before = pair.metric("leads_from_before_run")
    assert (before > 0).all()  # the base market has returning buyers
    assert (before <= pair.metric("inquiries")).all()
    for name in ("leads_created", "inquiries"):
        assert "leads_from_before_run" in METRICS[name]


def test_a_step_says_its_unit_and_whether_it_is_a_share_with_or_without_its_note():
    from gtmsim.experiment.compare import step_is_share, step_unit

    assert step_is_share("mqls / inquiries") and step_unit("mqls / inquiries") == ""
    assert step_unit("bookings_inbound_usd / deals_won_inbound") == "USD"
    assert not step_is_share("bookings_inbound_usd / deals_won_inbound")
    noted = "bookings_inbound_usd (not split: mqls / inquiries is empty in a design)"
    assert step_unit(noted) == "USD" and not step_is_share(noted)
    assert step_unit("inquiries") == "" and not step_is_share("inquiries")
