"""Experiments: replications with common random numbers, comparisons with 95% CIs, sweeps, Dask.

    >>> from callao.experiments import variant, run_experiment
    >>> exp = run_experiment([variant("baseline", years=0.1), variant("more-scanners", years=0.1)],
    ...                      replications=5, out="out/compare")
    >>> exp.table        # scenario, kpi, mean, ci_low, ci_high, diff, diff_ci_low, diff_ci_high, significant,
    ...                  # threshold, mark
"""

from callao.experiments.compare import (COLUMNS, compare, paired_diff_ci, practical_threshold, welch_diff_ci,
                                       with_port_kpis)
from callao.experiments.executors import DaskExecutor, LocalExecutor, make_executor
from callao.experiments.experiment import Experiment, claim_folder, folder_name, run_experiment, sweep_table
from callao.experiments.replications import (ExperimentError, ReplicationsFailed, ReplicationStore, Task,
                                             Variant, replication_seed, run_replication, run_replications,
                                             tasks_for, variant)
from callao.experiments.sweep import SweepError, Vary, parse_value, parse_vary, sweep_variants

__all__ = [
    "COLUMNS", "DaskExecutor", "Experiment", "ExperimentError", "LocalExecutor", "ReplicationStore",
    "ReplicationsFailed", "SweepError", "Task", "Variant", "Vary", "claim_folder", "compare", "folder_name",
    "make_executor", "paired_diff_ci", "parse_value", "parse_vary", "practical_threshold", "replication_seed",
    "run_experiment", "run_replication", "run_replications", "sweep_table", "sweep_variants", "tasks_for",
    "variant", "welch_diff_ci", "with_port_kpis",
]
