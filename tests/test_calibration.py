"""The bundled Callao scenario reproduces the published figures (docs/sources.md)."""

import pytest

import callao
from callao.calibration import CALLAO_TARGETS, calibration_table


@pytest.fixture(scope="module")
def year():
    return callao.simulate("callao", seed=1)


@pytest.mark.slow
def test_firm_figures_within_ten_percent(year):
    rows = calibration_table(year.kpis)
    assert {r["kpi"] for r in rows} == {t.kpi for t in CALLAO_TARGETS}
    firm = [r for r in rows if r["status"] != "indicative"]
    assert len(firm) >= 6
    off = [(r["label"], r["model"], r["published"]) for r in firm if r["status"] != "ok"]
    assert not off, off
    k = year.kpis
    assert k["teu_total"] == pytest.approx(3.1e6, rel=0.10)
    assert k["teu_dpworld"] == pytest.approx(1.96e6, rel=0.10)
    assert k["vessel_calls_total"] == pytest.approx(1050, rel=0.10)
    assert k["anchorage_wait_mean_h"] < 24.0
    assert k["customs_release_mean_h"] == pytest.approx(33.0, rel=0.10)


@pytest.mark.slow
def test_demand_knob_gives_the_2019_2022_level():
    k = callao.simulate(callao.load_scenario("callao", simulation={"demand_factor": 0.806}), seed=1).kpis
    assert k["teu_total"] == pytest.approx(2.5e6, rel=0.10)


@pytest.mark.slow
def test_a_year_is_container_level_and_plausible(year):
    k, c = year.kpis, year.containers
    assert 1.4e6 < k["containers_total"] < 2.0e6
    assert c["teu"].isin([1, 2]).all()
    assert 0.3 < k["berth_occupancy_dpworld"] < 0.95 and 0.3 < k["berth_occupancy_apmt"] < 0.95
    assert k["yard_utilisation_dpworld"] < 1.0
    assert k["civil_military_encounters"] > 0
    # exports carry the facts' commodities to the facts' destinations
    exports = c[c["flow"] == "export"]
    assert {"fresh asparagus", "coffee", "scrap metal", "avocado"} <= set(exports["commodity"])
    assert {"Rotterdam", "Antwerp", "Algeciras"} <= set(exports["destination"])
