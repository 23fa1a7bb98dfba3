"""The comparison report: one self-contained HTML page for a scenario comparison or sweep.

For each headline KPI (per port as well as in total when a scenario simulates several ports): the
mean with its 95% CI per scenario, the difference from the base with its CI and a zero line, and
the values of every replication; then the full comparison table. Differences whose CI excludes 0
are marked ``*``, or ``~`` when they are smaller than the KPI's practical threshold.
plotly.js is embedded once (no CDN), so the file opens offline.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

HEADLINE_KPIS = (
    "teu_total", "teu_port_*", "anchorage_wait_mean_h", "anchorage_wait_mean_h_*", "berth_occupancy_*", "civil_military_encounters",
    "yard_dwell_import_mean_d", "customs_release_mean_h", "customs_added_dwell_mean_h",
    "gate_wait_mean_h", "closure_hours",
)
HEADLINE_PREFIXES = ("detection_", "seized_", "chancay_", "diverted_", "quay_capacity_teu_total")

LABELS = {
    "teu_total": "Throughput, TEU",
    "anchorage_wait_mean_h": "Anchorage wait (mean), h",
    "civil_military_encounters": "Civil-military encounters",
    "yard_dwell_import_mean_d": "Import dwell (mean), days",
    "customs_release_mean_h": "Customs release (mean), h",
    "customs_added_dwell_mean_h": "Inspection added dwell (mean), h",
    "gate_wait_mean_h": "Gate wait (mean), h",
    "closure_hours": "Port closed, h",
    "quay_capacity_teu_total": "Quay capacity at 80% occupancy, TEU",
    "detection_rate": "Cocaine loads found, share",
    "detection_hits": "Cocaine loads found, boxes",
    "seized_kg": "Cocaine seized, kg",
    "seized_kg_share": "Cocaine seized, share of shipped",
    "diverted_calls": "Calls diverted to another port",
    "diverted_call_share": "Calls diverted, share of those with a choice",
    "diverted_teu": "TEU on diverted calls",
    "vessel_calls_total": "Vessel calls",
}


def headline_kpis(kpis: Iterable[str]) -> list[str]:
    """The headline KPIs among ``kpis``, in report order: the fixed list (``berth_occupancy_*``
    expands to every terminal), then any ``detection_``, ``seized_``, ``chancay_`` or ``diverted_``."""
    available = list(dict.fromkeys(kpis))
    out: list[str] = []
    for key in HEADLINE_KPIS:
        if key.endswith("*"):
            out += [k for k in available if k.startswith(key[:-1])]
        elif key in available:
            out.append(key)
    out += [k for k in available if k.startswith(HEADLINE_PREFIXES) and k not in out]
    return out


PER_PORT_LABELS = (
    ("teu_port_", "Throughput {}, TEU"),
    ("anchorage_wait_mean_h_", "Anchorage wait (mean) {}, h"),
    ("vessel_calls_port_", "Vessel calls {}"),
    ("berth_occupancy_", "Berth occupancy {}, share"),
)


def label(kpi: str) -> str:
    """A readable label for a KPI name."""
    if kpi in LABELS:
        return LABELS[kpi]
    for prefix, text in PER_PORT_LABELS:
        if kpi.startswith(prefix):
            return text.format(kpi.removeprefix(prefix))
    return kpi


def marks(table: pd.DataFrame) -> list[str]:
    """The mark of each row (``*``, ``~`` or empty); tables written before marks existed get
    ``*`` for a significant difference."""
    if "mark" in table:
        return ["" if not isinstance(m, str) else m for m in table["mark"]]
    return ["*" if s else "" for s in table["significant"]]


def fmt(x: float) -> str:
    """A number for tables: thousands separators for large values, 3 significant digits else."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.1f}"
    if a == 0:
        return "0"
    return f"{x:.3g}"


