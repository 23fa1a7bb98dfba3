"""The bundled year starts in steady state: a spin-up before hour 0 fills the yard and queues,
and counts in no KPI."""

import numpy as np
import pytest

import callao
from callao.scenario import load_scenario

DAYS = 91


def run(spin_up_days: float, days: float = DAYS):
    return callao.simulate(load_scenario("callao", simulation={"years": days / 365,
                                                               "spin_up_days": spin_up_days}), seed=1)


@pytest.mark.slow
def test_the_year_starts_with_a_full_yard_only_with_a_spin_up():
    """With the bundled spin-up the yard holds a usual stock from hour 0 and the first week is
    near the other weeks' mean (weekly means swing by +-30% with ship bunching and closures);
    from an empty start the first day and week are far below it."""
    def weekly(r) -> tuple[float, float, np.ndarray]:
        total = r.yard_teu.sum(axis=1).to_numpy()
        weeks = total[: total.size // 168 * 168].reshape(-1, 168).mean(axis=1)
        return float(total[:24].mean() / total.mean()), float(weeks[0]), weeks[1:]
    first_day, first_week, others = weekly(run(load_scenario("callao").simulation.spin_up_days))
    cold_day, cold_week, cold_others = weekly(run(0.0))
    assert first_day > 0.5 and cold_day < 0.3
    assert first_week / others.mean() > 0.65
    assert cold_week / cold_others.mean() < 0.6


def test_the_spin_up_counts_in_no_kpi():
    """Throughput and counts cover [0, H) only: a spun-up run counts the horizon's boxes and
    calls, not the spin-up's (about the same number, not 1 + spin-up/horizon times more)."""
    days = 20
    warm, cold = run(14.0, days), run(0.0, days)
    v = warm.vessels
    assert (v["t_arrival"] < 0).any()  # the spin-up happened, before hour 0
    assert warm.kpis["vessel_calls_total"] == int(((v["t_arrival"] >= 0) & (v["t_arrival"] < days * 24)).sum())
    for name in ("vessel_calls_total", "teu_total", "containers_total"):
        assert warm.kpis[name] == pytest.approx(cold.kpis[name], rel=0.2), name
    c = warm.containers
    early = c["t_discharge"] < 0
    assert early.any()
    teu_in = c["teu"].to_numpy()[np.isfinite(c["t_discharge"]) & (c["t_discharge"] >= 0) & (c["t_discharge"] <= days * 24)].sum()
    teu_out = c["teu"].to_numpy()[np.isfinite(c["t_load"]) & (c["t_load"] >= 0) & (c["t_load"] <= days * 24)].sum()
    assert warm.kpis["teu_total"] == teu_in + teu_out
