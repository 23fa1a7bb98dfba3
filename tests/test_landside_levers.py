"""Landside capacity levers act through their mechanism, in the direction theory predicts, on
short runs with common random numbers (the same seeds, only the lever changed)."""

import pytest

import callao
from callao.scenario import load_scenario

DAYS = 75
SEEDS = (1, 2)


def kpis(seeds=SEEDS, days=DAYS, **overrides) -> list[dict]:
    sc = load_scenario("callao", simulation={"years": days / 365}, **overrides)
    return [callao.simulate(sc, seed=s).kpis for s in seeds]


def total(runs: list[dict], name: str) -> float:
    return sum(k[name] for k in runs)


def customs(scanners: int = 3, exams_per_day: float = 180.0) -> dict:
    """The mechanism, isolated: a fixed profile rule, smugglers who do not adapt, and the
    pre-calibration 0.4% of loaded boxes, so a short run has enough loads to count finds."""
    return {"customs": {"scanners": scanners, "exams_per_day": exams_per_day,
                        "targeting": {"policy": "profile", "adaptiveness": 0.0, "contraband_share": 0.004}}}


@pytest.fixture(scope="module")
def base():
    return kpis(**customs())


@pytest.mark.slow
def test_more_scanners_inspect_more_exports_and_find_more(base):
    more = kpis(**customs(scanners=9))
    # the selection spends the capacity: three times the scanners, three times the export scans
    assert total(more, "export_scans") == pytest.approx(3 * total(base, "export_scans"), rel=0.03)
    assert total(more, "export_exams") == total(base, "export_exams")
    assert total(more, "detection_hits") > total(base, "detection_hits")
    assert total(more, "seized_kg") > total(base, "seized_kg")
    assert total(more, "customs_scan_wait_mean_h") < total(base, "customs_scan_wait_mean_h")


@pytest.mark.slow
def test_fewer_scanners_mean_longer_scan_queues(base):
    fewer = kpis(**customs(scanners=2))
    assert total(fewer, "export_scans") < 0.75 * total(base, "export_scans")
    assert total(fewer, "scanner_utilisation") > total(base, "scanner_utilisation")
    assert total(fewer, "customs_scan_wait_mean_h") > 3 * total(base, "customs_scan_wait_mean_h")


@pytest.mark.slow
def test_more_exam_teams_examine_more_exports_and_shorten_the_exam_queue(base):
    more = kpis(**customs(exams_per_day=360.0))
    assert total(more, "export_exams") == pytest.approx(2 * total(base, "export_exams"), rel=0.03)
    assert total(more, "detection_hits") > total(base, "detection_hits")
    assert total(more, "customs_exam_wait_mean_h") < total(base, "customs_exam_wait_mean_h")


@pytest.mark.slow
def test_slower_customs_lengthens_import_dwell_and_fills_the_yard():
    """Import dwell = customs release + the consignee's pick-up delay + gate: a slower
    documentary stage moves every pick-up later."""
    def run(mean_h: float) -> dict:
        return kpis(seeds=(1,), customs={"documentary_h": {"dist": "lognormal", "mean": mean_h, "cv": 0.8}})[0]
    base, slow = run(52.0), run(104.0)
    added_h = slow["customs_release_mean_h"] - base["customs_release_mean_h"]
    assert added_h > 5.0
    # the added release time shows up, whole, in the import dwell (pick-up delay and gate unchanged)
    added_dwell_h = 24 * (slow["yard_dwell_import_mean_d"] - base["yard_dwell_import_mean_d"])
    assert added_dwell_h == pytest.approx(added_h, rel=0.25)
    for t in ("dpworld", "apmt"):
        assert slow[f"yard_occupancy_mean_teu_{t}"] > base[f"yard_occupancy_mean_teu_{t}"]
    assert slow["yard_dwell_export_mean_d"] == pytest.approx(base["yard_dwell_export_mean_d"], rel=0.01)


@pytest.mark.slow
def test_a_port_closure_lengthens_export_dwell():
    """Exports are delivered before the ship's arrival: ships held at anchorage by a closure keep
    their boxes in the yard longer."""
    closed = {"closures": {"seasons": [], "fixed": [{"start_h": 20 * 24.0, "duration_h": 5 * 24.0}]}}
    base = kpis(seeds=(1,), closures={"seasons": []})[0]
    shut = kpis(seeds=(1,), **closed)[0]
    assert shut["yard_dwell_export_mean_d"] > base["yard_dwell_export_mean_d"] + 0.1
    assert shut["yard_occupancy_mean_teu_dpworld"] > base["yard_occupancy_mean_teu_dpworld"]
