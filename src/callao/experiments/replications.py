"""Replications of scenarios with common random numbers, stored one Parquet file each.

An experiment runs ``R`` replications of every scenario it compares. All seeds come from one
``numpy.random.SeedSequence(experiment_seed)``: replication ``i`` of *every* scenario gets the
same child seed, ``SeedSequence(experiment_seed).spawn(R)[i]``. Because the engine draws each
stage from its own stream (``callao.sim.streams``), scenarios that differ in one stage see the
same draws in all the others: common random numbers, which make the paired differences between
scenarios far less noisy than the scenarios themselves.

Each finished replication is written at once, atomically, to
``OUT/replications/<scenario_hash[:12]>/<replication>.parquet`` (one row: metadata + KPIs).
Running the same experiment again finds those files and computes only what is missing. The hash
covers the resolved scenario, the years and the engine's code (:func:`engine_fingerprint`), so
results of an older engine are never mixed with new ones.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from callao.experiments.errors import ExperimentError
from callao.tables import atomic_write
from callao.scenario import Scenario, load_scenario

META_COLUMNS = ("scenario", "scenario_hash", "engine", "replication", "seed_entropy", "seed_spawn_key")
"""Columns of a stored replication that are not KPIs."""

_REPLICATION_FILE = re.compile(r"^(\d+)\.parquet$")


ENGINE_SOURCES = ("sim", "scenario", "targeting", "kpis.py", "results.py", "tables.py")
"""The parts of the ``callao`` package whose code decides a replication's KPIs."""


@functools.cache
def engine_fingerprint() -> str:
    """sha256 (16 hex digits) of the engine's Python sources (:data:`ENGINE_SOURCES`): changes
    whenever a code change could change a result, and is the same on every machine with the
    same code."""
    import callao

    root = Path(callao.__file__).parent
    h = hashlib.sha256()
    for part in ENGINE_SOURCES:
        files = sorted((root / part).rglob("*.py")) if (root / part).is_dir() else [root / part]
        for f in files:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


class ReplicationsFailed(ExperimentError):
    """Some replications raised; the others are stored, and running again retries only these."""


@dataclass(frozen=True)
class Variant:
    """One scenario of an experiment, resolved, with the years override it runs for."""

    scenario: Scenario
    years: float | None = None

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def canonical_json(self) -> str:
        """The resolved scenario as JSON (pydantic field order, aliases) plus the years override."""
        return self.scenario.model_dump_json(by_alias=True) + f"\nyears={self.years!r}"

    @property
    def hash(self) -> str:
        """sha256 of :attr:`canonical_json` and the :func:`engine_fingerprint`: the identity of
        the variant's stored replications."""
        return hashlib.sha256(f"{self.canonical_json}\nengine={engine_fingerprint()}".encode()).hexdigest()


def variant(scenario: Scenario | str | Path, years: float | None = None, **overrides: Any) -> Variant:
    """A bundled name, TOML path or :class:`Scenario` (with optional dict ``overrides``) → Variant."""
    if isinstance(scenario, Scenario):
        if overrides:
            raise TypeError("overrides need a scenario name or path, not a Scenario")
        return Variant(scenario, years)
    return Variant(load_scenario(scenario, **overrides), years)


def replication_seed(experiment_seed: int, replication: int) -> np.random.SeedSequence:
    """The seed of replication ``replication`` of every scenario of an experiment.

    Equal to ``SeedSequence(experiment_seed).spawn(R)[replication]`` for any ``R > replication``."""
    return np.random.SeedSequence(experiment_seed, spawn_key=(replication,))


@dataclass(frozen=True)
class Task:
    """One (scenario, replication) to simulate; small and picklable, so it can go to a Dask worker."""

    scenario: str
    scenario_hash: str
    engine: str
    scenario_json: str
    years: float | None
    replication: int
    seed_entropy: int
    seed_spawn_key: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.scenario} #{self.replication}"


