"""Where every vessel (and naval movement) is at a simulated time, computed vectorised from a run's
vessels table.

A call is, at time ``t`` (hours from the run start):

- ``waiting`` at its port's anchorage (a random but stable spot per vessel) from ``t_arrival`` to
  ``t_channel_in``;
- ``inbound`` along the channel (outer end → basin) from ``t_channel_in`` to ``t_berth``;
- ``berthed`` on its terminal's quay from ``t_berth`` to ``t_unberth``, its midpoint at
  ``quay_position_m + loa_m / 2`` along the quay line, a little off it on the sea side;
- ``outbound`` along the channel (basin → outer end) from ``t_unberth`` to ``t_depart``;
- not shown before arrival and after departure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from callao.web.geo import Bay, offset

STATES = ("waiting", "inbound", "berthed", "outbound")
STATE_LABELS = {"waiting": "waiting at anchorage", "inbound": "in channel (inbound)",
                "berthed": "at berth", "outbound": "in channel (outbound)"}
BERTH_OFFSET_M = 30.0
"""Berthed ships are drawn this far off the quay line, on the sea side (about half a beam)."""
ANCHORAGE_MARGIN = 0.08


def unit_hash(ids: np.ndarray, salt: int) -> np.ndarray:
    """A stable pseudo-random number in [0, 1) per integer id (splitmix64 finaliser)."""
    x = np.asarray(ids, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        x = x * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def anchorage_spots(vessel_ids: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A stable spot per vessel inside the anchorage quadrilateral (bilinear in its corners)."""
    m = ANCHORAGE_MARGIN
    u = m + (1 - 2 * m) * unit_hash(vessel_ids, 1)
    v = m + (1 - 2 * m) * unit_hash(vessel_ids, 2)
    a, b, c, d = corners
    w = np.stack([(1 - u) * (1 - v), u * (1 - v), u * v, (1 - u) * v], axis=1)
    xy = w @ np.stack([a, b, c, d])
    return xy[:, 0], xy[:, 1]


def _col(v: pd.DataFrame, name: str) -> np.ndarray:
    if name not in v:
        return np.full(len(v), np.inf)
    x = v[name].to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(x), np.inf, x)  # a stage not reached (yet) is at +inf


def vessel_states(v: pd.DataFrame, t: float) -> np.ndarray:
    """The state of each call at time ``t`` ("" when not in port)."""
    ta, tci, tb, tu, td = (_col(v, c) for c in ("t_arrival", "t_channel_in", "t_berth", "t_unberth", "t_depart"))
    state = np.full(len(v), "", dtype=object)
    state[(ta <= t) & (t < tci)] = "waiting"
    state[(tci <= t) & (t < tb)] = "inbound"
    state[(tb <= t) & (t < tu)] = "berthed"
    state[(tu <= t) & (t < td)] = "outbound"
    return state


