"""One run's results: typed tables (DataFrames / Parquet), hourly series and KPIs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from callao.kpis import compute_kpis
from callao.scenario import Scenario
from callao.summary import Summary, summarise_segments
from callao.tables import atomic_write, hourly_mean, parquet_writes, write_parquet  # noqa: F401 (re-exported)

NUMBER, TEXT, FLAG = "number", "text", "true/false"
SCHEMA: dict[str, dict[str, str]] = {
    "vessels": {
        "vessel_id": NUMBER, "source": TEXT, "terminal": TEXT, "planned_terminal": TEXT, "port": TEXT,
        "vessel_class": TEXT, "alternatives": TEXT, "loa_m": NUMBER, "moves": NUMBER, "t_arrival": NUMBER,
        "t_berth_assigned": NUMBER, "t_channel_in": NUMBER, "t_berth": NUMBER, "t_handling_start": NUMBER,
        "t_handling_end": NUMBER, "t_unberth": NUMBER, "t_depart": NUMBER, "closure_delay_h": NUMBER,
        "naval_delay_h": NUMBER, "naval_encounters": NUMBER, "quay_position_m": NUMBER,
        "n_transship_out": NUMBER, "n_transship_out_actual": NUMBER,
    },
    "containers": {
        "terminal": TEXT, "flow": TEXT, "customs_channel": TEXT, "vessel_in": NUMBER, "vessel_out": NUMBER,
        "teu": NUMBER, "t_discharge": NUMBER, "t_load": NUMBER, "t_yard_in": NUMBER, "t_yard_out": NUMBER,
        "t_customs_request": NUMBER, "t_inspection_start": NUMBER, "t_customs_release": NUMBER,
        "t_gate": NUMBER, "gate_wait_h": NUMBER, "t_lima": NUMBER, "customs_late": FLAG, "late_gate": FLAG,
    },
    "closures": {"port": TEXT, "start_h": NUMBER, "end_h": NUMBER},
    "naval": {"port": TEXT, "start_h": NUMBER, "end_h": NUMBER},
}
"""The columns every reader of a run relies on, per table, and their kind (a table may have more)."""


TABLES = ("vessels", "closures", "naval", "containers")
LOAD_CONTAINERS_MAX = 4_000_000
"""``Results.read`` loads a partitioned (chunked) run's containers only up to this many rows (about
two Callao years, ~1.5 GB in memory); beyond, ``containers`` stays ``None``, the KPIs and report
come from the saved summaries, and the rows are read from ``containers/`` with pyarrow or Dask."""


class ResultsError(ValueError):
    """A results folder that cannot be read: the message names the file and what was expected."""


@dataclass
class Results:
    """What a run produced. Times are hours from the start of the run."""

    scenario: Scenario
    seed: int
    vessels: pd.DataFrame
    containers: pd.DataFrame | None
    closures: pd.DataFrame
    naval: pd.DataFrame
    meta: dict = field(default_factory=dict)
    summary_data: Summary | None = field(default=None, repr=False)
    """The containers' :class:`Summary` when it is known without the rows (a chunked run)."""
    containers_path: Path | None = field(default=None, repr=False)
    """The partitioned container dataset (``containers/segment=K/part.parquet``) of a run read
    without its container rows (too many to load, see :data:`LOAD_CONTAINERS_MAX`)."""

    @property
    def horizon_h(self) -> float:
        return self.scenario.horizon_h

    @property
    def segment_rows(self) -> list[int] | None:
        """Container rows per simulated segment (``None``: one segment)."""
        rows = self.meta.get("segments", {}).get("container_rows")
        return list(rows) if rows else None

    @cached_property
    def summary(self) -> Summary | None:
        """The additive aggregates of the containers that the KPIs and the report use, summed
        segment by segment (:mod:`callao.summary`); ``None`` for a vessels-only run."""
        if self.summary_data is not None:
            return self.summary_data
        if self.containers is None:
            return None
        return summarise_segments(self.scenario, self.containers, self.vessels, self.segment_rows)

    @cached_property
    def kpis(self) -> dict[str, float]:
        return compute_kpis(self)

    @cached_property
    def berth_occupancy(self) -> pd.DataFrame:
        """Hourly share of each terminal's quay length occupied by berthed vessels (0..1)."""
        n = int(np.ceil(self.horizon_h))
        v = self.vessels
        out = {}
        for t in self.scenario.terminals:
            sel = v[v["terminal"] == t.name]
            length = np.minimum(sel["loa_m"].to_numpy() + t.berth_clearance_m, t.quay_length_m)
            out[t.name] = hourly_mean(sel["t_berth"].to_numpy(), sel["t_unberth"].to_numpy(),
                                      length / t.quay_length_m, n)
        return pd.DataFrame(out)

    @cached_property
    def yard_teu(self) -> pd.DataFrame:
        """Hourly mean yard occupancy per terminal, TEU."""
        s = self.summary
        if s is None:
            return pd.DataFrame()
        return pd.DataFrame({t.name: s.series[f"yard_teu:{t.name}"] for t in self.scenario.terminals})

    @cached_property
    def gate_trucks(self) -> pd.Series:
        """Trucks arriving at the gates in each hour of the run."""
        s = self.summary
        if s is None:
            return pd.Series(dtype=float)
        return pd.Series(sum(s.series[f"gate_trucks:{t.name}"] for t in self.scenario.terminals))

    def write(self, out_dir: str | Path) -> Path:
        """Write kpis.json, vessels.parquet, containers.parquet, closures.parquet, naval.parquet
        and scenario.json to ``out_dir``, each atomically (temporary file, then rename). The tables
        are written in background threads while the KPIs are computed; kpis.json and
        scenario.json come after them."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        remove_partitioned(out)
        tables = {"vessels": self.vessels, "closures": self.closures, "naval": self.naval}
        if self.containers is not None:
            tables["containers"] = self.containers
        with parquet_writes({out / f"{name}.parquet": df for name, df in tables.items()}):
            kpis = self.kpis  # computed while the tables are written
        atomic_write(out / "kpis.json", lambda p: p.write_text(json.dumps(kpis, indent=1) + "\n"))
        meta = {"seed": self.seed, "scenario": self.scenario.model_dump(mode="json", by_alias=True), **self.meta}
        atomic_write(out / "scenario.json", lambda p: p.write_text(json.dumps(meta, indent=1) + "\n"))
        return out

    @classmethod
    def read(cls, folder: str | Path, load_containers: bool | None = None) -> Results:
        """The run written to ``folder`` by :meth:`write` or by a chunked run
        (:func:`callao.dataset.run_chunked`): the same typed :class:`Results` that ``simulate``
        returned (scenario validated, tables checked against :data:`SCHEMA`). Each table is one
        Parquet file (``vessels.parquet``) or a dataset partitioned by segment
        (``vessels/segment=K/part.parquet``), read through the same path.

        ``load_containers``: ``None`` (default) loads the container rows unless a partitioned run
        has more than :data:`LOAD_CONTAINERS_MAX`; then ``containers`` is ``None``,
        ``containers_path`` names the dataset, and KPIs and report come from the saved summaries.

        Raises :class:`ResultsError` naming the file and what was expected when a file is missing,
        corrupt, incomplete, or does not lie inside ``folder`` (a symlink resolving outside)."""
        root = Path(folder)
        if not root.is_dir():
            raise ResultsError(f"{root}: not a folder; expected a run's results folder (callao run --out)")
        root = root.resolve()
        meta = _read_json(_inside(root, "scenario.json"))
        if not isinstance(meta, dict) or "scenario" not in meta or "seed" not in meta:
            raise ResultsError(f"{root / 'scenario.json'}: expected an object with 'seed' and 'scenario' "
                               "(as written by callao run)")
        try:
            scenario = Scenario.model_validate(meta.pop("scenario"))
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top level)"
            raise ResultsError(f"{root / 'scenario.json'}: scenario.{where}: {first['msg']} "
                               f"({e.error_count()} problem(s)); expected a valid scenario") from None
        seed = meta.pop("seed")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ResultsError(f"{root / 'scenario.json'}: seed {seed!r}; expected a whole number")
        segments = meta.get("segments", {})
        parts = None
        if segments.get("layout") == "partitioned":
            if not segments.get("complete"):
                raise ResultsError(f"{root / 'scenario.json'}: the chunked run stopped after "
                                   f"{len(segments.get('container_rows', []))} of {segments.get('count')} "
                                   "segment(s); expected a finished run (run the same callao run command "
                                   "again: it resumes)")
            parts = int(segments["count"])
        tables = {name: _read_table(root, name, parts) for name in ("vessels", "closures", "naval")}
        containers, summary, dataset = None, None, None
        has_rows = (root / "containers").is_dir() if parts else (root / "containers.parquet").exists()
        if scenario.simulation.containers or has_rows:
            rows = sum(segments.get("container_rows", [])) if parts else 0
            if parts and (load_containers is False or (load_containers is None and rows > LOAD_CONTAINERS_MAX)):
                dataset = root / "containers"
                summary = _read_summaries(root, parts)
            else:
                containers = _read_table(root, "containers", parts)
                _check_containers(root, containers, scenario, len(tables["vessels"]))
        return cls(scenario=scenario, seed=seed, vessels=tables["vessels"], containers=containers,
                   closures=tables["closures"], naval=tables["naval"], meta=meta, summary_data=summary,
                   containers_path=dataset)


def part_path(root: Path, name: str, segment: int) -> Path:
    """Where segment ``segment`` of table ``name`` lies in a partitioned run folder."""
    return root / name / f"segment={segment:04d}" / "part.parquet"


def summary_path(root: Path, segment: int) -> Path:
    """The saved :class:`Summary` of segment ``segment``'s containers in a partitioned run folder."""
    return root / "summary" / f"segment={segment:04d}.npz"


