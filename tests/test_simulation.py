"""The engine's physical rules and bookkeeping, on a five-week Callao run and small variants."""

import numpy as np
import pandas as pd
import pytest

import callao
from callao.tables import hourly_mean
from callao.scenario import FLOWS, load_scenario
from callao.sim.queues import fifo_wait
from callao.sim.waterside import allocate_cranes


def test_container_conservation_by_terminal_and_flow(short_run):
    r = short_run
    c, v, H = r.containers, r.vessels, r.horizon_h
    # Discharged boxes on the container table match the moves the vessels made.
    for flow, col in (("import", "n_import"), ("empty_in", "n_empty_in"), ("transship", "n_transship_in")):
        on_vessels = v.loc[v["t_handling_start"] <= H].set_index("vessel_id")[col]
        rows = c[c["flow"] == flow].groupby("vessel_in").size()
        # every box in the table came off a vessel that made at least that many moves of this flow
        assert (rows <= on_vessels.reindex(rows.index)).all()
        # vessels whose work finished before the horizon put all their boxes ashore
        done = v[(v["t_handling_end"] <= H)].set_index("vessel_id")[col]
        assert rows.reindex(done.index, fill_value=0).equals(done.astype(rows.dtype)), flow
    for flow, col in (("export", "n_export"), ("empty_out", "n_empty_out")):
        done = v[(v["t_handling_end"] <= H)].set_index("vessel_id")[col]
        rows = c[c["flow"] == flow].groupby("vessel_out").size()
        assert rows.reindex(done.index, fill_value=0).equals(done.astype(rows.dtype)), flow
    # In = out + still in the yard, per terminal and flow; and the yard series agrees.
    for (term, flow), g in c.groupby(["terminal", "flow"]):
        entered = g["t_yard_in"] <= H
        left = g["t_yard_out"] <= H
        in_yard = entered & ~left
        assert entered.all() and (left | in_yard).all()
        assert entered.sum() == left.sum() + in_yard.sum()
    stock_end = c.loc[c["t_yard_out"].isna() | (c["t_yard_out"] > H)].groupby("terminal")["teu"].sum()
    last_hour = hourly_mean(c["t_yard_in"].to_numpy(), c["t_yard_out"].to_numpy(),
                            np.ones(len(c)), int(np.ceil(H)))
    assert (r.yard_teu.to_numpy() >= -1e-6).all() and (last_hour >= -1e-6).all()
    for term, teu in stock_end.items():
        assert r.yard_teu[term].iloc[-1] == pytest.approx(teu, rel=0.02)
    # Every box has a consistent timeline.
    assert (c["t_yard_out"].fillna(np.inf) >= c["t_yard_in"] - 1e-9).all()
    assert set(c["flow"].unique()) == set(FLOWS)


def test_vessel_conservation(short_run):
    v, H = short_run.vessels, short_run.horizon_h
    arrived = v["t_arrival"] < H
    departed = v["t_depart"] <= H
    at_berth = (v["t_berth"] <= H) & ~departed
    waiting = arrived & ~(v["t_berth"] <= H)
    assert arrived.sum() == departed.sum() + at_berth.sum() + waiting.sum()
    assert not (departed & ~arrived).any()
    times = v[["t_arrival", "t_berth_assigned", "t_channel_in", "t_berth", "t_handling_start",
               "t_handling_end", "t_unberth", "t_depart"]].to_numpy()
    assert (np.diff(times, axis=1) >= -1e-9).all()


def test_quay_positions_never_overlap_and_fit(short_run):
    r = short_run
    for t in r.scenario.terminals:
        v = r.vessels[r.vessels["terminal"] == t.name]
        start = v["quay_position_m"].to_numpy()
        end = start + v["loa_m"].to_numpy() + t.berth_clearance_m
        assert (end <= t.quay_length_m + 1e-6).all()
        a, b = v["t_berth_assigned"].to_numpy(), v["t_unberth"].to_numpy()
        for i in range(len(v)):
            both = (a < b[i]) & (a[i] < b)  # on the quay at the same time
            both[i] = False
            overlap = both & (start < end[i]) & (start[i] < end)
            assert not overlap.any()
        assert (v["cranes_max"] <= np.minimum(v["max_cranes"], t.cranes)).all()
        assert (v["draft_m"] <= t.depth_m).all()


