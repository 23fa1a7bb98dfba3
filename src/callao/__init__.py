"""callao: a digital twin of the Port of Callao (Peru).

    >>> import callao
    >>> results = callao.simulate("callao", seed=1)
    >>> results.kpis["teu_total"], results.containers.head()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callao.results import Results
    from callao.scenario import Scenario, ScenarioError, load_scenario
    from callao.sim import simulate

_HOME = {"Results": "results", "Scenario": "scenario", "ScenarioError": "scenario", "load_scenario": "scenario",
         "simulate": "sim"}
"""Where each name of the package lives; imported on first use, so that a part of callao (the
command line's help, a scenario check) loads only what it needs."""

__all__ = ["Results", "Scenario", "ScenarioError", "load_scenario", "simulate"]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
