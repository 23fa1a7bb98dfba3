"""Key performance indicators of a run: a flat mapping name → number (units in the names;
every name is documented with its unit in the README's KPI glossary)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from callao.scenario import FLOWS, Scenario
from callao.tables import hourly_mean

if TYPE_CHECKING:  # for the annotations only: results imports this module
    from callao.results import Results
    from callao.summary import Summary

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

@dataclass(frozen=True)
class KpiInfo:
    """How a KPI is shown to people: a label, a unit, and whether the value is a share (0-1)
    shown in per cent. Read by the CLI, the report and the dashboard."""

    label: str
    unit: str  # "%", "h", "d", "TEU", "kg", ... or "" for a plain count
    share: bool = False

    def value(self, x: float) -> float:
        """The value in the unit shown (shares become per cent)."""
        return 100.0 * x if self.share else x

    def format(self, x: float | None) -> str:
        """``x`` with its unit, e.g. "12.3 h", "84%", "1,234 TEU"; "–" when missing or not finite."""
        try:
            v = self.value(float(x))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return "–"
        if not np.isfinite(v):
            return "–"
        if self.share:
            return f"{v:.0f}%"
        digits = 0 if abs(v) >= 100 or v == int(v) else (1 if abs(v) >= 1 else 2)
        return f"{v:,.{digits}f}" + (f" {self.unit}" if self.unit else "")

    @property
    def title(self) -> str:
        """Label with its unit, for axes and table headers: "Anchorage wait (mean), h"."""
        return f"{self.label}, {self.unit}" if self.unit else self.label


KPI_INFO: dict[str, tuple[str, str]] = {
    "teu_total": ("Throughput", "TEU"),
    "moves_total": ("Quay moves", ""),
    "containers_total": ("Containers", ""),
    "quay_capacity_teu_total": ("Quay capacity at 80% occupancy", "TEU"),
    "vessel_calls_total": ("Vessel calls", ""),
    "anchorage_wait_mean_h": ("Anchorage wait (mean)", "h"),
    "anchorage_wait_p90_h": ("Anchorage wait (90th percentile)", "h"),
    "berth_wait_mean_h": ("Wait for a berth (mean)", "h"),
    "berth_time_mean_h": ("Time at berth (mean)", "h"),
    "turnaround_mean_h": ("Turnaround (mean)", "h"),
    "berth_productivity_mean_mph": ("Berth productivity (mean)", "moves/h"),
    "civil_military_encounters": ("Civil-military encounters", ""),
    "naval_movements": ("Naval movements", ""),
    "naval_delay_h_total": ("Delay from naval movements", "vessel-h"),
    "closure_events": ("Port closures", ""),
    "closure_hours": ("Port closed", "h"),
    "closure_delay_h_total": ("Delay from closures", "vessel-h"),
    "anchorage_queue_mean_vessels": ("Ships waiting at anchor (mean)", "ships"),
    "anchorage_queue_peak_vessels": ("Ships waiting at anchor (peak)", "ships"),
    "closure_recovery_days_max": ("Longest recovery after a closure", "d"),
    "diverted_calls": ("Calls diverted to another terminal", ""),
    "diverted_call_share": ("Calls diverted", "%"),
    "diverted_teu": ("TEU on diverted calls", "TEU"),
    "transship_unmatched_moves": ("Transshipment loads without a box", ""),
    "customs_release_mean_h": ("Customs release (mean)", "h"),
    "customs_scans": ("Scans", ""),
    "customs_exams": ("Physical exams", ""),
    "customs_scan_wait_mean_h": ("Wait for a scanner (mean)", "h"),
    "customs_exam_wait_mean_h": ("Wait for an exam team (mean)", "h"),
    "customs_added_dwell_mean_h": ("Inspection delay (mean)", "h"),
    "scanner_utilisation": ("Scanner utilisation", "%"),
    "exam_team_utilisation": ("Exam team utilisation", "%"),
    "export_scans": ("Export scans", ""),
    "export_exams": ("Export physical exams", ""),
    "contraband_containers": ("Boxes carrying cocaine", ""),
    "detection_hits": ("Loaded boxes found", ""),
    "detection_rate": ("Cocaine loads found", "%"),
    "seized_kg": ("Cocaine seized", "kg"),
    "shipped_kg": ("Cocaine shipped", "kg"),
    "seized_kg_share": ("Cocaine seized, share of shipped", "%"),
    "inspection_hit_rate": ("Inspections that found cocaine", "%"),
    "false_positive_rate": ("Clean export boxes inspected", "%"),
    "export_inspection_added_dwell_mean_h": ("Export inspection delay (mean)", "h"),
    "exports_customs_late": ("Exports released after loading time", ""),
    "exports_late_gate": ("Exports gated after loading time", ""),
    "gate_trucks_per_day_mean": ("Gate trucks per day (mean)", "trucks"),
    "gate_trucks_peak_hour": ("Gate trucks in the busiest hour", "trucks"),
    "gate_wait_mean_h": ("Gate wait (mean)", "h"),
    "gate_wait_p95_h": ("Gate wait (95th percentile)", "h"),
    "corridor_time_mean_h": ("Gate to Lima (mean)", "h"),
}
"""Label and unit of every KPI with a fixed name (unit "%": a share 0-1 shown in per cent)."""

KPI_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("anchorage_wait_mean_h_", "Anchorage wait (mean), {}", "h"),
    ("berth_occupancy_", "Berth occupancy, {}", "%"),
    ("closure_events_", "Port closures, {}", ""),
    ("closure_hours_", "Port closed, {}", "h"),
    ("quay_capacity_teu_", "Quay capacity at 80% occupancy, {}", "TEU"),
    ("teu_port_", "Throughput, {}", "TEU"),
    ("teu_", "Throughput, {}", "TEU"),
    ("vessel_calls_port_", "Vessel calls, {}", ""),
    ("vessel_calls_", "Vessel calls, {}", ""),
    ("yard_occupancy_mean_teu_", "Yard stock (mean), {}", "TEU"),
    ("yard_occupancy_peak_teu_", "Yard stock (peak), {}", "TEU"),
    ("yard_utilisation_", "Yard utilisation, {}", "%"),
)
"""KPIs per terminal or port: (name prefix, label with a {} for the terminal or port, unit)."""

FLOW_NAMES = {"import": "Import", "export": "Export", "empty_in": "Empty-in", "empty_out": "Empty-out",
              "transship": "Transshipment"}


def kpi_info(name: str, names: dict[str, str] | None = None) -> KpiInfo:
    """How to show the KPI ``name``; ``names`` maps terminal and port names to display names
    (e.g. ``{"apmt": "APM Terminals Callao"}``). Unknown KPIs get a readable label from their name."""
    names = names or {}
    if name in KPI_INFO:
        label, unit = KPI_INFO[name]
        return KpiInfo(label, unit, unit == "%")
    if name.startswith("yard_dwell_") and name.endswith("_mean_d"):
        flow = name.removeprefix("yard_dwell_").removesuffix("_mean_d")
        return KpiInfo(f"{FLOW_NAMES.get(flow, flow)} dwell (mean)", "d")
    for prefix, label, unit in KPI_PATTERNS:
        if name.startswith(prefix) and len(name) > len(prefix):
            who = name.removeprefix(prefix)
            return KpiInfo(label.format(names.get(who, who)), unit, unit == "%")
    for suffix, unit in (("_h", "h"), ("_d", "d"), ("_kg", "kg"), ("_teu", "TEU")):
        if name.endswith(suffix):
            return KpiInfo(name.removesuffix(suffix).replace("_", " ").capitalize(), unit)
    share = name.endswith(("_share", "_rate", "_utilisation"))
    return KpiInfo(name.replace("_", " ").capitalize(), "%" if share else "", share)


def display_names(scenario: Scenario) -> dict[str, str]:
    """Terminal and port names of a scenario → the names people know them by."""
    out = {p: p.capitalize() for p in scenario.port_names}
    out.update({t.name: t.label or t.name for t in scenario.terminals})
    return out


PLANNING_OCCUPANCY = 0.80
"""Berth occupancy a planner accepts for a multi-berth container quay (the >80% at Callao's Muelle
Sur is reported as congested); quay capacity KPIs scale the run's throughput to it."""


