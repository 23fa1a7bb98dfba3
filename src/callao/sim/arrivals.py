"""Vessel calls: scheduled liner services plus unscheduled (tramp) Poisson streams."""

from __future__ import annotations

import numpy as np
import pandas as pd

from callao.scenario import Scenario
from callao.scenario.model import CallSize
from callao.sim.streams import Streams

DISCHARGE_FLOWS = ("import", "empty_in", "transship")
LOAD_FLOWS = ("export", "empty_out", "transship")


def vessel_calls(scenario: Scenario, streams: Streams) -> pd.DataFrame:
    """One row per call arriving before the horizon, sorted by arrival time (hours).

    Columns: source, kind (service/tramp), terminal, vessel_class, region, loa_m, draft_m,
    max_cranes, t_arrival (h), moves (work content, moves) and the planned move counts per flow
    (n_import, n_empty_in, n_transship_in, n_export, n_empty_out, n_transship_out).
    """
    horizon = scenario.horizon_h
    frames = []
    for s in scenario.services:
        rng = streams("arrivals", "service", s.name)
        windows = np.arange(s.first_window_h, horizon, s.interval_days * 24.0)
        t = np.maximum(windows + s.lateness_h.sample(rng, windows.size), 0.0)
        frames.append(_calls(s, "service", t[t < horizon], scenario, streams))
    for tr in scenario.tramp:
        rng = streams("arrivals", "tramp", tr.name)
        mean_gap = 8760.0 / tr.calls_per_year
        n = int(horizon / mean_gap * 1.2 + 10 * np.sqrt(horizon / mean_gap) + 10)
        t = np.cumsum(rng.exponential(mean_gap, n))
        while t[-1] < horizon:  # rare: draw more
            t = np.concatenate([t, t[-1] + np.cumsum(rng.exponential(mean_gap, n))])
        frames.append(_calls(tr, "tramp", t[t < horizon], scenario, streams))
    calls = pd.concat(frames, ignore_index=True)
    calls = calls.sort_values(["t_arrival", "source"], kind="stable", ignore_index=True)
    calls.insert(0, "vessel_id", np.arange(len(calls), dtype=np.int32))
    return calls


def _calls(spec: CallSize, kind: str, t: np.ndarray, scenario: Scenario, streams: Streams) -> pd.DataFrame:
    rng = streams("calls", kind, spec.name)
    vc = scenario.vessel_class(spec.vessel_class)
    moves = spec.moves_per_call.sample(rng, t.size) * scenario.simulation.demand_factor
    df = pd.DataFrame({
        "source": spec.name, "kind": kind, "terminal": spec.terminal, "vessel_class": vc.name,
        "region": spec.region, "loa_m": vc.loa_m, "draft_m": vc.draft_m, "max_cranes": vc.max_cranes,
        "t_arrival": t, "moves": moves,
        "alternatives": ",".join(getattr(spec, "alternatives", [])),
    })
    counts = np.rint(moves).astype(np.int64) if scenario.simulation.containers else np.zeros(t.size, np.int64)
    discharge = rng.binomial(counts, spec.discharge_share)
    mix = scenario.cargo
    for total, flows, shares, suffix in (
        (discharge, DISCHARGE_FLOWS, mix.discharge_mix, "_in"),
        (counts - discharge, LOAD_FLOWS, mix.load_mix, "_out"),
    ):
        p = np.array([shares.get(f, 0.0) for f in flows])
        split = rng.multinomial(total, p / p.sum()) if total.size else np.zeros((0, 3), np.int64)
        for j, f in enumerate(flows):
            df[f"n_{f}{suffix}" if f == "transship" else f"n_{f}"] = split[:, j]
    return df
