"""Export targeting in the twin: declarations, cocaine loads, risk-based selection under capacity,
outcomes that become labels, periodic retraining and smugglers who adapt.

The one container-level stage with feedback (today's picks decide tomorrow's labels and the
smugglers' next move), so it loops over days; all work within a day is vectorised on integer
codes (strings appear only in the output). It uses the targeting package
(:mod:`callao.targeting`) for the risk model, the selection, the contraband draw and the
smugglers' adaptation.

The risk model is the library's :class:`~callao.targeting.model.RiskModel` configuration
:data:`TWIN_MODEL` (a small LightGBM), fitted by the same
:func:`~callao.targeting.model.train_booster` on a :func:`~callao.targeting.model.training_set`
as :meth:`RiskModel.fit` (the bin edges of a window reused until the window is renewed, see
:class:`_Trainer`), on :class:`TwinFeatures`:
the twin's version of the library's leakage-free history features
(:mod:`callao.targeting.features`), kept as arrays and updated day by day with the same
smoothed-hit-rate rule (:func:`~callao.targeting.features.smoothed_rate`), so yesterday's finds
count today (``RiskModel.fit`` on a declaration file would freeze its history tables at each
retraining). The booster is retrained every ``retrain_days`` on the inspected boxes of the last
``history_days``.

Random numbers (common random numbers across capacities and policies): the declarations come
from their own stream, the cocaine from its own (drawn per adaptation period), and every
per-box and per-day uniform of the selection stream (tie-breaks, exploration keys, detection,
stochastic rounding of the day's capacity) is drawn up front, in a fixed order, before the
daily loop. So with the same seed a change of capacity does not reshuffle which boxes carry
cocaine or which inspections would find it, and with a fixed ranking a larger capacity selects a
superset of the boxes a smaller one selects (see
:func:`~callao.targeting.selection.select_for_inspection`).
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import zeta

from callao.scenario.model import Targeting
from callao.targeting.features import smoothed_rate
from callao.targeting.model import RiskModel, predict_booster, train_booster, training_set
from callao.targeting.profile import CONCEALMENT_GOODS, EUROPE_PORTS, NEW_EXPORTER_SHIPMENTS, profile_weight
from callao.targeting.reference import EXPORT_COMMODITIES, PORTS, REGION_PULL
from callao.targeting.selection import select_for_inspection
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

TWIN_MODEL = RiskModel(n_estimators=20, learning_rate=0.1, num_leaves=7, min_child_samples=30, cat_smooth=20.0,
                       colsample_bytree=0.8, reg_lambda=5.0, max_cat_to_onehot=32, min_data_per_group=30,
                       smoothing=20.0, random_state=0, n_jobs=1)
"""The twin's risk model: a small booster (its training windows hold a few thousand inspected
boxes with tens of loads), with the LightGBM parameters of ``TWIN_MODEL.lgb_params()``. 20 rounds
at learning rate 0.1 (until 2026-11-30: 40 rounds at 0.05, the same total shrinkage): half the
boosting and scoring work, no fewer loads found over 12 seeds (docs/targeting.md, §9)."""
EXPLORE_MODE = "uncertainty"
"""Exploration picks are weighted by p × (1 − p) (boxes the model is least sure about) rather
than uniform: with ~0.4% loaded boxes, uniform exploration almost never finds a load."""


def _labelled(codes: np.ndarray, labels: list[str] | np.ndarray) -> pd.Categorical:
    """A categorical column from integer codes and their labels (no per-row strings)."""
    labels = pd.Index(labels, dtype=object)
    used = np.flatnonzero(np.bincount(codes, minlength=len(labels)))  # only the levels that occur
    remap = np.full(len(labels), -1, np.int64)
    remap[used] = np.arange(used.size)
    return pd.Categorical.from_codes(remap[codes], categories=labels[used])


@dataclass
class Declarations:
    """Export declarations as integer codes, one row per box (ground truth ``front`` included):
    commodity, destination, exporter, broker and buyer codes with their label tables, weight
    (kg), value (USD), reefer flag and day. :meth:`frame` gives the callao targeting schema."""

    day: np.ndarray
    container_id: np.ndarray
    commodity: np.ndarray
    goods: np.ndarray          # commodity name per commodity code
    hs: np.ndarray             # HS code per commodity code
    destination: np.ndarray
    locode: list[str]          # UN/LOCODE per destination code
    country: list[str]         # country per destination code
    exporter: np.ndarray
    exporter_names: list[str]  # per exporter code
    broker: np.ndarray
    buyer: np.ndarray
    weight_kg: np.ndarray
    value_usd: np.ndarray
    reefer: np.ndarray
    front: np.ndarray

    def __len__(self) -> int:
        return self.day.size

    def exporter_id(self) -> pd.Categorical:
        return _labelled(self.exporter, self.exporter_names)

    def frame(self) -> pd.DataFrame:
        """The declarations in the callao targeting schema (``exporter_type`` is ground truth
        for the smugglers, not a feature). Identifier and text columns are categoricals."""
        n = len(self)
        hs, country = self.hs, np.asarray(self.country, dtype=object)
        const = lambda v: pd.Categorical.from_codes(np.zeros(n, np.int8), categories=[v])  # noqa: E731
        return pd.DataFrame({
            "declaration_id": "CLL-" + pd.Series(self.container_id).astype(str),
            "date": START_DATE + pd.to_timedelta(self.day, unit="D"),
            "exporter_id": self.exporter_id(),
            "importer_id": _labelled(self.buyer, [f"BUY-{i}" for i in range(N_BUYERS)]),
            "declarant_id": _labelled(self.broker, [f"AGT-{i}" for i in range(N_DECLARANTS)]),
            "hs_code": _labelled(self.commodity, hs) if len(set(hs)) == len(hs) else hs[self.commodity],
            "commodity": _labelled(self.commodity, self.goods), "origin_country": const("PE"),
            "destination_country": (_labelled(self.destination, country) if len(set(country)) == len(country)
                                    else country[self.destination]),
            "origin_port": const("PECLL"), "destination_port": _labelled(self.destination, self.locode),
            "route": _labelled(self.destination, ["PECLL>" + x for x in self.locode]),
            "value_usd": self.value_usd, "weight_kg": self.weight_kg, "direction": const("export"),
            "reefer": self.reefer.astype(float), "office_id": const("118"),
            "exporter_type": _labelled(self.front.astype(np.int8), ["established", "front"]),
            "day": self.day,
        })


def _capped_zipf(a: float, cap: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``min(Zipf(a), cap)`` for ``n`` draws, by inverse CDF (one uniform each; numpy's Zipf
    sampler rejects and is ~10 times slower)."""
    k = np.arange(1, cap, dtype=float)
    cdf = np.cumsum(k ** -a) / zeta(a, 1)  # P(Z <= k), k < cap
    return np.searchsorted(cdf, rng.random(n), side="right") + 1


