"""Yard, customs, gate and corridor: pure, vectorised stages from quay times to Lima and back.

Order of the data path (acyclic): export trucks' gate arrival (from loading time − dwell) →
customs requests (imports at discharge + paperwork, exports at the gate) → scanner and exam
queues → import release → import pick-up wish → all trucks through the gate queue → yard in/out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from callao.scenario import Scenario
from callao.scenario.model import Channels
from callao.results import values
from callao.sim.inspection import export_capacity_per_day, target_exports
from callao.sim.queues import fifo_wait
from callao.sim.streams import Streams

CHANNELS = ("none", "green", "orange", "red")
EXPORT_CUTOFF_H = 2.0
"""Latest a truck may bring an export box before its loading time, hours."""


def snap_to_profile(t: np.ndarray, profile: list[float], rng: np.random.Generator,
                    not_before: np.ndarray | None = None, not_after: np.ndarray | None = None) -> np.ndarray:
    """Move each time to a random hour of the same day, drawn from the hour-of-day ``profile``,
    then a day later (``not_before``) or earlier (``not_after``) if that breaks the bound."""
    p = np.asarray(profile, float)
    hour = rng.choice(24, size=t.size, p=p / p.sum())
    out = np.floor(t / 24.0) * 24.0 + hour + rng.random(t.size)
    if not_before is not None:
        out = np.where(out < not_before, out + 24.0, out)
        out = np.maximum(out, not_before)
    if not_after is not None:
        out = np.where(out > not_after, out - 24.0, out)
        out = np.minimum(out, not_after)
    return out


def _channels(shares: Channels, n: int, rng: np.random.Generator) -> np.ndarray:
    p = [shares.green, shares.orange, shares.red]
    return rng.choice(np.array([1, 2, 3], np.int8), size=n, p=np.array(p) / sum(p))


def select_inspections(scenario: Scenario, c: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Customs channel per container (0 none, 1 green, 2 orange = scan, 3 red = physical exam),
    drawn from the configured shares (exports are re-chosen by risk when targeting is on).
    Empties and transshipment boxes pass no customs here."""
    flow = values(c["flow"])
    channel = np.zeros(len(c), np.int8)
    for name, shares in (("import", scenario.customs.import_channels),
                         ("export", scenario.customs.export_channels)):
        sel = flow == name
        channel[sel] = _channels(shares, int(sel.sum()), rng)
    return channel