def test_crane_allocation_never_exceeds_pool():
    assert allocate_cranes(10, [5, 5, 5]) == [4, 3, 3]
    assert allocate_cranes(10, [2, 5]) == [2, 5]
    assert allocate_cranes(3, [4, 4, 4, 4]) == [1, 1, 1, 0]
    rng = np.random.default_rng(0)
    for _ in range(200):
        maxima = rng.integers(1, 6, rng.integers(0, 6)).tolist()
        total = int(rng.integers(1, 15))
        alloc = allocate_cranes(total, maxima)
        assert sum(alloc) == min(total, sum(maxima))
        assert all(0 <= a <= m for a, m in zip(alloc, maxima))


def test_large_vessels_have_the_channel_to_themselves(short_run):
    r = short_run
    limit, d = r.scenario.home.channel.one_way_loa_m, r.scenario.home.channel.transit_h
    v = r.vessels
    spans = pd.concat([
        pd.DataFrame({"s": v["t_channel_in"], "large": v["loa_m"] >= limit}),
        pd.DataFrame({"s": v["t_unberth"], "large": v["loa_m"] >= limit}),
    ]).dropna().sort_values("s").to_numpy()
    for i in range(len(spans)):
        for j in range(i + 1, len(spans)):
            if spans[j, 0] >= spans[i, 0] + d - 1e-9:
                break
            assert not (spans[i, 1] or spans[j, 1]), "a large vessel shared the channel"


def test_no_transit_starts_during_closures_or_naval_movements(short_run):
    r = short_run
    d = r.scenario.home.channel.transit_h
    starts = np.concatenate([r.vessels["t_channel_in"], r.vessels["t_unberth"]])
    assert set(r.closures["port"]) <= {"callao"} and set(r.naval["port"]) == {"callao"}
    for frame in (r.closures, r.naval):
        for s, e in zip(frame["start_h"], frame["end_h"]):
            assert not ((starts < e) & (starts + d > s)).any()


def test_naval_movements_cause_encounters_and_relocation_removes_them():
    sc = load_scenario("callao", simulation={"years": 0.05, "containers": False})
    with_navy = callao.simulate(sc, seed=3).kpis
    without = callao.simulate(load_scenario("callao", simulation={"years": 0.05, "containers": False},
                                            naval={"movements_per_day": 0.0}), seed=3).kpis
    assert with_navy["civil_military_encounters"] > 0 and with_navy["naval_delay_h_total"] > 0
    assert without["civil_military_encounters"] == 0 and without["naval_movements"] == 0


def test_closure_stops_transits_and_backlog_is_worked_off():
    days = 60 / 365
    base = load_scenario("callao", simulation={"years": days, "containers": False},
                         closures={"seasons": []}, naval={"movements_per_day": 0.0})
    shut = load_scenario("callao", simulation={"years": days, "containers": False},
                         closures={"seasons": [], "fixed": [{"start_h": 480.0, "duration_h": 120.0}]},
                         naval={"movements_per_day": 0.0})
    a, b = callao.simulate(base, seed=5), callao.simulate(shut, seed=5)
    assert b.kpis["closure_hours"] == 120.0 and a.kpis["closure_hours"] == 0
    vb = b.vessels
    inside = ((vb["t_channel_in"] > 480) & (vb["t_channel_in"] < 600)).sum()
    assert inside == 0
    assert b.kpis["anchorage_wait_mean_h"] > a.kpis["anchorage_wait_mean_h"] + 5
    # Work stopped: nobody's handling progressed during the closure, so berth time grew.
    assert b.kpis["berth_time_mean_h"] > a.kpis["berth_time_mean_h"]
    # Backlog cleared: the queue a month after the closure is back to normal.
    late_a = a.vessels[a.vessels["t_arrival"] > 1200]
    late_b = vb[vb["t_arrival"] > 1200]
    wait = lambda v: (v["t_channel_in"] - v["t_arrival"]).mean()
    assert wait(late_b) < wait(late_a) + 12


