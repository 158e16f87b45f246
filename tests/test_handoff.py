"""M4: lead queues, speed-to-lead decay and sales' verdict."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gtmsim
from gtmsim.model.handoff import (
    FifoQueue,
    LeadQueue,
    SpeedToLead,
    Verdict,
    new_queue,
    normal_from_uniform,
)
from gtmsim.model.world import World
from gtmsim.results.metrics import compute_metrics
from gtmsim.scenario.schema import Handoff, Scoring
from gtmsim.scenario.schema import SpeedToLead as SpeedToLeadSpec
from tests.conftest import BASE

INF = math.inf


def drain(q: LeadQueue, t: float) -> list:
    out = []
    while q.next_time() <= t:
        out.append(q.pop(t))
    return out


# ------------------------------------------------------------------ LeadQueue


def test_empty_queue():
    q = LeadQueue()
    assert len(q) == 0
    assert q.next_time() == INF
    assert q.cards() == []


def test_fifo_takes_the_lead_visible_longest():
    q = LeadQueue("fifo")
    q.push(3.0, "c", score=0.9)
    q.push(1.0, "a", score=0.1)
    q.push(2.0, "b", score=0.5)
    q.push(1.0, "a2", score=0.99)  # same visibility: pushed later, taken later
    assert len(q) == 4
    assert drain(q, 10.0) == ["a", "a2", "b", "c"]
    assert len(q) == 0
    assert q.next_time() == INF


def test_score_order_takes_the_highest_score_among_visible():
    q = LeadQueue("score")
    q.push(1.0, "low", score=0.1)
    q.push(2.0, "high", score=0.9)
    q.push(1.5, "mid", score=0.5)
    q.push(1.7, "mid2", score=0.5)  # tie: the one pushed first goes first
    q.push(9.0, "best_but_later", score=1.0)
    assert drain(q, 5.0) == ["high", "mid", "mid2", "low"]
    assert q.next_time() == 9.0
    assert q.pop(9.0) == "best_but_later"


def test_score_order_only_among_visible_leads():
    q = LeadQueue("score")
    q.push(1.0, "visible_low", score=0.1)
    q.push(5.0, "hidden_high", score=0.9)
    assert q.pop(4.0) == "visible_low"
    assert q.next_time() == 5.0


def test_card_not_taken_before_it_is_visible():
    q = LeadQueue("fifo")
    q.push(5.0, "late", score=0.0)
    assert q.next_time() == 5.0  # not ready at t = 4: the caller waits
    q.push(2.0, "early", score=0.0)
    assert q.next_time() == 2.0
    assert q.pop(4.0) == "early"
    assert q.next_time() == 5.0
    assert len(q) == 1
    assert q.pop(5.0) == "late"


def test_next_time_is_minus_inf_once_a_card_is_ready():
    q = LeadQueue("score")
    q.push(1.0, "a", score=0.2)
    q.push(1.0, "b", score=0.8)
    assert q.next_time() == 1.0
    assert q.pop(1.0) == "b"  # moves every visible card to the ready heap
    assert q.next_time(1.0) == -INF
    assert q.next_time() == 1.0  # for a rep whose clock is behind: when it is visible
    assert q.pop(1.0) == "a"
    assert q.next_time() == INF


def test_a_rep_behind_another_never_takes_a_card_before_it_is_visible():
    """Pooled reps plan at different times: one rep's pop must not leak a future card."""
    q = LeadQueue("fifo")
    q.push(1.0, "now", score=0.0)
    q.push(3.0, "later", score=0.0)
    assert q.pop(3.0) == "now"  # a rep planning at t = 3 makes "later" ready
    assert q.next_time(2.0) == 3.0  # a rep at t = 2 must wait until it is visible
    q.push(2.0, "mid", score=0.0)
    assert q.pop(2.5) == "mid"  # and takes what is visible by its own time
    assert q.pop(3.0) == "later"


def test_cards_lists_everything_waiting():
    q = LeadQueue("fifo")
    for i, v in enumerate([4.0, 1.0, 2.0, 8.0]):
        q.push(v, f"c{i}", score=0.0)
    assert sorted(q.cards()) == ["c0", "c1", "c2", "c3"]
    assert q.pop(3.0) == "c1"  # c2 is now ready, c0 and c3 pending
    assert sorted(q.cards()) == ["c0", "c2", "c3"]
    assert len(q) == 3


