"""Loading and writing declaration tables (CSV or Parquet), with validation and quarantine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from callao.targeting.schema import detect_format, to_callao, validate


@dataclass(frozen=True)
class LoadResult:
    """Valid declarations in the callao schema, the quarantined rows (with ``reason``) and the
    detected source format (``callao``, ``wco`` or ``kcs``)."""

    data: pd.DataFrame
    quarantine: pd.DataFrame
    source_format: str

    @property
    def n_quarantined(self) -> int:
        """Number of rows set aside."""
        return len(self.quarantine)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (all columns as text, so identifiers keep leading zeros) or Parquet file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".txt", ".gz"):
        return pd.read_csv(path, dtype=str, keep_default_na=True)
    raise ValueError(f"unsupported file type {suffix!r} for {path} (use .csv or .parquet)")


def load_frame(df: pd.DataFrame, source_format: str | None = None) -> LoadResult:
    """Map a DataFrame in any recognised format onto the callao schema and validate it."""
    fmt = source_format or detect_format(df.columns)
    valid, quarantine = validate(to_callao(df, fmt))
    return LoadResult(valid, quarantine, fmt)


def read_declarations(path: str | Path, source_format: str | None = None) -> LoadResult:
    """Read, auto-map (callao / WCO-BACUDA / KCS) and validate a declaration file."""
    return load_frame(read_table(path), source_format)


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write CSV or Parquet, chosen by the file extension, atomically (a temporary file, then a
    rename: a reader never sees half a file); creates the parent folder."""
    from callao.tables import atomic_write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))
    else:
        atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))
    return path


def quarantine_path(next_to: str | Path) -> Path:
    """Where the quarantine file for an output goes: ``<stem>.quarantine.csv`` beside it."""
    next_to = Path(next_to)
    return next_to.with_name(f"{next_to.stem}.quarantine.csv")