def _mean(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def _pct(x, q: float) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.percentile(x, q)) if x.size else float("nan")


def compute_kpis(r: Results) -> dict[str, float]:
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
    for kpi, col in (("pilot_wait_mean_h", "pilot_wait_h"), ("tug_wait_mean_h", "tug_wait_h"),
                     ("daylight_wait_mean_h", "daylight_delay_h")):
        if col in m.columns:
            k[kpi] = _mean(m[col])
    k["berth_productivity_mean_mph"] = _mean(m["moves"] / (m["t_handling_end"] - m["t_handling_start"]))
    occ = r.berth_occupancy.iloc[int(warm):]
    for t in sc.terminals:
        k[f"berth_occupancy_{t.name}"] = float(occ[t.name].mean())
    k.update(_crane_kpis(r, arrived))
    k["civil_military_encounters"] = int(v.loc[arrived, "naval_encounters"].sum())  # in every port
    k["naval_movements"] = int(((r.naval["start_h"] >= 0) & (r.naval["start_h"] < H)).sum())
    k["naval_delay_h_total"] = float(v.loc[arrived, "naval_delay_h"].sum())
    for port in sc.port_names:
        cl = r.closures[r.closures["port"] == port]
        suffix = "" if port == sc.home_port else f"_{port}"
        k[f"closure_events{suffix}"] = int(((cl["start_h"] < H) & (cl["end_h"] > 0)).sum())
        k[f"closure_hours{suffix}"] = float((np.minimum(cl["end_h"], H) - np.maximum(cl["start_h"], 0)).clip(lower=0).sum())
        k[f"closure_days_per_year{suffix}"] = k[f"closure_hours{suffix}"] / 24.0 / (H / 8760.0)
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
    if r.summary is not None:
        k.update(_container_kpis(r))
    return k