def tasks_for(variants: Sequence[Variant], replications: int, experiment_seed: int) -> list[Task]:
    """Every (scenario, replication) task, replication-major (rep 0 of all scenarios first), so an
    interrupted run leaves complete pairs."""
    out = []
    for i in range(replications):
        ss = replication_seed(experiment_seed, i)
        for v in variants:
            out.append(Task(v.name, v.hash, engine_fingerprint(), v.scenario.model_dump_json(by_alias=True), v.years, i,
                            int(ss.entropy), tuple(int(k) for k in ss.spawn_key)))
    return out


_CPU = {"replications": 0, "simulate_s": 0.0}
"""This process's replications so far and the CPU seconds of their ``simulate`` calls (the
calling thread's CPU time), for :func:`cpu_stats`."""

def cpu_stats() -> dict[str, float]:
    """Replications run by this process and the CPU seconds spent inside ``simulate`` for them:
    a worker's CPU time minus ``simulate_s`` is the cost of a replication outside the simulation
    (KPIs, Dask's threads, ...), which ``benchmarks/bench_replications.py`` reports."""
    return dict(_CPU)


def run_replication(task: Task) -> dict[str, Any]:
    """Simulate one task and return its row: metadata + every KPI as a float. Refuses to run on
    an engine whose code differs from the one that made the task (e.g. a Dask worker with another
    callao version)."""
    from callao.sim import simulate

    if engine_fingerprint() != task.engine:
        raise ExperimentError(
            f"this worker's callao engine ({engine_fingerprint()}) differs from the client's ({task.engine}); "
            "install the same callao code on every worker")
    sc = Scenario.model_validate_json(task.scenario_json)
    seed = np.random.SeedSequence(task.seed_entropy, spawn_key=task.seed_spawn_key)
    started = time.thread_time()
    results = simulate(sc, seed=seed, years=task.years)
    _CPU["simulate_s"] += time.thread_time() - started
    _CPU["replications"] += 1
    kpis = results.kpis
    row: dict[str, Any] = {"scenario": task.scenario, "scenario_hash": task.scenario_hash, "engine": task.engine,
                           "replication": task.replication, "seed_entropy": task.seed_entropy,
                           "seed_spawn_key": list(task.seed_spawn_key)}
    row.update({k: float(v) for k, v in kpis.items()})
    return row


class ReplicationStore:
    """``OUT/replications/<hash[:12]>/<replication>.parquet``, one row each, written atomically.

    Files whose names are not ``<int>.parquet`` (e.g. the temporary files of a write that was
    killed) are ignored; an unreadable ``.parquet`` counts as missing and is recomputed."""

    def __init__(self, out: str | Path):
        self.root = Path(out) / "replications"

    def folder(self, scenario_hash: str) -> Path:
        return self.root / scenario_hash[:12]

    def path(self, task: Task) -> Path:
        return self.folder(task.scenario_hash) / f"{task.replication}.parquet"

    def prepare(self, variants: Iterable[Variant]) -> None:
        """Create the folders and write each variant's ``scenario.json`` (for reproduction)."""
        for v in variants:
            folder = self.folder(v.hash)
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / "scenario.json"
            if not target.exists():
                meta = {"scenario_hash": v.hash, "engine": engine_fingerprint(), "years": v.years,
                        "scenario": json.loads(v.scenario.model_dump_json(by_alias=True))}
                atomic_write(target, lambda p, meta=meta: p.write_text(json.dumps(meta, indent=1) + "\n"))

    def stored(self, scenario_hash: str) -> list[int]:
        """Replication indices with a finished file for this scenario hash."""
        folder = self.folder(scenario_hash)
        if not folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _REPLICATION_FILE.match(p.name)))

    def read(self, task: Task) -> dict[str, Any] | None:
        """The stored row of ``task``, or None if missing or unreadable. A row stored with another
        seed is an error: the folder belongs to another experiment."""
        path = self.path(task)
        if not path.is_file():
            return None
        try:
            row = pq.read_table(path).to_pylist()[0]
        except (OSError, pa.ArrowException, IndexError):
            return None
        found = (int(row["seed_entropy"]), tuple(int(k) for k in row["seed_spawn_key"]))
        if found != (task.seed_entropy, task.seed_spawn_key):
            raise ExperimentError(
                f"{path} was computed with seed {found[0]} (spawn key {list(found[1])}), this experiment "
                f"uses seed {task.seed_entropy}; run with --seed {found[0]} or choose another --out")
        return row

    def write(self, row: dict[str, Any]) -> Path:
        """Store one finished replication atomically (temporary file, then ``os.replace``)."""
        path = self.folder(row["scenario_hash"]) / f"{int(row['replication'])}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist([row])
        atomic_write(path, lambda p: pq.write_table(table, p, compression="zstd"))
        return path


