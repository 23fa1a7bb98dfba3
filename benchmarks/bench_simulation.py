"""Simulation speed benchmark: ``python benchmarks/bench_simulation.py [--years 1] [--baseline-days 30]``.

(a) callao: ``callao.simulate("callao", seed)`` for ``--years`` years, split into the vessel stage
    (SimPy waterside) and the vectorised container stages (cargo build, yard/customs/gate), with
    containers/s and peak RSS, in a fresh subprocess pinned to one core;
(b) the process-per-container SimPy baseline (``benchmarks/simpy_baseline.py``) on the same
    vessel table, calls whose handling starts in the first ``--baseline-days`` days, in another
    fresh pinned subprocess;
(c) the ratios: callao containers/s ÷ baseline containers/s, for the whole run and like for like
    (container stages only; the baseline reuses callao's vessel table). Target ≥ 10×.

``--profile`` adds a cProfile of one ``callao.simulate`` (top functions by cumulative and own time).
Threads of BLAS/OpenMP are limited to one in the subprocesses; RSS is ``ru_maxrss``.
"""

from __future__ import annotations

import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS")
for _var in THREAD_VARS:  # before numpy is imported (here and, via the environment, in workers)
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

TARGET_S, TARGET_MB, TARGET_RATIO = 10.0, 2048.0, 10.0
"""'A few seconds' for one year is read as under 10 s."""


