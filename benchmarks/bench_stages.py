"""CPU seconds of each stage of a simulated year: ``python benchmarks/bench_stages.py [--years 1] [--repeat 2]
[--baseline /path/to/other/src]``.

Each run is a fresh process pinned to one core (BLAS/OpenMP threads = 1) that times ``import callao``,
then ``callao.simulate("callao", seed)`` with the stage functions wrapped: the generated calls, vessels
(SimPy waterside), the container table, the kept rows shifted to the horizon's hours, customs (and the export targeting inside it, and its scanner/exam queues), the
gate (dual-cycle pairing, the lanes' queue), behaviour draws, truck arrivals, the corridor, and the
landside as a whole. With ``--baseline`` the same runs alternate with another source tree (e.g. the
main branch's ``src/``), so that both see the same load; medians are printed side by side (n/a: a
stage function that tree does not have).
"""

from __future__ import annotations

import os

from bench_simulation import THREAD_VARS, alternate, pin_one_core, run_in_tree

for _var in THREAD_VARS:
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent

STAGES = (  # (label, module, function): wrapped where the caller looks the function up
    ("calls (arrivals)", "callao.sim.engine", "vessel_calls"),
    ("vessels (SimPy waterside)", "callao.sim.waterside", "Waterside.run"),
    ("container table", "callao.sim.engine", "build_containers"),
    ("kept rows, shifted to the horizon", "callao.sim.engine", "_rows_shifted"),
    ("landside, all", "callao.sim.engine", "run_landside"),
    ("  customs, all", "callao.sim.customs", "run_customs"),
    ("    export targeting", "callao.sim.customs", "target_exports"),
    ("    scanner and exam queues", "callao.sim.customs", "fifo_wait"),
    ("  gate, all", "callao.sim.landside", "run_gate"),
    ("    dual-cycle pairing", "callao.sim.gate", "pair_dual_cycles"),
    ("    lanes (multi-server queue)", "callao.sim.gate", "multi_server_fifo_wait"),
    ("  behaviour draws", "callao.sim.landside", "behaviour_h"),
    ("  truck arrivals", "callao.sim.landside", "truck_arrivals"),
    ("  corridor", "callao.sim.landside", "corridor_times"),
)


def worker(args) -> dict:
    """One timed run (in this fresh process)."""
    import functools
    import importlib
    import time

    pin_one_core()
    if os.environ.get("CALLAO_BENCH_SRC"):  # before the tree bench_simulation put first on the path
        sys.path.insert(0, os.environ["CALLAO_BENCH_SRC"])
    t0 = time.process_time()
    import callao
    import callao.sim  # noqa: F401  the engine (``import callao`` alone is lazy since 2026-12-01)

    import_s = time.process_time() - t0
    t0 = time.process_time()
    import callao.sim.customs  # noqa: F401  LightGBM for the targeting stage (with `import callao` before issue 12)

    customs_import_s = time.process_time() - t0
    spent = dict.fromkeys((label for label, _, _ in STAGES), 0.0)
    for label, module, name in STAGES:
        owner = importlib.import_module(module)
        *path, attr = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        if not hasattr(owner, attr):  # a tree without this stage function: shown as n/a
            del spent[label]
            continue
        inner = getattr(owner, attr)

        def timed(*a, _inner=inner, _label=label, **k):
            t = time.process_time()
            try:
                return _inner(*a, **k)
            finally:
                spent[_label] += time.process_time() - t

        setattr(owner, attr, functools.wraps(inner)(timed))
        if module == "callao.sim.customs" and name == "run_customs":  # a caller that bound it at import
            landside = importlib.import_module("callao.sim.landside")
            if hasattr(landside, "run_customs"):
                landside.run_customs = getattr(owner, attr)
    t0 = time.process_time()
    r = callao.simulate("callao", args.seed, years=args.years)
    total = time.process_time() - t0
    assert Path(callao.__file__).resolve().is_relative_to(Path(os.environ.get("CALLAO_BENCH_SRC") or HERE.parent))
    return {"import callao": import_s, "import customs (LightGBM)": customs_import_s,
            "callao.simulate, all": total, **spent, "containers": len(r.containers)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=2, help="runs per source tree; medians shown (default 2)")
    ap.add_argument("--baseline", type=Path, help="another source tree (its src/ folder) to compare with")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return
    runs = alternate(args.baseline, range(args.repeat),
                     lambda src, _: run_in_tree(__file__, src, ["--years", str(args.years), "--seed", str(args.seed)]))
    trees = list(runs)
    for r in (r for rs in runs.values() for r in rs):
        r["  outside export targeting"] = r["callao.simulate, all"] - r["    export targeting"]
    keys = ["import callao", "import customs (LightGBM)", "callao.simulate, all", "  outside export targeting",
            *(s for s, _, _ in STAGES)]
    print(f"CPU seconds, median of {args.repeat} fresh pinned process(es); callao.simulate('callao', "
          f"{args.seed}, years={args.years:g}): {runs['this tree'][0]['containers']:,} containers")
    print(f"{'stage':38s}" + "".join(f"{name:>14s}" for name in trees))
    for key in keys:
        print(f"{key:38s}" + "".join(f"{statistics.median(r[key] for r in runs[n]):14.2f}" if key in runs[n][0]
                                     else f"{'n/a':>14s}" for n in trees))
    print(f"{'load average (1 min) before runs':38s}"
          + "".join(f"{statistics.median(r['load'] for r in runs[n]):14.1f}" for n in trees))


if __name__ == "__main__":
    main()
