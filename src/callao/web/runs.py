"""The results folder the dashboard serves: finding runs and comparisons, resolving ids safely,
reading a run through :meth:`callao.results.Results.read` (cached on its files' identity).

A *run* is a folder with ``kpis.json``, a *comparison* one with ``comparison.csv``, a *forecast*
one with ``forecast.parquet`` (from ``callao forecast --out DIR``): the results
folder itself (id ``@root``) and its subfolders down to two levels (id ``a`` or ``a/b``). Ids are
checked against a strict pattern and the resolved path must stay inside the results folder, so no
id reaches a file outside it (``..``, absolute paths and symlinks out are refused).
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from callao.results import Results, ResultsError

ROOT_ID = "@root"
SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9._\-]{0,127}"
ID_RE = re.compile(rf"^(?:{re.escape(ROOT_ID)}|{SEGMENT}(?:/{SEGMENT})?)$")
RUN_FILES = ("kpis.json", "vessels.parquet", "containers.parquet", "closures.parquet", "naval.parquet",
             "scenario.json", "report.html")
COMPARISON_FILES = ("comparison.csv", "report.html")
FORECAST_FILES = ("forecast.parquet", "ships.parquet", "hourly.parquet", "state.parquet", "forecast.json",
                  "forecast.html")
MARKERS = {"run": "kpis.json", "comparison": "comparison.csv", "forecast": "forecast.parquet"}
RUN_TABLES = ("scenario.json", "vessels.parquet", "containers.parquet", "closures.parquet", "naval.parquet")
MAX_DEPTH = 2
MAX_FORECASTS = 16


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
    kind: str  # "run", "comparison" or "forecast"
    mtime: float

    @property
    def label(self) -> str:
        return "(results folder)" if self.id == ROOT_ID else self.id


class Store:
    """One results folder."""

    def __init__(self, root: str | Path, max_cached: int = 3):
        self.root = Path(root).expanduser().resolve()
        self.max_cached = max_cached  # runs kept in memory (a year's run holds ~0.4 GB)
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, Run | WebError] = OrderedDict()
        self._forecasts: OrderedDict[tuple, Any] = OrderedDict()  # small: a few hundred rows each

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
            for kind, marker in MARKERS.items():
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
        marker = MARKERS[kind]
        if not self._inside(folder) or not (folder / marker).is_file() or not self._inside(folder / marker):
            raise WebError(404, f"unknown {kind} {entry_id!r}")
        return folder.resolve()

    def file(self, entry_id: str, name: str) -> Path:
        """A downloadable file of a run or comparison, checked to lie inside the results folder."""
        allowed = set(RUN_FILES) | set(COMPARISON_FILES) | set(FORECAST_FILES)
        if not isinstance(entry_id, str) or not ID_RE.fullmatch(entry_id):
            raise WebError(400, f"malformed run id {str(entry_id)[:80]!r}: expected a folder name "
                                "(letters, digits, '.', '_', '-'), at most two levels deep")
        if name not in allowed:
            raise WebError(404 if re.fullmatch(r"[A-Za-z0-9._\-]+", name or "") else 400,
                           f"no such file {str(name)[:80]!r}: expected one of {sorted(allowed)}")
        folder = None
        for kind in MARKERS:
            try:
                folder = self.folder(entry_id, kind)
            except WebError as e:
                if e.status != 404 or kind == "forecast":
                    raise
            if folder is not None and (folder / name).exists():
                break
        path = folder / name
        if not path.is_file() or not self._inside(path):
            raise WebError(404, f"{entry_id!r} has no {name}")
        return path.resolve()

    # --- loading ----------------------------------------------------------------------------
    def identity(self, folder: Path, tables: tuple[str, ...] = RUN_TABLES) -> tuple:
        """What identifies a run's (or forecast's) content: each table's name, size and modification time."""
        out = []
        for name in tables:
            try:
                st = (folder / name).stat()
            except OSError:
                out.append((name, None, None))
            else:
                out.append((name, st.st_size, st.st_mtime_ns))
        return tuple(out)

    def load(self, run_id: str) -> Run:
        """The run ``run_id``, read through :meth:`Results.read` once per content identity (a
        rewritten file is read again); :class:`WebError` 422 with the reason when it cannot be
        read. One run is read at a time, so many users asking at once cost one read."""
        folder = self.folder(run_id, "run")
        key = (str(folder), self.identity(folder))
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                try:
                    hit = Run(run_id, folder, Results.read(folder))
                except ResultsError as e:
                    reason = str(e).replace(f"{folder}{os.sep}", "").replace(str(self.root), "<results>")
                    hit = WebError(422, f"run {run_id!r} cannot be read: {reason}")
                self._cache[key] = hit
                self._cache.move_to_end(key)
                while len(self._cache) > self.max_cached:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key)
        if isinstance(hit, WebError):
            raise hit
        return hit

    def forecast(self, forecast_id: str):
        """The forecast ``forecast_id`` (:class:`callao.web.forecasts.ForecastView`), read once per
        identity of its files; :class:`WebError` 422 with the reason when a file cannot be read."""
        from callao.forecast.report import TABLES, ForecastFileError, read_forecast
        from callao.web.forecasts import ForecastView

        folder = self.folder(forecast_id, "forecast")
        for name in TABLES:  # each file read must lie inside the results folder too (no link out)
            if (folder / name).exists() and not self._inside(folder / name):
                raise WebError(422, f"forecast {forecast_id!r} cannot be read: {name} lies outside the results folder")
        key = ("forecast", str(folder), self.identity(folder, TABLES))
        with self._lock:
            hit = self._forecasts.get(key)
            if hit is None:
                try:
                    hit = ForecastView(forecast_id, folder, read_forecast(folder))
                except ForecastFileError as e:
                    hit = WebError(422, f"forecast {forecast_id!r} cannot be read: {e}")
                self._forecasts[key] = hit
                while len(self._forecasts) > MAX_FORECASTS:
                    self._forecasts.popitem(last=False)
            self._forecasts.move_to_end(key)
        if isinstance(hit, WebError):
            raise hit
        return hit

    def comparison(self, comp_id: str) -> pd.DataFrame:
        folder = self.folder(comp_id, "comparison")
        return read_comparison(folder / "comparison.csv")


@dataclass
class Run:
    """A run as the dashboard serves it: its id and folder, its :class:`Results`, and what the
    page shows of it, built once (:meth:`once`)."""

    id: str
    folder: Path
    results: Results
    _built: dict = field(default_factory=dict)
    _locks: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def once(self, what: str, build: Callable[[Results], Any]) -> Any:
        """``build(results)``, computed on the first call for ``what`` and kept with the run (one
        lock per ``what``: a slow build does not hold up the others)."""
        with self._lock:
            lock = self._locks.setdefault(what, threading.Lock())
        with lock:
            if what not in self._built:
                self._built[what] = build(self.results)
            return self._built[what]


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
