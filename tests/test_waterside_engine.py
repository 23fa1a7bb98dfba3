"""The waterside engine's structure: typed vessel records, the quay as a SimPy resource, ports."""

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from callao.scenario import load_scenario
from callao.sim.streams import Streams
from callao.sim.waterside import CHANNEL_DELAYS, VESSEL_TIMES, ChannelDelays, VesselRecords, Waterside


def _empty_windows() -> tuple[pd.DataFrame, pd.DataFrame]:
    naval = pd.DataFrame({"port": pd.Series(dtype=str), "start_h": pd.Series(dtype=float),
                          "end_h": pd.Series(dtype=float)})
    return naval.assign(reason=pd.Series(dtype=str)), naval


def test_records_start_empty_with_typed_fields():
    rec = VesselRecords.empty(np.array(["apmt", "dpworld", "apmt"], dtype=object))
    cols = rec.columns()
    assert list(cols)[:len(VESSEL_TIMES)] == list(VESSEL_TIMES) == [
        "t_berth_assigned", "t_channel_in", "t_berth", "t_handling_start", "t_handling_end", "t_unberth", "t_depart"]
    assert all(np.isnan(cols[t]).all() for t in VESSEL_TIMES)
    assert cols["naval_encounters"].dtype == np.int32 and cols["cranes_max"].dtype == np.int32
    assert cols["crane_limit"].dtype == np.int32 and cols["n_transship_out_actual"].dtype == np.int64
    assert all(cols[d].dtype == np.float64 and not cols[d].any() for d in CHANNEL_DELAYS)
    assert "terminal" not in cols and list(rec.terminal) == ["apmt", "dpworld", "apmt"]
    assert {f.name for f in fields(VesselRecords)} == {*cols, "terminal"}


def test_channel_delays_are_stored_per_call():
    rec = VesselRecords.empty(np.array(["apmt", "apmt"], dtype=object))
    rec.set_delays(1, ChannelDelays(pilot_wait_h=1.5, naval_delay_h=0.25, naval_encounters=1))
    assert rec.pilot_wait_h.tolist() == [0.0, 1.5] and rec.naval_delay_h.tolist() == [0.0, 0.25]
    assert rec.naval_encounters.tolist() == [0, 1] and rec.tug_wait_h.tolist() == [0.0, 0.0]


def test_vessels_table_is_the_calls_with_the_records():
    sc = load_scenario("callao", simulation={"containers": False, "years": 0.02})
    from callao.sim.arrivals import vessel_calls
    streams = Streams(3)
    calls = vessel_calls(sc, streams)
    closures, naval = _empty_windows()
    ws = Waterside(sc, calls, closures, naval, streams)
    v = ws.run()
    rec = ws.records
    assert list(v.columns[-len(rec.columns()):]) == list(rec.columns())
    for name, values in rec.columns().items():
        assert v[name].dtype == values.dtype and np.array_equal(v[name].to_numpy(), values, equal_nan=True), name
    assert (v["terminal"].to_numpy() == rec.terminal).all()
    done = np.isfinite(rec.t_depart)
    assert done.any() and (rec.t_depart[done] >= rec.t_handling_end[done]).all()
    assert (rec.cranes_max[done] >= 1).all() and (rec.cranes_max[done] <= rec.crane_limit[done]).all()


def _quay(length_m: float = 1000.0, clearance_m: float = 0.0):
    import simpy

    from callao.sim.waterside import Quay
    sc = load_scenario("callao")
    term = sc.terminal("dpworld").model_copy(update={"quay_length_m": length_m, "berth_clearance_m": clearance_m})
    env = simpy.Environment()
    return env, Quay(env, term)


def test_quay_best_fit_and_release_by_request():
    env, quay = _quay(1000.0, clearance_m=20.0)
    a, b, c = quay.request(280.0), quay.request(280.0), quay.request(280.0)
    assert [r.position_m for r in (a, b, c)] == [0.0, 300.0, 600.0]  # ship + 20 m clearance each
    assert a.triggered and a.value == 0.0
    quay.release(b)  # a 300 m gap at 300 and a 100 m gap at the end
    small = quay.request(70.0)  # 90 m: the smallest gap it fits is the one at the end
    assert small.position_m == 900.0
    assert [r.position_m for r in quay.berthed] == [0.0, 600.0, 900.0]
    env.run()


def test_quay_waiting_ships_in_order_but_a_shorter_one_may_go_ahead():
    env, quay = _quay(600.0)
    first = quay.request(400.0)
    long_, short = quay.request(400.0), quay.request(150.0)
    assert first.triggered and not long_.triggered and short.triggered and short.position_m == 400.0
    quay.release(first)  # the long ship that waited gets the place at once
    assert long_.triggered and long_.position_m == 0.0 and quay.put_queue == []


def test_quay_cancel_withdraws_a_waiting_request():
    env, quay = _quay(500.0)
    held = quay.request(400.0)
    waiting, behind = quay.request(300.0), quay.request(300.0)
    waiting.cancel()
    assert quay.put_queue == [behind]
    quay.release(held)
    assert behind.triggered and not waiting.triggered


def test_quay_request_as_context_manager_releases_on_exit():
    env, quay = _quay(500.0)
    log = []

    def ship(name, loa_m, stay_h):
        with quay.request(loa_m) as berth:
            position = yield berth
            log.append((name, env.now, position))
            yield env.timeout(stay_h)

    def impatient():  # gives up after 1 h: its request leaves the queue, it never berths
        with quay.request(400.0) as berth:
            result = yield berth | env.timeout(1.0)
            assert berth not in result
        log.append(("impatient gave up", env.now, None))

    env.process(ship("a", 300.0, 5.0))
    env.process(impatient())
    env.process(ship("b", 400.0, 1.0))
    env.run()
    assert log == [("a", 0.0, 0.0), ("impatient gave up", 1.0, None), ("b", 5.0, 0.0)]
    assert quay.berthed == [] and quay.put_queue == []


def test_quay_place_at_a_given_position():
    env, quay = _quay(1000.0)
    alongside = quay.request(300.0, at_m=650.0)
    assert alongside.position_m == 650.0
    assert quay.request(400.0).position_m == 0.0 and not quay.request(300.0).triggered


def test_transship_pool_takes_the_longest_ready_boxes_lowest_ids_at_ties():
    """The pool picks by a partition: the same boxes as sorting by (ready time, id) and taking the
    first n, also when many boxes share a ready time at the cut."""
    from callao.sim.waterside import TransshipPool

    rng = np.random.default_rng(2)
    for n in (0, 1, 7, 50, 400, 5000):
        pool = TransshipPool()
        ids = rng.permutation(3000).astype(np.int64)
        ready = np.round(rng.uniform(0, 100, ids.size))  # about 100 distinct times: ties at the cut
        pool.add(ids, ready)
        eligible = np.flatnonzero(ready <= 60.0)
        expected = ids[eligible[np.lexsort((ids[eligible], ready[eligible]))[:n]]]
        taken = pool.take(60.0, n)
        assert sorted(taken.tolist()) == sorted(expected.tolist())
        assert pool.ids.size == ids.size - taken.size and not np.isin(taken, pool.ids).any()
