"""Scenarios: the validated model of a port, read from TOML (``extends`` overlays supported)."""

from callao.scenario.load import ScenarioError, bundled_names, load_scenario, merge, validate
from callao.scenario.model import FLOWS, Scenario

__all__ = ["FLOWS", "Scenario", "ScenarioError", "bundled_names", "load_scenario", "merge", "validate"]
