"""Plotly figures of the dashboard: the bay map with vessels, the run's KPI plots, the comparison."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from callao.kpis import kpi_info
from callao.results import Results
from callao.web.geo import HOME_PORT, bay, features
from callao.web.positions import active_closures, hull_segments, naval_positions, vessel_positions

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
SHIPS_VIEW = {"lon": (-77.222, -77.128), "lat": (-12.068, -11.998)}
"""Where the home port's ships can be: the anchorage, the channel and the quays (the first view)."""
VIEWS = {"ships": SHIPS_VIEW, "bay": MAIN_VIEW, "harbour": HARBOUR_VIEW}
CHANCAY_VIEW = {"lon": (-77.330, -77.235), "lat": (-11.615, -11.550)}
INSETS = {"chancay": (CHANCAY_VIEW, "Chancay (~70 km north of Lima)")}
"""Ports drawn in the map's inset (a second port of the scenario): view and caption."""
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


@functools.lru_cache(maxsize=16)
def _static_traces(port: str, suffix: str, closed: bool) -> tuple[dict, ...]:
    """The geography of a port as plain trace dicts, built and validated once."""
    return tuple({**t.to_plotly_json(), "showlegend": False} for t in _geography(port, suffix, closed))


def _geography(port: str, suffix: str, closed: bool) -> list[go.Scatter]:
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
    return traces


LABEL_PLACES = {  # kind: (xanchor, yanchor, xshift px, yshift px), away from where ships are drawn
    "quay": ("left", "middle", 16, 0),  # on land: ships berth on the sea side (west)
    "island": ("center", "middle", 0, 0),
    "peninsula": ("center", "top", 0, -4),
    "anchorage": ("center", "bottom", 0, 4),  # above the area, not among the waiting ships
    "naval_base": ("right", "middle", -12, 0),
    "entrance": ("right", "top", -10, -8),  # below-left: clear of the channel line
}
POSITIONS = {"top left": ("right", "bottom"), "top right": ("left", "bottom"), "bottom left": ("right", "top"),
             "bottom right": ("left", "top"), "middle left": ("right", "middle"), "middle right": ("left", "middle"),
             "top center": ("center", "bottom"), "bottom center": ("center", "top"), "middle center": ("center", "middle")}


def _labels(port: str, suffix: str) -> list[dict]:
    """Names on the map as annotations, offset in pixels (the same at every zoom)."""
    out = []
    for f in features(port=port):
        p = f["properties"]
        kind = p.get("kind")
        if kind not in LABEL_PLACES or (kind == "island" and p.get("name") == "El Frontón"):
            continue
        x, y = _ring(f)
        xs, ys = np.asarray(x[:-1] if len(x) > 2 else x, float), np.asarray(y[:-1] if len(y) > 2 else y, float)
        xanchor, yanchor, dx, dy = LABEL_PLACES[kind]
        if "label_position" in p:
            xanchor, yanchor = POSITIONS.get(p["label_position"], (xanchor, yanchor))
        ly = float(ys.max()) if kind == "anchorage" else float(ys.mean())
        out.append(dict(x=float(xs.mean()), y=ly, xref=f"x{suffix}", yref=f"y{suffix}", text=p.get("label", p.get("name", "")),
                        showarrow=False, xanchor=xanchor, yanchor=yanchor, xshift=dx, yshift=dy,
                        font=dict(size=11, color="#222"), name=f"label-{kind}"))
    return out