def _crane_kpis(r: Results, arrived: pd.Series) -> dict[str, float]:
    """Crane use per terminal: crane-hours worked over the pool's crane-hours, and how often a
    ship got fewer cranes than its deployment limit (the pool binding)."""
    sc, v, H = r.scenario, r.vessels, r.horizon_h
    k: dict[str, float] = {}
    if "crane_hours" not in v.columns:
        return k
    for t in sc.terminals:
        sel = arrived & (v["terminal"] == t.name)
        k[f"crane_utilisation_{t.name}"] = float(v.loc[sel, "crane_hours"].sum() / (t.cranes * H))
        k[f"crane_short_call_share_{t.name}"] = float(
            (v.loc[sel, "cranes_max"] < v.loc[sel, "crane_limit"]).mean()) if sel.any() else 0.0
    return k


def _backlog(r: Results) -> dict[str, float]:
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


def _container_kpis(r: Results) -> dict[str, float]:
    """Container KPIs, from the run's additive :class:`~callao.summary.Summary` only (the same
    numbers whether the rows are in memory or were written segment by segment)."""
    sc, s, H = r.scenario, r.summary, r.horizon_h
    add = s.sums
    k: dict[str, float] = {}
    k["containers_total"] = int(add["containers"])
    k["moves_total"] = int(add["discharged"] + add["loaded"])
    k["teu_total"] = float(add["teu_discharged"] + add["teu_loaded"])
    for t in sc.terminals:
        k[f"teu_{t.name}"] = float(add[f"teu_discharged:{t.name}"] + add[f"teu_loaded:{t.name}"])
    for t in sc.terminals:
        occ = r.berth_occupancy[t.name].mean()
        k[f"quay_capacity_teu_{t.name}"] = float(k[f"teu_{t.name}"] * PLANNING_OCCUPANCY / occ) if occ > 0 else 0.0
    k["quay_capacity_teu_total"] = float(sum(k[f"quay_capacity_teu_{t.name}"] for t in sc.terminals))
    for t in sc.terminals:
        if t.rated_capacity_teu_per_year:
            k[f"capacity_utilisation_{t.name}"] = k[f"teu_{t.name}"] / (H / 8760.0) / t.rated_capacity_teu_per_year
    if (r.vessels["alternatives"] != "").any():
        k["diverted_teu"] = float(add["teu_diverted_in"] + add["teu_diverted_out"])
    if len(sc.port_names) > 1:
        for p in sc.port_names:
            k[f"teu_port_{p}"] = float(add[f"teu_discharged_port:{p}"] + add[f"teu_loaded_port:{p}"])
    for f in FLOWS:
        k[f"yard_dwell_{f}_mean_d"] = s.mean(f"dwell_d:{f}")
    yard = r.yard_teu
    for t in sc.terminals:
        k[f"yard_occupancy_mean_teu_{t.name}"] = float(yard[t.name].mean())
        k[f"yard_occupancy_peak_teu_{t.name}"] = float(yard[t.name].max())
        k[f"yard_utilisation_{t.name}"] = float(yard[t.name].mean() / t.yard_capacity_teu)
    k["customs_release_mean_h"] = s.mean("customs_release_h")
    for label in ("scans", "exams"):
        k[f"customs_{label}"] = int(add[f"customs_{label}"])
        k[f"customs_{label[:-1]}_wait_mean_h"] = s.mean(f"customs_{label[:-1]}_wait_h")
    cus = sc.customs
    pools = sc.inspection_pools()
    scanners = sum(p[1] for p in pools)
    exams_per_day = sum(p[2] for p in pools)
    k["scanner_utilisation"] = float(add["customs_scans"] / (scanners * cus.scans_per_hour * H))
    k["exam_team_utilisation"] = float(add["customs_exams"] / (exams_per_day / 24.0 * H))
    k["customs_added_dwell_mean_h"] = s.mean("customs_added_dwell_h")
    if "contraband_containers" in add:
        k.update(_targeting_kpis(s))
    k["exports_customs_late"] = int(add["exports_customs_late"])
    k["exports_late_gate"] = int(add["exports_late_gate"])
    trucks = r.gate_trucks
    k["gate_trucks_per_day_mean"] = float(trucks.sum() / (H / 24.0))
    k["gate_trucks_peak_hour"] = int(trucks.max()) if len(trucks) else 0
    k["gate_wait_mean_h"] = s.mean("gate_wait_h")
    waits = s.sample("gate_wait_h")
    k["gate_wait_p95_h"] = float(np.percentile(waits, 95)) if waits.size else float("nan")
    if "gate_visits" in add:
        k.update(_truck_visit_kpis(sc, s, H))
    k["corridor_time_mean_h"] = s.mean("corridor_h")
    return k


