"""Distribution specs: how a scenario file says "this duration / size varies like so".

Every duration and size in a scenario is a distribution spec. A bare number means
a constant, so ``attempt_hours = 0.25`` and ``attempt_hours = {kind = "constant",
value = 0.25}`` are the same. The unit is the unit in the field's name.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, model_validator

_Spec = {"frozen": True, "extra": "forbid", "allow_inf_nan": False, "strict": True}


class Constant(BaseModel, **_Spec):
    """Always the same value."""

    kind: Literal["constant"] = "constant"
    value: float = Field(description="the value, in the unit of the field")

    def support(self) -> tuple[float, float]:
        return (self.value, self.value)


class Exponential(BaseModel, **_Spec):
    """Memoryless: the textbook service or inter-arrival time."""

    kind: Literal["exponential"] = "exponential"
    mean: float = Field(gt=0, description="mean, in the unit of the field")

    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)


class Gamma(BaseModel, **_Spec):
    """Right-skewed positive values given by mean and coefficient of variation."""

    kind: Literal["gamma"] = "gamma"
    mean: float = Field(gt=0, description="mean, in the unit of the field")
    cv: float = Field(
        gt=0, le=10, description="coefficient of variation (standard deviation / mean)"
    )

    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)


class Lognormal(BaseModel, **_Spec):
    """Heavy right tail (deal sizes): given by median and log-scale sigma."""

    kind: Literal["lognormal"] = "lognormal"
    median: float = Field(gt=0, description="median, in the unit of the field")
    sigma: float = Field(ge=0, le=5, description="standard deviation of log(value)")

    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)


class Beta(BaseModel, **_Spec):
    """Values in [0, 1] (fit scores, shares)."""

    kind: Literal["beta"] = "beta"
    a: float = Field(gt=0, le=1e4, description="first shape parameter (alpha)")
    b: float = Field(gt=0, le=1e4, description="second shape parameter (beta)")

    def support(self) -> tuple[float, float]:
        return (0.0, 1.0)


class Uniform(BaseModel, **_Spec):
    """Every value between low and high equally likely."""

    kind: Literal["uniform"] = "uniform"
    low: float = Field(description="lower bound, in the unit of the field")
    high: float = Field(description="upper bound, in the unit of the field")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.high >= self.low:
            raise ValueError(f"uniform needs high >= low, got low={self.low}, high={self.high}")
        return self

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class Empirical(BaseModel, **_Spec):
    """Resample observed values, optionally weighted."""

    kind: Literal["empirical"] = "empirical"
    values: list[float] = Field(min_length=1, description="observed values")
    weights: list[float] | None = Field(
        None, description="relative weight of each value (default: equal)"
    )

    @model_validator(mode="after")
    def _weights(self) -> Empirical:
        _check_weights(self.weights, len(self.values), "values")
        return self

    def support(self) -> tuple[float, float]:
        return (min(self.values), max(self.values))


class Histogram(BaseModel, **_Spec):
    """Piecewise uniform: bin ``i`` spans ``edges[i]..edges[i+1]`` with weight ``weights[i]``."""

    kind: Literal["histogram"] = "histogram"
    edges: list[float] = Field(min_length=2, description="bin edges, increasing")
    weights: list[float] = Field(min_length=1, description="relative weight of each bin")

    @model_validator(mode="after")
    def _shape(self) -> Histogram:
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError(f"histogram edges must increase, got {self.edges}")
        _check_weights(self.weights, len(self.edges) - 1, "bins (len(edges) - 1)")
        return self

    def support(self) -> tuple[float, float]:
        return (self.edges[0], self.edges[-1])


def _check_weights(weights: list[float] | None, n: int, what: str) -> None:
    if weights is None:
        return
    if len(weights) != n:
        raise ValueError(f"need one weight per {what}: {n} expected, got {len(weights)}")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be >= 0 with a positive sum, got {weights}")


def _number_is_constant(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"kind": "constant", "value": value}
    return value


Dist = Annotated[
    Constant | Exponential | Gamma | Lognormal | Beta | Uniform | Empirical | Histogram,
    Field(discriminator="kind"),
    BeforeValidator(_number_is_constant),
]
"""A distribution spec; a bare number is a constant."""

KINDS = (
    "constant",
    "exponential",
    "gamma",
    "lognormal",
    "beta",
    "uniform",
    "empirical",
    "histogram",
)


def dist_mean(spec: Any) -> float:
    """The mean of a distribution spec (exact)."""
    match spec:
        case Constant(value=v):
            return v
        case Exponential(mean=m) | Gamma(mean=m):
            return m
        case Lognormal(median=med, sigma=s):
            return med * math.exp(s * s / 2)
        case Beta(a=a, b=b):
            return a / (a + b)
        case Uniform(low=lo, high=hi):
            return (lo + hi) / 2
        case Empirical(values=v, weights=w):
            w = w or [1.0] * len(v)
            return sum(x * p for x, p in zip(v, w, strict=True)) / sum(w)
        case Histogram(edges=e, weights=w):
            mids = [(a + b) / 2 for a, b in zip(e, e[1:], strict=False)]
            return sum(m * p for m, p in zip(mids, w, strict=True)) / sum(w)
    raise TypeError(f"not a distribution spec: {spec!r}")


def within(lo: float, hi: float, *, max_mean: float = math.inf, positive_mean: bool = False):
    """A validator factory: the spec's values lie within [lo, hi], its mean is at most ``max_mean``.

    Parameters
    ----------
    lo, hi : float
        Every value the distribution can take lies in ``[lo, hi]`` (``hi`` may be infinite).
    max_mean : float
        Upper bound of the mean: a distribution without an upper end (a gamma, a
        lognormal) is held to a plausible size by its mean.
    positive_mean : bool
        The mean must also be above 0 (time must pass).

    Returns
    -------
    callable
        ``check(spec) -> spec``, raising ValueError; its attributes ``bounds``
        (lo, hi), ``max_mean`` and ``positive_mean`` are shown in the scenario
        reference and the JSON Schema.
    """

    def check(spec: Any) -> Any:
        s_lo, s_hi = spec.support()
        mean = dist_mean(spec)
        if s_lo < lo or s_hi > hi:
            raise ValueError(
                f"values must lie within [{lo:g}, {hi:g}], but this {spec.kind} "
                f"distribution spans [{s_lo:g}, {s_hi:g}]"
            )
        if positive_mean and not mean > 0:
            raise ValueError(
                f"values must have a mean above 0, but this {spec.kind} distribution "
                f"has mean {mean:g}"
            )
        if not mean <= max_mean:
            raise ValueError(
                f"the mean must be at most {max_mean:g}, but this {spec.kind} distribution "
                f"has mean {mean:g}"
            )
        return spec

    check.bounds = (lo, hi)
    check.max_mean = max_mean
    check.positive_mean = positive_mean
    return check
