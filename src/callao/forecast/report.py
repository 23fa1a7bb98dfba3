"""The forecast as files: forecast.parquet (daily bands), ships.parquet (each ship waiting now),
hourly.parquet (the fan chart's data) and forecast.html (fan chart, tables; works offline)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from callao.forecast.run import Forecast
from callao.results import atomic_write, write_parquet


def write_forecast(f: Forecast, out: str | Path, title: str = "Anchorage forecast") -> dict[str, Path]:
    """Write the forecast's tables and page to ``out``; returns their paths by name."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in (("forecast", f.daily), ("ships", f.ships), ("hourly", f.hourly)):
        paths[name] = out / f"{name}.parquet"
        atomic_write(paths[name], lambda p, df=df: write_parquet(df, p))
    paths["html"] = _html(f, out / "forecast.html", title)
    return paths


def fan_chart(f: Forecast):
    """The anchorage queue hour by hour: median, 80% and 95% prediction bands."""
    import plotly.graph_objects as go

    h = f.hourly
    x = h["time"]
    fig = go.Figure()
    for lo, hi, colour, name in (("queue_q2.5", "queue_q97.5", "rgba(31,111,178,0.15)", "95% band"),
                                 ("queue_q10", "queue_q90", "rgba(31,111,178,0.32)", "80% band")):
        fig.add_trace(go.Scatter(x=x, y=h[hi], line=dict(width=0), showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=h[lo], line=dict(width=0), fill="tonexty", fillcolor=colour, name=name,
                                 hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=h["queue_q50"], line=dict(color="#1f6fb2", width=2), name="median"))
    for start, hours in f.closures:
        fig.add_vrect(x0=start, x1=start + pd.Timedelta(hours=hours), fillcolor="#c0392b", opacity=0.12,
                      line_width=0, annotation_text="closure", annotation_position="top left")
    fig.update_layout(title=f"Ships at the anchorage from {f.at:%Y-%m-%d %H:%M} UTC ({f.replications} replications)",
                      xaxis_title="time (UTC)", yaxis_title="ships waiting", height=440, template="plotly_white",
                      margin=dict(l=60, r=20, t=50, b=50), hovermode="x unified")
    return fig


def _html(f: Forecast, path: Path, title: str) -> Path:
    from callao.fit.compare import _table
    from callao.fit.page import write_page

    d = f.daily
    daily = pd.DataFrame({
        "day": d["day"], "from (UTC)": d["date"].dt.strftime("%Y-%m-%d %H:%M"),
        "queue median": d["queue_q50"], "queue 80%": [f"{a:.1f}–{b:.1f}" for a, b in zip(d["queue_q10"], d["queue_q90"])],
        "queue 95%": [f"{a:.1f}–{b:.1f}" for a, b in zip(d["queue_q2.5"], d["queue_q97.5"])],
        "wait median h": d["wait_h_q50"],
        "wait 80% h": [f"{a:.0f}–{b:.0f}" for a, b in zip(d["wait_h_q10"], d["wait_h_q90"])],
        "wait 95% h": [f"{a:.0f}–{b:.0f}" for a, b in zip(d["wait_h_q2.5"], d["wait_h_q97.5"])]})
    s = f.ships
    ships = pd.DataFrame({
        "MMSI": s["mmsi"], "name": s["name"], "LOA m": s["loa_m"], "terminal": s["terminal"],
        "waiting since": s["t_arrival"].dt.strftime("%Y-%m-%d %H:%M"), "waited h": s["waited_h"],
        "berths (median)": s["berth_q50"].dt.strftime("%m-%d %H:%M"),
        "80% band": [f"{a:%m-%d %H:%M} – {b:%m-%d %H:%M}" for a, b in zip(s["berth_q10"], s["berth_q90"])],
        "95% band": [f"{a:%m-%d %H:%M} – {b:%m-%d %H:%M}" for a, b in zip(s["berth_q2.5"], s["berth_q97.5"])],
    }) if len(s) else pd.DataFrame({"ships waiting": ["none"]})
    closures = "; ".join(f"{a:%Y-%m-%d %H:%M} for {h:g} h" for a, h in f.closures) or "none announced"
    blocks = [f"<p>{f.state.summary()}. Announced closures: {closures}. {f.replications} replications of "
              f"{f.days} days.</p>", fan_chart(f),
              "<h2>By day</h2><p class='caption'>queue: mean number of ships at the anchorage over the day; "
              "wait: mean anchorage wait of the ships arriving that day (hours). Bands: 80% and 95% prediction.</p>",
              _table(daily), "<h2>Ships waiting now: predicted berthing time (UTC)</h2>", _table(ships)]
    return write_page(path, title, blocks)
