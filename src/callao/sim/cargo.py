"""Container records from vessel calls: one row per box, vectorised (no per-container Python)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from callao.scenario import FLOWS, Scenario

SIZES = (20, 40)


def _uniform_in(start: np.ndarray, end: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return start + rng.random(start.size) * (end - start)


def _draw(shares: dict[str, float], n: int, rng: np.random.Generator) -> np.ndarray:
    names = np.array(list(shares), dtype=object)
    p = np.array(list(shares.values()), dtype=float)
    return names[rng.choice(names.size, size=n, p=p / p.sum())]


def build_containers(scenario: Scenario, vessels: pd.DataFrame, transship_log: list,
                     transship_out: dict[int, int], rng: np.random.Generator) -> pd.DataFrame:
    """One row per container moved over the quay, with what it is and when it crossed the quay.

    Columns: container_id, terminal, flow, size_ft, teu, reefer, commodity, region (trade region of
    the sea leg), destination (port, for boxes loaded here), vessel_in / vessel_out (-1: by truck),
    t_discharge / t_load (hours; NaN where not applicable or not (yet) loaded).
    """
    hs = vessels["t_handling_start"].to_numpy()
    he = vessels["t_handling_end"].to_numpy()
    region = vessels["region"].to_numpy().astype(object)
    terminal = vessels["terminal"].to_numpy().astype(object)
    parts = []
    for flow in FLOWS:
        if flow == "transship":
            log = np.array([(b, v) for b, _, v, _ in transship_log], dtype=np.int64).reshape(-1, 2)
            v_in = log[:, 1].astype(np.int32)
            v_out = np.array([transship_out.get(int(b), -1) for b in log[:, 0]], dtype=np.int32)
        else:
            col = "n_" + flow
            v = np.repeat(vessels["vessel_id"].to_numpy(np.int32), vessels[col].to_numpy())
            inbound = flow in ("import", "empty_in")
            v_in = v if inbound else np.full(v.size, -1, np.int32)
            v_out = np.full(v.size, -1, np.int32) if inbound else v
        n = v_in.size
        has_in, has_out = v_in >= 0, v_out >= 0
        t_dis = np.full(n, np.nan)
        t_dis[has_in] = _uniform_in(hs[v_in[has_in]], he[v_in[has_in]], rng)
        t_load = np.full(n, np.nan)
        t_load[has_out] = _uniform_in(hs[v_out[has_out]], he[v_out[has_out]], rng)
        carrier = np.where(has_in, v_in, v_out)
        parts.append(pd.DataFrame({
            "terminal": terminal[carrier] if n else np.empty(0, object),
            "flow": flow, "vessel_in": v_in, "vessel_out": v_out,
            "t_discharge": t_dis, "t_load": t_load,
            "region": region[np.where(has_out, v_out, v_in)] if n else np.empty(0, object),
        }))
    c = pd.concat(parts, ignore_index=True)
    n = len(c)
    cargo = scenario.cargo
    size = np.where(rng.random(n) < cargo.forty_ft_share, 40, 20).astype(np.int8)
    flow = c["flow"].to_numpy()
    reefer = np.zeros(n, bool)
    commodity = np.full(n, "", dtype=object)
    commodity[flow == "import"] = "import cargo"
    commodity[np.isin(flow, ["empty_in", "empty_out"])] = "empty"
    commodity[flow == "transship"] = "transshipment"
    imp = flow == "import"
    reefer[imp] = rng.random(imp.sum()) < cargo.reefer_share_import
    exp = np.flatnonzero(flow == "export")
    exp_reefer = rng.random(exp.size) < cargo.reefer_share_export
    reefer[exp] = exp_reefer
    commodity[exp[exp_reefer]] = _draw(cargo.reefer_commodities, int(exp_reefer.sum()), rng)
    commodity[exp[~exp_reefer]] = _draw(cargo.export_commodities, int((~exp_reefer).sum()), rng)
    destination = np.full(n, "", dtype=object)
    loaded = c["vessel_out"].to_numpy() >= 0
    for reg, ports in cargo.destinations.items():
        sel = np.flatnonzero(loaded & (c["region"].to_numpy() == reg))
        destination[sel] = _draw(ports, sel.size, rng)
    c.insert(0, "container_id", np.arange(n, dtype=np.int64))
    c["size_ft"] = size
    c["teu"] = (size // 20).astype(np.int8)
    c["reefer"] = reefer
    c["commodity"] = commodity
    c["destination"] = destination
    return c
