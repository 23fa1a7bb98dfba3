"""Export targeting in the twin: declarations, cocaine loads, risk-based selection under capacity,
outcomes that become labels, periodic retraining and smugglers who adapt.

The one container-level stage with feedback (today's picks decide tomorrow's labels and the
smugglers' next move), so it loops over days; all work within a day is vectorised. It uses the
targeting package (:mod:`callao.targeting`) for the selection, the contraband draw and the
smugglers' adaptation.

The risk model here is a small LightGBM on :class:`TwinFeatures`, computed in the twin with integer
codes as of the start of each declaration's day (declaration history such as the exporter's
earlier shipments, and decayed past hit rates from the outcomes of earlier days). The features are
refreshed every day (yesterday's finds count today) and the booster is retrained every
``retrain_days`` on the inspected boxes of the last ``history_days``. The general-purpose
:class:`callao.targeting.model.RiskModel` (pandas feature pipeline, history tables) is the tool for
declaration files; in this loop it would rebuild its history tables at every retraining and
freeze them until the next one.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from callao.scenario.model import Targeting
from callao.targeting.selection import select_for_inspection
from callao.targeting.profile import profile_score
from callao.targeting.reference import EXPORT_COMMODITIES, PORTS, REGION_PULL
from callao.targeting.smugglers import ContrabandParams, SmugglerState, detection_rates, draw_contraband

START_DATE = pd.Timestamp("2024-01-01")
"""Calendar date of hour 0 of a run (for declaration dates)."""

EXTRA_PORTS = {  # destinations of the bundled scenario that the synthetic tables lack
    "Ningbo": ("CNNGB", "CN", "asia"), "Kaohsiung": ("TWKHH", "TW", "asia"),
    "Guayaquil": ("ECGYE", "EC", "latam"), "Buenaventura": ("COBUN", "CO", "latam"),
    "Balboa": ("PABLB", "PA", "latam"), "Cartagena": ("COCTG", "CO", "latam"),
    "Houston": ("USHOU", "US", "north_america"),
}
PORT_TABLE = {p.name: (p.locode, p.country, p.region) for p in PORTS} | EXTRA_PORTS
N_EXPORTERS_PER_COMMODITY = 80
N_DECLARANTS = 120
N_BUYERS = 3000


@dataclass
class TargetingOutcome:
    """Per export box (in the order given): channel (1 green, 2 scan, 3 exam), cocaine kg, found,
    risk score used for the selection, exporter id; and the declarations themselves."""

    channel: np.ndarray
    contraband_kg: np.ndarray
    found: np.ndarray
    risk: np.ndarray
    declarations: pd.DataFrame


def _labelled(codes: np.ndarray, labels: list[str] | np.ndarray) -> pd.Categorical:
    """A categorical column from integer codes and their labels (no per-row strings)."""
    labels = pd.Index(labels, dtype=object)
    used = np.unique(codes)  # keep only the levels that occur (and unique labels)
    remap = np.full(len(labels), -1, np.int64)
    remap[used] = np.arange(used.size)
    return pd.Categorical.from_codes(remap[codes], categories=labels[used])


def declare_exports(commodity: np.ndarray, destination: np.ndarray, reefer: np.ndarray,
                    day: np.ndarray, container_id: np.ndarray, front_box_share: float,
                    rng: np.random.Generator) -> pd.DataFrame:
    """A declaration (callao targeting schema) for each export box: exporter (a heavy-tailed
    population per commodity, plus short-lived front companies), broker, buyer, HS code, value,
    weight, destination. ``exporter_type`` is ground truth for the smugglers, not a feature.

    Identifier and text columns are pandas categoricals built from integer codes (fast; the
    values are the same strings)."""
    n = commodity.size
    table = {c.name: c for c in EXPORT_COMMODITIES}
    code, goods_u = pd.factorize(pd.Series(commodity, dtype=object))
    goods_u = np.asarray(goods_u, dtype=object)
    hs = np.array([table[g].hs_code if g in table else "999999" for g in goods_u], dtype=object)
    usd_kg = np.array([table[g].usd_per_kg if g in table else 2.0 for g in goods_u], float)[code]
    kg_box = np.array([table[g].kg_per_box if g in table else 15000.0 for g in goods_u], float)[code]
    # established exporters: Pareto sizes within each commodity
    rank = np.minimum(rng.zipf(1.6, n), N_EXPORTERS_PER_COMMODITY) - 1
    # front companies: appear on a day and ship a handful of boxes over ~6 weeks
    front = rng.random(n) < front_box_share
    firm = (day // 42) * 1000 + rng.integers(0, 12, n)
    ex_key = np.where(front, -1 - firm, code * N_EXPORTERS_PER_COMMODITY + rank)
    ex_code, ex_u = pd.factorize(ex_key)
    ex_names = [f"PE-NEW-{-1 - k}" if k < 0 else f"PE-{k // N_EXPORTERS_PER_COMMODITY:02d}-{k % N_EXPORTERS_PER_COMMODITY:03d}"
                for k in ex_u.tolist()]
    broker = np.minimum(rng.zipf(1.5, n), N_DECLARANTS) - 1
    broker = np.where(front & (rng.random(n) < 0.5), N_DECLARANTS - 1 - rng.integers(0, 4, n), broker)
    dcode, dest_u = pd.factorize(pd.Series(destination, dtype=object))
    ports = [PORT_TABLE.get(d) for d in dest_u]
    locode = [p[0] if p else str(d) for p, d in zip(ports, dest_u)]
    country = [p[1] if p else "" for p in ports]
    weight = np.round(kg_box * np.exp(0.15 * rng.standard_normal(n)))
    value = np.round(weight * usd_kg * np.exp(np.where(front, -0.25, 0.0) + 0.2 * rng.standard_normal(n)), 2)
    buyer = rng.integers(0, N_BUYERS, n)
    const = lambda v: pd.Categorical.from_codes(np.zeros(n, np.int8), categories=[v])  # noqa: E731
    return pd.DataFrame({
        "declaration_id": "CLL-" + pd.Series(container_id).astype(str),
        "date": START_DATE + pd.to_timedelta(day, unit="D"),
        "exporter_id": _labelled(ex_code, ex_names),
        "importer_id": _labelled(buyer, [f"BUY-{i}" for i in range(N_BUYERS)]),
        "declarant_id": _labelled(broker, [f"AGT-{i}" for i in range(N_DECLARANTS)]),
        "hs_code": _labelled(code, hs) if len(set(hs)) == len(hs) else hs[code],
        "commodity": _labelled(code, goods_u), "origin_country": const("PE"),
        "destination_country": _labelled(dcode, country) if len(set(country)) == len(country) else np.asarray(country, object)[dcode],
        "origin_port": const("PECLL"), "destination_port": _labelled(dcode, locode),
        "route": _labelled(dcode, ["PECLL>" + x for x in locode]),
        "value_usd": value, "weight_kg": weight, "direction": const("export"),
        "reefer": reefer.astype(float), "office_id": const("118"),
        "exporter_type": _labelled(front.astype(np.int8), ["established", "front"]),
        "day": day,
    })


def _initial_state() -> SmugglerState:
    state = SmugglerState.initial()
    for name, (locode, _, region) in PORT_TABLE.items():
        state.destination.setdefault(locode, REGION_PULL.get(region, 1.0))
    return state


def export_capacity_per_day(tg: Targeting, scanners: int, scans_per_hour: float,
                            exams_per_day: float) -> tuple[float, float]:
    """(scans, exams) a day for export targeting in one inspection pool: the unit's share of the
    pool's scanner capacity (scanner-hours a day / scan time = scanners × 24 × scans_per_hour)
    and of its exam teams' exams a day."""
    return tg.scanner_share * scanners * 24.0 * scans_per_hour, tg.exam_share * exams_per_day


