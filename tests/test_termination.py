"""Every valid scenario terminates, and the engine conserves calls and work.

A property-style test: a seeded generator draws many small vessels-only scenarios (random crane
rates, calls carrying down to a thousandth of a move, horizons of tens of years, sometimes closures
and naval movements) and runs each under a time limit. The first case is the one that hung the
old crane-work loop: calls of less than one move at a fast crane rate, 30 years, where a time step
computed near the end of a call is too small to change the clock.
"""

import signal
from contextlib import contextmanager

import numpy as np
import pytest

import callao
from callao.scenario import ScenarioError, load_scenario, validate
from callao.sim.waterside import below_resolution, delay_until

TIME_LIMIT_S = 30


@contextmanager
def time_limit(seconds: int):
    def expire(*_):
        raise TimeoutError(f"simulation did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def scenario(years: float, rate: float, moves: dict, calls_per_year: float, cranes: int = 4,
             max_cranes: int = 4, berths: int = 3, closures: bool = False, naval: float = 0.0,
             transit_h: float = 0.0) -> callao.Scenario:
    doc = {
        "name": "tiny", "simulation": {"years": years, "containers": False},
        "vessel_classes": [{"name": "s", "loa_m": 100.0, "draft_m": 8.0, "teu_capacity": 100,
                            "max_cranes": max_cranes}],
        "terminals": [{"name": "t", "quay_length_m": 100.0 * berths, "depth_m": 10.0, "cranes": cranes,
                       "moves_per_crane_hour": rate}],
        "tramp": [{"name": "x", "terminal": "t", "vessel_class": "s", "calls_per_year": calls_per_year,
                   "moves_per_call": moves}],
        "channel": {"transit_h": transit_h, "one_way_loa_m": 90.0},
        "naval": {"movements_per_day": naval, "duration_h": 0.5},
    }
    if closures:
        doc["closures"] = {"seasons": [{"months": [1, 7], "events_per_month": 0.5}],
                           "duration_h": {"dist": "uniform", "low": 0.01, "high": 72.0}}
    return validate(doc, "tiny")


def check_run(sc: callao.Scenario, seed: int) -> None:
    with time_limit(TIME_LIMIT_S):
        r = callao.simulate(sc, seed=seed)
    v = r.vessels
    # every call that arrived departs, once, after its own arrival, in stage order
    assert len(v) == v["vessel_id"].nunique() and v["t_arrival"].lt(sc.horizon_h).all()
    stages = ["t_arrival", "t_berth_assigned", "t_channel_in", "t_berth", "t_handling_start",
              "t_handling_end", "t_unberth", "t_depart"]
    times = v[stages].to_numpy()
    assert np.isfinite(times).all()
    assert (np.diff(times, axis=1) >= 0).all()
    # moves handled = moves planned: crane-hours actually worked x rate per crane = the call's work
    t = sc.terminals[0]
    handled = v["crane_hours"].to_numpy() * t.moves_per_crane_hour
    planned = v["work_moves"].to_numpy()
    assert planned == pytest.approx(v["moves"].to_numpy())  # vessels only: no transshipment
    slack = t.moves_per_crane_hour * t.cranes * np.spacing(v["t_handling_end"].to_numpy()) * 4
    assert np.all(np.abs(handled - planned) <= 1e-9 * planned + slack)


def test_reproduces_the_old_hang_fractional_calls_over_30_years():
    """Old loop: remaining / rate fell below the clock's resolution near hour 262,800 and the loop
    spun with env.now unchanged; this run never finished."""
    sc = scenario(30.0, 97.3, {"dist": "uniform", "low": 0.001, "high": 0.9}, 300.0)
    check_run(sc, seed=0)


def test_many_random_small_scenarios_terminate_and_conserve():
    gen = np.random.default_rng(20261130)
    for case in range(12):
        rate = float(np.exp(gen.uniform(np.log(0.5), np.log(500.0))))
        kind = gen.integers(4)
        moves = [
            {"dist": "uniform", "low": 0.001, "high": float(gen.uniform(0.01, 3.0))},
            {"dist": "exponential", "mean": float(gen.uniform(0.01, 2.0))},
            {"dist": "constant", "value": float(gen.uniform(0.001, 1.0))},
            {"dist": "gamma", "mean": float(gen.uniform(1.0, 200.0)), "cv": 1.5},
        ][kind]
        cranes = int(gen.integers(1, 7))
        sc = scenario(
            years=float(gen.uniform(10.0, 60.0)), rate=rate, moves=moves,
            calls_per_year=float(gen.uniform(20.0, 150.0)), cranes=cranes,
            max_cranes=int(gen.integers(1, cranes + 1)), berths=int(gen.integers(1, 4)),
            closures=bool(gen.random() < 0.5), naval=float(gen.choice([0.0, 0.0, 2.0])),
            transit_h=float(gen.choice([0.0, 1e-7, 0.5])),
        )
        check_run(sc, seed=case)


def test_clock_helpers_always_progress():
    now = 30 * 8760.0 + 0.123456789
    assert below_resolution(now, np.spacing(now) / 4)
    assert not below_resolution(now, np.spacing(now) * 2)
    for target in (now + 1e-12, now + 0.3, now + np.spacing(now), 1.0e7 + 1 / 3):
        d = delay_until(now, target)
        assert d >= 0 and now + d >= target
    assert delay_until(now, now - 1.0) == 0.0


@pytest.mark.parametrize("override,field", [
    ({"naval": {"movements_per_day": 500.0}}, "naval.movements_per_day"),
    ({"tramp": [{"name": "apmt-feeder", "calls_per_year": 1e7}]}, "calls_per_year"),
    ({"services": [{"name": "AS1", "interval_days": 0.001}]}, "interval_days"),
    ({"closures": {"seasons": [{"months": [1], "events_per_month": 100.0}]}}, "events_per_month"),
    ({"simulation": {"years": 900.0}}, "vessel calls"),
])
def test_parameters_that_would_explode_a_run_are_refused(override, field):
    with pytest.raises(ScenarioError) as err:
        load_scenario("callao", **override)
    assert field in str(err.value)
