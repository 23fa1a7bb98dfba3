"""Plotly figures of the dashboard: the bay map with vessels, the run's KPI plots, the comparison."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from callao.tables import hourly_mean
from callao.web.geo import HOME_PORT, bay, features
from callao.web.positions import active_closures, hull_segments, naval_positions, vessel_positions
from callao.web.store import RunData

SEA = "#d6e9f5"
LAND = "#efe6d2"
STATE_STYLE = {  # state: (legend name, colour, symbol)
    "waiting": ("waiting at anchorage", "#e8890c", "circle"),
    "channel": ("in channel", "#1f6fd1", "triangle-up"),
    "berthed": ("at berth", "#1a9850", "square"),
}
NAVAL_STYLE = ("naval movement", "#222222", "diamond-wide")
MAIN_VIEW = {"lon": (-77.262, -77.100), "lat": (-12.118, -11.998)}
HARBOUR_VIEW = {"lon": (-77.180, -77.132), "lat": (-12.070, -12.030)}
VIEWS = {"bay": MAIN_VIEW, "harbour": HARBOUR_VIEW}
CHANCAY_VIEW = {"lon": (-77.330, -77.235), "lat": (-11.615, -11.550)}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def _ring(f: dict) -> tuple[list, list]:
    g = f["geometry"]
    if g["type"] == "Polygon":
        coords = g["coordinates"][0]
    elif g["type"] == "LineString":
        coords = g["coordinates"]
    else:
        coords = [g["coordinates"]]
    return [c[0] for c in coords], [c[1] for c in coords]


def _axes(suffix: str) -> dict:
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def _static_traces(port: str, suffix: str, closed: bool) -> list[go.Scatter]:
    ax = _axes(suffix)
    traces: list[go.Scatter] = []
    style = {
        "land": dict(fill="toself", fillcolor=LAND, line=dict(color="#b9a77f", width=1)),
        "peninsula": dict(fill="toself", fillcolor=LAND, line=dict(color="#b9a77f", width=1)),
        "island": dict(fill="toself", fillcolor="#e4d9bd", line=dict(color="#a8956b", width=1)),
        "terminal": dict(fill="toself", fillcolor="#c9c9c9", line=dict(color="#8a8a8a", width=1)),
        "naval_base": dict(fill="toself", fillcolor="rgba(90,70,140,0.35)", line=dict(color="#5a468c", width=1.5)),
        "anchorage": dict(fill="toself", fillcolor="rgba(232,137,12,0.10)",
                          line=dict(color="#e8890c", width=1.5, dash="dot")),
        "breakwater": dict(line=dict(color="#555555", width=3)),
        "quay": dict(line=dict(color="#111111", width=5)),
        "channel": dict(line=dict(color="#c0392b" if closed else "#1f6fd1", width=3, dash="dash")),
    }
    order = ["land", "peninsula", "island", "terminal", "naval_base", "anchorage", "breakwater", "channel", "quay"]
    feats = [f for f in features(port=port) if f["properties"].get("kind") in style]
    feats.sort(key=lambda f: order.index(f["properties"]["kind"]))
    for f in feats:
        p = f["properties"]
        x, y = _ring(f)
        name = p.get("name", p["kind"])
        hover = name + (f"<br>{p['note']}" if p.get("note") else "")
        traces.append(go.Scatter(x=x, y=y, mode="lines", name=name, showlegend=False, hoverinfo="text",
                                 hovertext=hover, hoveron="fills+points" if "fill" in style[p["kind"]] else "points",
                                 **style[p["kind"]], **ax))
    # labels as SVG text
    pos = {"quay": "middle right", "island": "middle center", "peninsula": "bottom center",
           "anchorage": "top center", "naval_base": "middle left", "entrance": "top left", "port": "middle right"}
    labels = []
    for f in features(port=port):
        p = f["properties"]
        if p.get("kind") not in ("quay", "island", "peninsula", "anchorage", "naval_base", "entrance", "port"):
            continue
        if p.get("kind") == "port":
            continue
        if p.get("kind") == "island" and p.get("name") == "El Frontón":
            continue
        x, y = _ring(f)
        labels.append((p.get("label_position", pos[p["kind"]]), p.get("label", p.get("name", "")), float(np.mean(x[:-1] if len(x) > 2 else x)),
                       float(np.mean(y[:-1] if len(y) > 2 else y))))
    nudge = {"middle right": 0.0035, "middle left": -0.004}
    if labels:
        traces.append(go.Scatter(
            x=[lx + nudge.get(k, 0.0) for k, _, lx, _ in labels], y=[ly for *_, ly in labels],
            mode="text", text=[n for _, n, _, _ in labels], textposition=[k for k, *_ in labels],
            textfont=dict(size=11, color="#222"), hoverinfo="skip", showlegend=False, name="labels", **ax))
    return traces


def _vessel_traces(v: pd.DataFrame, suffix: str, legend: bool, geo=None) -> list[go.Scatter]:
    ax = _axes(suffix)
    out = []
    if geo is not None:  # berthed ships drawn to length along the quay, under their markers
        hx, hy = hull_segments(v, geo)
        out.append(go.Scatter(x=hx, y=hy, mode="lines", name="hulls", showlegend=False, hoverinfo="skip",
                              line=dict(color="rgba(26,152,80,0.55)", width=7), uid=f"hulls{suffix}", **ax))
    groups = {"waiting": v["state"] == "waiting", "channel": v["state"].isin(["inbound", "outbound"]),
              "berthed": v["state"] == "berthed"}
    for key, mask in groups.items():
        name, colour, symbol = STATE_STYLE[key]
        s = v[mask]
        text = [f"vessel {int(i)} · {c}<br>{st} · {t}" for i, c, st, t in zip(
            s["vessel_id"], s.get("vessel_class", pd.Series([""] * len(s))), s["state"], s["terminal"])]
        size = np.clip(s["loa_m"].to_numpy(float) / 30.0, 7, 14) if "loa_m" in s else 9
        out.append(go.Scatter(x=s["lon"].astype(float).tolist(), y=s["lat"].astype(float).tolist(), mode="markers", name=name, legendgroup=key,
                              showlegend=legend, text=text, hoverinfo="text",
                              customdata=s["vessel_id"].astype(int).tolist(),
                              marker=dict(color=colour, symbol=symbol, size=size,
                                          line=dict(color="white", width=1)), uid=f"vessels-{key}{suffix}", **ax))
    return out


def map_figure(run: RunData | None, t: float, view: str = "bay") -> go.Figure:
    """The bay at time ``t`` (hours): geography, vessels by state, naval movements, closures.
    ``view``: "bay" (the whole bay) or "harbour" (zoomed on the terminals)."""
    fig = go.Figure()
    ports = run.ports if run is not None else [HOME_PORT]
    show_chancay = "chancay" in ports
    closures = active_closures(run.closures, t) if run is not None else pd.DataFrame(columns=["port"])
    closed = set(closures["port"].astype(str)) if len(closures) else set()
    for tr in _static_traces(HOME_PORT, "", HOME_PORT in closed):
        fig.add_trace(tr)
    if show_chancay:
        for tr in _static_traces("chancay", "2", "chancay" in closed):
            fig.add_trace(tr)
    if run is not None:
        geo = bay(run.geometry_key())
        pos = vessel_positions(run.vessels, t, geo)
        nav = naval_positions(run.naval, t, geo)
    else:
        pos = pd.DataFrame(columns=["vessel_id", "state", "lon", "lat", "terminal", "port"])
        nav = pd.DataFrame(columns=["port", "lon", "lat", "start_h", "end_h"])
    home = pos["port"] != "chancay"
    for tr in _vessel_traces(pos[home], "", True, geo if run is not None else None):
        fig.add_trace(tr)
    name, colour, symbol = NAVAL_STYLE
    for suffix, sel in (("", nav["port"] != "chancay"), ("2", nav["port"] == "chancay")):
        if suffix == "2" and not show_chancay:
            continue
        n = nav[sel]
        fig.add_trace(go.Scatter(x=n["lon"].astype(float).tolist(), y=n["lat"].astype(float).tolist(),
                                 mode="markers", name=name, legendgroup="naval",
                                 showlegend=suffix == "", hoverinfo="text",
                                 text=[f"naval movement {a:.1f}–{b:.1f} h" for a, b in zip(n["start_h"], n["end_h"])],
                                 marker=dict(color=colour, symbol=symbol, size=15, line=dict(color="#f1c40f", width=2)),
                                 uid=f"naval{suffix}", **_axes(suffix)))
    fig.update_traces(showlegend=False)
    if show_chancay:
        for tr in _vessel_traces(pos[~home], "2", False, geo if run is not None else None):
            fig.add_trace(tr)
    cos = math.cos(math.radians(12.05))
    layout = dict(
        margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor=SEA, paper_bgcolor="white", height=620,
        hovermode="closest", uirevision=view, showlegend=False,
        xaxis=dict(range=list(VIEWS.get(view, MAIN_VIEW)["lon"]), showgrid=False, zeroline=False, ticksuffix="°", title=None,
                   constrain="domain", domain=[0, 0.72] if show_chancay else [0, 1]),
        yaxis=dict(range=list(VIEWS.get(view, MAIN_VIEW)["lat"]), showgrid=False, zeroline=False, ticksuffix="°", title=None,
                   scaleanchor="x", scaleratio=1 / cos, constrain="domain"),
    )
    title = f"Callao bay at hour {t:,.1f} (day {t / 24:,.1f})"
    if closed:
        title += "  —  <span style='color:#c0392b'><b>PORT CLOSED: " + ", ".join(sorted(closed)) + "</b></span>"
    layout["title"] = dict(text=title, x=0.01, font=dict(size=15))
    if show_chancay:
        cos2 = math.cos(math.radians(11.58))
        layout.update(
            xaxis2=dict(range=list(CHANCAY_VIEW["lon"]), domain=[0.75, 1.0], anchor="y2", showgrid=False,
                        zeroline=False, showticklabels=False, mirror=True, showline=True, linecolor="#333",
                        constrain="domain"),
            yaxis2=dict(range=list(CHANCAY_VIEW["lat"]), domain=[0.42, 1.0], anchor="x2", showgrid=False,
                        zeroline=False, showticklabels=False, mirror=True, showline=True, linecolor="#333",
                        scaleanchor="x2", scaleratio=1 / cos2, constrain="domain"),
        )
        fig.add_annotation(text="Chancay (~70 km north of Lima)", xref="x2 domain", yref="y2 domain", x=0.02, y=0.98,
                           showarrow=False, xanchor="left", yanchor="top", font=dict(size=11),
                           bgcolor="rgba(255,255,255,0.8)")
    fig.update_layout(**layout)
    return fig


# --- run KPI plots ---------------------------------------------------------------------------

def _bin_hours(horizon_h: float) -> tuple[int, str]:
    """Aggregate hourly series to days beyond three weeks."""
    return (24, "day") if horizon_h > 21 * 24 else (1, "hour")


def _aggregate(series: np.ndarray, width: int, how: str = "mean") -> np.ndarray:
    n = len(series) // width * width
    if width == 1 or n == 0:
        return series
    s = series[:n].reshape(-1, width)
    return s.mean(axis=1) if how == "mean" else s.sum(axis=1)


def _xaxis(width: int, unit: str, n: int) -> np.ndarray:
    return np.arange(n) * (width / 24.0) if unit == "day" else np.arange(n, dtype=float)


def _shade_closures(fig: go.Figure, run: RunData, unit: str) -> None:
    scale = 1 / 24.0 if unit == "day" else 1.0
    for r in run.closures.itertuples(index=False):
        if r.start_h < run.horizon_h:
            fig.add_vrect(x0=r.start_h * scale, x1=min(r.end_h, run.horizon_h) * scale,
                          fillcolor="rgba(192,57,43,0.12)", line_width=0, layer="below")


def _small(fig: go.Figure, title: str, ytitle: str, xunit: str) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=14)), height=330,
                      margin=dict(l=55, r=15, t=40, b=60),
                      legend=dict(orientation="h", y=-0.2, x=0, xanchor="left", yanchor="top", font=dict(size=11)),
                      plot_bgcolor="white", hovermode="x unified")
    fig.update_xaxes(title=None, gridcolor="#eee", ticksuffix=f" {xunit[0]}")
    fig.update_yaxes(title=ytitle, gridcolor="#eee")
    return fig


def empty_figure(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _small(fig, title, "", "hour")


def occupancy_figure(run: RunData) -> go.Figure:
    v, H = run.vessels, run.horizon_h
    n = max(int(math.ceil(H)), 1)
    width, unit = _bin_hours(H)
    fig = go.Figure()
    for i, t in enumerate(run.terminals):
        sel = v[v["terminal"].astype(str) == t["name"]]
        length = float(t.get("quay_length_m", 1000.0))
        share = np.minimum(sel["loa_m"].to_numpy(float) + float(t.get("berth_clearance_m", 0.0)), length) / length
        occ = _aggregate(hourly_mean(sel["t_berth"].to_numpy(float), sel["t_unberth"].to_numpy(float), share, n), width)
        fig.add_trace(go.Scatter(x=_xaxis(width, unit, len(occ)), y=occ * 100, name=t.get("label") or t["name"],
                                 mode="lines", line=dict(color=PALETTE[i % len(PALETTE)], width=1.6)))
    _shade_closures(fig, run, unit)
    return _small(fig, f"Berth occupancy (share of quay length, {unit}ly mean; closures shaded)", "%", unit)


def anchorage_figure(run: RunData) -> go.Figure:
    v, H = run.vessels, run.horizon_h
    n = max(int(math.ceil(H)), 1)
    width, unit = _bin_hours(H)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.68, 0.32], horizontal_spacing=0.1,
                        subplot_titles=("ships waiting", "wait per call (h)"))
    for i, port in enumerate(run.ports):
        sel = v[v["port"].astype(str) == port] if "port" in v else v
        q = _aggregate(hourly_mean(sel["t_arrival"].to_numpy(float), sel["t_channel_in"].to_numpy(float),
                                   np.ones(len(sel)), n), width)
        fig.add_trace(go.Scatter(x=_xaxis(width, unit, len(q)), y=q, name=f"{port} waiting", mode="lines",
                                 line=dict(color=PALETTE[i % len(PALETTE)])), row=1, col=1)
        arrived = sel["t_arrival"].to_numpy(float) < H
        wait = (sel["t_channel_in"] - sel["t_arrival"]).to_numpy(float)[arrived]
        fig.add_trace(go.Histogram(x=wait[np.isfinite(wait)], name=f"{port} wait", nbinsx=30, opacity=0.75,
                                   marker_color=PALETTE[i % len(PALETTE)], showlegend=False), row=1, col=2)
    mean = run.kpis.get("anchorage_wait_mean_h")
    title = "Anchorage waiting" + (f" (mean {mean:.1f} h)" if isinstance(mean, (int, float)) and math.isfinite(mean) else "")
    fig = _small(fig, title, "ships", unit)
    fig.update_xaxes(ticksuffix=" h", row=1, col=2)
    fig.update_yaxes(title="calls", row=1, col=2)
    fig.update_layout(hovermode="closest", barmode="overlay")
    return fig


def yard_figure(run: RunData) -> go.Figure:
    c = run.containers
    if c is None or "t_yard_in" not in c:
        return empty_figure("Yard occupancy vs capacity", "no container table in this run")
    H = run.horizon_h
    n = max(int(math.ceil(H)), 1)
    width, unit = _bin_hours(H)
    fig = go.Figure()
    term = c["terminal"].astype(str).to_numpy()
    for i, t in enumerate(run.terminals):
        m = term == t["name"]
        teu = c["teu"].to_numpy(float)[m] if "teu" in c else np.ones(m.sum())
        y = _aggregate(hourly_mean(c["t_yard_in"].to_numpy(float)[m], c["t_yard_out"].to_numpy(float)[m], teu, n), width)
        colour = PALETTE[i % len(PALETTE)]
        x = _xaxis(width, unit, len(y))
        fig.add_trace(go.Scatter(x=x, y=y, name=f"{t['name']} stock", mode="lines", line=dict(color=colour)))
        cap = t.get("yard_capacity_teu")
        if isinstance(cap, (int, float)) and len(x):
            fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[cap, cap], name=f"{t['name']} capacity", mode="lines",
                                     line=dict(color=colour, dash="dash", width=1)))
    return _small(fig, "Yard stock vs capacity (TEU)", "TEU", unit)


def gate_figure(run: RunData) -> go.Figure:
    c = run.containers
    if c is None or "t_gate" not in c:
        return empty_figure("Gate trucks", "no container table in this run")
    H = run.horizon_h
    width, unit = _bin_hours(H)
    t = c["t_gate"].to_numpy(float)
    t = t[np.isfinite(t) & (t >= 0) & (t < H)]
    counts = np.bincount((t // width).astype(np.int64), minlength=int(math.ceil(H / width)))
    fig = go.Figure(go.Bar(x=np.arange(len(counts)), y=counts, name="trucks", marker_color="#7f8c8d"))
    peak = run.kpis.get("gate_trucks_peak_hour")
    extra = f" (peak hour {peak:,.0f})" if isinstance(peak, (int, float)) else ""
    return _small(fig, f"Trucks at the gates per {unit}{extra}", f"trucks / {unit}", unit)


def inspections_figure(run: RunData) -> go.Figure:
    c = run.containers
    if c is None or "customs_channel" not in c or "t_inspection_start" not in c:
        return empty_figure("Customs inspections", "no inspection data in this run")
    H = run.horizon_h
    width, unit = _bin_hours(H)
    nb = int(math.ceil(H / width))
    ch = c["customs_channel"].astype(str).to_numpy()
    t = c["t_inspection_start"].to_numpy(float)
    ok = np.isfinite(t) & (t >= 0) & (t < H)
    seizures = any(k.startswith(("detection_", "seized_")) for k in run.kpis)
    fig = make_subplots(specs=[[{"secondary_y": True}]]) if seizures else go.Figure()
    for label, key, colour in (("scans (orange channel)", "orange", "#e67e22"),
                               ("physical exams (red channel)", "red", "#c0392b")):
        m = ok & (ch == key)
        counts = np.bincount((t[m] // width).astype(np.int64), minlength=nb)[:nb]
        fig.add_trace(go.Bar(x=np.arange(nb), y=counts, name=label, marker_color=colour))
    title = f"Customs inspections per {unit}"
    if seizures and "found" in c and "contraband_kg" in c:
        found = c["found"].to_numpy(bool) & (c["contraband_kg"].to_numpy(float) > 0) & ok
        kg = np.bincount((t[found] // width).astype(np.int64), weights=c["contraband_kg"].to_numpy(float)[found],
                         minlength=nb)[:nb]
        fig.add_trace(go.Scatter(x=np.arange(nb), y=kg, name="cocaine seized (kg)",
                                 mode="lines" if unit == "day" else "lines+markers",
                                 line=dict(color="#2c3e50")), secondary_y=True)
        fig.update_yaxes(showgrid=False, rangemode="tozero", secondary_y=True)
        hits, kgs = run.kpis.get("detection_hits"), run.kpis.get("seized_kg")
        if isinstance(hits, (int, float)) and isinstance(kgs, (int, float)):
            title += f" — {hits:,.0f} hits, {kgs:,.0f} kg seized"
    fig.update_layout(barmode="stack")
    fig = _small(fig, title, "containers", unit)
    if seizures:
        fig.update_yaxes(title_text="kg seized", secondary_y=True)
    return fig


# --- comparison --------------------------------------------------------------------------------

MAIN_KPIS = ("teu_total", "anchorage_wait_mean_h", "berth_occupancy_dpworld", "berth_occupancy_apmt",
             "turnaround_mean_h", "yard_dwell_import_mean_d", "customs_release_mean_h", "gate_wait_mean_h",
             "civil_military_encounters", "closure_recovery_days_max", "seized_kg", "detection_rate")


def default_kpis(df: pd.DataFrame, n: int = 6) -> list[str]:
    have = list(dict.fromkeys(df["kpi"]))
    main = [k for k in MAIN_KPIS if k in have]
    return (main or have)[:n]


def comparison_figure(df: pd.DataFrame, kpis: list[str]) -> go.Figure:
    """Per KPI: mean with 95% CI per scenario (left), difference from the base with CI (right;
    filled markers where the difference is significant)."""
    scenarios = list(dict.fromkeys(df["scenario"]))
    kpis = [k for k in kpis if k in set(df["kpi"])] or default_kpis(df)
    if not kpis:
        return empty_figure("Comparison", "no KPIs in this comparison")
    base = scenarios[0]
    fig = make_subplots(rows=len(kpis), cols=2, horizontal_spacing=0.16, vertical_spacing=min(0.5 / len(kpis), 0.12),
                        subplot_titles=[s for k in kpis for s in (f"{k}: mean, 95% CI", f"{k}: difference from {base}")])
    colours = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(scenarios)}
    for r, k in enumerate(kpis, start=1):
        d = df[df["kpi"] == k].set_index("scenario").reindex(scenarios)
        mean = d["mean"].to_numpy(float)
        lo = d["ci_low"].to_numpy(float) if "ci_low" in d else mean
        hi = d["ci_high"].to_numpy(float) if "ci_high" in d else mean
        fig.add_trace(go.Scatter(
            x=mean, y=scenarios, mode="markers", showlegend=False, name=k,
            marker=dict(size=10, color=[colours[s] for s in scenarios]),
            error_x=dict(type="data", symmetric=False, array=np.nan_to_num(hi - mean),
                         arrayminus=np.nan_to_num(mean - lo), thickness=2, width=6, color="#555"),
            hovertemplate="%{y}: %{x:.4g}<extra>" + k + "</extra>"), row=r, col=1)
        alt = [s for s in scenarios if s != base]
        if alt and "diff" in d:
            dd = d.loc[alt]
            diff = dd["diff"].to_numpy(float)
            dlo = dd["diff_ci_low"].to_numpy(float) if "diff_ci_low" in dd else diff
            dhi = dd["diff_ci_high"].to_numpy(float) if "diff_ci_high" in dd else diff
            sig = dd["significant"].astype(str).str.lower().isin(["true", "1", "yes"]).to_numpy() \
                if "significant" in dd else np.zeros(len(alt), bool)
            fig.add_trace(go.Scatter(
                x=diff, y=alt, mode="markers", showlegend=False, name=f"{k} diff",
                marker=dict(size=10, color=[colours[s] if g else "white" for s, g in zip(alt, sig)],
                            line=dict(color=[colours[s] for s in alt], width=2)),
                error_x=dict(type="data", symmetric=False, array=np.nan_to_num(dhi - diff),
                             arrayminus=np.nan_to_num(diff - dlo), thickness=2, width=6, color="#555"),
                text=["significant" if g else "not significant" for g in sig],
                hovertemplate="%{y}: %{x:+.4g} (%{text})<extra>" + k + "</extra>"), row=r, col=2)
            fig.add_vline(x=0, line=dict(color="#888", dash="dot"), row=r, col=2)
            ends = np.concatenate([dlo, dhi, diff, [0.0]])
            ends = ends[np.isfinite(ends)]
            lo_x, hi_x = float(ends.min()), float(ends.max())
            pad = 0.08 * (hi_x - lo_x) or 1.0
            fig.update_xaxes(range=[lo_x - pad, hi_x + pad], row=r, col=2)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=max(260, 170 * len(kpis) + 60), margin=dict(l=10, r=20, t=50, b=30),
                      plot_bgcolor="white",
                      title=dict(text=f"Scenario comparison (base: {base}; filled = significant difference)",
                                 x=0.01, font=dict(size=14)))
    fig.update_xaxes(gridcolor="#eee", zeroline=False)
    fig.update_yaxes(automargin=True)
    return fig
