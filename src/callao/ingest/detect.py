"""Port-call detection: AIS positions → the calls table (:mod:`callao.ingest.calls`).

The path, chunk by chunk (memory does not grow with the file):

1. every position is projected to metres and given its zone in one vectorised pass
   (:meth:`Geofences.zone_of`); a position in a berth strip counts as *at berth* only when its
   speed over ground is below ``berth_sog_kn``, else it is in the harbour;
2. positions are refused (quarantined, counted by reason) when outside the area of interest, more
   than ``reorder_window_s`` older than the ship's latest, exact duplicates, or impossible jumps
   (a spike implying more than ``max_speed_kn`` both in and out);
3. each ship's positions are sorted by time and compressed to *runs* of one zone (first and last
   time, count, mean position): a call is a handful of runs, whatever the reporting rate.

At the end the runs of every ship are merged across chunks (which also puts late, out-of-order
messages back in place), single-position flickers between two runs of the same zone are removed,
and a small state machine walks each ship's runs — a few per call — to cut *visits* and read the
call's times off them (see ``docs/data.md``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from callao import allocator
from callao.ingest.calls import conform
from callao.ingest.geofences import ANCHORAGE, BERTH, CHANNEL, HARBOUR, OUTSIDE, SEA, Geofences
from callao.ingest.readers import (DUPLICATE, OUT_OF_ORDER, OUTSIDE_AOI, REFUSED_SCHEMA, SPEED_JUMP, STATICS_SCHEMA,
                                   Chunk, empty, read_ais)

KNOT = 1852.0 / 3600.0  # m/s


@dataclass(frozen=True)
class DetectOptions:
    """Thresholds of call detection (defaults suit class A reports every few seconds to minutes)."""

    berth_sog_kn: float = 0.5
    """At berth: inside a berth strip below this speed over ground."""
    berth_min_minutes: float = 10.0
    """A stay at berth shorter than this is not a berthing (a ship passing slowly alongside)."""
    anchored_min_minutes: float = 30.0
    """A ship anchored if it stayed this long in the anchorage, or stopped there (below
    ``anchor_sog_kn``); else it only passed through. A visit without berth is a call only if it anchored."""
    anchor_sog_kn: float = 1.0
    visit_gap_h: float = 3.0
    """Before berthing, this long at sea ends a visit (the ship left without berthing)."""
    depart_gap_minutes: float = 15.0
    """After berthing, this long at sea (or leaving via the anchorage) ends a visit."""
    max_speed_kn: float = 50.0
    """Implied speed above which a position that jumps away and back is refused."""
    jump_min_m: float = 300.0
    """Jumps shorter than this are GPS noise, never refused."""
    reorder_window_s: float = 3600.0
    """Messages up to this much older than the ship's latest are sorted back in; older ones refused."""
    cargo_only: bool = True
    """Only ships of AIS type 70-79 (cargo) or unknown type make calls."""


@dataclass
class Summary:
    """What a detection run read, kept and refused."""

    files: list[str] = field(default_factory=list)
    messages: int = 0
    positions_kept: int = 0
    ships: int = 0
    calls: int = 0
    calls_berthed: int = 0
    other_type_ships: int = 0
    passages: int = 0
    refused: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())


REFUSALS = (None, OUTSIDE_AOI, OUT_OF_ORDER, DUPLICATE, SPEED_JUMP)
"""The reasons :meth:`CallDetector.feed` refuses a position for (0: kept)."""
RUN_COLUMNS = ("mmsi", "code", "t_first", "t_last", "n", "x", "y", "sog_min")