def run_landside(scenario: Scenario, c: pd.DataFrame, vessels: pd.DataFrame, streams: Streams) -> pd.DataFrame:
    """Add customs, gate, yard and corridor times (hours) to the container table, in place order."""
    cus, gate, dwell = scenario.customs, scenario.gate, scenario.dwell_days
    n = len(c)
    flow = values(c["flow"])
    t_dis, t_load = c["t_discharge"].to_numpy(), c["t_load"].to_numpy()
    by_truck_out = np.isin(flow, ["import", "empty_in"])
    by_truck_in = np.isin(flow, ["export", "empty_out"])

    # The shippers' and consignees' behaviour (hours): import pick-up delay after customs release,
    # empty pick-up delay after discharge, export and empty delivery before the ship's arrival.
    rng = streams("yard")
    wish = np.full(n, np.nan)
    for f in ("import", "empty_in", "export", "empty_out"):
        sel = flow == f
        wish[sel] = dwell.for_flow(f).sample(rng, int(sel.sum())) * 24.0

    # Export trucks come before the ship arrives (they book against its arrival, not its
    # loading), at an hour from the profile, and no later than the cut-off: anchorage waits and
    # closures lengthen the export dwell.
    rng = streams("gate", "arrivals")
    t_gate = np.full(n, np.nan)
    cutoff = t_load[by_truck_in] - EXPORT_CUTOFF_H
    ship_arrival = vessels["t_arrival"].to_numpy()[c["vessel_out"].to_numpy()[by_truck_in]]
    t_gate[by_truck_in] = snap_to_profile(
        np.minimum(ship_arrival - wish[by_truck_in], cutoff), gate.hourly_profile, rng,
        not_after=cutoff)

    # Customs: requests, then the scanner and exam queues shared by imports and exports.
    rng = streams("customs")
    channel = select_inspections(scenario, c, rng)
    # one scanner queue and one exam queue per inspection pool (ports without their own share the home port's)
    terminal = c["terminal"].cat.codes.to_numpy()
    pools = scenario.inspection_pools()
    pool = np.array([pools.index(scenario.inspection_pool(t)) for t in scenario.terminals])[terminal]
    extra: dict[str, np.ndarray] = {}
    if cus.targeting is not None:
        exp = np.flatnonzero(flow == "export")
        capacity = [export_capacity_per_day(cus.targeting, scanners, cus.scans_per_hour, exams)
                    for _, scanners, exams in pools]
        outcome = target_exports(
            cus.targeting, values(c["commodity"])[exp], values(c["destination"])[exp],
            c["reefer"].to_numpy()[exp], t_gate[exp], c["container_id"].to_numpy()[exp],
            streams("declarations"), streams("contraband"), streams("targeting"),
            pool=pool[exp], capacity_per_day=capacity)
        channel[exp] = outcome.channel
        for name, col in (("contraband_kg", outcome.contraband_kg), ("risk", outcome.risk)):
            extra[name] = np.zeros(n) if name == "contraband_kg" else np.full(n, np.nan)
            extra[name][exp] = col
        extra["found"] = np.zeros(n, bool)
        extra["found"][exp] = outcome.found
        extra["exporter_id"] = np.full(n, "", dtype=object)
        extra["exporter_id"][exp] = outcome.declarations["exporter_id"].to_numpy()
    imp = flow == "import"
    paperwork = np.where(rng.random(int(imp.sum())) < cus.anticipated_share, 0.0,
                         cus.documentary_h.sample(rng, int(imp.sum())))
    request = np.full(n, np.nan)
    request[imp] = t_dis[imp] + paperwork
    request[flow == "export"] = t_gate[flow == "export"]
    release = request.copy()
    inspect_start = np.full(n, np.nan)
    exam_h = np.full(n, np.nan)
    exam_h[channel == 3] = cus.exam_h.sample(rng, int((channel == 3).sum()))
    for j, (_, scanners, exams_per_day) in enumerate(pools):
        in_pool = pool == j
        scan = (channel == 2) & in_pool
        wait = fifo_wait(request[scan], np.full(int(scan.sum()), 1.0 / (scanners * cus.scans_per_hour)))
        inspect_start[scan] = request[scan] + wait
        release[scan] = inspect_start[scan] + cus.scan_h
        exam = (channel == 3) & in_pool
        wait = fifo_wait(request[exam], np.full(int(exam.sum()), 24.0 / exams_per_day))
        inspect_start[exam] = request[exam] + wait
        release[exam] = inspect_start[exam] + exam_h[exam]

    # Import trucks come the consignee's pick-up delay after customs release (empties: after
    # discharge): a slow customs stage or an inspection lengthens the import dwell.
    rng = streams("gate", "pickups")
    ready = np.where(imp, release, t_dis)[by_truck_out] + wish[by_truck_out]
    t_gate[by_truck_out] = snap_to_profile(ready, gate.hourly_profile, rng, not_before=ready)

    # Each terminal's gate: every truck, both directions, one FIFO queue over the pooled lanes.
    truck = by_truck_out | by_truck_in
    gate_wait = np.full(n, np.nan)
    t_gate_done = np.full(n, np.nan)
    for code, term in enumerate(scenario.terminals):
        sel = truck & (terminal == code)
        service = rng.exponential(gate.service_min / 60.0, int(sel.sum())) / term.gate_lanes
        gate_wait[sel] = fifo_wait(t_gate[sel], service)
        t_gate_done[sel] = t_gate[sel] + gate_wait[sel] + service

    t_yard_in = np.where(by_truck_in, np.fmin(t_gate_done, t_load), t_dis)
    t_yard_out = np.where(by_truck_out, t_gate_done, t_load)
    factor = np.asarray(gate.corridor_peak_factor)
    corridor = np.array([scenario.corridor_h(t) for t in scenario.terminals])[terminal]
    t_lima = np.full(n, np.nan)
    t_lima[by_truck_out] = t_gate_done[by_truck_out] + corridor[by_truck_out] * factor[
        (t_gate_done[by_truck_out] % 24).astype(int)]
    t_lima[by_truck_in] = t_gate[by_truck_in] - corridor[by_truck_in] * factor[(t_gate[by_truck_in] % 24).astype(int)]

    out = c.assign(
        customs_channel=pd.Categorical.from_codes(channel, CHANNELS),
        t_customs_request=request, t_inspection_start=inspect_start, t_customs_release=release,
        t_gate=t_gate, gate_wait_h=gate_wait, t_yard_in=t_yard_in, t_yard_out=t_yard_out,
        t_lima=t_lima,
    )
    out["late_gate"] = by_truck_in & (t_gate_done > t_load)
    out["customs_late"] = (flow == "export") & (release > t_load)
    for name, col in extra.items():
        out[name] = pd.Categorical(col) if name == "exporter_id" else col
    return out
