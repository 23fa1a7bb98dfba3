import json

import numpy as np
import pytest

from callao.ingest.geofences import ANCHORAGE, BERTH, CHANNEL, HARBOUR, OUTSIDE, SEA, GeofenceError, Geofences


@pytest.fixture(scope="module")
def geo():
    return Geofences.load()


def kind_at(geo, lon, lat):
    x, y = geo.project(np.array([lon]), np.array([lat]))
    code = int(geo.zone_of(x, y)[0])
    return (OUTSIDE, None) if code == OUTSIDE else (int(geo.kind_of[code]), code and geo.zone(code))


def test_bundled_bay_has_both_ports_and_all_terminals(geo):
    assert set(geo.ports) == {"callao", "chancay"}
    assert set(geo.terminals) == {"dpworld", "apmt", "chancay"}
    assert geo.quay("dpworld").length == pytest.approx(1050, rel=0.01)  # the GeoJSON's length_m
    assert geo.quay("apmt").length == pytest.approx(800, rel=0.01)


def test_zones_of_known_points(geo):
    assert kind_at(geo, -77.200, -12.020)[0] == ANCHORAGE  # Callao anchorage
    assert kind_at(geo, -77.3125, -11.595)[0] == ANCHORAGE  # Chancay anchorage
    assert kind_at(geo, -77.1622, -12.0429)[0] == CHANNEL  # the entrance, on the channel line
    assert kind_at(geo, -77.150, -12.052)[0] == HARBOUR  # the basin between the quays
    kind, zone = kind_at(geo, -77.14415, -12.044)  # 15 m west of APM's quay, in the water
    assert kind == BERTH and zone.terminal == "apmt"
    assert kind_at(geo, -77.1437, -12.044)[0] != BERTH  # 30 m east of it: the yard, not the berth
    assert kind_at(geo, -77.26, -11.90)[0] == SEA
    assert kind_at(geo, -78.5, -12.0)[0] == OUTSIDE


def test_zone_lookup_is_vectorised_over_many_points(geo):
    rng = np.random.default_rng(1)
    lon = rng.uniform(-77.35, -77.10, 200_000)
    lat = rng.uniform(-12.15, -11.45, 200_000)
    x, y = geo.project(lon, lat)
    codes = geo.zone_of(x, y)
    assert codes.shape == (200_000,)
    assert set(np.unique(geo.kind_of[codes[codes > 0]])) == {ANCHORAGE, CHANNEL, HARBOUR, BERTH}
    back = geo.unproject(x, y)
    assert np.allclose(back[0], lon) and np.allclose(back[1], lat)


def test_quay_position_is_stern_end_clipped_to_the_quay(geo):
    quay = geo.quay("dpworld")
    p = quay.interpolate(500.0)
    assert geo.quay_position("dpworld", [p.x], [p.y], [300.0])[0] == pytest.approx(350.0, abs=0.5)
    end = quay.interpolate(1040.0)
    assert geo.quay_position("dpworld", [end.x], [end.y], [300.0])[0] == pytest.approx(quay.length - 300, abs=0.01)


def test_users_own_geofences_replace_the_bundled_ones(tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kind": "anchorage", "port": "p"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0.02, 0], [0.02, 0.02], [0, 0.02], [0, 0]]]}},
        {"type": "Feature", "properties": {"kind": "channel", "port": "p", "width_m": 300},
         "geometry": {"type": "LineString", "coordinates": [[0.03, 0.01], [0.06, 0.01]]}},
        {"type": "Feature", "properties": {"kind": "quay", "port": "p", "terminal": "t1"},
         "geometry": {"type": "LineString", "coordinates": [[0.065, 0.005], [0.065, 0.015]]}},
        {"type": "Feature", "properties": {"kind": "area_of_interest"},
         "geometry": {"type": "Polygon", "coordinates": [[[-0.1, -0.1], [0.2, -0.1], [0.2, 0.2], [-0.1, 0.2],
                                                          [-0.1, -0.1]]]}},
    ]}
    f = tmp_path / "mine.geojson"
    f.write_text(json.dumps(doc))
    geo = Geofences.load(f)
    assert geo.terminals == ["t1"]
    assert kind_at(geo, 0.045, 0.01)[0] == CHANNEL
    assert kind_at(geo, 0.045, 0.0125)[0] == SEA  # 280 m off the centre line: outside a 300 m corridor
    assert kind_at(geo, 0.3, 0.3)[0] == OUTSIDE
    coords = np.asarray(geo.ports["p"].channel.coords)
    assert coords[0][0] < coords[-1][0]  # seaward end first (farther from the quay)


def test_unusable_geofence_file_is_named(tmp_path):
    f = tmp_path / "bad.geojson"
    f.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(GeofenceError, match="bad.geojson: no feature of kind 'channel'"):
        Geofences.load(f)
    f.write_text("not json")
    with pytest.raises(GeofenceError, match="bad.geojson: expected a GeoJSON FeatureCollection"):
        Geofences.load(f)
