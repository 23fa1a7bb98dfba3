"""``callao calibrate`` and the replay part of ``callao run --arrivals``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from callao.results import Results


def print_replay(results: Results, out: Path, console: Console) -> pd.DataFrame:
    """Compare a replay run with the observed calls, write ``OUT/replay.parquet``, print the
    summary table; returns the summary."""
    from callao.fit.replay import ReplayResult, compare

    rr = ReplayResult(results, *compare(results))
    path = rr.write(out)
    table = Table(title="Replay: predicted vs observed anchorage wait (error = predicted − observed)",
                  title_justify="left")
    for col in ("terminal", "calls", "observed mean h", "predicted mean h", "MAE h", "bias h", "RMSE h"):
        table.add_column(col, justify="left" if col == "terminal" else "right")
    for r in rr.summary.itertuples():
        table.add_row(r.terminal, f"{r.calls:,}", f"{r.observed_wait_mean_h:.1f}", f"{r.predicted_wait_mean_h:.1f}",
                      f"{r.mae_h:.2f}", f"{r.bias_h:+.2f}", f"{r.rmse_h:.2f}")
    console.print(table)
    console.print(f"Call by call in [bold]{path}[/]")
    return rr.summary
