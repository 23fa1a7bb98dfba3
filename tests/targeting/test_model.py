import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from callao.targeting.features import FeatureBuilder
from callao.targeting.metrics import precision_at
from callao.targeting.model import RiskModel

FAST = dict(n_estimators=60, learning_rate=0.1, num_leaves=15)


def _split(df: pd.DataFrame, day: int = 90):
    cut = df["date"].min() + pd.Timedelta(days=day)
    return df[df["date"] < cut].reset_index(drop=True), df[df["date"] >= cut].reset_index(drop=True)


def test_planted_pattern_is_found(planted):
    train, test = _split(planted)
    model = RiskModel(**FAST).fit(train)
    p = model.predict_proba(test)
    assert p.shape == (len(test), 2) and np.allclose(p.sum(axis=1), 1.0)
    base = test["illicit"].mean()
    prec = precision_at(test["illicit"].to_numpy(), p[:, 1], 0.05)
    assert base < 0.1
    # ceiling at 5%: the planted group is ~3.3% of rows at 0.7 illicit -> about 0.47
    assert prec > 0.35 and prec > 5 * base
    assert precision_at(test["illicit"].to_numpy(), p[:, 1], 0.02) > 0.55
    assert model.score(test) == pytest.approx(prec)


def test_history_features_use_only_earlier_dates(planted):
    labels = planted["illicit"].copy()
    cutoff = planted["date"].min() + pd.Timedelta(days=60)
    fb = FeatureBuilder().fit(planted, labels)
    before = fb.transform(planted)
    future = (planted["date"] >= cutoff).to_numpy()
    permuted = labels.copy()
    rng = np.random.default_rng(0)
    permuted[future] = 1.0 - rng.permutation(labels[future].to_numpy())  # scramble and flip the future
    after = FeatureBuilder().fit(planted, permuted).transform(planted)
    hist_cols = [c for c in before.columns if c.endswith(("_rate", "_insp", "_n"))]
    assert hist_cols
    past = ~future
    # past rows and rows on the cutoff day itself: identical history features
    same_day = (planted["date"] == cutoff).to_numpy()
    pd.testing.assert_frame_equal(before.loc[past | same_day, hist_cols], after.loc[past | same_day, hist_cols])
    # later rows do see the changed labels (the features are not trivially constant)
    later = (planted["date"] > cutoff + pd.Timedelta(days=1)).to_numpy()
    assert not before.loc[later, hist_cols].equals(after.loc[later, hist_cols])


def test_unlabelled_rows_count_as_seen_not_inspected():
    df = pd.DataFrame({
        "declaration_id": ["a", "b", "c"], "date": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-02"]),
        "hs_code": ["0901", "0901", "0901"], "value_usd": [1.0, 1.0, 1.0], "weight_kg": [1.0, 1.0, 1.0],
        "importer_id": ["X", "X", "X"],
    })
    labels = pd.Series([1.0, np.nan, np.nan])
    f = FeatureBuilder(smoothing=1.0).fit(df, labels).transform(df)
    assert list(f["importer_id_n"]) == [0.0, 0.0, 2.0]
    assert list(f["importer_id_insp"]) == [0.0, 0.0, 1.0]
    assert f.loc[2, "importer_id_rate"] == pytest.approx((1 + 1.0 * 1.0) / (1 + 1.0))  # prior = 1/1


def test_save_load_same_predictions_and_sklearn_contract(tmp_path, small_planted):
    m = RiskModel(**FAST)
    assert not [a for a in vars(m) if a.endswith("_")]  # __init__ stores configuration only
    c = clone(m)
    assert c.get_params() == m.get_params()
    m.fit(small_planted)
    assert hasattr(m, "booster_") and hasattr(m, "features_")
    path = m.save(tmp_path / "model.joblib")
    loaded = RiskModel.load(path)
    np.testing.assert_allclose(loaded.predict_proba(small_planted), m.predict_proba(small_planted))
    assert loaded.get_params() == m.get_params()


def test_unfitted_model_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        RiskModel().predict_proba(pd.DataFrame())


def test_revenue_ranking_model_round_trips(tmp_path, small_planted):
    df = small_planted.copy()
    df["revenue"] = np.where(df["illicit"] == 1, np.where(df["origin_country"] == "CO", 50000.0, 100.0), 0.0)
    m = RiskModel(revenue_exponent=1.0, **FAST).fit(df)
    assert m.revenue_booster_ is not None
    s = m.rank_score(df)
    p = m.predict_proba(df)[:, 1]
    assert s.shape == p.shape and (s >= p - 1e-12).all()  # p x (1 + predicted revenue)^1
    loaded = RiskModel.load(m.save(tmp_path / "m.joblib"))
    np.testing.assert_allclose(loaded.rank_score(df), s)
    assert np.allclose(RiskModel(**FAST).fit(df).rank_score(df), RiskModel(**FAST).fit(df).predict_proba(df)[:, 1])


def test_fast_path_after_history_equals_asof_path(planted):
    from callao.targeting.features import HistoryTables

    past = planted[planted["date"] < planted["date"].min() + pd.Timedelta(days=90)]
    future = planted[planted["date"] >= planted["date"].min() + pd.Timedelta(days=90)].reset_index(drop=True)
    fb = FeatureBuilder().fit(past, past["illicit"])
    fast = fb.transform(future)
    h = fb.history_
    fb.history_ = HistoryTables(h.tables, h.prior)  # no 'latest' tables: forces merge_asof
    slow = fb.transform(future)
    pd.testing.assert_frame_equal(fast, slow)
