"""Distribution specs: vectorised draws, the block sampler, and scenario-side validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from gtmsim.model.dists import Sampler, draw
from gtmsim.scenario.dists import (
    KINDS,
    Beta,
    Constant,
    Dist,
    Empirical,
    Exponential,
    Gamma,
    Histogram,
    Lognormal,
    Uniform,
    dist_mean,
    within,
)
from gtmsim.scenario.schema import Channel, Stage, Team

DIST = TypeAdapter(Dist)
N = 200_000

# (spec, relative tolerance on the mean); lognormal and gamma with a large cv converge slowest
SPECS = [
    (Constant(value=2.5), 0.0),
    (Exponential(mean=3.0), 0.02),
    (Gamma(mean=4.0, cv=0.5), 0.02),
    (Gamma(mean=1.5, cv=2.0), 0.05),
    (Lognormal(median=20_000.0, sigma=0.8), 0.03),
    (Lognormal(median=7.0, sigma=0.0), 1e-12),
    (Beta(a=2.0, b=5.0), 0.02),
    (Uniform(low=-1.0, high=3.0), 0.02),
    (Uniform(low=2.0, high=2.0), 1e-12),
    (Empirical(values=[1.0, 2.0, 10.0]), 0.02),
    (Empirical(values=[1.0, 2.0, 10.0], weights=[6.0, 3.0, 1.0]), 0.02),
    (Histogram(edges=[0.0, 1.0, 5.0, 6.0], weights=[1.0, 2.0, 1.0]), 0.02),
]
IDS = [f"{s.kind}-{i}" for i, (s, _) in enumerate(SPECS)]


def test_specs_cover_every_kind():
    assert {s.kind for s, _ in SPECS} == set(KINDS)


@pytest.mark.parametrize(("spec", "rtol"), SPECS, ids=IDS)
def test_draw_shape_support_and_mean(spec, rtol):
    x = draw(spec, np.random.default_rng(12345), N)
    assert x.shape == (N,)
    assert x.dtype == np.float64
    lo, hi = spec.support()
    assert x.min() >= lo
    assert x.max() <= hi
    assert x.mean() == pytest.approx(dist_mean(spec), rel=rtol, abs=1e-12)


def test_draw_size_zero_and_one():
    rng = np.random.default_rng(0)
    for spec, _ in SPECS:
        assert draw(spec, rng, 0).shape == (0,)
        assert draw(spec, rng, 1).shape == (1,)


def test_draw_rejects_non_spec():
    with pytest.raises(TypeError):
        draw(3.0, np.random.default_rng(0), 4)
    with pytest.raises(TypeError):
        dist_mean({"kind": "constant", "value": 1.0})


def test_empirical_draws_only_observed_values_with_their_weights():
    spec = Empirical(values=[1.0, 2.0, 10.0], weights=[6.0, 3.0, 1.0])
    x = draw(spec, np.random.default_rng(1), N)
    assert set(np.unique(x).tolist()) == {1.0, 2.0, 10.0}
    shares = [np.mean(x == v) for v in (1.0, 2.0, 10.0)]
    assert shares == pytest.approx([0.6, 0.3, 0.1], abs=0.01)


def test_empirical_zero_weight_value_never_drawn():
    x = draw(Empirical(values=[1.0, 5.0], weights=[1.0, 0.0]), np.random.default_rng(2), 10_000)
    assert np.all(x == 1.0)


def test_histogram_bin_shares_and_uniform_within_bins():
    spec = Histogram(edges=[0.0, 1.0, 5.0, 6.0], weights=[1.0, 2.0, 1.0])
    x = draw(spec, np.random.default_rng(3), N)
    counts, _ = np.histogram(x, bins=[0.0, 1.0, 5.0, 6.0])
    assert counts / N == pytest.approx([0.25, 0.5, 0.25], abs=0.01)
    middle = x[(x >= 1.0) & (x < 5.0)]
    assert middle.mean() == pytest.approx(3.0, abs=0.02)  # uniform inside the wide bin


def test_gamma_and_lognormal_spread():
    g = draw(Gamma(mean=4.0, cv=0.5), np.random.default_rng(4), N)
    assert g.std() / g.mean() == pytest.approx(0.5, rel=0.03)
    ln = draw(Lognormal(median=100.0, sigma=0.8), np.random.default_rng(5), N)
    assert np.median(ln) == pytest.approx(100.0, rel=0.02)
    assert np.log(ln).std() == pytest.approx(0.8, rel=0.02)


def test_constant_draw_is_exact():
    assert draw(Constant(value=-4.25), np.random.default_rng(0), 5).tolist() == [-4.25] * 5


def test_same_seed_same_draws():
    spec = Gamma(mean=2.0, cv=1.0)
    a = draw(spec, np.random.default_rng(7), 100)
    b = draw(spec, np.random.default_rng(7), 100)
    c = draw(spec, np.random.default_rng(8), 100)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# ------------------------------------------------------------------ Sampler


def test_sampler_returns_python_floats_matching_draw():
    spec = Exponential(mean=2.0)
    s = Sampler(spec, np.random.default_rng(11), block=16)
    got = [s() for _ in range(40)]
    assert all(type(v) is float for v in got)
    # block by block, the same numbers as vectorised draws from the same generator
    rng = np.random.default_rng(11)
    expected = np.concatenate([draw(spec, rng, 16) for _ in range(3)])[:40].tolist()
    assert got == expected


def test_sampler_deterministic_for_seeded_generator():
    spec = Lognormal(median=3.0, sigma=0.5)
    a = Sampler(spec, np.random.default_rng(99), block=8)
    b = Sampler(spec, np.random.default_rng(99), block=8)
    c = Sampler(spec, np.random.default_rng(100), block=8)
    xa = [a() for _ in range(30)]
    assert xa == [b() for _ in range(30)]
    assert xa != [c() for _ in range(30)]
    assert len(set(xa)) == 30


def test_sampler_mean():
    spec = Gamma(mean=5.0, cv=0.7)
    s = Sampler(spec, np.random.default_rng(21))
    assert sum(s() for _ in range(50_000)) / 50_000 == pytest.approx(5.0, rel=0.03)


def test_sampler_constant_never_touches_the_generator():
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    s = Sampler(Constant(value=1.25), rng)
    assert [s() for _ in range(1000)] == [1.25] * 1000
    assert type(s()) is float
    assert rng.bit_generator.state == state


# ------------------------------------------------------------------ validation


def test_bare_number_is_a_constant():
    assert DIST.validate_python(0.25) == Constant(value=0.25)
    assert DIST.validate_python(3) == Constant(value=3.0)
    assert Team(attempt_hours=0.25).attempt_hours == Constant(value=0.25)


def test_dict_specs_validate_to_their_kind():
    spec = DIST.validate_python({"kind": "gamma", "mean": 2.0, "cv": 0.5})
    assert isinstance(spec, Gamma)
    assert spec.mean == 2.0
    assert dist_mean(spec) == 2.0


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "weibull", "shape": 1.0},
        {"mean": 1.0},
        True,
        "3.0",
        {"kind": "exponential", "mean": 0.0},
        {"kind": "exponential", "mean": 1.0, "extra": 1},
        {"kind": "constant", "value": float("inf")},
        {"kind": "gamma", "mean": 1.0, "cv": -1.0},
        {"kind": "lognormal", "median": 1.0, "sigma": -0.1},
        {"kind": "beta", "a": 0.0, "b": 1.0},
        {"kind": "uniform", "low": 2.0, "high": 1.0},
        {"kind": "empirical", "values": []},
    ],
)
def test_invalid_specs_rejected(bad):
    with pytest.raises(ValidationError):
        DIST.validate_python(bad)


def test_histogram_edges_must_increase():
    with pytest.raises(ValidationError, match="edges must increase"):
        Histogram(edges=[0.0, 2.0, 1.0], weights=[1.0, 1.0])
    with pytest.raises(ValidationError, match="edges must increase"):
        Histogram(edges=[0.0, 1.0, 1.0], weights=[1.0, 1.0])
    with pytest.raises(ValidationError, match="one weight per"):
        Histogram(edges=[0.0, 1.0, 2.0], weights=[1.0])


def test_empirical_weights_length_and_sign():
    with pytest.raises(ValidationError, match="one weight per"):
        Empirical(values=[1.0, 2.0], weights=[1.0])
    with pytest.raises(ValidationError, match="positive sum"):
        Empirical(values=[1.0, 2.0], weights=[1.0, -1.0])
    with pytest.raises(ValidationError, match="positive sum"):
        Empirical(values=[1.0, 2.0], weights=[0.0, 0.0])
    assert Empirical(values=[1.0, 2.0], weights=[0.0, 1.0]).support() == (1.0, 2.0)


def test_specs_are_frozen():
    spec = Exponential(mean=1.0)
    with pytest.raises(ValidationError):
        spec.mean = 2.0


def test_within_checks_support():
    check = within(0.0, 1.0)
    assert check(Beta(a=1.0, b=1.0)) == Beta(a=1.0, b=1.0)
    assert check(Uniform(low=0.0, high=1.0)) == Uniform(low=0.0, high=1.0)
    with pytest.raises(ValueError, match="within"):
        check(Uniform(low=0.0, high=1.5))
    with pytest.raises(ValueError, match="within"):
        check(Exponential(mean=0.1))  # unbounded support
    with pytest.raises(ValueError, match="within"):
        within(0.0, math.inf)(Constant(value=-0.5))


def test_negative_constant_rejected_where_non_negative_required():
    with pytest.raises(ValidationError, match="attempt_hours"):
        Team(attempt_hours=-1)
    with pytest.raises(ValidationError):
        Team(qualification_hours={"kind": "uniform", "low": -1.0, "high": 1.0})
    with pytest.raises(ValidationError):
        Stage(buyer_delay_days=-0.5)
    assert Team(attempt_hours=0).attempt_hours == Constant(value=0.0)


def test_unit_interval_required_for_fit():
    assert Channel(fit={"kind": "uniform", "low": 0.2, "high": 0.9}).fit == Uniform(
        low=0.2, high=0.9
    )
    with pytest.raises(ValidationError, match="fit"):
        Channel(fit={"kind": "uniform", "low": 0.2, "high": 1.5})
    with pytest.raises(ValidationError, match="fit"):
        Channel(fit={"kind": "lognormal", "median": 0.5, "sigma": 0.1})


@settings(max_examples=40)
@given(
    values=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_empirical_draws_stay_in_support(values, seed):
    spec = Empirical(values=values)
    x = draw(spec, np.random.default_rng(seed), 64)
    assert set(x.tolist()) <= set(values)
    assert min(values) - 1e-9 <= dist_mean(spec) <= max(values) + 1e-9


@settings(max_examples=40)
@given(
    edges=st.lists(st.floats(-100, 100), min_size=2, max_size=5, unique=True).map(sorted),
    seed=st.integers(0, 2**32 - 1),
)
def test_histogram_draws_stay_in_support(edges, seed):
    spec = Histogram(edges=edges, weights=[1.0] * (len(edges) - 1))
    x = draw(spec, np.random.default_rng(seed), 64)
    assert x.min() >= edges[0]
    assert x.max() <= edges[-1]