def _count(rate: float, n: int, rng: np.random.Generator) -> int:
    """Inspections for a batch of ``n``: ``rate × n`` with stochastic rounding (unbiased)."""
    x = rate * n
    return int(np.floor(x) + (rng.random() < x - np.floor(x)))


def _codes(decl: pd.DataFrame, col: str) -> np.ndarray:
    values = decl[col]
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64)
    return pd.factorize(values)[0]


def _before_today(key: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Per row (rows sorted by day): rows with the same key on strictly earlier days."""
    g = pd.DataFrame({"k": key, "d": day})
    return (g.groupby("k").cumcount() - g.groupby(["k", "d"]).cumcount()).to_numpy(np.float64)


class TwinFeatures:
    """Leakage-free features of each export declaration *as of the start of its day*, computed
    inside the twin with integer codes (the twin knows every declaration and every outcome as it
    happens, so the features are fresh every day instead of frozen at the last retraining).

    Declaration-only (known at declaration time): commodity, destination port, broker (LightGBM
    categoricals), reefer, log weight, price per kg vs the commodity's median, and for the
    exporter its number of earlier shipments, days since its first shipment and shipments in the
    last 7 days; for the broker its earlier declarations. Outcome-based (labels of days before
    today, i.e. inspected boxes only; a missed load counts as clean, as customs would see it):
    per exporter, broker, commodity, destination, commodity × destination and exporter age band,
    the decayed number of inspections and smoothed hit rate
    ``(hits + s × prior) / (inspections + s)``, with ``prior`` the decayed global hit rate and an
    e-folding time of ``tau`` days, so the rates follow smugglers who move."""

    NAMES = ("commodity", "destination", "broker", "reefer", "log_weight", "price_vs_commodity",
             "exporter_prior", "exporter_age", "exporter_recent", "broker_prior")
    CATEGORICAL = (0, 1, 2)
    KEYS = ("exporter", "broker", "commodity", "destination", "commodity_destination", "age_band")

    def __init__(self, decl: pd.DataFrame, day: np.ndarray, warmup_days: int, tau: float,
                 smoothing: float = 20.0) -> None:
        n = len(decl)
        cm, ds, ag, ex = (_codes(decl, c) for c in ("commodity", "destination_port", "declarant_id", "exporter_id"))
        lvk = np.log1p(decl["value_usd"].to_numpy(float)) - np.log1p(decl["weight_kg"].to_numpy(float))
        early = day < day.min() + max(warmup_days, 1)
        med = pd.Series(lvk[early]).groupby(cm[early]).median().reindex(range(cm.max() + 1))
        med = med.fillna(pd.Series(lvk).groupby(cm).median()).to_numpy()
        first = pd.Series(day).groupby(ex).transform("min").to_numpy()
        age = (day - first).astype(float)
        ex_prior = _before_today(ex, day)
        # shipments of the exporter in the 7 days before today: earlier shipments now minus those
        # before day - 7 (rows of the same exporter on days < day - 7, by binary search)
        by = np.lexsort((day, ex))
        span = int(day.max() - day.min()) + 16 if n else 16
        sorted_key = ex[by] * span + (day[by] - day.min())
        week_ago = np.searchsorted(sorted_key, ex * span + (day - day.min() - 7), side="left")
        week_ago -= np.searchsorted(ex[by], ex, side="left")
        self.X = np.column_stack([
            cm, ds, ag, decl["reefer"].to_numpy(float), np.log1p(decl["weight_kg"].to_numpy(float)),
            lvk - med[cm], np.log1p(ex_prior), age, ex_prior - week_ago, np.log1p(_before_today(ag, day)),
        ]).astype(np.float64)
        band = np.searchsorted([7, 21, 42, 90], age, side="right")  # exporter age band
        self.key_codes = [ex, ag, cm, ds, cm * (ds.max() + 1) + ds, band]
        self.sizes = [int(k.max()) + 1 if n else 1 for k in self.key_codes]
        self.insp = [np.zeros(s) for s in self.sizes]
        self.hits = [np.zeros(s) for s in self.sizes]
        self.g_insp = self.g_hits = 0.0
        self.decay = float(np.exp(-1.0 / tau))
        self.smoothing = smoothing
        self.names = list(self.NAMES) + [f"{k}_{f}" for k in self.KEYS for f in ("insp", "rate")]
        self.F = np.full((n, len(self.names)), np.nan)

    def today(self, rows: slice) -> np.ndarray:
        """Features of today's rows (and store them): outcomes of earlier days only."""
        prior = (self.g_hits + 1.0) / (self.g_insp + 250.0)  # ~0.4% before any outcome
        cols = [self.X[rows]]
        for k, insp, hits in zip(self.key_codes, self.insp, self.hits):
            c = k[rows]
            cols.append(np.column_stack([insp[c], (hits[c] + self.smoothing * prior) / (insp[c] + self.smoothing)]))
        f = np.concatenate(cols, axis=1)
        self.F[rows] = f
        return f

    def learn(self, rows: slice, inspected: np.ndarray, hit: np.ndarray) -> None:
        """End of day: decay, then add the day's outcomes (inspected boxes only)."""
        for k, insp, hits in zip(self.key_codes, self.insp, self.hits):
            insp *= self.decay
            hits *= self.decay
            c = k[rows][inspected]
            np.add.at(insp, c, 1.0)
            np.add.at(hits, c, hit[inspected].astype(float))
        self.g_insp = self.g_insp * self.decay + float(inspected.sum())
        self.g_hits = self.g_hits * self.decay + float(hit[inspected].sum())


MODEL_PARAMS = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 30,
    "feature_fraction": 0.8, "lambda_l2": 5.0, "max_cat_to_onehot": 32, "cat_smooth": 20.0,
    "min_data_per_group": 30, "force_col_wise": True, "num_threads": 1, "verbose": -1, "deterministic": True, "seed": 0,
}
N_TREES = 40
EXPLORE_MODE = "uncertainty"
"""Exploration picks are weighted by p × (1 − p) (boxes the model is least sure about) rather
than uniform: with ~0.4% loaded boxes, uniform exploration almost never finds a load."""