@settings(max_examples=50)
@given(
    items=st.lists(
        st.tuples(st.floats(0, 10, allow_nan=False), st.floats(0, 1, allow_nan=False)),
        min_size=1,
        max_size=20,
    ),
    order=st.sampled_from(["fifo", "score"]),
)
def test_queue_returns_every_card_once_in_order(items, order):
    q = LeadQueue(order)
    for i, (v, s) in enumerate(items):
        q.push(v, i, s)
    out = drain(q, 10.0)
    assert sorted(out) == list(range(len(items)))
    key = (lambda i: (items[i][0], i)) if order == "fifo" else (lambda i: (-items[i][1], i))
    assert out == sorted(range(len(items)), key=key)


@settings(max_examples=200)
@given(
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("push"), st.integers(0, 12), st.floats(0, 1, allow_nan=False)),
            st.tuples(st.just("pop"), st.integers(0, 12), st.just(0.0)),
            st.tuples(st.just("drain"), st.just(0), st.just(0.0)),
        ),
        max_size=60,
    )
)
def test_fifo_queue_takes_what_a_fifo_lead_queue_takes(ops):
    """FifoQueue is LeadQueue("fifo") in one heap: same cards, same order, reps at any times."""
    fast, ref = FifoQueue(), LeadQueue("fifo")
    for i, (op, when, score) in enumerate(ops):
        t = when / 2.0  # whole and half days: ties in visibility happen
        if op == "push":
            fast.push(t, i, score)
            ref.push(t, i, score)
        elif op == "pop":  # a rep at time t takes a card if one is visible by then
            visible = ref.next_time(t) <= t
            assert (fast.next_time(t) <= t) == visible
            if visible:
                assert fast.pop(t) == ref.pop(t)
        else:
            assert fast.drain() == ref.drain()
        assert len(fast) == len(ref)
        assert sorted(fast.cards()) == sorted(ref.cards())
        assert (fast.next_time() == INF) == (ref.next_time() == INF)


def test_new_queue_is_fifo_unless_by_score():
    assert isinstance(new_queue("fifo"), FifoQueue)
    assert isinstance(new_queue("score"), LeadQueue)


# ------------------------------------------------------------------ SpeedToLead


def curve(p=0.8, hours=(0.0, 1.0, 24.0), mult=(1.0, 0.5, 0.1)) -> SpeedToLead:
    return SpeedToLead(
        SpeedToLeadSpec(contact_probability=p, decay_hours=list(hours), decay_multiplier=list(mult))
    )


def test_speed_to_lead_at_zero_is_contact_probability():
    assert curve(p=0.8)(0.0) == pytest.approx(0.8)
    assert curve(p=0.3)(0.0) == pytest.approx(0.3)
    assert curve(p=0.6, mult=(0.9, 0.5, 0.1))(0.0) == pytest.approx(0.54)


def test_speed_to_lead_at_points():
    s = curve(p=0.8)
    assert s(1.0) == pytest.approx(0.4)
    assert s(24.0) == pytest.approx(0.08)


def test_speed_to_lead_log_linear_between_points():
    s = curve(p=0.8)
    assert s(0.5) == pytest.approx(0.8 * math.sqrt(1.0 * 0.5))
    assert s(12.5) == pytest.approx(0.8 * math.sqrt(0.5 * 0.1))
    # a quarter of the way: the multiplier is 0.5 ** 0.25
    assert s(0.25) == pytest.approx(0.8 * 0.5**0.25)


def test_speed_to_lead_flat_beyond_last_point():
    s = curve(p=0.8)
    assert s(24.0) == pytest.approx(0.08)
    assert s(100.0) == pytest.approx(0.08)
    assert s(1e6) == pytest.approx(0.08)


def test_speed_to_lead_default_curve_is_flat():
    s = SpeedToLead(SpeedToLeadSpec(contact_probability=0.7))
    assert [s(h) for h in (0.0, 1.0, 1000.0)] == pytest.approx([0.7, 0.7, 0.7])


@settings(max_examples=60)
@given(h1=st.floats(0, 200, allow_nan=False), h2=st.floats(0, 200, allow_nan=False))
def test_speed_to_lead_non_increasing_for_decreasing_curve(h1, h2):
    s = curve(p=0.9, hours=(0.0, 0.5, 4.0, 48.0), mult=(1.0, 0.7, 0.3, 0.05))
    lo, hi = sorted((h1, h2))
    assert s(hi) <= s(lo) + 1e-12
    assert 0.9 * 0.05 - 1e-12 <= s(hi) <= 0.9 + 1e-12


