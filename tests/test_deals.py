"""M6: stage outcomes from pass probabilities, fit, the buyer's window and buying groups."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gtmsim.model.deals import (
    COMPETITOR,
    NO_DECISION,
    PASS,
    SLIP,
    DealRules,
    consensus_probability,
)
from gtmsim.scenario.schema import Consensus, Deals, Stage

INF = math.inf
T = 100.0  # the meeting time used throughout
OPEN = dict(window_open=50.0, window_close=300.0)  # window open at T
SOON = dict(window_open=T + 30.0, window_close=400.0)  # opens within the horizon
LATER = dict(window_open=T + 200.0, window_close=500.0)  # opens beyond the horizon
NEVER = dict(window_open=INF, window_close=INF)  # not a buyer


# CEB, HBR March 2015: any purchase with 1, 2 and 6 stakeholders
CEB = Consensus(stakeholders=[1, 2, 6], purchase_probability=[0.81, 0.55, 0.31])


def rules(pass_p=(0.5, 0.5, 0.4), horizon=90.0, consensus_at=(), covered_share=0.0, **kw):
    names = ["discovery", "proposal", "close"][: len(pass_p)]
    stages = {
        n: Stage(pass_probability=p, consensus=i in consensus_at)
        for i, (n, p) in enumerate(zip(names, pass_p, strict=True))
    }
    return DealRules(Deals(stages=stages, **kw), horizon, covered_share)


def outcome(
    r: DealRules, stage: int, u: float, fit=0.5, affinity=0.0, t=T, window=OPEN, **group
) -> int:
    return r.outcome(stage, fit, affinity=affinity, t=t, u=u, **window, **group)


def test_rules_from_schema():
    r = rules((0.9, 0.6, 0.3), horizon=45.0, consensus_at=(1,))
    assert r.names == ["discovery", "proposal", "close"]
    assert r.base == [0.9, 0.6, 0.3]
    assert r.consensus_stage == [False, True, False]
    assert r.last == 2
    assert r.horizon_days == 45.0


def test_consensus_curve_goes_through_the_published_points():
    points = (CEB.stakeholders, CEB.purchase_probability)
    assert consensus_probability(*points, 1) == 1.0
    assert consensus_probability(*points, 2) == pytest.approx(0.55 / 0.81)
    assert consensus_probability(*points, 6) == pytest.approx(0.31 / 0.81)
    # a power law between the points, and beyond the last with the last piece's slope
    slope = math.log(0.31 / 0.55) / math.log(3)
    assert consensus_probability(*points, 4) == pytest.approx(0.55 * 2**slope / 0.81)
    assert consensus_probability(*points, 12) == pytest.approx(0.31 * 2**slope / 0.81)
    sizes = range(1, 40)
    chances = [consensus_probability(*points, n) for n in sizes]
    assert all(b < a for a, b in zip(chances, chances[1:], strict=False))  # bigger, harder


def test_a_group_of_one_needs_no_consensus_work():
    r = rules((0.5, 0.8, 0.4), consensus=CEB, consensus_at=(1,), enablement_share=0.5)
    assert r.consensus(1) == 1.0
    assert outcome(r, 1, u=0.79, buying_group=1) == PASS
    assert outcome(r, 1, u=0.81, buying_group=1) == COMPETITOR


def test_a_group_that_does_not_agree_ends_in_no_decision():
    r = rules((0.5, 0.8, 0.4), consensus=CEB, consensus_at=(1,))
    c = 0.31 / 0.81  # six stakeholders, one consensus stage
    assert r.consensus(6) == pytest.approx(c)
    assert outcome(r, 1, u=0.8 * c - 1e-9, buying_group=6) == PASS
    assert outcome(r, 1, u=0.8 * c + 1e-9, buying_group=6) == NO_DECISION
    assert outcome(r, 1, u=0.81, buying_group=6) == COMPETITOR  # lost on the merits
    # a stage where buyers do not build consensus ignores the group
    assert outcome(r, 0, u=0.49, buying_group=6) == PASS


def test_consensus_is_spread_over_the_consensus_stages_and_the_journey_left():
    spec = Consensus(
        stakeholders=[1, 2, 6], purchase_probability=[0.81, 0.55, 0.31], after_engagement_share=0.5
    )
    r = rules((1.0, 1.0, 1.0), consensus=spec, consensus_at=(0, 1))
    c = (0.31 / 0.81) ** 0.5  # half the journey's risk is left, over two stages
    assert r.consensus(6) == pytest.approx(c**0.5)


def test_enablement_recovers_a_share_of_the_shortfall_and_coverage_more():
    r = rules(
        (1.0, 1.0, 1.0), consensus=CEB, consensus_at=(1,), enablement_share=0.25, covered_share=0.5
    )
    c = 0.31 / 0.81
    assert r.consensus(6) == pytest.approx(c + 0.25 * (1 - c))
    assert r.consensus(6, covered=True) == pytest.approx(c + (1 - 0.75 * 0.5) * (1 - c))
    assert outcome(r, 1, u=c + 0.2 * (1 - c), buying_group=6) == PASS
    assert outcome(r, 1, u=c + 0.3 * (1 - c), buying_group=6) == NO_DECISION
    assert outcome(r, 1, u=c + 0.3 * (1 - c), buying_group=6, covered=True) == PASS


@given(
    group=st.integers(1, 1000),
    share=st.floats(0, 1),
    covered_share=st.floats(0, 1),
    u=st.floats(0, 1, exclude_max=True),
)
def test_help_only_turns_no_decisions_into_passes(group, share, covered_share, u):
    plain = rules((0.9, 0.9, 0.9), consensus=CEB, consensus_at=(1,))
    helped = rules(
        (0.9, 0.9, 0.9),
        consensus=CEB,
        consensus_at=(1,),
        enablement_share=share,
        covered_share=covered_share,
    )
    before = outcome(plain, 1, u=u, buying_group=group)
    after = outcome(helped, 1, u=u, buying_group=group, covered=True)
    assert after == before or (before, after) == (NO_DECISION, PASS)


def test_default_deals_always_pass_while_open():
    r = DealRules(Deals(), in_market_horizon_days=90.0)
    assert r.names == ["discovery", "close"]
    for stage in (0, 1):
        assert outcome(r, stage, u=0.999) == PASS


def test_pass_probability_threshold():
    r = rules()
    assert outcome(r, 0, u=0.49) == PASS
    assert outcome(r, 0, u=0.5) == COMPETITOR  # u >= p fails
    assert outcome(r, 2, u=0.39) == PASS
    assert outcome(r, 2, u=0.41) == COMPETITOR


def test_window_closed_is_lost_to_competitor_whatever_the_luck():
    r = rules()
    closed = dict(window_open=10.0, window_close=T)
    for stage in (0, 1, 2):
        assert outcome(r, stage, u=0.0, window=closed) == COMPETITOR
        assert outcome(r, stage, u=0.0, fit=1.0, window=closed) == COMPETITOR


def test_failure_in_market_goes_to_competitor():
    r = rules()
    assert outcome(r, 1, u=0.9, window=OPEN) == COMPETITOR
    assert outcome(r, 1, u=0.9, window=SOON) == COMPETITOR


def test_failure_out_of_market_is_no_decision():
    r = rules()
    assert outcome(r, 1, u=0.9, window=LATER) == NO_DECISION
    assert outcome(r, 1, u=0.9, window=NEVER) == NO_DECISION
    assert outcome(r, 2, u=0.9, window=NEVER) == NO_DECISION


def test_close_before_window_opens_slips_when_in_market():
    r = rules()
    assert outcome(r, 2, u=0.1, window=SOON) == SLIP
    assert outcome(r, 2, u=0.1, window=OPEN) == PASS
    # earlier stages pass before the window opens; only the close waits for it
    assert outcome(r, 0, u=0.1, window=SOON) == PASS
    assert outcome(r, 1, u=0.1, window=SOON) == PASS


def test_non_buyer_never_closes():
    r = rules()
    assert outcome(r, 0, u=0.0, window=NEVER) == PASS  # may still pass discovery
    assert outcome(r, 2, u=0.0, window=NEVER) == NO_DECISION


def test_horizon_decides_in_market():
    window = dict(window_open=T + 30.0, window_close=400.0)
    assert outcome(rules(horizon=30.0), 1, u=0.9, window=window) == COMPETITOR
    assert outcome(rules(horizon=29.9), 1, u=0.9, window=window) == NO_DECISION


def test_fit_sensitivity_one_scales_with_fit():
    r = rules((0.4, 0.4), fit_sensitivity=1.0)
    # fit 1.0 doubles the pass probability: 0.8
    assert outcome(r, 0, u=0.79, fit=1.0) == PASS
    assert outcome(r, 0, u=0.81, fit=1.0) == COMPETITOR
    # fit 0.5 leaves it at 0.4
    assert outcome(r, 0, u=0.39, fit=0.5) == PASS
    assert outcome(r, 0, u=0.41, fit=0.5) == COMPETITOR
    # fit 0.25 halves it, fit 0 never passes
    assert outcome(r, 0, u=0.19, fit=0.25) == PASS
    assert outcome(r, 0, u=0.21, fit=0.25) == COMPETITOR
    assert outcome(r, 0, u=0.0, fit=0.0) == COMPETITOR


def test_fit_sensitivity_partial_and_zero():
    half = rules((0.4, 0.4), fit_sensitivity=0.5)
    # (1 - 0.5) + 0.5 * 2 * fit = 1.5 at fit 1: p = 0.6
    assert outcome(half, 0, u=0.59, fit=1.0) == PASS
    assert outcome(half, 0, u=0.61, fit=1.0) == COMPETITOR
    none = rules((0.4, 0.4), fit_sensitivity=0.0)
    assert outcome(none, 0, u=0.39, fit=0.0) == PASS
    assert outcome(none, 0, u=0.41, fit=1.0) == COMPETITOR


def test_closed_window_pass_factor_applies_out_of_market_only():
    r = rules((0.8, 0.8), closed_window_pass_factor=0.25)  # out of market: p = 0.2
    assert outcome(r, 0, u=0.19, window=LATER) == PASS
    assert outcome(r, 0, u=0.21, window=LATER) == NO_DECISION
    assert outcome(r, 0, u=0.79, window=SOON) == PASS
    assert outcome(r, 0, u=0.79, window=OPEN) == PASS
    zero = rules((1.0, 1.0), closed_window_pass_factor=0.0)
    assert outcome(zero, 0, u=0.0, window=NEVER) == NO_DECISION


def test_affinity_uplift_at_the_last_stage_only():
    r = rules((0.5, 0.5, 0.5), affinity_win_uplift=0.5)
    # full affinity at the close: p = 0.5 * 1.5 = 0.75
    assert outcome(r, 2, u=0.74, affinity=1.0) == PASS
    assert outcome(r, 2, u=0.76, affinity=1.0) == COMPETITOR
    # half affinity: p = 0.625
    assert outcome(r, 2, u=0.62, affinity=0.5) == PASS
    assert outcome(r, 2, u=0.63, affinity=0.5) == COMPETITOR
    # no affinity, or an earlier stage: p = 0.5
    assert outcome(r, 2, u=0.51, affinity=0.0) == COMPETITOR
    for stage in (0, 1):
        assert outcome(r, stage, u=0.51, affinity=1.0) == COMPETITOR


def test_fit_and_affinity_multiply():
    r = rules(
        (0.5, 0.5), fit_sensitivity=1.0, affinity_win_uplift=0.5
    )  # close at fit 0.75, affinity 1: 0.5 * 1.5 * 1.5 = 1.125 -> always passes
    assert outcome(r, 1, u=0.999, fit=0.75, affinity=1.0) == PASS
    # discovery: 0.5 * 1.5 = 0.75
    assert outcome(r, 0, u=0.74, fit=0.75, affinity=1.0) == PASS
    assert outcome(r, 0, u=0.76, fit=0.75, affinity=1.0) == COMPETITOR


@settings(max_examples=60)
@given(
    stage=st.integers(0, 2),
    fit=st.floats(0, 1),
    affinity=st.floats(0, 1),
    u=st.floats(0, 1, exclude_max=True),
    w_open=st.floats(0, 400),
    length=st.floats(0, 400),
    t=st.floats(0, 400),
)
def test_outcome_is_a_known_code_and_consistent(stage, fit, affinity, u, w_open, length, t):
    r = rules(fit_sensitivity=0.5, closed_window_pass_factor=0.5)
    w_close = w_open + length
    res = r.outcome(stage, fit, w_open, w_close, affinity, t, u)
    assert res in (PASS, COMPETITOR, NO_DECISION, SLIP)
    if t >= w_close:
        assert res == COMPETITOR
    if res == SLIP:
        assert stage == 2
        assert t < w_open <= t + 90.0
    if res == PASS and stage == 2:
        assert w_open <= t < w_close
    # a loss stays the same loss with the unluckiest draw
    if res in (COMPETITOR, NO_DECISION):
        assert r.outcome(stage, fit, w_open, w_close, affinity, t, 1.0) == res
    # a pass or slip stays the same with the luckiest draw
    else:
        assert r.outcome(stage, fit, w_open, w_close, affinity, t, 0.0) == res
