"""Forecast speed and backtest: ``.venv/bin/python benchmarks/bench_forecast.py [--starts 24] [--replications 30]``.

1. Speed: a 7-day, R-replication forecast from the state of a simulated year, timed from several
   start times (median wall and CPU seconds, with the machine's load), against one vessels-only
   simulated year in the same process (what a twin without a state hook would have to run per
   replication to reach "now").
2. Backtest: forecasts from ``--starts`` start times spread over the year, compared with what the
   run then did (see callao.forecast.backtest); prints the table of docs/twin.md.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

import callao
from callao.forecast import forecast
from callao.forecast.backtest import backtest
from callao.ingest.calls import calls_from_vessels
from callao.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=5, help="seed of the simulated year (the 'truth')")
    ap.add_argument("--replications", type=int, default=30)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--timed", type=int, default=5, help="forecasts timed for the speed figure")
    ap.add_argument("--starts", type=int, default=24, help="backtest start times (0: no backtest)")
    a = ap.parse_args()
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    sc = load_scenario("callao", simulation={"containers": False})
    t0, c0 = time.perf_counter(), time.process_time()
    run = callao.simulate(sc, seed=a.seed)
    year_s, year_cpu = time.perf_counter() - t0, time.process_time() - c0
    calls = calls_from_vessels(run.vessels, sc.simulation.start_utc)
    start = pd.Timestamp(sc.simulation.start_utc)
    wall, cpu = [], []
    for h in np.linspace(30 * 24, 330 * 24, a.timed):
        w0, c0 = time.perf_counter(), time.process_time()
        forecast(sc, calls, start + pd.Timedelta(hours=float(np.floor(h))), a.days, a.replications, seed=1)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    print(f"\nforecast {a.days} days x {a.replications} replications: median {np.median(wall):.2f} s wall, "
          f"{np.median(cpu):.2f} s CPU ({a.timed} start times)")
    print(f"baseline, one vessels-only simulated year: {year_s:.2f} s wall, {year_cpu:.2f} s CPU; a cold-start "
          f"forecast would need {a.replications} of them: {a.replications * year_cpu:.0f} s CPU, "
          f"{a.replications * year_cpu / np.median(cpu):.0f}x the state-started forecast's CPU time")
    if a.starts:
        starts = np.linspace(14 * 24, sc.horizon_h - (a.days + 1) * 24, a.starts)
        t0 = time.perf_counter()
        bt = backtest(sc, run, starts, a.days, a.replications, seed=1)
        print(f"\nbacktest: {a.starts} start times x {a.days} days, {a.replications} replications, "
              f"seed {a.seed}, in {time.perf_counter() - t0:.0f} s")
        t = bt.by_day.copy()
        print("| horizon day | forecasts | 80% band coverage | 95% band coverage | MAE forecast (ships) | MAE naive (ships) | mean queue (ships) |")
        print("|---|---|---|---|---|---|---|")
        for r in t.itertuples(index=False):
            print(f"| {r.day} | {r.forecasts} | {r.coverage_80:.0%} | {r.coverage_95:.0%} | {r.mae_forecast:.2f} | "
                  f"{r.mae_naive:.2f} | {r.realised_mean:.2f} |")


if __name__ == "__main__":
    main()
