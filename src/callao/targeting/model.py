"""The risk model: LightGBM on categorical, numeric-ratio and leakage-free history features.

Follows the scikit-learn estimator contract: the constructor stores configuration only, ``fit``
sets attributes ending in ``_``, ``predict_proba``/``predict``/``score`` use them.
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from callao.targeting.features import FeatureBuilder

FORMAT_VERSION = 1


def training_set(F: pd.DataFrame | np.ndarray, y: np.ndarray, categorical: list | tuple,
                 weight: np.ndarray | None = None, feature_names: list[str] | str = "auto",
                 reference: lgb.Dataset | None = None) -> lgb.Dataset:
    """LightGBM's training set for :func:`train_booster`: ``categorical`` columns (names or
    positions) as LightGBM categoricals. It is binned when training starts (each feature's
    histogram bin edges, found from its own rows: the costly part of building it) or, with
    ``reference`` (a training set already used), with the reference's bin edges."""
    return lgb.Dataset(F, label=y, weight=weight, feature_name=feature_names,
                       categorical_feature=list(categorical), free_raw_data=True, reference=reference)


def train_booster(data: lgb.Dataset, params: dict, n_trees: int, keep_training_booster: bool = False) -> lgb.Booster:
    """``n_trees`` boosting rounds on a :func:`training_set` with ``params`` from
    :meth:`RiskModel.lgb_params`. ``keep_training_booster`` skips LightGBM's final copy of the
    model through its text form (faster for a booster only used for predictions in this process)."""
    return lgb.train(params, data, num_boost_round=n_trees, keep_training_booster=keep_training_booster)


def fit_booster(F: pd.DataFrame | np.ndarray, y: np.ndarray, params: dict, n_trees: int,
                categorical: list | tuple, weight: np.ndarray | None = None,
                feature_names: list[str] | str = "auto", keep_training_booster: bool = False) -> lgb.Booster:
    """The LightGBM fit shared by :meth:`RiskModel.fit` and the twin's customs stage
    (:mod:`callao.sim.inspection`): :func:`train_booster` on a :func:`training_set`."""
    return train_booster(training_set(F, y, categorical, weight, feature_names), params, n_trees, keep_training_booster)


def predict_booster(booster: lgb.Booster, F: pd.DataFrame | np.ndarray, n_jobs: int = 1) -> np.ndarray:
    """P(illicit) from a fitted booster on ``n_jobs`` threads (OpenMP threads on an oversubscribed
    machine cost far more than they save on a day's batch of declarations)."""
    return booster.predict(F, num_threads=n_jobs)


