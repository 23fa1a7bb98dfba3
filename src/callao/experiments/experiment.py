"""An experiment end to end: replications of some scenarios → comparison table → CSV and report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from callao.experiments.compare import compare, write_csv
from callao.experiments.replications import Progress, Variant, run_replications


@dataclass
class Experiment:
    """What an experiment produced: the comparison table and the replications it came from."""

    table: pd.DataFrame
    replications: pd.DataFrame
    out: Path


def run_experiment(variants: Sequence[Variant], replications: int = 10, out: str | Path = "out/compare",
                   seed: int = 0, executor=None, progress: Progress | None = None,
                   report: bool = True, title: str = "callao scenario comparison") -> Experiment:
    """Run (or resume) ``replications`` of each variant, compare them with the first one and write
    ``OUT/comparison.csv`` and, if ``report``, ``OUT/report.html``."""
    out = Path(out)
    reps = run_replications(variants, replications, out, seed=seed, executor=executor, progress=progress)
    names = [v.name for v in variants]
    table = compare(reps, base=names[0], scenarios=names)
    write_csv(table, out / "comparison.csv")
    if report:
        from callao.report.comparison import write_comparison_report

        write_comparison_report(table, reps, out / "report.html", title=title)
    return Experiment(table, reps, out)


def sweep_table(table: pd.DataFrame) -> pd.DataFrame:
    """The ``sweep.csv`` view of a comparison: ``point, kpi, mean, ci_low, ci_high``."""
    return table.rename(columns={"scenario": "point"})[["point", "kpi", "mean", "ci_low", "ci_high"]]


def write_sweep_csv(table: pd.DataFrame, path: str | Path) -> Path:
    return write_csv(sweep_table(table), path)