def draw_declarations(commodity: np.ndarray | pd.Categorical, destination: np.ndarray | pd.Categorical,
                      reefer: np.ndarray, day: np.ndarray, container_id: np.ndarray, front_box_share: float,
                      rng: np.random.Generator) -> Declarations:
    """A declaration for each export box: exporter (a heavy-tailed population per commodity, plus
    short-lived front companies), broker, buyer, HS code, value, weight, destination."""
    n = len(commodity)
    table = {c.name: c for c in EXPORT_COMMODITIES}
    code, goods_u = pd.factorize(commodity)
    goods_u = np.asarray(goods_u, dtype=object)
    hs = np.array([table[g].hs_code if g in table else "999999" for g in goods_u], dtype=object)
    usd_kg = np.array([table[g].usd_per_kg if g in table else 2.0 for g in goods_u], float)[code]
    kg_box = np.array([table[g].kg_per_box if g in table else 15000.0 for g in goods_u], float)[code]
    # established exporters: Pareto sizes within each commodity
    rank = _capped_zipf(1.6, N_EXPORTERS_PER_COMMODITY, n, rng) - 1
    # front companies: appear on a day and ship a handful of boxes over ~6 weeks
    front = rng.random(n) < front_box_share
    firm = (day // 42) * 1000 + rng.integers(0, 12, n)
    ex_key = np.where(front, -1 - firm, code * N_EXPORTERS_PER_COMMODITY + rank)
    ex_code, ex_u = pd.factorize(ex_key)
    ex_names = [f"PE-NEW-{-1 - k}" if k < 0 else f"PE-{k // N_EXPORTERS_PER_COMMODITY:02d}-{k % N_EXPORTERS_PER_COMMODITY:03d}"
                for k in ex_u.tolist()]
    broker = _capped_zipf(1.5, N_DECLARANTS, n, rng) - 1
    broker = np.where(front & (rng.random(n) < 0.5), N_DECLARANTS - 1 - rng.integers(0, 4, n), broker)
    dcode, dest_u = pd.factorize(destination)
    ports = [PORT_TABLE.get(d) for d in dest_u]
    locode = [p[0] if p else str(d) for p, d in zip(ports, dest_u)]
    country = [p[1] if p else "" for p in ports]
    weight = np.round(kg_box * np.exp(0.15 * rng.standard_normal(n)))
    value = np.round(weight * usd_kg * np.exp(np.where(front, -0.25, 0.0) + 0.2 * rng.standard_normal(n)), 2)
    buyer = rng.integers(0, N_BUYERS, n)
    return Declarations(np.asarray(day), np.asarray(container_id), code.astype(np.int64), goods_u, hs,
                        dcode.astype(np.int64), locode, country, ex_code.astype(np.int64), ex_names,
                        broker.astype(np.int64), buyer, weight, value, np.asarray(reefer, bool), front)


def declare_exports(commodity: np.ndarray, destination: np.ndarray, reefer: np.ndarray,
                    day: np.ndarray, container_id: np.ndarray, front_box_share: float,
                    rng: np.random.Generator) -> pd.DataFrame:
    """:func:`draw_declarations` as a DataFrame in the callao targeting schema."""
    return draw_declarations(commodity, destination, reefer, day, container_id, front_box_share, rng).frame()


@dataclass
class TargetingOutcome:
    """Per export box (in the order given): channel (1 green, 2 scan, 3 exam), cocaine kg, found,
    risk score used for the selection, exporter id, and the 0/1 label of inspected boxes (NaN
    otherwise); :meth:`declarations` gives the declarations themselves."""

    channel: np.ndarray
    contraband_kg: np.ndarray
    found: np.ndarray
    risk: np.ndarray
    exporter_id: pd.Categorical
    illicit: np.ndarray
    _declarations: Declarations
    _back: np.ndarray

    def declarations(self) -> pd.DataFrame:
        """The declarations (callao schema, in the order given) with ``illicit``,
        ``contraband_kg`` and ``risk``: a labelled declaration file for the targeting tools."""
        return self._declarations.frame().iloc[self._back].reset_index(drop=True).assign(
            illicit=self.illicit, contraband_kg=self.contraband_kg, risk=self.risk)


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


def _small(key: np.ndarray) -> np.ndarray:
    """Non-negative integer codes in the narrowest type (16-bit codes sort by radix sort)."""
    return key.astype(np.uint16) if key.size and key.max() < 65536 else key


def _cumcount(key: np.ndarray) -> np.ndarray:
    """Per row: earlier rows (in row order) with the same key."""
    o = np.argsort(_small(key), kind="stable")
    ks = key[o]
    pos = np.arange(key.size)
    start = np.maximum.accumulate(np.where(np.r_[True, ks[1:] != ks[:-1]], pos, 0)) if key.size else pos
    out = np.empty(key.size, np.int64)
    out[o] = pos - start
    return out


class _KeyHistory:
    """Per row (rows in day order) of an integer key: rows with the same key on earlier days.

    From a (day × key) table of counts, cumulated over the days, when that table is no larger
    than a few times the rows; otherwise (many keys over a long horizon) from the rows sorted by
    key and day. Both give the same counts."""

    TABLE_CELLS_PER_ROW = 4
    """The table is used when it has at most this many cells per row (memory linear in the rows)."""

    def __init__(self, key: np.ndarray, day: np.ndarray) -> None:
        n = key.size
        d0 = int(day.min()) if n else 0
        n_days, n_keys = (int(day.max()) - d0 + 1, int(key.max()) + 1) if n else (1, 1)
        if n and n_days * n_keys <= self.TABLE_CELLS_PER_ROW * n + 65536:
            self._init_table(key, day - d0, d0, n_days, n_keys)
        else:
            self._init_sorted(key, day)

    def _init_table(self, key: np.ndarray, d: np.ndarray, d0: int, n_days: int, n_keys: int) -> None:
        count = np.bincount(d * n_keys + key, minlength=n_days * n_keys).reshape(n_days, n_keys)
        self._before_day = (np.cumsum(count, axis=0) - count).ravel()  # [d × keys + k]: rows of key k on days < d
        self._key, self._d, self._n_keys = key, d, n_keys
        self.earlier = self._before_day[d * n_keys + key]
        self.first_day = (d0 + np.argmax(count > 0, axis=0))[key]

    def _init_sorted(self, key: np.ndarray, day: np.ndarray) -> None:
        n = key.size
        self._before_day = None
        o = np.argsort(_small(key), kind="stable")  # by key, then day (rows are in day order)
        ks, ds = key[o], day[o] - (day.min() if n else 0)
        pos = np.arange(n)
        new_key = np.r_[True, ks[1:] != ks[:-1]] if n else np.zeros(0, bool)
        new_day = new_key | (np.r_[True, ds[1:] != ds[:-1]] if n else new_key)
        key_start = np.maximum.accumulate(np.where(new_key, pos, 0)) if n else pos
        day_start = np.maximum.accumulate(np.where(new_day, pos, 0)) if n else pos
        self._order, self._key_start = o, key_start
        self._span = int(ds.max()) + 16 if n else 16
        self._sorted = ks.astype(np.int64) * self._span + ds
        self.earlier = np.empty(n, np.int64)
        self.earlier[o] = day_start - key_start
        self.first_day = np.empty(n, np.int64)
        self.first_day[o] = day[o][key_start] if n else key_start

    def before(self, lag_days: int) -> np.ndarray:
        """Per row: rows with the same key on days before its day − ``lag_days``."""
        if self._before_day is not None:
            return self._before_day[np.maximum(self._d - lag_days, 0) * self._n_keys + self._key]
        q = self._sorted - lag_days
        out = np.empty(self._sorted.size, np.int64)
        out[self._order] = np.searchsorted(self._sorted, q, side="left") - self._key_start
        return out


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
    the decayed number of inspections and the smoothed hit rate
    (:func:`~callao.targeting.features.smoothed_rate`, pseudo-count ``smoothing``) toward
    ``prior``, the decayed global hit rate, with an e-folding time of ``tau`` days, so the rates
    follow smugglers who move."""

    NAMES = ("commodity", "destination", "broker", "reefer", "log_weight", "price_vs_commodity",
             "exporter_prior", "exporter_age", "exporter_recent", "broker_prior")
    CATEGORICAL = (0, 1, 2)
    KEYS = ("exporter", "broker", "commodity", "destination", "commodity_destination", "age_band")

    def __init__(self, decl: Declarations, warmup_days: int, tau: float, smoothing: float = 20.0) -> None:
        n = len(decl)
        day = decl.day
        cm, ds, ag, ex = decl.commodity, decl.destination, decl.broker, decl.exporter
        # the declaration-only features, one row per feature (a day's rows are a block of columns),
        # computed in place (no temporary arrays of all rows)
        self.X = X = np.empty((len(self.NAMES), n))
        X[0], X[1], X[2], X[3] = cm, ds, ag, decl.reefer
        np.log1p(decl.weight_kg, out=X[4])
        lvk = np.log1p(decl.value_usd)
        lvk -= X[4]  # log price per kg
        early = day < day.min() + max(warmup_days, 1) if n else np.zeros(0, bool)
        n_goods = int(cm.max()) + 1 if n else 1
        med = pd.Series(lvk[early]).groupby(cm[early]).median().reindex(range(n_goods)).to_numpy()
        if np.isnan(med).any():  # a commodity first seen after the warm-up: its median over the run
            med = np.where(np.isnan(med), pd.Series(lvk).groupby(cm).median().reindex(range(n_goods)).to_numpy(), med)
        np.subtract(lvk, med[cm], out=X[5])
        exh = _KeyHistory(ex, day)
        X[7] = day - exh.first_day
        age = X[7]
        X[8] = exh.earlier  # the exporter's earlier shipments ...
        np.log1p(X[8], out=X[6])
        X[8] -= exh.before(7)  # ... of which in the last 7 days
        np.log1p(_KeyHistory(ag, day).earlier, out=X[9])
        band = np.searchsorted([7, 21, 42, 90], age, side="right")  # exporter age band
        self.key_codes = [ex, ag, cm, ds, cm * (int(ds.max()) + 1 if n else 1) + ds, band]
        self.sizes = [int(k.max()) + 1 if n else 1 for k in self.key_codes]
        # the outcome tables of all keys in one array (key j's codes shifted by the sizes before it),
        # so a day's look-ups and updates are one operation each
        self._total = int(sum(self.sizes))
        self._codes = np.empty((len(self.key_codes), n), np.int32 if self._total < 2**31 else np.int64)  # (keys, rows)
        for codes, k, offset in zip(self._codes, self.key_codes, np.cumsum([0] + self.sizes[:-1])):
            np.add(k, offset, out=codes, casting="unsafe")
        self._insp, self._hits = np.zeros(self._total), np.zeros(self._total)
        self.g_insp = self.g_hits = 0.0
        self.decay = float(np.exp(-1.0 / tau))
        self.smoothing = smoothing
        self.names = list(self.NAMES) + [f"{k}_{f}" for k in self.KEYS for f in ("insp", "rate")]

    @property
    def insp(self) -> list[np.ndarray]:
        """Per key: the decayed number of inspections of each code."""
        return np.split(self._insp, np.cumsum(self.sizes)[:-1])

    @property
    def hits(self) -> list[np.ndarray]:
        """Per key: the decayed number of finds of each code."""
        return np.split(self._hits, np.cumsum(self.sizes)[:-1])

    def today(self, rows: slice) -> np.ndarray:
        """Features of today's rows: outcomes of earlier days only."""
        prior = (self.g_hits + 1.0) / (self.g_insp + 250.0)  # ~0.4% before any outcome
        n_base = self.X.shape[0]
        f = np.empty((rows.stop - rows.start, len(self.names)))
        f[:, :n_base] = self.X[:, rows].T
        c = self._codes[:, rows].T  # (rows, keys)
        f[:, n_base::2] = insp_c = self._insp[c]
        f[:, n_base + 1::2] = smoothed_rate(self._hits[c], insp_c, prior, self.smoothing)
        return f

    def learn(self, rows: slice, inspected: np.ndarray, hit: np.ndarray) -> None:
        """End of day: decay, then add the day's outcomes (inspected boxes only)."""
        found = hit[inspected].astype(float)
        c = self._codes[:, rows][:, inspected]  # (keys, inspected rows)
        self._insp *= self.decay
        self._hits *= self.decay
        self._insp += np.bincount(c.ravel(), minlength=self._total)
        self._hits += np.bincount(c.ravel(), weights=np.tile(found, c.shape[0]), minlength=self._total)
        self.g_insp = self.g_insp * self.decay + float(inspected.sum())
        self.g_hits = self.g_hits * self.decay + float(found.sum())


def profile_scores(decl: Declarations, rows: int | None = None) -> np.ndarray:
    """The profile rule's weight of each declaration (:func:`callao.targeting.profile.profile_score`
    on the codes): Europe-bound, a concealment good, an exporter with few earlier shipments.
    ``rows``: only the first so many declarations (their weights do not depend on later rows)."""
    part = slice(0, rows)
    europe = np.array([x in EUROPE_PORTS for x in decl.locode], bool)[decl.destination[part]]
    conceal = np.array([g in CONCEALMENT_GOODS for g in decl.goods], bool)[decl.commodity[part]]
    return profile_weight(europe, conceal, _cumcount(decl.exporter[part]) < NEW_EXPORTER_SHIPMENTS)


class _Trainer:
    """Fits :data:`TWIN_MODEL`'s booster on inspected boxes (their features as of their own day,
    outcomes as labels). Binning a training window (each feature's histogram bin edges) costs as
    much as the boosting itself, so the bin edges found on one window are reused (a reference
    training set, :func:`~callao.targeting.model.training_set`) by the retrains until the window
    has been renewed (``rebin_every`` fits), then found afresh."""

    def __init__(self, names: list[str], rebin_every: int) -> None:
        self.names, self.rebin_every = names, max(1, rebin_every)
        self.params = TWIN_MODEL.lgb_params() | {"force_col_wise": True}
        self.reference: lgb.Dataset | None = None
        self.fits = 0

    def fit(self, F: np.ndarray, y: np.ndarray) -> lgb.Booster | None:
        """The booster, or None with a single class."""
        if y.size == 0 or y.max() == y.min():
            return None
        if self.fits % self.rebin_every == 0:
            self.reference = None
        self.fits += 1
        data = training_set(F, y, TwinFeatures.CATEGORICAL, feature_names=self.names, reference=self.reference)
        booster = train_booster(data, self.params, TWIN_MODEL.n_estimators, keep_training_booster=True)
        if self.reference is None:
            self.reference = data
        return booster


def target_exports(tg: Targeting, commodity: np.ndarray | pd.Categorical, destination: np.ndarray | pd.Categorical,
                   reefer: np.ndarray, t_request_h: np.ndarray, container_id: np.ndarray,
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
    stochastically each day (``floor(x + u)``, monotone in ``x``). By default one pool with 4%
    scans and 3% exams of ~1,450 exports a day. ``commodity`` and ``destination`` may be
    categoricals (faster than strings)."""
    n = len(commodity)
    pool = np.zeros(n, np.int64) if pool is None else np.asarray(pool, np.int64)
    capacity_per_day = capacity_per_day or [(58.0, 44.0)]
    day = np.floor(np.asarray(t_request_h) / 24.0).astype(np.int64)
    order = np.argsort(_small(day - day.min()) if n else day, kind="stable")  # 16-bit days: radix sort
    pool = pool[order]
    D = draw_declarations(commodity[order], destination[order], np.asarray(reefer)[order], day[order],
                          np.asarray(container_id)[order], tg.front_box_share, rng_decl)
    d = D.day
    first = int(d.min()) if n else 0
    bounds = np.searchsorted(d, np.arange(first, int(d.max()) + 2 if n else first + 1))
    n_days = len(bounds) - 1
    # every uniform of the selection stream, up front and in a fixed order (see the module doc)
    u_tie = rng_select.random(n)       # random policy's score; the profile's tie-break
    u_explore = rng_select.random(n)   # exploration keys
    u_detect = rng_select.random(n)    # a scan or exam finds a load when u < its detection chance
    u_round = rng_select.random((n_days, len(capacity_per_day), 2))  # stochastic rounding (exams, scans)

    params = ContrabandParams(share=tg.contraband_share, front_share=tg.front_company_share)
    state = _initial_state()
    kg, risk = np.zeros(n), np.full(n, np.nan)
    channel, found = np.ones(n, np.int8), np.zeros(n, bool)
    labels = np.full(n, np.nan)
    booster: lgb.Booster | None = None
    learn = tg.policy in ("model", "model_explore")
    features = TwinFeatures(D, tg.warmup_days, tau=tg.history_days / 2, smoothing=TWIN_MODEL.smoothing) if learn and n else None
    trainer = _Trainer(features.names, -(-tg.history_days // tg.retrain_days)) if features is not None else None
    seen_rows: list[np.ndarray] = []   # per day: the inspected rows (training rows) ...
    seen_F: list[np.ndarray] = []      # ... their features as of that day
    goods = pd.Categorical.from_codes(D.commodity, categories=pd.Index(D.goods, dtype=object))
    lc_code, lc_u = pd.factorize(np.asarray(D.locode, dtype=object))  # destination code -> UN/LOCODE
    ports = pd.Categorical.from_codes(lc_code[D.destination], categories=pd.Index(lc_u, dtype=object))
    ex_type = pd.Categorical.from_codes(D.front.astype(np.int8), categories=["established", "front"])
    if tg.policy != "random":  # the fixed rule (also the learned policies' warm-up: scored up to its end,
        # the rest only if no model can be fitted by then)
        profile = profile_scores(D, None if not learn else int(bounds[min(tg.warmup_days, n_days)]))
    last_train = period_start = first
    drawn_to = first  # cocaine is drawn for a whole adaptation period at once (the state is fixed;
    # the expected number of loads is share × boxes over the period rather than each day)
    p_detect = np.array([0.0, 0.0, tg.scan_detection, tg.exam_detection])  # by channel
    pools = [(j, scans, exams, pool == j) for j, (scans, exams) in enumerate(capacity_per_day)]
    for t, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        today = first + t
        if learn and t >= tg.warmup_days and (booster is None or today - last_train >= tg.retrain_days):
            start = max(0, t - tg.history_days)
            rows_w = np.concatenate(seen_rows[start:t]) if t > start else np.zeros(0, np.int64)
            if rows_w.size:
                booster = trainer.fit(np.concatenate(seen_F[start:t]), labels[rows_w]) or booster
            last_train = today
        if today - period_start >= tg.adapt_days:
            past = slice(bounds[period_start - first], lo)
            seen = pd.DataFrame({"commodity": goods[past], "destination_port": ports[past],
                                 "exporter_type": ex_type[past], "contraband_kg": kg[past]})
            state = state.adapt(detection_rates(seen, channel[past] > 1), tg.adaptiveness)
            period_start = today
        if today >= drawn_to:  # the smugglers' state is fixed until the next adaptation
            drawn_to = min(period_start + tg.adapt_days, first + n_days)
            batch = slice(lo, bounds[drawn_to - first])
            kg[batch] = draw_contraband(goods[batch], ports[batch], D.exporter[batch], D.reefer[batch], rng_cocaine,
                                        state, params, front_company=D.front[batch])
        if hi == lo:
            if features is not None:
                seen_rows.append(np.zeros(0, np.int64))
                seen_F.append(np.zeros((0, len(features.names))))
            continue
        rows = slice(lo, hi)
        f = features.today(rows) if features is not None else None
        if tg.policy == "random":
            score = u_tie[rows]
        elif booster is None:
            if hi > profile.size:
                profile = profile_scores(D)
            score = profile[rows] + 1e-3 * u_tie[rows]
        else:
            score = predict_booster(booster, f, TWIN_MODEL.n_jobs)
        risk[rows] = score
        explore = tg.exploration_share if tg.policy == "model_explore" and booster is not None else 0.0
        ch = channel[rows]
        ue = u_explore[rows]
        for j, scans, exams, in_pool in pools:
            mine = np.flatnonzero(in_pool[rows]) if len(pools) > 1 else None  # None: all of today's rows
            size = hi - lo if mine is None else mine.size
            k_exam = min(int(np.floor(exams + u_round[t, j, 0])), size)
            k = min(k_exam + int(np.floor(scans + u_round[t, j, 1])), size)
            if k == 0:
                continue
            if mine is None:
                picked = np.flatnonzero(select_for_inspection(score, k, rng_select, explore, EXPLORE_MODE, uniforms=ue))
            else:
                picked = mine[select_for_inspection(score[mine], k, rng_select, explore, EXPLORE_MODE,
                                                    uniforms=ue[mine])]
            picked = picked[np.argsort(-score[picked], kind="stable")]
            ch[picked[:k_exam]] = 3
            ch[picked[k_exam:]] = 2
        inspected = ch > 1
        p_find = p_detect[ch]
        hit = (kg[rows] > 0) & (u_detect[rows] < p_find)
        found[rows] = hit
        labels[rows][inspected] = hit[inspected]
        if features is not None:
            seen_rows.append(lo + np.flatnonzero(inspected))
            seen_F.append(f[inspected])
            features.learn(rows, inspected, hit)
    back = np.empty(n, np.int64)
    back[order] = np.arange(n)
    exporter_id = D.exporter_id()[back]
    return TargetingOutcome(channel[back], kg[back], found[back], risk[back], exporter_id, labels[back], D, back)