def test_same_seed_same_parquet_bytes(tmp_path):
    sc = load_scenario("callao", simulation={"years": 0.03})
    for name in ("a", "b"):
        callao.simulate(sc, seed=11).write(tmp_path / name)
    for table in ("containers", "vessels", "closures", "naval"):
        assert (tmp_path / "a" / f"{table}.parquet").read_bytes() == (tmp_path / "b" / f"{table}.parquet").read_bytes()
    assert (tmp_path / "a" / "kpis.json").read_text() == (tmp_path / "b" / "kpis.json").read_text()
    other = callao.simulate(sc, seed=12)
    assert other.kpis["containers_total"] != callao.simulate(sc, seed=11).kpis["containers_total"]


def test_changing_customs_leaves_vessel_draws_alone():
    a = callao.simulate(load_scenario("callao", simulation={"years": 0.03}), seed=2)
    b = callao.simulate(load_scenario("callao", simulation={"years": 0.03}, customs={"scanners": 6}), seed=2)
    pd.testing.assert_frame_equal(a.vessels, b.vessels)
    assert a.containers["t_discharge"].equals(b.containers["t_discharge"])


def test_fifo_wait_matches_a_loop():
    rng = np.random.default_rng(1)
    arr = np.cumsum(rng.exponential(1.0, 2000))
    svc = rng.exponential(0.9, 2000)
    w, free = [], 0.0
    for a, s in zip(arr, svc):
        start = max(a, free)
        w.append(start - a)
        free = start + s
    perm = rng.permutation(2000)
    got = fifo_wait(arr[perm], svc[perm])
    np.testing.assert_allclose(got, np.array(w)[perm], atol=1e-9)


def test_customs_capacity_is_never_exceeded(short_run):
    c, cus = short_run.containers, short_run.scenario.customs
    for channel, rate_per_h in (("orange", cus.scanners * cus.scans_per_hour), ("red", cus.exams_per_day / 24)):
        sel = c["customs_channel"] == channel
        start = np.sort(c.loc[sel, "t_inspection_start"].to_numpy())
        assert start.size > 100
        # consecutive inspections start at least one service slot apart: capacity is a hard limit
        assert (np.diff(start) >= 1 / rate_per_h - 1e-9).all()
        assert (c.loc[sel, "t_inspection_start"] >= c.loc[sel, "t_customs_request"] - 1e-9).all()
        assert (c.loc[sel, "t_customs_release"] > c.loc[sel, "t_inspection_start"]).all()
    green = c["customs_channel"] == "green"
    assert c.loc[green, "t_inspection_start"].isna().all()


def test_simulate_rejects_nonsense():
    with pytest.raises(callao.ScenarioError, match="years"):
        callao.simulate("callao", years=-1)


def test_kept_rows_shifted_equal_a_filter_then_a_shift(short_run):
    """The engine gathers the kept containers and shifts their times in one pass: the same table
    as filtering the rows, renumbering them and shifting every time column."""
    from callao.sim.engine import _rows_shifted, _shifted

    c = short_run.containers
    rows = np.flatnonzero(np.random.default_rng(0).random(len(c)) < 0.9)
    expected = c.iloc[rows].reset_index(drop=True)
    expected["container_id"] = np.arange(rows.size, dtype=np.int64)
    for hours in (0.0, 720.0):
        got = _rows_shifted(c, rows, hours)
        want = _shifted(expected, hours) if hours else expected
        assert got.equals(want) and list(got.dtypes) == list(want.dtypes)