def _kpi_figures(kpi: str, table: pd.DataFrame, replications: pd.DataFrame, base: str):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    t = table[table["kpi"] == kpi]
    names = list(t["scenario"])
    alts = t  # the base's own row (0 [0, 0]) keeps the three panels' rows aligned
    has_reps = kpi in replications.columns and len(replications) > 0
    titles = ["mean and 95% CI", f"difference from {base} (95% CI)", "replications"]
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.04, shared_yaxes=True)
    fig.add_trace(go.Scatter(
        x=t["mean"], y=names, mode="markers", marker=dict(size=9, color="#1f77b4"), name="mean",
        error_x=dict(type="data", symmetric=False, array=t["ci_high"] - t["mean"],
                     arrayminus=t["mean"] - t["ci_low"]),
        hovertemplate="%{y}: %{x:.4g}<extra></extra>"), row=1, col=1)
    colours = ["#d62728" if m == "*" else "#ff9f1c" if m == "~" else "#c7c7c7" if n == base else "#7f7f7f"
               for n, m in zip(alts["scenario"], marks(alts))]
    fig.add_trace(go.Scatter(
        x=alts["diff"], y=list(alts["scenario"]), mode="markers", marker=dict(size=9, color=colours),
        name="difference",
        error_x=dict(type="data", symmetric=False, array=alts["diff_ci_high"] - alts["diff"],
                     arrayminus=alts["diff"] - alts["diff_ci_low"]),
        hovertemplate="%{y}: %{x:.4g}<extra></extra>"), row=1, col=2)
    fig.add_vline(x=0, line=dict(color="black", width=1, dash="dot"), row=1, col=2)
    if has_reps:
        for name in names:
            vals = replications.loc[replications["scenario"] == name, kpi]
            fig.add_trace(go.Box(x=vals, name=name, boxpoints="all", jitter=0.4, pointpos=0,
                                 marker=dict(size=4, color="#1f77b4"), line=dict(color="#1f77b4", width=1),
                                 fillcolor="rgba(31,119,180,0.15)", showlegend=False, orientation="h"),
                          row=1, col=3)
    for col in (1, 2, 3):
        fig.update_yaxes(categoryorder="array", categoryarray=names[::-1], row=1, col=col)
    fig.update_layout(title=dict(text=label(kpi) + f" <span style='font-size:12px;color:#666'>({kpi})</span>"),
                      height=140 + 34 * len(names), margin=dict(l=10, r=10, t=70, b=30), showlegend=False,
                      template="plotly_white")
    return fig


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; }
p.note { color: #555; max-width: 60em; }
table.cmp { border-collapse: collapse; font-size: 13px; }
table.cmp th, table.cmp td { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: right; }
table.cmp th:nth-child(-n+2), table.cmp td:nth-child(-n+2) { text-align: left; }
table.cmp tr.sig td { background: #fdf1f1; }
table.cmp tr.small td { background: #fff6e6; }
"""


def _table_html(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for r, m in zip(table.itertuples(index=False), marks(table)):
        cells = []
        for col, v in zip(table.columns, r):
            if col == "significant":
                cells.append("<td>yes</td>" if v else "<td></td>")
            elif isinstance(v, float):
                cells.append(f"<td>{fmt(v)}</td>")
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        cls = {"*": ' class="sig"', "~": ' class="small"'}.get(m, "")
        body.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    return f'<table class="cmp"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def write_comparison_report(table: pd.DataFrame, replications: pd.DataFrame, path: str | Path,
                            title: str = "callao scenario comparison") -> Path:
    """Write the comparison report to ``path`` (atomically) and return the path.

    ``table`` is the comparison table (columns ``scenario, kpi, mean, ci_low, ci_high, diff,
    diff_ci_low, diff_ci_high, significant``; the base is the scenario whose differences are all
    zero, or the first); ``replications`` has one row per scenario and replication with a column
    per KPI (may be empty: the distribution panels are then left out)."""
    from plotly.offline import get_plotlyjs

    from callao.tables import atomic_write

    path = Path(path)
    scenarios = list(dict.fromkeys(table["scenario"]))
    base = scenarios[0] if scenarios else ""
    n_reps = (replications.groupby("scenario").size().to_dict()
              if len(replications) and "scenario" in replications else {})
    sections = []
    for kpi in headline_kpis(table["kpi"]):
        fig = _kpi_figures(kpi, table, replications, base)
        sections.append(fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}))
    reps_text = ", ".join(f"{html.escape(s)}: {n_reps.get(s, '?')}" for s in scenarios)
    ports = sorted({k.removeprefix("teu_port_") for k in table["kpi"] if k.startswith("teu_port_")})
    ports_note = (f"Several ports are simulated ({html.escape(', '.join(ports))}): throughput and anchorage "
                  "wait are shown for each port as well as in total (the total sums or mixes the ports); a "
                  "scenario with one port has that port's figures equal to its totals." if ports else "")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<h1>{html.escape(title)}</h1>
<p class="note">Base scenario: <b>{html.escape(base)}</b>. Replications per scenario: {reps_text}.
Means with 95% Student-t confidence intervals across replications. Differences are from the base,
paired by replication (common random numbers: replication <i>i</i> of every scenario uses the same
seed). A difference whose 95% interval excludes zero is marked <b>*</b> (red) when it is at least
the KPI's practical threshold (column <i>threshold</i>: 0.5 h for waits, 1 percentage point for
shares such as berth occupancy, 0.25 d for dwell, 1% of the base for throughput and counts) and
<b>~</b> (orange) when it is smaller: statistically real, practically nothing.
{ports_note}</p>
<h2>Headline KPIs</h2>
{''.join(sections) or '<p>No headline KPI in this comparison.</p>'}
<h2>All KPIs</h2>
{_table_html(table)}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: p.write_text(page, encoding="utf-8"))
    return path
