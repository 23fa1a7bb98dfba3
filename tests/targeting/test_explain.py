import numpy as np

from callao.targeting.explain import reasons_text, top_reasons
from callao.targeting.model import RiskModel

from .conftest import PLANTED_COUNTRY, PLANTED_HS


def test_planted_feature_is_among_top_reasons(planted):
    model = RiskModel(n_estimators=60, learning_rate=0.1, num_leaves=15).fit(planted)
    test = planted.tail(1000).reset_index(drop=True)
    hot = ((test["hs_code"] == PLANTED_HS) & (test["origin_country"] == PLANTED_COUNTRY)).to_numpy()
    long = top_reasons(model, test, top=3)
    assert set(long.columns) == {"row", "rank", "feature", "contribution", "value"}
    hot_reasons = long[long["row"].isin(np.flatnonzero(hot))]
    planted_features = hot_reasons["feature"].str.contains("hs|origin_country")
    # for (almost) every planted row, a reason names the HS code or the origin country
    share = planted_features.groupby(hot_reasons["row"]).any().mean()
    assert share > 0.9
    first = hot_reasons[hot_reasons["rank"] == 1]
    assert (first["contribution"] > 0).all()
    # the value shown is the declaration's own value: raw identifiers equal the row's own field ...
    ids = hot_reasons[hot_reasons["feature"].isin(["exporter_id", "importer_id"])]
    assert len(ids) > 0
    assert all(str(v) == test.at[row, f] for row, f, v in zip(ids["row"], ids["feature"], ids["value"]))
    # ... and every value (history rates included) is that row's entry of the model matrix
    F = model.transform(test)
    assert all(v == F.at[row, f] for row, f, v in zip(hot_reasons["row"], hot_reasons["feature"], hot_reasons["value"]))


def test_reasons_text_wide(small_planted):
    model = RiskModel(n_estimators=30, num_leaves=7).fit(small_planted)
    wide = reasons_text(model, small_planted.head(20), top=2)
    assert list(wide.columns) == ["reason_1", "reason_2"] and len(wide) == 20
    assert wide["reason_1"].str.contains(r"=.* \([+-]\d").all()
