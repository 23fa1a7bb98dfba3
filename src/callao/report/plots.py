"""The report's figures: one function per section, each aggregating with numpy/pandas first
(histograms, daily means) so that a year's 1.7 M containers become a few hundred plotted points.
Container figures read only the run's :class:`~callao.summary.Summary`, never the rows, so the report
of a chunked run is built the same way and its size does not grow with the container count.
Figures are plain plotly data (:mod:`callao.report.figure`), read as they are by the report and the
dashboard; ``plotly.graph_objects.Figure(section.figure)`` gives the object form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from callao.report.figure import Figure, FigureDict, bar, scatter
from callao.results import Results
from callao.scenario import FLOWS
from callao.summary import DWELL_BIN_D, RELEASE_BIN_H

PALETTE = ("#1f6fb2", "#e07b24", "#2a9d5c", "#8e44ad", "#c0392b", "#7f8c8d", "#b8860b", "#17becf")
CHANNEL_COLOURS = (("green", "#2a9d5c"), ("orange", "#f39c12"), ("red", "#c0392b"))
FLOW_LABELS = (("import", "Import"), ("export", "Export"), ("empty_in", "Empty in"),
               ("empty_out", "Empty out"), ("transship", "Transship"))


@dataclass(frozen=True)
class Section:
    """One report section: a slug (the plot div's id is ``plot-<slug>``), a title, a one-line caption
    saying what to read from the figure, and the figure (plain plotly data), or ``None`` with a
    ``note`` saying why."""

    slug: str
    title: str
    caption: str
    figure: FigureDict | None = None
    note: str = ""


def _layout(fig: Figure, x_title: str, y_title: str, height: int = 380) -> Figure:
    titled = any(a.get("text") for a in fig.layout.get("annotations", ()))  # subplot titles sit under the legend
    fig.update_layout(template="plotly_white", height=height, margin=dict(l=60, r=20, t=70 if titled else 45, b=50),
                      legend=dict(orientation="h", yref="container", y=0.995, yanchor="top", xanchor="left", x=0),
                      font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=12),
                      hovermode="closest")
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _daily(hourly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Daily means of an hourly series: (day index, mean); a last partial day is averaged over its hours."""
    hourly = np.asarray(hourly, float)
    days = np.arange(hourly.size) // 24
    if not hourly.size:
        return np.zeros(0), np.zeros(0)
    return np.unique(days), np.bincount(days, weights=hourly) / np.bincount(days)


def _hist(x: np.ndarray, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of ``x`` in ``bins``: (bin centres, counts, bin widths)."""
    counts, edges = np.histogram(x, bins=bins)
    return (edges[:-1] + edges[1:]) / 2, counts, np.diff(edges)


def _bins(x: np.ndarray, n: int = 40, upper: float | None = None) -> np.ndarray:
    """``n`` equal bins from 0 (or the minimum, if negative) to ``upper`` (default: the maximum)."""
    lo = min(float(np.min(x)), 0.0) if x.size else 0.0
    hi = float(np.max(x)) if upper is None and x.size else (upper or 1.0)
    return np.linspace(lo, max(hi, lo + 1e-9), n + 1)


def _finite(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, float)
    return x[np.isfinite(x)]


def berth_occupancy(r: Results) -> Section:
    """Daily mean berth occupancy per terminal, closures shaded."""
    occ = r.berth_occupancy
    fig = Figure()
    for i, t in enumerate(r.scenario.terminals):
        day, mean = _daily(occ[t.name].to_numpy())
        name = t.label or t.name
        weekly = pd.Series(100 * mean).rolling(7, center=True, min_periods=1).mean().to_numpy()
        fig.add_trace(scatter(x=day, y=100 * mean, mode="lines", name=f"{name}, daily", legendgroup=name,
                                 line=dict(color=_colour(i), width=1), opacity=0.35,
                                 hovertemplate="day %{x}: %{y:.0f}%<extra>" + name + "</extra>"))
        fig.add_trace(scatter(x=day, y=weekly, mode="lines", name=f"{name}, 7-day mean", legendgroup=name,
                                 line=dict(color=_colour(i), width=2.5),
                                 hovertemplate="day %{x}: %{y:.0f}% (7-day mean)<extra>" + name + "</extra>"))
    multi_port = len(r.scenario.port_names) > 1
    for start, end, port in _closure_windows(r):
        label = dict(annotation_text=f"{port} closed", annotation_position="top left",
                     annotation_font=dict(size=10, color="#c0392b")) if multi_port else {}
        fig.add_vrect(x0=start / 24, x1=end / 24, fillcolor="#c0392b", opacity=0.2, line_width=0, layer="below",
                      **label)  # no annotation at all with one port (plotly would write "new text")
    _layout(fig, "day of the run", "quay length occupied, %")
    fig.update_yaxes(range=[0, 100])
    return Section("berth-occupancy", "Berth occupancy per terminal",
                   "Share of each quay occupied by berthed ships (thin: daily mean, thick: 7-day mean); red bands "
                   "are port closures. "
                   "Sustained levels above ~70-80% mean ships start queueing at anchor.", fig.to_dict())


def _closure_windows(r: Results) -> list[tuple[float, float, str]]:
    """(start h, end h, port) of the closures that began within the horizon."""
    cl = r.closures
    if cl is None or not len(cl):
        return []
    cl = cl[cl["start_h"] < r.horizon_h]
    ports = cl["port"].astype(str) if "port" in cl.columns else [r.scenario.home_port] * len(cl)
    return [(float(s), float(min(e, r.horizon_h)), p) for s, e, p in zip(cl["start_h"], cl["end_h"], ports)]


def anchorage_wait(r: Results) -> Section:
    """Histogram of anchorage waits per terminal (overlaid), means marked."""
    v = r.vessels[r.vessels["t_arrival"] < r.horizon_h]
    wait = (v["t_channel_in"] - v["t_arrival"]).to_numpy(float)
    ok = np.isfinite(wait)
    fig = Figure()
    bins = _bins(wait[ok], 40)
    for i, t in enumerate(r.scenario.terminals):
        w = wait[ok & (v["terminal"] == t.name).to_numpy()]
        if not w.size:
            continue
        x, n, width = _hist(w, bins)
        name = f"{t.label or t.name} (mean {w.mean():.1f} h)"
        fig.add_trace(bar(x=x, y=n, width=width, name=name, marker_color=_colour(i), opacity=0.6,
                             hovertemplate="%{x:.1f} h: %{y} calls<extra>" + (t.label or t.name) + "</extra>"))
        fig.add_vline(x=float(w.mean()), line=dict(color=_colour(i), dash="dash", width=2))
    fig.update_layout(barmode="overlay", bargap=0)
    _layout(fig, "wait at anchor before entering the channel, hours", "vessel calls")
    mean = float(wait[ok].mean()) if ok.any() else float("nan")
    return Section("anchorage-wait", "Anchorage waiting time",
                   f"How long calls waited at anchor (all calls, mean {mean:.1f} h; dashed lines are "
                   "terminal means). A long right tail means a few ships wait days.", fig.to_dict())


def yard_occupancy(r: Results) -> Section:
    """Daily mean yard TEU per terminal against its capacity."""
    if r.summary is None:
        return _skipped("yard-occupancy", "Yard occupancy vs capacity")
    yard = r.yard_teu
    fig = Figure()
    for i, t in enumerate(r.scenario.terminals):
        day, mean = _daily(yard[t.name].to_numpy())
        name = t.label or t.name
        fig.add_trace(scatter(x=day, y=mean, mode="lines", name=name, line=dict(color=_colour(i), width=2),
                                 hovertemplate="day %{x}: %{y:,.0f} TEU<extra>" + name + "</extra>"))
        fig.add_trace(scatter(x=[0, max(r.horizon_h / 24, 1)], y=[t.yard_capacity_teu] * 2, mode="lines",
                                 name=f"{name} capacity", line=dict(color=_colour(i), dash="dash", width=1.5),
                                 hovertemplate="capacity %{y:,.0f} TEU<extra></extra>"))
    _layout(fig, "day of the run", "boxes in the yard, TEU")
    fig.update_yaxes(rangemode="tozero")
    return Section("yard-occupancy", "Yard occupancy vs capacity",
                   "TEU stacked in each terminal's yard, daily mean, against its capacity (dashed). "
                   "Yards slow down well before the line (rule of thumb: above ~80%).", fig.to_dict())


def gate_trucks(r: Results) -> Section:
    """Mean trucks per hour of day per terminal (stacked bars) and daily totals over time."""
    if r.summary is None:
        return _skipped("gate-trucks", "Gate trucks")
    days = max(r.horizon_h / 24, 1e-9)
    fig = Figure.grid(rows=1, cols=2, column_widths=[0.45, 0.55], horizontal_spacing=0.08,
                        subplot_titles=("mean trucks by hour of day", "trucks per day"))
    n_days = max(int(r.horizon_h // 24), 1)  # whole days only: a partial last day would dip
    total = 0.0
    for i, t in enumerate(r.scenario.terminals):
        hourly = np.asarray(r.summary.series[f"gate_trucks:{t.name}"], float)
        total += hourly.sum()
        name = t.label or t.name
        hours = np.arange(hourly.size)
        by_hour = np.bincount(hours % 24, weights=hourly, minlength=24) / days
        by_day = np.bincount(hours // 24, weights=hourly, minlength=n_days)[:n_days]
        fig.add_trace(bar(x=np.arange(24), y=by_hour, name=name, marker_color=_colour(i), legendgroup=name,
                             hovertemplate="%{x}:00: %{y:.0f} trucks/h<extra>" + name + "</extra>"), 1, 1)
        fig.add_trace(scatter(x=np.arange(n_days), y=by_day, mode="lines", name=name, legendgroup=name,
                                 showlegend=False, line=dict(color=_colour(i), width=2),
                                 hovertemplate="day %{x}: %{y:,} trucks<extra>" + name + "</extra>"), 1, 2)
    fig.update_layout(barmode="stack")
    _layout(fig, "", "")
    fig.update_xaxes(title_text="hour of day", dtick=3, row=1, col=1)
    fig.update_yaxes(title_text="trucks per hour", row=1, col=1)
    fig.update_xaxes(title_text="day of the run", row=1, col=2)
    fig.update_yaxes(title_text="trucks per day", rangemode="tozero", row=1, col=2)
    return Section("gate-trucks", "Gate trucks",
                   f"Trucks through the terminal gates ({total / days:,.0f} a day on average): the daily profile "
                   "shows the peak hours the gates and the road to Lima must absorb.", fig.to_dict())


def _clip_edge(counts: np.ndarray, width: float, quantile: float = 0.99) -> float:
    """The upper edge of the bin of a fine histogram (bins of ``width`` from 0) holding its
    ``quantile``: where the report clips a long tail."""
    counts = np.asarray(counts, float)
    total = counts.sum()
    top = int(np.searchsorted(np.cumsum(counts), quantile * total)) + 1 if total else 1
    return top * width


def dwell(r: Results) -> Section:
    """Yard dwell histograms by flow, small multiples, clipped at the 99th percentile."""
    s = r.summary
    if s is None:
        return _skipped("dwell", "Yard dwell by flow")
    hist = {f: s.series[f"dwell_hist:{f}"] for f in FLOWS}
    p99 = _clip_edge(sum(hist.values()), DWELL_BIN_D)
    labels = dict(FLOW_LABELS)
    fig = Figure.grid(rows=1, cols=len(FLOWS), shared_yaxes=False, horizontal_spacing=0.04,
                        subplot_titles=[labels.get(f, f) for f in FLOWS])
    step = max(int(np.ceil(p99 / DWELL_BIN_D / 40)), 1)
    for i, f in enumerate(FLOWS, start=1):
        counts = np.asarray(hist[f], float)
        m = int(np.ceil(p99 / DWELL_BIN_D / step))
        n = np.add.reduceat(counts[:m * step], np.arange(0, m * step, step))
        edges = np.arange(m + 1) * step * DWELL_BIN_D
        fig.add_trace(bar(x=(edges[:-1] + edges[1:]) / 2, y=n, width=np.diff(edges), marker_color=_colour(i - 1),
                             showlegend=False,
                             hovertemplate="%{x:.1f} d: %{y:,} boxes<extra>" + labels.get(f, f) + "</extra>"), 1, i)
        mean = s.mean(f"dwell_d:{f}")
        if np.isfinite(mean):
            fig.add_vline(x=mean, line=dict(color="#333", dash="dash", width=1.5), row=1, col=i)
            fig.layout["annotations"][i - 1]["text"] = f"{labels.get(f, f)} (mean {mean:.1f} d)"
    fig.update_layout(bargap=0)
    _layout(fig, "", "", height=340)
    fig.update_xaxes(title_text="days in yard", range=[0, p99])
    fig.update_yaxes(title_text="boxes", row=1, col=1)
    return Section("dwell", "Yard dwell by flow",
                   f"Days each box spent in the yard, for boxes that left within the run (longest 1%, "
                   f"over {p99:.1f} d, not shown; dashed = mean). Import dwell drives yard occupancy.", fig.to_dict())


def customs(r: Results) -> Section:
    """Inspections per week by channel (stacked) and import release-time distribution by channel."""
    s = r.summary
    if s is None:
        return _skipped("customs", "Customs inspections and release")
    fig = Figure.grid(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("inspections started per week", "import release after berthing"))
    n_weeks = max(int(r.horizon_h // 168), 1)  # whole weeks only: a partial last week would dip
    colours = dict(CHANNEL_COLOURS)
    for name, label in (("orange", "scans (orange)"), ("red", "physical exams (red)")):
        per_week = s.series[f"inspections_week:{name}"][:n_weeks]
        fig.add_trace(bar(x=np.arange(1, n_weeks + 1), y=per_week, name=label, marker_color=colours[name],
                             hovertemplate="week %{x}: %{y:,}<extra>" + label + "</extra>"), 1, 1)
    hist = {name: np.asarray(s.series[f"release_hist:{name}"], float) for name, _ in CHANNEL_COLOURS}
    p99 = _clip_edge(sum(hist.values()), RELEASE_BIN_H)
    step = max(int(np.ceil(p99 / RELEASE_BIN_H / 40)), 1)
    m = int(np.ceil(p99 / RELEASE_BIN_H / step))
    edges = np.arange(m + 1) * step * RELEASE_BIN_H
    for name, colour in CHANNEL_COLOURS:
        counts = hist[name]
        if not counts.sum():
            continue
        n = np.add.reduceat(counts[:m * step], np.arange(0, m * step, step))
        mean = s.mean(f"customs_release_h:{name}")
        fig.add_trace(bar(x=(edges[:-1] + edges[1:]) / 2, y=n, width=np.diff(edges),
                             name=f"release, {name} (mean {mean:.0f} h)", marker_color=colour,
                             hovertemplate="%{x:.0f} h: %{y:,} boxes<extra>" + name + "</extra>"), 1, 2)
    fig.update_layout(barmode="stack", bargap=0.05, legend_traceorder="normal")
    _layout(fig, "", "")
    fig.update_xaxes(title_text="week of the run", row=1, col=1)
    fig.update_yaxes(title_text="inspections", row=1, col=1)
    fig.update_xaxes(title_text="hours from berthing to release (99th percentile clip)", row=1, col=2)
    fig.update_yaxes(title_text="import boxes", row=1, col=2)
    return Section("customs", "Customs inspections and release",
                   "Left: scans and physical exams per week, import and export (capacity shows as a flat "
                   "top). Right: how long import boxes wait for customs release, stacked by channel.", fig.to_dict())


def closures_naval(r: Results) -> Section:
    """Closures as horizontal bars and naval movements / civil-military encounters per day."""
    H = r.horizon_h
    n_days = max(int(np.ceil(H / 24)), 1)
    fig = Figure.grid(rows=2, cols=1, shared_xaxes=True, row_heights=[0.35, 0.65], vertical_spacing=0.08)
    cl = r.closures[r.closures["start_h"] < H] if r.closures is not None else pd.DataFrame()
    if len(cl):
        port = cl["port"].astype(str).to_numpy() if "port" in cl.columns else np.full(len(cl), "port")
        end = np.minimum(cl["end_h"].to_numpy(float), H)
        start = cl["start_h"].to_numpy(float)
        fig.add_trace(bar(y=[f"closed: {p}" for p in port], x=(end - start) / 24, base=start / 24,
                             orientation="h", marker_color="#c0392b", name="port closure",
                             customdata=np.c_[cl["reason"].astype(str).to_numpy(), end - start],
                             hovertemplate="%{customdata[0]}: %{customdata[1]:.0f} h from day %{base:.1f}"
                                           "<extra></extra>"), 1, 1)
    else:
        y0, y1 = fig.layout["yaxis"]["domain"]
        fig.add_annotation(text="no port closures in this run", x=0.5, y=(y0 + y1) / 2, xref="paper", yref="paper",
                           showarrow=False, font=dict(color="#5b6b7b"))
        fig.update_yaxes(visible=False, row=1, col=1)
    home = r.scenario.home_port
    nav = r.naval
    if nav is not None and len(nav):
        s = nav["start_h"].to_numpy(float)
        sel = (s >= 0) & (s < H) & ((nav["port"] == home).to_numpy() if "port" in nav.columns else True)
        per_day = np.bincount((s[sel] // 24).astype(np.int64), minlength=n_days)[:n_days]
    else:
        per_day = np.zeros(n_days, int)
    v = r.vessels
    ok = (v["t_arrival"] < H).to_numpy() & (v["port"] == home).to_numpy() & np.isfinite(v["t_channel_in"].to_numpy())
    enc_day = np.bincount((v["t_channel_in"].to_numpy()[ok] // 24).astype(np.int64).clip(0, n_days - 1),
                          weights=v["naval_encounters"].to_numpy(float)[ok], minlength=n_days)[:n_days]
    days = np.arange(n_days)
    fig.add_trace(scatter(x=days, y=per_day, mode="lines", name="naval movements per day",
                             line=dict(color="#34495e", width=2)), 2, 1)
    fig.add_trace(bar(x=days, y=enc_day, name="civil-military encounters per day", marker_color="#e07b24",
                         opacity=0.7), 2, 1)
    _layout(fig, "", "", height=420)
    fig.update_xaxes(title_text="day of the run", row=2, col=1)
    fig.update_yaxes(title_text="per day", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(range=[0, max(H / 24, 1)])
    total = int(v.loc[(v["t_arrival"] < H) & (v["port"] == home), "naval_encounters"].sum())
    return Section("closures-naval", "Closures and naval movements",
                   f"When the port was closed (top) and how busy the shared channel was with naval traffic "
                   f"(bottom, line) against the civil-military encounters it caused (bars; {total:,} in the "
                   "run).", fig.to_dict())


def busiest_week(r: Results) -> tuple[float, float]:
    """Start and end (hours) of the 7-day window with the highest total berth occupancy."""
    H = r.horizon_h
    if H <= 168:
        return 0.0, H
    occ = r.berth_occupancy.sum(axis=1).to_numpy()
    _, daily = _daily(occ)
    if daily.size <= 7:
        return 0.0, 168.0
    week = np.convolve(daily, np.ones(7), mode="valid")
    start = float(np.argmax(week)) * 24.0
    return start, min(start + 168.0, H)


def quay_gantt(r: Results) -> Section:
    """Berthed vessels on each quay over the busiest week: y = quay position, x = time."""
    w0, w1 = busiest_week(r)
    terms = r.scenario.terminals
    fig = Figure.grid(rows=len(terms), cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        row_heights=[t.quay_length_m for t in terms],
                        subplot_titles=[f"{t.label or t.name} ({t.quay_length_m:,.0f} m quay)" for t in terms])
    v = r.vessels
    unberth = v["t_unberth"].to_numpy(float)
    unberth = np.where(np.isfinite(unberth), unberth, r.horizon_h)
    berth = v["t_berth"].to_numpy(float)
    inside = np.isfinite(berth) & (berth < w1) & (unberth > w0) & np.isfinite(v["quay_position_m"].to_numpy(float))
    classes = sorted(v["vessel_class"].astype(str).unique())
    seen: set[str] = set()
    for row, t in enumerate(terms, start=1):
        sel = inside & (v["terminal"] == t.name).to_numpy()
        for k, cls in enumerate(classes):
            m = sel & (v["vessel_class"] == cls).to_numpy()
            if not m.any():
                continue
            pos, loa = v["quay_position_m"].to_numpy(float)[m], v["loa_m"].to_numpy(float)[m]
            b, u = berth[m], unberth[m]
            custom = np.c_[v["source"].astype(str).to_numpy()[m], v["moves"].to_numpy(float)[m], (u - b)]
            fig.add_trace(bar(y=pos + loa / 2, x=(u - b) / 24, base=b / 24, width=loa * 0.96, orientation="h",
                                 name=cls, legendgroup=cls, showlegend=cls not in seen,
                                 marker=dict(color=_colour(k), line=dict(color="#222", width=0.5)), opacity=0.85,
                                 text=custom[:, 0], textposition="inside", insidetextanchor="middle", textangle=0,
                                 customdata=custom,
                                 hovertemplate="%{customdata[0]} (" + cls + ")<br>%{customdata[1]:,.0f} moves, "
                                               "%{customdata[2]:.0f} h at berth<extra></extra>"), row, 1)
            seen.add(cls)
        fig.update_yaxes(range=[t.quay_length_m, 0], title_text="quay position, m", row=row, col=1)
    fig.update_layout(barmode="overlay", template="plotly_white")
    _layout(fig, "", "", height=int(max(300, 80 + sum(t.quay_length_m for t in terms) / 4)))
    fig.update_yaxes(title_text="quay position, m")
    fig.update_xaxes(range=[w0 / 24, w1 / 24])
    fig.update_xaxes(title_text="day of the run", row=len(terms), col=1)
    return Section("quay-gantt", "Quay plan of the busiest week",
                   f"Ships alongside each quay, days {w0 / 24:.0f}-{w1 / 24:.0f}: each box spans the ship's "
                   "length along the quay (metres) and its time at berth; gaps are idle quay.", fig.to_dict())


def detection(r: Results) -> Section:
    """Monthly detection rate of cocaine-loaded export boxes and kg seized vs shipped (targeting)."""
    title = "Contraband targeting: detection over time"
    s = r.summary
    if s is None or "month_loaded" not in s.series:
        return Section("detection", title, "", None, "Not available: this run had no export targeting.")
    loaded, hits = s.series["month_loaded"], s.series["month_hits"]
    shipped, seized = s.series["month_shipped_kg"], s.series["month_seized_kg"]
    n = loaded.size
    m = np.arange(1, n + 1)
    fig = Figure.grid(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("share of loaded boxes found", "cocaine shipped and seized"))
    rate = np.divide(hits, loaded, out=np.full(n, np.nan), where=loaded > 0)
    fig.add_trace(scatter(x=m, y=100 * rate, mode="lines+markers", name="detection rate",
                             line=dict(color=PALETTE[0], width=2.5),
                             hovertemplate="month %{x}: %{y:.1f}%<extra></extra>"), 1, 1)
    fig.add_trace(bar(x=m, y=shipped / 1000, name="shipped (t)", marker_color="#bbbbbb"), 1, 2)
    fig.add_trace(bar(x=m, y=seized / 1000, name="seized (t)", marker_color=PALETTE[4]), 1, 2)
    fig.update_layout(barmode="overlay")
    _layout(fig, "", "")
    fig.update_xaxes(title_text="month of the run (730 h)")
    fig.update_yaxes(title_text="detected, %", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="tonnes", row=1, col=2)
    tg = r.scenario.customs.targeting
    return Section("detection", title,
                   f"Policy '{tg.policy}', smugglers' adaptiveness {tg.adaptiveness:g}: a falling rate means "
                   "traffickers moved to what the selection does not watch; a rising one, the model learning.", fig.to_dict())


def _skipped(slug: str, title: str) -> Section:
    return Section(slug, title, "", None, "Not available: this run simulated vessels only (no containers).")


FIGURES = (berth_occupancy, anchorage_wait, yard_occupancy, gate_trucks, dwell, customs, detection,
           closures_naval, quay_gantt)


def sections(r: Results) -> list[Section]:
    """All report sections, in order."""
    return [make(r) for make in FIGURES]
