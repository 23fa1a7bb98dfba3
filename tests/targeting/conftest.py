"""Shared small data sets for the targeting tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

PLANTED_HS = "090111"
PLANTED_COUNTRY = "CO"


def planted_declarations(rng: np.random.Generator, n: int = 6000, days: int = 120) -> pd.DataFrame:
    """Declarations in the callao schema where HS 090111 from CO is illicit with probability 0.7
    and everything else with probability 0.02."""
    hs = rng.choice(["090111", "080440", "070920", "610910", "720449", "260300"], size=n)
    country = rng.choice(["CO", "EC", "CN", "US", "CL"], size=n)
    planted = (hs == PLANTED_HS) & (country == PLANTED_COUNTRY)
    illicit = rng.random(n) < np.where(planted, 0.7, 0.02)
    weight = rng.uniform(5000, 25000, n)
    return pd.DataFrame({
        "declaration_id": [f"D{i:06d}" for i in range(n)],
        "date": pd.Timestamp("2025-01-01") + pd.to_timedelta(np.sort(rng.integers(0, days, n)), unit="D"),
        "exporter_id": np.char.add("E", rng.integers(0, 300, n).astype(str)),
        "importer_id": np.char.add("I", rng.integers(0, 400, n).astype(str)),
        "declarant_id": np.char.add("A", rng.integers(0, 30, n).astype(str)),
        "hs_code": hs,
        "origin_country": country,
        "destination_country": "PE",
        "value_usd": np.round(weight * rng.uniform(1, 5, n), 2),
        "weight_kg": np.round(weight, 1),
        "quantity": rng.integers(1, 1000, n).astype(float),
        "illicit": illicit.astype(float),
        "revenue": np.where(illicit, rng.uniform(1000, 5000, n), 0.0),
    })


@pytest.fixture
def planted() -> pd.DataFrame:
    return planted_declarations(np.random.default_rng(7))


@pytest.fixture
def small_planted() -> pd.DataFrame:
    return planted_declarations(np.random.default_rng(11), n=1500, days=60)
