"""The engine reduced to a pure queue reproduces queueing theory (docs/sources.md).

Each case runs independent replications (fixed seeds) of the bundled queue-mm3 scenario with its
berth count, utilisation and service distribution changed, and asserts that the published
Wq/E[S] lies inside the 95% confidence interval, that the interval is tight enough to mean
something, and that Little's law holds.
"""

import pytest

from callao.scenario import load_scenario
from callao.validation import PIANC_ME2N, queue_check, wq_over_es_mmc, wq_over_es_pk

MEAN_SERVICE_H = 10.0
SERVICE = {
    "M": {"dist": "exponential", "mean": MEAN_SERVICE_H},
    "E2": {"dist": "erlang", "k": 2, "mean": MEAN_SERVICE_H},
    "D": {"dist": "constant", "value": MEAN_SERVICE_H},
}


def pure_queue(c: int, rho: float, service: str, customers: int = 12000):
    calls_per_year = rho * c / MEAN_SERVICE_H * 8760
    years = customers / calls_per_year
    return load_scenario(
        "queue-mm3",
        simulation={"years": years, "warmup_days": years * 365 * 0.05},
        terminals=[{"name": "berths", "quay_length_m": 100.0 * c, "cranes": c}],
        tramp=[{"name": "ships", "calls_per_year": calls_per_year, "moves_per_call": SERVICE[service]}],
    )


def test_published_check_values():
    # Groenveld 2007 Table I, rho = 0.8
    for c, value in ((1, 4.0), (2, 1.778), (3, 1.0787), (4, 0.7455)):
        assert wq_over_es_mmc(c, 0.8) == pytest.approx(value, abs=5e-4)
    assert wq_over_es_pk(0.8, 0.0) == pytest.approx(2.0)
    assert wq_over_es_pk(0.8, 0.5) == pytest.approx(3.0) == PIANC_ME2N[(0.8, 1)]


CASES = [
    ("M", 1, 0.8), ("M", 2, 0.8), ("M", 3, 0.8), ("M", 4, 0.8),   # Erlang C
    ("D", 1, 0.7), ("E2", 1, 0.8),                                 # Pollaczek-Khinchine
    ("E2", 2, 0.7), ("E2", 3, 0.8), ("E2", 4, 0.6), ("E2", 5, 0.7), ("E2", 6, 0.8),  # PIANC M/E2/n
]


@pytest.mark.slow
@pytest.mark.parametrize("service,c,rho", CASES, ids=[f"M/{s}/{c}-rho{r}" for s, c, r in CASES])
def test_engine_reproduces_analytic_waiting_time(service, c, rho):
    heavy = c == 1 and rho >= 0.8  # long, skewed waits: more customers for a tight interval
    result = queue_check(pure_queue(c, rho, service, 60000 if heavy else 15000),
                         replications=10 if heavy else 8, seed=c * 100 + int(rho * 10))
    assert result.queue.servers == c and result.queue.rho == pytest.approx(rho)
    assert result.ci_low <= result.analytic <= result.ci_high, result
    assert result.ci_high - result.ci_low < 0.3 * result.analytic, "interval too wide to be a test"
    assert result.littles_lq == pytest.approx(result.littles_lambda_wq, rel=0.03)


def test_a_broken_engine_would_fail():
    """The check has teeth: doubling the service time (rho -> 2 rho would be unstable), or using
    the wrong number of berths, moves the analytic value well outside the interval."""
    result = queue_check(pure_queue(2, 0.6, "M", 6000), replications=6, seed=1)
    assert result.within_ci
    wrong = wq_over_es_mmc(1, 0.6)  # as if the quay held only one ship
    assert not result.ci_low <= wrong <= result.ci_high


def test_non_queue_scenario_is_refused():
    with pytest.raises(ValueError, match="not a pure queue"):
        queue_check(load_scenario("callao"), replications=2)
