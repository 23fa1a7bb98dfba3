"""Independent random streams per stage, all derived from one seed.

Each stage (and each item within a stage, e.g. each liner service) draws from its own
``numpy.random.Generator`` spawned from ``SeedSequence(seed)``, so changing one stage's parameters
leaves every other stage's draws unchanged: common random numbers across scenarios.
"""

from __future__ import annotations

import zlib

import numpy as np


class Streams:
    """``streams("customs")`` or ``streams("arrivals", "AC1")`` → a Generator, the same for the same
    seed and names, independent of every other name."""

    def __init__(self, seed: int | np.random.SeedSequence):
        self.seed_sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)

    def __call__(self, *names: str | int) -> np.random.Generator:
        key = tuple(zlib.crc32(str(n).encode()) for n in names)
        ss = np.random.SeedSequence(self.seed_sequence.entropy, spawn_key=(*self.seed_sequence.spawn_key, *key))
        return np.random.default_rng(ss)
