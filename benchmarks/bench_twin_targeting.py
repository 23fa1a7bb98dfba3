"""The twin's export targeting, speed and detection over seeds: ``python benchmarks/bench_twin_targeting.py
[--seeds 12] [--years 1] [--baseline /path/to/other/src]``.

For each seed, a fresh process pinned to one core (BLAS/OpenMP threads = 1) runs
``callao.simulate("callao", seed, years)`` and records, from the targeting stage
(``callao.sim.customs.target_exports``): its CPU seconds, the cocaine loads shipped and found and
the kilograms seized. With ``--baseline`` (another source tree, e.g. main's ``src/``) the same seeds
run alternately on both trees; the upstream stages are the same, so each seed's targeting sees the
same boxes in both, and the paired differences (this tree − baseline) get a 95% t interval over the
seeds. A cheaper model must not find fewer loads: the interval of the paired difference should
include 0 or be positive. Prints medians of the CPU seconds and the load average.
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


def worker(args) -> dict:
    """One seed in this fresh process: the targeting stage's CPU time and detection."""
    import time

    pin_one_core()
    if os.environ.get("CALLAO_BENCH_SRC"):
        sys.path.insert(0, os.environ["CALLAO_BENCH_SRC"])
    import callao
    import callao.sim.customs as customs

    inner, out = customs.target_exports, {}

    def timed(*a, **k):
        t = time.process_time()
        o = inner(*a, **k)
        out["cpu_s"] = time.process_time() - t
        loaded = o.contraband_kg > 0
        out.update(loads=int(loaded.sum()), found=int(o.found.sum()),
                   seized_t=float(o.contraband_kg[o.found].sum()) / 1000.0)
        return o

    customs.target_exports = timed
    callao.simulate("callao", args.seed, years=args.years)
    return out


def interval(d: list[float]) -> str:
    """Mean of paired differences with its 95% t interval."""
    from callao.validation import mean_ci  # in the parent only: a worker imports callao from its tree

    m, lo, hi = mean_ci(d)
    return f"{m:+.2f}" if len(d) < 2 else f"{m:+.2f} [{lo:+.2f}, {hi:+.2f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=12, help="how many seeds (default 12)")
    ap.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0): seeds first..first+N-1")
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--baseline", type=Path, help="another source tree (its src/ folder) to compare with")
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    runs = alternate(args.baseline, seeds,
                     lambda src, seed: run_in_tree(__file__, src, ["--seed", str(seed), "--years", str(args.years)]))
    trees = list(runs)
    print(f"callao.simulate('callao', seed, years={args.years:g}), seeds {seeds[0]}..{seeds[-1]}, targeting stage:")
    print(f"{'':34s}" + "".join(f"{name:>22s}" for name in trees))
    for key, label in (("found", "loads found (mean ± sd)"), ("seized_t", "seized t (mean ± sd)"),
                       ("loads", "loads shipped (mean ± sd)")):
        cells = []
        for name in trees:
            v = [r[key] for r in runs[name]]
            cells.append(f"{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}" if len(v) > 1 else f"{v[0]:.2f}")
        print(f"{label:34s}" + "".join(f"{c:>22s}" for c in cells))
    print(f"{'CPU s of the stage (median)':34s}"
          + "".join(f"{statistics.median(r['cpu_s'] for r in runs[n]):22.2f}" for n in trees))
    print(f"{'load average (1 min, median)':34s}"
          + "".join(f"{statistics.median(r['load'] for r in runs[n]):22.1f}" for n in trees))
    print("found per seed: " + "; ".join(f"{n}: {' '.join(str(r['found']) for r in runs[n])}" for n in trees))
    if args.baseline:
        for key, label in (("found", "loads found"), ("seized_t", "seized t"), ("cpu_s", "CPU s")):
            d = [a[key] - b[key] for a, b in zip(runs["this tree"], runs["baseline"])]
            print(f"paired difference, this tree − baseline, {label}: {interval(d)}")


if __name__ == "__main__":
    main()
