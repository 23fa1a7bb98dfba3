"""Key performance indicators of a run: a flat mapping name → number (units in the names;
every name is documented with its unit in the README's KPI glossary)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from callao.results import hourly_mean, values
from callao.scenario import FLOWS

HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("teu_total", "Throughput", "{:,.0f} TEU"),
    ("vessel_calls_total", "Vessel calls", "{:,.0f}"),
    ("anchorage_wait_mean_h", "Anchorage wait (mean)", "{:.1f} h"),
    ("yard_dwell_import_mean_d", "Import dwell (mean)", "{:.1f} d"),
    ("customs_release_mean_h", "Customs release (mean)", "{:.1f} h"),
    ("gate_wait_mean_h", "Gate wait (mean)", "{:.2f} h"),
    ("civil_military_encounters", "Civil-military encounters", "{:,.0f}"),
    ("closure_hours", "Port closed", "{:,.0f} h"),
    ("detection_rate", "Cocaine loads found", "{:.0%}"),
    ("seized_kg", "Cocaine seized", "{:,.0f} kg"),
)
"""The KPIs shown first, in the CLI and the report: (name, label, format)."""

PLANNING_OCCUPANCY = 0.80
"""Berth occupancy a planner accepts for a multi-berth container quay (the >80% at Callao's Muelle
Sur is reported as congested); quay capacity KPIs scale the run's throughput to it."""


def _within(t: pd.Series, H: float) -> np.ndarray:
    """Times in the horizon [0, H] (a spin-up lies before 0)."""
    t = t.to_numpy()
    return (t >= 0) & (t <= H)


def _mean(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def _pct(x, q: float) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.percentile(x, q)) if x.size else float("nan")


def compute_kpis(r) -> dict[str, float]:
    """All KPIs of a :class:`~callao.results.Results`, over the horizon [0, H) (a spin-up before
    hour 0 counts nowhere). Waiting-time KPIs exclude calls arriving in the warm-up; counts and
    throughput cover the whole horizon."""
    sc, v, H = r.scenario, r.vessels, r.horizon_h
    warm = sc.simulation.warmup_days * 24.0
    k: dict[str, float] = {}
    arrived = (v["t_arrival"] >= 0) & (v["t_arrival"] < H)
    measured = arrived & (v["t_arrival"] >= warm)
    k["vessel_calls_total"] = int(arrived.sum())
    for t in sc.terminals:
        k[f"vessel_calls_{t.name}"] = int((arrived & (v["terminal"] == t.name)).sum())
    m = v[measured]
    k["anchorage_wait_mean_h"] = _mean(m["t_channel_in"] - m["t_arrival"])
    k["anchorage_wait_p90_h"] = _pct(m["t_channel_in"] - m["t_arrival"], 90)
    k["berth_wait_mean_h"] = _mean(m["t_berth_assigned"] - m["t_arrival"])
    k["berth_time_mean_h"] = _mean(m["t_unberth"] - m["t_berth"])
    k["turnaround_mean_h"] = _mean(m["t_depart"] - m["t_arrival"])
    k["berth_productivity_mean_mph"] = _mean(m["moves"] / (m["t_handling_end"] - m["t_handling_start"]))
    occ = r.berth_occupancy.iloc[int(warm):]
    for t in sc.terminals:
        k[f"berth_occupancy_{t.name}"] = float(occ[t.name].mean())
    home = v["port"] == sc.home_port
    k["civil_military_encounters"] = int(v.loc[arrived & home, "naval_encounters"].sum())
    k["naval_movements"] = int(((r.naval["start_h"] >= 0) & (r.naval["start_h"] < H) & (r.naval["port"] == sc.home_port)).sum())
    k["naval_delay_h_total"] = float(v.loc[arrived & home, "naval_delay_h"].sum())
    for port in sc.port_names:
        cl = r.closures[r.closures["port"] == port]
        suffix = "" if port == sc.home_port else f"_{port}"
        k[f"closure_events{suffix}"] = int(((cl["start_h"] < H) & (cl["end_h"] > 0)).sum())
        k[f"closure_hours{suffix}"] = float((np.minimum(cl["end_h"], H) - np.maximum(cl["start_h"], 0)).clip(lower=0).sum())
    k["closure_delay_h_total"] = float(v.loc[arrived, "closure_delay_h"].sum())
    k.update(_backlog(r))
    if len(sc.port_names) > 1:
        for port in sc.port_names:
            mp = m[m["port"] == port]
            k[f"vessel_calls_port_{port}"] = int((arrived & (v["port"] == port)).sum())
            k[f"anchorage_wait_mean_h_{port}"] = _mean(mp["t_channel_in"] - mp["t_arrival"])
    if (v["alternatives"] != "").any():
        diverted = arrived & (v["terminal"] != v["planned_terminal"])
        k["diverted_calls"] = int(diverted.sum())
        k["diverted_call_share"] = float(diverted.sum() / max(int((arrived & (v["alternatives"] != "")).sum()), 1))
    k["transship_unmatched_moves"] = int((v["n_transship_out"] - v["n_transship_out_actual"]).clip(lower=0).sum())
    if r.containers is not None:
        k.update(_container_kpis(r))
    return k