def _fraction(t: float, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    span = end - start
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(span > 0, (t - start) / np.where(span > 0, span, 1.0), 1.0)
    return np.clip(f, 0.0, 1.0)


def vessel_positions(vessels: pd.DataFrame, t: float, geo: Bay) -> pd.DataFrame:
    """The calls in port at time ``t`` with ``state``, ``lon``, ``lat`` (and their identifying
    columns); departed or not yet arrived calls are left out."""
    state = vessel_states(vessels, t)
    shown = state != ""
    v = vessels.loc[shown]
    state = state[shown]
    n = len(v)
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    ids = v["vessel_id"].to_numpy() if "vessel_id" in v else np.arange(n)
    terminal = v["terminal"].astype(str).to_numpy() if "terminal" in v else np.full(n, "", object)
    if "port" in v:
        port = v["port"].astype(str).to_numpy()
    else:
        port = np.array([geo.port_of(x) for x in terminal], dtype=object)
    for p in np.unique(port):
        here = port == p
        w = here & (state == "waiting")
        lon[w], lat[w] = anchorage_spots(ids[w], geo.anchorage(p))
        ch = geo.channel(p)
        for st, start, end, forward in (("inbound", "t_channel_in", "t_berth", True),
                                        ("outbound", "t_unberth", "t_depart", False)):
            m = here & (state == st)
            if m.any():
                f = _fraction(t, _col(v, start)[m], _col(v, end)[m])
                lon[m], lat[m] = ch.at_fraction(f if forward else 1.0 - f)
    loa = v["loa_m"].to_numpy(float) if "loa_m" in v else np.zeros(n)
    pos = v["quay_position_m"].to_numpy(float) if "quay_position_m" in v else np.zeros(n)
    for name in np.unique(terminal[state == "berthed"]):
        m = (terminal == name) & (state == "berthed")
        quay = geo.quays.get(name)
        if quay is None:
            continue
        s = pos[m] + loa[m] / 2.0
        x, y = quay.at(s)
        ne, nn = quay.left_normal(s)
        lon[m], lat[m] = offset(x, y, ne * BERTH_OFFSET_M, nn * BERTH_OFFSET_M)
    out = pd.DataFrame({
        "vessel_id": ids, "state": state, "lon": lon, "lat": lat, "terminal": terminal, "port": port,
    })
    for c in ("vessel_class", "source", "loa_m", "quay_position_m", "t_arrival", "t_berth", "t_depart"):
        if c in v:
            out[c] = v[c].to_numpy()
    return out[np.isfinite(out["lon"].to_numpy(float))].reset_index(drop=True)


def naval_positions(naval: pd.DataFrame, t: float, geo: Bay) -> pd.DataFrame:
    """Naval movements under way at ``t``: a marker crossing the port's channel from the basin to
    its outer end over the movement's window (the run does not record a movement's direction)."""
    if naval is None or naval.empty:
        return pd.DataFrame(columns=["port", "lon", "lat", "start_h", "end_h"])
    start = naval["start_h"].to_numpy(float)
    end = naval["end_h"].to_numpy(float)
    on = (start <= t) & (t < end)
    nv = naval.loc[on]
    ports = nv["port"].astype(str).to_numpy() if "port" in nv else np.full(len(nv), "callao", object)
    lon, lat = np.full(len(nv), np.nan), np.full(len(nv), np.nan)
    f = _fraction(t, start[on], end[on])
    for p in np.unique(ports):
        m = ports == p
        lon[m], lat[m] = geo.channel(p).at_fraction(1.0 - f[m])
    return pd.DataFrame({"port": ports, "lon": lon, "lat": lat, "start_h": start[on], "end_h": end[on]})


def active_closures(closures: pd.DataFrame, t: float) -> pd.DataFrame:
    """Closure windows (port, start_h, end_h, reason) in force at ``t``."""
    if closures is None or closures.empty:
        return pd.DataFrame(columns=["port", "start_h", "end_h", "reason"])
    s, e = closures["start_h"].to_numpy(float), closures["end_h"].to_numpy(float)
    return closures.loc[(s <= t) & (t < e)].reset_index(drop=True)


def busiest_time(vessels: pd.DataFrame, end_h: float, samples: int = 240) -> float:
    """A whole hour with the most calls in port (a good first view of the map)."""
    if vessels is None or vessels.empty or end_h <= 0:
        return 0.0
    grid = np.floor(np.linspace(0.0, end_h, samples))
    ta, td = _col(vessels, "t_arrival"), _col(vessels, "t_depart")
    ok = np.isfinite(ta)
    inside = (ta[ok][None, :] <= grid[:, None]) & (grid[:, None] < td[ok][None, :])
    return float(grid[int(np.argmax(inside.sum(axis=1)))])


def hull_segments(pos: pd.DataFrame, geo: Bay) -> tuple[list, list]:
    """Berthed ships as line segments along their quay (quay_position_m to + loa_m, just off the
    quay line), for drawing: lon and lat lists with None between ships."""
    b = pos[pos["state"] == "berthed"] if len(pos) else pos
    xs: list = []
    ys: list = []
    if b.empty or "quay_position_m" not in b or "loa_m" not in b:
        return xs, ys
    for name in b["terminal"].unique():
        quay = geo.quays.get(name)
        if quay is None:
            continue
        m = b[b["terminal"] == name]
        s0 = m["quay_position_m"].to_numpy(float)
        s1 = s0 + m["loa_m"].to_numpy(float)
        ends = []
        for s in (s0, s1):
            x, y = quay.at(s)
            ne, nn = quay.left_normal(s)
            ends.append(offset(x, y, ne * BERTH_OFFSET_M, nn * BERTH_OFFSET_M))
        (x0, y0), (x1, y1) = ends
        for a, b_, c, d in zip(x0, y0, x1, y1):
            xs += [float(a), float(c), None]
            ys += [float(b_), float(d), None]
    return xs, ys
