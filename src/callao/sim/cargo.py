"""Container records from vessel calls: one row per box, vectorised (no per-container Python)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from callao.scenario import FLOWS, Scenario

SIZES = (20, 40)


def _uniform_in(start: np.ndarray, end: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return start + rng.random(start.size) * (end - start)


def _draw(shares: dict[str, float], n: int, rng: np.random.Generator, categories: list[str]) -> np.ndarray:
    """Codes into ``categories`` of ``n`` draws from ``shares`` (name -> share)."""
    codes = np.array([categories.index(k) for k in shares], dtype=np.int16)
    p = np.array(list(shares.values()), dtype=float)
    return codes[rng.choice(codes.size, size=n, p=p / p.sum())]


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=categories)


def build_containers(scenario: Scenario, vessels: pd.DataFrame,
                     transshipments: tuple[np.ndarray, np.ndarray], rng: np.random.Generator) -> pd.DataFrame:
    """One row per container moved over the quay, with what it is and when it crossed the quay.

    Columns: container_id, terminal, flow, size_ft, teu, reefer, commodity, region (trade region of
    the sea leg), destination (port, for boxes loaded here), vessel_in / vessel_out (-1: by truck),
    ``transshipments`` is (vessel_in, vessel_out) per transshipment box (-1: not loaded yet);
    t_discharge / t_load (hours; NaN where not applicable or not (yet) loaded).
    """
    hs = vessels["t_handling_start"].to_numpy()
    he = vessels["t_handling_end"].to_numpy()
    cargo = scenario.cargo
    terminals = [t.name for t in scenario.terminals]
    regions = sorted(set(vessels["region"]) | set(cargo.destinations))
    terminal = pd.Categorical(vessels["terminal"], categories=terminals).codes
    region = pd.Categorical(vessels["region"], categories=regions).codes
    parts = []
    for f, flow in enumerate(FLOWS):
        if flow == "transship":
            v_in, v_out = transshipments
        else:
            v = np.repeat(vessels["vessel_id"].to_numpy(np.int32), vessels["n_" + flow].to_numpy())
            inbound = flow in ("import", "empty_in")
            v_in = v if inbound else np.full(v.size, -1, np.int32)
            v_out = np.full(v.size, -1, np.int32) if inbound else v
        has_in, has_out = v_in >= 0, v_out >= 0
        t_dis = np.full(v_in.size, np.nan)
        t_dis[has_in] = _uniform_in(hs[v_in[has_in]], he[v_in[has_in]], rng)
        t_load = np.full(v_in.size, np.nan)
        t_load[has_out] = _uniform_in(hs[v_out[has_out]], he[v_out[has_out]], rng)
        carrier = np.where(has_in, v_in, v_out)
        parts.append((np.full(v_in.size, f, np.int8), v_in, v_out, t_dis, t_load, carrier,
                      np.where(has_out, v_out, v_in)))
    flow, v_in, v_out, t_dis, t_load, carrier, leg = (np.concatenate(x) for x in zip(*parts))
    n = flow.size
    size = np.where(rng.random(n) < cargo.forty_ft_share, 40, 20).astype(np.int8)
    commodities = ["import cargo", "empty", "transshipment",
                   *dict.fromkeys([*cargo.reefer_commodities, *cargo.export_commodities])]
    code = {name: FLOWS.index(name) for name in FLOWS}
    commodity = np.zeros(n, np.int16)  # import cargo
    commodity[(flow == code["empty_in"]) | (flow == code["empty_out"])] = 1
    commodity[flow == code["transship"]] = 2
    reefer = np.zeros(n, bool)
    imp = flow == code["import"]
    reefer[imp] = rng.random(int(imp.sum())) < cargo.reefer_share_import
    exp = np.flatnonzero(flow == code["export"])
    exp_reefer = rng.random(exp.size) < cargo.reefer_share_export
    reefer[exp] = exp_reefer
    commodity[exp[exp_reefer]] = _draw(cargo.reefer_commodities, int(exp_reefer.sum()), rng, commodities)
    commodity[exp[~exp_reefer]] = _draw(cargo.export_commodities, int((~exp_reefer).sum()), rng, commodities)
    ports = ["", *dict.fromkeys(p for d in cargo.destinations.values() for p in d)]
    destination = np.zeros(n, np.int16)
    leg_region = region[leg] if n else np.empty(0, np.int8)
    for reg, shares in cargo.destinations.items():
        sel = np.flatnonzero((v_out >= 0) & (leg_region == regions.index(reg)))
        destination[sel] = _draw(shares, sel.size, rng, ports)
    return pd.DataFrame({
        "container_id": np.arange(n, dtype=np.int64),
        "terminal": _categorical(terminal[carrier] if n else np.empty(0, np.int8), terminals),
        "flow": _categorical(flow, list(FLOWS)),
        "vessel_in": v_in, "vessel_out": v_out, "t_discharge": t_dis, "t_load": t_load,
        "region": _categorical(leg_region, regions),
        "size_ft": size, "teu": (size // 20).astype(np.int8), "reefer": reefer,
        "commodity": _categorical(commodity, commodities),
        "destination": _categorical(destination, ports),
    }, copy=False)  # the arrays are this table's alone: no copy into consolidated blocks
