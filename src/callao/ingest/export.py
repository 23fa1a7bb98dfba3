"""A simulated run written as AIS: NMEA 0183 sentences or the MarineCadastre CSV layout.

Every call of the run becomes a track in the bay's geofences (:mod:`callao.ingest.geofences`):
in from the open sea to an anchoring spot in the anchorage (status *at anchor*, swinging slowly
around the anchor) or straight to the channel when it did not wait, through the approach channel
and harbour to its berth at the run's quay position (*moored*, stopped), then out through the
channel to sea. The track passes the geofence boundaries at the run's own times: it enters the
anchorage at ``t_arrival``, the channel at ``t_channel_in``, stops alongside at ``t_berth``, starts
moving at ``t_unberth`` and leaves the channel at ``t_depart``, so that ``callao calls detect`` on
the export must give back the run's calls (the round-trip test). Positions are reported every
``interval_s`` seconds with a few metres of GPS noise; speeds are those of the legs (12 kn at sea,
5 kn inside the anchorage, 6 kn in the channel, 3-4 kn in the harbour). Ships are AIS type 70
(cargo) with MMSI 760000000 + vessel id (:data:`callao.ingest.calls.SIMULATED_MMSI_BASE`).

Deterministic: the same run and seed give the same bytes.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point

from callao.ingest.calls import SIMULATED_MMSI_BASE
from callao.ingest.geofences import ANCHORAGE, BERTH, Geofences
from callao.ingest.readers import MARINECADASTRE_HEADER

KNOT = 1852.0 / 3600.0  # m/s
SEA_KN, ANCHORAGE_KN, APPROACH_KN, CHANNEL_KN, HARBOUR_KN = 12.0, 5.0, 8.0, 6.0, 3.5
DRIFT_KN = 0.5
"""Speed of a ship drifting at the pilot boarding point while it waits."""
MAX_KN = 20.0
"""Ceiling of a container ship's speed in the bay: the legs of the approach are sped up to fit the
run's times no further than this (only a geometry where the anchorage is far from the channel
would need more)."""
SEA_LEG_M = 12_000.0
STRAIGHT_IN_WAIT_H = 0.1
"""A call that waited less than this goes straight to the channel (no stop in the anchorage)."""
PILOT_WAIT_H = 1.0
"""A call that waited less than this (for its pilot, or a berth about to free) waits drifting at
the pilot boarding point, on the anchorage's edge nearest the channel, instead of anchoring."""
PILOT_STOP_H = 0.1
"""A ship waiting for its pilot stops (drifts below 1 kn) for at least this long when its wait
allows it at up to ``MAX_KN``: the shortest waits of a run (about 9 minutes from the anchorage's
edge to the channel, 1.7 km away at Callao) then need up to ~18 kn on the way to the channel."""
BOARDING_INSET_M = 100.0
"""The pilot boarding point lies this far inside the anchorage from its edge nearest the channel."""
TRAVEL_SHARE = 0.8
"""At most this share of a wait is spent moving; the rest is the stop (drifting or at anchor)."""
UNDER_WAY, AT_ANCHOR, MOORED = 0, 1, 5
CARGO = 70


def read_run(run_dir: str | Path) -> tuple[pd.DataFrame, datetime, int]:
    """The vessels table, ``simulation.start_utc`` and seed of a run folder written by ``callao run``.

    Raises ``ValueError`` naming the missing file."""
    run = Path(run_dir)
    for name in ("vessels.parquet", "scenario.json"):
        if not (run / name).is_file():
            raise ValueError(f"{run}: no {name}; expected a folder written by `callao run`")
    meta = json.loads((run / "scenario.json").read_text(encoding="utf-8"))
    start = pd.Timestamp(meta["scenario"]["simulation"]["start_utc"]).tz_convert("UTC").to_pydatetime()
    return pd.read_parquet(run / "vessels.parquet"), start, int(meta.get("seed", 0))


