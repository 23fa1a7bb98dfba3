"""One run's results: typed tables (DataFrames / Parquet), hourly series and KPIs."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from callao.scenario import Scenario


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

    @property
    def horizon_h(self) -> float:
        return self.scenario.horizon_h

    @cached_property
    def kpis(self) -> dict[str, float]:
        from callao.kpis import compute_kpis

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
        n = int(np.ceil(self.horizon_h))
        c = self.containers
        if c is None:
            return pd.DataFrame()
        return pd.DataFrame({
            t.name: hourly_mean(
                c.loc[c["terminal"] == t.name, "t_yard_in"].to_numpy(),
                c.loc[c["terminal"] == t.name, "t_yard_out"].to_numpy(),
                c.loc[c["terminal"] == t.name, "teu"].to_numpy(float), n)
            for t in self.scenario.terminals
        })

    @cached_property
    def gate_trucks(self) -> pd.Series:
        """Trucks arriving at the gates in each hour of the run."""
        c = self.containers
        if c is None:
            return pd.Series(dtype=float)
        t = c["t_gate"].to_numpy()
        t = t[(t >= 0) & (t < self.horizon_h)]
        return pd.Series(np.bincount(t.astype(np.int64), minlength=int(np.ceil(self.horizon_h))))

    def write(self, out_dir: str | Path) -> Path:
        """Write kpis.json, vessels.parquet, containers.parquet, closures.parquet, naval.parquet
        and scenario.json to ``out_dir``, each atomically (temporary file, then rename)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        tables = {"vessels": self.vessels, "closures": self.closures, "naval": self.naval}
        if self.containers is not None:
            tables["containers"] = self.containers
        for name, df in tables.items():
            atomic_write(out / f"{name}.parquet", lambda p, df=df: write_parquet(df, p))
        atomic_write(out / "kpis.json", lambda p: p.write_text(json.dumps(self.kpis, indent=1) + "\n"))
        meta = {"seed": self.seed, "scenario": self.scenario.model_dump(mode="json", by_alias=True), **self.meta}
        atomic_write(out / "scenario.json", lambda p: p.write_text(json.dumps(meta, indent=1) + "\n"))
        return out


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Deterministic Parquet: same frame, same bytes (no pandas index, fixed writer options)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, compression="zstd", write_statistics=True)


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
