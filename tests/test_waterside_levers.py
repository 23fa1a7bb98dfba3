"""Waterside capacity levers move the KPIs they should, in the direction theory predicts, when they
bind (common random numbers: the same seed in every variant, so only the lever differs)."""

import pytest

import callao
from callao.scenario import load_scenario

SHORT = {"years": 0.15, "containers": False}


def apmt_with(cranes: int, seed: int = 3) -> dict[str, float]:
    sc = load_scenario("callao", simulation=SHORT, terminals=[{"name": "apmt", "cranes": cranes}])
    r = callao.simulate(sc, seed=seed)
    v = r.vessels[r.vessels["terminal"] == "apmt"]
    return {
        "berth_time_h": float((v["t_unberth"] - v["t_berth"]).mean()),
        "handling_h": float((v["t_handling_end"] - v["t_handling_start"]).mean()),
        "anchorage_wait_h": float((v["t_channel_in"] - v["t_arrival"]).mean()),
        **r.kpis,
    }


def test_cranes_per_ship_follow_length_class_and_terminal_rule():
    sc = load_scenario("callao")
    dpw, apmt = sc.terminal("dpworld"), sc.terminal("apmt")
    ulcv, feeder = sc.vessel_class("ulcv-14k"), sc.vessel_class("feeder-2k")
    assert dpw.cranes_per_ship(ulcv.loa_m, ulcv.max_cranes) == 6    # 366 m / 50 m = 7, terminal rule 6
    assert apmt.cranes_per_ship(294.0, 5) == 5                      # 294 / 50 = 5
    assert apmt.cranes_per_ship(feeder.loa_m, feeder.max_cranes) == 3  # class maximum
    assert dpw.cranes_per_ship(40.0, 7) == 1                        # always at least one crane
    bare = load_scenario("queue-mm3").terminals[0]
    assert bare.cranes_per_ship(100.0, 1) == 1 and bare.crane_spacing_m is None


def test_apmt_cranes_bind_more_cranes_shorten_berth_time():
    """The README's what-if (APM Terminals 8 -> 10 cranes) now changes the year; 6 cranes make it worse."""
    six, eight, ten = (apmt_with(n) for n in (6, 8, 10))
    assert eight["crane_short_call_share_apmt"] > 0  # with 8 cranes some ships get fewer than their limit
    assert ten["handling_h"] < eight["handling_h"] < six["handling_h"]
    assert ten["berth_time_h"] < eight["berth_time_h"] < six["berth_time_h"]
    assert ten["anchorage_wait_h"] <= eight["anchorage_wait_h"] + 1e-9
    assert six["anchorage_wait_h"] > eight["anchorage_wait_h"]
    assert ten["crane_short_call_share_apmt"] < eight["crane_short_call_share_apmt"]
    # the other terminal is untouched (its own pool; same arrivals)
    assert ten["crane_utilisation_dpworld"] == pytest.approx(eight["crane_utilisation_dpworld"])


def test_cranes_beyond_the_deployment_limit_buy_nothing():
    """Once every ship alongside has its limit, more cranes cannot shorten berth time (saturation)."""
    sc = load_scenario("callao", simulation=SHORT)
    a = callao.simulate(load_scenario("callao", simulation=SHORT, terminals=[{"name": "apmt", "cranes": 16}]), seed=3)
    b = callao.simulate(load_scenario("callao", simulation=SHORT, terminals=[{"name": "apmt", "cranes": 20}]), seed=3)
    assert a.kpis["crane_short_call_share_apmt"] == 0
    va, vb = (r.vessels[r.vessels["terminal"] == "apmt"] for r in (a, b))
    assert (va["t_unberth"] - va["t_berth"]).mean() == pytest.approx((vb["t_unberth"] - vb["t_berth"]).mean())
    assert sc.terminal("apmt").max_cranes_per_ship == 5


def test_more_quay_shortens_the_wait_for_a_berth():
    """A longer quay fits more ships at once: berth wait falls; with the same cranes shared by more
    ships, berth time does not fall."""
    out = {}
    for quay in (800.0, 1240.0):
        sc = load_scenario("callao", simulation=SHORT, terminals=[{"name": "apmt", "quay_length_m": quay}])
        v = callao.simulate(sc, seed=3).vessels
        v = v[v["terminal"] == "apmt"]
        out[quay] = ((v["t_berth_assigned"] - v["t_arrival"]).mean(), (v["t_unberth"] - v["t_berth"]).mean())
    assert out[1240.0][0] < out[800.0][0]
    assert out[1240.0][1] >= out[800.0][1]