def remove_partitioned(root: Path) -> None:
    """Remove the segment files a chunked run wrote to ``root`` (only those), so that a run written
    as single files in the same folder leaves nothing stale behind."""
    for name in (*TABLES, "summary"):
        folder = root / name
        if folder.is_dir() and not folder.is_symlink():
            for f in [*folder.glob("segment=*/part.parquet"), *folder.glob("segment=*.npz")]:
                f.unlink()
            for d in sorted(folder.glob("segment=*"), reverse=True):
                if d.is_dir() and not any(d.iterdir()):
                    d.rmdir()
            if not any(folder.iterdir()):
                folder.rmdir()


def _read_summaries(root: Path, parts: int) -> Summary:
    total = None
    for k in range(parts):
        path = _inside(root, str(summary_path(root, k).relative_to(root)))
        try:
            part = Summary.load(path)
        except (OSError, ValueError, KeyError) as e:
            raise ResultsError(f"{path}: cannot be read ({type(e).__name__}: {str(e)[:120]}); "
                               "expected the segment's summary as written by callao run") from None
        total = part if total is None else total + part
    return total


def _inside(root: Path, name: str) -> Path:
    """``root/name`` if it is a regular file lying inside ``root`` (after resolving symlinks)."""
    path = root / name
    if not path.exists() and not path.is_symlink():
        raise ResultsError(f"{path}: missing; expected the run's {name} (as written by callao run)")
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise ResultsError(f"{path}: a broken link; expected a file inside {root}") from None
    if not real.is_relative_to(root):
        raise ResultsError(f"{path}: refused, it resolves to a file outside the results folder {root}")
    if not real.is_file():
        raise ResultsError(f"{path}: not a regular file; expected the run's {name}")
    return real


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ResultsError(f"{path}: cannot be read ({type(e).__name__}: {str(e)[:120]}); "
                           "expected JSON as written by callao run") from None


