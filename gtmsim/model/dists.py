"""Sampling from distribution specs: vectorised draws and block-buffered scalars."""

from __future__ import annotations

from itertools import chain, islice, repeat

import numpy as np

from gtmsim.scenario.dists import (
    Beta,
    Constant,
    Empirical,
    Exponential,
    Gamma,
    Histogram,
    Lognormal,
    Uniform,
)


def draw(spec, rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` independent draws from a distribution spec, as float64."""
    match spec:
        case Constant(value=v):
            return np.full(size, v, dtype=float)
        case Exponential(mean=m):
            return rng.exponential(m, size)
        case Gamma(mean=m, cv=cv):
            shape = 1.0 / (cv * cv)
            return rng.gamma(shape, m / shape, size)
        case Lognormal(median=med, sigma=s):
            return med * np.exp(s * rng.standard_normal(size))
        case Beta(a=a, b=b):
            return rng.beta(a, b, size)
        case Uniform(low=lo, high=hi):
            return rng.uniform(lo, hi, size)
        case Empirical(values=v, weights=w):
            p = None if w is None else np.asarray(w, float) / sum(w)
            return rng.choice(np.asarray(v, float), size=size, p=p)
        case Histogram(edges=e, weights=w):
            edges = np.asarray(e, float)
            p = np.asarray(w, float) / sum(w)
            bins = rng.choice(len(p), size=size, p=p)
            return edges[bins] + rng.random(size) * (edges[bins + 1] - edges[bins])
    raise TypeError(f"not a distribution spec: {spec!r}")


class Sampler:
    """Scalar draws from one spec and one generator, drawn in blocks.

    Calling a numpy generator once per event costs microseconds; handing out
    Python floats from a pre-drawn block costs tens of nanoseconds. Hot loops
    bind :attr:`next` (a plain callable, cheaper than calling the sampler).
    """

    __slots__ = ("next", "_values")

    def __init__(self, spec, rng: np.random.Generator, block: int = 1024):
        if isinstance(spec, Constant):
            self._values = repeat(spec.value)
        else:
            # each block is drawn when the previous one is used up
            blocks = map(lambda _: draw(spec, rng, block).tolist(), repeat(None))
            self._values = chain.from_iterable(blocks)
        self.next = self._values.__next__

    def __call__(self) -> float:
        return self.next()

    def take(self, n: int) -> list[float]:
        """The next ``n`` draws, as a list."""
        return list(islice(self._values, n))
