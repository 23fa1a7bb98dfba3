import numpy as np
import pandas as pd

from callao.targeting.schema import validate
from callao.targeting.synthetic import (
    ContrabandParams, SmugglerState, SyntheticConfig, detection_rates, draw_contraband,
    generate_declarations, generate_drift_declarations,
)

SMALL = SyntheticConfig(exports_per_day=20, imports_per_day=10, n_exporters=200, n_importers=200,
                        n_front_companies=20, n_new_exporters=20)


def _batch(rng, n=20000):
    return dict(
        commodity=rng.choice(["coffee", "avocado", "grapes"], size=n),
        destination=rng.choice(["NLRTM", "USLAX"], size=n),
        exporter_id=rng.choice([f"E{i}" for i in range(500)], size=n),
        reefer=rng.random(n) < 0.5,
    )


def test_draw_contraband_incremental_shape_and_share():
    rng = np.random.default_rng(0)
    state = SmugglerState.initial()
    b = _batch(rng)
    kg = draw_contraband(**b, rng=rng, state=state, params=ContrabandParams(share=0.01))
    assert kg.shape == (20000,) and (kg >= 0).all()
    assert 0.006 < (kg > 0).mean() < 0.014
    assert sum(state.exporter_shipments.values()) == 20000  # state tracks exporters for newness
    assert draw_contraband(np.array([]), np.array([]), np.array([]), np.array([]), rng, state).shape == (0,)


def _coffee_share(state, seed=1):
    rng = np.random.default_rng(seed)
    b = _batch(rng)
    kg = draw_contraband(**b, rng=rng, state=state, params=ContrabandParams(share=0.05),
                         front_company=np.zeros(20000, bool))
    return (b["commodity"][kg > 0] == "coffee").mean(), (b["destination"][kg > 0] == "NLRTM").mean()


def test_adaptive_smugglers_shift_away_from_watched_commodity_and_route():
    state = SmugglerState.initial()
    detection = {"commodity": {"coffee": 0.6, "avocado": 0.05, "grapes": 0.05},
                 "destination": {"NLRTM": 0.5, "USLAX": 0.05}}
    before = _coffee_share(state)
    adapted = state.adapt(detection, adaptiveness=0.8)
    after = _coffee_share(adapted)
    assert after[0] < before[0] - 0.15 and after[1] < before[1] - 0.15
    assert adapted.commodity["coffee"] < state.commodity["coffee"]
    still = state.adapt(detection, adaptiveness=0.0)
    assert still.commodity == state.commodity and still.destination == state.destination
    assert _coffee_share(still) == before


def test_detection_rates_from_a_period():
    batch = pd.DataFrame({"commodity": ["coffee", "coffee", "grapes"], "destination_port": ["NLRTM"] * 3,
                          "exporter_type": ["front", "established", "established"],
                          "contraband_kg": [100.0, 0.0, 0.0]})
    d = detection_rates(batch, np.array([True, False, True]))
    assert d["commodity"] == {"coffee": 1.0, "grapes": 1.0}  # coffee: 1 of 1 load caught; grapes: inspected share
    assert d["exporter_type"]["established"] == 0.5


def test_generated_year_is_valid_schema_and_seeded():
    a = generate_declarations(np.random.default_rng(3), SMALL)
    b = generate_declarations(np.random.default_rng(3), SMALL)
    pd.testing.assert_frame_equal(a, b)
    valid, q = validate(a)
    assert len(q) == 0 and len(valid) == len(a)
    ex = a[a["direction"] == "export"]
    assert ex["commodity"].nunique() >= 15 and {"NLRTM", "BEANR", "CLSAI"} <= set(ex["destination_port"])
    loaded = ex[ex["contraband_kg"] > 0]
    assert len(loaded) > 0 and (loaded["illicit"] == 1).all()
    assert loaded["destination_country"].isin(["NL", "BE", "ES", "DE", "IT"]).mean() > 0.4  # mostly Europe
    assert (a.loc[a["illicit"] == 1, "revenue"] > 0).all()
    # heavy-tailed exporters: the top 10% ship far more than 10% of boxes
    sizes = ex["exporter_id"].value_counts()
    assert sizes.head(len(sizes) // 10).sum() > 0.35 * sizes.sum()


def test_drift_data_has_new_route_commodity_and_traders_only_after_drift_day():
    d = generate_drift_declarations(np.random.default_rng(4), SMALL, drift_day=182)
    cut = pd.Timestamp(SMALL.year, 1, 1) + pd.Timedelta(days=182)
    early, late = d[d["date"] < cut], d[d["date"] >= cut]
    for col, value in (("commodity", "fresh ginger"), ("destination_port", "ITGIT"), ("commodity", "electric bicycles")):
        assert (early[col] == value).sum() == 0 and (late[col] == value).sum() > 50
    assert late["importer_id"].str.startswith("PE-NIM-").mean() > 0.05