# ------------------------------------------------------------------ Verdict


def verdict(threshold=0.5, noise=0.0, horizon=90.0, fit_w=0.6, intent_w=0.4) -> Verdict:
    return Verdict(
        Handoff(
            acceptance_threshold=threshold,
            qualification_noise_sd=noise,
            in_market_horizon_days=horizon,
        ),
        Scoring(fit_weight=fit_w, intent_weight=intent_w),
    )


def test_normal_from_uniform():
    assert normal_from_uniform(0.5) == 0.0
    assert normal_from_uniform(0.975) == pytest.approx(1.959964, abs=1e-5)
    assert normal_from_uniform(0.0) < -6  # clipped, not -inf
    assert math.isfinite(normal_from_uniform(1.0))


def test_in_market_when_window_open_or_opening_soon():
    v = verdict(threshold=0.5)  # fit 0.2 scores 0.12; in market adds 0.4
    t = 100.0
    assert v.accepts(0.2, window_open=50.0, window_close=200.0, t=t, u=0.5)  # open now
    assert v.accepts(0.2, window_open=t + 90.0, window_close=400.0, t=t, u=0.5)  # at the horizon
    assert not v.accepts(0.2, window_open=t + 91.0, window_close=400.0, t=t, u=0.5)  # too far
    assert not v.accepts(0.2, window_open=INF, window_close=INF, t=t, u=0.5)  # never buys


def test_closed_window_is_not_in_market():
    v = verdict(threshold=0.5)
    assert not v.accepts(0.2, window_open=10.0, window_close=100.0, t=100.0, u=0.5)
    assert not v.accepts(0.2, window_open=10.0, window_close=60.0, t=100.0, u=0.5)
    assert v.accepts(0.2, window_open=10.0, window_close=100.001, t=100.0, u=0.5)


def test_horizon_zero_needs_an_open_window():
    v = verdict(threshold=0.5, horizon=0.0)
    assert v.accepts(0.2, window_open=100.0, window_close=200.0, t=100.0, u=0.5)
    assert not v.accepts(0.2, window_open=100.5, window_close=200.0, t=100.0, u=0.5)


def test_threshold_on_fit():
    v = verdict(threshold=0.3)  # out of market: quality = 0.6 * fit
    assert v.accepts(0.5, INF, INF, t=0.0, u=0.5)
    assert v.accepts(0.5 + 1e-9, INF, INF, t=0.0, u=0.5)
    assert not v.accepts(0.49, INF, INF, t=0.0, u=0.5)
    assert verdict(threshold=-1.0).accepts(0.0, INF, INF, t=0.0, u=0.0)  # default: all


def test_noise_uses_the_given_uniform():
    v = verdict(threshold=0.3, noise=0.1)
    # u = 0.5 is zero noise: the noiseless verdict
    assert v.accepts(0.5, INF, INF, t=0.0, u=0.5)
    assert not v.accepts(0.49, INF, INF, t=0.0, u=0.5)
    # quality 0.294, 0.006 short: a deviate above +0.06 sd (u > 0.524) lifts it over
    assert v.accepts(0.49, INF, INF, t=0.0, u=0.53)
    assert not v.accepts(0.49, INF, INF, t=0.0, u=0.52)
    # and bad luck sinks a lead that would pass without noise
    assert not v.accepts(0.6, INF, INF, t=0.0, u=0.05)
    assert v.accepts(0.6, INF, INF, t=0.0, u=0.5)


def test_a_call_at_the_sla_deadline_is_on_time():
    scenario = gtmsim.load_scenario(
        BASE, {"simulation.horizon_days": 7, "handoff.qualifier": "sdr", "handoff.sla_hours": 1}
    )
    world = World(scenario, 0).run()
    # days -> hours: a call capped at the deadline comes out a rounding error late
    deadline = (1.0 + 1.0 / 24.0 - 1.0) * 24.0
    assert deadline != 1.0
    fr = world.rec.first_response_hours
    assert len(fr) > 10
    fr[:] = [deadline] * (len(fr) - 1) + [2.0]
    assert compute_metrics(world)["sla_compliance_share"] == pytest.approx(1 - 1 / len(fr))