def _read_table(root: Path, name: str, parts: int | None = None) -> pd.DataFrame:
    """A table checked against :data:`SCHEMA`: every required column present, of the right kind.
    ``parts``: read the table's ``parts`` segments from ``name/segment=K/part.parquet`` in order
    (a partitioned run) instead of ``name.parquet``."""
    files = ([_inside(root, f"{name}.parquet")] if parts is None else
             [_inside(root, str(part_path(root, name, k).relative_to(root))) for k in range(parts)])
    path = files[0] if parts is None else root / name
    try:
        tables = [pq.read_table(f) for f in files]
        df = (tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")).to_pandas()
    except (OSError, pa.ArrowException, ValueError) as e:
        raise ResultsError(f"{path}: not a readable Parquet file ({str(e)[:120]}); "
                           f"expected the run's {name} table") from None
    for column, kind in SCHEMA[name].items():
        if column not in df.columns:
            raise ResultsError(f"{path}: column {column!r} missing; expected columns {list(SCHEMA[name])}")
        dtype = df[column].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            dtype = dtype.categories.dtype
        ok = {NUMBER: pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype),
              FLAG: pd.api.types.is_bool_dtype(dtype),
              TEXT: pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)}[kind]
        if not ok:
            raise ResultsError(f"{path}: column {column!r} has type {dtype}; expected {kind}")
    return df


def _check_containers(root: Path, c: pd.DataFrame, scenario: Scenario, n_vessels: int) -> None:
    """Container rows point at existing vessels and terminals."""
    path = root / "containers.parquet"
    for column in ("vessel_in", "vessel_out"):
        ids = c[column].to_numpy()
        if ids.size and (ids.min() < -1 or ids.max() >= n_vessels):
            raise ResultsError(f"{path}: {column} ranges {ids.min()}..{ids.max()}; expected -1 (none) or a "
                               f"row of vessels.parquet (0..{n_vessels - 1})")
    unknown = set(pd.unique(c["terminal"].astype(str))) - {t.name for t in scenario.terminals}
    if unknown:
        raise ResultsError(f"{path}: terminal(s) {sorted(unknown)[:5]}; expected one of the scenario's "
                           f"terminals {[t.name for t in scenario.terminals]}")

