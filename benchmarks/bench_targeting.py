"""Targeting benchmarks: ``python benchmarks/bench_targeting.py [--quick] [--kcs-dir DIR]``.

(a) KCS published split: precision@5%/10% on the test file, trained on train+valid, beside the
    paper's figures; (b) the weekly protocol at 1/2/5/10% on synthetic Callao declarations and on
    the drift data set, ours against random / risky_profile / xgboost / hybrid_90_10;
    (c) training time and scoring throughput on a year of Callao declarations.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from callao.targeting.explain import reasons_text  # noqa: E402
from callao.targeting.io import read_declarations  # noqa: E402
from callao.targeting.metrics import metrics_at_rates  # noqa: E402
from callao.targeting.model import RiskModel  # noqa: E402
from callao.targeting.protocol import OursStrategy, compare_strategies  # noqa: E402
from callao.targeting.synthetic import SyntheticConfig, generate_declarations, generate_drift_declarations  # noqa: E402

PAPER = {"LightGBM (paper)": (0.762, 0.641), "XGBoost (paper)": (0.675, 0.579), "CatBoost (paper)": (0.621, 0.520)}


def bench_kcs(kcs_dir: Path) -> None:
    """(a) KCS: train on train+valid, precision at 1/2/5/10% on test."""
    files = [kcs_dir / f"df_syn_{s}_eng.csv" for s in ("train", "valid", "test")]
    if not all(f.exists() for f in files):
        print(f"(a) KCS: data not found in {kcs_dir}; skipped")
        return
    tr, va, te = (read_declarations(f) for f in files)
    train = pd.concat([tr.data, va.data], ignore_index=True)
    t0 = time.perf_counter()
    model = RiskModel(random_state=0).fit(train)
    fit_s = time.perf_counter() - t0
    table = metrics_at_rates(te.data["illicit"].to_numpy(), model.predict_proba(te.data)[:, 1], te.data["revenue"].to_numpy())
    p = dict(zip(table["rate"], table["precision"]))
    print(f"(a) KCS published split (train+valid {len(train)} rows -> test {len(te.data)} rows; "
          f"quarantined {tr.n_quarantined + va.n_quarantined + te.n_quarantined}; fit {fit_s:.1f} s)")
    print(f"    {'model':<20}{'P@1%':>8}{'P@2%':>8}{'P@5%':>8}{'P@10%':>8}")
    print(f"    {'callao RiskModel':<20}{p[0.01]:>8.3f}{p[0.02]:>8.3f}{p[0.05]:>8.3f}{p[0.10]:>8.3f}")
    for name, (p5, p10) in PAPER.items():
        print(f"    {name:<20}{'':>8}{'':>8}{p5:>8.3f}{p10:>8.3f}")


def bench_protocol(name: str, data: pd.DataFrame, rates: tuple[float, ...], retrain_every: int) -> None:
    """(b) The weekly protocol: overall precision and revenue share per strategy and rate."""
    t0 = time.perf_counter()
    t = compare_strategies(data, rates=rates, seed=0, initial_days=91, retrain_every=retrain_every)
    print(f"(b) weekly protocol on {name}: {len(data)} declarations, illicit {data['illicit'].mean():.3%}, "
          f"initial 13 weeks, retrain every {retrain_every} week(s), seed 0 ({time.perf_counter() - t0:.0f} s)")
    for metric in ("precision", "revenue"):
        wide = t.pivot(index="strategy", columns="rate", values=metric).loc[t["strategy"].unique()]
        wide.columns = [f"{metric[:4]}@{r:.0%}" for r in wide.columns]
        print("    " + wide.to_string(float_format=lambda v: f"{v:.3f}").replace("\n", "\n    "))


def bench_exploration(data: pd.DataFrame, rate: float, retrain_every: int) -> None:
    """(b2) Effect of the exploration share of ``ours`` under the protocol (drift data)."""
    variants = [OursStrategy(name="ours, no exploration", exploration=0.0),
                OursStrategy(name="ours, 5% uncertainty (default)"),
                OursStrategy(name="ours, 10% random", exploration=0.1, mode="random"),
                OursStrategy(name="ours, 10% uncertainty", exploration=0.1)]
    t = compare_strategies(data, rates=(rate,), strategies=variants, seed=0, initial_days=91, retrain_every=retrain_every)
    print(f"(b2) exploration share, drift data set, {rate:.0%} inspection:")
    print("    " + t.set_index("strategy")[["precision", "recall", "revenue"]]
          .to_string(float_format=lambda v: f"{v:.3f}").replace("\n", "\n    "))


def bench_speed(rng: np.random.Generator, config: SyntheticConfig) -> None:
    """(c) Training time and scoring throughput on a year of Callao declarations."""
    year = generate_declarations(rng, config)
    train = year[year["date"] < pd.Timestamp(config.year, 12, 1)].reset_index(drop=True)
    test = year[year["date"] >= pd.Timestamp(config.year, 12, 1)].reset_index(drop=True)
    t0 = time.perf_counter()
    model = RiskModel(random_state=0).fit(train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.predict_proba(test)
    bulk_s = time.perf_counter() - t0
    day = test[test["date"] == test["date"].min()].reset_index(drop=True)
    t0 = time.perf_counter()
    model.predict_proba(day)
    day_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    reasons_text(model, day)
    explain_s = time.perf_counter() - t0
    print(f"(c) speed on a Callao year ({len(year)} declarations; RiskModel defaults, 1 thread):")
    print(f"    training on {len(train)} declarations (Jan-Nov): {fit_s:.1f} s")
    print(f"    scoring December, {len(test)} declarations: {bulk_s:.2f} s = {len(test) / bulk_s:,.0f} declarations/s")
    print(f"    scoring one day, {len(day)} declarations: {day_s * 1000:.0f} ms")
    print(f"    top-3 reasons (TreeSHAP) for that day: {explain_s * 1000:.0f} ms = {explain_s / len(day) * 1000:.1f} ms per declaration")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kcs-dir", type=Path, default=Path("/work/shared/data/kcs"))
    ap.add_argument("--quick", action="store_true", help="smaller protocol data and rates 5/10% only")
    ap.add_argument("--per-day", type=float, default=40.0, help="export and import declarations per day (protocol data)")
    ap.add_argument("--retrain-every", type=int, default=2)
    ap.add_argument("--only", choices=("kcs", "protocol", "speed"), help="run one part only")
    args = ap.parse_args()
    t0 = time.perf_counter()
    seeds = np.random.SeedSequence(2025).spawn(3)
    if args.only in (None, "kcs"):
        bench_kcs(args.kcs_dir)
    if args.only in (None, "protocol"):
        bench_protocols(args, seeds)
    if args.only in (None, "speed"):
        bench_speed(np.random.default_rng(seeds[2]), SyntheticConfig())
    print(f"total {time.perf_counter() - t0:.0f} s")


def bench_protocols(args: argparse.Namespace, seeds: list[np.random.SeedSequence]) -> None:
    """(b) and (b2) on the synthetic and the drift data sets."""
    per_day = 20.0 if args.quick else args.per_day
    cfg = SyntheticConfig(exports_per_day=per_day, imports_per_day=per_day)
    rates = (0.05, 0.10) if args.quick else (0.01, 0.02, 0.05, 0.10)
    bench_protocol("synthetic Callao year", generate_declarations(np.random.default_rng(seeds[0]), cfg), rates, args.retrain_every)
    drift = generate_drift_declarations(np.random.default_rng(seeds[1]), cfg)
    bench_protocol("drift data set (new route/commodity/traders from day 182)", drift, rates, args.retrain_every)
    bench_exploration(drift, 0.05, args.retrain_every)


if __name__ == "__main__":
    main()
