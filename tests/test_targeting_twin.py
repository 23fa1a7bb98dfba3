"""Export targeting inside the twin: capacity respected, learning beats chance, smugglers adapt."""

import numpy as np
import pytest

import callao
from callao.scenario import load_scenario
from test_docs import undocumented

YEARS = 150 / 365


def run(policy: str, seed: int = 3, **targeting):
    """A short run; the learning mechanism is tested at 0.4% loaded boxes (enough loads in 150
    days to learn from; the bundled year ships fewer, calibrated to the seizures on record)."""
    sc = load_scenario("callao", simulation={"years": YEARS},
                       customs={"targeting": {"policy": policy, "retrain_days": 20,
                                              "contraband_share": 0.004, **targeting}})
    return callao.simulate(sc, seed=seed)


@pytest.fixture(scope="module")
def learned():
    return run("model_explore")


@pytest.fixture(scope="module")
def random_pick():
    return run("random")


def front_detection(result) -> float:
    """Share of front-company loads found (front companies are the ``PE-NEW-`` exporters)."""
    c = result.containers
    loaded = c[(c["flow"] == "export") & (c["contraband_kg"] > 0)]
    front = loaded["exporter_id"].astype(str).str.startswith("PE-NEW-")
    assert front.sum() > 10
    return float(loaded.loc[front, "found"].mean())


