"""Cocaine in export containers and the smugglers who load it: :func:`draw_contraband` draws the
kilograms per container for a batch (e.g. a day), :class:`SmugglerState` carries their preferences
and :meth:`SmugglerState.adapt` shifts them toward what was less watched (``adaptiveness`` 0..1);
:func:`detection_rates` is what they observe. Used by the synthetic data and by the twin."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from callao.targeting.reference import DRIFT_COMMODITY, DRIFT_PORT, EXPORT_COMMODITIES, PORTS, REGION_PULL

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


def _lookup(values: np.ndarray | pd.Categorical, table: dict[str, float], default: float) -> np.ndarray:
    """``table[value]`` per row (``default`` where missing), looked up once per distinct value."""
    codes, uniques = _factorize(values)
    weights = np.array([table.get(u, default) for u in uniques] + [default], dtype=float)
    weights[np.isnan(weights)] = default
    return weights[codes]  # code -1 (a missing value) takes the default (last entry)


def _factorize(values: np.ndarray | pd.Categorical) -> tuple[np.ndarray, list]:
    """Integer codes (-1 for missing) and the distinct values, from a categorical's codes when
    given one (no per-row strings), else by hashing."""
    if isinstance(values, pd.Categorical):
        return values.codes.astype(np.int64), list(values.categories)
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return codes, list(uniques)


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
    if front_company is None:
        exporter_id = np.asarray(exporter_id).astype(str)
        past = _lookup(exporter_id, {k: float(v) for k, v in state.exporter_shipments.items()}, 0.0)
        front = past < params.new_exporter_shipments
        counts = pd.Series(exporter_id).value_counts()
        merged = pd.Series(state.exporter_shipments, dtype="float64").add(counts, fill_value=0.0)
        state.exporter_shipments = merged.astype(int).to_dict()
    else:
        front = np.asarray(front_company, dtype=bool)
    wc = _lookup(commodity, state.commodity, 1.0)
    wd = _lookup(destination, state.destination, 1.0)
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
    ``contraband_kg`` and ``exporter_type`` (``"front"``/``"established"``); columns may be
    categoricals. Options are listed in sorted order."""
    inspected = np.asarray(inspected, dtype=float)
    loaded = (np.asarray(batch["contraband_kg"], dtype=float) > 0).astype(float)
    caught = inspected * loaded
    out: dict[str, dict[str, float]] = {}
    for dim, col in (("commodity", "commodity"), ("destination", "destination_port"), ("exporter_type", "exporter_type")):
        column = batch[col]
        codes, uniques = _factorize(column.array if isinstance(column.dtype, pd.CategoricalDtype) else column.to_numpy())
        keep = codes >= 0  # rows with a missing option are not counted (as in a group-by)
        m = len(uniques)
        c = codes[keep]
        n = np.bincount(c, minlength=m).astype(float)
        insp = np.bincount(c, weights=inspected[keep], minlength=m)
        load = np.bincount(c, weights=loaded[keep], minlength=m)
        hit = np.bincount(c, weights=caught[keep], minlength=m)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(load > 0, hit / np.where(load > 0, load, 1.0), insp / n)
        labels = [str(u) for u in uniques]
        used = [i for i in np.argsort(np.array(labels, dtype=object), kind="stable") if n[i] > 0]
        out[dim] = {labels[i]: float(rate[i]) for i in used}
    return out
