"""Behaviours a review found wrong once; each test pins the fix."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import gtmsim
from gtmsim.model import sales
from gtmsim.model.marketing import poisson_counts
from gtmsim.model.world import World
from tests.conftest import BASE


def test_poisson_counts_invert_the_poisson_cdf():
    rng = np.random.default_rng(3)
    lam = np.array([0.0, 0.3, 2.5, 14.0, 60.0, 900.0])
    for _ in range(300):
        u = rng.random(lam.size)
        np.testing.assert_array_equal(poisson_counts(u, lam), stats.poisson.ppf(u, lam))


@given(
    channel=st.sampled_from(["paid_search", "paid_social", "events", "webinars"]),
    factor=st.floats(1.1, 4.0),
    replication=st.integers(0, 500),
)
def test_more_spend_in_one_channel_only_adds_leads_there(channel, factor, replication):
    base = gtmsim.load_scenario(BASE, {"simulation.horizon_days": 60})
    spend = base.market.channels[channel].spend_usd_per_week
    more = gtmsim.load_scenario(
        BASE,
        {
            "simulation.horizon_days": 60,
            f"market.channels.{channel}.spend_usd_per_week": spend * factor,
        },
    )
    a = gtmsim.simulate(base, replication).metrics
    b = gtmsim.simulate(more, replication).metrics
    for name in base.market.channels:
        key = f"leads_created.channel.{name}"
        if name == channel:
            assert b[key] > a[key]
        else:
            assert b[key] == a[key], name


def test_ae_meetings_are_not_held_up_by_a_meeting_weeks_later():
    """An idle AE must take a meeting booked for tomorrow even if it planned one next month."""
    scenario = gtmsim.load_scenario(
        {
            "simulation": {"horizon_days": 120, "seed": 3},
            "market": {"channels": {"web": {"organic_leads_per_week": 14}}},
            "handoff": {"qualifier": "sdr", "route": "round_robin"},
            "sales": {"sdr": {"headcount": 1}, "ae": {"headcount": 1}},
            "deals": {
                "stages": {
                    "discovery": {"buyer_delay_days": 2, "rep_hours": 0, "pass_probability": 1},
                    "close": {"buyer_delay_days": 30, "rep_hours": 0, "pass_probability": 1},
                }
            },
        }
    )
    late = []
    real = sales.SalesTeam.deal_step

    def record(self, rep, card, stage, now):
        if stage == 0:
            late.append(now - (card_accepted[card.lead] + 2.0))
        return real(self, rep, card, stage, now)

    card_accepted: dict[int, float] = {}
    real_new_deal = sales.SalesTeam.new_deal

    def remember(self, card, t, owner):
        card_accepted[card.lead] = t
        return real_new_deal(self, card, t, owner)

    sales.SalesTeam.deal_step, sales.SalesTeam.new_deal = record, remember
    try:
        World(scenario, 0).run()
    finally:
        sales.SalesTeam.deal_step, sales.SalesTeam.new_deal = real, real_new_deal
    assert len(late) > 50
    assert max(late) < 1e-9  # every discovery meeting happened exactly when it was due


def test_segment_routing_uses_every_rep_of_every_segment():
    scenario = gtmsim.load_scenario(
        BASE,
        {
            "simulation.horizon_days": 21,
            "handoff.route": "segment",
            "sales.trust.enabled": False,
            "sales.sdr.headcount_by_segment": {"smb": 4, "midmarket": 4, "enterprise": 4},
            "sales.ae.headcount_by_segment": {"smb": 10, "midmarket": 20, "enterprise": 10},
        },
    )
    world = World(scenario, 0).run()
    worked = [r.follow_up_hours for r in world.sdr.reps]
    assert all(h > 0 for h in worked), worked


def test_an_ae_who_qualifies_learns_once_per_lead(monkeypatch):
    scenario = gtmsim.load_scenario(
        BASE, {"simulation.horizon_days": 60, "handoff.qualifier": "ae"}
    )
    calls = []
    real = sales.Rep.learn
    monkeypatch.setattr(
        sales.Rep, "learn", lambda self, outcome: (calls.append(outcome), real(self, outcome))
    )
    world = World(scenario, 0).run()
    assert len(calls) == len(world.rec.resolved_accepted)  # one verdict, one lesson


def test_nothing_is_resolved_after_the_horizon(monkeypatch):
    """A call or meeting still running at the end is left open, not booked after the fact."""
    scenario = gtmsim.load_scenario(BASE, {"simulation.horizon_days": 40})
    times = []
    for name in ("deal_step", "finish_attempt"):
        real = getattr(sales.SalesTeam, name)

        def spy(self, rep, card, x, now, _real=real):
            times.append(now)
            return _real(self, rep, card, x, now)

        monkeypatch.setattr(sales.SalesTeam, name, spy)
    World(scenario, 0).run()
    assert len(times) > 1000 and max(times) <= 40.0


@given(
    ops=st.lists(st.tuples(st.integers(0, 40), st.integers(-3, 9)), min_size=1, max_size=80),
    bound=st.integers(-3, 9),
)
def test_slot_tree_finds_what_a_scan_finds(ops, bound):
    """Least-loaded routing and waking pooled reps use a SlotTree instead of scanning the team."""
    lows, highs = sales.SlotTree(), sales.SlotTree(highest=True)
    values: dict[int, int] = {}
    for slot, value in ops:
        lows.set(slot, value)
        highs.set(slot, value)
        values[slot] = value
        slots = range(max(values) + 1)
        low = [values.get(s, float("inf")) for s in slots]
        high = [values.get(s, -float("inf")) for s in slots]
        assert lows.least() == min(slots, key=low.__getitem__)  # min: the first of the least
        above = [s for s in slots if high[s] > bound]
        assert highs.first_above(bound) == (above[0] if above else -1)
