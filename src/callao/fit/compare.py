"""Model vs data: replications of a (fitted) scenario over the observed period against the
observed calls — calls a week, anchorage wait (mean, p50, p90), berth time, berth occupancy per
terminal, the share skipping the anchorage — with 95% intervals, two-sample Kolmogorov–Smirnov
statistics and QQ plots.

Every figure is computed by one function (:func:`metrics`) on calls tables: the observed one and
each replication's (:func:`~callao.ingest.calls.calls_from_vessels`), so both sides are measured
the same way. For each figure the table gives the replications' mean with its 95% confidence
interval and the 95% *prediction* interval of one period (mean ± t·sd·√(1 + 1/R), cut at 0): the
data are one period, so the data's figure is consistent with the model when it lies within the
latter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from callao.ingest.calls import calls_from_vessels, conform, utc_to_hours
from callao.scenario import Scenario

SKIP_WAIT_H = 1.0


def metrics(calls: pd.DataFrame, scenario: Scenario, start: pd.Timestamp, end: pd.Timestamp) -> dict[str, float]:
    """The compared figures of one calls table over [start, end) (calls by arrival time)."""
    c = conform(calls)
    t = pd.to_datetime(c["t_arrival"], utc=True)
    c = c[(t >= start) & (t < end)]
    hours = (end - start).total_seconds() / 3600.0
    weeks = hours / 168.0
    berth_h = utc_to_hours(c["t_unberth"], start) - utc_to_hours(c["t_berth"], start)
    wait = c["anchorage_wait_h"].to_numpy(float)
    out = {"calls_per_week": len(c) / weeks,
           "anchorage_wait_mean_h": _nanmean(wait),
           "anchorage_wait_p50_h": _nanpct(wait, 50),
           "anchorage_wait_p90_h": _nanpct(wait, 90),
           "berth_time_mean_h": _nanmean(berth_h),
           "skip_anchorage_share": float(np.mean(wait[np.isfinite(wait)] < SKIP_WAIT_H)) if np.isfinite(wait).any() else np.nan}
    tb = np.clip(utc_to_hours(c["t_berth"], start), 0, hours)
    tu = np.clip(utc_to_hours(c["t_unberth"], start), 0, hours)
    for term in scenario.terminals:
        at = (c["terminal"] == term.name).to_numpy(bool)
        out[f"calls_per_week_{term.name}"] = float(at.sum()) / weeks
        out[f"anchorage_wait_mean_h_{term.name}"] = _nanmean(wait[at])
        length = np.minimum(c["loa_m"].to_numpy(float)[at] + term.berth_clearance_m, term.quay_length_m)
        span = np.nan_to_num(tu[at] - tb[at], nan=0.0)
        out[f"berth_occupancy_{term.name}"] = float((length * span).sum() / (term.quay_length_m * hours))
    return out


def _nanmean(x) -> float:
    x = np.asarray(x, float)
    return float(x[np.isfinite(x)].mean()) if np.isfinite(x).any() else float("nan")


def _nanpct(x, q) -> float:
    x = np.asarray(x, float)
    return float(np.percentile(x[np.isfinite(x)], q)) if np.isfinite(x).any() else float("nan")


LABELS = {
    "calls_per_week": "Calls a week", "anchorage_wait_mean_h": "Anchorage wait, mean (h)",
    "anchorage_wait_p50_h": "Anchorage wait, p50 (h)", "anchorage_wait_p90_h": "Anchorage wait, p90 (h)",
    "berth_time_mean_h": "Berth time, mean (h)", "skip_anchorage_share": "Share skipping the anchorage",
}


def label(key: str) -> str:
    for k, v in LABELS.items():
        if key == k:
            return v
    for prefix, text in (("calls_per_week_", "Calls a week"), ("anchorage_wait_mean_h_", "Anchorage wait, mean (h)"),
                         ("berth_occupancy_", "Berth occupancy")):
        if key.startswith(prefix):
            return f"{text}, {key.removeprefix(prefix)}"
    return key


@dataclass
class Comparison:
    """Model vs data: the figure table, KS statistics and the pooled samples for QQ plots."""

    table: pd.DataFrame
    ks: pd.DataFrame
    data_wait: np.ndarray
    model_wait: np.ndarray
    data_berth: np.ndarray
    model_berth: np.ndarray
    replications: int
    scenario: Scenario


def model_vs_data(scenario: Scenario, calls: pd.DataFrame, replications: int = 10, seed: int = 0,
                  progress=None) -> Comparison:
    """Run ``replications`` of ``scenario`` (vessels only) over the observed period and compare."""
    import callao
    from callao.fit.calibrate import period

    if replications < 2:
        raise ValueError(f"replications = {replications}: expected at least 2")
    start, end = period(conform(calls))
    years = (end - start).total_seconds() / 3600.0 / 8760.0
    from callao.scenario import merge, validate

    sc = validate(merge(scenario.model_dump(by_alias=True),
                        {"simulation": {"containers": False, "years": years,
                                        "start_utc": start.to_pydatetime()}}), scenario.name)
    data = metrics(calls, sc, start, end)
    rows, waits, berths = [], [], []
    for i, ss in enumerate(np.random.SeedSequence(seed).spawn(replications)):
        run = callao.simulate(sc, seed=ss)
        mc = calls_from_vessels(run.vessels, start)
        rows.append(metrics(mc, sc, start, end))
        waits.append(mc["anchorage_wait_h"].to_numpy(float))
        berths.append(utc_to_hours(mc["t_unberth"], start) - utc_to_hours(mc["t_berth"], start))
        if progress:
            progress(i + 1, replications)
    reps = pd.DataFrame(rows)
    t = stats.t.ppf(0.975, replications - 1)
    table = []
    for key, value in data.items():
        x = reps[key].to_numpy(float)
        x = x[np.isfinite(x)]
        m, sd = (x.mean(), x.std(ddof=1)) if x.size > 1 else (np.nan, np.nan)
        ci, pi = t * sd / np.sqrt(max(x.size, 1)), t * sd * np.sqrt(1 + 1 / max(x.size, 1))
        table.append({"figure": key, "label": label(key), "data": value, "model_mean": m,
                      "ci_low": max(m - ci, 0.0), "ci_high": m + ci, "pi_low": max(m - pi, 0.0), "pi_high": m + pi,
                      "data_within_pi": bool(m - pi <= value <= m + pi) if np.isfinite(value) else False})
    d_wait = conform(calls)["anchorage_wait_h"].to_numpy(float)
    d_berth = utc_to_hours(calls["t_unberth"], start) - utc_to_hours(calls["t_berth"], start)
    m_wait, m_berth = np.concatenate(waits), np.concatenate(berths)
    ks = []
    for name, a, b in (("anchorage wait (h)", d_wait, m_wait), ("berth time (h)", d_berth, m_berth)):
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        r = stats.ks_2samp(a, b)
        ks.append({"distribution": name, "ks_statistic": float(r.statistic), "p_value": float(r.pvalue),
                   "n_data": int(a.size), "n_model": int(b.size)})
    return Comparison(pd.DataFrame(table), pd.DataFrame(ks), _finite(d_wait), _finite(m_wait),
                      _finite(d_berth), _finite(m_berth), replications, sc)


def _finite(x: np.ndarray) -> np.ndarray:
    return x[np.isfinite(x)]


def qq_figure(data: np.ndarray, model: np.ndarray, what: str):
    """QQ plot: quantiles of the data against the same quantiles of the model, with the diagonal."""
    import plotly.graph_objects as go

    q = np.linspace(0.01, 0.99, 99)
    dq, mq = np.quantile(data, q), np.quantile(model, q)
    top = float(max(dq.max(), mq.max())) * 1.05
    fig = go.Figure([
        go.Scatter(x=[0, top], y=[0, top], mode="lines", line=dict(color="#9aa5b1", dash="dash"), name="y = x"),
        go.Scatter(x=mq, y=dq, mode="markers", marker=dict(color="#1f6fb2", size=6), name="percentiles 1..99",
                   text=[f"p{int(round(p * 100))}" for p in q],
                   hovertemplate="%{text}: model %{x:.1f} h, data %{y:.1f} h<extra></extra>"),
    ])
    fig.update_layout(title=f"QQ plot: {what}", xaxis_title=f"model {what}", yaxis_title=f"data {what}",
                      height=420, margin=dict(l=60, r=20, t=50, b=50), template="plotly_white")
    return fig


def write_html(comparison: Comparison, path: str | Path, title: str, intro: str, fitted: pd.DataFrame | None = None) -> Path:
    """The comparison as one self-contained HTML page (plotly embedded, works offline)."""
    from callao.fit.page import write_page

    c = comparison
    blocks: list = [f"<p>{intro}</p>", "<h2>Model vs data</h2>",
                    f"<p class='caption'>Model: {c.replications} replications of {c.scenario.name} over the "
                    "observed period. CI: 95% confidence interval of the model's mean; PI: 95% prediction interval "
                    "of one period, which the data's figure should lie in.</p>",
                    _table(c.table[["label", "data", "model_mean", "ci_low", "ci_high", "pi_low", "pi_high", "data_within_pi"]]),
                    "<h2>Distributions</h2>", _table(c.ks),
                    qq_figure(c.data_wait, c.model_wait, "anchorage wait (h)"),
                    qq_figure(c.data_berth, c.model_berth, "berth time (h)")]
    if fitted is not None:
        blocks += ["<h2>Fitted numbers</h2>", _table(fitted)]
    return write_page(path, title, blocks)


def _table(df: pd.DataFrame) -> str:
    def fmt(x):
        if isinstance(x, (bool, np.bool_)):
            return "yes" if x else "<b>no</b>"
        if isinstance(x, (float, np.floating)):
            return "–" if not np.isfinite(x) else f"{x:,.3g}" if abs(x) < 10 else f"{x:,.1f}"
        return str(x)
    head = "".join(f"<th>{c}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in row) + "</tr>" for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
