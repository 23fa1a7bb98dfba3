"""Choosing which declarations to inspect under a capacity, with exploration.

Only inspected declarations get labels, so a model that always takes the top of its own ranking
never learns about what it ranks low. An exploration share of the capacity therefore goes to
declarations outside the exploited top: uniformly at random (``"random"``) or weighted by the
model's uncertainty ``p × (1 − p)`` (``"uncertainty"``). The capacity is never exceeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

ExplorationMode = Literal["random", "uncertainty"]


def capacity_count(n: int, capacity: int | float) -> int:
    """Inspections allowed among ``n`` declarations: an integer count, or a rate in (0, 1)."""
    if isinstance(capacity, (float, np.floating)) and 0.0 < capacity < 1.0:
        k = int(round(capacity * n))
        return min(n, max(1, k)) if n > 0 else 0
    if capacity < 0:
        raise ValueError(f"capacity must be >= 0, got {capacity}")
    return min(n, int(capacity))


def first_by_key(key: np.ndarray, m: int) -> np.ndarray:
    """Indices (ascending) of the ``m`` smallest ``key`` values, ties to the lower index: the same
    set as ``np.argsort(key, kind="stable")[:m]``, by a partition (linear time) instead of a sort."""
    n = key.size
    if m <= 0:
        return np.zeros(0, np.intp)
    if m >= n:
        return np.arange(n)
    if np.isnan(key).any():  # NaN sorts last; keep the sort's exact order
        return np.sort(np.argsort(key, kind="stable")[:m])
    threshold = np.partition(key, m - 1)[m - 1]
    below = key < threshold
    below[np.flatnonzero(key == threshold)[: m - int(np.count_nonzero(below))]] = True
    return np.flatnonzero(below)


def select_for_inspection(
    scores: np.ndarray,
    capacity: int | float,
    rng: np.random.Generator,
    exploration: float = 0.0,
    mode: ExplorationMode = "random",
    probabilities: np.ndarray | None = None,
    uniforms: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask of the declarations to inspect.

    ``scores``: risk per declaration (probabilities when ``mode="uncertainty"``); ``capacity``:
    count (int) or rate (float in (0, 1)); ``exploration``: share (0..1) of the capacity spent
    outside the top of the ranking (``floor(exploration × k)`` picks, so the share is never
    exceeded and a very small capacity is all exploitation); ``probabilities``: P(illicit) for the uncertainty weights when
    ``scores`` are not probabilities (default: ``scores``). Exactly ``capacity_count(n,
    capacity)`` rows are selected.

    ``uniforms`` (one U(0, 1) per row, drawn beforehand; ``rng`` is then not used): the
    exploration picks are the rows with the largest keys ``log(u) / w`` (weighted sampling without
    replacement by exponential keys, Efraimidis and Spirakis 2006; ``w`` = 1 for ``"random"``).
    With the same scores and uniforms, the selection under a larger capacity then contains the
    selection under a smaller one (common random numbers across capacities).
    """
    if not 0.0 <= exploration <= 1.0:
        raise ValueError(f"exploration must be in [0, 1], got {exploration}")
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    k = capacity_count(n, capacity)
    n_explore = int(np.floor(exploration * k + 1e-9))  # never more than the share: small k exploits
    finite = scores if np.isfinite(scores).all() else np.nan_to_num(scores, nan=-np.inf)
    mask = np.zeros(n, dtype=bool)
    mask[first_by_key(-finite, k - n_explore)] = True
    if n_explore:
        rest = np.flatnonzero(~mask)
        if mode == "uncertainty":
            probs = scores if probabilities is None else np.asarray(probabilities, dtype=float)
            p = probs[rest]
            p = np.clip(p if finite is scores and probabilities is None else np.nan_to_num(p, nan=0.5), 0.0, 1.0)
            w = p * (1.0 - p) + 1e-9
        elif mode == "random":
            w = None
        else:
            raise ValueError(f"unknown exploration mode {mode!r}")
        if uniforms is not None:
            with np.errstate(divide="ignore"):
                key = np.log(np.asarray(uniforms, dtype=float)[rest])
            picks = rest[first_by_key(-(key if w is None else key / w), n_explore)]
        else:
            picks = rng.choice(rest, size=n_explore, replace=False, p=None if w is None else w / w.sum())
        mask[picks] = True
    return mask


@dataclass(frozen=True)
class CapacitySelector:
    """A selection policy as configuration: ``capacity``, ``exploration`` share and ``mode``."""

    capacity: int | float
    exploration: float = 0.0
    mode: ExplorationMode = "random"

    def select(self, scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Boolean mask of the declarations to inspect (see :func:`select_for_inspection`)."""
        return select_for_inspection(scores, self.capacity, rng, self.exploration, self.mode)
