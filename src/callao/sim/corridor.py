"""Corridor stage: truck travel between the terminals' gates and Lima, by hour of day."""

from __future__ import annotations

import numpy as np

from callao.scenario import Scenario


def corridor_times(scenario: Scenario, terminal: np.ndarray, t_out_gate: np.ndarray,
                   t_in_gate: np.ndarray) -> np.ndarray:
    """Hour each truck box is in Lima: ``t_out_gate`` + travel for boxes leaving the port, and
    ``t_in_gate`` − travel for boxes coming in (NaN elsewhere); travel = the terminal's free-flow
    corridor time × the peak factor of the hour it leaves the gate (or reaches it)."""
    factor = np.asarray(scenario.gate.corridor_peak_factor)
    corridor = np.array([scenario.corridor_h(t) for t in scenario.terminals])
    t_lima = np.full(terminal.size, np.nan)
    for t_gate, sign in ((t_out_gate, 1.0), (t_in_gate, -1.0)):
        rows = np.flatnonzero(np.isfinite(t_gate))
        t = t_gate[rows]
        # the hour of day int(t % 24), exactly: floor(t - 24 floor(t / 24)) = floor(t) - 24 floor(floor(t) / 24),
        # in integers (a float remainder costs about 6 times as much)
        hour = np.floor(t).astype(np.int64) % 24
        t_lima[rows] = t + sign * corridor[terminal[rows]] * factor[hour]  # ± travel (exact: sign is ±1)
    return t_lima
