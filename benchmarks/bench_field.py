"""callao against the field: ``python benchmarks/bench_field.py [--repeat 3] [--years 1] [--days 2]``.

One benchmark run times, each in a fresh subprocess pinned to one core (BLAS/OpenMP threads = 1),
``--repeat`` times, interleaved, and prints the medians in containers per second:

* **callao run** — ``callao run callao --years YEARS`` end to end as a user types it: interpreter
  start, imports, simulation, Parquet tables, kpis.json and report.html;
* **callao.simulate** — the simulation alone (imports excluded), same scenario, seed and years;
* **SimPy per container** — ``benchmarks/simpy_baseline.py`` (one SimPy process per box) on callao's
  vessel table, the calls whose handling starts in the first ``--days`` days;
* **ConFlowGen** — ConFlowGen 3.0.1 (https://conflowgen.readthedocs.io), the open-source
  container-flow generator for seaport terminals, generating the same ``--days`` days of Callao.
  It runs in its own virtual environment, ``benchmarks/.venv-conflowgen``, which this script
  creates on first use (``python -m venv`` + ``pip install -r benchmarks/conflowgen-requirements.txt``,
  exact pins; about a minute). The timed part is ``ContainerFlowGenerationManager.generate()``;
  importing conflowgen and setting up its SQLite database are shown apart and not counted, and the
  database lives on tmpfs (``/dev/shm``) when there is one, so disk syncs do not slow it: both
  choices favour ConFlowGen.

How ConFlowGen is configured for Callao (from the same callao run the SimPy baseline uses):

* one ``PortCallManager.add_vehicle`` per call in the window (the calls whose handling starts in the
  first ``--days`` days: about 6 in two days, at 3.1 M TEU a year over Callao's two terminals),
  arriving at the call's simulated arrival hour; ``deep_sea_vessel`` for the ULCV, neo-Panamax and
  Panamax classes, ``feeder`` for the 2,000-TEU feeder class; vehicle capacity = the class's TEU
  capacity; inbound container volume = the call's discharged boxes (import, empty, transshipment)
  × the scenario's TEU per box; next destinations = the scenario's ports for the call's trade region;
* ``ModeOfTransportDistributionManager``: Callao moves containers by truck only (no container rail,
  no barges): of the boxes a vessel discharges, the import and empty shares go to trucks and the
  transshipment share to deep-sea vessels and feeders in proportion to the window's transshipment
  loads; truck-delivered boxes go to deep-sea vessels and feeders in proportion to the window's
  export and empty loads; train and barge rows are never used;
* ``ContainerLengthDistributionManager``: 20 ft / 40 ft from the scenario's ``forty_ft_share``;
* ``StorageRequirementDistributionManager``: the empty and reefer shares of the callao year's
  containers, by length (dangerous goods 0: callao does not model them);
* ConFlowGen's defaults for everything Callao's facts do not give (truck arrival and dwell-time
  distributions, container weights, transportation buffer 0.2); start date 2024-01-01.

Containers are counted as each tool reports them: callao's container table (every box moved, a
transshipment box once), the SimPy model's boxes, and the rows of ConFlowGen's ``Container`` table.
Rates are shown on wall time and on CPU time (user + system of the process): on a shared machine the
CPU-time rates are the steadier ones. Goal: the whole ``callao run`` at ≥ 1,000 × ConFlowGen's
containers per second.
"""

from __future__ import annotations

import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS")
for _var in THREAD_VARS:  # before numpy is imported (here and, via the environment, in workers)
    os.environ[_var] = "1"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_simulation import machine_line, pin_one_core  # noqa: E402  (one description of the machine)
CONFLOWGEN_VENV = HERE / ".venv-conflowgen"
CONFLOWGEN_REQUIREMENTS = HERE / "conflowgen-requirements.txt"
GOAL_RATIO = 1000.0
FEEDER_MAX_TEU = 3000
"""Vessel classes up to this capacity are ConFlowGen feeders; larger ones deep-sea vessels."""


def _cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


