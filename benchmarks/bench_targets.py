"""Issue 12's targets, each with its value measured on this machine:
``python benchmarks/bench_targets.py [--repeat 3] [--long-years 20] [--replications 8] [--skip-conflowgen]``.

It runs the existing benchmarks' workers (no copies), each in a fresh subprocess pinned to one core
with BLAS/OpenMP threads = 1, ``--repeat`` times, and prints medians with the 1-minute load average
before each run:

* a bundled Callao year with targeting, ``callao.simulate``: CPU seconds on one core, and the export
  targeting stage's share of them (``bench_simulation.py``'s worker; imports not counted);
* ``callao run`` for a year end to end, as a user types it (interpreter start, imports, simulation,
  Parquet, kpis.json, report.html): wall and CPU seconds, the report's size, the process's peak
  resident memory; and the peak for a ``--long-years`` run (memory flat in the horizon);
* one-year replications a minute on 2 local Dask workers (``bench_replications.py``'s timing, on a
  ``LocalCluster``; that script also checks a command-line cluster);
* ``callao run`` ÷ ConFlowGen in containers per second, wall and CPU (``bench_field.py``, which
  installs ConFlowGen into its own environment on first use; ``--skip-conflowgen`` leaves it out).

Timings on a machine shared with other jobs are pessimistic; the CPU-time figures are the steadier.
"""

from __future__ import annotations

import os

from bench_simulation import THREAD_VARS

for _var in THREAD_VARS:  # before numpy is imported (here and, via the environment, in workers)
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_field  # noqa: E402
import bench_simulation  # noqa: E402

TARGETS = {  # issue 12: name -> (goal, how it is compared)
    "simulate_cpu_s": 1.5, "targeting_share": 1 / 3, "run_wall_s": 3.0, "report_mb": 5.0,
    "long_rss_mb": 2048.0, "replications_per_min": 60.0, "vs_conflowgen": 1000.0,
}


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _loads(runs: list[dict]) -> str:
    loads = [r["load"] for r in runs]
    return f"{statistics.median(loads):.1f}" + (f" ({min(loads):.1f}–{max(loads):.1f})" if len(loads) > 1 else "")


def measure_simulate(args) -> list[dict]:
    """``callao.simulate`` of a bundled year with targeting, ``--repeat`` fresh pinned processes."""
    sim_args = argparse.Namespace(years=args.years, baseline_days=1.0, seed=args.seed)
    runs = []
    for _ in range(args.repeat):
        load = os.getloadavg()[0]
        runs.append({**bench_simulation.run_worker("callao", sim_args, None), "load": load})
    return runs


def measure_long_run(args) -> list[dict]:
    """``callao run --years LONG`` once (its peak memory is what counts)."""
    long_args = argparse.Namespace(years=args.long_years, days=args.days, seed=args.seed)
    return [bench_field.run_worker("run", long_args)]


def measure_replications(args) -> dict:
    """One-year replications a minute on 2 local single-threaded Dask workers (median of --repeat)."""
    from bench_replications import WORKERS, _warm, measure

    from callao.experiments import DaskExecutor

    with DaskExecutor(workers=WORKERS) as ex:
        _warm(ex.client, WORKERS)
        return measure(ex, args.replications, args.years, "callao", args.repeat)


