"""What ``callao run`` does after the simulation, stage by stage:
``python benchmarks/bench_post.py [--years 1] [--repeat 3] [--seed 0]``; and the whole command:
``python benchmarks/bench_post.py --command 3 [--baseline OTHER/src] [--years 1]``.

One ``callao.simulate`` of the bundled Callao scenario, then ``--repeat`` times on a fresh copy of
its results (nothing cached): the KPIs (container summary + ``compute_kpis``), ``Results.write``
(Parquet tables in background threads while the KPIs are computed) and ``write_report``; CPU
seconds (``time.process_time``, all threads) and wall seconds, medians. Baselines in the same
process: the same tables written one after the other with pyarrow's default options and then the
KPIs (no overlap), and the report's figures validated as ``plotly.graph_objects`` figures (what the
report built before).

``--command N``: the installed console command itself, ``callao run --years Y`` (and ``callao
--help``, ``import callao``), N times in fresh processes pinned to one core, alternating with the
same command importing callao from ``--baseline`` (another tree's ``src/``, e.g. main's: ``git
archive COMMIT src | tar -x -C /tmp/base``): the process's CPU seconds (user + system, everything:
start-up, imports, simulation, KPIs, Parquet, report, exit) split at the run's stages, and wall
seconds; medians and ratios.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_simulation import THREAD_VARS, alternate, machine_line  # noqa: E402

import callao  # noqa: E402
from callao.report import write_report  # noqa: E402
from callao.report.figure import encoded  # noqa: E402
from callao.report.plots import sections  # noqa: E402


def timed(f) -> tuple[float, float]:
    """(CPU s, wall s) of ``f()``."""
    c, w = time.process_time(), time.perf_counter()
    f()
    return time.process_time() - c, time.perf_counter() - w


STAGED = """import json, os, sys, time
def mark(stage):
    with open(os.environ["CALLAO_BENCH_MARKS"], "a") as f:
        f.write(json.dumps([stage, time.process_time(), time.perf_counter()]) + "\\n")
mark("start")
import callao.report, callao.results, callao.sim
def timed(f, stage):
    def run(*args, **kwargs):
        mark("before " + stage)
        out = f(*args, **kwargs)
        mark(stage)
        return out
    return run
callao.sim.simulate = timed(callao.sim.simulate, "simulate")
callao.results.Results.write = timed(callao.results.Results.write, "write")
callao.report.write_report = timed(callao.report.write_report, "report")
from callao.cli import app
sys.argv[0] = "callao"
sys.exit(app())
"""
"""``callao`` as its console script runs it, writing the CPU and wall clock at each stage's start
and end to ``CALLAO_BENCH_MARKS``."""

COMMAND_STAGES = ("start-up, imports, scenario (to simulate)", "simulate", "Results.write (KPIs, Parquet)",
                  "write_report", "console output, exit")


def run_command(src: Path | None, argv: list[str], code: str = STAGED) -> dict:
    """``code`` with ``argv`` in a fresh process pinned to one core, importing callao from ``src``
    (None: this tree): its CPU seconds (user + system) and wall seconds, and the stage marks."""
    env = {**os.environ, **{v: "1" for v in THREAD_VARS}}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    core = min(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        marks = Path(tmp) / "marks"
        env["CALLAO_BENCH_MARKS"] = str(marks)
        before, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True,
                              cwd=tmp, preexec_fn=lambda: os.sched_setaffinity(0, {core}))
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            raise SystemExit(f"{argv}: exit code {proc.returncode}")
        stages = [json.loads(line) for line in marks.read_text().splitlines()] if marks.exists() else []
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu": cpu, "wall": wall, "marks": {name: (c, w) for name, c, w in stages}}


def command_stages(r: dict) -> dict[str, float]:
    """CPU seconds of each of :data:`COMMAND_STAGES` in one run of ``callao run``."""
    m = r["marks"]
    edges = [0.0, m["before simulate"][0], m["simulate"][0], m["write"][0], m["report"][0], r["cpu"]]
    return dict(zip(COMMAND_STAGES, (b - a for a, b in zip(edges[:-1], edges[1:]))))


def bench_command(args: argparse.Namespace) -> None:
    """The ``--command`` mode: the whole console command, this tree against ``--baseline``."""
    load, start = os.getloadavg(), time.perf_counter()
    run_argv = ["run", "--years", f"{args.years:g}", "--seed", str(args.seed), "--out", "out"]
    light = "import sys; from callao.cli import app; sys.argv[0] = 'callao'; sys.exit(app())"
    cases = {
        f"callao run --years {args.years:g}": lambda src: run_command(src, run_argv),
        "callao --help": lambda src: run_command(src, ["--help"], light),
        "python -c 'import callao'": lambda src: run_command(src, [], "import callao"),
    }
    runs = {name: alternate(args.baseline, range(args.command), lambda src, _r, f=f: f(src))
            for name, f in cases.items()}
    trees = list(runs[next(iter(cases))])
    print(f"the console command in fresh processes pinned to one core, medians of {args.command}; "
          f"CPU s (user + system){'; baseline: ' + str(args.baseline) if args.baseline else ''}")
    print(f"{'':52s}" + "".join(f"{t:>12s}" for t in trees) + ("       ratio" if len(trees) == 2 else ""))

    def row(label: str, values: list[float]) -> None:
        ratio = f"{values[1] / values[0]:11.2f}x" if len(values) == 2 and values[0] > 0 else ""
        print(f"{label:52s}" + "".join(f"{v:12.2f}" for v in values) + ratio)

    first = next(iter(cases))
    for stage in COMMAND_STAGES:
        row(f"  {stage}", [statistics.median(command_stages(r)[stage] for r in runs[first][t]) for t in trees])
    for name in cases:
        row(f"{name}, CPU s", [statistics.median(r["cpu"] for r in runs[name][t]) for t in trees])
    row(f"{first}, wall s", [statistics.median(r["wall"] for r in runs[first][t]) for t in trees])
    print(machine_line(load, time.perf_counter() - start))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--command", type=int, default=0, metavar="N",
                    help="time the whole console command N times instead (see the module's docstring)")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="with --command: another tree's src/ folder to alternate with")
    args = ap.parse_args()
    if args.command:
        bench_command(args)
        return
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