def _vessel_traces(v: pd.DataFrame, suffix: str, legend: bool, geo=None) -> list[dict]:
    ax = _axes(suffix)
    out = []
    if geo is not None:  # berthed ships drawn to length along the quay, under their markers
        hx, hy = hull_segments(v, geo)
        out.append(dict(type="scatter", x=hx, y=hy, mode="lines", name="hulls", showlegend=False, hoverinfo="skip",
                        line=dict(color="rgba(26,152,80,0.55)", width=7), uid=f"hulls{suffix}", **ax))
    groups = {"waiting": v["state"] == "waiting", "channel": v["state"].isin(["inbound", "outbound"]),
              "berthed": v["state"] == "berthed"}
    for key, mask in groups.items():
        name, colour, symbol = STATE_STYLE[key]
        s = v[mask]
        text = [f"vessel {int(i)} · {c}<br>{st} · {t}" for i, c, st, t in zip(
            s["vessel_id"], s.get("vessel_class", pd.Series([""] * len(s))), s["state"], s["terminal"])]
        size = np.clip(s["loa_m"].to_numpy(float) / 30.0, 7, 14).tolist() if "loa_m" in s else 9
        out.append(dict(type="scatter", x=s["lon"].astype(float).tolist(), y=s["lat"].astype(float).tolist(),
                        mode="markers", name=name, legendgroup=key, showlegend=legend, text=text, hoverinfo="text",
                        customdata=s["vessel_id"].astype(int).tolist(),
                        marker=dict(color=colour, symbol=symbol, size=size, line=dict(color="white", width=1)),
                        uid=f"vessels-{key}{suffix}", **ax))
    return out


def map_figure(run: Results | None, t: float, view: str = "ships") -> go.Figure:
    """The bay at time ``t`` (hours): geography, vessels by state, naval movements, closures.
    ``view``: "ships" (anchorage to quays: every ship), "bay" (the whole bay) or "harbour"
    (zoomed on the terminals). Drawn at every tick of the time slider, so it is assembled from
    plain dicts (the geography built once) without plotly's validation."""
    ports = run.scenario.port_names if run is not None else [HOME_PORT]
    main = ports[0]
    inset = next((p for p in ports[1:] if p in INSETS), None)
    closures = active_closures(run.closures, t) if run is not None else pd.DataFrame(columns=["port"])
    closed = set(closures["port"].astype(str)) if len(closures) else set()
    data: list[dict] = list(_static_traces(main, "", main in closed))
    if inset:
        data += _static_traces(inset, "2", inset in closed)
    if run is not None:
        geo = bay(geometry_key(run))
        pos = vessel_positions(run.vessels, t, geo)
        nav = naval_positions(run.naval, t, geo)
    else:
        pos = pd.DataFrame(columns=["vessel_id", "state", "lon", "lat", "terminal", "port"])
        nav = pd.DataFrame(columns=["port", "lon", "lat", "start_h", "end_h"])
    in_inset = pos["port"] == inset
    data += _vessel_traces(pos[~in_inset], "", False, geo if run is not None else None)
    name, colour, symbol = NAVAL_STYLE
    for suffix, sel in (("", nav["port"] != inset), ("2", nav["port"] == inset)):
        if suffix == "2" and not inset:
            continue
        n = nav[sel]
        data.append(dict(type="scatter", x=n["lon"].astype(float).tolist(), y=n["lat"].astype(float).tolist(),
                         mode="markers", name=name, legendgroup="naval", showlegend=False, hoverinfo="text",
                         text=[f"naval movement {a:.1f}–{b:.1f} h" for a, b in zip(n["start_h"], n["end_h"])],
                         marker=dict(color=colour, symbol=symbol, size=15, line=dict(color="#f1c40f", width=2)),
                         uid=f"naval{suffix}", **_axes(suffix)))
    if inset:
        data += _vessel_traces(pos[in_inset], "2", False, geo if run is not None else None)
    cos = math.cos(math.radians(12.05))
    layout = dict(
        margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor=SEA, paper_bgcolor="white", height=620,
        hovermode="closest", uirevision=view, showlegend=False,
        xaxis=dict(range=list(VIEWS.get(view, MAIN_VIEW)["lon"]), showgrid=False, zeroline=False, ticksuffix="°", title=None,
                   constrain="domain", domain=[0, 0.72] if inset else [0, 1]),
        yaxis=dict(range=list(VIEWS.get(view, MAIN_VIEW)["lat"]), showgrid=False, zeroline=False, ticksuffix="°", title=None,
                   scaleanchor="x", scaleratio=1 / cos, constrain="domain"),
    )
    title = f"Callao bay at hour {t:,.1f} (day {t / 24:,.1f})"
    if closed:
        title += "  —  <span style='color:#c0392b'><b>PORT CLOSED: " + ", ".join(sorted(closed)) + "</b></span>"
    layout["title"] = dict(text=title, x=0.01, font=dict(size=15))
    annotations = _labels(main, "") + (_labels(inset, "2") if inset else [])
    if inset:
        inset_view, caption = INSETS[inset]
        cos2 = math.cos(math.radians(-sum(inset_view["lat"]) / 2))
        layout.update(
            xaxis2=dict(range=list(inset_view["lon"]), domain=[0.75, 1.0], anchor="y2", showgrid=False,
                        zeroline=False, showticklabels=False, mirror=True, showline=True, linecolor="#333",
                        constrain="domain"),
            yaxis2=dict(range=list(inset_view["lat"]), domain=[0.42, 1.0], anchor="x2", showgrid=False,
                        zeroline=False, showticklabels=False, mirror=True, showline=True, linecolor="#333",
                        scaleanchor="x2", scaleratio=1 / cos2, constrain="domain"),
        )
        annotations.append(dict(text=caption, xref="x2 domain", yref="y2 domain", x=0.02,
                                y=0.98, showarrow=False, xanchor="left", yanchor="top", font=dict(size=11),
                                bgcolor="rgba(255,255,255,0.8)"))
    layout["annotations"] = annotations
    return go.Figure(data=data, layout=layout, _validate=False)


