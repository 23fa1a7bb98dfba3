"""Synthetic Callao declarations, cocaine contraband and smugglers who adapt.

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

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

COCAINE_USD_PER_KG = 1500.0
"""Nominal value at stake per kg of cocaine seized (USD; roughly the wholesale price in Peru)."""

CALLAO = "PECLL"
IGV_RATE = 0.18
"""Peru's general sales tax (IGV + municipal), charged on imports; a fraction."""


@dataclass(frozen=True)
class Commodity:
    """An export commodity: HS code, share of export boxes, reefer, USD per kg, kg per box, kg per
    package, peak month (1-12) and seasonal amplitude (0..1), destination-region weights, and its
    attractiveness for concealing cocaine (relative)."""

    name: str
    hs_code: str
    share: float
    reefer: bool
    usd_per_kg: float
    kg_per_box: float
    kg_per_package: float
    peak_month: int
    seasonality: float
    regions: tuple[tuple[str, float], ...]
    concealment: float


EXPORT_COMMODITIES: tuple[Commodity, ...] = (
    Commodity("fresh asparagus", "070920", 0.06, True, 3.0, 12000, 5, 10, 0.3, (("europe", .4), ("north_america", .55), ("asia", .05)), 2.0),
    Commodity("canned asparagus", "200560", 0.04, False, 3.5, 18000, 12, 6, 0.1, (("europe", .7), ("north_america", .25), ("latam", .05)), 3.0),
    Commodity("avocado", "080440", 0.09, True, 2.2, 20000, 4, 6, 0.6, (("europe", .6), ("north_america", .25), ("asia", .1), ("latam", .05)), 2.5),
    Commodity("grapes", "080610", 0.08, True, 2.5, 18000, 8, 1, 0.8, (("europe", .3), ("north_america", .4), ("asia", .3)), 1.5),
    Commodity("blueberries", "081040", 0.07, True, 7.0, 12000, 2, 10, 0.8, (("europe", .35), ("north_america", .5), ("asia", .15)), 1.5),
    Commodity("mandarins", "080521", 0.04, True, 1.2, 20000, 10, 7, 0.7, (("europe", .3), ("north_america", .5), ("asia", .2)), 1.2),
    Commodity("mangoes", "080450", 0.03, True, 1.4, 19000, 4, 1, 0.8, (("europe", .6), ("north_america", .4)), 1.5),
    Commodity("passion-fruit juice", "200989", 0.02, True, 2.8, 20000, 200, 6, 0.2, (("europe", .8), ("north_america", .2)), 3.0),
    Commodity("coffee", "090111", 0.05, False, 4.5, 19000, 60, 8, 0.5, (("europe", .5), ("north_america", .4), ("asia", .1)), 3.0),
    Commodity("cocoa beans", "180100", 0.02, False, 3.0, 20000, 60, 6, 0.3, (("europe", .7), ("north_america", .2), ("asia", .1)), 1.5),
    Commodity("canned mackerel", "160415", 0.02, False, 2.0, 18000, 15, 6, 0.1, (("europe", .3), ("latam", .6), ("asia", .1)), 2.0),
    Commodity("fish meal", "230120", 0.08, False, 1.6, 25000, 50, 5, 0.5, (("asia", .85), ("europe", .1), ("latam", .05)), 0.5),
    Commodity("scrap metal", "720449", 0.04, False, 0.35, 24000, 1000, 6, 0.0, (("asia", .6), ("europe", .3), ("latam", .1)), 2.5),
    Commodity("zinc concentrate", "260800", 0.09, False, 1.1, 26000, 26000, 6, 0.0, (("asia", .7), ("europe", .3)), 0.3),
    Commodity("copper concentrate", "260300", 0.12, False, 3.0, 26000, 26000, 6, 0.0, (("asia", .85), ("europe", .15)), 0.3),
    Commodity("cotton textiles", "610910", 0.06, False, 25.0, 6000, 10, 9, 0.2, (("north_america", .7), ("latam", .2), ("europe", .1)), 1.0),
    Commodity("quinoa", "100850", 0.02, False, 2.5, 20000, 25, 6, 0.0, (("north_america", .5), ("europe", .4), ("asia", .1)), 1.2),
    Commodity("paprika", "090421", 0.02, False, 2.7, 14000, 25, 8, 0.2, (("north_america", .4), ("europe", .5), ("latam", .1)), 1.0),
    Commodity("frozen squid", "030743", 0.04, True, 2.3, 22000, 20, 6, 0.2, (("asia", .7), ("europe", .2), ("latam", .1)), 1.0),
)
"""Callao's container export mix (shares of export boxes; approximate, for synthetic data)."""

