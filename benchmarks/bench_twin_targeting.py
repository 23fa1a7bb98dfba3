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

from bench_simulation import THREAD_VARS, pin_one_core

for _var in THREAD_VARS:
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
T975 = {1: 12.71, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 19: 2.093, 24: 2.064, 29: 2.045}
"""Student t 97.5% quantiles by degrees of freedom (a missing df takes the next smaller listed)."""


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


def run(src: Path | None, seed: int, years: float) -> dict:
    env = {**os.environ, **{v: "1" for v in THREAD_VARS}}
    if src is not None:
        env["CALLAO_BENCH_SRC"] = str(src)
    load = os.getloadavg()[0]
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--seed", str(seed), "--years", str(years)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker failed with exit code {proc.returncode}")
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "load": load}


def interval(d: list[float]) -> str:
    """Mean of paired differences with its 95% t interval."""
    m = statistics.mean(d)
    if len(d) < 2:
        return f"{m:+.2f}"
    t = T975[max(k for k in T975 if k <= len(d) - 1)]
    h = t * statistics.stdev(d) / len(d) ** 0.5
    return f"{m:+.2f} [{m - h:+.2f}, {m + h:+.2f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=12, help="seeds 0..N-1 (default 12)")
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--baseline", type=Path, help="another source tree (its src/ folder) to compare with")
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return
    trees = {"this tree": None} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    for seed in range(args.seeds):
        for name, src in trees.items():  # alternating, so that both see the same load
            runs[name].append(run(src, seed, args.years))
    print(f"callao.simulate('callao', seed, years={args.years:g}), seeds 0..{args.seeds - 1}, targeting stage:")
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
