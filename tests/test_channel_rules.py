"""Channel rules: compulsory pilotage from a pilot pool (checked against Erlang C), tugs by vessel
length from a tug pool, and the daylight rule for the largest ships."""

import numpy as np
import pytest

import callao
from callao.scenario import ScenarioError, load_scenario
from callao.validation import mean_ci, wq_over_es_mmc

SHORT = {"years": 0.15, "containers": False}


def pilot_queue_ratio(sc, replications: int, seed: int) -> tuple[float, float, float]:
    """Wq/E[S] of the inbound pilot wait over independent replications: mean and 95% CI."""
    es = sc.home.channel.pilot_boarding_h.mean_value
    warm, horizon = sc.simulation.warmup_days * 24.0, sc.horizon_h
    ratios = []
    for ss in np.random.SeedSequence(seed).spawn(replications):
        v = callao.simulate(sc, seed=ss).vessels
        sel = (v["t_arrival"] >= warm) & (v["t_arrival"] < horizon)
        ratios.append(v.loc[sel, "pilot_wait_h"].mean() / es)
    return mean_ci(np.array(ratios))


@pytest.mark.slow
def test_pure_pilot_queue_reproduces_erlang_c():
    sc = load_scenario("queue-pilots", simulation={"years": 2.0})
    c, lam, es = sc.home.channel.pilots, sc.tramp[0].calls_per_year / 8760.0, sc.home.channel.pilot_boarding_h.mean_value
    rho = lam * es / c
    assert (c, rho) == (2, pytest.approx(0.8))
    analytic = wq_over_es_mmc(c, rho)  # 1.7778
    m, lo, hi = pilot_queue_ratio(sc, replications=6, seed=11)
    assert lo <= analytic <= hi, (m, lo, hi, analytic)
    assert hi - lo < 0.3 * analytic, "interval too wide to be a test"
    assert not lo <= wq_over_es_mmc(3, lam * es / 3) <= hi  # as if there were 3 pilots: clearly outside


def test_pilots_bind_fewer_pilots_longer_waits():
    waits = {}
    for n in (1, 3):
        k = callao.simulate(load_scenario("callao", simulation=SHORT, channel={"pilots": n}), seed=2).kpis
        waits[n] = (k["pilot_wait_mean_h"], k["anchorage_wait_mean_h"])
    assert waits[1][0] > waits[3][0] and waits[1][0] > 0.1
    assert waits[1][1] >= waits[3][1]


def test_tugs_by_length_and_a_small_pool_makes_ships_wait():
    sc = load_scenario("callao")
    assert sc.home.channel.tugs_for(200.0) == 2 and sc.home.channel.tugs_for(366.0) == 3
    few = callao.simulate(load_scenario("callao", simulation=SHORT, channel={"tugs": 3, "tug_assist_h": 2.0}), seed=2).kpis
    many = callao.simulate(load_scenario("callao", simulation=SHORT, channel={"tugs": 12, "tug_assist_h": 2.0}), seed=2).kpis
    assert few["tug_wait_mean_h"] > many["tug_wait_mean_h"] >= 0
    assert few["tug_wait_mean_h"] > 0.05
    with pytest.raises(ScenarioError, match="needs 3 tugs"):
        load_scenario("callao", channel={"tugs": 2})


def test_daylight_rule_keeps_the_largest_ships_out_at_night():
    sc = load_scenario("callao", simulation=SHORT, channel={"daylight_loa_m": 350.0})
    r = callao.simulate(sc, seed=2)
    v = r.vessels
    ch = sc.home.channel
    start = sc.simulation.start_utc
    local = lambda t: (t + start.hour + start.minute / 60 + ch.utc_offset_h) % 24.0  # noqa: E731
    big = v[v["loa_m"] >= 350.0]
    small = v[v["loa_m"] < 350.0]
    assert len(big) > 5
    for col in ("t_channel_in", "t_unberth"):  # inbound and outbound channel entries
        h = local(big[col].to_numpy())
        assert ((h >= ch.sunrise_local_h - 1e-6) & (h + ch.transit_h <= ch.sunset_local_h + 1e-6)).all()
    assert (local(small["t_channel_in"].to_numpy()) < ch.sunrise_local_h).any()  # others sail at night
    base = callao.simulate(load_scenario("callao", simulation=SHORT), seed=2).kpis
    assert big["daylight_delay_h"].mean() > 2.0 and (small["daylight_delay_h"] == 0).all()
    assert r.kpis["daylight_wait_mean_h"] > 0.3 and base["daylight_wait_mean_h"] == 0.0
    assert r.kpis["anchorage_wait_mean_h"] > base["anchorage_wait_mean_h"]


def test_channel_rules_are_validated():
    with pytest.raises(ScenarioError, match="sunset_local_h"):
        load_scenario("callao", channel={"sunrise_local_h": 19.0})
    with pytest.raises(ScenarioError, match="tugs_by_loa"):
        load_scenario("callao", channel={"tugs_by_loa": []})
