"""Vessel positions over simulated time, from the vessels table (vectorised)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from callao.web.geo import KM_PER_DEG_LAT, bay, km_per_deg_lon
from callao.web.positions import (
    BERTH_OFFSET_M,
    active_closures,
    anchorage_spots,
    busiest_time,
    naval_positions,
    vessel_positions,
    vessel_states,
)


def _metres(lon, lat, lat0=-12.05):
    return np.asarray(lon) * km_per_deg_lon(lat0) * 1000.0, np.asarray(lat) * KM_PER_DEG_LAT * 1000.0


def _distance_to_polyline(lon, lat, line) -> np.ndarray:
    """Distance in metres from points to a polyline (min over segments)."""
    px, py = _metres(lon, lat)
    vx, vy = _metres(line.lon, line.lat)
    best = np.full(np.size(px), np.inf)
    for i in range(len(vx) - 1):
        ax, ay, bx, by = vx[i], vy[i], vx[i + 1], vy[i + 1]
        dx, dy = bx - ax, by - ay
        u = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0, 1)
        best = np.minimum(best, np.hypot(px - (ax + u * dx), py - (ay + u * dy)))
    return best


def _inside(lon, lat, ring) -> np.ndarray:
    """Point in polygon (ray casting)."""
    ring = np.asarray(ring)
    x, y = np.atleast_1d(lon), np.atleast_1d(lat)
    inside = np.zeros(x.size, bool)
    for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:]):
        crosses = ((y1 > y) != (y2 > y)) & (x < (x2 - x1) * (y - y1) / np.where(y2 == y1, 1e-12, y2 - y1) + x1)
        inside ^= crosses
    return inside


def _call(vid, terminal="dpworld", port="callao", t0=10.0, pos=100.0, loa=300.0):
    """A call: arrives t0, enters the channel t0+5, berths t0+6, unberths t0+30, departs t0+31."""
    return {"vessel_id": vid, "terminal": terminal, "port": port, "vessel_class": "x", "loa_m": loa,
            "quay_position_m": pos, "t_arrival": t0, "t_berth_assigned": t0, "t_channel_in": t0 + 5.0,
            "t_berth": t0 + 6.0, "t_handling_start": t0 + 8.0, "t_handling_end": t0 + 28.0,
            "t_unberth": t0 + 30.0, "t_depart": t0 + 31.0}


@pytest.fixture(scope="module")
def geo():
    return bay((("dpworld", "callao", 1050.0, -77.1505, -12.056), ("apmt", "callao", 800.0, -77.144, -12.044)))


@pytest.fixture(scope="module")
def calls():
    return pd.DataFrame([_call(0), _call(1, "apmt", pos=0.0, loa=200.0), _call(2, t0=100.0)])


def test_states_follow_the_stage_times(calls):
    assert list(vessel_states(calls, 5.0)) == ["", "", ""]
    assert list(vessel_states(calls, 12.0)) == ["waiting", "waiting", ""]
    assert list(vessel_states(calls, 15.5)) == ["inbound", "inbound", ""]
    assert list(vessel_states(calls, 20.0)) == ["berthed", "berthed", ""]
    assert list(vessel_states(calls, 40.5)) == ["outbound", "outbound", ""]
    assert list(vessel_states(calls, 41.0)) == ["", "", ""]


def test_in_channel_lies_on_the_channel(geo, calls):
    channel = geo.channel("callao")
    for t, frac in ((15.0, 0.0), (15.25, 0.25), (15.5, 0.5), (15.9, 0.9)):
        pos = vessel_positions(calls, t, geo)
        pos = pos[pos["vessel_id"] == 0].iloc[0]
        assert pos["state"] == "inbound"
        assert _distance_to_polyline(pos["lon"], pos["lat"], channel)[0] < 1.0
        # inbound: from the outer end toward the basin, proportionally to the time in the channel
        x, y = channel.at_fraction(frac)
        assert np.hypot(*(np.subtract(_metres(pos["lon"], pos["lat"]), _metres(x, y)))) < 1.0
    out = vessel_positions(calls, 40.25, geo)
    out = out[out["vessel_id"] == 0].iloc[0]
    assert out["state"] == "outbound"
    assert _distance_to_polyline(out["lon"], out["lat"], channel)[0] < 1.0
    x, y = channel.at_fraction(0.75)  # outbound: a quarter of the way out from the basin
    assert np.hypot(*(np.subtract(_metres(out["lon"], out["lat"]), _metres(x, y)))) < 1.0


def test_at_berth_on_its_quay_at_its_offset(geo, calls):
    pos = vessel_positions(calls, 20.0, geo).set_index("vessel_id")
    for vid, terminal, s in ((0, "dpworld", 100.0 + 150.0), (1, "apmt", 0.0 + 100.0)):
        quay = geo.quays[terminal]
        p = pos.loc[vid]
        assert p["state"] == "berthed" and p["terminal"] == terminal
        # the ship's midpoint is BERTH_OFFSET_M off the quay line, level with quay_position_m + loa/2
        assert abs(_distance_to_polyline(p["lon"], p["lat"], quay)[0] - BERTH_OFFSET_M) < 1.0
        x, y = quay.at(s)
        assert np.hypot(*(np.subtract(_metres(p["lon"], p["lat"]), _metres(x, y)))) == pytest.approx(BERTH_OFFSET_M, abs=1.0)
    # further along the quay, further from its start
    later = pd.DataFrame([_call(5, pos=700.0)])
    p2 = vessel_positions(later, 20.0, geo).iloc[0]
    start = geo.quays["dpworld"].at(0.0)
    d0 = np.hypot(*np.subtract(_metres(pos.loc[0, "lon"], pos.loc[0, "lat"]), _metres(*start)))
    d1 = np.hypot(*np.subtract(_metres(p2["lon"], p2["lat"]), _metres(*start)))
    assert d1 - d0 == pytest.approx(600.0, abs=40.0)


def test_berthed_ships_are_on_the_sea_side(geo, calls):
    land = next(f for f in geo.features if f["properties"].get("kind") == "land"
                and f["properties"].get("port", "callao") == "callao")
    ring = land["geometry"]["coordinates"][0]
    pos = vessel_positions(calls, 20.0, geo)
    assert not _inside(pos["lon"].to_numpy(), pos["lat"].to_numpy(), ring).any()


def test_departed_and_future_calls_are_not_shown(geo, calls):
    assert vessel_positions(calls, 41.5, geo).empty
    assert set(vessel_positions(calls, 20.0, geo)["vessel_id"]) == {0, 1}
    assert vessel_positions(calls, 0.0, geo).empty


def test_waiting_at_a_stable_spot_in_the_anchorage(geo, calls):
    a = vessel_positions(calls, 11.0, geo).set_index("vessel_id")
    b = vessel_positions(calls, 14.0, geo).set_index("vessel_id")
    assert (a["state"] == "waiting").all()
    assert np.allclose(a[["lon", "lat"]], b[["lon", "lat"]])  # stable over time
    assert not np.allclose(a.loc[0, ["lon", "lat"]].astype(float), a.loc[1, ["lon", "lat"]].astype(float))
    ring = np.vstack([geo.anchorage("callao"), geo.anchorage("callao")[:1]])
    assert _inside(a["lon"].to_numpy(), a["lat"].to_numpy(), ring).all()
    lon, lat = anchorage_spots(np.arange(500), geo.anchorage("callao"))
    assert _inside(lon, lat, ring).all()
    assert np.std(lon) > 0.003 and np.std(lat) > 0.003  # spread out, not piled up


def test_other_ports_use_their_own_geometry():
    geo = bay((("dpworld", "callao", 1050.0, -77.1505, -12.056), ("chancay", "chancay", 800.0, -77.27, -11.58)))
    calls = pd.DataFrame([_call(0, "chancay", "chancay"), _call(1)])
    pos = vessel_positions(calls, 15.5, geo).set_index("vessel_id")
    assert _distance_to_polyline(pos.loc[0, "lon"], pos.loc[0, "lat"], geo.channel("chancay"))[0] < 1.0
    assert pos.loc[0, "lat"] > -11.7 and pos.loc[1, "lat"] < -12.0


def test_unknown_terminal_gets_a_synthesised_quay():
    geo = bay((("newquay", "callao", 500.0, -77.15, -12.05),))
    pos = vessel_positions(pd.DataFrame([_call(0, "newquay", pos=0.0, loa=200.0)]), 20.0, geo)
    assert pos.iloc[0]["state"] == "berthed" and np.isfinite(pos.iloc[0]["lon"])


def test_nan_stage_times_mean_not_reached_yet(geo):
    c = _call(0)
    c.update(t_channel_in=np.nan, t_berth=np.nan, t_unberth=np.nan, t_depart=np.nan)
    pos = vessel_positions(pd.DataFrame([c]), 1000.0, geo)
    assert list(pos["state"]) == ["waiting"]


def test_naval_markers_and_closures(geo):
    naval = pd.DataFrame({"port": ["callao", "callao"], "start_h": [10.0, 50.0], "end_h": [11.0, 51.0]})
    n = naval_positions(naval, 10.5, geo)
    assert len(n) == 1 and _distance_to_polyline(n["lon"], n["lat"], geo.channel("callao"))[0] < 1.0
    assert naval_positions(naval, 20.0, geo).empty
    closures = pd.DataFrame({"port": ["callao"], "start_h": [5.0], "end_h": [9.0], "reason": ["swell"]})
    assert len(active_closures(closures, 6.0)) == 1 and active_closures(closures, 9.0).empty


def test_real_run_positions_are_consistent(geo, short_results):
    v = short_results.vessels
    for t in np.linspace(0, short_results.horizon_h, 25):
        pos = vessel_positions(v, float(t), geo)
        in_port = ((v["t_arrival"] <= t) & (t < v["t_depart"])).sum()
        assert len(pos) == in_port
        assert np.isfinite(pos[["lon", "lat"]].to_numpy(float)).all()
    t = busiest_time(v, short_results.horizon_h)
    assert len(vessel_positions(v, t, geo)) >= 2


def test_hulls_span_the_ships_length_along_the_quay(geo, calls):
    from callao.web.positions import hull_segments

    pos = vessel_positions(calls, 20.0, geo)
    xs, ys = hull_segments(pos, geo)
    assert len(xs) == 3 * 2 and xs[2] is None
    (x0, y0), (x1, y1) = _metres(xs[0], ys[0]), _metres(xs[1], ys[1])
    assert np.hypot(x1 - x0, y1 - y0) == pytest.approx(300.0, abs=5.0)  # vessel 0: loa 300 m
    assert hull_segments(vessel_positions(calls, 12.0, geo), geo) == ([], [])