def pin_one_core() -> int | None:
    """Pin this process to one core (the lowest it may use); returns it, or None if unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _window_stats(c) -> dict:
    """A few means over a container table, to show both models do the same thing."""
    import numpy as np

    ch = c["customs_channel"]
    if str(ch.dtype) == "category":
        ch = ch.cat.codes
    ch = ch.to_numpy()
    flow = np.asarray(c["flow"].astype(str))
    imp, exp = flow == "import", flow == "export"
    wait = (c["t_inspection_start"] - c["t_customs_request"]).to_numpy()
    return {
        "import yard time, h (mean)": float(np.nanmean((c["t_yard_out"] - c["t_discharge"]).to_numpy()[imp])),
        "export yard time, h (mean)": float(np.nanmean((c["t_yard_out"] - c["t_yard_in"]).to_numpy()[exp])),
        "gate wait, min (mean)": float(np.nanmean(c["gate_wait_h"].to_numpy()) * 60),
        "scanner wait, h (mean)": float(np.nanmean(wait[ch == 2])) if (ch == 2).any() else float("nan"),
        "exam wait, h (mean)": float(np.nanmean(wait[ch == 3])) if (ch == 3).any() else float("nan"),
    }


# --- workers (each in its own subprocess) ---------------------------------------------------
def _scenario(args):
    """The bundled scenario, with export risk targeting switched off for ``--targeting off``."""
    from callao.scenario import load_scenario, merge, validate

    sc = load_scenario("callao")
    if args.targeting == "off" and getattr(sc.customs, "targeting", None) is not None:
        sc = validate(merge(sc.model_dump(by_alias=True), {"customs": {"targeting": None}}), sc.name)
    return sc


def worker_callao(args) -> dict:
    core = pin_one_core()
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd

    import callao
    import callao.sim.customs as customs
    from simpy_baseline import first_days

    import_s = time.perf_counter() - t0
    rss_import = _rss_mb()
    sc = _scenario(args)
    targeting = getattr(sc.customs, "targeting", None) is not None
    marks: dict[str, float] = {}
    spent = {"targeting_s": 0.0, "targeting_cpu_s": 0.0}

    def progress(fraction: float, stage: str) -> None:
        marks.setdefault(stage, time.perf_counter())

    if hasattr(customs, "target_exports"):  # time the export-targeting stage inside run_customs
        inner = customs.target_exports

        def timed(*a, **k):
            t, c = time.perf_counter(), time.process_time()
            try:
                return inner(*a, **k)
            finally:
                spent["targeting_s"] += time.perf_counter() - t
                spent["targeting_cpu_s"] += time.process_time() - c

        customs.target_exports = timed

    t_start, cpu_start = time.perf_counter(), time.process_time()
    r = callao.simulate(sc, seed=args.seed, years=args.years, progress=progress)
    t_end, cpu_s = time.perf_counter(), time.process_time() - cpu_start
    c = r.containers
    days = args.baseline_days
    win = first_days(r.vessels, days).index.to_numpy()
    flow = np.asarray(c["flow"].astype(str))
    inbound = np.isin(flow, ["import", "empty_in", "transship"])
    in_window = np.where(inbound, np.isin(c["vessel_in"].to_numpy(), win), np.isin(c["vessel_out"].to_numpy(), win))
    if args.vessels:
        pd.to_pickle({"scenario": r.scenario, "vessels": r.vessels}, args.vessels)
    return {
        "core": core, "targeting": targeting, "import_s": import_s, "rss_import_mb": rss_import,
        "rss_peak_mb": _rss_mb(), "total_s": t_end - t_start,
        "vessels_s": marks["containers"] - t_start,
        "build_s": marks["yard, customs, gate"] - marks["containers"],
        "landside_s": marks["done"] - marks["yard, customs, gate"],
        "results_s": t_end - marks["done"], "targeting_s": spent["targeting_s"],
        "cpu_s": cpu_s, "targeting_cpu_s": spent["targeting_cpu_s"],
        "calls": len(r.vessels), "containers": len(c), "teu": int(c["teu"].sum()),
        "window_containers": int(in_window.sum()),
        "stats": _window_stats(c.loc[in_window]),
    }


def worker_baseline(args) -> dict:
    core = pin_one_core()
    import pandas as pd

    from simpy_baseline import run_baseline

    data = pd.read_pickle(args.vessels)
    rss_import = _rss_mb()
    out = run_baseline(data["scenario"], data["vessels"], days=args.baseline_days, seed=args.seed)
    return {
        "core": core, "rss_import_mb": rss_import, "rss_peak_mb": _rss_mb(),
        **{k: out[k] for k in ("calls", "containers", "finished", "setup_s", "run_s", "table_s", "total_s")},
        "stats": _window_stats(out["table"]),
    }


def worker_profile(args) -> dict:
    import cProfile
    import io
    import pstats

    pin_one_core()
    import callao

    sc = _scenario(args)
    prof = cProfile.Profile()
    prof.enable()
    callao.simulate(sc, seed=args.seed, years=args.years)
    prof.disable()
    text = {}
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(10)
        lines = buf.getvalue().splitlines()
        head = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        text[key] = "\n".join([lines[next(i for i, l in enumerate(lines) if "function calls" in l)].strip()]
                              + lines[head:head + 11])
    return text


WORKERS = {"callao": worker_callao, "baseline": worker_baseline, "profile": worker_profile}


def run_worker(name: str, args, vessels: Path | None, targeting: str = "on") -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--targeting", targeting,
           "--years", str(args.years), "--baseline-days", str(args.baseline_days), "--seed", str(args.seed)]
    if vessels is not None:
        cmd += ["--vessels", str(vessels)]
    env = {**os.environ, **{v: "1" for v in THREAD_VARS}}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker {name!r} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the report -------------------------------------------------------------------------------
def run_in_tree(script: str, src: Path | None, argv: list[str]) -> dict:
    """``script --worker ARGV`` in a fresh process with BLAS/OpenMP threads = 1, importing callao
    from another source tree's ``src/`` folder (``CALLAO_BENCH_SRC``; None: this tree): the JSON of
    its last output line, with the 1-minute load average before it started."""
    env = {**os.environ, **{v: "1" for v in THREAD_VARS}}
    if src is not None:
        env["CALLAO_BENCH_SRC"] = str(src)
    load = os.getloadavg()[0]
    proc = subprocess.run([sys.executable, str(Path(script).resolve()), "--worker", *argv], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker failed with exit code {proc.returncode}")
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "load": load}


def alternate(baseline: Path | None, rounds, run) -> dict[str, list[dict]]:
    """``run(src, r)`` for each round ``r`` on this tree and, with ``baseline``, on that tree too,
    alternating so that both see the same load: the runs by tree ("this tree", "baseline")."""
    trees = {"this tree": None} | ({"baseline": baseline.resolve()} if baseline else {})
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    for r in rounds:
        for name, src in trees.items():
            runs[name].append(run(src, r))
    return runs


def machine_line(load_start: tuple, wall_s: float) -> str:
    """The machine, the load average at the start and now, the versions and the benchmark's wall
    time: the line every benchmark ends with."""
    n_aff = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"machine: {os.cpu_count()} CPUs ({n_aff} usable), {cpu_model()}, {platform.system()} "
            f"{platform.release()}; load average at start {', '.join(f'{x:.2f}' for x in load_start)}, "
            f"at end {', '.join(f'{x:.2f}' for x in os.getloadavg())}; {versions()}; "
            f"benchmark wall time {wall_s:.0f} s")


def versions() -> str:
    import numpy
    import pandas
    import simpy

    import callao

    return (f"Python {platform.python_version()}, callao {callao.__version__}, numpy {numpy.__version__}, "
            f"pandas {pandas.__version__}, simpy {simpy.__version__}")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def report(args, cols: dict[str, dict], bl: dict, profs: dict[str, dict], wall_s: float) -> None:
    """``cols``: callao runs by column title (the last one is the like-for-like one)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=150)
    n_affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    bl_rate = bl["containers"] / bl["total_s"]
    bl_rate_run = bl["containers"] / bl["run_s"]
    first = next(iter(cols.values()))
    for ca in cols.values():
        ca["container_s"] = ca["build_s"] + ca["landside_s"] + ca["results_s"]
        ca["rate_all"] = ca["containers"] / ca["total_s"]
        ca["rate_cont"] = ca["containers"] / ca["container_s"]

    table = Table(title=f"callao simulation speed: {args.years:g} simulated year(s), seed {args.seed}, each run in "
                        f"a fresh process pinned to core {first['core']}, BLAS/OpenMP threads = 1",
                  title_justify="left")
    table.add_column("metric")
    for title in cols:
        table.add_column(title, justify="right")
    table.add_column(f"SimPy per-container\n(calls of first {args.baseline_days:g} d)", justify="right")

    def s(x: float) -> str:
        return f"{x:,.2f} s"

    def row(label: str, key, baseline: str = "") -> None:
        table.add_row(label, *[key(ca) if callable(key) else key for ca in cols.values()], baseline)

    row("vessel calls", lambda ca: f"{ca['calls']:,}", f"{bl['calls']:,} (callao's table)")
    row("containers", lambda ca: f"{ca['containers']:,} ({ca['teu'] / 1e6:.2f} M TEU)",
        f"{bl['containers']:,} ({bl['finished']:,} done)")
    best_of = f" (best of {args.repeat})" if args.repeat > 1 else ""
    row("wall time, whole run" + best_of, lambda ca: s(ca["total_s"]), s(bl["total_s"]))
    row("  vessels (SimPy waterside)", lambda ca: s(ca["vessels_s"]), "reused")
    row("  containers: build table", lambda ca: s(ca["build_s"]), s(bl["setup_s"]) + " setup")
    row("  containers: yard/customs/gate", lambda ca: s(ca["landside_s"] + ca["results_s"]),
        s(bl["run_s"]) + " env.run()")
    if any(ca["targeting"] for ca in cols.values()):
        row("    of which export risk targeting", lambda ca: s(ca["targeting_s"]) if ca["targeting"] else "off", "not modelled")
    row("  containers: to DataFrame", "(included)", s(bl["table_s"]))
    row("containers/s, whole run (÷ SimPy)",
        lambda ca: f"{ca['rate_all']:,.0f} ([bold]{ca['rate_all'] / bl_rate:.1f}×[/])", f"{bl_rate:,.0f}")
    row("containers/s, container stages (÷ SimPy)",
        lambda ca: f"{ca['rate_cont']:,.0f} ([bold]{ca['rate_cont'] / bl_rate:.1f}×[/])", f"{bl_rate:,.0f}")
    row("  ÷ SimPy env.run() alone", lambda ca: f"{ca['rate_cont'] / bl_rate_run:.1f}×", f"{bl_rate_run:,.0f}")
    row("one simulated year", lambda ca: s(ca["total_s"] / args.years),
        s(first["containers"] / args.years / bl_rate) + " (est.)")
    row("peak RSS (after imports)", lambda ca: f"{ca['rss_peak_mb']:,.0f} MB ({ca['rss_import_mb']:,.0f})",
        f"{bl['rss_peak_mb']:,.0f} MB ({bl['rss_import_mb']:,.0f})")
    row("import callao", lambda ca: s(ca["import_s"]), "")
    table.add_section()
    row(f"[dim]same-model check, calls of first {args.baseline_days:g} d: boxes[/]",
        lambda ca: f"[dim]{ca['window_containers']:,}[/]", f"[dim]{bl['finished']:,} done[/]")
    for key, v in bl["stats"].items():
        row(f"[dim]  {key}[/]", lambda ca: f"[dim]{ca['stats'][key]:.3f}[/]", f"[dim]{v:.3f}[/]")
    console.print(table)

    ok = lambda b: "[green]OK[/]" if b else "[red]MISSED[/]"  # noqa: E731
    like = list(cols.values())[-1]
    parts = []
    for title, ca in cols.items():
        per_year = ca["total_s"] / args.years
        name = title.replace("\n", " ")
        parts.append(f"{name}: one year {per_year:.1f} s < {TARGET_S:g} s {ok(per_year < TARGET_S)}, "
                     f"peak {ca['rss_peak_mb']:,.0f} MB < {TARGET_MB:,.0f} MB {ok(ca['rss_peak_mb'] < TARGET_MB)}")
    ratio = like["rate_cont"] / bl_rate
    parts.append(f"like-for-like ratio (container stages, last callao column ÷ SimPy) "
                 f"{ratio:.1f}× ≥ {TARGET_RATIO:g}× {ok(ratio >= TARGET_RATIO)}")
    console.print("targets:\n  " + "\n  ".join(parts))
    load = ", ".join(f"{x:.2f}" for x in args.load_at_start) if args.load_at_start else "n/a"
    console.print(f"machine: {os.cpu_count()} CPUs ({n_affinity} usable), {cpu_model()}, {platform.system()} "
                  f"{platform.release()}, load average at start {load}\n"
                  f"versions: {versions()}", highlight=False)
    for title, prof in profs.items():
        console.print(f"\ncProfile of one callao.simulate, {title} (profiler overhead inflates times), "
                      "top 10 cumulative:", highlight=False)
        console.print(prof["cumulative"], highlight=False, markup=False)
        console.print("top 10 by own time:", highlight=False)
        console.print(prof["tottime"], highlight=False, markup=False)
    console.print(f"benchmark wall time {wall_s:.0f} s", style="dim")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=1.0, help="simulated years for callao (default 1)")
    ap.add_argument("--baseline-days", type=float, default=30.0,
                    help="the SimPy baseline runs the calls whose handling starts in these first days")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each variant and of the baseline (fresh processes); the fastest is shown")
    ap.add_argument("--profile", action="store_true", help="also cProfile one callao.simulate per variant")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--vessels", help=argparse.SUPPRESS)
    ap.add_argument("--targeting", choices=("on", "off"), default="on", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args)))
        return

    t0 = time.perf_counter()
    args.load_at_start = os.getloadavg() if hasattr(os, "getloadavg") else None

    def best(targeting: str, vessels: Path | None) -> dict:
        runs = [run_worker("callao", args, vessels, targeting) for _ in range(max(args.repeat, 1))]
        out = min(runs, key=lambda r: r["total_s"])
        out["rss_peak_mb"] = max(r["rss_peak_mb"] for r in runs)
        out["repeats"] = len(runs)
        return out

    with tempfile.TemporaryDirectory(prefix="callao-bench-") as tmp:
        vessels = Path(tmp) / "vessels.pkl"
        bundled = best("on", vessels)
        cols = {"callao as bundled\n(export targeting on)" if bundled["targeting"] else "callao (vectorised)": bundled}
        variants = ["on"]
        if bundled["targeting"]:  # the baseline does not model targeting: compare without it too
            cols["callao, targeting off\n(like for like)"] = best("off", vessels)
            variants.append("off")
        bls = [run_worker("baseline", args, vessels) for _ in range(max(args.repeat, 1))]
        bl = min(bls, key=lambda r: r["total_s"])
        bl["rss_peak_mb"] = max(r["rss_peak_mb"] for r in bls)
        profs = {}
        if args.profile:
            for v in variants:
                profs["targeting " + v if bundled["targeting"] else "bundled scenario"] = run_worker("profile", args, None, v)
    report(args, cols, bl, profs, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
