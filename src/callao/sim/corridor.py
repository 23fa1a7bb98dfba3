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
    corridor = np.array([scenario.corridor_h(t) for t in scenario.terminals])[terminal]
    t_lima = np.full(terminal.size, np.nan)
    out = np.isfinite(t_out_gate)
    t_lima[out] = t_out_gate[out] + corridor[out] * factor[(t_out_gate[out] % 24).astype(int)]
    inb = np.isfinite(t_in_gate)
    t_lima[inb] = t_in_gate[inb] - corridor[inb] * factor[(t_in_gate[inb] % 24).astype(int)]
    return t_lima
