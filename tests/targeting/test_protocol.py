from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from callao.targeting.protocol import (
    OursStrategy, RandomStrategy, RiskyProfileStrategy, XGBoostStrategy, compare_strategies, run_protocol,
)
from callao.targeting.selection import select_for_inspection


@dataclass
class SpyStrategy:
    """Records the history it is given; selects at random."""

    name: str = "spy"
    seen: list = field(default_factory=list)

    def fit(self, history, rng):
        self.seen.append(history[["declaration_id", "illicit"]].copy())

    def select(self, week, k, rng):
        return select_for_inspection(np.zeros(len(week)), k, rng, exploration=1.0)


def test_only_inspected_rows_are_labelled_for_retraining(small_planted):
    spy = SpyStrategy()
    res = run_protocol(small_planted, spy, rate=0.1, seed=3, initial_days=30)
    assert len(spy.seen) == len(res.weekly) >= 3
    start = small_planted["date"].min() + pd.Timedelta(days=30)
    initial = set(small_planted.loc[small_planted["date"] < start, "declaration_id"])
    inspected = set(res.inspected_ids)
    last = spy.seen[-1]
    labelled = set(last.loc[last["illicit"].notna(), "declaration_id"])
    later = set(last["declaration_id"]) - initial
    assert labelled - initial == inspected & later  # after the initial window: labels only where inspected
    assert initial <= labelled  # the initial window is fully labelled
    truth = small_planted.set_index("declaration_id")["illicit"]
    known = last.dropna(subset=["illicit"]).set_index("declaration_id")["illicit"]
    assert (truth.loc[known.index] == known).all()  # revealed labels are the true ones


def test_capacity_and_weekly_metrics(small_planted):
    res = run_protocol(small_planted, RandomStrategy(), rate=0.05, seed=0, initial_days=30)
    w = res.weekly
    assert (w["inspected"] == np.maximum(1, np.round(0.05 * w["declarations"]))).all()
    assert set(w.columns) >= {"week", "precision", "recall", "revenue"}
    assert res.overall["precision"] == pytest.approx(w["hits"].sum() / w["inspected"].sum())


def test_reproducible_from_seed(small_planted):
    a = run_protocol(small_planted, RandomStrategy(), 0.05, seed=5, initial_days=30)
    b = run_protocol(small_planted, RandomStrategy(), 0.05, seed=5, initial_days=30)
    c = run_protocol(small_planted, RandomStrategy(), 0.05, seed=6, initial_days=30)
    assert (a.inspected_ids == b.inspected_ids).all()
    assert not np.array_equal(a.inspected_ids, c.inspected_ids)


def test_learned_strategies_beat_random_on_planted_data(small_planted):
    kw = dict(rate=0.05, seed=1, initial_days=30, retrain_every=2)
    rand = run_protocol(small_planted, RandomStrategy(), **kw).overall["precision"]
    for s in (RiskyProfileStrategy(), XGBoostStrategy(n_estimators=30),
              OursStrategy(n_estimators=40)):
        r = run_protocol(small_planted, s, **kw)
        assert r.overall["precision"] > rand + 0.15, s.name


def test_compare_strategies_table(small_planted):
    t = compare_strategies(small_planted, rates=(0.05,), strategies=[RandomStrategy(), RiskyProfileStrategy()],
                           initial_days=30, max_weeks=2)
    assert list(t["strategy"]) == ["random", "risky_profile"]
    assert (t["weeks"] == 2).all()


def test_ours_ranks_by_probability_alone_below_min_picks(small_planted):
    """Revenue lifting applies from ``revenue_min_picks`` picks on; with fewer, the top by P(illicit)."""
    hist = small_planted.iloc[:1000].reset_index(drop=True)
    week = small_planted.iloc[1000:1200].reset_index(drop=True)
    week = week.assign(revenue=np.nan, illicit=np.nan)
    rng = np.random.default_rng(0)
    s = OursStrategy(n_estimators=30, exploration=0.0, revenue_exponent=1.0, revenue_min_picks=10)
    s.fit(hist.assign(revenue=np.where(hist["illicit"] == 1, rng.lognormal(8, 2, len(hist)), 0.0)), rng)
    p, lifted = s._model.risk_and_rank(week)
    assert not np.array_equal(np.argsort(-p)[:30], np.argsort(-lifted)[:30])  # the lift reorders
    for k in (5, 30):
        picked = np.flatnonzero(s.select(week, k, rng))
        score = p if k < 10 else lifted
        assert set(picked) == set(np.argsort(-score, kind="stable")[:k]), k
