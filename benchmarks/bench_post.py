"""What ``callao run`` does after the simulation, stage by stage:
``python benchmarks/bench_post.py [--years 1] [--repeat 3] [--seed 0]``.

One ``callao.simulate`` of the bundled Callao scenario, then ``--repeat`` times on a fresh copy of
its results (nothing cached): the KPIs (container summary + ``compute_kpis``), ``Results.write``
(Parquet tables in background threads while the KPIs are computed) and ``write_report``; CPU
seconds (``time.process_time``, all threads) and wall seconds, medians. Baselines in the same
process: the same tables written one after the other with pyarrow's default options and then the
KPIs (no overlap), and the report's figures validated as ``plotly.graph_objects`` figures (what the
report built before).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_simulation import machine_line  # noqa: E402

import callao  # noqa: E402
from callao.report import write_report  # noqa: E402
from callao.report.figure import encoded  # noqa: E402
from callao.report.plots import sections  # noqa: E402


def timed(f) -> tuple[float, float]:
    """(CPU s, wall s) of ``f()``."""
    c, w = time.process_time(), time.perf_counter()
    f()
    return time.process_time() - c, time.perf_counter() - w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    load, start = os.getloadavg(), time.perf_counter()
    c, w = time.process_time(), time.perf_counter()
    run = callao.simulate("callao", seed=args.seed, years=args.years)
    sim_cpu, sim_wall = time.process_time() - c, time.perf_counter() - w
    n = len(run.containers)
    rows: dict[str, list[tuple[float, float]]] = {}

    def add(name: str, f) -> None:
        rows.setdefault(name, []).append(timed(f))

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for _ in range(args.repeat):
            r = dataclasses.replace(run)  # a fresh Results: summary and KPIs not cached
            add("KPIs (summary + compute_kpis)", lambda: r.kpis)
            r = dataclasses.replace(run)
            add("Results.write (tables + KPIs)", lambda: r.write(out / "run"))
            add("write_report", lambda: write_report(r, out / "run" / "report.html"))
            tables = {"vessels": run.vessels, "closures": run.closures, "naval": run.naval,
                      "containers": run.containers}
            fresh = dataclasses.replace(run)
            add("baseline: tables one by one (pyarrow defaults), then KPIs", lambda: [
                *(pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out / f"{k}.parquet")
                  for k, df in tables.items()), fresh.kpis])
            add("baseline: report figures as validated go.Figure", lambda: [
                go.Figure(encoded(s.figure))
                for s in sections(r) if s.figure is not None])
    med = {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v)) for k, v in rows.items()}
    post_cpu = med["Results.write (tables + KPIs)"][0] + med["write_report"][0]
    post_wall = med["Results.write (tables + KPIs)"][1] + med["write_report"][1]
    print(f"callao {args.years:g} year(s), seed {args.seed}: {n:,} containers; simulate {sim_cpu:.2f} s CPU, "
          f"{sim_wall:.2f} s wall (once)")
    print(f"{'stage (median of ' + str(args.repeat) + ')':58s} {'CPU s':>7s} {'wall s':>7s}")
    for k, (c, w) in med.items():
        print(f"{k:58s} {c:7.2f} {w:7.2f}")
    print(f"{'after the simulation (write + report)':58s} {post_cpu:7.2f} {post_wall:7.2f}")
    base_tables = med["baseline: tables one by one (pyarrow defaults), then KPIs"][1]
    print(f"ratios: simulate + post {sim_wall + post_wall:.2f} s wall, post share "
          f"{post_wall / (sim_wall + post_wall):.0%}; Results.write vs the tables one by one, then the KPIs "
          f"{base_tables / med['Results.write (tables + KPIs)'][1]:.1f}x wall; validating the report's "
          f"figures as go.Figure alone costs {med['baseline: report figures as validated go.Figure'][0] / max(med['write_report'][0], 1e-9):.1f}x "
          "the whole write_report's CPU")
    print(machine_line(load, time.perf_counter() - start))


if __name__ == "__main__":
    main()
