"""The twin meets observed calls: replay (trace-driven simulation), calibration of the waterside
and the model-vs-data comparison."""

from callao.fit.replay import ReplayResult, replay

__all__ = ["ReplayResult", "replay"]
