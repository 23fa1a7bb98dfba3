"""Synthetic Callao declarations, with cocaine contraband from smugglers who adapt.

The trade tables are in :mod:`callao.targeting.reference`, the smuggler model in
:mod:`callao.targeting.smugglers`, the customs profile in :mod:`callao.targeting.profile`.

* :func:`generate_declarations` — a year of Callao export (and import) declarations in the callao
  schema, one declaration per container, with the commodity mix and destinations of
  ``facts/callao.md`` (§6) and the product brief; exporters with a heavy-tailed (Pareto) size
  distribution; front companies (new exporters that ship a few boxes, mostly to Europe).
* :func:`draw_contraband` — the container-level contraband stage the port simulation calls day by
  day: arrays of container attributes in, cocaine kg per container out, with a
  :class:`SmugglerState` carrying the adaptive part.
* :meth:`SmugglerState.adapt` — smugglers shift next period's contraband toward commodities,
  destinations and exporter types that were less watched (``adaptiveness`` 0..1).
* :func:`generate_drift_declarations` — "differently generated" data: a new route and commodity
  become popular mid-year, new exporters/importers appear, smugglers follow.

Labels: ``illicit`` = 1 for a container with cocaine (exports) or an undervalued declaration
(imports); ``revenue`` (USD) = cocaine kg × :data:`COCAINE_USD_PER_KG` (a nominal value at stake)
or the evaded duties and VAT of an undervalued import.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from callao.targeting.profile import CONCEALMENT_GOODS, EUROPE_COUNTRIES, profile_weight
from callao.targeting.reference import (
    CALLAO, COCAINE_USD_PER_KG, DRIFT_COMMODITY, DRIFT_IMPORT, DRIFT_PORT, EXPORT_COMMODITIES, IGV_RATE, IMPORT_GOODS,
    IMPORT_ORIGINS, PORTS,
)
from callao.targeting.smugglers import ContrabandParams, SmugglerState, detection_rates, draw_contraband

def watch_profile(batch: pd.DataFrame, base_rate: float = 0.02) -> np.ndarray:
    """The customs watching a synthetic year: inspection probability per container, ``base_rate``
    times the one profile rule (:func:`callao.targeting.profile.profile_weight`: Europe-bound,
    a concealment good, a new exporter)."""
    weight = profile_weight(batch["destination_country"].isin(EUROPE_COUNTRIES).to_numpy(),
                            batch["commodity"].isin(CONCEALMENT_GOODS).to_numpy(),
                            (batch["exporter_type"] == "front").to_numpy())
    return np.clip(base_rate * weight, 0, 1)


@dataclass(frozen=True)
class SyntheticConfig:
    """Size and shape of a synthetic year.

    ``exports_per_day``/``imports_per_day``: mean declarations (containers) per day;
    ``n_exporters``/``n_importers``: established traders (Pareto sizes, ``pareto_shape``);
    ``n_front_companies``: new exporters that appear during the year and load cocaine;
    ``n_new_exporters``: legitimate new exporters (so newness alone is not guilt);
    ``import_fraud_rate``: mean share of undervalued imports; ``adaptiveness``: smugglers' 0..1;
    ``adapt_every_days``: period of adaptation; ``drift_day``: day of year from which the drift
    route/commodity/goods and new traders appear (None = no drift).
    """

    year: int = 2025
    exports_per_day: float = 300.0
    imports_per_day: float = 300.0
    n_exporters: int = 1500
    n_importers: int = 2500
    n_foreign_buyers: int = 3000
    n_declarants: int = 120
    n_front_companies: int = 120
    n_new_exporters: int = 150
    pareto_shape: float = 1.2
    import_fraud_rate: float = 0.04
    contraband: ContrabandParams = ContrabandParams()
    adaptiveness: float = 0.5
    adapt_every_days: int = 30
    watch_base_rate: float = 0.02
    drift_day: int | None = None
    drift_share: float = 0.12
    drift_new_trader_share: float = 0.3


def _pareto_sizes(rng: np.random.Generator, n: int, shape: float) -> np.ndarray:
    s = rng.pareto(shape, n) + 1.0
    return s / s.sum()


def _seasonal_days(rng: np.random.Generator, n: int, n_days: int, peak_month: int, amp: float, lo: int = 0) -> np.ndarray:
    days = np.arange(lo, n_days)
    month = days / n_days * 12.0 + 0.5
    w = 1.0 + amp * np.cos(2 * np.pi * (month - peak_month) / 12.0)
    return rng.choice(days, size=n, p=w / w.sum())


def _exports(rng: np.random.Generator, cfg: SyntheticConfig, n_days: int) -> pd.DataFrame:
    """Legitimate export flows (no contraband yet), one row per container."""
    commodities = list(EXPORT_COMMODITIES)
    drift = cfg.drift_day is not None
    n_total = rng.poisson(cfg.exports_per_day * n_days)
    shares = np.array([c.share for c in commodities])
    # established exporters: each a main commodity, Pareto size
    exp_comm = rng.choice(len(commodities), size=cfg.n_exporters, p=shares / shares.sum())
    exp_size = _pareto_sizes(rng, cfg.n_exporters, cfg.pareto_shape)
    frames = []
    n_front_boxes = rng.poisson(6, cfg.n_front_companies) + 2
    n_new_boxes = rng.poisson(25, cfg.n_new_exporters) + 3
    n_drift = int(rng.binomial(n_total, cfg.drift_share * (n_days - cfg.drift_day) / n_days)) if drift else 0
    n_est = max(n_total - n_front_boxes.sum() - n_new_boxes.sum() - n_drift, 0)
    # rows of established exporters: commodity mix by the exporters' sizes within each commodity
    per_comm = rng.multinomial(n_est, shares / shares.sum())
    for ci, c in enumerate(commodities):
        members = np.flatnonzero(exp_comm == ci)
        if members.size == 0 or per_comm[ci] == 0:
            continue
        w = exp_size[members] / exp_size[members].sum()
        ex = rng.choice(members, size=per_comm[ci], p=w)
        frames.append(pd.DataFrame({
            "exporter_id": np.char.add("PE-EXP-", np.char.zfill(ex.astype(str), 5)),
            "commodity_idx": ci,
            "day": _seasonal_days(rng, per_comm[ci], n_days, c.peak_month, c.seasonality),
            "exporter_type": "established",
        }))
    # new exporters (legitimate and front companies): appear at a random day, ship for ~60 days
    for prefix, n_firms, boxes, kind in (("PE-NEW-", cfg.n_new_exporters, n_new_boxes, "established"),
                                         ("PE-FRN-", cfg.n_front_companies, n_front_boxes, "front")):
        start = rng.integers(0, n_days - 30, n_firms)
        firm = np.repeat(np.arange(n_firms), boxes)
        span = np.repeat(rng.integers(20, 90, n_firms), boxes)
        day = np.minimum(start[firm] + (rng.random(firm.size) * span).astype(int), n_days - 1)
        if kind == "front":
            attract = np.array([c.concealment for c in commodities])
            ci = rng.choice(len(commodities), size=n_firms, p=attract / attract.sum())[firm]
        else:
            ci = rng.choice(len(commodities), size=n_firms, p=shares / shares.sum())[firm]
        frames.append(pd.DataFrame({
            "exporter_id": np.char.add(prefix, np.char.zfill(firm.astype(str), 4)),
            "commodity_idx": ci, "day": day, "exporter_type": kind,
        }))
    if drift:
        commodities.append(DRIFT_COMMODITY)
        n_firms = 40
        size = _pareto_sizes(rng, n_firms, cfg.pareto_shape)
        firm = rng.choice(n_firms, size=n_drift, p=size)
        frames.append(pd.DataFrame({
            "exporter_id": np.char.add("PE-GNG-", np.char.zfill(firm.astype(str), 4)),
            "commodity_idx": len(commodities) - 1,
            "day": rng.integers(cfg.drift_day, n_days, n_drift),
            "exporter_type": "established",
        }))
    df = pd.concat(frames, ignore_index=True)
    n = len(df)
    ci = df["commodity_idx"].to_numpy()
    # destination: region by commodity, then port by weight within region
    ports = list(PORTS) + ([DRIFT_PORT] if drift else [])
    dest = np.empty(n, dtype=object)
    for k, c in enumerate(commodities):
        rows = np.flatnonzero(ci == k)
        if rows.size == 0:
            continue
        regions = [r for r, _ in c.regions]
        rw = np.array([w for _, w in c.regions])
        reg = rng.choice(len(regions), size=rows.size, p=rw / rw.sum())
        for j, region in enumerate(regions):
            sub = rows[reg == j]
            cand = [p for p in ports if p.region == region]
            pw = np.array([p.weight for p in cand])
            if drift and region == "europe":
                late = df["day"].to_numpy()[sub] >= cfg.drift_day
                pw_late = np.array([p.weight if p is not DRIFT_PORT else 4.0 for p in cand])
                choice = np.where(late, rng.choice(len(cand), size=sub.size, p=pw_late / pw_late.sum()),
                                  rng.choice(len(cand), size=sub.size, p=pw / pw.sum()) if pw.sum() > 0 else 0)
            else:
                choice = rng.choice(len(cand), size=sub.size, p=pw / pw.sum())
            dest[sub] = np.array([p.locode for p in cand], dtype=object)[choice]
    port_country = {p.locode: p.country for p in ports}
    c_arr = commodities
    kgbox = np.array([c.kg_per_box for c in c_arr])[ci]
    weight = np.round(kgbox * np.exp(0.15 * rng.standard_normal(n)), 0)
    usd = np.array([c.usd_per_kg for c in c_arr])[ci] * np.exp(0.2 * rng.standard_normal(n))
    front = (df["exporter_type"] == "front").to_numpy()
    usd = np.where(front, usd * np.exp(-0.25 + 0.3 * rng.standard_normal(n)), usd)  # front: odd prices
    buyers = rng.integers(0, cfg.n_foreign_buyers, n)
    declarant_w = _pareto_sizes(rng, cfg.n_declarants, 1.0)
    declarant = rng.choice(cfg.n_declarants, size=n, p=declarant_w)
    shady = rng.random(n) < 0.5  # front companies often use a few complaisant brokers
    declarant = np.where(front & shady, rng.integers(0, 5, n) + cfg.n_declarants - 5, declarant)
    out = pd.DataFrame({
        "day": df["day"].to_numpy(),
        "exporter_id": df["exporter_id"].to_numpy(),
        "importer_id": np.char.add("BUY-", np.char.zfill(buyers.astype(str), 5)),
        "declarant_id": np.char.add("AGT-", np.char.zfill(declarant.astype(str), 3)),
        "hs_code": np.array([c.hs_code for c in c_arr])[ci],
        "commodity": np.array([c.name for c in c_arr])[ci],
        "origin_country": "PE",
        "destination_country": pd.Series(dest).map(port_country).to_numpy(),
        "origin_port": CALLAO,
        "destination_port": dest,
        "value_usd": np.round(weight * usd, 2),
        "weight_kg": weight,
        "quantity": np.maximum(1, np.round(weight / np.array([c.kg_per_package for c in c_arr])[ci])),
        "office_id": "118-CALLAO-MARITIMA",
        "direction": "export",
        "reefer": np.array([c.reefer for c in c_arr])[ci].astype(float),
        "tax_rate": 0.0,
        "taxes_usd": 0.0,
        "exporter_type": df["exporter_type"].to_numpy(),
    })
    out["consignee_id"] = out["importer_id"]
    return out


def _imports(rng: np.random.Generator, cfg: SyntheticConfig, n_days: int) -> pd.DataFrame:
    """Import declarations with undervaluation fraud; one row per container."""
    goods = list(IMPORT_GOODS) + ([DRIFT_IMPORT] if cfg.drift_day is not None else [])
    n = rng.poisson(cfg.imports_per_day * n_days)
    day = rng.integers(0, n_days, n)
    shares = np.array([g[2] for g in goods], dtype=float)
    gi = rng.choice(len(goods), size=n, p=shares / shares.sum()) if shares.sum() > 0 else np.zeros(n, int)
    imp_size = _pareto_sizes(rng, cfg.n_importers, cfg.pareto_shape)
    importer = rng.choice(cfg.n_importers, size=n, p=imp_size)
    imp_ids = np.char.add("PE-IMP-", np.char.zfill(importer.astype(str), 5))
    propensity = rng.beta(0.3, 6.0, cfg.n_importers)  # most honest, a few habitual under-declarers
    prop = propensity[importer]
    if cfg.drift_day is not None:
        late = day >= cfg.drift_day
        switch = late & (rng.random(n) < cfg.drift_share)
        gi = np.where(switch, len(goods) - 1, gi)
        newcomer = late & (rng.random(n) < cfg.drift_new_trader_share)
        new_ids = rng.integers(0, cfg.n_importers // 3, n)
        imp_ids = np.where(newcomer, np.char.add("PE-NIM-", np.char.zfill(new_ids.astype(str), 5)), imp_ids)
        prop = np.where(newcomer, rng.beta(0.6, 4.0, n), prop)
    origin_w = np.array([o[2] for o in IMPORT_ORIGINS])
    oi = rng.choice(len(IMPORT_ORIGINS), size=n, p=origin_w / origin_w.sum())
    g_risk = np.array([g[6] for g in goods])[gi]
    o_risk = np.array([o[3] for o in IMPORT_ORIGINS])[oi]
    p = prop * g_risk * o_risk
    p = np.clip(p * cfg.import_fraud_rate / max(p.mean(), 1e-12), 0, 0.95)
    fraud = rng.random(n) < p
    weight = np.round(np.array([g[4] for g in goods])[gi] * np.exp(0.3 * rng.standard_normal(n)), 0)
    true_value = weight * np.array([g[3] for g in goods])[gi] * np.exp(0.25 * rng.standard_normal(n))
    factor = np.where(fraud, rng.uniform(0.3, 0.75, n), 1.0)
    declared = np.round(true_value * factor, 2)
    duty = np.array([g[5] for g in goods])[gi]
    taxes = declared * (duty / 100.0 + IGV_RATE)
    evaded = (true_value - declared) * (duty / 100.0 + IGV_RATE)
    declarant = rng.choice(cfg.n_declarants, size=n, p=_pareto_sizes(rng, cfg.n_declarants, 1.0))
    return pd.DataFrame({
        "day": day,
        "exporter_id": np.char.add("SUP-", np.char.zfill(rng.integers(0, 4000, n).astype(str), 5)),
        "importer_id": imp_ids,
        "declarant_id": np.char.add("AGT-", np.char.zfill(declarant.astype(str), 3)),
        "hs_code": np.array([g[1] for g in goods])[gi],
        "commodity": np.array([g[0] for g in goods])[gi],
        "origin_country": np.array([o[1] for o in IMPORT_ORIGINS])[oi],
        "destination_country": "PE",
        "origin_port": np.array([o[0] for o in IMPORT_ORIGINS])[oi],
        "destination_port": CALLAO,
        "value_usd": declared,
        "weight_kg": weight,
        "quantity": np.maximum(1, np.round(weight / 10.0)),
        "office_id": "118-CALLAO-MARITIMA",
        "direction": "import",
        "reefer": 0.0,
        "tax_rate": duty,
        "taxes_usd": np.round(taxes, 2),
        "exporter_type": "established",
        "consignee_id": imp_ids,
        "illicit": fraud.astype(float),
        "revenue": np.round(np.where(fraud, evaded, 0.0), 2),
        "contraband_kg": 0.0,
    })


def generate_declarations(
    rng: np.random.Generator, config: SyntheticConfig = SyntheticConfig(), imports: bool = True
) -> pd.DataFrame:
    """A year of synthetic Callao declarations in the callao schema, sorted by date.

    Cocaine is drawn period by period (``config.adapt_every_days``) with :func:`draw_contraband`;
    after each period the smugglers see :func:`detection_rates` under the fixed
    :func:`watch_profile` and adapt with ``config.adaptiveness``. Extra column ``exporter_type``
    (``front``/``established``) is ground truth for analysis, not a feature.
    """
    n_days = 366 if pd.Timestamp(config.year, 12, 31).day_of_year == 366 else 365
    ex = _exports(rng, config, n_days).sort_values("day", kind="stable").reset_index(drop=True)
    state = SmugglerState.initial()
    kg = np.zeros(len(ex))
    day = ex["day"].to_numpy()
    for start in range(0, n_days, config.adapt_every_days):  # loop over periods, not rows
        rows = np.flatnonzero((day >= start) & (day < start + config.adapt_every_days))
        if rows.size == 0:
            continue
        b = ex.iloc[rows]
        kg[rows] = draw_contraband(
            b["commodity"].to_numpy(), b["destination_port"].to_numpy(), b["exporter_id"].to_numpy(),
            b["reefer"].to_numpy() > 0, rng, state, config.contraband,
            front_company=(b["exporter_type"] == "front").to_numpy(),
        )
        batch = b.assign(contraband_kg=kg[rows])
        inspected = rng.random(rows.size) < watch_profile(batch, config.watch_base_rate)
        state = state.adapt(detection_rates(batch, inspected), config.adaptiveness)
    ex["contraband_kg"] = kg
    ex["illicit"] = (kg > 0).astype(float)
    ex["revenue"] = kg * COCAINE_USD_PER_KG
    frames = [ex] + ([_imports(rng, config, n_days)] if imports else [])
    df = pd.concat(frames, ignore_index=True).sort_values("day", kind="stable").reset_index(drop=True)
    df["date"] = (pd.Timestamp(config.year, 1, 1) + pd.to_timedelta(df["day"], unit="D")).astype("datetime64[ns]")
    df["declaration_id"] = np.char.add(f"CLL{config.year}-", np.char.zfill(np.arange(len(df)).astype(str), 7))
    df["route"] = df["origin_port"] + ">" + df["destination_port"]
    cols = ["declaration_id", "date", "exporter_id", "importer_id", "declarant_id", "consignee_id", "hs_code",
            "commodity", "origin_country", "destination_country", "origin_port", "destination_port", "route",
            "value_usd", "weight_kg", "quantity", "office_id", "direction", "reefer", "tax_rate", "taxes_usd",
            "illicit", "revenue", "contraband_kg", "exporter_type"]
    return df[cols]


def generate_drift_declarations(
    rng: np.random.Generator, config: SyntheticConfig = SyntheticConfig(), drift_day: int = 182, imports: bool = True
) -> pd.DataFrame:
    """Like :func:`generate_declarations`, with drift from ``drift_day``: a new route (Callao →
    Gioia Tauro) and export commodity (fresh ginger, attractive cover) take off, a new import good
    (electric bicycles, high fraud risk) appears and a share of imports come from new importers."""
    return generate_declarations(rng, replace(config, drift_day=drift_day), imports)
