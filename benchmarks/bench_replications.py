"""Replications per minute on 2 Dask workers, two ways: a ``LocalCluster`` (``callao compare
--workers 2``) and a cluster started from the command line (``dask scheduler`` + two ``dask worker``
processes on loopback, ``callao compare --scheduler tcp://...``), as a user with a real cluster runs it.

    .venv/bin/python benchmarks/bench_replications.py                      # 8 one-year replications
    .venv/bin/python benchmarks/bench_replications.py --replications 4 --repeat 1

Both clusters have 2 single-threaded worker processes, set up by ``DaskExecutor`` (its worker
plugin: profiler off, engine imported; see docs/experiments.md) before the clock starts; the one-off
warm-up is reported separately. Each timing runs the same replications (same seeds) into a fresh folder through
``run_replications``, the code path of ``callao compare``; the median of ``--repeat`` timings is
shown with the 1-minute load average before each. Target (issue 12): at least 60 one-year
replications a minute on 2 local workers, and the same rate per worker on the command-line cluster.
Workers started with ``dask worker`` keep Dask's default ``MALLOC_TRIM_THRESHOLD_=65536`` in their
environment, as a user's would; the executor's worker plugin undoes its effect at run time.
Besides wall-time rates, the workers' CPU seconds per replication are split into the CPU spent in
``simulate`` (the replication's thread) and the rest (KPIs, Dask's own threads): the overhead.
The CPU seconds per replication of the processes that run no replication (this client, the
scheduler and the nannies: one process for a LocalCluster, three on the command line) are shown
too: on a machine whose cores the workers use, they are taken from the workers.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from callao.experiments import DaskExecutor, run_replications, variant
from callao.experiments.dask_worker import warm_engine
from callao.experiments.replications import cpu_stats

TARGET_PER_MIN = 60.0
WORKERS = 2
BIN = Path(sys.executable).parent


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process's group (it was started in its own session), SIGKILL after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(wait)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def cli_cluster(workers: int, folder: Path, timeout_s: float = 180.0):
    """``dask scheduler`` and ``workers`` × ``dask worker --nthreads 1 --nworkers 1`` on 127.0.0.1;
    yields the scheduler address and the process ids of the scheduler and of the ``dask worker``
    processes (the nannies; each worker is a child of its nanny); every process is stopped on exit."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    procs: list[subprocess.Popen] = []

    def start(cmd: list[str], log: str) -> None:
        with open(folder / log, "wb") as f:
            procs.append(subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True))

    try:
        sched_file = folder / "scheduler.json"
        start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
               "--scheduler-file", str(sched_file)], "scheduler.log")
        deadline = time.monotonic() + timeout_s
        while not (sched_file.exists() and sched_file.stat().st_size):
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise SystemExit("dask scheduler did not start:\n" + (folder / "scheduler.log").read_text()[-2000:])
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        for i in range(workers):
            start([str(BIN / "dask"), "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
                   "--no-dashboard", "--name", f"w{i}", "--death-timeout", "60"], f"worker{i}.log")
        yield address, [p.pid for p in procs]
    finally:
        for p in reversed(procs):
            _stop(p)


def _cpu_fn():
    """A function giving its process's user + system CPU seconds, defined here so that it is
    shipped to the workers by value (they cannot import this script when it is imported as a
    module, e.g. by bench_targets.py)."""
    def process_cpu_s() -> float:
        import resource

        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    return process_cpu_s


def _warm(client, workers: int, timeout_s: float = 180.0) -> float:
    """Wait for the workers and make sure each is warm (the executor's plugin normally did it;
    a no-op then); returns the CPU seconds per worker used so far (start-up and warm-up)."""
    client.wait_for_workers(workers, timeout=timeout_s)
    client.run(warm_engine)
    used = client.run(_cpu_fn())
    return sum(used.values()) / len(used)


def _workers_cpu_s(client) -> tuple[float, float]:
    """User + system CPU seconds used so far by all the cluster's worker processes, and of them
    the seconds spent inside ``simulate`` by replications."""
    total = sum(client.run(_cpu_fn()).values())
    simulate = sum(s["simulate_s"] for s in client.run(cpu_stats).values())
    return total, simulate


