"""Comparison statistics: means with 95% CIs and differences from a base scenario.

For every KPI and scenario: the mean across replications with its Student-t confidence interval,
and the difference from the base scenario with its interval. Replications of different scenarios
share seeds (common random numbers), so the difference is *paired* by replication index: the CI
of the mean of ``alt_i - base_i``. When the two scenarios do not have the same replications, the
difference falls back to Welch's unpaired interval. ``significant`` means the difference's
interval excludes zero; ``threshold`` is the KPI's practical threshold (:func:`practical_threshold`)
and ``mark`` is ``"*"`` for a significant difference at least that large, ``"~"`` for a significant
one below it (statistically real, practically nothing).

When an experiment simulates several ports in some scenario, the totals (``teu_total``,
``anchorage_wait_mean_h``, ...) sum or mix the ports; :func:`with_port_kpis` gives the one-port
scenarios their port's KPIs (``teu_port_callao`` = their ``teu_total``, ...) so that each port's own
figures are compared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from callao.experiments.replications import kpi_columns
from callao.tables import atomic_write
from callao.validation import mean_ci

COLUMNS = ["scenario", "kpi", "mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high", "significant",
           "threshold", "mark"]
"""Columns of the comparison table (``comparison.csv``), in order."""

NAN = float("nan")

SIGNIFICANT, BELOW_THRESHOLD = "*", "~"
"""Marks of a difference whose 95% CI excludes 0: at least the KPI's practical threshold / below it."""

PRACTICAL_THRESHOLDS: tuple[tuple[str, float, str], ...] = (
    (r"(^|_)(occupancy|utilisation|rate|share)(_|$)(?!.*teu)", 0.01, "shares 0-1 (occupancy, utilisation, rates): 1 percentage point"),
    (r"_(mean|p\d+)_h(_|$)", 0.5, "waits and times per vessel or box, hours: 0.5 h"),
    (r"_(mean|p\d+)_d(_|$)|_days_", 0.25, "dwell and recovery times, days: 0.25 d (6 h)"),
    (r"_mph$", 1.0, "productivity, moves per hour: 1 move/h"),
    (r"_vessels$", 0.5, "ships waiting, vessels: 0.5 vessel"),
)
"""Absolute practical thresholds (regex on the KPI name, threshold in the KPI's unit, rule); the
first match wins. Every other KPI (throughput, counts, kg, totals of hours) uses
:data:`RELATIVE_THRESHOLD` of the base scenario's mean."""

RELATIVE_THRESHOLD = 0.01
"""Practical threshold of totals and counts: 1% of the base scenario's mean."""

PORT_KPIS = {"teu_total": "teu_port_{}", "vessel_calls_total": "vessel_calls_port_{}",
             "anchorage_wait_mean_h": "anchorage_wait_mean_h_{}"}
"""Port totals and the per-port KPI that a run with several ports writes for each port."""


def practical_threshold(kpi: str, base_mean: float) -> float:
    """The smallest difference of ``kpi`` a planner would act on, in the KPI's unit (see
    :data:`PRACTICAL_THRESHOLDS`); NaN when it is relative and the base has no mean."""
    for pattern, threshold, _ in PRACTICAL_THRESHOLDS:
        if re.search(pattern, kpi):
            return threshold
    return RELATIVE_THRESHOLD * abs(base_mean) if np.isfinite(base_mean) else NAN


def mark(significant: bool, diff: float, threshold: float) -> str:
    """``"*"`` significant and at least the threshold, ``"~"`` significant but below it, else ``""``."""
    if not significant:
        return ""
    return BELOW_THRESHOLD if np.isfinite(threshold) and abs(diff) < threshold else SIGNIFICANT


def with_port_kpis(replications: pd.DataFrame, ports: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """``replications`` with per-port KPIs for the one-port scenarios, when another scenario has
    several ports: a one-port scenario's ``teu_port_<port>`` is its ``teu_total``, and likewise for
    :data:`PORT_KPIS`. ``ports`` maps scenario name → its port names (home port first)."""
    if not any(len(p) > 1 for p in ports.values()):
        return replications
    out = replications.copy()
    for name, names in ports.items():
        if len(names) != 1:
            continue
        rows = out["scenario"] == name
        for total, per_port in PORT_KPIS.items():
            col = per_port.format(names[0])
            if total not in out:
                continue
            if col not in out:
                out[col] = NAN
            out.loc[rows, col] = out.loc[rows, col].fillna(out.loc[rows, total])
    return out


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
    from scipy import stats  # slow to import: only when an interval is computed

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
    base_means = {k: float(b[k].mean()) if k in b else NAN for k in kpis}
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
            sig = _significant(dlo, dhi)
            threshold = practical_threshold(kpi, base_means[kpi])
            rows.append((name, kpi, m, lo, hi, d, dlo, dhi, sig, threshold, mark(sig, d, threshold)))
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["significant"] = table["significant"].astype(bool)
    return table


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV atomically (floats in full precision)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: df.to_csv(p, index=False))
    return path
