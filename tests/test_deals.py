"""M6: stage outcomes from pass probabilities, fit and the buyer's window."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gtmsim.model.deals import COMPETITOR, NO_DECISION, PASS, SLIP, DealRules
from gtmsim.scenario.schema import Deals, Stage

INF = math.inf
T = 100.0  # the meeting time used throughout
OPEN = dict(window_open=50.0, window_close=300.0)  # window open at T
SOON = dict(window_open=T + 30.0, window_close=400.0)  # opens within the horizon
LATER = dict(window_open=T + 200.0, window_close=500.0)  # opens beyond the horizon
NEVER = dict(window_open=INF, window_close=INF)  # not a buyer


def rules(pass_p=(0.5, 0.5, 0.4), horizon=90.0, **kw) -> DealRules:
    names = ["discovery", "proposal", "close"][: len(pass_p)]
    stages = {n: Stage(pass_probability=p) for n, p in zip(names, pass_p, strict=True)}
    return DealRules(Deals(stages=stages, **kw), in_market_horizon_days=horizon)


def outcome(r: DealRules, stage: int, u: float, fit=0.5, affinity=0.0, t=T, window=OPEN) -> int:
    return r.outcome(stage, fit, affinity=affinity, t=t, u=u, **window)


def test_rules_from_schema():
    r = rules((0.9, 0.6, 0.3), horizon=45.0, enablement_uplift=0.2)
    assert r.names == ["discovery", "proposal", "close"]
    assert r.base == [0.9, 0.6, 0.3]
    assert r.last == 2
    assert r.horizon_days == 45.0
    assert r.uplift == pytest.approx([1.2])


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


def test_enablement_uplift_scales_every_stage():
    r = rules((0.5, 0.5, 0.5), enablement_uplift=0.2)  # p = 0.6
    for stage in (0, 1, 2):
        assert outcome(r, stage, u=0.59) == PASS
        assert outcome(r, stage, u=0.61) == COMPETITOR


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


def test_uplifts_multiply():
    r = rules(
        (0.4, 0.4), fit_sensitivity=1.0, enablement_uplift=0.25, affinity_win_uplift=0.5
    )  # close at fit 0.75, affinity 1: 0.4 * 1.5 * 1.25 * 1.5 = 1.125 -> always passes
    assert outcome(r, 1, u=0.999, fit=0.75, affinity=1.0) == PASS
    # discovery: 0.4 * 1.5 * 1.25 = 0.75
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
