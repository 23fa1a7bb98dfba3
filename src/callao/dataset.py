"""A long run written segment by segment: memory flat in the horizon.

:func:`run_chunked` simulates the same consecutive segments as :func:`callao.simulate`
(:func:`callao.sim.engine.segments`) but writes each one to a Parquet dataset partitioned by
segment as soon as it is done, keeps only its calls and its container :class:`~callao.summary.Summary`,
and frees the rest. The run folder::

    scenario.json                       seed, scenario, segments (count, rows, complete)
    kpis.json                           from the summed summaries, as compute_kpis gives in memory
    vessels/segment=0000/part.parquet   one part per segment, for every table
    containers/segment=0000/part.parquet
    closures/..., naval/...
    summary/segment=0000.npz            the segment's container summary, written last

Every file is written atomically and a segment counts as done once its summary exists, so an
interrupted run started again with the same arguments resumes after the last finished segment.
:meth:`callao.results.Results.read` reads the folder back.
"""

from __future__ import annotations

import ctypes
import gc
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from callao.results import TABLES, Results, part_path, remove_partitioned, summary_path
from callao.scenario import Scenario
from callao.sim.engine import (SEGMENT_YEARS, Progress, concat_segments, segment_bounds, segments)
from callao.summary import Summary, summarise
from callao.tables import atomic_write, parquet_writes

CHUNKED_ABOVE_CONTAINERS = 4_000_000
"""``callao run`` writes a run chunked when it expects more containers than this (about two
bundled Callao years); below, it keeps the run in memory and writes single files."""


def run_chunked(scenario: Scenario, seed: int, out: str | Path, segment_years: float = SEGMENT_YEARS,
                progress: Progress | None = None) -> Results:
    """Simulate ``scenario`` segment by segment into ``out`` (see the module doc) and return the
    run without its container rows (``containers`` is ``None``, ``containers_path`` names the
    dataset; KPIs come from the summed summaries). Resumes a run of the same scenario, seed and
    segment length that stopped part-way in ``out``."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    n = len(segment_bounds(scenario, segment_years))
    spec = {"seed": seed, "scenario": scenario.model_dump(mode="json", by_alias=True)}
    layout = {"years": segment_years, "count": n, "layout": "partitioned"}
    done = _finished(root, spec, layout)
    if not done:
        remove_partitioned(root)
        for name in (*(f"{t}.parquet" for t in TABLES), "kpis.json"):
            (root / name).unlink(missing_ok=True)
    vessels = [_read(part_path(root, "vessels", k)) for k in sorted(done)]
    rows = {k: (len(v), pq.ParquetFile(part_path(root, "containers", k)).metadata.num_rows
                if scenario.simulation.containers else 0) for k, v in zip(sorted(done), vessels)}

    def save_meta(complete: bool) -> None:
        meta = {**spec, "segments": {**layout, "complete": complete,
                                     "vessel_rows": [rows[k][0] for k in sorted(rows)],
                                     "container_rows": [rows[k][1] for k in sorted(rows)]}}
        atomic_write(root / "scenario.json", lambda p: p.write_text(json.dumps(meta, indent=1) + "\n"))

    save_meta(complete=len(done) == n)
    for seg in segments(scenario, seed, segment_years, progress, skip=rows):
        vessels.append(seg.vessels)
        tables = {"vessels": seg.vessels, "closures": seg.closures, "naval": seg.naval}
        if seg.containers is not None:
            tables["containers"] = seg.containers
        paths = {name: part_path(root, name, seg.index) for name in tables}
        for path in paths.values():
            path.parent.mkdir(parents=True, exist_ok=True)
        with parquet_writes({paths[name]: df for name, df in tables.items()}):  # summarised meanwhile
            summary = (Summary() if seg.containers is None  # a vessels-only run: an empty marker
                       else summarise(scenario, seg.containers, concat_segments(vessels)))
        summary_path(root, seg.index).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(summary_path(root, seg.index), summary.save)  # last: the segment is done
        rows[seg.index] = (len(seg.vessels), 0 if seg.containers is None else len(seg.containers))
        save_meta(complete=False)
        del seg, tables, summary
        _release_memory()
    save_meta(complete=True)
    results = Results.read(root, load_containers=False)  # the summaries summed, in segment order
    atomic_write(root / "kpis.json", lambda p: p.write_text(json.dumps(results.kpis, indent=1) + "\n"))
    return results


def _release_memory() -> None:
    """Collect the finished segment and hand freed heap pages back to the system (glibc), so the
    resident size stays at one segment's, not the high-water mark of all."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory is reused all the same
        pass


def _read(path: Path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas()


def _finished(root: Path, spec: dict, layout: dict) -> set[int]:
    """Segments of an earlier run of the same scenario, seed and segments in ``root`` that are
    complete (their summary, written last, exists); empty if ``root`` holds another run."""
    try:
        meta = json.loads((root / "scenario.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    seg = meta.get("segments", {}) if isinstance(meta, dict) else {}
    same = (meta.get("seed") == spec["seed"] and meta.get("scenario") == spec["scenario"]
            and all(seg.get(key) == value for key, value in layout.items()))
    if not same:
        return set()
    return {k for k in range(layout["count"]) if summary_path(root, k).exists()
            and all(part_path(root, t, k).exists() for t in ("vessels", "closures", "naval"))}


def expected_containers(scenario: Scenario) -> float:
    """About how many containers a run of ``scenario`` makes: its calls' mean moves a year
    times its years (the rule ``callao run`` uses to choose the chunked mode)."""
    if not scenario.simulation.containers:
        return 0.0
    per_year = 0.0
    for s in scenario.services:
        per_year += 365.0 / s.interval_days * s.moves_per_call.mean_value
    for t in scenario.tramp:
        per_year += t.calls_per_year * t.moves_per_call.mean_value
    return float(np.float64(per_year * scenario.simulation.demand_factor * scenario.simulation.years))
