"""Landside: the stages from quay times to Lima and back, in data-path order (acyclic):

behaviour draws (pick-up delays, delivery before the ship) → export trucks' gate arrival →
customs (:mod:`callao.sim.customs`: channels, targeting, scanner and exam queues, release) →
import pick-ups after release → the gate (:mod:`callao.sim.gate`: dual cycles, lanes) → yard in
and out → corridor (:mod:`callao.sim.corridor`). Each stage is pure and vectorised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from callao.scenario import FLOWS, Scenario
from callao.sim.corridor import corridor_times
from callao.sim.gate import run_gate, truck_arrivals
from callao.sim.streams import Streams

EXPORT_CUTOFF_H = 2.0
"""Latest a truck may bring an export box before its loading time, hours."""


def flow_codes(column: pd.Series) -> np.ndarray:
    """Each box's flow (a categorical column) as an index into :data:`~callao.scenario.FLOWS`:
    comparing small integers is far cheaper than comparing names over millions of boxes."""
    position = np.array([FLOWS.index(name) for name in column.cat.categories], np.int8)
    return position[column.cat.codes.to_numpy()]


def behaviour_h(scenario: Scenario, flow: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The shippers' and consignees' delays (hours, see :class:`~callao.scenario.model.Dwell`):
    import pick-up after release, empty pick-up after discharge, delivery before the ship.
    ``flow``: codes into :data:`~callao.scenario.FLOWS` (:func:`flow_codes`)."""
    wish = np.full(flow.size, np.nan)
    for f in ("import", "empty_in", "export", "empty_out"):
        sel = flow == FLOWS.index(f)
        wish[sel] = scenario.dwell_days.for_flow(f).sample(rng, int(sel.sum())) * 24.0
    return wish


def run_landside(scenario: Scenario, c: pd.DataFrame, vessels: pd.DataFrame, streams: Streams) -> pd.DataFrame:
    """Add customs, gate, yard and corridor times (hours) to the container table."""
    from callao.sim.customs import CHANNELS, run_customs  # brings LightGBM (targeting): only when run

    n = len(c)
    flow = flow_codes(c["flow"])
    is_flow = {name: flow == code for code, name in enumerate(FLOWS)}
    terminal = c["terminal"].cat.codes.to_numpy()
    t_dis, t_load = c["t_discharge"].to_numpy(), c["t_load"].to_numpy()
    by_truck_out = is_flow["import"] | is_flow["empty_in"]
    by_truck_in = is_flow["export"] | is_flow["empty_out"]
    wish = behaviour_h(scenario, flow, streams("yard"))

    # Export trucks come before the ship arrives (they book against its arrival, not its
    # loading), no later than the cut-off: anchorage waits and closures lengthen the export dwell.
    t_gate = np.full(n, np.nan)
    cutoff = np.full(n, np.nan)
    cutoff[by_truck_in] = t_load[by_truck_in] - EXPORT_CUTOFF_H
    ship_arrival = vessels["t_arrival"].to_numpy()[c["vessel_out"].to_numpy()[by_truck_in]]
    t_gate[by_truck_in] = truck_arrivals(
        scenario, np.minimum(ship_arrival - wish[by_truck_in], cutoff[by_truck_in]),
        streams("gate", "arrivals"), streams("gate", "appointments", "in"), not_after=cutoff[by_truck_in])

    customs = run_customs(scenario, c, t_gate, streams)

    # Import trucks come the consignee's pick-up delay after customs release (empties: after
    # discharge): a slow customs stage or an inspection lengthens the import dwell.
    imp = is_flow["import"]
    ready = np.full(n, np.nan)
    ready[by_truck_out] = np.where(imp, customs.release, t_dis)[by_truck_out]
    wanted = ready[by_truck_out] + wish[by_truck_out]
    t_gate[by_truck_out] = truck_arrivals(scenario, wanted, streams("gate", "pickups"),
                                          streams("gate", "appointments", "out"), not_before=wanted)

    gate = run_gate(scenario, terminal, t_gate, by_truck_in, by_truck_out, ready, streams)

    t_yard_in = np.where(by_truck_in, np.fmin(gate.done, t_load), t_dis)
    t_yard_out = np.where(by_truck_out, gate.done, t_load)
    t_lima = corridor_times(scenario, terminal, np.where(by_truck_out, gate.done, np.nan),
                            np.where(by_truck_in, gate.t_gate, np.nan))
    columns = {name: c[name].array if isinstance(c[name].dtype, pd.api.extensions.ExtensionDtype)
               else c[name].to_numpy() for name in c.columns}
    columns.update(
        customs_channel=pd.Categorical.from_codes(customs.channel, CHANNELS),
        t_customs_request=customs.request, t_inspection_start=customs.inspect_start,
        t_customs_release=customs.release, t_gate=gate.t_gate, gate_wait_h=gate.wait_h,
        dual_cycle=gate.dual_cycle, t_yard_in=t_yard_in, t_yard_out=t_yard_out, t_lima=t_lima,
        late_gate=by_truck_in & (gate.done > t_load),
        customs_late=is_flow["export"] & (customs.release > t_load),
    )
    for name, col in customs.extra.items():
        columns[name] = _categorical(col) if name == "exporter_id" else col
    return pd.DataFrame(columns, copy=False)  # new arrays, or c's (not changed): no copies


def _categorical(names: np.ndarray) -> pd.Categorical:
    """``pd.Categorical(names)`` (sorted categories), by a hash factorisation: about 3 × faster."""
    codes, categories = pd.factorize(names, sort=True)
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories))
