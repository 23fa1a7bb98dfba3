"""Export a run's or an experiment's tables for spreadsheets: CSV (one file per table) or xlsx (one
sheet per table).

A *run* folder (``callao run``: ``kpis.json``, ``vessels.parquet``, ``containers.parquet``) gives
``calls`` (one row per vessel call), ``containers`` (a deterministic random sample of the boxes:
the same run, size and seed give the same rows, in the run's order) and ``kpis``. An *experiment*
folder (``callao compare``/``sweep``: ``comparison.csv``) gives ``comparison`` and, for a sweep,
``sweep``. Only files inside the folder are read: a table that is a symlink leading outside it is
refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from callao.results import Results, ResultsError
from callao.tables import atomic_write

FORMATS = ("csv", "xlsx")
DEFAULT_SAMPLE = 10_000
"""Containers in the sample by default (a year of Callao has about 1.7 million)."""
XLSX_MAX_ROWS = 1_048_575
"""Data rows a spreadsheet sheet holds (Excel's 1,048,576 rows, less the header)."""


class ExportError(ValueError):
    """A folder or option that cannot be exported; the message says which and why."""


@dataclass(frozen=True)
class Export:
    """What was written: the tables (name → rows) and the files."""

    kind: str  # "run" or "experiment"
    rows: dict[str, int]
    files: list[Path]


def _inside(folder: Path, name: str) -> Path | None:
    """``folder/name`` if it is a file whose real path lies inside ``folder``; None if absent."""
    path = folder / name
    if not path.exists() and not path.is_symlink():
        return None
    real = path.resolve()
    if not real.is_relative_to(folder.resolve()):
        raise ExportError(f"{path}: leads outside {folder} (symlink to {real}); only files inside the folder are read")
    if not real.is_file():
        raise ExportError(f"{path}: not a file")
    return path


def container_sample(containers: pd.DataFrame, size: int = DEFAULT_SAMPLE, seed: int = 0) -> pd.DataFrame:
    """``size`` containers drawn without replacement by ``numpy.random.default_rng(seed)``, kept in
    the run's order (``size = 0``: all of them). Each keeps its ``container_id`` (added as the row
    number in ``containers.parquet`` if the table has none)."""
    if size < 0:
        raise ExportError(f"--sample {size}: expected 0 (all containers) or a positive number")
    n = len(containers)
    if size == 0 or size >= n:
        idx = np.arange(n)
    else:
        idx = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))
    out = containers.iloc[idx].reset_index(drop=True)
    if "container_id" not in out:
        out.insert(0, "container_id", idx)
    return out


def read_run_tables(folder: Path, sample: int = DEFAULT_SAMPLE, seed: int = 0) -> dict[str, pd.DataFrame]:
    """The tables of a run folder, read through :meth:`Results.read` (validated, inside the folder
    only): ``calls`` (the vessels table), ``containers`` (a sample) and ``kpis``."""
    try:
        results = Results.read(folder)
    except ResultsError as e:
        raise ExportError(str(e)) from None
    tables = {"calls": results.vessels}
    if results.containers is not None:
        tables["containers"] = container_sample(results.containers, sample, seed)
    elif results.containers_path is not None:  # a chunked run too large to load: one segment at a time
        tables["containers"] = dataset_sample(results.containers_path, sample, seed)
    tables["kpis"] = pd.DataFrame({"kpi": list(results.kpis), "value": list(results.kpis.values())})
    return tables


