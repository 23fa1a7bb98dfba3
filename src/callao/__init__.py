"""callao: a digital twin of the Port of Callao (Peru).

    >>> import callao
    >>> results = callao.simulate("callao", seed=1)
    >>> results.kpis["teu_total"], results.containers.head()
"""

from callao.results import Results
from callao.scenario import Scenario, ScenarioError, load_scenario
from callao.sim import simulate

__all__ = ["Results", "Scenario", "ScenarioError", "load_scenario", "simulate"]
__version__ = "0.1.0"