class CallDetector:
    """Feed chunks of AIS, then :meth:`calls`. Stateless across ships except the last kept position."""

    def __init__(self, geofences: Geofences, options: DetectOptions | None = None) -> None:
        self.geo = geofences
        self.opt = options or DetectOptions()
        self._kind = geofences.kind_of
        self._harbour = geofences.harbour_of
        self._port = np.array(["", *[z.port for z in geofences.zones]], object)
        self._runs: list[pd.DataFrame] = []
        self._statics: list[pd.DataFrame] = []
        # per ship, carried between chunks (arrays sorted by MMSI): latest time seen, last kept position
        self._ship = np.empty(0, np.int64)
        self._t_max = np.empty(0)
        self._t_last, self._x_last, self._y_last = np.empty(0), np.empty(0), np.empty(0)
        self.positions_kept = 0

    def _carried(self, ships: np.ndarray) -> tuple[np.ndarray, ...]:
        """(latest time, last kept time, x, y) of each of ``ships`` (sorted) from earlier chunks;
        -inf and NaN for a ship not seen before."""
        i = np.minimum(np.searchsorted(self._ship, ships), max(self._ship.size - 1, 0))
        seen = self._ship[i] == ships if self._ship.size else np.zeros(ships.size, bool)
        nan = np.full(ships.size, np.nan)
        if not seen.any():
            return np.full(ships.size, -np.inf), nan, nan.copy(), nan.copy()
        return (np.where(seen, self._t_max[i], -np.inf), np.where(seen, self._t_last[i], np.nan),
                np.where(seen, self._x_last[i], np.nan), np.where(seen, self._y_last[i], np.nan))

    def _carry(self, ships: np.ndarray, t_max: np.ndarray, t: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        """Store the state of ``ships`` (sorted) after this chunk (NaN ``t``: no kept position, keep the old)."""
        merged = np.union1d(self._ship, ships)
        old = np.searchsorted(merged, self._ship)
        new = np.searchsorted(merged, ships)
        state = []
        for before, now in ((self._t_max, t_max), (self._t_last, t), (self._x_last, x), (self._y_last, y)):
            a = np.full(merged.size, np.nan)
            a[old] = before
            a[new] = np.where(np.isnan(now), a[new], now)
            state.append(a)
        self._ship = merged
        self._t_max, self._t_last, self._x_last, self._y_last = state

    # ------------------------------------------------------------ per chunk
    def feed(self, chunk: Chunk) -> pd.DataFrame:
        """Zone, clean and compress one chunk's positions. Returns the positions refused here."""
        if len(chunk.statics):  # a ship repeats its static report every few minutes: keep changes only
            self._statics.append(chunk.statics.drop_duplicates(subset=["mmsi", "name", "loa_m", "draft_m",
                                                                       "ship_type"]))
        p = chunk.columns
        n = len(chunk)
        if n == 0:
            return empty(REFUSED_SCHEMA)
        mmsi, t = p["mmsi"], p["t"]
        x, y = self.geo.project(p["lon"], p["lat"])
        code = self.geo.zone_of(x, y)
        reason = np.zeros(n, np.int8)  # index into REFUSALS; 0: kept
        bad = code == OUTSIDE
        reason[bad] = REFUSALS.index(OUTSIDE_AOI)

        # order by ship, keeping file order within a ship (stable): ships numbered by a hash
        # factorisation, sorted on the small codes (a radix sort when under 65,536 ships)
        codes, ships = pd.factorize(mmsi, sort=True)
        order = np.argsort(codes.astype(np.uint16) if ships.size < 65_536 else codes, kind="stable")
        gid = codes[order]
        ts = t[order]
        new_ship = np.r_[True, gid[1:] != gid[:-1]]
        starts = np.flatnonzero(new_ship)
        prev_max, last_t, last_x, last_y = self._carried(ships)
        # running max of time before each message within its ship (file order), incl. earlier chunks
        t_lo = np.nanmin(ts)
        span = np.nanmax(ts) - t_lo + 1.0
        lift = gid * (2 * span)
        run_max = np.maximum.accumulate(ts - t_lo + lift)
        run_max -= lift
        run_max += t_lo
        before = np.r_[-np.inf, run_max[:-1]]
        before[starts] = -np.inf
        before = np.maximum(before, prev_max[gid])
        late = ts < before - self.opt.reorder_window_s
        late_idx = order[late]
        late_idx = late_idx[~bad[late_idx]]
        reason[late_idx] = REFUSALS.index(OUT_OF_ORDER)
        bad[late_idx] = True
        new_max = np.maximum(np.maximum.reduceat(np.where(np.isnan(ts), -np.inf, ts), starts), prev_max)

        # sort the kept positions by ship and time (usually they already are, within each ship)
        kept = ~bad[order]
        srt, g = order[kept], gid[kept]
        ts = t[srt]
        if not np.all((g[1:] != g[:-1]) | (ts[1:] >= ts[:-1])):
            srt = srt[np.lexsort((ts, g))]
            g, ts = codes[srt], t[srt]
        xs, ys = x[srt], y[srt]
        m = srt.size
        same = np.zeros(m, bool)
        same[1:] = g[1:] == g[:-1]
        dup = same.copy()
        dup[1:] &= (ts[1:] == ts[:-1]) & (xs[1:] == xs[:-1]) & (ys[1:] == ys[:-1])
        # impossible jumps: a spike away from the previous position and back to the next one
        # the previous kept position of the same ship: just before, or the last one of an earlier chunk
        px = np.where(same, np.r_[np.nan, xs[:-1]], last_x[g])
        py = np.where(same, np.r_[np.nan, ys[:-1]], last_y[g])
        pt = np.where(same, np.r_[np.nan, ts[:-1]], last_t[g])
        d_in = np.hypot(xs - px, ys - py)
        jump_in = (d_in > self.opt.jump_min_m) & (d_in / np.maximum(ts - pt, 1.0) > self.opt.max_speed_kn * KNOT)
        jump_out = np.ones(m, bool)
        jump_out[:-1] = jump_in[1:] & same[1:]
        spike = jump_in & jump_out & ~dup
        for mask, why in ((dup, DUPLICATE), (spike, SPEED_JUMP)):
            reason[srt[mask]] = REFUSALS.index(why)
            bad[srt[mask]] = True
        ok = ~(dup | spike)
        if not ok.all():
            srt = srt[ok]
            ts, xs, ys, g = ts[ok], xs[ok], ys[ok], g[ok]
        self.positions_kept += srt.size

        # state of each position: its zone; a berth strip counts only when (nearly) stopped
        c = code[srt]
        sog = p["sog"][srt]
        stopped = (sog < self.opt.berth_sog_kn) | (np.isnan(sog) & (p["status"][srt] == 5))
        moving_in_berth = (self._kind[c] == BERTH) & ~stopped
        c = np.where(moving_in_berth, self._harbour[c], c)
        t_last, x_last, y_last = np.full(ships.size, np.nan), np.full(ships.size, np.nan), np.full(ships.size, np.nan)
        if srt.size:
            brk = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (c[1:] != c[:-1])])
            ends = np.r_[brk[1:], srt.size] - 1
            cnt = ends - brk + 1
            self._runs.append(pd.DataFrame({
                "mmsi": ships[g[brk]], "code": c[brk], "t_first": ts[brk], "t_last": ts[ends], "n": cnt,
                "x": np.add.reduceat(xs, brk) / cnt, "y": np.add.reduceat(ys, brk) / cnt,
                "sog_min": np.fmin.reduceat(np.where(np.isnan(sog), np.inf, sog), brk)}))
            last_i = np.r_[np.flatnonzero(g[1:] != g[:-1]), g.size - 1]
            t_last[g[last_i]], x_last[g[last_i]], y_last[g[last_i]] = ts[last_i], xs[last_i], ys[last_i]
        self._carry(ships, new_max, t_last, x_last, y_last)

        r = np.flatnonzero(bad)
        if r.size == 0:
            return empty(REFUSED_SCHEMA)
        return pd.DataFrame({"line": p["line"][r], "reason": pd.Series(np.array(REFUSALS, object)[reason[r]], dtype=object),
                             "mmsi": mmsi[r].astype(float), "t": t[r], "lat": p["lat"][r], "lon": p["lon"][r],
                             "raw": pd.Series([None] * r.size, dtype=object)})

    # ------------------------------------------------------------ at the end
    def runs(self) -> pd.DataFrame:
        """Every ship's zone runs, merged across chunks, sorted, with one-position flickers removed."""
        if not self._runs:
            return pd.DataFrame({c: pd.Series(dtype=float) for c in RUN_COLUMNS})
        runs = pd.concat(self._runs, ignore_index=True).sort_values(["mmsi", "t_first", "t_last"], kind="stable")
        runs = _merge(runs)
        for _ in range(2):  # a lone position between two runs of the same zone is noise ...
            m, c, n = runs["mmsi"].to_numpy(), runs["code"].to_numpy(), runs["n"].to_numpy()
            # ... unless it is a ship stopped in the anchorage (a short stop for the pilot, seen once)
            stopped = (self._kind[c] == ANCHORAGE) & (runs["sog_min"].to_numpy() < self.opt.anchor_sog_kn)
            flicker = np.r_[False, (n[1:-1] == 1) & ~stopped[1:-1] & (m[:-2] == m[2:]) & (m[1:-1] == m[:-2])
                            & (c[:-2] == c[2:]), False] if len(runs) > 2 else np.zeros(len(runs), bool)
            if not flicker.any():
                break
            runs = _merge(runs[~flicker])
        return runs.reset_index(drop=True)

    def statics(self) -> pd.DataFrame:
        """Static reports (name, length, draught, ship type), time-sorted, repeats dropped."""
        if not self._statics:
            return empty(STATICS_SCHEMA)
        s = pd.concat(self._statics, ignore_index=True).sort_values(["mmsi", "t"], kind="stable")
        repeat = s["mmsi"].eq(s["mmsi"].shift()).to_numpy().copy()
        for col in ("name", "loa_m", "draft_m", "ship_type"):
            a, b = s[col], s[col].shift()
            repeat &= ((a == b) | (a.isna() & b.isna())).to_numpy()
        return s[~repeat].reset_index(drop=True)

    def calls(self, summary: Summary | None = None) -> pd.DataFrame:
        """The calls table (conformed to :data:`callao.ingest.calls.CALLS_COLUMNS`, plus ``port``,
        ``berth_shifts`` and ``positions``)."""
        runs, statics = self.runs(), self.statics()
        kind = self._kind
        zones = self.geo.zones
        other_types: set[int] = set()
        if self.opt.cargo_only and len(statics):
            typed = statics.dropna(subset=["ship_type"]).groupby("mmsi")["ship_type"].last()
            other_types = set(typed.index[~typed.between(70, 79)].tolist())
        rows: list[dict] = []
        passages = 0
        if len(runs):
            mm = runs["mmsi"].to_numpy(np.int64)
            bounds = np.flatnonzero(np.r_[True, mm[1:] != mm[:-1], True])
            cols = {c: runs[c].to_numpy() for c in RUN_COLUMNS[1:]}
            # the per-run loops below read Python lists: scalar access is several times a numpy array's
            code = cols["code"]
            cols.update(kind=self._kind[code].tolist(), port=self._port[code].tolist(),
                        t0=cols["t_first"].tolist(), t1=cols["t_last"].tolist())
            for a, b in zip(bounds[:-1], bounds[1:]):
                if int(mm[a]) in other_types:
                    continue
                for visit in self._visits(cols, a, b):
                    row = self._call(cols, visit, kind, zones)
                    if row is None:
                        passages += 1
                    else:
                        row["mmsi"] = int(mm[a])
                        rows.append(row)
        calls = pd.DataFrame(rows, columns=["mmsi", "t_arrival", "t_channel_in", "t_berth", "t_unberth", "t_depart",
                                            "terminal", "port", "x", "y", "berth_shifts", "positions"])
        calls = _with_statics(calls, statics)
        for col in ("t_arrival", "t_channel_in", "t_berth", "t_unberth", "t_depart"):
            calls[col] = pd.to_datetime(calls[col].astype(float), unit="s", utc=True)
        calls["quay_position_m"] = np.nan
        for terminal in calls["terminal"].dropna().unique():
            m = (calls["terminal"] == terminal).to_numpy()
            calls.loc[m, "quay_position_m"] = self.geo.quay_position(
                terminal, calls["x"].to_numpy(float)[m], calls["y"].to_numpy(float)[m], calls["loa_m"].to_numpy(float)[m])
        calls["anchorage_wait_h"] = (calls["t_channel_in"] - calls["t_arrival"]).dt.total_seconds() / 3600.0
        calls["berth_shifts"] = calls["berth_shifts"].astype(np.int64)
        calls["positions"] = calls["positions"].astype(np.int64)
        calls = calls.drop(columns=["x", "y"]).sort_values(["t_arrival", "t_berth", "mmsi"], kind="stable")
        out = conform(calls.reset_index(drop=True))
        if summary is not None:
            summary.ships = int(pd.unique(runs["mmsi"]).size) if len(runs) else 0
            summary.other_type_ships = len(other_types)
            summary.passages = passages
            summary.calls = len(out)
            summary.calls_berthed = int(out["terminal"].notna().sum())
        return out

    def _visits(self, cols: dict, a: int, b: int) -> Iterable[list[int]]:
        """Cut one ship's runs [a, b) into visits: lists of run indices (sea runs between port
        zones included, and the first run after the visit, which tells when the ship left)."""
        kind, port, t0, t1 = cols["kind"], cols["port"], cols["t0"], cols["t1"]
        visit: list[int] = []
        sea: list[int] = []
        berthed, vport = False, ""
        for i in range(a, b):
            if kind[i] == SEA:
                if visit:
                    sea.append(i)
                continue
            if visit:
                limit = self.opt.depart_gap_minutes * 60 if berthed else self.opt.visit_gap_h * 3600
                if (sea and t0[i] - t0[sea[0]] >= limit) or port[i] != vport:
                    yield visit + sea[:1]
                    visit, berthed = [], False
                else:
                    visit.extend(sea)
            sea = []
            if not visit:
                vport = port[i]
            visit.append(i)
            if kind[i] == BERTH and t1[i] - t0[i] >= self.opt.berth_min_minutes * 60:
                berthed = True
        if visit:
            yield visit + sea[:1]

    def _call(self, cols: dict, visit: list[int], kind_of: np.ndarray, zones) -> dict | None:
        """The call of one visit (None: the ship only passed through)."""
        code, n, kind, t0, t1 = cols["code"], cols["n"], cols["kind"], cols["t0"], cols["t1"]
        idx = np.asarray(visit)
        port_runs = idx[kind_of[code[idx]] != SEA].tolist()
        berth_min = self.opt.berth_min_minutes * 60
        q = [i for i in port_runs if kind[i] == BERTH and t1[i] - t0[i] >= berth_min]
        before = q[0] if q else visit[-1] + 1
        anchor_runs = [i for i in port_runs if kind[i] == ANCHORAGE and i < before]
        anchored = bool(anchor_runs) and (
            sum(t1[i] - t0[i] for i in anchor_runs) >= self.opt.anchored_min_minutes * 60
            or min(cols["sog_min"][i] for i in anchor_runs) < self.opt.anchor_sog_kn)
        if not anchored:  # passing through the anchorage area is not waiting there
            port_runs = [i for i in port_runs if kind[i] != ANCHORAGE or i > before]
            anchor_runs = []
            if not q:
                return None
        first = port_runs[0]
        k_first = kind[first]
        after = dict(zip(visit[:-1], visit[1:]))

        def next_t(i: int) -> float:
            j = after.get(i)
            return float(t0[j]) if j is not None else np.nan

        row = {"t_arrival": np.nan if k_first in (BERTH, HARBOUR) else float(t0[first]),
               "t_channel_in": np.nan, "t_berth": np.nan, "t_unberth": np.nan, "t_depart": np.nan,
               "terminal": None, "port": zones[code[first] - 1].port, "x": np.nan, "y": np.nan,
               "berth_shifts": 0, "positions": int(n[idx].sum())}
        if not q:
            inside = [i for i in port_runs if kind[i] in (CHANNEL, HARBOUR) and i > anchor_runs[0]]
            if inside:
                row["t_channel_in"] = float(t0[inside[0]])
            row["t_depart"] = next_t(port_runs[-1])
            return row
        b0, bl = q[0], q[-1]
        z = zones[code[b0] - 1]
        row.update(terminal=z.terminal, port=z.port, x=float(cols["x"][b0]), y=float(cols["y"][b0]),
                   t_berth=float(t0[b0]), t_unberth=next_t(bl))
        shifts = 0
        for i, j in zip(q[:-1], q[1:]):
            moved = np.hypot(cols["x"][j] - cols["x"][i], cols["y"][j] - cols["y"][i]) > 50.0
            shifts += int(code[j] != code[i] or moved)
        row["berth_shifts"] = shifts
        if anchor_runs:
            inbound = [i for i in port_runs if anchor_runs[-1] < i <= b0 and kind[i] in (CHANNEL, HARBOUR, BERTH)]
            row["t_channel_in"] = float(t0[inbound[0]])
        elif k_first == CHANNEL:
            row["t_channel_in"] = row["t_arrival"]
        out = [i for i in visit if i > bl and kind[i] in (SEA, ANCHORAGE)]
        row["t_depart"] = float(t0[out[0]]) if out else np.nan
        return row


