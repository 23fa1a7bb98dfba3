"""The corridor stage: travel between the gates and Lima by the hour of day."""

import math

import numpy as np

from callao.scenario import load_scenario
from callao.sim.corridor import corridor_times


def test_travel_uses_the_peak_factor_of_the_gate_hour_also_before_hour_zero():
    """Each box's Lima time is its gate time ± the terminal's corridor time × the factor of the
    hour of day it passes the gate: the same as Python's ``t % 24`` hour, for times at hour
    boundaries, just below them, and negative (spin-up) times."""
    sc = load_scenario("callao")
    rng = np.random.default_rng(6)
    edges = np.array([0.0, 23.999999999, 24.0, -0.5, -24.0, -23.0000001, 7.0, 6.999999999999, 8759.99, 1e6 + 0.25])
    t = np.concatenate([edges, rng.uniform(-500.0, 9000.0, 5000)])
    terminal = rng.integers(0, len(sc.terminals), t.size)
    out = np.where(np.arange(t.size) % 3 == 0, t, np.nan)
    inb = np.where(np.arange(t.size) % 3 == 1, t, np.nan)  # every third box passes no gate
    lima = corridor_times(sc, terminal, out, inb)
    factor = sc.gate.corridor_peak_factor
    for i, ti in enumerate(t.tolist()):
        travel = sc.corridor_h(sc.terminals[terminal[i]]) * factor[int(ti % 24)]
        expected = {0: ti + travel, 1: ti - travel, 2: math.nan}[i % 3]
        assert lima[i] == expected or (math.isnan(expected) and math.isnan(lima[i]))