# --- workers (each in its own subprocess) ---------------------------------------------------
def worker_simulate(args) -> dict:
    """``callao.simulate`` of the bundled scenario; with ``--prepare``, also write the vessel table
    for the SimPy baseline and the container shares ConFlowGen is configured with."""
    core = pin_one_core()
    import numpy as np
    import pandas as pd

    import callao
    import callao.sim.customs  # noqa: F401  the targeting stage's LightGBM: an import, not simulation

    t0, c0 = time.perf_counter(), _cpu_s()
    r = callao.simulate("callao", seed=args.seed, years=args.years)
    wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    out = {"core": core, "wall_s": wall, "cpu_s": cpu, "containers": len(r.containers)}
    if args.prepare:
        c = r.containers
        flow = np.asarray(c["flow"].astype(str))
        empty = np.isin(flow, ["empty_in", "empty_out"])
        reefer = c["reefer"].to_numpy() & ~empty
        size = c["size_ft"].to_numpy()
        shares = {}
        for ft in (20, 40):
            m = size == ft
            n = max(int(m.sum()), 1)
            shares[str(ft)] = {"empty": float(empty[m].sum() / n), "reefer": float(reefer[m].sum() / n)}
        pd.to_pickle({"scenario": r.scenario, "vessels": r.vessels, "storage_shares": shares}, args.prepare)
    return out


def worker_simpy(args) -> dict:
    """The process-per-container SimPy model on the calls of the first ``--days`` days."""
    core = pin_one_core()
    sys.path.insert(0, str(HERE.parent / "src"))
    sys.path.insert(0, str(HERE))
    import pandas as pd

    from simpy_baseline import run_baseline

    data = pd.read_pickle(args.prepare)
    c0 = _cpu_s()
    res = run_baseline(data["scenario"], data["vessels"], days=args.days, seed=args.seed)
    return {"core": core, "wall_s": res["total_s"], "cpu_s": _cpu_s() - c0, "containers": res["containers"],
            "calls": res["calls"]}


def worker_conflowgen(args) -> dict:
    """ConFlowGen on the Callao window described in the JSON file ``--spec`` (run by the
    interpreter of ``benchmarks/.venv-conflowgen``)."""
    import datetime as dt

    core = pin_one_core()
    spec = json.loads(Path(args.spec).read_text())
    t0 = time.perf_counter()
    import conflowgen as cf
    from conflowgen import ContainerLength, ModeOfTransport, StorageRequirement
    from conflowgen.domain_models.container import Container

    import_s = time.perf_counter() - t0
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="callao-conflowgen-",
                                     dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None) as db_dir:
        t1 = time.perf_counter()
        chooser = cf.DatabaseChooser(sqlite_databases_directory=db_dir)
        chooser.create_new_sqlite_database("callao.sqlite", overwrite=True)
        start = dt.date.fromisoformat(spec["start_date"])
        manager = cf.ContainerFlowGenerationManager()
        manager.set_properties(name="callao", start_date=start, end_date=start + dt.timedelta(days=spec["days"]))
        mot = {ModeOfTransport[k]: {ModeOfTransport[k2]: v for k2, v in row.items()}
               for k, row in spec["mode_of_transport"].items()}
        cf.ModeOfTransportDistributionManager().set_mode_of_transport_distribution(mot)
        cf.ContainerLengthDistributionManager().set_container_length_distribution(
            {ContainerLength[k]: v for k, v in spec["container_length"].items()})
        cf.StorageRequirementDistributionManager().set_storage_requirement_distribution(
            {ContainerLength[k]: {StorageRequirement[k2]: v for k2, v in row.items()}
             for k, row in spec["storage_requirement"].items()})
        ports = cf.PortCallManager()
        midnight = dt.datetime.combine(start, dt.time())
        for call in spec["calls"]:
            at = midnight + dt.timedelta(hours=call["arrival_h"])
            ports.add_vehicle(vehicle_type=ModeOfTransport[call["vehicle_type"]], service_name=call["name"],
                              vehicle_arrives_at=at.date(), vehicle_arrives_at_time=at.time().replace(microsecond=0),
                              vehicle_capacity=call["capacity_teu"], inbound_container_volume=call["inbound_teu"],
                              next_destinations=call["destinations"])
        setup_s = time.perf_counter() - t1
        t2, c2 = time.perf_counter(), _cpu_s()
        manager.generate()
        wall, cpu = time.perf_counter() - t2, _cpu_s() - c2
        containers = Container.select().count()
        chooser.close_current_connection()
    return {"core": core, "wall_s": wall, "cpu_s": cpu, "containers": containers, "import_s": import_s,
            "setup_s": setup_s, "version": cf.__version__, "on_tmpfs": str(db_dir).startswith(str(shm))}