DRIFT_COMMODITY = Commodity(
    "fresh ginger", "091011", 0.0, True, 1.8, 18000, 13, 6, 0.0,
    (("europe", .75), ("north_america", .25)), 3.0,
)
"""The commodity that becomes popular mid-year in the drift data set."""


@dataclass(frozen=True)
class Port:
    """A destination or origin port: UN/LOCODE, name, ISO country, region, relative weight."""

    locode: str
    name: str
    country: str
    region: str
    weight: float


PORTS: tuple[Port, ...] = (
    Port("NLRTM", "Rotterdam", "NL", "europe", 3.0),
    Port("BEANR", "Antwerp", "BE", "europe", 2.5),
    Port("ESVLC", "Valencia", "ES", "europe", 1.2),
    Port("ESALG", "Algeciras", "ES", "europe", 1.0),
    Port("DEHAM", "Hamburg", "DE", "europe", 1.0),
    Port("USPHL", "Philadelphia", "US", "north_america", 1.5),
    Port("USNYC", "New York", "US", "north_america", 1.5),
    Port("USLAX", "Los Angeles", "US", "north_america", 2.0),
    Port("CAVAN", "Vancouver", "CA", "north_america", 0.5),
    Port("CNSHA", "Shanghai", "CN", "asia", 3.0),
    Port("KRPUS", "Busan", "KR", "asia", 1.2),
    Port("JPYOK", "Yokohama", "JP", "asia", 1.0),
    Port("HKHKG", "Hong Kong", "HK", "asia", 1.0),
    Port("CLSAI", "San Antonio", "CL", "latam", 1.5),
    Port("MXZLO", "Manzanillo", "MX", "latam", 0.8),
    Port("PAMIT", "Manzanillo (Panama)", "PA", "latam", 0.6),
)
"""Destination ports for Callao exports (weights are relative within a region)."""

DRIFT_PORT = Port("ITGIT", "Gioia Tauro", "IT", "europe", 0.0)
"""The route that opens mid-year in the drift data set."""

REGION_PULL: dict[str, float] = {"europe": 4.0, "latam": 1.5, "north_america": 0.6, "asia": 0.3}
"""Smugglers' relative preference for destination regions (Europe and Chile dominate)."""

IMPORT_GOODS: tuple[tuple[str, str, float, float, float, float, float], ...] = (
    # name, hs, share, usd/kg, kg/box, duty %, fraud risk (relative)
    ("mobile phones", "851712", 0.06, 120.0, 3000, 0.0, 2.0),
    ("laptops", "847130", 0.05, 60.0, 4000, 0.0, 1.5),
    ("passenger cars", "870323", 0.10, 9.0, 9000, 6.0, 1.0),
    ("tyres", "401110", 0.06, 3.5, 12000, 6.0, 1.2),
    ("steel sheet", "721049", 0.10, 0.9, 25000, 0.0, 0.4),
    ("polyethylene", "390110", 0.08, 1.3, 24000, 0.0, 0.4),
    ("men's suits", "620342", 0.06, 14.0, 8000, 11.0, 3.0),
    ("footwear", "640299", 0.07, 9.0, 9000, 11.0, 3.0),
    ("toys", "950300", 0.06, 6.0, 8000, 6.0, 2.0),
    ("wheat", "100199", 0.08, 0.3, 26000, 0.0, 0.2),
    ("machinery parts", "843149", 0.08, 8.0, 12000, 0.0, 0.8),
    ("chemicals", "290250", 0.06, 1.5, 22000, 0.0, 0.5),
    ("LED lamps", "940540", 0.07, 12.0, 7000, 6.0, 2.2),
    ("household appliances", "851650", 0.07, 7.0, 8000, 6.0, 1.5),
)
DRIFT_IMPORT = ("electric bicycles", "871160", 0.0, 15.0, 7000, 6.0, 3.5)

IMPORT_ORIGINS: tuple[tuple[str, str, float, float], ...] = (
    # locode, country, weight, fraud risk (relative)
    ("CNSHA", "CN", 4.0, 1.8), ("CNNGB", "CN", 2.0, 1.8), ("USHOU", "US", 1.5, 0.5), ("KRPUS", "KR", 1.0, 0.7),
    ("JPYOK", "JP", 0.7, 0.5), ("DEHAM", "DE", 0.8, 0.5), ("BRSSZ", "BR", 0.8, 1.0), ("MXZLO", "MX", 0.6, 1.0),
    ("COCTG", "CO", 0.5, 1.2), ("ECGYE", "EC", 0.5, 1.2), ("INNSA", "IN", 0.8, 1.4), ("PAMIT", "PA", 0.8, 2.0),
)


