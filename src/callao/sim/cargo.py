"""Container records from vessel calls: one row per box, vectorised (no per-container Python)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from callao.scenario import FLOWS, Scenario
from callao.sim.streams import choice_index

SIZES = (20, 40)


def _uniform_in(vessel: np.ndarray, start: np.ndarray, span: np.ndarray, out: np.ndarray,
                rng: np.random.Generator) -> None:
    """Into ``out``, where ``vessel`` >= 0: a uniform time in that call's handling window
    (``start`` + U * ``span``, hours), one draw per box in order; elsewhere ``out`` is left as it is."""
    has = vessel >= 0
    if has.all():
        np.multiply(rng.random(vessel.size), span[vessel], out=out)
        out += start[vessel]  # start + U * span, to the bit (addition commutes)
    else:
        v = vessel[has]
        out[has] = start[v] + rng.random(v.size) * span[v]


def _draw(shares: dict[str, float], n: int, rng: np.random.Generator, categories: list[str]) -> np.ndarray:
    """Codes into ``categories`` of ``n`` draws from ``shares`` (name -> share)."""
    codes = np.array([categories.index(k) for k in shares], dtype=np.int16)
    p = np.array(list(shares.values()), dtype=float)
    return codes[choice_index(rng, p / p.sum(), n)]


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    """Codes known to be in range (built here) as a categorical column, without a validating pass."""
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories), validate=False)


def build_containers(scenario: Scenario, vessels: pd.DataFrame,
                     transshipments: tuple[np.ndarray, np.ndarray], rng: np.random.Generator) -> pd.DataFrame:
    """One row per container moved over the quay, with what it is and when it crossed the quay.

    Columns: container_id, terminal, flow, size_ft, teu, reefer, commodity, region (trade region of
    the sea leg), destination (port, for boxes loaded here), vessel_in / vessel_out (-1: by truck),
    ``transshipments`` is (vessel_in, vessel_out) per transshipment box (-1: not loaded yet);
    t_discharge / t_load (hours; NaN where not applicable or not (yet) loaded).

    The rows come flow by flow in :data:`~callao.scenario.FLOWS` order, so each flow is one slice
    of the table: every column is allocated once at full size and filled slice by slice.
    """
    hs = vessels["t_handling_start"].to_numpy()
    span = vessels["t_handling_end"].to_numpy() - hs  # (he - hs)[v] is he[v] - hs[v] to the bit
    cargo = scenario.cargo
    terminals = [t.name for t in scenario.terminals]
    regions = sorted(set(vessels["region"]) | set(cargo.destinations))
    terminal = pd.Categorical(vessels["terminal"], categories=terminals).codes
    region = pd.Categorical(vessels["region"], categories=regions).codes
    vessel_id = vessels["vessel_id"].to_numpy(np.int32)
    counts = [transshipments[0].size if flow == "transship" else int(vessels["n_" + flow].sum()) for flow in FLOWS]
    bounds = np.concatenate([[0], np.cumsum(counts)]).tolist()
    rows = {flow: slice(bounds[f], bounds[f + 1]) for f, flow in enumerate(FLOWS)}
    n = bounds[-1]
    flow = np.empty(n, np.int8)
    v_in = np.full(n, -1, np.int32)
    v_out = np.full(n, -1, np.int32)
    t_dis = np.full(n, np.nan)
    t_load = np.full(n, np.nan)
    for f, name in enumerate(FLOWS):
        here = rows[name]
        flow[here] = f
        if name == "transship":
            v_in[here], v_out[here] = transshipments
            _uniform_in(v_in[here], hs, span, t_dis[here], rng)
            _uniform_in(v_out[here], hs, span, t_load[here], rng)
            continue
        v = np.repeat(vessel_id, vessels["n_" + name].to_numpy())
        if name in ("import", "empty_in"):
            v_in[here] = v
            _uniform_in(v, hs, span, t_dis[here], rng)
        else:
            v_out[here] = v
            _uniform_in(v, hs, span, t_load[here], rng)
    has_in = v_in >= 0
    carrier = np.where(has_in, v_in, v_out)  # the call that brought the box, else the one taking it
    leg = np.where(v_out >= 0, v_out, v_in)  # the sea leg: onward if loaded here, else inbound
    size = np.where(rng.random(n) < cargo.forty_ft_share, np.int8(40), np.int8(20))
    commodities = ["import cargo", "empty", "transshipment",
                   *dict.fromkeys([*cargo.reefer_commodities, *cargo.export_commodities])]
    commodity = np.zeros(n, np.int16)  # import cargo
    commodity[rows["empty_in"]] = 1
    commodity[rows["empty_out"]] = 1
    commodity[rows["transship"]] = 2
    reefer = np.zeros(n, bool)
    imp = rows["import"]
    reefer[imp] = rng.random(imp.stop - imp.start) < cargo.reefer_share_import
    exp = rows["export"]
    exp_reefer = rng.random(exp.stop - exp.start) < cargo.reefer_share_export
    reefer[exp] = exp_reefer
    exp_commodity = commodity[exp]  # a view
    exp_commodity[exp_reefer] = _draw(cargo.reefer_commodities, int(exp_reefer.sum()), rng, commodities)
    exp_commodity[~exp_reefer] = _draw(cargo.export_commodities, int((~exp_reefer).sum()), rng, commodities)
    ports = ["", *dict.fromkeys(p for d in cargo.destinations.values() for p in d)]
    destination = np.zeros(n, np.int16)
    leg_region = region[leg] if n else np.empty(0, np.int8)
    loaded_region = np.where(v_out >= 0, leg_region, np.int8(-1))  # the region of boxes loaded here
    for reg, shares in cargo.destinations.items():
        sel = np.flatnonzero(loaded_region == regions.index(reg))
        destination[sel] = _draw(shares, sel.size, rng, ports)
    return pd.DataFrame({
        "container_id": np.arange(n, dtype=np.int64),
        "terminal": _categorical(terminal[carrier] if n else np.empty(0, np.int8), terminals),
        "flow": _categorical(flow, list(FLOWS)),
        "vessel_in": v_in, "vessel_out": v_out, "t_discharge": t_dis, "t_load": t_load,
        "region": _categorical(leg_region, regions),
        "size_ft": size, "teu": size // np.int8(20), "reefer": reefer,
        "commodity": _categorical(commodity, commodities),
        "destination": _categorical(destination, ports),
    }, copy=False)  # the arrays are this table's alone: no copy into consolidated blocks