def _processes_cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds used so far by this process and the processes ``pids``."""
    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in [os.getpid(), *pids])


def measure(executor, replications: int, years: float, scenario: str, repeat: int,
            others: list[int] = ()) -> dict:
    """Median replications per minute over ``repeat`` timings, each into a fresh folder; also the
    workers' CPU seconds per replication (steadier than wall time when the machine is shared) and
    those of this process and the processes ``others`` (scheduler, nannies)."""
    v = [variant(scenario, years=years)]
    rates, cpus, sims, hosts, loads = [], [], [], [], []
    for _ in range(repeat):
        loads.append(os.getloadavg()[0])
        with tempfile.TemporaryDirectory(prefix="callao-bench-reps-") as out:
            cpu0, sim0 = _workers_cpu_s(executor.client)
            host0 = _processes_cpu_s(list(others))
            started = time.perf_counter()
            run_replications(v, replications, out, seed=0, executor=executor)
            rates.append(replications / (time.perf_counter() - started) * 60.0)
            host1 = _processes_cpu_s(list(others))
            cpu1, sim1 = _workers_cpu_s(executor.client)
            cpus.append((cpu1 - cpu0) / replications)
            sims.append((sim1 - sim0) / replications)
            hosts.append((host1 - host0) / replications)
    return {"rate": statistics.median(rates), "rates": rates, "cpu_s": statistics.median(cpus),
            "simulate_s": statistics.median(sims), "host_s": statistics.median(hosts),
            "overhead_s": statistics.median([c - s for c, s in zip(cpus, sims)]), "load": statistics.median(loads)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=float, default=1.0, help="simulated years per replication (default 1)")
    ap.add_argument("--replications", type=int, default=8, help="replications per timing (default 8)")
    ap.add_argument("--scenario", default="callao", help="bundled scenario (default callao)")
    ap.add_argument("--repeat", type=int, default=2, help="timings per cluster, median shown (default 2)")
    args = ap.parse_args()
    if args.replications < 1 or args.repeat < 1 or args.years <= 0:
        raise SystemExit("--replications and --repeat must be at least 1, --years positive")

    load_start = os.getloadavg()
    started = time.perf_counter()
    rows = {}
    warm = {}
    with DaskExecutor(workers=WORKERS) as ex:
        warm["LocalCluster"] = _warm(ex.client, WORKERS)
        rows["LocalCluster (callao compare --workers 2)"] = measure(ex, args.replications, args.years,
                                                                   args.scenario, args.repeat)
    with tempfile.TemporaryDirectory(prefix="callao-bench-cluster-") as folder, \
            cli_cluster(WORKERS, Path(folder)) as (address, pids), DaskExecutor(scheduler=address) as ex:
        warm["command line"] = _warm(ex.client, WORKERS)
        rows[f"dask scheduler + {WORKERS} dask worker on loopback (--scheduler)"] = measure(
            ex, args.replications, args.years, args.scenario, args.repeat, others=pids)

    table = Table(title=f"{args.scenario}: {args.replications} replications of {args.years:g} simulated year(s) "
                        f"on {WORKERS} single-threaded Dask workers, median of {args.repeat}", title_justify="left")
    for col, just in (("cluster", "left"), ("replications / min", "right"), ("per worker / min", "right"),
                      ("s / replication / worker", "right"), ("all timings / min", "right"),
                      ("worker CPU s / replication", "right"), ("of which simulate", "right"),
                      ("outside simulate", "right"), ("client, scheduler, nannies CPU s / replication", "right"),
                      ("per worker / min, CPU time", "right"),
                      ("load 1 min", "right")):
        table.add_column(col, justify=just)
    for name, r in rows.items():
        table.add_row(name, f"{r['rate']:.1f}", f"{r['rate'] / WORKERS:.1f}", f"{60 * WORKERS / r['rate']:.1f}",
                      ", ".join(f"{x:.1f}" for x in r["rates"]), f"{r['cpu_s']:.2f}", f"{r['simulate_s']:.2f}",
                      f"{r['overhead_s']:.2f}", f"{r['host_s']:.2f}", f"{60 / r['cpu_s']:.1f}",
                      f"{r['load']:.1f}")
    console = Console(width=170)
    console.print(table)
    local, cli = rows.values()
    ok = lambda b: "[green]OK[/]" if b else "[red]MISSED[/]"  # noqa: E731
    if args.years == 1:
        console.print(f"target: ≥ {TARGET_PER_MIN:g} one-year replications/min on {WORKERS} local workers: "
                      f"{local['rate']:.1f} {ok(local['rate'] >= TARGET_PER_MIN)}")
    else:
        console.print("target (one-year replications/min): run with --years 1 to check it")
    console.print(f"command-line cluster per worker ÷ LocalCluster per worker: {cli['rate'] / local['rate']:.2f} "
                  f"{ok(cli['rate'] >= 0.9 * local['rate'])} on wall time, {local['cpu_s'] / cli['cpu_s']:.2f} "
                  f"{ok(local['cpu_s'] >= 0.9 * cli['cpu_s'])} on CPU time (target: the same rate, read as within 10%)")
    console.print("one-off start-up CPU s per worker (imports; not in the rates): "
                  + ", ".join(f"{k} {v:.1f}" for k, v in warm.items()), highlight=False)
    console.print("On a shared machine wall-time rates follow the load; CPU-time rates (60 / worker CPU s per "
                  "replication) show what each worker would do with a core to itself, without Dask's overhead "
                  "of waiting.")
    console.print(f"machine: {os.cpu_count()} CPUs; load average at start "
                  f"{', '.join(f'{x:.2f}' for x in load_start)}, at end {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
                  f"; benchmark wall time {time.perf_counter() - started:.0f} s", highlight=False)


if __name__ == "__main__":
    main()
