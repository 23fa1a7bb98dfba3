"""A forecast as the dashboard shows it: the fan chart (the report's own builder), the days and
the ships waiting as tables, and the bay at the forecast's start time from data, drawn by the
run map's builder (:func:`callao.web.figures.map_figure`)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import plotly.io as pio
from dash import html

from callao.forecast.run import Forecast
from callao.ingest.calls import utc_to_hours
from callao.scenario import Scenario


@lru_cache(maxsize=1)
def _scenario() -> Scenario:
    from callao.scenario import load_scenario

    return load_scenario("callao")


@dataclass
class BayAt:
    """What :func:`callao.web.figures.map_figure` reads of a run, at hour 0 = the forecast's start:
    the ships in port then (``vessels``, times in hours from the start), the announced closures."""

    scenario: Scenario
    vessels: pd.DataFrame
    closures: pd.DataFrame
    naval: pd.DataFrame


def bay_at(f: Forecast, scenario: Scenario | None = None) -> BayAt:
    """The bay at ``f.at`` from the observed state: ships waiting at the anchorage since their
    arrival, ships alongside at their quay position (in the channel when not yet berthed)."""
    sc = scenario or _scenario()
    parts = [t for t in (f.state.waiting, f.state.alongside) if len(t)]
    s = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {c: pd.Series(dtype=object) for c in ("mmsi", "terminal", "loa_m", "quay_position_m", "t_arrival")})

    def hours(col: str) -> np.ndarray:
        if col not in s or s.empty:
            return np.full(len(s), np.nan)
        return utc_to_hours(pd.to_datetime(s[col], utc=True), f.at)

    n = len(s)
    alongside = np.r_[np.zeros(len(f.state.waiting), bool), np.ones(len(f.state.alongside), bool)] if n else np.zeros(0, bool)
    t_arrival = np.minimum(np.nan_to_num(hours("t_arrival"), nan=0.0), 0.0)
    t_in = np.where(alongside, np.minimum(np.nan_to_num(hours("t_channel_in"), nan=0.0), 0.0), np.inf)
    vessels = pd.DataFrame({
        "vessel_id": s["mmsi"].to_numpy(np.int64) if n else np.zeros(0, np.int64),
        "terminal": s["terminal"].astype(str).to_numpy(object),
        "loa_m": pd.to_numeric(s["loa_m"], errors="coerce").to_numpy(float),
        "quay_position_m": pd.to_numeric(s.get("quay_position_m", pd.Series(np.nan, index=s.index)),
                                         errors="coerce").fillna(0.0).to_numpy(float),
        "t_arrival": t_arrival, "t_channel_in": t_in,
        "t_berth": np.where(alongside, hours("t_berth"), np.nan), "t_unberth": np.nan, "t_depart": np.nan})
    home = sc.home_port
    closures = pd.DataFrame({"port": home, "start_h": [utc_to_hours(pd.Series([a]), f.at)[0] for a, _ in f.closures],
                             "end_h": [utc_to_hours(pd.Series([a]), f.at)[0] + h for a, h in f.closures],
                             "reason": "announced"}).astype({"start_h": float, "end_h": float})
    return BayAt(sc, vessels, closures, pd.DataFrame(columns=["port", "start_h", "end_h"]))


def table(df: pd.DataFrame, id: str) -> html.Table:
    """A plain HTML table of ``df`` (already formatted as text)."""
    return html.Table([html.Thead(html.Tr([html.Th(c) for c in df.columns])),
                       html.Tbody([html.Tr([html.Td(str(v)) for v in row]) for row in df.itertuples(index=False)])],
                      className="table", id=id)


def daily_table(f: Forecast) -> pd.DataFrame:
    """Per day: the anchorage queue and the wait of that day's arrivals, median and bands."""
    d = f.daily

    def rng(lo, hi, fmt):
        return [f"{a:{fmt}}–{b:{fmt}}" if pd.notna(a) and pd.notna(b) else "–" for a, b in zip(d[lo], d[hi])]

    return pd.DataFrame({
        "day": d["day"], "from (UTC)": pd.to_datetime(d["date"], utc=True).dt.strftime("%Y-%m-%d %H:%M"),
        "ships waiting (median)": [f"{x:.1f}" for x in d["queue_q50"]],
        "80% band": rng("queue_q10", "queue_q90", ".1f"), "95% band": rng("queue_q2.5", "queue_q97.5", ".1f"),
        "wait h (median)": [f"{x:.0f}" if pd.notna(x) else "– (no arrivals)" for x in d["wait_h_q50"]],
        "wait 80% band h": rng("wait_h_q10", "wait_h_q90", ".0f"),
        "wait 95% band h": rng("wait_h_q2.5", "wait_h_q97.5", ".0f")})


def ships_table(f: Forecast) -> pd.DataFrame:
    """Each ship waiting at the start and its predicted berthing time (UTC) with its bands."""
    s = f.ships
    if s.empty:
        return pd.DataFrame({"ships waiting": ["none at the start"]})

    def ts(col):
        return pd.to_datetime(s[col], utc=True) if col in s else pd.Series(pd.NaT, index=s.index)

    def when(x):
        return f"{x:%m-%d %H:%M}" if pd.notna(x) else "not within the forecast"

    return pd.DataFrame({
        "MMSI": s["mmsi"], "name": s.get("name", ""), "terminal": s["terminal"],
        "waiting since": ts("t_arrival").dt.strftime("%Y-%m-%d %H:%M"), "waited h": [f"{x:.0f}" for x in s["waited_h"]],
        "berths (median)": [when(x) for x in ts("berth_q50")],
        "80% band": [f"{when(a)} – {when(b)}" for a, b in zip(ts("berth_q10"), ts("berth_q90"))],
        "95% band": [f"{when(a)} – {when(b)}" for a, b in zip(ts("berth_q2.5"), ts("berth_q97.5"))]})


@dataclass
class ForecastView:
    """A forecast folder as the dashboard serves it; what the page shows is built once (:meth:`once`)."""

    id: str
    folder: Path
    forecast: Forecast
    _built: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def once(self, what: str, build: Callable[[Forecast], Any]) -> Any:
        with self._lock:
            if what not in self._built:
                self._built[what] = build(self.forecast)
            return self._built[what]

    def fan(self) -> dict:
        """The report's fan chart, as plain JSON data (encoded once)."""
        from callao.forecast.report import fan_chart

        return self.once("fan", lambda f: json.loads(pio.to_json(fan_chart(f), validate=False)))

    def bay(self) -> dict:
        """The bay at the start time, drawn by the run map's builder."""
        from callao.web.figures import map_figure

        def build(f: Forecast) -> dict:
            fig = map_figure(bay_at(f), 0.0, "ships")
            fig.update_layout(title=dict(text=f"Callao bay at {f.at:%Y-%m-%d %H:%M} UTC, from data: "
                                              f"{len(f.state.waiting)} waiting, {len(f.state.alongside)} alongside"))
            return json.loads(pio.to_json(fig, validate=False))

        return self.once("bay", build)
