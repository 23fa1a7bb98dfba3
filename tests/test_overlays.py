"""The bundled what-if overlays change what they say, and Chancay's route choice reacts to congestion."""

import pandas as pd
import pytest

import callao
from callao.scenario import bundled_names, load_scenario
from test_docs import undocumented

OVERLAYS = ["baseline", "naval-relocation", "naval-relocation-quay", "chancay", "swell-severe", "demand-2030", "more-scanners", "blockade-30d"]
SHORT = {"years": 0.2, "containers": False}


def test_overlays_are_bundled_and_described():
    assert set(OVERLAYS) <= set(bundled_names())
    base = load_scenario("callao")
    for name in OVERLAYS:
        sc = load_scenario(name)
        assert sc.name == name and sc.description
        assert sc.vessel_classes == base.vessel_classes  # everything not overridden is inherited


def test_naval_relocation_split_waters_then_quay():
    """naval-relocation frees the waters only; naval-relocation-quay adds the freed waterfront."""
    base_sc = load_scenario("baseline", simulation=SHORT)
    waters_sc = load_scenario("naval-relocation", simulation=SHORT)
    quay_sc = load_scenario("naval-relocation-quay", simulation=SHORT)
    assert waters_sc.terminals == base_sc.terminals  # the waters only
    assert quay_sc.terminal("apmt").quay_length_m == base_sc.terminal("apmt").quay_length_m + 440
    assert quay_sc.terminal("apmt").cranes == base_sc.terminal("apmt").cranes + 4
    runs = {name: [callao.simulate(sc, seed=s).kpis for s in (2, 3, 4)]
            for name, sc in (("base", base_sc), ("waters", waters_sc), ("quay", quay_sc))}
    mean = {name: pd.DataFrame(ks).mean() for name, ks in runs.items()}  # common random numbers
    assert mean["base"]["civil_military_encounters"] > 0
    for name in ("waters", "quay"):
        assert mean[name]["civil_military_encounters"] == 0 and mean[name]["naval_movements"] == 0
    # the waters alone save the naval delay (~0.3 h a call); the quay saves far more at APM Terminals
    assert mean["waters"]["anchorage_wait_mean_h"] < mean["base"]["anchorage_wait_mean_h"]
    assert mean["quay"]["anchorage_wait_mean_h"] < mean["waters"]["anchorage_wait_mean_h"]
    assert mean["quay"]["berth_occupancy_apmt"] < 0.8 * mean["waters"]["berth_occupancy_apmt"]


def test_blockade_builds_a_backlog_that_is_worked_off():
    k = callao.simulate(load_scenario("blockade-30d", simulation={"years": 0.4, "containers": False}), seed=2).kpis
    base = callao.simulate(load_scenario("baseline", simulation={"years": 0.4, "containers": False}), seed=2).kpis
    assert k["closure_hours"] >= 720
    assert k["anchorage_queue_peak_vessels"] > base["anchorage_queue_peak_vessels"] + 30
    assert 1 < k["closure_recovery_days_max"] < 80


def test_demand_2030_raises_throughput():
    a = callao.simulate(load_scenario("baseline", simulation={"years": 0.1}), seed=3).kpis
    b = callao.simulate(load_scenario("demand-2030", simulation={"years": 0.1}), seed=3).kpis
    assert b["teu_total"] == pytest.approx(1.27 * a["teu_total"], rel=0.05)
    assert b["vessel_calls_total"] == a["vessel_calls_total"]  # same calls, bigger exchanges


def test_chancay_diverts_asia_calls_and_reports_both_ports():
    r = callao.simulate(load_scenario("chancay", simulation={"years": 0.2}), seed=4)
    k, v = r.kpis, r.vessels
    assert 0 < k["diverted_calls"] and 0.1 < k["diverted_call_share"] < 0.7
    diverted = v[v["terminal"] != v["planned_terminal"]]
    assert set(diverted["terminal"]) == {"chancay"} and set(diverted["region"]) == {"asia"}
    assert k["teu_port_chancay"] > 0 and k["teu_port_callao"] > 0
    assert k["teu_port_callao"] + k["teu_port_chancay"] == pytest.approx(k["teu_total"])
    assert "berth_occupancy_chancay" in k and k["diverted_teu"] > 0
    assert not undocumented(k)
    # trucks from Chancay drive its own corridor to Lima (1.5 h free flow), not Callao's (0.75 h)
    c = r.containers
    out = c[c["t_lima"] > c["t_yard_out"]]  # boxes leaving by truck
    factor = pd.Series(r.scenario.gate.corridor_peak_factor)[(out["t_yard_out"] % 24).astype(int)].to_numpy()
    free_flow_h = ((out["t_lima"] - out["t_yard_out"]) / factor).groupby(out["terminal"].astype(str)).median()
    assert free_flow_h["chancay"] == pytest.approx(1.5) and free_flow_h["dpworld"] == pytest.approx(0.75)


def test_congestion_at_callao_pushes_traffic_to_chancay():
    calm = load_scenario("chancay", simulation=SHORT)
    jammed = load_scenario("chancay", simulation=SHORT,
                           terminals=[{"name": "dpworld", "cranes": 6}, {"name": "apmt", "cranes": 5}])
    share = [callao.simulate(sc, seed=5).kpis["diverted_call_share"] for sc in (calm, jammed)]
    assert share[1] > share[0] + 0.05


def test_chancay_inspects_with_its_own_customs_pool():
    """Chancay's own scanners and exam teams: a jam in Callao's exams leaves Chancay's waits as they were."""
    base = load_scenario("chancay", simulation={"years": 0.2})
    jammed = load_scenario("chancay", simulation={"years": 0.2}, customs={"exams_per_day": 20.0})
    waits = {}
    for name, sc in (("base", base), ("jammed", jammed)):
        c = callao.simulate(sc, seed=5).containers
        exam = c[c["customs_channel"] == "red"]
        waits[name] = (exam["t_inspection_start"] - exam["t_customs_request"]).groupby(
            exam["terminal"].astype(str) == "chancay").mean()
    # Chancay: its pool untouched (the national risk model, trained on both ports' outcomes, picks
    # other Chancay boxes for the same number of exams, so the wait moves a little)
    assert waits["jammed"][True] == pytest.approx(waits["base"][True], rel=0.05)
    assert waits["jammed"][False] > waits["base"][False] + 10.0  # Callao: exams queue for hours
    assert base.inspection_pool(base.terminal("chancay")) == ("chancay", 1, 30.0)
    assert base.inspection_pool(base.terminal("dpworld")) == ("callao", 3, 180.0)
