"""One profile rule for the twin's customs stage and the synthetic data."""

import numpy as np
import pandas as pd

from callao.sim import inspection
from callao.targeting import profile
from callao.targeting.synthetic import SyntheticConfig, generate_declarations, watch_profile


def test_the_twin_and_the_synthetic_data_apply_the_same_rule():
    assert inspection.profile_weight is profile.profile_weight
    # the twin applies profile_score on integer codes: the same weights as on the declarations
    r = np.random.default_rng(5)
    n = 5000
    d = inspection.draw_declarations(r.choice(["coffee", "avocado", "copper concentrate", "grapes"], n).astype(object),
                                     r.choice(["Rotterdam", "Antwerp", "Shanghai", "Balboa"], n).astype(object),
                                     r.random(n) < 0.3, np.sort(r.integers(0, 60, n)), np.arange(n), 0.05, r)
    frame = d.frame()
    prior = frame.groupby("exporter_id", observed=True).cumcount().to_numpy()
    np.testing.assert_array_equal(inspection.profile_scores(d), profile.profile_score(frame, prior))
    decl = generate_declarations(np.random.default_rng(3), SyntheticConfig(exports_per_day=30, imports_per_day=0,
                                                                           n_exporters=100, n_front_companies=10,
                                                                           n_new_exporters=10), imports=False)
    exports = decl[decl["direction"] == "export"].reset_index(drop=True)
    front = (exports["exporter_type"] == "front").to_numpy()
    prior = np.where(front, 0, profile.NEW_EXPORTER_SHIPMENTS)  # front companies are the new exporters
    np.testing.assert_allclose(watch_profile(exports, 0.02), np.clip(0.02 * profile.profile_score(exports, prior), 0, 1))


def test_the_rule_weights():
    decl = pd.DataFrame({"destination_port": ["NLRTM", "NLRTM", "CNSHA", "CNSHA"],
                         "commodity": ["coffee", "coffee", "coffee", "copper concentrate"]})
    got = profile.profile_score(decl, np.array([0, 9, 9, 9]))
    assert got.tolist() == [12.0, 6.0, 2.0, 1.0]
    assert "ITGIT" in profile.EUROPE_PORTS and "NL" in profile.EUROPE_COUNTRIES