def _backlog(r) -> dict[str, float]:
    """Vessels waiting at the home port's anchorage, and how long the worst closure took to clear:
    days from its end until the queue is back to its median level before the closure."""
    sc, v, H = r.scenario, r.vessels, r.horizon_h
    home = (v["port"] == sc.home_port).to_numpy()
    n = int(np.ceil(H))
    queue = hourly_mean(v["t_arrival"].to_numpy()[home], v["t_channel_in"].to_numpy()[home],
                        np.ones(int(home.sum())), n)
    k = {"anchorage_queue_mean_vessels": float(queue.mean()),
         "anchorage_queue_peak_vessels": float(queue.max()) if n else 0.0}
    recovery = 0.0
    cl = r.closures[(r.closures["port"] == sc.home_port) & (r.closures["end_h"] < H) & (r.closures["start_h"] >= 0)]
    for start, end in zip(cl["start_h"], cl["end_h"]):
        before = queue[max(int(start) - 30 * 24, 0):int(start)]
        normal = float(np.median(before)) if before.size else 0.0
        after = np.flatnonzero(queue[int(end):] <= normal + 0.5)
        days = (after[0] if after.size else n - int(end)) / 24.0
        recovery = max(recovery, days)
    k["closure_recovery_days_max"] = recovery
    return k


def _container_kpis(r) -> dict[str, float]:
    sc, c, H = r.scenario, r.containers, r.horizon_h
    k: dict[str, float] = {}
    teu = c["teu"].to_numpy(float)
    discharged = _within(c["t_discharge"], H)
    loaded = _within(c["t_load"], H)
    term = values(c["terminal"])
    k["containers_total"] = int((discharged | loaded).sum())
    k["moves_total"] = int(discharged.sum() + loaded.sum())
    k["teu_total"] = float(teu[discharged].sum() + teu[loaded].sum())
    for t in sc.terminals:
        sel = term == t.name
        k[f"teu_{t.name}"] = float(teu[discharged & sel].sum() + teu[loaded & sel].sum())
    for t in sc.terminals:
        occ = r.berth_occupancy[t.name].mean()
        k[f"quay_capacity_teu_{t.name}"] = float(k[f"teu_{t.name}"] * PLANNING_OCCUPANCY / occ) if occ > 0 else 0.0
    k["quay_capacity_teu_total"] = float(sum(k[f"quay_capacity_teu_{t.name}"] for t in sc.terminals))
    v = r.vessels
    if (v["alternatives"] != "").any():
        diverted = (v["terminal"] != v["planned_terminal"]).to_numpy()
        on_diverted = np.where(c["vessel_in"].to_numpy() >= 0, diverted[c["vessel_in"].to_numpy()] & discharged, False)
        on_diverted_out = np.where(c["vessel_out"].to_numpy() >= 0, diverted[c["vessel_out"].to_numpy()] & loaded, False)
        k["diverted_teu"] = float(teu[on_diverted].sum() + teu[on_diverted_out].sum())
    if len(sc.port_names) > 1:
        port_of = {t.name: t.port for t in sc.terminals}
        port = np.array([port_of[x] for x in term], dtype=object) if len(term) else term
        for p in sc.port_names:
            sel = port == p
            k[f"teu_port_{p}"] = float(teu[discharged & sel].sum() + teu[loaded & sel].sum())
    flow = values(c["flow"])
    left = _within(c["t_yard_out"], H)
    dwell_d = (c["t_yard_out"] - c["t_yard_in"]).to_numpy() / 24.0
    for f in FLOWS:
        k[f"yard_dwell_{f}_mean_d"] = _mean(dwell_d[left & (flow == f)])
    yard = r.yard_teu
    for t in sc.terminals:
        k[f"yard_occupancy_mean_teu_{t.name}"] = float(yard[t.name].mean())
        k[f"yard_occupancy_peak_teu_{t.name}"] = float(yard[t.name].max())
        k[f"yard_utilisation_{t.name}"] = float(yard[t.name].mean() / t.yard_capacity_teu)
    imp = (flow == "import") & _within(c["t_customs_release"], H)
    arrival = r.vessels["t_berth"].to_numpy()[c["vessel_in"].to_numpy()[imp]]
    k["customs_release_mean_h"] = _mean(c["t_customs_release"].to_numpy()[imp] - arrival)
    ch = values(c["customs_channel"])
    done = _within(c["t_customs_release"], H)
    for name, label in (("orange", "scans"), ("red", "exams")):
        sel = (ch == name) & done
        k[f"customs_{label}"] = int(sel.sum())
        k[f"customs_{label[:-1]}_wait_mean_h"] = _mean(
            (c["t_inspection_start"] - c["t_customs_request"]).to_numpy()[sel])
    cus = sc.customs
    pools = sc.inspection_pools()
    scanners = sum(p[1] for p in pools)
    exams_per_day = sum(p[2] for p in pools)
    k["scanner_utilisation"] = float(((ch == "orange") & done).sum() / (scanners * cus.scans_per_hour * H))
    k["exam_team_utilisation"] = float(((ch == "red") & done).sum() / (exams_per_day / 24.0 * H))
    insp = np.isin(ch, ["orange", "red"]) & done
    k["customs_added_dwell_mean_h"] = _mean((c["t_customs_release"] - c["t_customs_request"]).to_numpy()[insp])
    if "contraband_kg" in c.columns:
        k.update(_targeting_kpis(c, flow, ch, _within(c["t_customs_request"], H)))
    k["exports_customs_late"] = int((c["customs_late"].to_numpy() & loaded).sum())
    k["exports_late_gate"] = int((c["late_gate"].to_numpy() & loaded).sum())
    trucks = r.gate_trucks
    k["gate_trucks_per_day_mean"] = float(trucks.sum() / (H / 24.0))
    k["gate_trucks_peak_hour"] = int(trucks.max()) if len(trucks) else 0
    gated = (c["t_gate"].to_numpy() >= 0) & (c["t_gate"].to_numpy() < H)
    k["gate_wait_mean_h"] = _mean(c["gate_wait_h"].to_numpy()[gated])
    k["gate_wait_p95_h"] = _pct(c["gate_wait_h"].to_numpy()[gated], 95)
    if "dual_cycle" in c.columns:
        k.update(_truck_visit_kpis(sc, c, gated, H))
    out_truck = np.isin(flow, ["import", "empty_in"]) & left
    k["corridor_time_mean_h"] = _mean((c["t_lima"] - c["t_yard_out"]).to_numpy()[out_truck])
    return k



