"""Helpers every stage uses on tables: a column's values, hourly means of time intervals, and
deterministic, atomic file writes. No other part of callao is imported here."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def values(column: pd.Series) -> np.ndarray:
    """A column as a numpy array; categoricals are expanded from their codes (fast)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return np.asarray(column.cat.categories, dtype=object)[column.cat.codes.to_numpy()]
    return column.to_numpy()


def hourly_mean(start: np.ndarray, end: np.ndarray, weight: np.ndarray, n_hours: int) -> np.ndarray:
    """Average of Σ weight·[start <= t < end] over each hour [h, h+1), h = 0..n_hours-1.

    Exact for intervals with fractional ends; NaN ends count as open (still present)."""
    start = np.clip(np.nan_to_num(start, nan=np.inf), 0, n_hours)
    end = np.clip(np.nan_to_num(end, nan=np.inf), 0, n_hours)
    edges = np.arange(n_hours + 1, dtype=float)

    def integral(t: np.ndarray, w: np.ndarray) -> np.ndarray:  # Σ w·max(0, e - t) at each edge e
        order = np.argsort(t, kind="stable")
        t, w = t[order], w[order]
        k = np.searchsorted(t, edges, side="right")
        cw = np.concatenate([[0.0], np.cumsum(w)])
        cwt = np.concatenate([[0.0], np.cumsum(w * t)])
        return edges * cw[k] - cwt[k]

    g = integral(start, weight) - integral(end, weight)
    return np.diff(g)


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Deterministic Parquet: same frame, same bytes (no pandas index, fixed writer options).

    Column types are the frame's. Floating-point columns (times, waits: nearly all distinct) skip
    the dictionary and are stored byte-stream-split, which zstd compresses better; the others are
    dictionary-encoded. zstd at level 1: for a Callao year about 40 % less CPU and 15 % fewer bytes
    than pyarrow's defaults, and faster to read back."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    floats = [f.name for f in table.schema if pa.types.is_floating(f.type)]
    others = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    pq.write_table(table, path, compression="zstd", compression_level=1, write_statistics=True,
                   use_dictionary=others, column_encoding=dict.fromkeys(floats, "BYTE_STREAM_SPLIT"))


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` by calling ``write`` on a temporary file in the same folder, then
    ``os.replace``: a reader sees the old file or the whole new one, never a part. The file is
    readable by all (0644), like an ordinary file; on any error the temporary file is removed."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files (and a writer may recreate the file)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
