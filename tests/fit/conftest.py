import pytest

import callao
from callao.ingest.calls import calls_from_vessels
from callao.scenario import load_scenario


@pytest.fixture(scope="session")
def quarter():
    """A quarter of the bundled port, vessels only, and its calls as perfect AIS would show them."""
    sc = load_scenario("callao", simulation={"containers": False, "years": 0.25})
    run = callao.simulate(sc, seed=3)
    return sc, run, calls_from_vessels(run.vessels, sc.simulation.start_utc)
