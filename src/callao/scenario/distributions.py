"""Probability distributions a scenario file can name, each sampled vectorised with numpy.

In TOML a distribution is an inline table with a ``dist`` key, e.g.
``{ dist = "erlang", k = 2, mean = 20.0 }``. Units are those of the field that holds it.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    @property
    def mean_value(self) -> float:  # pragma: no cover
        raise NotImplementedError

    @property
    def scv(self) -> float:
        """Squared coefficient of variation (variance / mean²)."""
        raise NotImplementedError  # pragma: no cover


class Constant(_Dist):
    """Always ``value`` (deterministic)."""

    dist: Literal["constant"]
    value: float = Field(ge=0)

    def sample(self, rng, size):
        return np.full(size, self.value)

    @property
    def mean_value(self):
        return self.value

    @property
    def scv(self):
        return 0.0


class Exponential(_Dist):
    """Exponential with the given mean (memoryless; Poisson inter-arrivals)."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0)

    def sample(self, rng, size):
        return rng.exponential(self.mean, size)

    @property
    def mean_value(self):
        return self.mean

    @property
    def scv(self):
        return 1.0


class Erlang(_Dist):
    """Erlang-k: the sum of k exponential phases; squared CV = 1/k."""

    dist: Literal["erlang"]
    k: int = Field(ge=1)
    mean: float = Field(gt=0)

    def sample(self, rng, size):
        return rng.gamma(self.k, self.mean / self.k, size)

    @property
    def mean_value(self):
        return self.mean

    @property
    def scv(self):
        return 1.0 / self.k


class Gamma(_Dist):
    """Gamma with the given mean and coefficient of variation ``cv``."""

    dist: Literal["gamma"]
    mean: float = Field(gt=0)
    cv: float = Field(gt=0)

    def sample(self, rng, size):
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, size)

    @property
    def mean_value(self):
        return self.mean

    @property
    def scv(self):
        return self.cv**2


class Lognormal(_Dist):
    """Lognormal with the given mean and coefficient of variation ``cv`` (right-skewed dwell times)."""

    dist: Literal["lognormal"]
    mean: float = Field(gt=0)
    cv: float = Field(gt=0)

    def sample(self, rng, size):
        sigma2 = np.log1p(self.cv**2)
        mu = np.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, np.sqrt(sigma2), size)

    @property
    def mean_value(self):
        return self.mean

    @property
    def scv(self):
        return self.cv**2


class Normal(_Dist):
    """Normal(mean, sd), cut to ``[low, +inf)`` by redrawing-free clipping (``low`` may be negative)."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)
    low: float | None = None

    def sample(self, rng, size):
        x = rng.normal(self.mean, self.sd, size)
        return x if self.low is None else np.maximum(x, self.low)

    @property
    def mean_value(self):
        return self.mean

    @property
    def scv(self):
        return (self.sd / self.mean) ** 2 if self.mean else float("inf")


class Uniform(_Dist):
    """Uniform on ``[low, high]``."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.high < self.low:
            raise ValueError(f"uniform needs low <= high, got low={self.low}, high={self.high}")
        return self

    def sample(self, rng, size):
        return rng.uniform(self.low, self.high, size)

    @property
    def mean_value(self):
        return (self.low + self.high) / 2

    @property
    def scv(self):
        m = self.mean_value
        return ((self.high - self.low) ** 2 / 12) / m**2 if m else 0.0


class Triangular(_Dist):
    """Triangular on ``[low, high]`` with the given ``mode``."""

    dist: Literal["triangular"]
    low: float = Field(ge=0)
    mode: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError(
                f"triangular needs low <= mode <= high and low < high, got "
                f"low={self.low}, mode={self.mode}, high={self.high}"
            )
        return self

    def sample(self, rng, size):
        return rng.triangular(self.low, self.mode, self.high, size)

    @property
    def mean_value(self):
        return (self.low + self.mode + self.high) / 3

    @property
    def scv(self):
        a, c, b = self.low, self.mode, self.high
        var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
        return var / self.mean_value**2


Distribution = Annotated[
    Union[Constant, Exponential, Erlang, Gamma, Lognormal, Normal, Uniform, Triangular],
    Field(discriminator="dist"),
]
"""Any of the distributions above, chosen by its ``dist`` key."""
