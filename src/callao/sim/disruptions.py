"""Exogenous blocking of the channel: swell closures and naval movements, as time windows (hours)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import pandas as pd

from callao.scenario import Scenario
from callao.scenario.model import Port
from callao.sim.streams import Streams

HOURS_PER_MONTH = 8760.0 / 12


def port_streams(scenario: Scenario, streams: Streams, kind: str) -> list[tuple[Port, np.random.Generator]]:
    """Each port with its own generator for ``kind`` of disruption, named by the port: the first
    port's is named by ``kind`` alone, so that adding ports to a scenario leaves the draws of the
    port it had unchanged (common random numbers)."""
    return [(port, streams("disruptions", kind, *((port.name,) if i else ())))
            for i, port in enumerate(scenario.ports)]


def closures(scenario: Scenario, streams: Streams, until_h: float) -> pd.DataFrame:
    """Closures of every port up to ``until_h``: seasonal swell events (Poisson per month),
    tsunami alerts (Poisson, any time of year) and fixed ones; overlapping windows of a port are
    merged (the merged window keeps the first one's reason). Columns: port, start_h, end_h, reason."""
    tsunami = port_streams(scenario, streams, "tsunami")
    frames = [_port_closures(port, rng, trng, until_h)
              for (port, rng), (_, trng) in zip(port_streams(scenario, streams, "closures"), tsunami)]
    return pd.concat(frames, ignore_index=True)


def _port_closures(port: Port, rng: np.random.Generator, trng: np.random.Generator,
                   until_h: float) -> pd.DataFrame:
    """One port's closures; swell from ``rng``, tsunami alerts from ``trng``."""
    cfg = port.closures
    rate = np.zeros(12)
    for season in cfg.seasons:
        for m in season.months:
            rate[m - 1] += season.events_per_month
    n_months = int(np.ceil(until_h / HOURS_PER_MONTH))
    month_of_year = np.arange(n_months) % 12
    counts = rng.poisson(rate[month_of_year])
    starts = (np.repeat(np.arange(n_months), counts) + rng.random(counts.sum())) * HOURS_PER_MONTH
    durations = cfg.duration_h.sample(rng, starts.size)
    windows = [(s, s + d, "swell") for s, d in zip(starts, durations) if s < until_h]
    if cfg.tsunami_alerts_per_year > 0:  # own stream: adding alerts leaves the swell draws unchanged
        n = trng.poisson(cfg.tsunami_alerts_per_year * until_h / 8760.0)
        t_starts = np.sort(trng.random(n) * until_h)
        windows += [(s, s + d, "tsunami alert") for s, d in zip(t_starts, cfg.tsunami_duration_h.sample(trng, n))]
    windows += [(f.start_h, f.start_h + f.duration_h, f.reason) for f in cfg.fixed]
    windows.sort()
    merged: list[list] = []
    for s, e, r in windows:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e, r])
    df = pd.DataFrame(merged, columns=["start_h", "end_h", "reason"]).astype(
        {"start_h": float, "end_h": float, "reason": str})
    df.insert(0, "port", port.name)
    return df


def naval_movements(scenario: Scenario, streams: Streams, until_h: float) -> pd.DataFrame:
    """Naval movements through each port's shared channel: a Poisson number per day at uniform
    times in the day's window. Columns: port, start_h, end_h (commercial traffic held out)."""
    return pd.concat([_port_naval(port, rng, until_h) for port, rng in port_streams(scenario, streams, "naval")],
                     ignore_index=True)


def _port_naval(port: Port, rng: np.random.Generator, until_h: float) -> pd.DataFrame:
    cfg = port.naval
    n_days = int(np.ceil(until_h / 24))
    counts = rng.poisson(cfg.movements_per_day, n_days)
    day = np.repeat(np.arange(n_days), counts)
    start = day * 24.0 + cfg.day_start_h + rng.random(day.size) * (cfg.day_end_h - cfg.day_start_h)
    start = np.sort(start)
    return pd.DataFrame({"port": port.name, "start_h": start, "end_h": start + cfg.duration_h})


@dataclass
class Windows:
    """Disjoint, sorted blocking windows with a fast 'first clash' lookup."""

    starts: list[float]
    ends: list[float]

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> "Windows":
        starts: list[float] = []
        ends: list[float] = []
        for s, e in zip(df["start_h"].to_numpy(), df["end_h"].to_numpy()):
            if ends and s <= ends[-1]:
                ends[-1] = max(ends[-1], float(e))
            else:
                starts.append(float(s))
                ends.append(float(e))
        return cls(starts, ends)

    def clash_end(self, t: float, duration: float) -> float | None:
        """End of the window that overlaps [t, t + duration), or None if the span is free."""
        i = bisect.bisect_right(self.ends, t)
        if i < len(self.starts) and (self.starts[i] < t + duration or self.starts[i] <= t):
            return self.ends[i]
        return None

    def covers(self, t: float) -> bool:
        return self.clash_end(t, 0.0) is not None