Progress = Callable[[str, dict[str, int]], None]
"""Called with an event (``"start"``, ``"done"``, ``"failed"``) and counts ``done``, ``running``,
``left``, ``total``, ``stored`` (found already finished when the run started)."""


def run_replications(variants: Sequence[Variant], replications: int, out: str | Path, seed: int = 0,
                     executor=None, progress: Progress | None = None) -> pd.DataFrame:
    """Run every missing (scenario, replication) and return all ``replications`` rows per scenario.

    ``executor`` is a :class:`~callao.experiments.executors.LocalExecutor` (default) or a
    :class:`~callao.experiments.executors.DaskExecutor`; results are identical with either.
    Each replication is stored as soon as it finishes; if some fail, the others are kept and
    :class:`ReplicationsFailed` lists the failures."""
    from callao.experiments.executors import LocalExecutor

    if replications < 1:
        raise ExperimentError(f"replications = {replications}: expected at least 1")
    names = [v.name for v in variants]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ExperimentError(f"scenario names must differ within an experiment; repeated: {dupes}")
    store = ReplicationStore(out)
    store.prepare(variants)
    tasks = tasks_for(variants, replications, seed)
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    pending = []
    for t in tasks:
        row = store.read(t)
        if row is None:
            pending.append(t)
        else:
            rows[(t.scenario, t.replication)] = row
    report = progress or (lambda event, counts: None)
    executor = executor or LocalExecutor()
    slots = executor.slots
    failures: list[str] = []
    counts = {"total": len(tasks), "stored": len(rows), "done": len(rows), "running": 0, "left": len(pending)}

    def update(event: str, finished: int) -> None:
        counts["done"] += finished
        counts["left"] = len(tasks) - counts["done"] - len(failures)
        counts["running"] = min(slots, counts["left"])
        report(event, dict(counts))

    update("start", 0)
    if pending:
        for task, row, error in executor.run(run_replication, pending):
            if error is not None:
                failures.append(f"{task.label}: {type(error).__name__}: {error}")
                update("failed", 0)
                continue
            store.write(row)
            rows[(task.scenario, task.replication)] = row
            update("done", 1)
    if failures:
        raise ReplicationsFailed(f"{len(failures)} replication(s) failed (the {len(rows)} finished are "
                                 "stored; run again to retry):\n  " + "\n  ".join(failures))
    ordered = [rows[(t.scenario, t.replication)] for t in sorted(tasks, key=lambda t: (names.index(t.scenario),
                                                                                      t.replication))]
    return replications_frame(ordered)


def replications_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows (metadata + KPIs) → DataFrame: metadata columns first, then KPIs as floats."""
    df = pd.DataFrame(rows)
    kpis = [c for c in df.columns if c not in META_COLUMNS]
    df[kpis] = df[kpis].astype(float)
    df["seed_spawn_key"] = df["seed_spawn_key"].map(lambda k: "-".join(str(int(x)) for x in k))
    return df[[*META_COLUMNS, *kpis]]


def kpi_columns(replications: pd.DataFrame) -> list[str]:
    """The KPI columns of a replications frame."""
    return [c for c in replications.columns if c not in META_COLUMNS]
