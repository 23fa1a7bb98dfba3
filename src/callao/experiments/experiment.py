"""An experiment end to end: replications of some scenarios → comparison table → CSV and report."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from callao.experiments.compare import compare, with_port_kpis, write_csv
from callao.experiments.replications import ExperimentError, Progress, Variant, run_replications
from callao.results import atomic_write

MANIFEST = "experiment.json"
"""The file in an experiment's folder that says which experiment it holds."""


@dataclass
class Experiment:
    """What an experiment produced: the comparison table and the replications it came from."""

    table: pd.DataFrame
    replications: pd.DataFrame
    out: Path


def folder_name(kind: str, parts: Sequence[str], limit: int = 80) -> str:
    """A default output folder name for an experiment: ``compare-baseline-chancay``,
    ``sweep-callao-customs.scanners-3-6``. Characters other than letters, digits, ``.``, ``_``
    and ``-`` become ``-``; a name longer than ``limit`` is cut and ends with a short hash."""
    import hashlib

    text = "-".join([kind, *parts])
    slug = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", text)).strip("-.")
    if len(slug) > limit:
        slug = slug[:limit - 9].rstrip("-.") + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return slug


def _identity(kind: str, variants: Sequence[Variant], seed: int) -> dict[str, Any]:
    return {"command": kind, "scenarios": [v.name for v in variants], "years": variants[0].years if variants else None,
            "seed": seed}


def _describe(identity: dict[str, Any]) -> str:
    names = identity.get("scenarios") or []
    text = f"{identity.get('command', 'an experiment')} of {' vs '.join(names) or '?'}"
    extras = [f"{k} {identity[k]}" for k in ("seed", "years") if identity.get(k) is not None]
    return text + (f" ({', '.join(extras)})" if extras else "")


def _stored_identity(out: Path) -> dict[str, Any] | None:
    """The identity of the experiment already in ``out``: from its manifest, else from the scenarios
    of a ``comparison.csv`` written before manifests existed; None if there is none."""
    manifest = out / MANIFEST
    if manifest.is_file():
        try:
            found = json.loads(manifest.read_text(encoding="utf-8"))
            if isinstance(found, dict) and isinstance(found.get("scenarios"), list):
                return found
        except (OSError, ValueError):
            pass
        return {"command": "an unreadable experiment", "scenarios": []}
    csv = out / "comparison.csv"
    if csv.is_file():
        try:
            names = list(dict.fromkeys(pd.read_csv(csv, usecols=["scenario"])["scenario"].astype(str)))
        except (OSError, ValueError):
            names = []
        return {"scenarios": names}  # command, seed and years unknown: judged by the scenarios
    return None


def claim_folder(out: str | Path, kind: str, variants: Sequence[Variant], seed: int, force: bool = False) -> None:
    """Make ``out`` the folder of this experiment, refusing (:class:`ExperimentError`) to mix in a
    different one unless ``force``. The same experiment may grow: more replications, or more
    scenarios after the same base. A different command, base, seed or years, or dropping a
    scenario, is a different experiment (its ``comparison.csv`` and report would be replaced).
    A folder holding a single run (``kpis.json``) is refused too."""
    out = Path(out)
    new = _identity(kind, variants, seed)
    if not force:
        if (out / "kpis.json").is_file():
            raise ExperimentError(f"{out} holds a run (kpis.json, report.html) that this experiment would "
                                  "overwrite; choose another --out, or add --force")
        old = _stored_identity(out)
        if old is not None:
            names = old.get("scenarios") or []
            same = (bool(names) and names[0] == new["scenarios"][0] and set(names) <= set(new["scenarios"])
                    and all(old.get(k, new[k]) == new[k] for k in ("command", "seed", "years")))
            if not same:
                raise ExperimentError(
                    f"{out} holds another experiment: {_describe(old)}; this one is {_describe(new)}. "
                    "Its comparison.csv and report.html would be replaced: choose another --out, or add "
                    "--force (stored replications are kept and reused)")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / MANIFEST, lambda p: p.write_text(json.dumps(new, indent=1) + "\n", encoding="utf-8"))


def run_experiment(variants: Sequence[Variant], replications: int = 10, out: str | Path = "out/compare",
                   seed: int = 0, executor=None, progress: Progress | None = None,
                   report: bool = True, title: str = "callao scenario comparison", kind: str = "experiment",
                   force: bool = False) -> Experiment:
    """Run (or resume) ``replications`` of each variant, compare them with the first one and write
    ``OUT/comparison.csv`` and, if ``report``, ``OUT/report.html``. ``OUT/experiment.json`` records
    which experiment the folder holds (``kind``, scenarios, years, seed): a different experiment
    into the same folder raises :class:`ExperimentError` unless ``force`` (:func:`claim_folder`)."""
    out = Path(out)
    claim_folder(out, kind, variants, seed, force)
    reps = run_replications(variants, replications, out, seed=seed, executor=executor, progress=progress)
    reps = with_port_kpis(reps, {v.name: v.scenario.port_names for v in variants})
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