def _merge(runs: pd.DataFrame) -> pd.DataFrame:
    """Merge consecutive runs of the same ship and zone."""
    m, c = runs["mmsi"].to_numpy(), runs["code"].to_numpy()
    new = np.r_[True, (m[1:] != m[:-1]) | (c[1:] != c[:-1])]
    if new.all():
        return runs
    g = np.cumsum(new) - 1
    n = runs["n"].to_numpy()
    agg = pd.DataFrame({"mmsi": m[new], "code": c[new],
                        "t_first": np.minimum.reduceat(runs["t_first"].to_numpy(), np.flatnonzero(new)),
                        "t_last": np.maximum.reduceat(runs["t_last"].to_numpy(), np.flatnonzero(new)),
                        "n": np.bincount(g, weights=n).astype(np.int64),
                        "x": np.bincount(g, weights=runs["x"].to_numpy() * n) / np.bincount(g, weights=n),
                        "y": np.bincount(g, weights=runs["y"].to_numpy() * n) / np.bincount(g, weights=n),
                        "sog_min": np.minimum.reduceat(runs["sog_min"].to_numpy(), np.flatnonzero(new))})
    return agg


def _with_statics(calls: pd.DataFrame, statics: pd.DataFrame) -> pd.DataFrame:
    """Name, length and draught of each call: the last report before arrival, else the first after.

    ``statics`` is sorted by ship and time (:meth:`CallDetector.statics`); a few reports a ship,
    so each call looks its ship's up with two binary searches."""
    calls = calls.copy()
    t_ref = calls["t_arrival"].astype(float).fillna(calls["t_berth"].astype(float))
    t_ref = t_ref.fillna(calls["t_depart"].astype(float)).fillna(0.0).to_numpy(float)
    call_mmsi = calls["mmsi"].to_numpy(np.int64)
    for col in ("name", "loa_m", "draft_m"):
        s = statics.dropna(subset=[col])
        values = np.full(len(calls), None, object) if col == "name" else np.full(len(calls), np.nan)
        if len(calls) and len(s):
            st = s["t"].fillna(-np.inf).to_numpy(float)
            sm = s["mmsi"].to_numpy(np.int64)
            order = np.lexsort((st, sm))  # by ship, then time, ties in their order (stable)
            st, sm, sv = st[order], sm[order], s[col].to_numpy()[order]
            lo, hi = np.searchsorted(sm, call_mmsi, "left"), np.searchsorted(sm, call_mmsi, "right")
            for k in np.flatnonzero(hi > lo):
                a, b = lo[k], hi[k]
                i = a + np.searchsorted(st[a:b], t_ref[k], "right") - 1  # last report at or before
                if i < a:
                    i = a + np.searchsorted(st[a:b], t_ref[k], "left")  # else the first one after
                values[k] = sv[i]
        calls[col] = values
    return calls


