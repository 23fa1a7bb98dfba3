"""Export targeting inside the twin: capacity respected, learning beats chance, smugglers adapt."""

import numpy as np
import pytest

import callao
from callao.scenario import load_scenario
from test_docs import undocumented

YEARS = 150 / 365


def run(policy: str, seed: int = 3, **targeting):
    sc = load_scenario("callao", simulation={"years": YEARS},
                       customs={"targeting": {"policy": policy, "retrain_days": 20, **targeting}})
    return callao.simulate(sc, seed=seed)


@pytest.fixture(scope="module")
def learned():
    return run("model_explore")


@pytest.mark.slow
def test_inspections_never_exceed_the_daily_capacity(learned):
    c = learned.containers
    tg = learned.scenario.customs.targeting
    e = c[c["flow"] == "export"].assign(day=lambda d: (d["t_customs_request"] // 24).astype(int))
    per_day = e.groupby("day").agg(n=("flow", "size"),
                                   scans=("customs_channel", lambda s: (s == "orange").sum()),
                                   exams=("customs_channel", lambda s: (s == "red").sum()))
    assert (per_day["exams"] <= np.ceil(tg.exam_rate * per_day["n"])).all()
    assert (per_day["scans"] + per_day["exams"] <= np.ceil(tg.exam_rate * per_day["n"]) + np.ceil(tg.scan_rate * per_day["n"])).all()
    total = (per_day["scans"] + per_day["exams"]).sum()
    assert total == pytest.approx((tg.scan_rate + tg.exam_rate) * per_day["n"].sum(), rel=0.05)
    # only inspected boxes can be found, and a found box carried cocaine
    assert not (e["found"] & ~e["customs_channel"].isin(["orange", "red"])).any()
    assert (e.loc[e["found"], "contraband_kg"] > 0).all()


@pytest.mark.slow
def test_learned_targeting_beats_random_selection(learned):
    rnd = run("random").kpis
    k = learned.kpis
    assert k["contraband_containers"] > 100 and rnd["contraband_containers"] > 100
    assert k["detection_rate"] > 1.3 * rnd["detection_rate"]
    assert k["seized_kg"] > rnd["seized_kg"]
    assert k["export_scans"] == pytest.approx(rnd["export_scans"], rel=0.05)  # same capacity spent
    assert not undocumented(k)


@pytest.mark.slow
def test_smugglers_displace_away_from_a_fixed_profile():
    """Against a fixed rule, adaptive smugglers move to what the rule does not watch: the rule's
    hit rate falls over time when they adapt, and not when they don't."""
    def late_vs_early(adaptiveness: float) -> float:
        c = run("profile", adaptiveness=adaptiveness, adapt_days=15).containers
        e = c[c["flow"] == "export"]
        day = e["t_customs_request"] // 24
        loaded = e["contraband_kg"] > 0
        watched = e["customs_channel"].isin(["orange", "red"])
        rate = lambda sel: (loaded & watched & sel).sum() / max((loaded & sel).sum(), 1)
        return rate(day >= 90) / max(rate(day < 45), 1e-9)
    assert late_vs_early(1.0) < 0.7 * late_vs_early(0.0)


def test_scenario_goods_and_ports_are_known_to_the_contraband_model():
    from callao.sim.inspection import PORT_TABLE
    from callao.targeting.synthetic import EXPORT_COMMODITIES

    cargo = load_scenario("callao").cargo
    known = {c.name for c in EXPORT_COMMODITIES}
    goods = set(cargo.reefer_commodities) | set(cargo.export_commodities)
    assert goods - {"general cargo"} <= known
    ports = {p for shares in cargo.destinations.values() for p in shares}
    assert ports <= set(PORT_TABLE)