def _truck_visit_kpis(sc, c: pd.DataFrame, gated: np.ndarray, H: float) -> dict[str, float]:
    """Truck visits (a dual cycle brings one box and takes one: one visit), their waits, and the
    queue at the gates against the staging area (antepuerto): trucks beyond it wait on the road."""
    visit = gated & ~c["dual_cycle"].to_numpy()
    arrive = c["t_gate"].to_numpy()[visit]
    start = arrive + c["gate_wait_h"].to_numpy()[visit]
    queue = hourly_mean(arrive, start, np.ones(arrive.size), int(np.ceil(H)))
    road = np.maximum(queue - sc.gate.staging_trucks, 0.0)
    return {
        "gate_truck_visits_per_day_mean": float(visit.sum() / (H / 24.0)),
        "gate_dual_cycle_share": float(c["dual_cycle"].to_numpy()[gated].sum() / max(int(visit.sum()), 1)),
        "gate_wait_max_h": float((start - arrive).max()) if arrive.size else 0.0,
        "gate_queue_peak_trucks": float(queue.max()) if queue.size else 0.0,
        "gate_road_queue_hours": float((road > 0.5).sum()),
    }


def _targeting_kpis(c: pd.DataFrame, flow: np.ndarray, ch: np.ndarray, requested: np.ndarray) -> dict[str, float]:
    """Security KPIs of export targeting (export boxes declared within the horizon)."""
    exp = (flow == "export") & requested
    kg = c["contraband_kg"].to_numpy()
    loaded = exp & (kg > 0)
    found = c["found"].to_numpy() & exp
    inspected = exp & np.isin(ch, ["orange", "red"])
    clean = exp & ~loaded
    shipped = float(kg[loaded].sum())
    return {
        "export_scans": int((exp & (ch == "orange")).sum()),
        "export_exams": int((exp & (ch == "red")).sum()),
        "contraband_containers": int(loaded.sum()),
        "detection_hits": int(found.sum()),
        "detection_rate": float(found.sum() / loaded.sum()) if loaded.any() else float("nan"),
        "seized_kg": float(kg[found].sum()),
        "shipped_kg": shipped,
        "seized_kg_share": float(kg[found].sum() / shipped) if shipped else float("nan"),
        "inspection_hit_rate": float(found.sum() / inspected.sum()) if inspected.any() else float("nan"),
        "false_positive_rate": float((inspected & clean).sum() / clean.sum()) if clean.any() else float("nan"),
        "export_inspection_added_dwell_mean_h": _mean(
            (c["t_customs_release"] - c["t_customs_request"]).to_numpy()[inspected]),
    }