def dataset_sample(folder: Path, size: int = DEFAULT_SAMPLE, seed: int = 0) -> pd.DataFrame:
    """:func:`container_sample` of a chunked run's partitioned container dataset
    (``segment=K/part.parquet``): the same rows as from the loaded table, read one segment at a time."""
    import pyarrow.parquet as pq

    parts = sorted(folder.glob("segment=*/part.parquet"))
    rows = [pq.ParquetFile(p).metadata.num_rows for p in parts]
    n = sum(rows)
    if size < 0:
        raise ExportError(f"--sample {size}: expected 0 (all containers) or a positive number")
    if size == 0 or size >= n:
        raise ExportError(f"{folder}: {n:,} containers in a chunked run, too many to export whole; expected "
                          f"--sample below {n:,} (or read the Parquet dataset there with pyarrow or Dask)")
    idx = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))
    frames, start = [], 0
    for path, m in zip(parts, rows):
        take = idx[(idx >= start) & (idx < start + m)] - start
        if take.size:
            frames.append(pq.read_table(path).take(take).to_pandas())
        start += m
    return pd.concat(frames, ignore_index=True)


def read_experiment_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables of an experiment folder: ``comparison`` and, for a sweep, ``sweep``."""
    tables = {}
    for name in ("comparison", "sweep"):
        path = _inside(folder, f"{name}.csv")
        if path is not None:
            try:
                tables[name] = pd.read_csv(path)
            except (OSError, ValueError) as e:
                raise ExportError(f"{path}: not a readable CSV table ({e})") from None
    return tables


def kind_of(folder: Path) -> str:
    """``"run"`` or ``"experiment"``; :class:`ExportError` for a missing or unknown folder."""
    if not folder.exists():
        raise ExportError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise ExportError(f"{folder}: not a folder; give a run folder (callao run --out) or an experiment "
                          "folder (callao compare/sweep)")
    if (folder / "vessels.parquet").exists() or (folder / "kpis.json").exists():
        return "run"
    if (folder / "comparison.csv").exists():
        return "experiment"
    raise ExportError(f"{folder}: neither a run (vessels.parquet, kpis.json) nor an experiment (comparison.csv)")


def default_out(folder: Path, fmt: str) -> Path:
    """``FOLDER/export/`` for CSV, ``FOLDER/export.xlsx`` for xlsx."""
    return folder / ("export" if fmt == "csv" else "export.xlsx")


def export(folder: str | Path, fmt: str = "xlsx", out: str | Path | None = None, sample: int = DEFAULT_SAMPLE,
           seed: int = 0) -> Export:
    """Export the run or experiment in ``folder`` as ``fmt`` (``csv``: one ``<table>.csv`` per table in
    the folder ``out``; ``xlsx``: one sheet per table in the file ``out``, or ``out/export.xlsx`` when
    ``out`` is an existing folder). Files are written atomically."""
    folder = Path(folder)
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    kind = kind_of(folder)
    tables = read_run_tables(folder, sample, seed) if kind == "run" else read_experiment_tables(folder)
    out = Path(out) if out is not None else default_out(folder, fmt)
    files = []
    if fmt == "csv":
        if out.exists() and not out.is_dir():
            raise ExportError(f"--out {out}: CSV export writes one file per table into a folder; this is a file")
        out.mkdir(parents=True, exist_ok=True)
        for name, df in tables.items():
            path = out / f"{name}.csv"
            atomic_write(path, lambda p, df=df: df.to_csv(p, index=False))
            files.append(path)
    else:
        too_big = {n: len(df) for n, df in tables.items() if len(df) > XLSX_MAX_ROWS}
        if too_big:
            raise ExportError(f"{too_big}: more rows than a spreadsheet sheet holds ({XLSX_MAX_ROWS:,}); "
                              "use a smaller --sample or --format csv")
        if out.is_dir():
            out = out / "export.xlsx"
        if out.suffix.lower() != ".xlsx":
            raise ExportError(f"--out {out}: expected a file name ending in .xlsx (or a folder)")
        out.parent.mkdir(parents=True, exist_ok=True)

        def write(p: Path) -> None:
            with pd.ExcelWriter(p, engine="openpyxl") as xl:
                for name, df in tables.items():
                    df.to_excel(xl, sheet_name=name, index=False)

        atomic_write(out, write)
        files.append(out)
    return Export(kind, {n: len(df) for n, df in tables.items()}, files)
