"""The engine: vessel-level SimPy processes (waterside) and vectorised container stages."""

from callao.sim.engine import simulate

__all__ = ["simulate"]
