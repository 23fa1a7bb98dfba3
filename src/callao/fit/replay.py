"""Replay: run the observed arrivals through the twin and compare, call by call, the anchorage
wait it predicts with the wait that was observed — the honest test of the waterside model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from callao.ingest.calls import hours_to_utc
from callao.results import Results, atomic_write, write_parquet
from callao.scenario import Scenario, load_scenario

REPLAY_COLUMNS = ("mmsi", "terminal", "vessel_class", "loa_m", "t_arrival", "moves",
                  "observed_wait_h", "predicted_wait_h", "error_h",
                  "observed_berth_h", "predicted_berth_h")
"""Columns of ``replay.parquet``: one row per replayed call; error = predicted − observed."""


@dataclass
class ReplayResult:
    """A replay's run, its call-by-call table and the error summary (hours)."""

    results: Results
    table: pd.DataFrame
    summary: pd.DataFrame

    def write(self, out_dir: str | Path) -> Path:
        path = Path(out_dir) / "replay.parquet"
        atomic_write(path, lambda p: write_parquet(self.table, p))
        return path


def replay(scenario: Scenario | str | Path, calls: pd.DataFrame, seed: int = 0,
           handling: str = "observed", progress=None) -> ReplayResult:
    """Replay the observed ``calls`` through ``scenario`` (see :func:`callao.simulate`'s
    ``arrivals``) and compare predicted with observed anchorage waits."""
    from callao.sim import simulate

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    results = simulate(sc, seed=seed, arrivals=calls, handling=handling, progress=progress)
    return ReplayResult(results, *compare(results))


def compare(results: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Call-by-call table and summary (calls, observed and predicted mean wait, mean absolute
    error, bias, RMSE, per terminal and overall) of a replay run."""
    v = results.vessels
    table = pd.DataFrame({
        "mmsi": v["mmsi"].to_numpy(np.int64),
        "terminal": v["terminal"].astype(str).to_numpy(),
        "vessel_class": v["vessel_class"].astype(str).to_numpy(),
        "loa_m": v["loa_m"].to_numpy(float),
        "t_arrival": hours_to_utc(v["t_arrival"].to_numpy(float), results.scenario.simulation.start_utc),
        "moves": v["moves"].to_numpy(float),
        "observed_wait_h": v["obs_anchorage_wait_h"].to_numpy(float),
        "predicted_wait_h": (v["t_channel_in"] - v["t_arrival"]).to_numpy(float),
        "observed_berth_h": (v["obs_t_unberth"] - v["obs_t_berth"]).to_numpy(float),
        "predicted_berth_h": (v["t_unberth"] - v["t_berth"]).to_numpy(float),
    })
    table.insert(table.columns.get_loc("predicted_wait_h") + 1, "error_h",
                 table["predicted_wait_h"] - table["observed_wait_h"])
    rows = [_summary("all", table)] + [_summary(t, g) for t, g in table.groupby("terminal", sort=True)]
    return table, pd.DataFrame(rows)


def _summary(name: str, t: pd.DataFrame) -> dict:
    ok = t.dropna(subset=["observed_wait_h", "predicted_wait_h"])
    e = ok["error_h"].to_numpy(float)
    return {"terminal": name, "calls": int(len(ok)),
            "observed_wait_mean_h": float(ok["observed_wait_h"].mean()),
            "predicted_wait_mean_h": float(ok["predicted_wait_h"].mean()),
            "mae_h": float(np.abs(e).mean()) if e.size else float("nan"),
            "bias_h": float(e.mean()) if e.size else float("nan"),
            "rmse_h": float(np.sqrt((e ** 2).mean())) if e.size else float("nan")}
