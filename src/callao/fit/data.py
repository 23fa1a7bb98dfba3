"""Reading an observed-calls file (``calls.parquet`` from ``callao calls detect``, or a CSV with
the same columns) with errors that name the file and what was expected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from callao.ingest.calls import CALLS_COLUMNS, conform


class CallsFileError(ValueError):
    """An observed-calls file that cannot be read; the message names the file and the problem."""


def load_calls(path: str | Path) -> pd.DataFrame:
    """The calls table of a Parquet (or ``.csv``) file, conformed to :data:`CALLS_COLUMNS`."""
    p = Path(path)
    if not p.is_file():
        raise CallsFileError(f"{p}: no such file; expected a calls table (calls.parquet from "
                             "'callao calls detect')")
    try:
        df = pd.read_csv(p) if p.suffix.lower() == ".csv" else pd.read_parquet(p)
    except Exception as e:  # pyarrow and pandas raise many kinds
        raise CallsFileError(f"{p}: not a readable {'CSV' if p.suffix.lower() == '.csv' else 'Parquet'} "
                             f"file ({type(e).__name__}: {e}); expected a calls table with columns "
                             f"{', '.join(CALLS_COLUMNS)}") from None
    try:
        df = conform(df)
    except (ValueError, TypeError) as e:
        raise CallsFileError(f"{p}: {e}") from None
    if df.empty:
        raise CallsFileError(f"{p}: no calls in the file")
    return df
