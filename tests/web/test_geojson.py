"""The bundled map of the bay."""

from __future__ import annotations

import json

import numpy as np

from callao.scenario import load_scenario
from callao.web.geo import GEOJSON_PATH, bay, load_geojson


def _named(kind=None, **props):
    return [f for f in load_geojson()["features"]
            if (kind is None or f["properties"].get("kind") == kind)
            and all(f["properties"].get(k) == v for k, v in props.items())]


def test_is_a_valid_feature_collection_in_lon_lat():
    gj = json.loads(GEOJSON_PATH.read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection" and gj["features"]
    for f in gj["features"]:
        assert f["type"] == "Feature" and "kind" in f["properties"]
        g = f["geometry"]
        coords = np.asarray(g["coordinates"][0] if g["type"] == "Polygon" else g["coordinates"], float).reshape(-1, 2)
        assert ((coords[:, 0] > -77.5) & (coords[:, 0] < -76.9)).all(), f["properties"]
        assert ((coords[:, 1] > -12.3) & (coords[:, 1] < -11.4)).all(), f["properties"]
        if g["type"] == "Polygon":
            assert g["coordinates"][0][0] == g["coordinates"][0][-1], "polygon rings are closed"


def test_has_the_named_features():
    names = {f["properties"].get("name", "") for f in load_geojson()["features"]}
    for expected in ("La Punta", "San Lorenzo island", "DP World Callao (Muelle Sur)",
                     "APM Terminals Callao (Muelle Norte)", "Anchorage", "Approach channel",
                     "Callao Naval Base (location approximate)", "Cosco Shipping Ports Chancay"):
        assert expected in names
    assert any("bocana" in n.lower() for n in names)
    assert _named("land", name="Callao and Lima coast") and _named("land", port="chancay")
    assert len(_named("quay", port="callao")) == 2 and _named("anchorage", port="callao")
    assert _named("channel", port="callao") and _named("channel", port="chancay")
    assert _named("naval_base")


def test_positions_match_the_facts():
    """San Lorenzo around 12°05'23"S 77°13'26"W, 8 × 2 km; the port near 12°02'49"S 77°08'34"W;
    the channel 2.2 km; quays at the scenario's midpoints with the scenario's lengths."""
    island = np.asarray(_named("island", name="San Lorenzo island")[0]["geometry"]["coordinates"][0])
    centre = island.mean(axis=0)
    assert abs(centre[0] - (-(77 + 13 / 60 + 26 / 3600))) < 0.01 and abs(centre[1] - (-(12 + 5 / 60 + 23 / 3600))) < 0.01
    span_km = np.ptp(island[:, 0]) * 108.9, np.ptp(island[:, 1]) * 110.6
    assert 6.0 < np.hypot(*span_km) < 10.0
    geo = bay()
    assert abs(geo.channel("callao").length_m - 2200) < 150
    sc = load_scenario("callao")
    for t in sc.terminals:
        quay = geo.quays[t.name]
        mid = np.array(quay.at(quay.length_m / 2)).ravel()
        assert np.hypot((mid[0] - t.lon) * 108.9, (mid[1] - t.lat) * 110.6) < 0.3  # km
    assert abs(geo.quays["dpworld"].length_m - 1050) < 20
    port = _named("port", port="callao")[0]["geometry"]["coordinates"]
    assert abs(port[0] - (-(77 + 8 / 60 + 34 / 3600))) < 1e-3 and abs(port[1] - (-(12 + 2 / 60 + 49 / 3600))) < 1e-3
    # the anchorage lies west/north-west of the entrance
    entrance = _named("entrance")[0]["geometry"]["coordinates"]
    anchorage = np.asarray(_named("anchorage", port="callao")[0]["geometry"]["coordinates"][0]).mean(axis=0)
    assert anchorage[0] < entrance[0] and anchorage[1] > entrance[1]


def test_chancay_is_north_of_callao_at_the_scenarios_position():
    """Chancay: ~70 km north of Lima by the facts, at about -11.58, -77.27 (the bundled scenario)."""
    q = bay().quays["chancay"]
    lon, lat = float(np.mean(q.lon)), float(np.mean(q.lat))
    assert abs(lon - (-77.27)) < 0.01 and abs(lat - (-11.58)) < 0.01
    assert 45 < np.hypot((lon + 77.143) * 108.9, (lat + 12.047) * 110.6) < 85  # km from the port of Callao
