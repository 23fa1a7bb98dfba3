"""Per-declaration reasons: the features that pushed a risk up most (exact TreeSHAP).

Contributions come from LightGBM's ``pred_contrib=True`` and are in log-odds units: positive means
"raised the risk". History features are named ``<key>_rate`` (smoothed past hit rate),
``<key>_n`` (earlier declarations) and ``<key>_insp`` (earlier inspections).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from callao.targeting.model import RiskModel


def _format_value(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "missing"
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def top_reasons(model: RiskModel, X: pd.DataFrame, top: int = 3, matrix: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long table ``row, rank, feature, contribution, value`` of each row's ``top`` features by
    positive contribution (log-odds); rows keep the order of ``X`` (``row`` = position).
    ``matrix``: the rows' model matrix when already built (``model.transform(X)``), to skip
    building it again."""
    if matrix is None:
        contrib, F = model.contributions(X)
    else:
        F = matrix.reset_index(drop=True)
        contrib = model.matrix_contributions(F)
    c = contrib.to_numpy()
    top = min(top, c.shape[1])
    idx = np.argsort(-c, axis=1, kind="stable")[:, :top]
    rows = np.repeat(np.arange(len(c)), top)
    cols = idx.ravel()
    names = np.asarray(contrib.columns)[cols]
    values = np.empty(len(rows), dtype=object)
    for j in np.unique(cols):  # one pass per feature column, not per row
        sel = cols == j
        col = F.iloc[:, j]
        values[sel] = col.astype(object).to_numpy()[rows[sel]]
    return pd.DataFrame({
        "row": rows,
        "rank": np.tile(np.arange(1, top + 1), len(c)),
        "feature": names,
        "contribution": c[rows, cols],
        "value": values,
    })


def reasons_text(model: RiskModel, X: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """Wide table with ``reason_1..reason_top`` strings like ``hs6=090111 (+1.23)`` per row."""
    long = top_reasons(model, X, top)
    vals = pd.Series(long["value"]).map(_format_value)
    text = long["feature"] + "=" + vals + " (" + long["contribution"].map("{:+.2f}".format) + ")"
    wide = pd.DataFrame({"row": long["row"], "rank": long["rank"], "text": text}).pivot(index="row", columns="rank", values="text")
    wide.columns = [f"reason_{r}" for r in wide.columns]
    return wide.reindex(range(len(X))).reset_index(drop=True)
