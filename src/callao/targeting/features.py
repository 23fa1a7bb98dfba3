"""Model features from declarations: categories, numeric ratios and leakage-free history.

History features answer "what did we know about this importer / declarant / HS code / country /
route *before the day of this declaration*": the number of earlier declarations, the number
inspected and a smoothed past hit rate::

    rate = (hits + smoothing × prior) / (inspected + smoothing)

computed from reference rows with a strictly earlier date (same-day rows excluded), so a label can
never leak into a feature of a declaration on the same day or earlier. The ``prior`` is itself the
global hit rate of the earlier inspections (missing before any). Rows whose ``illicit`` label
is missing (not inspected) count as seen but not as inspected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CATEGORY_COLUMNS: tuple[str, ...] = (
    "exporter_id", "importer_id", "declarant_id", "consignee_id", "hs6", "hs4", "hs2", "commodity",
    "origin_country", "destination_country", "origin_port", "destination_port", "route",
    "office_id", "direction",
)
"""Columns used as LightGBM categorical features when present (plus text ``x_*`` extras)."""

HISTORY_KEYS: tuple[tuple[str, ...], ...] = (
    ("importer_id",), ("exporter_id",), ("declarant_id",), ("consignee_id",),
    ("hs6",), ("hs4",), ("hs2",), ("origin_country",), ("destination_country",), ("route",),
    ("commodity",), ("office_id",), ("hs6", "origin_country"), ("importer_id", "hs6"),
    ("exporter_id", "destination_country"), ("commodity", "destination_country"),
)
"""Keys (single columns or combinations) with past-hit-rate features, used when present."""

_MISSING = "\x00missing"
_ALL = "__all__"  # the key of the global table, whose past hit rate is the smoothing prior


def smoothed_rate(hits: np.ndarray, inspected: np.ndarray, prior: np.ndarray | float, smoothing: float) -> np.ndarray:
    """The past hit rate shrunk toward ``prior`` by ``smoothing`` pseudo-inspections:
    ``(hits + smoothing × prior) / (inspected + smoothing)`` (the rule of every past-hit-rate
    feature, here and in the twin's :class:`callao.sim.inspection.TwinFeatures`)."""
    return (hits + smoothing * prior) / (inspected + smoothing)


def add_derived(df: pd.DataFrame) -> pd.DataFrame:
    """Add the HS levels ``hs2``, ``hs4``, ``hs6`` (string prefixes of ``hs_code``)."""
    out = df.copy()
    hs = out["hs_code"].astype("str")
    for n in (2, 4, 6):
        out[f"hs{n}"] = hs.str.slice(0, n)
    return out


def key_name(key: tuple[str, ...]) -> str:
    """Feature-name stem for a key, e.g. ``hs6+origin_country``."""
    return "+".join(key)


def _key_series(df: pd.DataFrame, key: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """The key as one string column, and a mask of rows where any part is missing."""
    parts = [df[c].astype("str") for c in key]
    missing = pd.concat([p.isna() for p in parts], axis=1).any(axis=1)
    joined = parts[0].fillna(_MISSING)
    for p in parts[1:]:
        joined = joined + "|" + p.fillna(_MISSING)
    return joined.astype("str"), missing


def _numeric(df: pd.DataFrame, col: str) -> pd.Series:
    if col in df.columns:
        return pd.to_numeric(df[col], errors="coerce").astype("float64")
    return pd.Series(np.nan, index=df.index, dtype="float64")


def _dates(df: pd.DataFrame) -> np.ndarray:
    """The ``date`` column as day-resolution ``datetime64[ns]`` (one unit for merge_asof)."""
    return pd.to_datetime(df["date"]).dt.normalize().to_numpy().astype("datetime64[ns]")


@dataclass
class HistoryTables:
    """Per key: cumulative counts at the end of each reference date (plus the global table used as
    the prior), and the overall hit rate of the reference labels (for information)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    prior: float = 0.0
    latest: dict[str, pd.DataFrame] = field(default_factory=dict)
    end: np.datetime64 | None = None


def build_history(reference: pd.DataFrame, keys: list[tuple[str, ...]], labels: pd.Series) -> HistoryTables:
    """Cumulative ``seen``/``inspected``/``hits`` per key value and date from reference rows.

    ``labels`` is aligned with ``reference``; NaN means not inspected.
    """
    y = pd.to_numeric(labels, errors="coerce").to_numpy(dtype="float64")
    base = pd.DataFrame({
        "date": _dates(reference),
        "seen": 1.0,
        "inspected": (~np.isnan(y)).astype("float64"),
        "hits": np.nan_to_num(y, nan=0.0),
    })
    insp = base["inspected"].sum()
    prior = float(base["hits"].sum() / insp) if insp > 0 else 0.0
    tables: dict[str, pd.DataFrame] = {}
    for key in [(_ALL,), *keys]:
        k, missing = _key_series(reference.assign(**{_ALL: "all"}), key)
        frame = base.assign(key=k.to_numpy())[~missing.to_numpy()]
        daily = frame.groupby(["key", "date"], sort=True)[["seen", "inspected", "hits"]].sum().reset_index()
        cum = daily.groupby("key", sort=False)[["seen", "inspected", "hits"]].cumsum()
        daily[["seen", "inspected", "hits"]] = cum
        tables[key_name(key)] = daily.sort_values("date", kind="stable").reset_index(drop=True)
    latest = {name: t.drop_duplicates("key", keep="last").set_index("key")[["seen", "inspected", "hits"]]
              for name, t in tables.items()}
    end = base["date"].max() if len(base) else None
    return HistoryTables(tables, prior, latest, end)


def history_features(
    query: pd.DataFrame, history: HistoryTables, keys: list[tuple[str, ...]], smoothing: float
) -> pd.DataFrame:
    """For each query row and key: ``<key>_n`` (earlier declarations), ``<key>_insp`` (earlier
    inspections), ``<key>_rate`` (smoothed earlier hit rate), using reference dates < row date."""
    out = pd.DataFrame(index=query.index)
    qdates = _dates(query)
    order = np.argsort(qdates, kind="stable")
    dates = qdates[order]
    query = query.assign(**{_ALL: "all"})
    prior = None
    for key in [(_ALL,), *keys]:
        name = key_name(key)
        k, missing = _key_series(query, key)
        q = pd.DataFrame({"date": dates, "key": k.to_numpy()[order], "pos": order})
        if history.end is not None and len(dates) and dates[0] > history.end and name in history.latest:
            # every query row is after the whole history: the final totals per key (fast path)
            merged = q.join(history.latest[name], on="key")
        else:
            table = history.tables[name]
            merged = pd.merge_asof(q, table, on="date", by="key", allow_exact_matches=False, direction="backward")
        seen = np.zeros(len(query))
        insp = np.zeros(len(query))
        hits = np.zeros(len(query))
        pos = merged["pos"].to_numpy()
        seen[pos] = merged["seen"].fillna(0.0).to_numpy()
        insp[pos] = merged["inspected"].fillna(0.0).to_numpy()
        hits[pos] = merged["hits"].fillna(0.0).to_numpy()
        if prior is None:  # the global past hit rate, as of each row's date
            prior = np.where(insp > 0, hits / np.maximum(insp, 1.0), np.nan)
            continue
        rate = smoothed_rate(hits, insp, prior, smoothing)
        miss = missing.to_numpy()
        seen[miss] = np.nan
        insp[miss] = np.nan
        rate[miss] = np.nan
        out[f"{name}_n"] = seen
        out[f"{name}_insp"] = insp
        out[f"{name}_rate"] = rate
    return out


def numeric_features(df: pd.DataFrame) -> pd.DataFrame:
    """Value/weight/quantity ratios (log scale where heavy-tailed), tax shares, reefer flag."""
    value = _numeric(df, "value_usd")
    weight = _numeric(df, "weight_kg")
    qty = _numeric(df, "quantity")
    taxes = _numeric(df, "taxes_usd")
    cif = _numeric(df, "cif_value_usd")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "log_value_usd": np.log1p(value),
            "log_weight_kg": np.log1p(weight),
            "log_quantity": np.log1p(qty),
            "log_value_per_kg": np.log1p(value) - np.log1p(weight),
            "log_value_per_unit": np.log1p(value) - np.log1p(qty),
            "log_kg_per_unit": np.log1p(weight) - np.log1p(qty),
            "tax_rate": _numeric(df, "tax_rate"),
            "tax_share": taxes / value.where(value > 0),
            "cif_over_fob": cif / value.where(value > 0),
            "reefer": _numeric(df, "reefer"),
            "weekday": pd.to_datetime(df["date"]).dt.day_of_week.astype("float64"),
        }, index=df.index)
    return out.replace([np.inf, -np.inf], np.nan)


@dataclass
class FeatureBuilder:
    """Turns callao-schema declarations into a model matrix (learned state set by :meth:`fit`).

    Parameters: ``smoothing`` (pseudo-count of the past-hit-rate prior), ``history`` (add history
    features), ``id_categories`` (use raw identifiers as categorical features), ``max_categories``
    (most frequent levels kept per categorical column; the rest become missing).
    """

    smoothing: float = 10.0
    history: bool = True
    id_categories: bool = True
    max_categories: int = 20000
    categories_: dict[str, list[str]] = field(default_factory=dict)
    keys_: list[tuple[str, ...]] = field(default_factory=list)
    history_: HistoryTables | None = None
    hs6_log_vpk_: dict[str, float] = field(default_factory=dict)
    numeric_extras_: list[str] = field(default_factory=list)
    _dtypes: dict[str, pd.CategoricalDtype] = field(default_factory=dict, repr=False, compare=False)

    def fit(self, df: pd.DataFrame, labels: pd.Series) -> "FeatureBuilder":
        """Learn category levels, numeric extras and history tables from reference rows."""
        d = add_derived(df)
        cat_cols = [c for c in CATEGORY_COLUMNS if c in d.columns]
        cat_cols += [c for c in d.columns if c.startswith("x_") and not pd.api.types.is_numeric_dtype(d[c])]
        if not self.id_categories:
            cat_cols = [c for c in cat_cols if not c.endswith("_id") or c == "office_id"]
        self.categories_ = {}
        self._dtypes = {}
        for c in cat_cols:
            counts = d[c].astype("str").value_counts()
            if len(counts) >= 2:
                self.categories_[c] = [str(v) for v in counts.index[: self.max_categories]]
        self.numeric_extras_ = [c for c in d.columns if c.startswith("x_") and pd.api.types.is_numeric_dtype(d[c])]
        self.keys_ = [k for k in HISTORY_KEYS if all(c in d.columns for c in k)] if self.history else []
        self.history_ = build_history(d, self.keys_, labels) if self.history else None
        lv = np.log1p(_numeric(d, "value_usd")) - np.log1p(_numeric(d, "weight_kg"))
        self.hs6_log_vpk_ = lv.groupby(d["hs6"].to_numpy()).median().to_dict()
        return self

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Feature matrix: categoricals (pandas Categorical), numerics and history features."""
        d = add_derived(df)
        parts = [numeric_features(d)]
        ref = d["hs6"].map(self.hs6_log_vpk_).astype("float64")
        parts.append(pd.DataFrame({"log_value_per_kg_vs_hs6": parts[0]["log_value_per_kg"] - ref}, index=d.index))
        cats = pd.DataFrame(index=d.index)
        for c, levels in self.categories_.items():
            dtype = self._dtypes.get(c)
            if dtype is None:
                dtype = self._dtypes[c] = pd.CategoricalDtype(pd.Index(levels, dtype="object"))
            if c in d.columns:
                codes = dtype.categories.get_indexer(d[c].astype("object").to_numpy())  # unseen -> -1
            else:
                codes = np.full(len(d), -1)
            cats[c] = pd.Categorical.from_codes(codes, dtype=dtype)
        parts.append(cats)
        if self.numeric_extras_:
            parts.append(pd.DataFrame({c: _numeric(d, c) for c in self.numeric_extras_}, index=d.index))
        if self.history_ is not None:
            parts.append(history_features(d, self.history_, self.keys_, self.smoothing))
        return pd.concat(parts, axis=1)
