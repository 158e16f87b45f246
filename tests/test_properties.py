"""Invariants that must hold for every scenario hypothesis can build."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import gtmsim
from gtmsim.model.leads import ALLOWED_TRANSITIONS, NEW, State
from gtmsim.model.world import World
from gtmsim.results.metrics import compute_metrics
from tests.conftest import BASE
from tests.strategies import overrides, scenarios


@given(scenario=scenarios(), replication=st.integers(0, 1000))
def test_every_lead_is_accounted_for(scenario, replication):
    result = gtmsim.simulate(scenario, replication=replication)
    assert result.metrics["leads_created"] == sum(result.lead_final_states.values())
    # every move the model made is one the lifecycle allows ...
    T = result.transitions
    for src, dst in zip(*np.nonzero(T), strict=True):
        assert State(dst) in ALLOWED_TRANSITIONS.get(src, set()), (src, dst)
    # ... and the moves add up to where the leads are: in - out = stock, state by state
    n = len(State)
    moves = T[:n].copy()
    np.fill_diagonal(moves, 0)
    inflow = moves.sum(axis=0) + T[NEW]
    stock = np.array([result.lead_final_states[s.name.lower()] for s in State])
    assert np.array_equal(inflow - moves.sum(axis=1), stock)
    # funnel counters agree with the lifecycle
    m = result.metrics
    assert m["deals_won"] == result.lead_final_states["won"]
    assert m["mqls"] == T[:, State.QUEUED].sum()
    assert m["mqls_worked"] <= m["mqls"]


@given(scenario=scenarios(), replication=st.integers(0, 1000))
def test_money_is_conserved(scenario, replication):
    world = World(scenario, replication).run()
    m = compute_metrics(world)
    store = world.store
    won = store.state[: store.n] == State.WON
    # bookings come only from won deals, and every won deal is booked once
    assert math.isclose(m["bookings"], store.deal_size_usd[: store.n][won].sum(), rel_tol=1e-9)
    assert math.isclose(m["bookings"], sum(world.rec.weekly_bookings_usd), rel_tol=1e-9)
    assert math.isclose(m["bookings"], sum(r.bookings_usd for r in world.ae.reps), rel_tol=1e-9)
    assert m["deals_won"] == int(won.sum())
    # spend equals the sum of channel spend, which equals the budget over the horizon less
    # what the embedded marketers are paid from it
    channels = scenario.market.channels
    by_channel = sum(m[f"marketing_spend.channel.{c}"] for c in channels)
    embedded = scenario.budget.embedded_marketers
    weekly = sum(c.spend_usd_per_week for c in channels.values())
    weekly -= embedded.headcount * embedded.cost_usd_per_year / 52
    budget = weekly / 7 * math.ceil(world.horizon)
    assert math.isclose(m["marketing_spend"], by_channel, rel_tol=1e-9)
    assert math.isclose(m["marketing_spend"], budget, rel_tol=1e-9)
    assert math.isclose(
        m["marketing_spend"], world.rec.weekly_marketing_spend_usd.sum(), rel_tol=1e-9
    )


@given(scenario=scenarios(horizon_days=(7, 21)), replication=st.integers(0, 1000))
def test_same_seed_and_replication_give_identical_results(scenario, replication):
    a = gtmsim.simulate(scenario, replication=replication)
    b = gtmsim.simulate(scenario, replication=replication)
    assert a.metrics.keys() == b.metrics.keys()
    for key in a.metrics:
        x, y = a.metrics[key], b.metrics[key]
        assert x == y or (math.isnan(x) and math.isnan(y)), key
    for key in a.weekly:
        np.testing.assert_array_equal(a.weekly[key], b.weekly[key])
    assert a.lead_final_states == b.lead_final_states


def _inbound(world: World) -> dict[str, np.ndarray]:
    s = world.store
    keep = s.channel[: s.n] != world.marketing.outbound_channel
    fields = ("created_day", "channel", "segment", "fit", "window_open_day", "deal_size_usd")
    inbound = {f: getattr(s, f)[: s.n][keep] for f in fields}
    # and their luck: however many prospects the reps sourced in between
    idx = np.flatnonzero(keep)
    inbound["luck"] = world.lead_luck(idx)
    inbound["engaged"] = world.marketing.engaged(idx)
    return inbound


@given(
    o=overrides(horizon_days=(10, 30)),
    replication=st.integers(0, 1000),
    team=st.sampled_from(["sdr", "ae"]),
    extra=st.integers(1, 10),
)
def test_headcount_leaves_the_lead_stream_and_its_luck_unchanged(o, replication, team, extra):
    o = {k: v for k, v in o.items() if "headcount_by_segment" not in k}
    o["handoff.route"] = "round_robin" if o["handoff.route"] == "segment" else o["handoff.route"]
    before = gtmsim.load_scenario(BASE, o)
    more = dict(o)
    more[f"sales.{team}.headcount"] = o[f"sales.{team}.headcount"] + extra
    after = gtmsim.load_scenario(BASE, more)
    a, b = _inbound(World(before, replication).run()), _inbound(World(after, replication).run())
    for field in a:
        np.testing.assert_array_equal(a[field], b[field], err_msg=field)
    assert len(a["created_day"]) > 0


def test_replications_differ():
    scenario = gtmsim.load_scenario(BASE, {"simulation.horizon_days": 14})
    a, b = gtmsim.simulate(scenario, 0), gtmsim.simulate(scenario, 1)
    assert a.metrics["leads_created"] != b.metrics["leads_created"]
