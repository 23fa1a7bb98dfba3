"""Inspection metrics: precision, recall and revenue share at an inspection rate.

At rate ``r`` the top ``k = round(r × n)`` declarations by risk are inspected (at least one, ties
broken by position, i.e. a stable sort). ``precision = hits / k``; ``recall = hits / all illicit``;
``revenue = revenue of the inspected illicit / total revenue`` (a share, 0..1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RATES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10)


def n_inspected(n: int, rate: float) -> int:
    """Number of inspections at ``rate`` among ``n`` declarations (rounded, >= 1 when n > 0)."""
    return 0 if n == 0 else max(1, min(n, int(round(rate * n))))


def top_mask(scores: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` highest scores (stable: earlier rows win ties)."""
    mask = np.zeros(len(scores), dtype=bool)
    mask[np.argsort(-np.asarray(scores, dtype=float), kind="stable")[:k]] = True
    return mask


def inspection_metrics(y: np.ndarray, selected: np.ndarray, revenue: np.ndarray | None = None) -> dict[str, float]:
    """Precision, recall and revenue share of a given selection (boolean mask)."""
    from sklearn.metrics import precision_score, recall_score  # slow to import: only when used

    y = np.nan_to_num(np.asarray(y, dtype=float)).astype(int)
    selected = np.asarray(selected, dtype=bool)
    out = {
        "precision": float(precision_score(y, selected, zero_division=0.0)),
        "recall": float(recall_score(y, selected, zero_division=0.0)),
    }
    if revenue is not None:
        rev = np.nan_to_num(np.asarray(revenue, dtype=float)) * (y == 1)
        total = rev.sum()
        out["revenue"] = float(rev[selected].sum() / total) if total > 0 else 0.0
    return out


def precision_at(y: np.ndarray, scores: np.ndarray, rate: float) -> float:
    """Precision when inspecting the top ``rate`` share by score."""
    return inspection_metrics(y, top_mask(scores, n_inspected(len(y), rate)))["precision"]


def metrics_at_rates(
    y: np.ndarray, scores: np.ndarray, revenue: np.ndarray | None = None, rates: tuple[float, ...] = RATES
) -> pd.DataFrame:
    """Table with one row per inspection rate: ``rate, inspected, precision, recall[, revenue]``."""
    rows = []
    for r in rates:
        k = n_inspected(len(y), r)
        m = inspection_metrics(y, top_mask(scores, k), revenue)
        rows.append({"rate": r, "inspected": k, **m})
    return pd.DataFrame(rows)