@dataclass
class _PortPaths:
    c0: np.ndarray  # channel's seaward end (x, y)
    channel: np.ndarray  # channel vertices, seaward first
    sea_out: np.ndarray  # open sea point off the channel, clear of the anchorage and land
    anchorage: shapely.Polygon | None
    sea_in: np.ndarray | None  # open sea point off the anchorage
    boarding: np.ndarray | None = None  # pilot boarding point, inside the anchorage's edge nearest the channel
    inward: np.ndarray | None = None  # unit vector from the boarding point into the anchorage
    sea_pilot: np.ndarray | None = None  # open sea point off the boarding point, clear of the port's zones


def _rotate(v: np.ndarray, deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([v[0] * np.cos(a) - v[1] * np.sin(a), v[0] * np.sin(a) + v[1] * np.cos(a)])


def _clear_direction(origin: np.ndarray, heading: np.ndarray, blocked) -> np.ndarray:
    """A sea point up to ``SEA_LEG_M`` from ``origin``, as close in direction to ``heading`` as
    possible, whose straight leg does not cross ``blocked``."""
    heading = heading / np.hypot(*heading)
    for length in (SEA_LEG_M, 0.6 * SEA_LEG_M, 0.4 * SEA_LEG_M):
        for deg in sorted(range(-150, 151, 2), key=abs):
            d = _rotate(heading, deg)
            if blocked.is_empty or not LineString([origin + 50 * d, origin + length * d]).intersects(blocked):
                return origin + length * d
    return origin + SEA_LEG_M * heading


def _port_paths(geo: Geofences) -> dict[str, _PortPaths]:
    land = shapely.unary_union(geo.obstacles) if geo.obstacles else shapely.Polygon()
    paths = {}
    for name, port in geo.ports.items():
        ch = np.asarray(port.channel.coords)
        anch = port.anchorage
        blocked = shapely.unary_union([land, anch.buffer(150)]) if anch is not None else land
        sea_out = _clear_direction(ch[0], ch[0] - ch[-1], blocked)
        sea_in = None
        if anch is not None:
            c = np.asarray(anch.centroid.coords[0])
            edge = np.asarray(shapely.ops.nearest_points(anch.exterior, Point(c + 1e6 * (c - ch[0]) /
                                                                               np.hypot(*(c - ch[0]))))[0].coords[0])
            sea_in = _clear_direction(edge, c - ch[0], land)
            # the pilot boarding point: on the anchorage's edge nearest the channel, a little inside,
            # approached from the open sea without crossing the channel, harbour or berths
            exit_edge = np.asarray(shapely.ops.nearest_points(anch.exterior, Point(ch[0]))[0].coords[0])
            inward = (c - exit_edge) / np.hypot(*(c - exit_edge))
            inset = BOARDING_INSET_M
            while inset > 5 and not anch.contains(Point(exit_edge + inset * inward)):
                inset /= 2
            boarding = exit_edge + inset * inward
            port_zones = shapely.unary_union([z.polygon for z in geo.zones if z.port == name and z.kind != ANCHORAGE])
            sea_pilot = _clear_direction(exit_edge, exit_edge - c,
                                         shapely.unary_union([land, anch, port_zones.buffer(300)]))
            paths[name] = _PortPaths(ch[0], ch, sea_out, anch, sea_in, boarding, inward, sea_pilot)
        else:
            paths[name] = _PortPaths(ch[0], ch, sea_out, anch, sea_in)
    return paths


def _fit(durations: list[float], budget_h: float, nominal_kn: float, min_stop_h: float = 0.0) -> list[float]:
    """Leg durations (hours, at their nominal speeds, the fastest ``nominal_kn``) sped up alike, if
    needed, so that the stop keeps at least ``min_stop_h`` and ``1 - TRAVEL_SHARE`` of ``budget_h``,
    but no leg goes faster than ``MAX_KN``; beyond that the stop gives (the run's times are kept)."""
    total = sum(durations)
    room = min(TRAVEL_SHARE * budget_h, budget_h - min_stop_h)
    room = min(max(room, total * nominal_kn / MAX_KN), budget_h)
    if total <= room or total <= 0:
        return durations
    return [d * room / total for d in durations]


def _boundary_crossing(poly, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where the segment a→b first crosses the polygon's boundary (a if it does not)."""
    hit = LineString([a, b]).intersection(poly.exterior)
    if hit.is_empty:
        return a
    pts = np.asarray([g.coords[0] for g in getattr(hit, "geoms", [hit])])
    return pts[np.argmin(np.hypot(*(pts - a).T))]


def _random_point(poly, rng: np.random.Generator, near: np.ndarray | None = None, radius: float = 400.0) -> np.ndarray:
    x0, y0, x1, y1 = poly.buffer(-100).bounds if poly.buffer(-100).area > 0 else poly.bounds
    inner = poly.buffer(-100) if poly.buffer(-100).area > 0 else poly
    for _ in range(1000):
        p = (near + rng.uniform(-radius, radius, 2)) if near is not None else rng.uniform([x0, y0], [x1, y1])
        if inner.contains(Point(p)):
            return p
    return np.asarray(inner.representative_point().coords[0])


def _legs(row, paths: _PortPaths, berth: np.ndarray, rng: np.random.Generator) -> tuple[list, list, list]:
    """Waypoints of one call: times (run hours), points (metres) and the status of the leg from each."""
    T, P, S = [], [], []

    def at(t: float, p: np.ndarray, status: int) -> None:
        T.append(float(t))
        P.append(np.asarray(p, float))
        S.append(status)

    def dist(a, b) -> float:
        return float(np.hypot(*(np.asarray(b) - np.asarray(a))))

    h = 1 / 3600.0 / KNOT  # hours per metre at 1 kn
    t_arr, t_ci, t_b, t_ub, t_dep = row.t_arrival, row.t_channel_in, row.t_berth, row.t_unberth, row.t_depart
    wait = t_ci - t_arr
    ch, c0 = paths.channel, paths.c0
    if paths.anchorage is not None and STRAIGHT_IN_WAIT_H <= wait < PILOT_WAIT_H:
        # a short wait (the pilot, or a berth about to free): in from the sea to the pilot boarding
        # point, drift there slowly, then on to the channel
        anch, b = paths.anchorage, paths.boarding
        entry = _boundary_crossing(anch, paths.sea_pilot, b)
        d_in = dist(entry, b) * h / ANCHORAGE_KN
        d_app = dist(b, c0) * h / APPROACH_KN
        drift_m = min(BOARDING_INSET_M, DRIFT_KN * max(wait - d_in - d_app, 0.0) / h)
        b2 = b + drift_m * paths.inward
        d_in, d_app = _fit([d_in, dist(b2, c0) * h / APPROACH_KN], wait, APPROACH_KN, PILOT_STOP_H)
        at(t_arr - dist(paths.sea_pilot, entry) * h / SEA_KN, paths.sea_pilot, UNDER_WAY)
        at(t_arr, entry, UNDER_WAY)
        at(t_arr + d_in, b, UNDER_WAY)
        at(t_ci - d_app, b2, UNDER_WAY)
    elif paths.anchorage is not None and wait >= PILOT_WAIT_H:
        anch = paths.anchorage
        spot = _random_point(anch, rng)
        entry = _boundary_crossing(anch, paths.sea_in, spot)
        out_pt = _boundary_crossing(anch, c0, spot)
        d_in, d_out, d_app = _fit([dist(entry, spot) * h / ANCHORAGE_KN, dist(spot, out_pt) * h / ANCHORAGE_KN,
                                   dist(out_pt, c0) * h / APPROACH_KN], wait, APPROACH_KN)
        at(t_arr - dist(paths.sea_in, entry) * h / SEA_KN, paths.sea_in, UNDER_WAY)
        at(t_arr, entry, UNDER_WAY)
        at(t_arr + d_in, spot, AT_ANCHOR)
        at(t_ci - d_app - d_out, spot, UNDER_WAY)
        at(t_ci - d_app, out_pt, UNDER_WAY)
    else:
        at(t_ci - dist(paths.sea_out, c0) * h / SEA_KN, paths.sea_out, UNDER_WAY)
    # inbound: channel at CHANNEL_KN, wait at its inner end if early, then the harbour at HARBOUR_KN
    channel_len = float(LineString(ch).length)
    inner = ch[-1]
    span = t_b - t_ci
    d_ch = min(channel_len * h / CHANNEL_KN, 0.5 * span)
    d_hb = min(dist(inner, berth) * h / HARBOUR_KN, 0.5 * span)
    at(t_ci, c0, UNDER_WAY)
    cum = np.r_[0, np.cumsum(np.hypot(*np.diff(ch, axis=0).T))]
    for k in range(1, len(ch) - 1):
        at(t_ci + d_ch * cum[k] / channel_len, ch[k], UNDER_WAY)
    at(t_ci + d_ch, inner, UNDER_WAY)
    at(t_b - d_hb, inner, UNDER_WAY)
    at(t_b, berth, MOORED)
    at(t_ub, berth, UNDER_WAY)
    span = t_dep - t_ub
    d_hb = min(dist(inner, berth) * h / HARBOUR_KN, 0.5 * span)
    d_ch = min(channel_len * h / CHANNEL_KN, 0.5 * span)
    at(t_ub + d_hb, inner, UNDER_WAY)
    at(t_dep - d_ch, inner, UNDER_WAY)
    for k in range(len(ch) - 2, 0, -1):
        at(t_dep - d_ch * cum[k] / channel_len, ch[k], UNDER_WAY)
    at(t_dep, c0, UNDER_WAY)
    at(t_dep + dist(c0, paths.sea_out) * h / SEA_KN, paths.sea_out, UNDER_WAY)
    return T, P, S


def tracks(vessels: pd.DataFrame, start_utc: datetime, geofences: Geofences | None = None,
           interval_s: float = 180.0, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AIS positions of every call of a run, and one static record per ship.

    Positions (time-sorted): ``mmsi``, ``t`` (epoch seconds), ``lat``, ``lon``, ``sog`` (knots),
    ``cog``/``heading`` (degrees), ``status`` (0 under way, 1 at anchor, 5 moored).
    Statics: ``mmsi``, ``name``, ``loa_m``, ``beam_m``, ``draft_m``, ``t_first``."""
    geo = geofences or Geofences.load()
    paths = _port_paths(geo)
    rng = np.random.default_rng([seed, 0xA15])
    t0 = pd.Timestamp(start_utc).timestamp()
    v = vessels[np.isfinite(vessels["t_berth"].to_numpy(float)) & np.isfinite(vessels["t_depart"].to_numpy(float))]
    berth_side = {z.terminal: z.polygon for z in geo.zones if z.kind == BERTH}
    out = {k: [] for k in ("mmsi", "t", "x", "y", "sog", "cog", "status")}
    statics = []
    for row in v.itertuples(index=False):
        terminal = str(row.terminal)
        quay = geo.quay(terminal)
        s = float(np.clip(row.quay_position_m + row.loa_m / 2, 0, quay.length))
        p = np.asarray(quay.interpolate(s).coords[0])
        q = np.asarray(quay.interpolate(min(s + 1.0, quay.length) if s < quay.length else s - 1.0).coords[0])
        normal = _rotate((q - p) / np.hypot(*(q - p)), 90)
        berth = p + 25.0 * normal
        if not berth_side[terminal].contains(Point(berth)):
            berth = p - 25.0 * normal
        T, P, S = _legs(row, paths[geo.port_of(terminal)], berth, rng)
        T, P, S = np.asarray(T) * 3600.0, np.asarray(P), np.asarray(S)
        phase = rng.uniform(0, interval_s)
        ts = np.arange(T[0] + phase, T[-1], interval_s)
        leg = np.clip(np.searchsorted(T, ts, side="right") - 1, 0, len(T) - 2)
        x = np.interp(ts, T, P[:, 0])
        y = np.interp(ts, T, P[:, 1])
        d = P[1:] - P[:-1]
        dur = np.maximum(T[1:] - T[:-1], 1e-9)
        speed_kn = np.hypot(d[:, 0], d[:, 1]) / dur / KNOT
        bearing = (np.degrees(np.arctan2(d[:, 0], d[:, 1])) + 360) % 360
        moving = speed_kn[leg] > 0.05
        anchored = S[leg] == AT_ANCHOR
        # a ship at anchor swings on its chain; a moored or waiting ship only shows GPS noise
        swing = np.where(anchored, 40.0, 0.0)
        phi = 2 * np.pi * ts / (6 * 3600.0) + rng.uniform(0, 2 * np.pi)
        moored = ~moving & (S[leg] == MOORED)
        noise = np.where(moored, 0.0, 3.0)  # a moored ship's report repeats exactly (and encodes once)
        x = x + swing * np.sin(phi) + noise * rng.standard_normal(ts.size)
        y = y + swing * np.cos(phi) + noise * rng.standard_normal(ts.size)
        sog = np.where(moving, speed_kn[leg] * rng.uniform(0.95, 1.05, ts.size),
                       np.where(anchored, rng.uniform(0.0, 0.3, ts.size), 0.0))
        along = (np.degrees(np.arctan2(*(q - p))) + 360) % 360
        cog = np.where(moving, (bearing[leg] + rng.normal(0, 2.0, ts.size)) % 360,
                       np.where(moored, along, rng.uniform(0, 360, ts.size)))
        status = np.where(moving, UNDER_WAY, S[leg])
        mmsi = SIMULATED_MMSI_BASE + int(row.vessel_id)
        for k, val in zip(out, (np.full(ts.size, mmsi, np.int64), ts + t0, x, y, np.round(sog, 1),
                                np.round(cog, 1), status)):
            out[k].append(val)
        statics.append((mmsi, f"SIM {int(row.vessel_id):06d}", float(row.loa_m), round(float(row.loa_m) / 7.0, 1),
                        float(row.draft_m), float(ts[0] + t0) if ts.size else np.nan))
    cat = {k: np.concatenate(val) if val else np.empty(0) for k, val in out.items()}
    lon, lat = geo.unproject(cat.pop("x"), cat.pop("y"))
    pos = pd.DataFrame({"mmsi": cat["mmsi"].astype(np.int64), "t": np.round(cat["t"]), "lat": np.round(lat, 6),
                        "lon": np.round(lon, 6), "sog": cat["sog"], "cog": cat["cog"],
                        "heading": np.round(cat["cog"]).astype(np.int64) % 360,
                        "status": cat["status"].astype(np.int64)})
    pos = pos.sort_values(["t", "mmsi"], kind="stable").reset_index(drop=True)
    st = pd.DataFrame(statics, columns=["mmsi", "name", "loa_m", "beam_m", "draft_m", "t_first"])
    return pos, st


# ------------------------------------------------------------------ writers
def _open_out(path: Path):
    return gzip.open(path, "wt", encoding="ascii", newline="\n") if path.suffix == ".gz" else \
        open(path, "w", encoding="ascii", newline="\n")


def _nmea_checksum(text: str) -> str:
    c = 0
    for ch in text.encode("ascii"):
        c ^= ch
    return f"{c:02X}"


def tag_block(epoch_s: int, source: str = "callao") -> str:
    """An NMEA 4.10 tag block with the receiver time: ``\\s:callao,c:1704067200*hh\\``."""
    body = f"s:{source},c:{int(epoch_s)}"
    return f"\\{body}*{_nmea_checksum(body)}\\"


def write_nmea(positions: pd.DataFrame, statics: pd.DataFrame, path: str | Path,
               static_every_s: float = 360.0) -> int:
    """Write ``!AIVDM`` sentences (type 1 positions, two-part type 5 static and voyage data every
    ``static_every_s`` seconds per ship), each with a tag block timestamp. Encoded with pyais.
    Returns the number of sentences written."""
    from pyais.encode import encode_dict

    path = Path(path)
    st = statics.set_index("mmsi")
    last_static: dict[int, float] = {}
    seq = 0
    n = 0
    static_sentences: dict[int, list[str]] = {}
    cache: dict[tuple, str] = {}
    cols = [positions[c].to_numpy() for c in ("mmsi", "t", "lat", "lon", "sog", "cog", "heading", "status")]
    with _open_out(path) as f:
        for mmsi, t, lat, lon, sog, cog, heading, status in zip(*cols):
            mmsi, t = int(mmsi), float(t)
            tb = tag_block(int(t))
            if t - last_static.get(mmsi, -np.inf) >= static_every_s:
                last_static[mmsi] = t
                s = st.loc[mmsi]
                half = int(round(s.loa_m / 2))
                beam = int(round(s.beam_m / 2))
                msg5 = {"type": 5, "mmsi": mmsi, "ais_version": 0, "imo": 0, "callsign": f"OA{mmsi % 10000:04d}",
                        "shipname": s["name"], "ship_type": CARGO, "to_bow": half, "to_stern": int(round(s.loa_m)) - half,
                        "to_port": beam, "to_starboard": beam, "epfd": 1, "draught": float(s.draft_m),
                        "destination": "PECLL", "dte": 0}
                if mmsi not in static_sentences:
                    seq = seq % 9 + 1
                    static_sentences[mmsi] = encode_dict(msg5, talker_id="AI", sentence_type="VDM",
                                                         radio_channel="A", seq_id=seq)
                for sentence in static_sentences[mmsi]:
                    f.write(tb + sentence + "\n")
                    n += 1
            key = (mmsi, int(status), float(sog), float(lon), float(lat), float(cog), int(heading), int(t) % 60)
            sentence = cache.get(key)
            if sentence is None:  # a moored ship repeats the same report: encode it once
                msg = {"type": 1, "mmsi": mmsi, "status": int(status), "turn": -128, "speed": float(sog),
                       "accuracy": 1, "lon": float(lon), "lat": float(lat), "course": float(cog),
                       "heading": int(heading), "second": int(t) % 60}
                sentence = encode_dict(msg, talker_id="AI", sentence_type="VDM", radio_channel="B")[0]
                if len(cache) > 100_000:
                    cache.clear()
                cache[key] = sentence
            f.write(tb + sentence + "\n")
            n += 1
    return n


def write_marinecadastre(positions: pd.DataFrame, statics: pd.DataFrame, path: str | Path) -> int:
    """Write the MarineCadastre CSV layout (``MMSI,BaseDateTime,LAT,LON,...``). Returns the rows."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    st = statics.set_index("mmsi").reindex(positions["mmsi"].to_numpy())
    when = positions["t"].to_numpy(np.int64).astype("datetime64[s]").astype(str)
    n = len(positions)
    table = pa.table({
        "MMSI": positions["mmsi"].to_numpy(np.int64), "BaseDateTime": when,
        "LAT": positions["lat"].to_numpy(), "LON": positions["lon"].to_numpy(),
        "SOG": positions["sog"].to_numpy(), "COG": positions["cog"].to_numpy(),
        "Heading": positions["heading"].to_numpy(np.int64), "VesselName": st["name"].to_numpy(object),
        "IMO": pa.nulls(n, pa.string()), "CallSign": pa.nulls(n, pa.string()),
        "VesselType": (st["ship_type"].to_numpy(np.int64) if "ship_type" in st else np.full(n, CARGO)), "Status": positions["status"].to_numpy(np.int64),
        "Length": st["loa_m"].to_numpy(), "Width": st["beam_m"].to_numpy(), "Draft": st["draft_m"].to_numpy(),
        "Cargo": np.full(n, CARGO), "TransceiverClass": np.full(n, "A", object)})
    assert ",".join(table.column_names) == MARINECADASTRE_HEADER
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    header = (MARINECADASTRE_HEADER + "\n").encode("ascii")
    if path.suffix == ".gz":
        with pa.CompressedOutputStream(str(path), "gzip") as sink:
            sink.write(header)
            pacsv.write_csv(table, sink, write_options=opts)
    else:
        with pa.OSFile(str(path), "wb") as sink:
            sink.write(header)
            pacsv.write_csv(table, sink, write_options=opts)
    return n


def export_run(run_dir: str | Path, fmt: str, out: str | Path, interval_s: float = 180.0,
               geofences: Geofences | None = None) -> tuple[int, int]:
    """``callao calls export``: a run folder → an AIS file (atomic write). Returns (calls, lines)."""
    from callao.results import atomic_write

    vessels, start, seed = read_run(run_dir)
    pos, st = tracks(vessels, start, geofences, interval_s=interval_s, seed=seed)
    out = Path(out)
    written = {}

    def write(p: Path) -> None:
        target = p.with_name(p.name + out.suffix) if out.suffix == ".gz" else p
        if fmt == "nmea":
            written["n"] = write_nmea(pos, st, target)
        else:
            written["n"] = write_marinecadastre(pos, st, target)
        if target != p:
            target.replace(p)

    atomic_write(out, write)
    return len(st), written["n"]