@dataclass(frozen=True)
class ContrabandParams:
    """Configuration of the cocaine stage.

    ``share``: expected fraction of export containers carrying cocaine; ``front_share``: fraction
    of those loaded by front companies (the rest are rip-on/rip-off in legitimate exporters'
    boxes); ``reefer_factor``: relative preference for reefers; ``median_kg``/``sigma_kg``:
    lognormal load per container (kg); ``front_kg_factor``: front companies' loads are larger;
    ``new_exporter_shipments``: with no ``front_company`` flags given, an exporter with fewer
    earlier shipments than this counts as new/front.
    """

    share: float = 0.004
    front_share: float = 0.35
    reefer_factor: float = 1.5
    median_kg: float = 120.0
    sigma_kg: float = 1.0
    front_kg_factor: float = 2.5
    max_kg: float = 3000.0
    new_exporter_shipments: int = 5


@dataclass
class SmugglerState:
    """The adaptive part: smugglers' relative preferences (weights, mean 1 at start) over
    commodities, destinations and exporter types (``"front"``/``"established"``), and the
    shipment count seen per exporter (to tell new exporters when no flags are given)."""

    commodity: dict[str, float] = field(default_factory=dict)
    destination: dict[str, float] = field(default_factory=dict)
    exporter_type: dict[str, float] = field(default_factory=lambda: {"front": 1.0, "established": 1.0})
    exporter_shipments: dict[str, int] = field(default_factory=dict)

    @classmethod
    def initial(cls) -> "SmugglerState":
        """Preferences before any adaptation: commodity concealment attractiveness and regional
        pull (Europe first), from :data:`EXPORT_COMMODITIES`, :data:`PORTS`, :data:`REGION_PULL`."""
        commodity = {c.name: c.concealment for c in (*EXPORT_COMMODITIES, DRIFT_COMMODITY)}
        destination = {p.locode: REGION_PULL[p.region] for p in (*PORTS, DRIFT_PORT)}
        return cls(commodity=commodity, destination=destination)

    def adapt(self, detection: dict[str, dict[str, float]], adaptiveness: float, sensitivity: float = 8.0) -> "SmugglerState":
        """Next period's preferences given last period's detection rates (0..1) per option.

        ``detection`` maps a dimension (``"commodity"``, ``"destination"``, ``"exporter_type"``) to
        ``{option: rate}``. Each weight is multiplied by ``exp(-adaptiveness × sensitivity ×
        (rate − mean rate))`` and renormalised to the dimension's previous total, so contraband is
        displaced (not deterred) toward less-watched options. ``adaptiveness = 0`` changes nothing.
        """
        if not 0.0 <= adaptiveness <= 1.0:
            raise ValueError(f"adaptiveness must be in [0, 1], got {adaptiveness}")
        new = replace(self, exporter_shipments=self.exporter_shipments)
        for dim, rates in detection.items():
            weights = dict(getattr(self, dim))
            known = [o for o in rates if o in weights]
            if not known or adaptiveness == 0.0:
                setattr(new, dim, weights)
                continue
            r = np.array([rates[o] for o in known], dtype=float)
            w = np.array([weights[o] for o in known], dtype=float)
            mean = float(np.average(r, weights=w)) if w.sum() > 0 else float(r.mean())
            w2 = w * np.exp(-adaptiveness * sensitivity * (r - mean))
            w2 *= w.sum() / w2.sum() if w2.sum() > 0 else 1.0
            weights.update(dict(zip(known, w2.tolist())))
            setattr(new, dim, weights)
        return new


def _lookup(values: np.ndarray, table: dict[str, float], default: float) -> np.ndarray:
    return pd.Series(values, dtype="object").map(table).fillna(default).to_numpy(dtype=float)