@pytest.mark.slow
def test_inspections_spend_the_daily_capacity(learned):
    """Each day the unit picks what its share of the scanners and exam teams processes."""
    from callao.sim.inspection import export_capacity_per_day

    c = learned.containers
    sc = learned.scenario
    scans_cap, exams_cap = export_capacity_per_day(sc.customs.targeting, sc.customs.scanners,
                                                   sc.customs.scans_per_hour, sc.customs.exams_per_day)
    e = c[c["flow"] == "export"].assign(day=lambda d: (d["t_customs_request"] // 24).astype(int))
    per_day = e.groupby("day").agg(n=("flow", "size"),
                                   scans=("customs_channel", lambda s: (s == "orange").sum()),
                                   exams=("customs_channel", lambda s: (s == "red").sum()))
    assert (per_day["exams"] <= np.ceil(exams_cap)).all()
    assert (per_day["scans"] <= np.ceil(scans_cap)).all()
    full = per_day[per_day["n"] > 3 * (scans_cap + exams_cap)]  # not the sparse days before the first ships
    assert len(full) > 0.8 * len(per_day)
    assert full["scans"].mean() == pytest.approx(scans_cap, rel=0.03)
    assert full["exams"].mean() == pytest.approx(exams_cap, rel=0.03)
    # only inspected boxes can be found, and a found box carried cocaine
    assert not (e["found"] & ~e["customs_channel"].isin(["orange", "red"])).any()
    assert (e.loc[e["found"], "contraband_kg"] > 0).all()


@pytest.mark.slow
def test_learned_targeting_beats_random_selection(learned, random_pick):
    rnd = random_pick.kpis
    k = learned.kpis
    assert k["contraband_containers"] > 100 and rnd["contraband_containers"] > 100
    assert k["detection_rate"] > 1.3 * rnd["detection_rate"]
    assert k["seized_kg"] > rnd["seized_kg"]
    assert k["export_scans"] == pytest.approx(rnd["export_scans"], rel=0.05)  # same capacity spent
    assert not undocumented(k)


@pytest.mark.slow
def test_new_front_companies_are_found_without_their_history(learned, random_pick):
    """Front companies are new exporter ids (unseen when the model was fitted): the model must
    find them from what generalises (few earlier shipments, young exporter, brokers, prices)."""
    assert front_detection(learned) > 2.5 * max(front_detection(random_pick), 0.02)


def test_twin_features_use_only_earlier_days():
    """A box's features are fixed at the start of its day: outcomes of its own day and later days
    never change them, and yesterday's outcomes are seen today."""
    from callao.sim.inspection import TwinFeatures, draw_declarations

    rng = np.random.default_rng(0)
    n, days = 3000, 30
    day = np.sort(rng.integers(0, days, n))
    decl = draw_declarations(rng.choice(["coffee", "avocado", "grapes"], n).astype(object),
                             rng.choice(["Rotterdam", "Antwerp", "Shanghai"], n).astype(object),
                             rng.random(n) < 0.3, day, np.arange(n), 0.05, rng)
    bounds = np.searchsorted(day, np.arange(days + 1))

    def run_features(hit_rate: float, flip_from: int) -> np.ndarray:
        tf = TwinFeatures(decl, warmup_days=5, tau=15.0)
        r = np.random.default_rng(1)
        F = []
        for t in range(days):
            rows = slice(bounds[t], bounds[t + 1])
            F.append(tf.today(rows))
            inspected = r.random(rows.stop - rows.start) < 0.2
            hit = r.random(rows.stop - rows.start) < (hit_rate if t >= flip_from else 0.05)
            tf.learn(rows, inspected, hit & inspected)
        return np.concatenate(F)

    a, b = run_features(0.05, days), run_features(0.9, 20)
    early = day <= 20
    np.testing.assert_array_equal(a[early], b[early])  # outcomes of day 20 on change nothing up to day 20
    assert not np.array_equal(a[day == 21], b[day == 21])  # ... and are seen the next day


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


def test_retrains_reuse_the_bin_edges_until_the_window_is_renewed():
    """The twin's trainer bins a window once and reuses its bin edges for the next retrains (a
    reference training set), then bins afresh every ``rebin_every`` fits; a fit on the reference's
    bin edges ranks with those edges (values beyond the reference's range share its last bin)."""
    from callao.sim.inspection import TwinFeatures, _Trainer

    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(len(TwinFeatures.NAMES))]

    def window(scale: float) -> tuple[np.ndarray, np.ndarray]:
        F = rng.random((3000, len(names)))
        F[:, list(TwinFeatures.CATEGORICAL)] = rng.integers(0, 5, (3000, len(TwinFeatures.CATEGORICAL)))
        F[:, 4] *= scale  # one numeric feature whose range grows over time
        y = (rng.random(3000) < 0.02 + 0.3 * (F[:, 4] > 0.8 * scale)).astype(float)
        return F, y

    trainer = _Trainer(names, rebin_every=2)
    assert trainer.fit(np.zeros((5, len(names))), np.zeros(5)) is None  # one class: no model, no fit
    trainer.fit(*window(1.0))
    first = trainer.reference
    booster = trainer.fit(*window(10.0))
    assert trainer.reference is first  # second fit: the first window's bin edges
    probe = np.tile(np.median(window(1.0)[0], axis=0), (3, 1))
    probe[:, 4] = [5.0, 8.5, 9.5]  # all beyond the first window's range (0..1): one bin
    p = booster.predict(probe)
    assert p[0] == p[1] == p[2]
    booster = trainer.fit(*window(10.0))
    assert trainer.reference is not first  # third fit: binned afresh (on values up to 10)
    p = booster.predict(probe)
    assert p[2] > p[0]  # ... so the model now tells 9.5 (risky) from 5.0


def test_customs_flow_masks_match_the_strings():
    """The customs stage picks imports and exports on the categorical's codes; the masks are those
    of comparing the strings (a category absent from the table and missing rows match nothing)."""
    import pandas as pd

    from callao.sim.customs import _equals

    flow = pd.Series(pd.Categorical(["import", "export", None, "transship", "export"],
                                    categories=["export", "import", "transship", "empty"]))
    for name in ("import", "export", "empty", "nothing"):
        expected = (flow.astype(object) == name).to_numpy()
        assert np.array_equal(_equals(flow, name), expected)
        assert np.array_equal(_equals(flow.astype(object), name), expected)


@pytest.mark.parametrize("n_keys", [3, 50, 5000])
def test_key_history_table_and_sorted_paths_agree(n_keys, monkeypatch):
    """The (day × key) count table and the sorted-rows fallback give the same per-row counts
    (earlier rows of the key, rows before a lag, first day), on days with gaps and unused keys."""
    from callao.sim.inspection import _KeyHistory

    rng = np.random.default_rng(n_keys)
    n = 4000
    day = np.sort(rng.choice(np.r_[5:40, 60:90], n))
    key = rng.integers(0, n_keys, n) * 2  # odd codes never occur
    monkeypatch.setattr(_KeyHistory, "TABLE_CELLS_PER_ROW", 10**9)
    table = _KeyHistory(key, day)
    monkeypatch.setattr(_KeyHistory, "TABLE_CELLS_PER_ROW", -10**9)
    rows = _KeyHistory(key, day)
    assert table._before_day is not None and rows._before_day is None
    np.testing.assert_array_equal(table.earlier, rows.earlier)
    np.testing.assert_array_equal(table.first_day, rows.first_day)
    for lag in (0, 1, 7, 30):
        np.testing.assert_array_equal(table.before(lag), rows.before(lag))
    # brute force on a few rows
    for i in rng.integers(0, n, 20):
        same = key == key[i]
        assert table.earlier[i] == np.sum(same & (day < day[i]))
        assert table.before(7)[i] == np.sum(same & (day < day[i] - 7))
        assert table.first_day[i] == day[same].min()
