"""Features are row-wise given the fitted state: a row's features do not depend on which other
rows are transformed with it (what lets ``RiskModel.fit`` transform only the labelled rows)."""

import numpy as np
import pandas as pd

from callao.targeting.features import FeatureBuilder
from callao.targeting.model import RiskModel


def test_a_rows_features_do_not_depend_on_the_other_rows(planted):
    labels = planted["illicit"].where(np.random.default_rng(1).random(len(planted)) < 0.3)
    fb = FeatureBuilder().fit(planted, labels)
    full = fb.transform(planted)
    rng = np.random.default_rng(2)
    for rows in (np.flatnonzero(labels.notna().to_numpy()), np.sort(rng.choice(len(planted), 50, replace=False)),
                 np.array([len(planted) - 1]), np.array([0])):
        part = fb.transform(planted.iloc[rows].reset_index(drop=True))
        pd.testing.assert_frame_equal(part, full.iloc[rows].reset_index(drop=True), check_exact=True)


def test_fit_on_labelled_rows_matches_the_full_transform(planted):
    """The booster equals one trained on the labelled rows of the full transform."""
    df = planted.assign(illicit=planted["illicit"].where(np.arange(len(planted)) % 3 == 0))
    model = RiskModel(n_estimators=30, learning_rate=0.1, num_leaves=15).fit(df)
    labelled = df["illicit"].notna().to_numpy()
    F_all = model.features_.transform(df)[list(model.feature_names_in_)].loc[labelled].reset_index(drop=True)
    import lightgbm as lgb

    booster = lgb.train(model.lgb_params(),
                        lgb.Dataset(F_all, label=df["illicit"][labelled].astype(int).to_numpy(),
                                    categorical_feature=list(model.features_.categories_)), num_boost_round=30)
    np.testing.assert_allclose(model.booster_.predict(F_all), booster.predict(F_all))