def report(args, sim: list[dict], field: dict[str, dict], long_run: list[dict], reps: dict | None,
           load_start: tuple, wall_s: float) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=170)
    table = Table(title=f"Issue 12's targets on this machine: medians of {args.repeat} run(s) (fresh processes "
                        "pinned to one core, BLAS/OpenMP threads = 1)", title_justify="left")
    for col, just in (("target", "left"), ("goal", "right"), ("measured", "right"), ("verdict", "left"),
                      ("load 1 min", "right"), ("printed by", "left")):
        table.add_column(col, justify=just, no_wrap=col in ("goal", "measured", "verdict"))
    ok = lambda good: "[green]OK[/]" if good else "[red]MISSED[/]"  # noqa: E731
    years = f"{args.years:g} y"

    cpu, tgt = _median(sim, "cpu_s"), _median(sim, "targeting_cpu_s")
    share = statistics.median(r["targeting_cpu_s"] / r["cpu_s"] for r in sim)
    table.add_row(f"callao.simulate, a bundled year with targeting, CPU s on one core ({years})",
                  f"≤ {TARGETS['simulate_cpu_s']:g} s", f"{cpu:.2f} s", ok(cpu <= TARGETS["simulate_cpu_s"]),
                  _loads(sim), "bench_simulation.py (worker)")
    table.add_row("  of which export targeting (CPU s, share)", "≤ 1/3",
                  f"{tgt:.2f} s, {share:.0%}", ok(share <= TARGETS["targeting_share"]), _loads(sim), "")
    table.add_row("  of which the rest (vessels, containers, yard, gate, customs queues)", "",
                  f"{cpu - tgt:.2f} s", "", "", "")
    table.add_row("  wall s (same runs)", "", f"{_median(sim, 'total_s'):.2f} s", "", "", "")
    run = field["callao run"]
    runs = run["runs"]
    table.add_row(f"callao run end to end, wall s ({years})", f"≤ {TARGETS['run_wall_s']:g} s",
                  f"{run['wall_s']:.2f} s", ok(run["wall_s"] <= TARGETS["run_wall_s"]), _loads(runs),
                  "bench_field.py (callao run)")
    table.add_row("  CPU s (same runs)", f"≤ {TARGETS['run_wall_s']:g} s", f"{run['cpu_s']:.2f} s",
                  ok(run["cpu_s"] <= TARGETS["run_wall_s"]), "", "")
    report_mb, files_mb = _median(runs, "report_mb"), _median(runs, "files_mb")
    table.add_row("  report.html size (all files)", f"≤ {TARGETS['report_mb']:g} MB",
                  f"{report_mb:.1f} MB ({files_mb:.0f} MB)", ok(report_mb <= TARGETS["report_mb"]), "", "")
    table.add_row(f"  peak resident memory, callao run --years {args.years:g}", "", f"{_median(runs, 'rss_peak_mb'):,.0f} MB",
                  "", "", "")
    lr = long_run[0]
    table.add_row(f"peak resident memory, callao run --years {args.long_years:g}",
                  f"< {TARGETS['long_rss_mb']:,.0f} MB", f"{lr['rss_peak_mb']:,.0f} MB",
                  ok(lr["rss_peak_mb"] < TARGETS["long_rss_mb"]), _loads(long_run), "bench_field.py (callao run)")
    table.add_row("  its wall / CPU s", "", f"{lr['wall_s']:.1f} / {lr['cpu_s']:.1f} s", "", "", "")
    if reps is not None:
        table.add_row(f"replications a minute, {args.replications} × {years} on 2 local Dask workers",
                      f"≥ {TARGETS['replications_per_min']:g}", f"{reps['rate']:.1f}",
                      ok(reps["rate"] >= TARGETS["replications_per_min"] and args.years == 1),
                      f"{reps['load']:.1f}", "bench_replications.py (LocalCluster)")
        table.add_row("  on CPU time (2 × 60 / worker CPU s per replication)", "",
                      f"{2 * 60 / reps['cpu_s']:.1f}", "", "", "")
    cfg = field.get("ConFlowGen")
    if cfg is not None:
        for basis, key in (("wall", "rate_wall"), ("CPU", "rate_cpu")):
            got = run[key] / cfg[key]
            table.add_row(f"callao run ÷ ConFlowGen, containers/s ({basis} time)",
                          f"≥ {TARGETS['vs_conflowgen']:,.0f}×", f"{got:,.0f}×", ok(got >= TARGETS["vs_conflowgen"]),
                          _loads(cfg["runs"]), "bench_field.py" if basis == "wall" else "")
    console.print(table)
    console.print(f"containers in the year: {run['containers']:,.0f}; callao run {run['rate_cpu']:,.0f} containers "
                  f"per CPU second" + (f", ConFlowGen {cfg['rate_cpu']:,.0f}" if cfg else ", ConFlowGen skipped"),
                  highlight=False)
    console.print(bench_simulation.machine_line(load_start, wall_s), highlight=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement; medians shown (default 3)")
    ap.add_argument("--years", type=float, default=1.0, help="simulated years of the one-year figures (default 1)")
    ap.add_argument("--long-years", type=float, default=20.0,
                    help="simulated years of the long run whose peak memory is shown (default 20)")
    ap.add_argument("--replications", type=int, default=8, help="replications per Dask timing (default 8)")
    ap.add_argument("--skip-replications", action="store_true", help="leave the Dask replications out")
    ap.add_argument("--days", type=float, default=2.0, help="days of Callao for ConFlowGen (default 2)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-conflowgen", action="store_true", help="leave ConFlowGen out (no venv needed)")
    args = ap.parse_args()
    if args.repeat < 1 or args.years <= 0 or args.long_years <= 0 or args.replications < 1:
        raise SystemExit("--repeat and --replications must be at least 1, --years and --long-years positive")

    t0 = time.perf_counter()
    load_start = os.getloadavg()
    sim = measure_simulate(args)
    print(f"simulate: {len(sim)} run(s) done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    field, _ = bench_field.collect(args)
    long_run = measure_long_run(args)
    print(f"long run done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    reps = None if args.skip_replications else measure_replications(args)
    report(args, sim, field, long_run, reps, load_start, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
