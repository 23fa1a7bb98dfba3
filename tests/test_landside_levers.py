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
    return {"customs": {"scanners": scanners, "exams_per_day": exams_per_day,
                        "targeting": {"policy": "profile"}}}


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
