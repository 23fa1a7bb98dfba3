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
