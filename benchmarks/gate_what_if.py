"""What it takes to reach the published 10-14 h gate queues: replay one terminal's truck visits of
a run (its arrival times and service times) through fewer lanes or slower transactions.

    ./callao run --out out/year
    .venv/bin/python benchmarks/gate_what_if.py out/year dpworld

Prints, for each lane count and service-time multiplier, the mean and longest wait and the days on
which some truck waited 10 h or more. Uses the twin's own multi-server gate queue.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from callao.sim.queues import multi_server_fifo_wait


def visits(run: Path, terminal: str) -> tuple[np.ndarray, np.ndarray]:
    """Arrival (h) and service time (h) of each truck visit at ``terminal`` in the run."""
    c = pd.read_parquet(run / "containers.parquet",
                        columns=["terminal", "flow", "t_gate", "gate_wait_h", "dual_cycle", "t_yard_in", "t_yard_out"])
    v = c[(c["terminal"] == terminal) & c["t_gate"].notna() & ~c["dual_cycle"]]
    out = v["flow"].isin(["import", "empty_in"]).to_numpy()
    done = np.where(out, v["t_yard_out"], v["t_yard_in"])
    service = done - v["t_gate"].to_numpy() - v["gate_wait_h"].to_numpy()
    keep = service > 0  # export boxes loaded before their truck cleared the gate have no clean service time
    return v["t_gate"].to_numpy()[keep], service[keep]


def main(run: str, terminal: str = "dpworld") -> None:
    a, s = visits(Path(run), terminal)
    horizon_h = 8760.0 * json.loads((Path(run) / "scenario.json").read_text())["scenario"]["simulation"]["years"]
    days = horizon_h / 24.0
    in_run = (a >= 0) & (a < horizon_h)
    print(f"{terminal}: {in_run.sum() / days:,.0f} truck visits a day, mean service {60 * s.mean():.1f} min")
    print("lanes  service x  wait mean h  wait max h  days with a >=10 h wait")
    for lanes in (14, 12, 10, 8):
        for slow in (1.0, 1.25, 1.5):
            w = multi_server_fifo_wait(a, s * slow, lanes)
            counted = (w >= 10.0) & (a >= 0) & (a < horizon_h)  # not the spin-up before hour 0
            long_days = np.unique(np.floor(a[counted] / 24.0)).size
            print(f"{lanes:5d}  {slow:9.2f}  {w[in_run].mean():11.2f}  {w[in_run].max():10.1f}  {long_days:5d}")


if __name__ == "__main__":
    main(*sys.argv[1:])