class RiskModel(ClassifierMixin, BaseEstimator):
    """Probability that a declaration is illicit (fraud or contraband).

    ``X`` is a DataFrame in the callao schema (see :mod:`callao.targeting.schema`); ``y`` the 0/1
    ``illicit`` labels, NaN for declarations that were not inspected (they still count in the
    history *volumes* but are not training rows). ``y=None`` takes ``X["illicit"]``.

    Parameters are LightGBM's (``n_estimators``, ``learning_rate``, ``num_leaves``,
    ``min_child_samples``, ``cat_smooth``, ``colsample_bytree``, ``subsample``) plus the feature
    options ``smoothing`` (pseudo-count of the past-hit-rate prior), ``revenue_weight`` (illicit
    training rows weigh ``1 + revenue_weight × log1p(revenue) / mean log1p(revenue)``, so the
    ranking favours high-revenue cases; 0 = plain classification), ``history`` and
    ``id_categories`` (see :class:`~callao.targeting.features.FeatureBuilder`), ``reg_lambda``
    (L2 penalty on leaf values), ``max_cat_to_onehot`` and ``min_data_per_group`` (LightGBM's
    categorical-split settings), ``random_state`` and ``n_jobs`` (LightGBM threads; default 1, because OpenMP threads slow down badly when the
    cores are oversubscribed, e.g. under ``pytest -n 2``).
    """

    def __init__(
        self,
        n_estimators: int = 500,
        learning_rate: float = 0.05,
        num_leaves: int = 63,
        min_child_samples: int = 20,
        cat_smooth: float = 10.0,
        colsample_bytree: float = 0.8,
        subsample: float = 1.0,
        smoothing: float = 10.0,
        revenue_weight: float = 0.0,
        revenue_exponent: float = 0.0,
        history: bool = True,
        id_categories: bool = True,
        random_state: int = 0,
        n_jobs: int = 1,
        reg_lambda: float = 0.0,
        max_cat_to_onehot: int = 8,
        min_data_per_group: int = 20,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.cat_smooth = cat_smooth
        self.colsample_bytree = colsample_bytree
        self.subsample = subsample
        self.smoothing = smoothing
        self.revenue_weight = revenue_weight
        self.revenue_exponent = revenue_exponent
        self.history = history
        self.id_categories = id_categories
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.reg_lambda = reg_lambda
        self.max_cat_to_onehot = max_cat_to_onehot
        self.min_data_per_group = min_data_per_group

    # -- learning ---------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray | None = None) -> "RiskModel":
        """Learn features' state from all rows and the booster from the labelled rows."""
        X = X.reset_index(drop=True)
        labels = pd.Series(X["illicit"] if y is None else np.asarray(y, dtype="float64"), index=X.index, dtype="float64")
        self.features_ = FeatureBuilder(self.smoothing, self.history, self.id_categories).fit(X, labels)
        labelled = labels.notna().to_numpy()
        if labelled.sum() == 0:
            raise ValueError("no labelled rows (illicit is empty everywhere)")
        # features are row-wise given the fitted state (history comes from the reference tables),
        # so only the labelled rows are transformed (tests/targeting/test_feature_rows.py)
        F = self.features_.transform(X.loc[labelled].reset_index(drop=True))
        yl = labels[labelled].to_numpy().astype(int)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(F.columns, dtype=object)
        self.base_rate_ = float(yl.mean())
        self.revenue_booster_ = None
        if yl.min() == yl.max():  # a single class: a constant model
            self.booster_ = None
            return self
        params = self.lgb_params()
        log_rev = None  # log1p(revenue) of the labelled rows, when the data has it
        if "revenue" in X.columns:
            log_rev = np.log1p(np.clip(np.nan_to_num(X["revenue"].to_numpy(dtype=float)[labelled]), 0, None))
        weight = None
        if self.revenue_weight > 0 and log_rev is not None:
            lr = log_rev * yl
            mean = lr[yl == 1].mean() if (yl == 1).any() else 0.0
            if mean > 0:
                weight = 1.0 + self.revenue_weight * lr / mean
        self.booster_ = fit_booster(F, yl, params, self.n_estimators, list(self.features_.categories_), weight)
        if self.revenue_exponent > 0 and log_rev is not None:
            hit = yl == 1
            if hit.sum() >= 20:
                reg = {**params, "objective": "regression", "num_leaves": min(self.num_leaves, 15),
                       "min_child_samples": 10}
                rdata = lgb.Dataset(F[hit], label=log_rev[hit], categorical_feature=list(self.features_.categories_))
                self.revenue_booster_ = lgb.train(reg, rdata, num_boost_round=max(50, self.n_estimators // 2))
        return self

    def lgb_params(self) -> dict:
        """The LightGBM parameters of the classifier, from the estimator's configuration."""
        return {
            "objective": "binary", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples, "cat_smooth": self.cat_smooth,
            "feature_fraction": self.colsample_bytree, "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1.0 else 0, "seed": self.random_state,
            "num_threads": self.n_jobs, "verbose": -1, "deterministic": True, "lambda_l2": self.reg_lambda,
            "max_cat_to_onehot": self.max_cat_to_onehot, "min_data_per_group": self.min_data_per_group,
        }

    def rank_score(self, X: pd.DataFrame) -> np.ndarray:
        """The score used to rank for inspection: P(illicit), times ``(1 + predicted revenue)`` to
        the power ``revenue_exponent`` (γ) when a revenue model was fitted (γ = 1: expected
        revenue; small γ: mostly probability, high-stake cases lifted)."""
        return self.risk_and_rank(X)[1]

    def risk_and_rank(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(P(illicit), rank score)`` from one feature transform (see :meth:`rank_score`)."""
        return self.matrix_risk_and_rank(self.transform(X))

    def matrix_risk_and_rank(self, F: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`risk_and_rank` for a model matrix already built by :meth:`transform`."""
        p = self._proba(F)
        if getattr(self, "revenue_booster_", None) is None:
            return p, p
        log_rev = np.clip(self.revenue_booster_.predict(F), 0.0, None)
        return p, p * np.exp(self.revenue_exponent * log_rev)  # p × (1 + revenue)^γ

    # -- prediction -------------------------------------------------------------------------
    def _check(self) -> None:
        if not hasattr(self, "features_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("RiskModel is not fitted yet; call fit(X, y) first")

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The model matrix for ``X`` (history as of the training data)."""
        self._check()
        return self.features_.transform(X.reset_index(drop=True))[list(self.feature_names_in_)]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``(n, 2)`` array: P(legitimate), P(illicit)."""
        p = self._proba(self.transform(X))
        return np.column_stack([1.0 - p, p])

    def _proba(self, F: pd.DataFrame) -> np.ndarray:
        """P(illicit) from a model matrix."""
        return np.full(len(F), self.base_rate_) if self.booster_ is None else predict_booster(self.booster_, F, self.n_jobs)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """0/1 at probability 0.5 (for ranking use :meth:`predict_proba`)."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def score(self, X: pd.DataFrame, y: pd.Series | np.ndarray | None = None, rate: float = 0.05) -> float:
        """Precision among the top ``rate`` share of ``X`` by risk (default 5%)."""
        from callao.targeting.metrics import precision_at

        y = X["illicit"] if y is None else y
        return precision_at(np.asarray(y, dtype=float), self.predict_proba(X)[:, 1], rate)

    def contributions(self, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """TreeSHAP contributions (log-odds) per feature and the feature matrix they explain."""
        F = self.transform(X)
        return self.matrix_contributions(F), F

    def matrix_contributions(self, F: pd.DataFrame) -> pd.DataFrame:
        """TreeSHAP contributions for rows of a model matrix already built by :meth:`transform`."""
        if self.booster_ is None:
            return pd.DataFrame(0.0, index=F.index, columns=F.columns)
        c = self.booster_.predict(F, pred_contrib=True)
        return pd.DataFrame(c[:, :-1], index=F.index, columns=F.columns)

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save to one file (joblib: LightGBM model text, JSON config, history tables).

        Loading runs joblib/pickle: only load model files you made or trust.
        """
        self._check()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": "callao-targeting-risk-model",
            "version": FORMAT_VERSION,
            "params": json.dumps(self.get_params()),
            "booster": None if self.booster_ is None else self.booster_.model_to_string(),
            "revenue_booster": None if self.revenue_booster_ is None else self.revenue_booster_.model_to_string(),
            "features": self.features_,
            "feature_names": list(self.feature_names_in_),
            "base_rate": self.base_rate_,
        }
        joblib.dump(payload, path, compress=3)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "RiskModel":
        """Load a model written by :meth:`save`."""
        payload = joblib.load(Path(path))
        if not isinstance(payload, dict) or payload.get("format") != "callao-targeting-risk-model":
            raise ValueError(f"{path} is not a callao targeting model file")
        model = cls(**json.loads(payload["params"]))
        model.features_ = payload["features"]
        model.booster_ = None if payload["booster"] is None else lgb.Booster(model_str=payload["booster"])
        rb = payload.get("revenue_booster")
        model.revenue_booster_ = None if rb is None else lgb.Booster(model_str=rb)
        model.feature_names_in_ = np.array(payload["feature_names"], dtype=object)
        model.classes_ = np.array([0, 1])
        model.base_rate_ = payload["base_rate"]
        return model
