"""The forecast as files: forecast.parquet (daily bands), ships.parquet (each ship waiting now),
hourly.parquet (the fan chart's data), state.parquet (the ships in port at the start: the bay at
``at`` from data), forecast.json (start time, days, replications, announced closures) and
forecast.html (fan chart, tables; works offline). :func:`read_forecast` reads them back."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from callao.forecast.run import Forecast
from callao.forecast.state import PortState
from callao.results import atomic_write, write_parquet

STATE_COLUMNS = ("mmsi", "name", "loa_m", "terminal", "t_arrival", "t_channel_in", "t_berth", "quay_position_m")
"""Columns of state.parquet, plus ``kind`` ("waiting" or "alongside")."""
TABLES = ("forecast.parquet", "ships.parquet", "hourly.parquet", "state.parquet", "forecast.json")
"""The files :func:`read_forecast` reads (state.parquet and forecast.json are optional)."""


class ForecastFileError(ValueError):
    """A forecast folder whose files cannot be read: the message names the file and the reason."""


def state_table(state: PortState) -> pd.DataFrame:
    """The ships in port at the start as one table (``kind``: waiting / alongside)."""
    parts = []
    for kind, t in (("waiting", state.waiting), ("alongside", state.alongside)):
        part = pd.DataFrame({c: (t[c] if c in t else pd.Series([None] * len(t), dtype=object)) for c in STATE_COLUMNS})
        parts.append(part.assign(kind=kind))
    out = pd.concat(parts, ignore_index=True)
    for c in ("t_arrival", "t_channel_in", "t_berth"):
        out[c] = pd.to_datetime(out[c], utc=True)
    return out.astype({"mmsi": "int64", "loa_m": float, "quay_position_m": float, "name": str, "terminal": str})


def write_forecast(f: Forecast, out: str | Path, title: str = "Anchorage forecast") -> dict[str, Path]:
    """Write the forecast's tables and page to ``out``; returns their paths by name."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in (("forecast", f.daily), ("ships", f.ships), ("hourly", f.hourly), ("state", state_table(f.state))):
        paths[name] = out / f"{name}.parquet"
        atomic_write(paths[name], lambda p, df=df: write_parquet(df, p))
    meta = {"at": f.at.isoformat(), "days": f.days, "replications": f.replications,
            "closures": [[s.isoformat(), h] for s, h in f.closures]}
    paths["meta"] = out / "forecast.json"
    atomic_write(paths["meta"], lambda p: Path(p).write_text(json.dumps(meta, indent=1)))
    paths["html"] = _html(f, out / "forecast.html", title)
    return paths


def read_forecast(folder: str | Path) -> Forecast:
    """The forecast written to ``folder`` by :func:`write_forecast` (``samples`` left empty), or
    :class:`ForecastFileError`. A folder without state.parquet / forecast.json (written before
    them) reads with an empty state and the start time of its first day."""
    folder = Path(folder)

    def table(name: str, need: tuple[str, ...], optional: bool = False) -> pd.DataFrame | None:
        path = folder / name
        if optional and not path.exists():
            return None
        try:
            df = pd.read_parquet(path)
        except Exception as e:  # noqa: BLE001 - pyarrow raises many kinds for a broken file
            raise ForecastFileError(f"{name}: cannot be read ({type(e).__name__}: {str(e)[:200]}); "
                                    "expected a Parquet table written by 'callao forecast'") from None
        missing = [c for c in need if c not in df.columns]
        if missing:
            raise ForecastFileError(f"{name}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}")
        return df

    daily = table("forecast.parquet", ("day", "date", "queue_q50", "wait_h_q50"))
    hourly = table("hourly.parquet", ("time", "queue_q2.5", "queue_q10", "queue_q50", "queue_q90", "queue_q97.5"))
    ships = table("ships.parquet", ("mmsi", "terminal", "t_arrival", "waited_h", "berth_q10", "berth_q50", "berth_q90"))
    state = table("state.parquet", STATE_COLUMNS + ("kind",), optional=True)
    meta: dict = {}
    path = folder / "forecast.json"
    if path.exists():
        try:
            meta = json.loads(path.read_text())
            at = pd.Timestamp(meta["at"])
            closures = [(pd.Timestamp(s), float(h)) for s, h in meta.get("closures", [])]
            replications, days = int(meta["replications"]), int(meta["days"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ForecastFileError(f"forecast.json: cannot be read ({type(e).__name__}: {str(e)[:200]}); "
                                    "expected {at, days, replications, closures}") from None
    else:
        if daily.empty:
            raise ForecastFileError("forecast.parquet: no days")
        at, closures, replications, days = pd.Timestamp(daily["date"].iloc[0]), [], 0, len(daily)
    at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    if state is None:
        state = pd.DataFrame({c: pd.Series(dtype=object) for c in STATE_COLUMNS + ("kind",)})
    ps = PortState(at, state[state["kind"] == "waiting"].reset_index(drop=True),
                   state[state["kind"] == "alongside"].reset_index(drop=True))
    return Forecast(at, days, replications, ps, daily, hourly, ships, pd.DataFrame(), closures)


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
    reps = f" ({f.replications} replications)" if f.replications else ""
    fig.update_layout(title=f"Ships at the anchorage from {f.at:%Y-%m-%d %H:%M} UTC{reps}",
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
