"""Backtest: forecasts from many start times of a run compared with what the run then did.

From each start time the forecast sees only the run's calls as they stood then
(:func:`~callao.forecast.state.port_state`), is told the closures that will come in its window
(swell warnings are issued days ahead), and forecasts ``days`` days; the realised daily mean
anchorage queue is then compared with the forecast's bands. Reported by horizon (day 1..days):
the coverage of the 80% and 95% bands, and the mean absolute error of the forecast median
against the naive forecast "the queue at the start time persists".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from callao.forecast.run import forecast
from callao.ingest.calls import calls_from_vessels
from callao.results import Results, hourly_mean
from callao.scenario import Scenario


@dataclass
class Backtest:
    """Per start and day (``rows``) and by horizon (``by_day``, plus an ``all`` row)."""

    rows: pd.DataFrame
    by_day: pd.DataFrame
    seconds_per_forecast: float


def backtest(scenario: Scenario, run: Results, starts_h: list[float] | np.ndarray, days: int = 7,
             replications: int = 30, seed: int = 0) -> Backtest:
    """Backtest forecasts of ``scenario`` against ``run`` (a simulated period) from ``starts_h``
    (hours into the run)."""
    import time

    start_utc = pd.Timestamp(run.scenario.simulation.start_utc)
    v = run.vessels
    calls = calls_from_vessels(v, start_utc)
    n = int(np.ceil(run.horizon_h)) + days * 24 + 24
    home = (v["port"] == run.scenario.home_port).to_numpy() if "port" in v else np.ones(len(v), bool)
    queue = hourly_mean(v["t_arrival"].to_numpy(float)[home], v["t_channel_in"].to_numpy(float)[home],
                        np.ones(int(home.sum())), n)
    cl = run.closures[run.closures["port"] == run.scenario.home_port]
    rows, elapsed = [], 0.0
    for i, h0 in enumerate(starts_h):
        h0 = float(np.floor(h0))
        at = start_utc + pd.Timedelta(hours=h0)
        window = cl[(cl["end_h"] > h0) & (cl["start_h"] < h0 + days * 24)]
        announced = [(start_utc + pd.Timedelta(hours=max(s, h0)), float(e - max(s, h0)))
                     for s, e in zip(window["start_h"], window["end_h"])]
        t0 = time.perf_counter()
        f = forecast(scenario, calls, at, days, replications, seed + i, closures=announced)
        elapsed += time.perf_counter() - t0
        now = _queue_at(v[home], h0)
        for d in f.daily.itertuples(index=False):
            real = float(queue[int(h0) + 24 * (d.day - 1): int(h0) + 24 * d.day].mean())
            q = f.daily.set_index("day").loc[d.day]
            rows.append({"start": at, "day": d.day, "realised": real, "median": q["queue_q50"], "naive": now,
                         "in80": q["queue_q10"] - 1e-9 <= real <= q["queue_q90"] + 1e-9,
                         "in95": q["queue_q2.5"] - 1e-9 <= real <= q["queue_q97.5"] + 1e-9,
                         "closure": bool(announced)})
    rows = pd.DataFrame(rows)
    return Backtest(rows, summarise(rows), elapsed / max(len(starts_h), 1))


def _queue_at(v: pd.DataFrame, h: float) -> float:
    return float(((v["t_arrival"] <= h) & ~(v["t_channel_in"] <= h)).sum())


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Coverage and errors by horizon day, and over all days."""
    def one(g: pd.DataFrame, day) -> dict:
        return {"day": day, "forecasts": len(g), "coverage_80": g["in80"].mean(), "coverage_95": g["in95"].mean(),
                "mae_forecast": (g["median"] - g["realised"]).abs().mean(),
                "mae_naive": (g["naive"] - g["realised"]).abs().mean(),
                "realised_mean": g["realised"].mean()}
    out = [one(g, int(d)) for d, g in rows.groupby("day")] + [one(rows, "all")]
    return pd.DataFrame(out)