# ---------------------------------------------------------------------- driver
QUARANTINE_COLUMNS = ["file", "line", "reason", "mmsi", "time_utc", "lat", "lon", "raw"]


def detect_calls(files: Iterable[str | Path], out_dir: str | Path, geofences: Geofences | None = None,
                 options: DetectOptions | None = None, chunk_rows: int = 250_000,
                 progress: Callable[[str, int], None] | None = None) -> tuple[pd.DataFrame, Summary]:
    """Read AIS files, detect port calls, write ``calls.parquet`` and ``quarantine.csv`` to ``out_dir``.

    Every file is checked (:func:`callao.ingest.readers.sniff`) before any is read, so a bad file
    fails fast with :class:`~callao.ingest.readers.AISFormatError`. Writes are atomic."""
    import time

    from callao.ingest.readers import sniff
    from callao.results import atomic_write, write_parquet

    files = [Path(f) for f in files]
    for f in files:
        sniff(f)
    geo = geofences or Geofences.load()
    det = CallDetector(geo, options)
    summary = Summary(files=[str(f) for f in files])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started, cpu = time.perf_counter(), time.process_time()
    qtmp = out / f".quarantine.csv.{os.getpid()}.tmp"
    try:
        with _freed_memory_kept(), open(qtmp, "w", encoding="utf-8", newline="") as q:
            q.write(",".join(QUARANTINE_COLUMNS) + "\n")
            for f in files:
                for chunk in read_ais(f, chunk_rows):
                    summary.messages += chunk.messages
                    refused = pd.concat([x for x in (chunk.refused, det.feed(chunk)) if len(x)] or [chunk.refused],
                                        ignore_index=True)
                    if len(refused):
                        summary.refused.update(refused["reason"].str.split(":").str[0].value_counts().to_dict())
                        _quarantine_frame(refused, f).to_csv(q, header=False, index=False)
                    if progress:
                        progress(str(f), summary.messages)
        calls = det.calls(summary)
        summary.positions_kept = det.positions_kept
        summary.seconds = time.perf_counter() - started
        summary.cpu_seconds = time.process_time() - cpu
        atomic_write(out / "calls.parquet", lambda p: write_parquet(calls, p))
        os.replace(qtmp, out / "quarantine.csv")
    finally:
        if qtmp.exists():
            qtmp.unlink()
    return calls, summary