def _truck_visit_kpis(sc, s: Summary, H: float) -> dict[str, float]:
    """Truck visits (a dual cycle brings one box and takes one: one visit), their waits, and the
    queue at the gates against the staging area (antepuerto): trucks beyond it wait on the road."""
    visits = s.sums["gate_visits"]
    queue = s.series["gate_queue"]
    road = np.maximum(queue - sc.gate.staging_trucks, 0.0)
    return {
        "gate_truck_visits_per_day_mean": float(visits / (H / 24.0)),
        "gate_dual_cycle_share": float(s.sums["gate_dual"] / max(int(visits), 1)),
        "gate_wait_max_h": s.maxima["gate_visit_wait_max_h"],
        "gate_queue_peak_trucks": float(queue.max()) if queue.size else 0.0,
        "gate_road_queue_hours": float((road > 0.5).sum()),
    }


def _targeting_kpis(s: Summary) -> dict[str, float]:
    """Security KPIs of export targeting (export boxes declared within the horizon)."""
    add = s.sums
    loaded, found, shipped = add["contraband_containers"], add["detection_hits"], add["shipped_kg"]
    inspected, clean = add["export_inspected"], add["export_clean"]
    return {
        "export_scans": int(add["export_scans"]),
        "export_exams": int(add["export_exams"]),
        "contraband_containers": int(loaded),
        "detection_hits": int(found),
        "detection_rate": float(found / loaded) if loaded else float("nan"),
        "seized_kg": float(add["seized_kg"]),
        "shipped_kg": shipped,
        "seized_kg_share": float(add["seized_kg"] / shipped) if shipped else float("nan"),
        "inspection_hit_rate": float(found / inspected) if inspected else float("nan"),
        "false_positive_rate": float(add["export_clean_inspected"] / clean) if clean else float("nan"),
        "export_inspection_added_dwell_mean_h": s.mean("export_inspection_added_dwell_h"),
    }
