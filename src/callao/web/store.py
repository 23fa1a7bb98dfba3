"""The results folder the dashboard serves: finding runs and comparisons, resolving ids safely,
loading a run's tables (cached).

A *run* is a folder with ``kpis.json``, a *comparison* one with ``comparison.csv``: the results
folder itself (id ``@root``) and its subfolders down to two levels (id ``a`` or ``a/b``). Ids are
checked against a strict pattern and the resolved path must stay inside the results folder, so no
id reaches a file outside it (``..``, absolute paths and symlinks out are refused).
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

ROOT_ID = "@root"
SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9._\-]{0,127}"
ID_RE = re.compile(rf"^(?:{re.escape(ROOT_ID)}|{SEGMENT}(?:/{SEGMENT})?)$")
RUN_FILES = ("kpis.json", "vessels.parquet", "containers.parquet", "closures.parquet", "naval.parquet",
             "scenario.json", "report.html")
COMPARISON_FILES = ("comparison.csv", "report.html")
MAX_DEPTH = 2


class WebError(Exception):
    """A request the dashboard refuses: HTTP status and a message for the user."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Entry:
    id: str
    path: Path
    kind: str  # "run" or "comparison"
    mtime: float

    @property
    def label(self) -> str:
        return "(results folder)" if self.id == ROOT_ID else self.id