def worker_run(args) -> dict:
    """``callao run`` end to end: the command as a user types it, timed from outside."""
    core = pin_one_core()
    exe = Path(sys.executable).with_name("callao")
    with tempfile.TemporaryDirectory(prefix="callao-bench-run-") as out:
        cmd = [str(exe), "run", "callao", "--seed", str(args.seed), "--years", str(args.years), "--out", out]
        c0 = _cpu_s(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        cpu = _cpu_s(resource.RUSAGE_CHILDREN) - c0
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            raise SystemExit(f"callao run failed with exit code {proc.returncode}")
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0  # KiB on Linux
        kpis = json.loads((Path(out) / "kpis.json").read_text())
        files_mb = sum(p.stat().st_size for p in Path(out).iterdir()) / 1e6
        report_mb = (Path(out) / "report.html").stat().st_size / 1e6
    return {"core": core, "wall_s": wall, "cpu_s": cpu, "containers": int(kpis["containers_total"]),
            "files_mb": files_mb, "report_mb": report_mb, "rss_peak_mb": rss_mb}


WORKERS = {"simulate": worker_simulate, "simpy": worker_simpy, "conflowgen": worker_conflowgen,
           "run": worker_run}


def run_worker(name: str, args, python: str | Path | None = None, **extra) -> dict:
    """Run one worker in a fresh subprocess; returns its JSON result with the load average beside."""
    cmd = [str(python or sys.executable), str(Path(__file__).resolve()), "--worker", name,
           "--years", str(args.years), "--days", str(args.days), "--seed", str(args.seed)]
    for key, value in extra.items():
        cmd += [f"--{key}", str(value)]
    env = {**os.environ, **{v: "1" for v in THREAD_VARS}}
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark worker {name!r} failed with exit code {proc.returncode}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["load"] = load
    return result


# --- ConFlowGen's environment and its Callao configuration --------------------------------------
def conflowgen_python() -> Path:
    """The interpreter of ``benchmarks/.venv-conflowgen``, created and filled on first use (again
    whenever the pinned requirements change)."""
    python = CONFLOWGEN_VENV / "bin" / "python"
    stamp = CONFLOWGEN_VENV / ".installed"
    want = hashlib.sha256(CONFLOWGEN_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return python
    print(f"installing ConFlowGen into {CONFLOWGEN_VENV} (first run only, about a minute)...", file=sys.stderr)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(CONFLOWGEN_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(CONFLOWGEN_REQUIREMENTS)], check=True)
    stamp.write_text(want + "\n")
    return python


def conflowgen_spec(prepared: Path, days: float) -> dict:
    """ConFlowGen's inputs for the calls of the first ``days`` days of a callao run (see the module
    docstring); the same calls the SimPy baseline moves."""
    import pandas as pd

    from simpy_baseline import first_days

    data = pd.read_pickle(prepared)
    sc, v = data["scenario"], data["vessels"]
    teu_per_box = 1.0 + sc.cargo.forty_ft_share
    capacity = {c.name: c.teu_capacity for c in sc.vessel_classes}
    win = first_days(v, days).copy()
    win["type"] = ["feeder" if capacity[c] <= FEEDER_MAX_TEU else "deep_sea_vessel" for c in win["vessel_class"]]
    calls = []
    for row in win.itertuples():
        ports = sc.cargo.destinations.get(row.region) or {"elsewhere": 1.0}
        inbound = row.n_import + row.n_empty_in + row.n_transship_in
        calls.append({"name": f"{row.source}-{row.vessel_id}", "arrival_h": float(row.t_arrival),
                      "vehicle_type": row.type, "capacity_teu": int(capacity[row.vessel_class]),
                      "inbound_teu": int(round(inbound * teu_per_box)),
                      "destinations": [[p, float(s)] for p, s in ports.items()]})
    vessels = ("deep_sea_vessel", "feeder")
    by_type = win.groupby("type")[["n_import", "n_empty_in", "n_transship_in", "n_export", "n_empty_out",
                                   "n_transship_out"]].sum().reindex(list(vessels), fill_value=0)
    ts_out = by_type["n_transship_out"] / max(by_type["n_transship_out"].sum(), 1)
    hinter_out = (by_type["n_export"] + by_type["n_empty_out"])
    hinter_out = hinter_out / max(hinter_out.sum(), 1)
    modes = ("truck", "train", "barge", "feeder", "deep_sea_vessel")
    zero = dict.fromkeys(modes, 0.0)
    mot = {"truck": {**zero, **{t: float(hinter_out[t]) for t in vessels}}}
    mot["train"] = mot["barge"] = mot["truck"]  # never used: Callao has neither
    for t in vessels:
        inb = by_type.loc[t, ["n_import", "n_empty_in", "n_transship_in"]].sum()
        ts_share = by_type.loc[t, "n_transship_in"] / inb if inb else 0.2
        mot[t] = {**zero, "truck": float(1 - ts_share), **{u: float(ts_share * ts_out[u]) for u in vessels}}
    if win.empty or not (ts_out > 0).any() or not (hinter_out > 0).any():
        raise SystemExit(f"the first {days:g} days have too few calls to configure ConFlowGen; raise --days")
    forty = sc.cargo.forty_ft_share
    storage = {}
    for length, ft in (("twenty_feet", "20"), ("forty_feet", "40"), ("forty_five_feet", "40"), ("other", "40")):
        s = data["storage_shares"][ft]
        storage[length] = {"empty": s["empty"], "reefer": s["reefer"], "dangerous_goods": 0.0,
                           "standard": 1.0 - s["empty"] - s["reefer"]}
    return {"start_date": "2024-01-01", "days": max(1, int(round(days))), "calls": calls,
            "mode_of_transport": mot,
            "container_length": {"twenty_feet": 1 - forty, "forty_feet": forty, "forty_five_feet": 0.0,
                                 "other": 0.0},
            "storage_requirement": storage,
            "window": {"calls": len(win), "boxes": int(win[["n_import", "n_empty_in", "n_transship_in", "n_export",
                                                           "n_empty_out", "n_transship_out"]].to_numpy().sum()),
                       "vessels_per_year": len(v) / (v["t_arrival"].max() / (365 * 24.0))}}


# --- the report -------------------------------------------------------------------------------
def _x(ratio: float) -> str:
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.2g}×"