def draw_contraband(
    commodity: np.ndarray,
    destination: np.ndarray,
    exporter_id: np.ndarray,
    reefer: np.ndarray,
    rng: np.random.Generator,
    state: SmugglerState,
    params: ContrabandParams = ContrabandParams(),
    front_company: np.ndarray | None = None,
) -> np.ndarray:
    """Cocaine kg per export container (0 for most), for one batch (e.g. a day) of containers.

    Inputs are equal-length arrays: commodity names (as in :data:`EXPORT_COMMODITIES`),
    destination port UN/LOCODEs, exporter ids, reefer flags (bool), and optionally
    ``front_company`` flags. Without flags an exporter is "front" while it has fewer than
    ``params.new_exporter_shipments`` earlier shipments (``state`` keeps the counts and is
    updated). The probability of a container is ``share × w / mean(w)`` within the batch, where
    ``w`` combines the state's commodity and destination weights and the reefer factor (relative
    within each exporter type), the exporter-type weight and the front/established mix
    (``front_share``); so the batch's expected
    number of loaded containers is ``share × n`` (minus clipping at probability 1).
    """
    n = len(commodity)
    if n == 0:
        return np.zeros(0)
    exporter_id = np.asarray(exporter_id).astype(str)
    if front_company is None:
        past = _lookup(exporter_id, {k: float(v) for k, v in state.exporter_shipments.items()}, 0.0)
        front = past < params.new_exporter_shipments
        counts = pd.Series(exporter_id).value_counts()
        merged = pd.Series(state.exporter_shipments, dtype="float64").add(counts, fill_value=0.0)
        state.exporter_shipments = merged.astype(int).to_dict()
    else:
        front = np.asarray(front_company, dtype=bool)
    wc = _lookup(np.asarray(commodity), state.commodity, 1.0)
    wd = _lookup(np.asarray(destination), state.destination, 1.0)
    wt = np.where(front, state.exporter_type["front"], state.exporter_type["established"])
    wr = np.where(np.asarray(reefer, dtype=bool), params.reefer_factor, 1.0)
    n_front = max(int(front.sum()), 1)
    n_est = max(n - int(front.sum()), 1)
    mix = np.where(front, params.front_share / n_front, (1.0 - params.front_share) / n_est) * n
    # within each exporter type, weights are relative (mean 1); front companies pick their cover
    # goods freely, so only the destination matters for them
    w_est = wc * wr * wd
    w_est = w_est / max(float(w_est[~front].mean()) if (~front).any() else 1.0, 1e-12)
    w_front = wd / max(float(wd[front].mean()) if front.any() else 1.0, 1e-12)
    w = np.where(front, w_front, w_est) * wt * mix
    mean = w.mean()
    p = np.clip(params.share * w / mean, 0.0, 1.0) if mean > 0 else np.zeros(n)
    loaded = rng.random(n) < p
    kg = np.exp(np.log(params.median_kg) + params.sigma_kg * rng.standard_normal(n))
    kg = np.where(front, kg * params.front_kg_factor, kg)
    return np.where(loaded, np.minimum(np.round(kg, 1), params.max_kg), 0.0)


def detection_rates(batch: pd.DataFrame, inspected: np.ndarray) -> dict[str, dict[str, float]]:
    """What smugglers observe after a period: per commodity, destination port and exporter type,
    the share of cocaine-loaded containers that were caught (or, for options with no loads, the
    share of containers inspected). ``batch`` needs ``commodity``, ``destination_port``,
    ``contraband_kg`` and ``exporter_type`` (``"front"``/``"established"``)."""
    df = pd.DataFrame({
        "commodity": batch["commodity"].to_numpy(), "destination": batch["destination_port"].to_numpy(),
        "exporter_type": batch["exporter_type"].to_numpy(), "inspected": np.asarray(inspected, dtype=float),
        "loaded": (batch["contraband_kg"].to_numpy() > 0).astype(float),
    })
    df["caught"] = df["inspected"] * df["loaded"]
    out: dict[str, dict[str, float]] = {}
    for dim in ("commodity", "destination", "exporter_type"):
        g = df.groupby(dim)[["inspected", "loaded", "caught"]].sum()
        n = df.groupby(dim).size()
        rate = np.where(g["loaded"] > 0, g["caught"] / g["loaded"].where(g["loaded"] > 0, 1), g["inspected"] / n)
        out[dim] = dict(zip(g.index.astype(str), rate.astype(float).tolist()))
    return out


def watch_profile(batch: pd.DataFrame, base_rate: float = 0.02) -> np.ndarray:
    """A simple fixed customs profile for standalone generation: inspection probability per
    container, ``base_rate`` scaled ×3 for Europe-bound, ×2 for new exporters, ×2 for coffee and
    canned asparagus (historically used cover goods)."""
    europe = batch["destination_country"].isin(["NL", "BE", "ES", "DE", "IT"]).to_numpy()
    new = (batch["exporter_type"] == "front").to_numpy()
    goods = batch["commodity"].isin(["coffee", "canned asparagus"]).to_numpy()
    return np.clip(base_rate * np.where(europe, 3.0, 1.0) * np.where(new, 2.0, 1.0) * np.where(goods, 2.0, 1.0), 0, 1)


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
