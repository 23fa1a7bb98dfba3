"""Export targeting in the twin: declarations, cocaine loads, risk-based selection under capacity,
outcomes that become labels, periodic retraining and smugglers who adapt.

The one container-level stage with feedback (today's picks decide tomorrow's labels and the
smugglers' next move), so it loops over days; all work within a day is vectorised. It uses the
targeting package (:mod:`callao.targeting`) for the model, the selection, the contraband draw and
the smugglers' adaptation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from callao.scenario.model import Targeting
from callao.targeting.model import RiskModel
from callao.targeting.selection import select_for_inspection
from callao.targeting.synthetic import (
    EXPORT_COMMODITIES, PORTS, REGION_PULL, ContrabandParams, SmugglerState, detection_rates,
    draw_contraband,
)

START_DATE = pd.Timestamp("2024-01-01")
"""Calendar date of hour 0 of a run (for declaration dates)."""

EXTRA_PORTS = {  # destinations of the bundled scenario that the synthetic tables lack
    "Ningbo": ("CNNGB", "CN", "asia"), "Kaohsiung": ("TWKHH", "TW", "asia"),
    "Guayaquil": ("ECGYE", "EC", "latam"), "Buenaventura": ("COBUN", "CO", "latam"),
    "Balboa": ("PABLB", "PA", "latam"), "Cartagena": ("COCTG", "CO", "latam"),
    "Houston": ("USHOU", "US", "north_america"),
}
PORT_TABLE = {p.name: (p.locode, p.country, p.region) for p in PORTS} | EXTRA_PORTS
RISKY_GOODS = {"fresh asparagus", "canned asparagus", "coffee", "avocado", "passion-fruit juice",
               "scrap metal", "canned mackerel"}
"""Concealment goods in the seizure record (facts §6), used by the ``profile`` rule."""

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


def declare_exports(commodity: np.ndarray, destination: np.ndarray, reefer: np.ndarray,
                    day: np.ndarray, container_id: np.ndarray, front_box_share: float,
                    rng: np.random.Generator) -> pd.DataFrame:
    """A declaration (callao targeting schema) for each export box: exporter (a heavy-tailed
    population per commodity, plus short-lived front companies), broker, buyer, HS code, value,
    weight, destination. ``exporter_type`` is ground truth for the smugglers, not a feature."""
    n = commodity.size
    table = {c.name: c for c in EXPORT_COMMODITIES}
    goods = pd.Series(commodity, dtype=object)
    hs = goods.map({k: c.hs_code for k, c in table.items()}).fillna("999999").to_numpy()
    usd_kg = goods.map({k: c.usd_per_kg for k, c in table.items()}).fillna(2.0).to_numpy(float)
    kg_box = goods.map({k: c.kg_per_box for k, c in table.items()}).fillna(15000.0).to_numpy(float)
    # established exporters: Pareto sizes within each commodity
    rank = np.minimum(rng.zipf(1.6, n), N_EXPORTERS_PER_COMMODITY) - 1
    code = pd.factorize(goods)[0]
    exporter = np.char.add(np.char.add("PE-", np.char.zfill(code.astype(str), 2)),
                           np.char.add("-", np.char.zfill(rank.astype(str), 3)))
    # front companies: appear on a day and ship a handful of boxes over ~6 weeks
    front = rng.random(n) < front_box_share
    firm = (day // 42) * 1000 + rng.integers(0, 12, n)
    exporter = np.where(front, np.char.add("PE-NEW-", firm.astype(str)), exporter)
    broker = np.minimum(rng.zipf(1.5, n), N_DECLARANTS) - 1
    broker = np.where(front & (rng.random(n) < 0.5), N_DECLARANTS - 1 - rng.integers(0, 4, n), broker)
    ports = pd.Series(destination, dtype=object).map(PORT_TABLE)
    locode = np.array([p[0] if isinstance(p, tuple) else str(d) for p, d in zip(ports, destination)], dtype=object)
    country = np.array([p[1] if isinstance(p, tuple) else "" for p in ports], dtype=object)
    weight = np.round(kg_box * np.exp(0.15 * rng.standard_normal(n)))
    value = np.round(weight * usd_kg * np.exp(np.where(front, -0.25, 0.0) + 0.2 * rng.standard_normal(n)), 2)
    return pd.DataFrame({
        "declaration_id": np.char.add("CLL-", container_id.astype(str)),
        "date": START_DATE + pd.to_timedelta(day, unit="D"),
        "exporter_id": exporter, "importer_id": np.char.add("BUY-", rng.integers(0, N_BUYERS, n).astype(str)),
        "declarant_id": np.char.add("AGT-", broker.astype(str)),
        "hs_code": hs, "commodity": goods.to_numpy(), "origin_country": "PE",
        "destination_country": country, "origin_port": "PECLL", "destination_port": locode,
        "route": np.char.add("PECLL>", locode.astype(str)),
        "value_usd": value, "weight_kg": weight, "direction": "export",
        "reefer": reefer.astype(float), "office_id": "118",
        "exporter_type": np.where(front, "front", "established"),
        "day": day,
    })


def profile_score(decl: pd.DataFrame, prior_shipments: np.ndarray) -> np.ndarray:
    """The rule-based profile: Europe-bound ×3, a known concealment good ×2, a new exporter
    (fewer than 5 earlier shipments) ×2."""
    europe = pd.Series(decl["destination_port"]).map({v[0]: v[2] for v in PORT_TABLE.values()}).eq("europe")
    goods = decl["commodity"].isin(RISKY_GOODS).to_numpy()
    return (np.where(europe.to_numpy(), 3.0, 1.0) * np.where(goods, 2.0, 1.0)
            * np.where(prior_shipments < 5, 2.0, 1.0))


def _initial_state() -> SmugglerState:
    state = SmugglerState.initial()
    for name, (locode, _, region) in PORT_TABLE.items():
        state.destination.setdefault(locode, REGION_PULL.get(region, 1.0))
    return state


def _count(rate: float, n: int, rng: np.random.Generator) -> int:
    """Inspections for a batch of ``n``: ``rate × n`` with stochastic rounding (unbiased)."""
    x = rate * n
    return int(np.floor(x) + (rng.random() < x - np.floor(x)))


def target_exports(tg: Targeting, commodity: np.ndarray, destination: np.ndarray, reefer: np.ndarray,
                   t_request_h: np.ndarray, container_id: np.ndarray,
                   rng_decl: np.random.Generator, rng_cocaine: np.random.Generator,
                   rng_select: np.random.Generator) -> TargetingOutcome:
    """Run the day-by-day targeting loop over export boxes requesting inspection at ``t_request_h``."""
    n = commodity.size
    day = np.floor(t_request_h / 24.0).astype(np.int64)
    order = np.argsort(day, kind="stable")
    decl = declare_exports(commodity[order], destination[order], reefer[order], day[order],
                           container_id[order], tg.front_box_share, rng_decl)
    d = decl["day"].to_numpy()
    prior = decl.groupby("exporter_id").cumcount().to_numpy()
    params = ContrabandParams(share=tg.contraband_share, front_share=tg.front_company_share)
    state = _initial_state()
    kg, risk = np.zeros(n), np.full(n, np.nan)
    channel, found = np.ones(n, np.int8), np.zeros(n, bool)
    labels = np.full(n, np.nan)
    model: RiskModel | None = None
    learn = tg.policy in ("model", "model_explore")
    first = int(d.min()) if n else 0
    bounds = np.searchsorted(d, np.arange(first, int(d.max()) + 2 if n else first + 1))
    last_train = period_start = first
    scores = np.full(n, np.nan)  # the current model's scores (it changes only when retrained)
    for today, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]), start=first):
        if learn and today - first >= tg.warmup_days and (model is None or today - last_train >= tg.retrain_days):
            model = _train(decl, labels, d, today, tg.history_days) or model
            last_train = today
            if model is not None:  # score the boxes of the days until the next retraining at once
                upto = bounds[min(today - first + tg.retrain_days, len(bounds) - 1)]
                scores[lo:upto] = model.predict_proba(decl.iloc[lo:upto])[:, 1]
        if today - period_start >= tg.adapt_days:
            past = slice(bounds[period_start - first], lo)
            seen = decl.iloc[past].assign(contraband_kg=kg[past])
            state = state.adapt(detection_rates(seen, channel[past] > 1), tg.adaptiveness)
            period_start = today
        if hi == lo:
            continue
        rows = slice(lo, hi)
        b = decl.iloc[rows]
        kg[rows] = draw_contraband(b["commodity"].to_numpy(), b["destination_port"].to_numpy(),
                                   b["exporter_id"].to_numpy(), b["reefer"].to_numpy() > 0, rng_cocaine,
                                   state, params, front_company=(b["exporter_type"] == "front").to_numpy())
        if tg.policy == "random":
            score = rng_select.random(hi - lo)
        elif model is None:
            score = profile_score(b, prior[rows]) + 1e-3 * rng_select.random(hi - lo)
        else:
            score = scores[rows]
        risk[rows] = score
        k_exam = _count(tg.exam_rate, hi - lo, rng_select)
        k = min(k_exam + _count(tg.scan_rate, hi - lo, rng_select), hi - lo)
        explore = tg.exploration_share if tg.policy == "model_explore" and model is not None else 0.0
        picked = np.flatnonzero(select_for_inspection(score, k, rng_select, explore))
        picked = picked[np.argsort(-score[picked], kind="stable")]
        ch = channel[rows]
        ch[picked[:k_exam]] = 3
        ch[picked[k_exam:]] = 2
        p_find = np.where(ch == 3, tg.exam_detection, np.where(ch == 2, tg.scan_detection, 0.0))
        hit = (kg[rows] > 0) & (rng_select.random(hi - lo) < p_find)
        found[rows] = hit
        lab = labels[rows]
        lab[ch > 1] = hit[ch > 1]
    back = np.empty(n, np.int64)
    back[order] = np.arange(n)
    decl = decl.assign(illicit=labels, contraband_kg=kg, risk=risk).iloc[back].reset_index(drop=True)
    return TargetingOutcome(channel[back], kg[back], found[back], risk[back], decl)


def _train(decl: pd.DataFrame, labels: np.ndarray, day: np.ndarray, today: int, history_days: int) -> RiskModel | None:
    """Fit the risk model on the last ``history_days`` of declarations (labels: inspected only)."""
    window = (day >= today - history_days) & (day < today)
    y = labels[window]
    if np.isnan(y).all() or np.nanmax(y) == np.nanmin(y):
        return None
    X = decl.loc[window].drop(columns=["exporter_type", "day"]).assign(illicit=y)
    return RiskModel(n_estimators=150, learning_rate=0.08, num_leaves=31, n_jobs=1).fit(X)
