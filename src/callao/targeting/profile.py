"""The rule-based customs profile, the one rule the twin's customs stage (policy ``profile``) and
the synthetic data's watching customs both apply: a container is weighted ×3 when bound for
Europe, ×2 when it declares a good used to conceal cocaine in the seizure record (facts §6), ×2
when its exporter is new (fewer than :data:`NEW_EXPORTER_SHIPMENTS` earlier shipments, or a front
company where that is known)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from callao.targeting.reference import DRIFT_PORT, PORTS

CONCEALMENT_GOODS = frozenset({"fresh asparagus", "canned asparagus", "coffee", "avocado", "passion-fruit juice",
                               "scrap metal", "canned mackerel"})
"""Goods cocaine has been found in at Callao (facts §6)."""

EUROPE_PORTS = frozenset(p.locode for p in (*PORTS, DRIFT_PORT) if p.region == "europe")
EUROPE_COUNTRIES = frozenset(p.country for p in (*PORTS, DRIFT_PORT) if p.region == "europe")
NEW_EXPORTER_SHIPMENTS = 5
"""An exporter with fewer earlier shipments than this is new."""


def profile_weight(europe_bound: np.ndarray, concealment_good: np.ndarray, new_exporter: np.ndarray) -> np.ndarray:
    """The profile's weight per container (1 to 12) from its three flags."""
    return (np.where(np.asarray(europe_bound, bool), 3.0, 1.0) * np.where(np.asarray(concealment_good, bool), 2.0, 1.0)
            * np.where(np.asarray(new_exporter, bool), 2.0, 1.0))


def profile_score(decl: pd.DataFrame, prior_shipments: np.ndarray) -> np.ndarray:
    """The profile's weight of each export declaration (``destination_port`` UN/LOCODE,
    ``commodity``), given each exporter's earlier shipments."""
    return profile_weight(pd.Series(decl["destination_port"]).astype(str).isin(EUROPE_PORTS).to_numpy(),
                          pd.Series(decl["commodity"]).astype(str).isin(CONCEALMENT_GOODS).to_numpy(),
                          np.asarray(prior_shipments) < NEW_EXPORTER_SHIPMENTS)