class Store:
    """One results folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, float], RunData] = {}

    # --- discovery --------------------------------------------------------------------------
    def _inside(self, p: Path) -> bool:
        try:
            return p.resolve().is_relative_to(self.root)
        except (OSError, RuntimeError):
            return False

    def scan(self) -> list[Entry]:
        """Runs and comparisons, newest first."""
        out: list[Entry] = []
        if not self.root.is_dir():
            return out

        def visit(folder: Path, rel: str, depth: int) -> None:
            for kind, marker in (("run", "kpis.json"), ("comparison", "comparison.csv")):
                f = folder / marker
                if f.is_file() and self._inside(f):
                    out.append(Entry(rel or ROOT_ID, folder, kind, f.stat().st_mtime))
            if depth >= MAX_DEPTH:
                return
            try:
                children = sorted(folder.iterdir())
            except OSError:
                return
            for child in children:
                name = child.name
                if not re.fullmatch(SEGMENT, name) or not child.is_dir() or not self._inside(child):
                    continue
                visit(child, f"{rel}/{name}" if rel else name, depth + 1)

        visit(self.root, "", 0)
        out.sort(key=lambda e: (-e.mtime, e.id))
        return out

    def runs(self) -> list[Entry]:
        return [e for e in self.scan() if e.kind == "run"]

    def comparisons(self) -> list[Entry]:
        return [e for e in self.scan() if e.kind == "comparison"]

    # --- safe resolution --------------------------------------------------------------------
    def folder(self, entry_id: str, kind: str = "run") -> Path:
        """The folder of a run/comparison id, or :class:`WebError` 400 (malformed) / 404 (unknown)."""
        if not isinstance(entry_id, str) or not ID_RE.fullmatch(entry_id):
            raise WebError(400, f"malformed {kind} id {str(entry_id)[:80]!r}: expected a folder name "
                                "(letters, digits, '.', '_', '-'), at most two levels deep")
        folder = self.root if entry_id == ROOT_ID else self.root / entry_id
        marker = "kpis.json" if kind == "run" else "comparison.csv"
        if not self._inside(folder) or not (folder / marker).is_file() or not self._inside(folder / marker):
            raise WebError(404, f"unknown {kind} {entry_id!r}")
        return folder.resolve()

    def file(self, entry_id: str, name: str) -> Path:
        """A downloadable file of a run or comparison, checked to lie inside the results folder."""
        allowed = set(RUN_FILES) | set(COMPARISON_FILES)
        if not isinstance(entry_id, str) or not ID_RE.fullmatch(entry_id):
            raise WebError(400, f"malformed run id {str(entry_id)[:80]!r}: expected a folder name "
                                "(letters, digits, '.', '_', '-'), at most two levels deep")
        if name not in allowed:
            raise WebError(404 if re.fullmatch(r"[A-Za-z0-9._\-]+", name or "") else 400,
                           f"no such file {str(name)[:80]!r}: expected one of {sorted(allowed)}")
        try:
            folder = self.folder(entry_id, "run")
        except WebError as e:
            if e.status != 404:
                raise
            folder = self.folder(entry_id, "comparison")
        path = folder / name
        if not path.is_file() or not self._inside(path):
            raise WebError(404, f"{entry_id!r} has no {name}")
        return path.resolve()

    # --- loading ----------------------------------------------------------------------------
    def load(self, run_id: str) -> "RunData":
        folder = self.folder(run_id, "run")
        mtime = (folder / "kpis.json").stat().st_mtime
        key = (str(folder), mtime)
        with self._lock:
            data = self._cache.get(key)
            if data is None:
                data = RunData.read(run_id, folder)
                if len(self._cache) > 8:
                    self._cache.clear()
                self._cache[key] = data
        return data

    def comparison(self, comp_id: str) -> pd.DataFrame:
        folder = self.folder(comp_id, "comparison")
        return read_comparison(folder / "comparison.csv")


def _read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    if columns is not None:
        have = set(pq.read_schema(path).names)
        columns = [c for c in columns if c in have]
    return pq.read_table(path, columns=columns).to_pandas()


CONTAINER_COLUMNS = ["terminal", "t_yard_in", "t_yard_out", "teu", "t_gate", "customs_channel",
                     "t_inspection_start", "found", "contraband_kg", "flow"]


@dataclass
class RunData:
    """A run's tables (containers: only the columns the plots use)."""

    id: str
    folder: Path
    kpis: dict
    meta: dict
    vessels: pd.DataFrame
    closures: pd.DataFrame
    naval: pd.DataFrame
    _containers: pd.DataFrame | None = None
    _lock: threading.Lock | None = None

    @classmethod
    def read(cls, run_id: str, folder: Path) -> "RunData":
        try:
            kpis = json.loads((folder / "kpis.json").read_text())
            meta = json.loads((folder / "scenario.json").read_text()) if (folder / "scenario.json").is_file() else {}
            vessels = _read_parquet(folder / "vessels.parquet")
        except (OSError, ValueError) as e:
            raise WebError(422, f"run {run_id!r} cannot be read: {e}") from None
        if vessels is None:
            vessels = pd.DataFrame(columns=["vessel_id", "terminal", "port", "t_arrival"])
        closures = _read_parquet(folder / "closures.parquet")
        naval = _read_parquet(folder / "naval.parquet")
        return cls(run_id, folder, kpis if isinstance(kpis, dict) else {}, meta if isinstance(meta, dict) else {},
                   vessels,
                   closures if closures is not None else pd.DataFrame(columns=["port", "start_h", "end_h", "reason"]),
                   naval if naval is not None else pd.DataFrame(columns=["port", "start_h", "end_h"]),
                   None, threading.Lock())

    @property
    def containers(self) -> pd.DataFrame | None:
        with self._lock:
            if self._containers is None:
                self._containers = _read_parquet(self.folder / "containers.parquet", CONTAINER_COLUMNS)
                if self._containers is None:
                    self._containers = pd.DataFrame()
        return self._containers if len(self._containers.columns) else None

    @property
    def scenario(self) -> dict:
        sc = self.meta.get("scenario")
        return sc if isinstance(sc, dict) else {}

    @property
    def name(self) -> str:
        return str(self.scenario.get("name", "?"))

    @property
    def seed(self):
        return self.meta.get("seed")

    @property
    def terminals(self) -> list[dict]:
        ts = self.scenario.get("terminals")
        if isinstance(ts, list) and ts:
            return [t for t in ts if isinstance(t, dict) and "name" in t]
        names = sorted(self.vessels["terminal"].dropna().astype(str).unique()) if "terminal" in self.vessels else []
        return [{"name": n, "label": n, "quay_length_m": 1000.0, "port": "callao"} for n in names]

    @property
    def home_port(self) -> str:
        return str(self.scenario.get("home_port", "callao"))

    @property
    def horizon_h(self) -> float:
        years = (self.scenario.get("simulation") or {}).get("years")
        if isinstance(years, (int, float)) and math.isfinite(years) and years > 0:
            return float(years) * 8760.0
        t = self.vessels["t_arrival"].to_numpy(float) if len(self.vessels) else np.array([24.0])
        return float(np.nanmax(t)) if t.size else 24.0

    @property
    def end_h(self) -> float:
        """Last time anything happens (calls arriving before the horizon finish after it)."""
        if len(self.vessels) and "t_depart" in self.vessels:
            d = self.vessels["t_depart"].to_numpy(float)
            d = d[np.isfinite(d)]
            if d.size:
                return float(max(self.horizon_h, d.max()))
        return self.horizon_h

    def geometry_key(self) -> tuple[tuple, ...]:
        return tuple((str(t["name"]), str(t.get("port", self.home_port)), float(t.get("quay_length_m", 1000.0)),
                      t.get("lon"), t.get("lat")) for t in self.terminals)

    @property
    def ports(self) -> list[str]:
        ports = {str(t.get("port", self.home_port)) for t in self.terminals}
        return [self.home_port, *sorted(ports - {self.home_port})]


def read_comparison(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as e:
        raise WebError(422, f"{path.name} cannot be read: {e}") from None
    need = {"scenario", "kpi", "mean"}
    if not need <= set(df.columns):
        raise WebError(422, f"{path.name}: expected columns {sorted(need)}, found {list(df.columns)}")
    for c in ("mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high"):
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    df["scenario"] = df["scenario"].astype(str)
    df["kpi"] = df["kpi"].astype(str)
    return df
