"""M2: the lead store (struct of arrays) and the per-channel latent source."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gtmsim.model.leads import (
    _FIELDS,
    ALLOWED_TRANSITIONS,
    IDLE,
    NEW,
    STATE_NAMES,
    LatentSource,
    LeadStore,
    State,
    day_fraction,
)
from gtmsim.scenario.dists import Beta, Constant, Exponential, Lognormal, Uniform

INF = math.inf


def latent(k: int, start=0.0, length=30.0, seg=0, offset=0.0) -> dict[str, np.ndarray]:
    return {
        "segment": np.full(k, seg),
        "fit": np.linspace(0.1, 0.9, k) if k > 1 else np.full(k, 0.5),
        "window_start_days": np.full(k, start),
        "window_length_days": np.full(k, length),
        "deal_size_usd": np.arange(k, dtype=float) * 1000.0 + offset,
        "score_z": np.zeros(k),
        "buying_group": np.full(k, 3),
    }


def one(start=0.0, length=30.0, seg=0, fit=0.5, size=10_000.0, z=0.0, group=1) -> tuple:
    """A row as :meth:`LatentSource.take_one` gives it."""
    return (seg, fit, start, length, size, z, group)


def add_one(store: LeadStore, created_day: float, channel: int, row: tuple) -> int:
    return store.append_one(created_day, channel, row, store.n)[0]


# ------------------------------------------------------------------ LeadStore


def test_new_store_is_empty_with_nan_fields():
    s = LeadStore(capacity=8)
    assert s.n == 0
    assert s.capacity == 8
    assert np.isnan(s.mql_day).all()
    assert np.isnan(s.opportunity_day).all()
    assert s.state_counts().tolist() == [0] * len(State)


def test_append_fills_rows_and_windows():
    s = LeadStore(capacity=8)
    created = np.array([1.0, 2.5, 3.0])
    sl = s.append(created, 2, latent(3, start=10.0, length=20.0, seg=1), np.arange(3))
    assert sl == slice(0, 3)
    assert s.n == 3
    assert s.created_day[:3].tolist() == [1.0, 2.5, 3.0]
    assert s.channel[:3].tolist() == [2, 2, 2]
    assert s.segment[:3].tolist() == [1, 1, 1]
    assert s.fit[:3].tolist() == pytest.approx([0.1, 0.5, 0.9])
    assert s.window_open_day[:3].tolist() == [11.0, 12.5, 13.0]
    assert s.window_close_day[:3].tolist() == [31.0, 32.5, 33.0]
    assert s.deal_size_usd[:3].tolist() == [0.0, 1000.0, 2000.0]
    sl2 = s.append(np.array([4.0, 5.0]), np.array([0, 1]), latent(2), np.array([7, 9]))
    assert s.uid[:5].tolist() == [0, 1, 2, 7, 9]
    assert sl2 == slice(3, 5)
    assert s.channel[:5].tolist() == [2, 2, 2, 0, 1]


def test_append_one():
    s = LeadStore(capacity=4)
    s.append(np.array([1.0]), 0, latent(1), np.array([0]))
    i, truth = s.append_one(
        7.5, 3, one(start=2.0, length=5.0, seg=2, fit=0.7, size=123.0, z=-1.5, group=4), uid=42
    )
    assert s.uid[1] == 42
    assert i == 1
    assert truth == (2, 0.7, 9.5, 14.5, 123.0, 4)
    assert s.buying_group[1] == 4
    assert s.n == 2
    assert s.created_day[1] == 7.5
    assert s.channel[1] == 3
    assert s.segment[1] == 2
    assert s.fit[1] == 0.7
    assert s.window_open_day[1] == 9.5
    assert s.window_close_day[1] == 14.5
    assert s.deal_size_usd[1] == 123.0
    assert s.score_z[1] == -1.5


def test_add_one_writes_at_settle_what_append_one_writes_at_once():
    rows = [one(start=2.0 * k, length=5.0 + k, seg=k % 3, fit=0.1 * k, size=99.5 * k, z=-k,
                group=k + 1) for k in range(6)]  # fmt: skip
    now, later = LeadStore(capacity=2), LeadStore(capacity=2)  # both grow on the way
    for k, row in enumerate(rows):
        for s in (now, later):
            s.append(np.array([k + 0.25]), 1, latent(1), np.array([100 + k]))
        got_now = now.append_one(k + 0.5, 3, row, uid=k)
        got_later = later.add_one(k + 0.5, 3, row, uid=k)
        assert got_now == got_later
        later.state[got_later[0]] = 8  # the state column may be written before it settles
        now.state[got_now[0]] = 8
    assert later.n == now.n == 12
    later.settle()
    for name in _FIELDS:
        np.testing.assert_array_equal(getattr(later, name), getattr(now, name), err_msg=name)


def test_non_buyer_window_is_infinite():
    s = LeadStore(capacity=4)
    i = add_one(s, 3.0, 0, one(start=INF))
    assert s.window_open_day[i] == INF
    assert s.window_close_day[i] == INF


def test_growth_keeps_data():
    s = LeadStore(capacity=4)
    s.append(np.arange(3, dtype=float), 1, latent(3, offset=1.0), np.arange(3))
    s.state[:3] = [State.QUEUED, State.WON, State.NURTURE]
    s.mql_day[1] = 2.25
    s.append(
        np.arange(3, 9, dtype=float), 2, latent(6, offset=5.0), np.arange(3, 9)
    )  # beyond capacity
    assert s.n == 9
    assert s.capacity >= 9
    assert s.created_day[:9].tolist() == list(range(9))
    assert s.channel[:9].tolist() == [1] * 3 + [2] * 6
    assert s.state[:3].tolist() == [State.QUEUED, State.WON, State.NURTURE]
    assert s.deal_size_usd[:3].tolist() == [1.0, 1001.0, 2001.0]
    assert s.mql_day[1] == 2.25
    assert np.isnan(s.mql_day[0])
    assert np.isnan(s.mql_day[2:]).all()  # new rows and spare capacity are still nan
    assert s.state.dtype == np.int8
    for _ in range(20):  # one at a time, past the doubled capacity
        add_one(s, 20.0, 4, one())
    assert s.n == 29
    assert s.capacity >= 29
    assert s.created_day[:9].tolist() == list(range(9))
    assert s.channel[9:29].tolist() == [4] * 20
    assert np.isnan(s.opportunity_day[:29]).all()


def test_growth_from_zero_capacity():
    s = LeadStore(capacity=0)
    assert add_one(s, 1.0, 0, one()) == 0
    assert s.n == 1
    assert s.capacity >= 1


def test_state_counts_sum_to_n():
    s = LeadStore(capacity=16)
    s.append(np.zeros(10), 0, latent(10), np.arange(10))
    s.state[:10] = [0, 1, 1, 3, 3, 3, 8, 10, 10, 12]
    counts = s.state_counts()
    assert counts.sum() == s.n == 10
    assert len(counts) == len(State)
    assert counts[State.NURTURE] == 2
    assert counts[State.QUEUED] == 3
    assert counts[State.WON] == 2
    assert counts[State.LOST_NO_DECISION] == 1
    assert counts[State.OPPORTUNITY] == 0


def test_state_counts_ignores_spare_capacity():
    s = LeadStore(capacity=64)
    s.state[:] = State.WON  # rows beyond n are not leads
    s.append(np.zeros(3), 0, latent(3), np.arange(3))
    s.state[:3] = State.QUEUED
    assert s.state_counts()[State.QUEUED] == 3
    assert s.state_counts().sum() == 3


def test_intent():
    s = LeadStore(capacity=8)
    add_one(s, 0.0, 0, one(start=INF))  # 0: never buys
    add_one(s, 0.0, 0, one(start=10.0, length=20.0))  # 1: window [10, 30)
    idx = np.array([0, 1])
    ramp = 5.0
    assert s.intent(idx, 0.0, ramp).tolist() == pytest.approx([0.0, math.exp(-2.0)])
    assert s.intent(idx, 7.5, ramp).tolist() == pytest.approx([0.0, math.exp(-0.5)])
    assert s.intent(idx, 10.0, ramp).tolist() == [0.0, 1.0]
    assert s.intent(idx, 29.9, ramp).tolist() == [0.0, 1.0]
    assert s.intent(idx, 30.0, ramp).tolist() == [0.0, 0.0]  # closed: bought elsewhere
    assert s.intent(idx, 500.0, ramp).tolist() == [0.0, 0.0]


def test_intent_with_slice_and_rising_before_open():
    s = LeadStore(capacity=8)
    sl = s.append(np.zeros(3), 0, latent(3, start=60.0, length=10.0), np.arange(3))
    times = [0.0, 20.0, 40.0, 59.0]
    values = [s.intent(sl, t, 60.0)[0] for t in times]
    assert values == sorted(values)
    assert values[0] == pytest.approx(math.exp(-1.0))
    assert all(0 < v < 1 for v in values)


def test_lifecycle_tables():
    assert len(STATE_NAMES) == len(State)
    assert STATE_NAMES[State.NEVER_FOLLOWED_UP] == "never_followed_up"
    assert len(State) == NEW
    terminal = {State.WON, State.LOST_COMPETITOR, State.LOST_NO_DECISION}
    assert not terminal & set(ALLOWED_TRANSITIONS)
    for idle in IDLE:  # a lead nobody works may come back to sales by itself
        assert State.ACCEPTED in ALLOWED_TRANSITIONS[idle]


# ------------------------------------------------------------------ LatentSource

HOUR_CUM = np.cumsum(np.ones(24)) / 24


def source(seed=3, segment_cum=(0.2, 0.5, 1.0), p_buy=0.6, block=64) -> LatentSource:
    return LatentSource(
        np.random.default_rng(seed),
        list(segment_cum),
        [Constant(value=1000.0), Constant(value=5000.0), Lognormal(median=50_000.0, sigma=0.5)][
            : len(segment_cum)
        ],
        [Constant(value=1.0), Exponential(mean=3.0), Constant(value=6.4)][: len(segment_cum)],
        Beta(a=2.0, b=3.0),
        p_buy,
        Exponential(mean=40.0),
        Uniform(low=10.0, high=20.0),
        HOUR_CUM,
        block=block,
    )


FIELDS = {
    "segment",
    "fit",
    "window_start_days",
    "window_length_days",
    "deal_size_usd",
    "score_z",
    "buying_group",
    "day_fraction",
    "u_return",
}
ROW = (
    "segment",
    "fit",
    "window_start_days",
    "window_length_days",
    "deal_size_usd",
    "score_z",
    "buying_group",
)


def test_take_sizes_and_fields():
    src = source()
    for k in (1, 10, 64, 100, 0, 7):
        batch = src.take(k)
        assert set(batch) == FIELDS
        assert all(len(v) == k for v in batch.values())


def test_take_zero_on_a_fresh_source_has_every_field():
    batch = source().take(0)
    assert set(batch) == FIELDS


def test_take_values_in_support():
    b = source(block=4096).take(5000)
    assert set(np.unique(b["segment"]).tolist()) == {0, 1, 2}
    assert ((b["fit"] >= 0) & (b["fit"] <= 1)).all()
    assert ((b["window_length_days"] >= 10) & (b["window_length_days"] <= 20)).all()
    assert ((b["day_fraction"] >= 0) & (b["day_fraction"] < 1)).all()
    # deal sizes follow the segment's spec
    assert (b["deal_size_usd"][b["segment"] == 0] == 1000.0).all()
    assert (b["deal_size_usd"][b["segment"] == 1] == 5000.0).all()
    assert (b["deal_size_usd"][b["segment"] == 2] > 0).all()
    big = b["deal_size_usd"][b["segment"] == 2]
    assert np.median(big) == pytest.approx(50_000.0, rel=0.1)


def test_segment_shares_follow_cumulative_mix():
    b = source(block=20_000).take(20_000)
    shares = np.bincount(b["segment"], minlength=3) / 20_000
    assert shares.tolist() == pytest.approx([0.2, 0.3, 0.5], abs=0.015)


def test_zero_share_segment_never_drawn():
    b = source(segment_cum=(0.5, 0.5, 1.0), block=5000).take(5000)
    shares = np.bincount(b["segment"], minlength=3) / 5000
    assert shares[1] == 0.0
    assert shares[0] == pytest.approx(0.5, abs=0.03)


def test_unnormalised_cumulative_mix():
    b = source(segment_cum=(1.0, 4.0), block=10_000).take(10_000)
    assert np.mean(b["segment"] == 0) == pytest.approx(0.25, abs=0.02)


def test_buy_probability_sets_non_buyers():
    b = source(p_buy=0.6, block=10_000).take(10_000)
    never = np.isinf(b["window_start_days"])
    assert never.mean() == pytest.approx(0.4, abs=0.02)
    starts = b["window_start_days"][~never]
    assert (starts >= 0).all()
    assert starts.mean() == pytest.approx(40.0, rel=0.05)
    assert np.isinf(source(p_buy=0.0).take(50)["window_start_days"]).all()
    assert np.isfinite(source(p_buy=1.0).take(50)["window_start_days"]).all()


def test_day_fraction_follows_hourly_profile():
    # all arrivals between 09:00 and 11:00, twice as many in the first hour
    weights = np.zeros(24)
    weights[9], weights[10] = 2.0, 1.0
    cum = np.cumsum(weights) / weights.sum()
    x = day_fraction(np.random.default_rng(0).random(30_000), cum)
    hours = x * 24
    assert hours.min() >= 9.0
    assert hours.max() < 11.0
    assert np.mean(hours < 10.0) == pytest.approx(2 / 3, abs=0.015)


def test_same_seed_same_leads():
    a, b, c = source(seed=5).take(100), source(seed=5).take(100), source(seed=6).take(100)
    for f in FIELDS:
        np.testing.assert_array_equal(a[f], b[f])
    assert not np.array_equal(a["fit"], c["fit"])


def as_rows(batch: dict[str, np.ndarray]) -> list[tuple]:
    """The rows :meth:`LatentSource.take_one` would give for a batch."""
    k = len(batch["segment"])
    return [tuple(batch[f][i].item() for f in ROW) for i in range(k)]


def test_take_one_matches_take_for_the_same_position():
    a, b = source(seed=9, block=64), source(seed=9, block=64)
    by_take = as_rows(a.take(50)) + as_rows(a.take(30)) + as_rows(a.take(1))
    by_one = [b.take_one() for _ in range(81)]
    assert by_one == by_take  # 81 leads: crosses a refill
    assert all(type(r[1]) is float for r in by_one)
    assert all(type(r[0]) is int for r in by_one)
    assert len({r[1] for r in by_one}) == 81


def test_take_one_and_take_interleave():
    a, b = source(seed=4, block=16), source(seed=4, block=16)
    mixed = []
    for k in (3, 0, 10, 5, 7, 1):
        mixed += as_rows(a.take(k))
        mixed.append(a.take_one())
    plain = [b.take_one() for _ in range(len(mixed))]
    assert mixed == plain


def test_take_one_row_feeds_the_store():
    src = source(seed=8)
    store = LeadStore(capacity=2)
    row = src.take_one()
    i, truth = store.append_one(5.0, 1, row, 0)
    seg, fit, start, length, size, _, group = row
    assert store.segment[i] == seg
    assert store.fit[i] == fit
    assert store.buying_group[i] == group
    assert truth == (seg, fit, 5.0 + start, 5.0 + start + length, size, group)


def test_buying_groups_are_whole_people_by_segment():
    batch = source(seed=5, block=256).take(256)
    group, seg = batch["buying_group"], batch["segment"]
    assert group.dtype.kind == "i" and group.min() >= 1
    assert (group[seg == 0] == 1).all()  # a constant 1
    assert (group[seg == 2] == 6).all()  # 6.4 rounds to 6 people
    assert len(set(group[seg == 1].tolist())) > 2  # exponential: spread, rounded


@settings(max_examples=30)
@given(sizes=st.lists(st.integers(0, 32), min_size=1, max_size=12))
def test_position_decides_the_lead_for_takes_within_a_block(sizes):
    a, b = source(seed=1, block=32), source(seed=1, block=32)
    got = [a.take_one()] + [r for k in sizes for r in as_rows(a.take(k))]
    expected = [b.take_one() for _ in range(len(got))]
    assert got == expected


def test_position_decides_the_lead_for_takes_larger_than_a_block():
    a, b = source(seed=2, block=8), source(seed=2, block=8)
    got = as_rows(a.take(20))
    expected = [b.take_one() for _ in range(20)]
    assert got == expected
