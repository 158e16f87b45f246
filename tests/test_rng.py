"""Named random streams and the counter-based per-lead dice."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gtmsim.model.rng import DiceRows, LeadDice, stream, stream_key


def test_stream_same_key_same_numbers():
    a = stream(7, 0, "leads/paid_search").random(50)
    b = stream(7, 0, "leads/paid_search").random(50)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "other",
    [(7, 0, "leads/events"), (7, 1, "leads/paid_search"), (8, 0, "leads/paid_search")],
)
def test_stream_differs_by_name_replication_and_seed(other):
    a = stream(7, 0, "leads/paid_search").random(50)
    b = stream(*other).random(50)
    assert not np.allclose(a, b)
    # and not just shifted copies of each other
    assert not np.isin(a, b).any()


def test_stream_does_not_depend_on_creation_order():
    first = stream(3, 2, "a").random(5)
    stream(3, 2, "b").random(1000)  # another stream drawing in between
    again = stream(3, 2, "a").random(5)
    np.testing.assert_array_equal(first, again)


def test_stream_key_is_stable_and_distinct():
    k = stream_key(1, 0, "dice/contact")
    assert k == stream_key(1, 0, "dice/contact")
    assert 0 <= k < 2**64
    others = {stream_key(1, 0, "dice/qualify"), stream_key(1, 1, "dice/contact")}
    others.add(stream_key(2, 0, "dice/contact"))
    assert k not in others
    assert len(others) == 3


# ------------------------------------------------------------------ LeadDice


def test_dice_deterministic_and_independent_of_call_order():
    d1 = LeadDice(5, 0, "contact")
    d2 = LeadDice(5, 0, "contact")
    forward = [d1(lead, slot) for lead in range(20) for slot in range(3)]
    backward = [d2(lead, slot) for lead in reversed(range(20)) for slot in reversed(range(3))]
    assert forward == list(reversed(backward))
    assert d1(12, 1) == d2(12, 1)


def test_dice_differs_by_stream_lead_and_slot():
    d = LeadDice(5, 0, "contact")
    assert d(10, 0) != d(11, 0)
    assert d(10, 0) != d(10, 1)
    assert d(10, 0) != LeadDice(5, 0, "qualify")(10, 0)
    assert d(10, 0) != LeadDice(5, 1, "contact")(10, 0)
    assert d(10, 0) != LeadDice(6, 0, "contact")(10, 0)
    assert d(10) == d(10, 0)


def test_dice_distinct_within_slot_range():
    d = LeadDice(0, 0, "x")
    values = {d(lead, slot) for lead in range(40) for slot in range(256)}
    assert len(values) == 40 * 256


@settings(max_examples=60)
@given(
    seed=st.integers(0, 2**31),
    lead=st.integers(0, 2**40),
    slot=st.integers(0, 255),
)
def test_dice_in_unit_interval(seed, lead, slot):
    u = LeadDice(seed, 0, "p")(lead, slot)
    assert type(u) is float
    assert 0.0 <= u < 1.0


def test_many_equals_scalar_calls_elementwise():
    d = LeadDice(11, 3, "stage")
    leads = np.array([0, 1, 2, 17, 123_456, 2**40 + 5], dtype=np.int64)
    slots = np.array([0, 5, 1, 255, 64, 3], dtype=np.int64)
    got = d.many(leads, slots)
    assert got.dtype == np.float64
    assert got.shape == (6,)
    assert got.tolist() == [d(int(lead), int(s)) for lead, s in zip(leads, slots, strict=True)]


def test_many_broadcasts_like_numpy():
    d = LeadDice(11, 3, "contact")
    leads = np.arange(5, dtype=np.int64)
    slots = np.arange(4, dtype=np.int64)
    grid = d.many(leads[:, None], slots[None, :])
    assert grid.shape == (5, 4)
    for i in range(5):
        for j in range(4):
            assert grid[i, j] == d(i, j)
    # one slot for every lead, and one lead for several slots
    np.testing.assert_array_equal(d.many(leads, np.array(2)), [d(i, 2) for i in range(5)])
    np.testing.assert_array_equal(d.many(np.array([7]), slots), [d(7, j) for j in range(4)])


def test_many_accepts_lists_and_the_engine_slot_pattern():
    d = LeadDice(2, 0, "contact")
    idx = np.array([3, 9, 40])
    slot0 = 32 * np.array([0, 1, 2], dtype=np.int64)
    attempts = np.arange(3)
    grid = d.many(idx[:, None], slot0[:, None] + attempts)
    expected = [[d(int(i), int(s) + a) for a in range(3)] for i, s in zip(idx, slot0, strict=True)]
    assert grid.tolist() == expected
    assert d.many([3, 9], [0, 0]).tolist() == [d(3, 0), d(9, 0)]


def test_many_is_roughly_uniform():
    d = LeadDice(2024, 0, "uniformity")
    u = d.many(np.arange(200_000), np.zeros(1, dtype=np.int64))
    assert u.min() >= 0.0
    assert u.max() < 1.0
    assert u.mean() == pytest.approx(0.5, abs=0.005)
    assert u.var() == pytest.approx(1 / 12, abs=0.002)
    # Kolmogorov-Smirnov statistic against U(0, 1); the 0.1% critical value is ~1.95 / sqrt(n)
    x = np.sort(u)
    n = len(x)
    ecdf_hi = np.arange(1, n + 1) / n
    ecdf_lo = np.arange(0, n) / n
    ks = max(np.max(ecdf_hi - x), np.max(x - ecdf_lo))
    assert ks < 1.95 / np.sqrt(n)
    # deciles equally filled
    counts = np.bincount((u * 10).astype(int), minlength=10)
    assert counts / n == pytest.approx([0.1] * 10, abs=0.005)


def test_slots_look_independent_of_each_other():
    d = LeadDice(9, 0, "corr")
    leads = np.arange(50_000)
    a = d.many(leads, np.zeros(1, dtype=np.int64))
    b = d.many(leads, np.ones(1, dtype=np.int64))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.02


def test_dice_slots_beyond_255_do_not_alias_the_next_lead():
    d = LeadDice(1, 0, "contact")
    assert d(0, 256) != d(1, 0)
    assert d(0, 32 * 9) != d(1, 32)  # a lead's ninth MQL against the next lead's first


def test_engine_slot_pattern_never_repeats_across_neighbouring_leads():
    # slots are 32 * (times the lead became an MQL) + attempt or stage index
    d = LeadDice(3, 0, "stage")
    leads = np.arange(4)[:, None, None]
    slots = 32 * np.arange(1, 41)[None, :, None] + np.arange(20)[None, None, :]
    u = d.many(leads, slots)
    assert u.size == 4 * 40 * 20
    assert len(np.unique(u)) == u.size


def test_dice_rows_equal_each_stream_at_its_slots():
    a, b = LeadDice(11, 3, "contact"), LeadDice(11, 3, "stage")
    rows = DiceRows([(a, 0), (a, 1), (b, 0), (b, 4)])
    leads = np.array([0, 7, 2**40 + 5], dtype=np.int64)
    base = np.array([0, 32, 64], dtype=np.int64)
    got = rows(leads, base)
    assert got.shape == (3, 4)
    expected = [
        [a(i, s), a(i, s + 1), b(i, s), b(i, s + 4)]
        for i, s in zip(leads.tolist(), base.tolist(), strict=True)
    ]
    assert got.tolist() == expected