def summarise(runs: list[dict]) -> dict:
    """Medians over repeated runs: times, rates on wall and CPU time, load average before each."""
    med = statistics.median
    return {"n": len(runs), "containers": med(r["containers"] for r in runs),
            "wall_s": med(r["wall_s"] for r in runs), "cpu_s": med(r["cpu_s"] for r in runs),
            "rate_wall": med(r["containers"] / r["wall_s"] for r in runs),
            "rate_cpu": med(r["containers"] / max(r["cpu_s"], 1e-9) for r in runs),
            "load": med(r["load"] for r in runs), "load_range": (min(r["load"] for r in runs),
                                                                 max(r["load"] for r in runs)),
            "runs": runs}


def report(args, rows: dict[str, dict], spec: dict | None, load_start: tuple, wall_s: float) -> None:
    from rich.console import Console
    from rich.table import Table

    import callao

    console = Console(width=160)
    cfg = rows.get("ConFlowGen")
    simpy = rows["SimPy per container"]
    table = Table(title=f"Containers per second, median of {args.repeat} run(s) each (fresh processes pinned to "
                        "one core, BLAS/OpenMP threads = 1, interleaved)", title_justify="left")
    for col, just in (("tool", "left"), ("work", "left"), ("containers", "right"), ("wall s", "right"),
                      ("CPU s", "right"), ("containers/s wall", "right"), ("containers/s CPU", "right"),
                      ("÷ ConFlowGen wall / CPU", "right"), ("÷ SimPy wall / CPU", "right"),
                      ("load 1 min", "right")):
        table.add_column(col, justify=just, no_wrap=col in ("tool", "work"))
    win = spec["window"] if spec else None
    work = {"callao run": f"{args.years:g} y, end to end",
            "callao.simulate": f"{args.years:g} y, simulation",
            "SimPy per container": f"{args.days:g} d, {simpy['runs'][0]['calls']} calls",
            "ConFlowGen": f"{args.days:g} d, {win['calls']} calls" if win else ""}

    def ratio(a: dict, b: dict | None) -> str:
        if b is None:
            return "–"
        return f"{_x(a['rate_wall'] / b['rate_wall'])} / {_x(a['rate_cpu'] / b['rate_cpu'])}"

    for name, s in rows.items():
        lo, hi = s["load_range"]
        table.add_row(name, work[name], f"{s['containers']:,.0f}", f"{s['wall_s']:.2f}", f"{s['cpu_s']:.2f}",
                      f"{s['rate_wall']:,.0f}", f"{s['rate_cpu']:,.0f}",
                      ratio(s, cfg) if name != "ConFlowGen" else "1×",
                      ratio(s, simpy) if name != "SimPy per container" else "1×",
                      f"{s['load']:.1f} ({lo:.1f}–{hi:.1f})")
    console.print(table)
    if cfg is not None:
        r = cfg["runs"][0]
        console.print(f"ConFlowGen {r['version']}: import {r['import_s']:.1f} s and database + schedules set-up "
                      f"{r['setup_s']:.1f} s not counted; SQLite on {'tmpfs' if r['on_tmpfs'] else 'disk'}. "
                      f"Window: {win['calls']} calls, {win['boxes']:,} boxes in callao's table "
                      f"(callao's year: {win['vessels_per_year']:,.0f} calls, i.e. "
                      f"{win['vessels_per_year'] * args.days / 365:.1f} in {args.days:g} days on average).",
                      highlight=False)
        run = rows["callao run"]
        for basis, key in (("wall", "rate_wall"), ("CPU", "rate_cpu")):
            got = run[key] / cfg[key]
            verdict = "[green]OK[/]" if got >= GOAL_RATIO else "[red]MISSED[/]"
            console.print(f"goal, callao run ÷ ConFlowGen containers/s ({basis} time): {got:,.0f}× ≥ "
                          f"{GOAL_RATIO:,.0f}× {verdict}")
    rr = rows["callao run"]["runs"][0]
    console.print(f"callao run output: {rr['files_mb']:.0f} MB of files, report.html {rr['report_mb']:.1f} MB",
                  highlight=False)
    console.print(machine_line(load_start, wall_s), highlight=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=1.0, help="simulated years for callao (default 1)")
    ap.add_argument("--days", type=float, default=2.0,
                    help="days of Callao for ConFlowGen and the SimPy baseline (default 2)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each tool; medians are shown (default 3)")
    ap.add_argument("--skip-conflowgen", action="store_true", help="leave ConFlowGen out (no venv needed)")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--prepare", help=argparse.SUPPRESS)
    ap.add_argument("--spec", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args)))
        return
    if args.repeat < 1 or args.years <= 0 or args.days <= 0:
        raise SystemExit("--repeat must be at least 1, --years and --days positive")

    t0 = time.perf_counter()
    load_start = os.getloadavg()
    rows, spec = collect(args)
    report(args, rows, spec, load_start, time.perf_counter() - t0)


