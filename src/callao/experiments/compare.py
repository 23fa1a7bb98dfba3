"""Comparison statistics: means with 95% CIs and differences from a base scenario.

For every KPI and scenario: the mean across replications with its Student-t confidence interval,
and the difference from the base scenario with its interval. Replications of different scenarios
share seeds (common random numbers), so the difference is *paired* by replication index: the CI
of the mean of ``alt_i - base_i``. When the two scenarios do not have the same replications, the
difference falls back to Welch's unpaired interval. ``significant`` means the difference's
interval excludes zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from callao.experiments.replications import kpi_columns
from callao.tables import atomic_write
from callao.validation import mean_ci

COLUMNS = ["scenario", "kpi", "mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high", "significant"]
"""Columns of the comparison table (``comparison.csv``), in order."""

NAN = float("nan")


def paired_diff_ci(base: np.ndarray, alt: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``alt - base`` (paired element by element) and its Student-t interval."""
    d = np.asarray(alt, float) - np.asarray(base, float)
    if d.size == 0:
        return NAN, NAN, NAN
    return mean_ci(d, level)


def welch_diff_ci(base: np.ndarray, alt: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """``mean(alt) - mean(base)`` and Welch's interval (unequal variances, Satterthwaite df)."""
    a, b = np.asarray(base, float), np.asarray(alt, float)
    if a.size == 0 or b.size == 0:
        return NAN, NAN, NAN
    d = float(b.mean() - a.mean())
    if a.size < 2 or b.size < 2:
        return d, NAN, NAN
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = float(np.sqrt(va + vb))
    if se == 0.0:
        return d, d, d
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    h = float(stats.t.ppf(0.5 + level / 2, df) * se)
    return d, d - h, d + h


def _significant(lo: float, hi: float) -> bool:
    return bool(lo > 0 or hi < 0)  # False when NaN


def compare(replications: pd.DataFrame, base: str, scenarios: Sequence[str] | None = None,
            level: float = 0.95) -> pd.DataFrame:
    """The long comparison table (:data:`COLUMNS`) of a replications frame (one row per scenario and
    replication, KPI columns as from :func:`~callao.experiments.replications.run_replications`).

    ``scenarios`` orders the rows (default: order of appearance, base first). NaN KPI values
    (e.g. a mean over no containers) are left out, pairwise for paired differences."""
    order = list(scenarios) if scenarios is not None else list(dict.fromkeys(replications["scenario"]))
    if base not in order:
        order.insert(0, base)
    if base not in set(replications["scenario"]):
        raise ValueError(f"base scenario {base!r} has no replications")
    by = {name: g.set_index("replication").sort_index() for name, g in replications.groupby("scenario", sort=False)}
    kpis = kpi_columns(replications)
    b = by[base]
    rows = []
    for name in order:
        g = by.get(name)
        if g is None:
            continue
        paired = g.index.equals(b.index)
        for kpi in kpis:
            x = g[kpi]
            if x.isna().all():
                continue  # the KPI does not exist for this scenario
            m, lo, hi = mean_ci(x.dropna().to_numpy(), level)
            if kpi not in b or b[kpi].isna().all():
                d = dlo = dhi = NAN
            elif paired:
                both = pd.concat([b[kpi], x], axis=1, keys=["base", "alt"]).dropna()
                d, dlo, dhi = paired_diff_ci(both["base"].to_numpy(), both["alt"].to_numpy(), level)
            else:
                d, dlo, dhi = welch_diff_ci(b[kpi].dropna().to_numpy(), x.dropna().to_numpy(), level)
            rows.append((name, kpi, m, lo, hi, d, dlo, dhi, _significant(dlo, dhi)))
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["significant"] = table["significant"].astype(bool)
    return table


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV atomically (floats in full precision)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: df.to_csv(p, index=False))
    return path
