"""Nurture requalification, scheduled in closed form, equals re-scoring the whole pool."""

from __future__ import annotations

import numpy as np
import pytest

import gtmsim
from gtmsim.model.leads import State
from gtmsim.model.world import World
from tests.conftest import BASE


def brute_force_touch(world: World, day: int, pool: set[int]) -> tuple[set[int], set[int]]:
    """Re-score every nurtured lead at a touch: (requalified, expired)."""
    m, s = world.marketing, world.store
    idx = np.array(sorted(pool), dtype=np.int64)
    expired = s.nurture_since_day[idx] + m.nurture_max_days <= day
    live = idx[~expired]
    intent = s.intent(live, float(day), m.ramp_days)
    score = m.fit_weight * s.fit[live] + m.intent_weight * intent + m.noise_sd * s.score_z[live]
    sent_back = s.nurture_sent_back[live]
    bar = np.where(
        sent_back,
        np.maximum(s.nurture_entry_score[live] + m.requalify_gain, m.mql_threshold),
        m.mql_threshold,
    )
    # a lead that ignores the touches shows no intent: only its fit can clear the bar
    engaged = m.engaged(live)
    fit_alone = m.fit_weight * s.fit[live] + m.noise_sd * s.score_z[live] >= bar - 1e-12
    requalified = (score >= bar - 1e-12) & (engaged | fit_alone)
    return set(live[requalified].tolist()), set(idx[expired].tolist())


@pytest.mark.parametrize("every", [1, 3, 7])
def test_scheduled_touches_match_rescoring_the_pool(every):
    scenario = gtmsim.load_scenario(
        BASE,
        {
            "marketing.nurture.rescore_every_days": every,
            "marketing.nurture.max_days": 40,
            "marketing.scoring.noise_sd": 0.25,
        },
    )
    world = World(scenario, 0)
    m, store = world.marketing, world.store
    pool: set[int] = set()
    expired_before: set[int] = set()
    checked = 0
    for day in range(120):
        if day == 60:
            m.mql_threshold += 0.05  # as a policy would: the pool must be rescheduled
        expect_mql, expect_gone = (set(), set())
        if day > 0 and day % every == 0:
            expect_mql, expect_gone = brute_force_touch(world, day, pool)
        idx, _ = m.day(day)
        nurtured = np.flatnonzero(store.state[: store.n] == State.NURTURE)
        expired = set(np.flatnonzero(store.state[: store.n] == State.NURTURE_EXPIRED).tolist())
        requalified = {i for i in idx.tolist() if i in pool}
        assert requalified == expect_mql, day
        assert expired - expired_before == expect_gone, day
        checked += len(expect_mql) + len(expect_gone)
        pool, expired_before = set(nurtured.tolist()), expired
    assert checked > 100  # the comparison saw real requalifications and expiries


def test_lowering_the_threshold_requalifies_every_lead_that_now_clears_it():
    """A policy that lowers the bar must let ordinary nurtured leads through at once."""
    scenario = gtmsim.load_scenario(BASE, {"marketing.nurture.rescore_every_days": 7})
    world = World(scenario, 0)
    m, store = world.marketing, world.store
    for day in range(42):
        m.day(day)
    m.mql_threshold -= 0.1  # as an adaptive-threshold policy would
    nurtured = np.flatnonzero(store.state[: store.n] == State.NURTURE)
    fresh = nurtured[~store.nurture_sent_back[nurtured]]
    intent = store.intent(fresh, 42.0, m.ramp_days)
    score = (
        m.fit_weight * store.fit[fresh]
        + m.intent_weight * intent
        + m.noise_sd * store.score_z[fresh]
    )
    fit_alone = score - m.intent_weight * intent >= m.mql_threshold
    engaged = m.engaged(fresh)
    clears = set(fresh[(score >= m.mql_threshold) & (engaged | fit_alone)].tolist())
    assert len(clears) > 100
    idx, _ = m.day(42)
    assert clears <= set(idx.tolist())


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_only_engaged_leads_requalify_on_rising_intent(share):
    scenario = gtmsim.load_scenario(
        BASE, {"marketing.nurture.engaged_share": share, "simulation.horizon_days": 120}
    )
    world = World(scenario, 0).run()
    m, s = world.marketing, world.store
    n = s.n
    was_nurtured = ~np.isnan(s.nurture_since_day[:n]) & (s.mql_count[:n] > 0)
    back = np.flatnonzero(was_nurtured & (s.created_day[:n] < s.mql_day[:n]))
    engaged = m.engaged(back)
    # requalified by nurture: either engaged, or its fit alone clears the (entry) bar
    fit_alone = m.fit_weight * s.fit[back] + m.noise_sd * s.score_z[back] >= m.mql_threshold
    assert np.all(engaged | fit_alone)
    if share == 1.0:
        assert (~fit_alone).sum() > 50  # plenty of leads came back on intent alone