def collect(args) -> tuple[dict[str, dict], dict | None]:
    """Run every tool ``args.repeat`` times, interleaved; medians per tool (:func:`summarise`) and
    ConFlowGen's Callao configuration (None with ``args.skip_conflowgen``)."""
    t0 = time.perf_counter()
    python = None if args.skip_conflowgen else conflowgen_python()
    runs: dict[str, list[dict]] = {"callao run": [], "callao.simulate": [], "SimPy per container": [],
                                   "ConFlowGen": []}
    spec = None
    with tempfile.TemporaryDirectory(prefix="callao-bench-field-") as tmp:
        prepared, spec_file = Path(tmp) / "prepared.pkl", Path(tmp) / "conflowgen.json"
        for i in range(args.repeat):  # interleaved, so that changing load hits every tool alike
            extra = {"prepare": prepared} if i == 0 else {}
            runs["callao.simulate"].append(run_worker("simulate", args, **extra))
            if i == 0 and python is not None:
                spec = conflowgen_spec(prepared, args.days)
                spec_file.write_text(json.dumps(spec))
            runs["callao run"].append(run_worker("run", args))
            runs["SimPy per container"].append(run_worker("simpy", args, prepare=prepared))
            if python is not None:
                runs["ConFlowGen"].append(run_worker("conflowgen", args, python=python, spec=spec_file))
            print(f"field: run {i + 1}/{args.repeat} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return {name: summarise(r) for name, r in runs.items() if r}, spec


if __name__ == "__main__":
    main()
