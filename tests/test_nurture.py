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
    entry = s.nurture_entry_score[live]
    bar = np.where(entry >= m.mql_threshold, entry + m.requalify_gain, m.mql_threshold)
    return set(live[score >= bar - 1e-12].tolist()), set(idx[expired].tolist())


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
        assert expect_gone <= expired
        checked += len(expect_mql) + len(expect_gone)
        pool = set(nurtured.tolist())
    assert checked > 100  # the comparison saw real requalifications and expiries