def target_exports(tg: Targeting, commodity: np.ndarray, destination: np.ndarray, reefer: np.ndarray,
                   t_request_h: np.ndarray, container_id: np.ndarray,
                   rng_decl: np.random.Generator, rng_cocaine: np.random.Generator,
                   rng_select: np.random.Generator, pool: np.ndarray | None = None,
                   capacity_per_day: list[tuple[float, float]] | None = None) -> TargetingOutcome:
    """Run the day-by-day targeting loop over export boxes requesting inspection at ``t_request_h``.

    Each day: the features of the day's boxes (outcomes up to yesterday), the risk score (the
    profile rule until the first model, after ``warmup_days``), the selection under the day's
    capacity (``model_explore``: ``exploration_share`` of the picks weighted by the model's
    uncertainty), the outcomes (labels of the inspected boxes). Cocaine is drawn once per
    adaptation period, with the smugglers' state of that period.

    Capacity: ``capacity_per_day[j]`` = (scans, exams) a day the port control unit can spend on
    the exports of inspection pool ``pool == j`` (what its share of the pool's scanner-hours and
    exam teams processes, see :func:`export_capacity_per_day`); fractional counts are rounded
    stochastically each day. By default one pool with 4% scans and 3% exams of ~1,450 exports a
    day."""
    n = commodity.size
    pool = np.zeros(n, np.int64) if pool is None else np.asarray(pool, np.int64)
    capacity_per_day = capacity_per_day or [(58.0, 44.0)]
    day = np.floor(t_request_h / 24.0).astype(np.int64)
    order = np.argsort(day, kind="stable")
    pool = pool[order]
    decl = declare_exports(commodity[order], destination[order], reefer[order], day[order],
                           container_id[order], tg.front_box_share, rng_decl)
    d = decl["day"].to_numpy()
    params = ContrabandParams(share=tg.contraband_share, front_share=tg.front_company_share)
    state = _initial_state()
    kg, risk = np.zeros(n), np.full(n, np.nan)
    channel, found = np.ones(n, np.int8), np.zeros(n, bool)
    labels = np.full(n, np.nan)
    booster: lgb.Booster | None = None
    learn = tg.policy in ("model", "model_explore")
    features = TwinFeatures(decl, d, tg.warmup_days, tau=tg.history_days / 2) if learn and n else None
    goods = decl["commodity"].to_numpy()
    ports = decl["destination_port"].to_numpy()
    exporters = decl["exporter_id"].to_numpy()
    is_front = (decl["exporter_type"] == "front").to_numpy()
    rfr = decl["reefer"].to_numpy() > 0
    if tg.policy != "random":  # the fixed rule (also the learned policies' warm-up)
        profile = profile_score(decl, decl.groupby("exporter_id", observed=True).cumcount().to_numpy())
    first = int(d.min()) if n else 0
    bounds = np.searchsorted(d, np.arange(first, int(d.max()) + 2 if n else first + 1))
    last_train = period_start = first
    drawn_to = first  # cocaine is drawn for a whole adaptation period at once (the state is fixed;
    # the expected number of loads is share × boxes over the period rather than each day)
    for today, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]), start=first):
        if learn and today - first >= tg.warmup_days and (booster is None or today - last_train >= tg.retrain_days):
            booster = _train(features, labels, d, today, tg.history_days) or booster
            last_train = today
        if today - period_start >= tg.adapt_days:
            past = slice(bounds[period_start - first], lo)
            seen = pd.DataFrame({"commodity": goods[past], "destination_port": ports[past],
                                 "exporter_type": np.where(is_front[past], "front", "established"),
                                 "contraband_kg": kg[past]})
            state = state.adapt(detection_rates(seen, channel[past] > 1), tg.adaptiveness)
            period_start = today
        if today >= drawn_to:  # the smugglers' state is fixed until the next adaptation
            drawn_to = min(period_start + tg.adapt_days, first + len(bounds) - 1)
            batch = slice(lo, bounds[drawn_to - first])
            kg[batch] = draw_contraband(goods[batch], ports[batch], exporters[batch], rfr[batch], rng_cocaine,
                                        state, params, front_company=is_front[batch])
        if hi == lo:
            continue
        rows = slice(lo, hi)
        f = features.today(rows) if features is not None else None
        if tg.policy == "random":
            score = rng_select.random(hi - lo)
        elif booster is None:
            score = profile[rows] + 1e-3 * rng_select.random(hi - lo)
        else:
            score = booster.predict(f)
        risk[rows] = score
        explore = tg.exploration_share if tg.policy == "model_explore" and booster is not None else 0.0
        ch = channel[rows]
        for j, (scans, exams) in enumerate(capacity_per_day):
            mine = np.flatnonzero(pool[rows] == j)
            k_exam = min(_count(exams, 1, rng_select), mine.size)
            k = min(k_exam + _count(scans, 1, rng_select), mine.size)
            if k == 0:
                continue
            picked = mine[select_for_inspection(score[mine], k, rng_select, explore, EXPLORE_MODE)]
            picked = picked[np.argsort(-score[picked], kind="stable")]
            ch[picked[:k_exam]] = 3
            ch[picked[k_exam:]] = 2
        p_find = np.where(ch == 3, tg.exam_detection, np.where(ch == 2, tg.scan_detection, 0.0))
        hit = (kg[rows] > 0) & (rng_select.random(hi - lo) < p_find)
        found[rows] = hit
        lab = labels[rows]
        lab[ch > 1] = hit[ch > 1]
        if features is not None:
            features.learn(rows, ch > 1, hit)
    back = np.empty(n, np.int64)
    back[order] = np.arange(n)
    decl = decl.assign(illicit=labels, contraband_kg=kg, risk=risk).iloc[back].reset_index(drop=True)
    return TargetingOutcome(channel[back], kg[back], found[back], risk[back], decl)


def _train(features: TwinFeatures, labels: np.ndarray, day: np.ndarray, today: int,
           history_days: int) -> lgb.Booster | None:
    """Fit the risk model on the inspected boxes of the last ``history_days`` (their features as
    of their own day, outcomes as labels)."""
    window = (day >= today - history_days) & (day < today) & ~np.isnan(labels)
    y = labels[window]
    if y.size == 0 or y.max() == y.min():
        return None
    data = lgb.Dataset(features.F[window], label=y, feature_name=features.names,
                       categorical_feature=list(TwinFeatures.CATEGORICAL), free_raw_data=True)
    return lgb.train(MODEL_PARAMS, data, num_boost_round=N_TREES)