# --- helpers -----------------------------------------------------------------------------------

def empty_figure(title: str, message: str) -> go.Figure:
    """A figure with only a message (no run, or a run that cannot be read)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=14)), height=330, plot_bgcolor="white",
                      margin=dict(l=55, r=15, t=40, b=60))
    return fig


def geometry_key(r: Results) -> tuple[tuple, ...]:
    """The scenario's terminals as :func:`callao.web.geo.bay` takes them."""
    return tuple((t.name, t.port, t.quay_length_m, t.lon, t.lat) for t in r.scenario.terminals)


def end_h(r: Results) -> float:
    """Last hour anything happens (calls arriving before the horizon finish after it)."""
    d = r.vessels["t_depart"].to_numpy(float)
    d = d[np.isfinite(d)]
    return float(max(r.horizon_h, d.max())) if d.size else r.horizon_h


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
                        subplot_titles=[s for k in kpis for s in (f"{kpi_info(k).title}: mean, 95% CI",
                                                                         f"difference from {base}")])
    colours = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(scenarios)}
    for r, k in enumerate(kpis, start=1):
        d = df[df["kpi"] == k].set_index("scenario").reindex(scenarios)
        scale = 100.0 if kpi_info(k).share else 1.0  # shares in per cent, as on the cards
        mean = d["mean"].to_numpy(float) * scale
        lo = d["ci_low"].to_numpy(float) * scale if "ci_low" in d else mean
        hi = d["ci_high"].to_numpy(float) * scale if "ci_high" in d else mean
        fig.add_trace(go.Scatter(
            x=mean, y=scenarios, mode="markers", showlegend=False, name=k,
            marker=dict(size=10, color=[colours[s] for s in scenarios]),
            error_x=dict(type="data", symmetric=False, array=np.nan_to_num(hi - mean),
                         arrayminus=np.nan_to_num(mean - lo), thickness=2, width=6, color="#555"),
            hovertemplate="%{y}: %{x:.4g}<extra>" + k + "</extra>"), row=r, col=1)
        alt = [s for s in scenarios if s != base]
        if alt and "diff" in d:
            dd = d.loc[alt]
            diff = dd["diff"].to_numpy(float) * scale
            dlo = dd["diff_ci_low"].to_numpy(float) * scale if "diff_ci_low" in dd else diff
            dhi = dd["diff_ci_high"].to_numpy(float) * scale if "diff_ci_high" in dd else diff
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
