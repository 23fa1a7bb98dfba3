"""Replications per minute of the bundled Callao scenario: in-process, and on 1 and 2 local Dask
workers; scaling efficiency = rate(2 workers) / (2 × rate(1 worker)).

    .venv/bin/python benchmarks/bench_experiments.py                 # 0.25 simulated years per replication
    .venv/bin/python benchmarks/bench_experiments.py --years 1       # full years (slower)

Each configuration runs the same replications (same seeds) into a fresh folder, ``--repeat`` times
(best kept); the Dask cluster is started and its workers are set up and warm (``DaskExecutor``) before the clock
starts.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from rich.console import Console
from rich.table import Table

from callao.experiments import DaskExecutor, LocalExecutor, run_replications, variant
from callao.experiments.dask_worker import warm_engine


def _warm(client) -> None:
    client.run(warm_engine)  # a no-op: the executor's worker plugin has warmed each worker


def measure(executor, replications: int, years: float, scenario: str, repeat: int = 1) -> float:
    """Replications per minute for ``replications`` replications of ``scenario``: the best of
    ``repeat`` timings (each into a fresh folder), as other work on the machine only slows it down."""
    v = [variant(scenario, years=years)]
    best = 0.0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            run_replications(v, replications, out, seed=0, executor=executor)
            best = max(best, replications / (time.perf_counter() - started) * 60.0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=float, default=0.25, help="simulated years per replication (default 0.25)")
    ap.add_argument("--replications", type=int, default=8, help="replications per configuration (default 8)")
    ap.add_argument("--scenario", default="callao", help="bundled scenario (default callao)")
    ap.add_argument("--repeat", type=int, default=2, help="timings per configuration, best kept (default 2)")
    ap.add_argument("--skip-local", action="store_true", help="skip the in-process reference")
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    rows = []
    if not args.skip_local:
        measure(LocalExecutor(), 1, min(args.years, 0.02), args.scenario)  # warm caches and imports
        rows.append(("in-process", 1, measure(LocalExecutor(), args.replications, args.years, args.scenario,
                                              args.repeat)))
    rates = {}
    for workers in (1, 2):
        with DaskExecutor(workers=workers) as ex:
            _warm(ex.client)
            rates[workers] = measure(ex, args.replications, args.years, args.scenario, args.repeat)
        rows.append((f"Dask LocalCluster, {workers} worker(s)", workers, rates[workers]))
    efficiency = rates[2] / (2 * rates[1])

    table = Table(title=f"{args.scenario}: {args.replications} replications of {args.years:g} simulated year(s) "
                        f"on {os.cpu_count()} CPU(s), best of {args.repeat}", title_justify="left")
    table.add_column("executor", no_wrap=True)
    table.add_column("workers", justify="right")
    table.add_column("replications / min", justify="right")
    table.add_column("s / replication", justify="right")
    for name, workers, rate in rows:
        table.add_row(name, str(workers), f"{rate:.1f}", f"{60 / rate:.2f}")
    console = Console()
    console.print(table)
    console.print(f"scaling efficiency, 2 vs 1 Dask worker(s): rate2 / (2 x rate1) = {efficiency:.2f}")
    console.print(f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}: other work on "
                  "the machine lowers the rates and the efficiency")


if __name__ == "__main__":
    main()