@contextmanager
def _freed_memory_kept() -> Iterator[None]:
    """While reading, keep the memory freed between chunks in the process instead of handing it
    back to the kernel after each chunk (glibc's default for blocks of megabytes): each chunk's
    arrays then reuse the pages of the last one's rather than fault in fresh zeroed pages, which
    cost about a fifth of the CPU time. Peak memory is unchanged; it is handed back at the end.
    The settings are the process's: set on entry, put back to glibc's fixed defaults on exit (its
    self-tuning of the mapping threshold stays off). A no-op where the C library is not glibc."""
    if not allocator.set_thresholds(allocator.MMAP_THRESHOLD_MAX, 1 << 30):
        yield
        return
    try:
        yield
    finally:
        allocator.set_thresholds(allocator.GLIBC_MMAP_THRESHOLD, allocator.GLIBC_MMAP_THRESHOLD)
        allocator.trim()


def _quarantine_frame(refused: pd.DataFrame, f: Path) -> pd.DataFrame:
    t = pd.to_datetime(refused["t"], unit="s", utc=True, errors="coerce")
    return pd.DataFrame({
        "file": f.name, "line": refused["line"].to_numpy(), "reason": refused["reason"].to_numpy(),
        "mmsi": refused["mmsi"].astype("Int64"), "time_utc": t.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lat": refused["lat"].to_numpy(), "lon": refused["lon"].to_numpy(), "raw": refused["raw"].to_numpy()})
