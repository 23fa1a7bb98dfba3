"""Replay (trace-driven simulation) of observed calls.

What must match when a run's own calls are replayed through the same scenario and seed:
- with the work content taken from the trace (its ``moves``), everything the engine decides:
  the terminal and quay position of every call, the berthing order, and every anchorage wait
  within 10 seconds (times went through the calls table at millisecond resolution);
- with the work content estimated from the observed berth times (no ``moves`` column, as from
  AIS), the same calls and terminals, and waits within a mean absolute error of 0.5 h;
- with the work content drawn from the scenario, the same calls and terminal per call, and a mean
  wait within 40% of the original (one quarter of traffic; the waits of a quarter vary that much
  between seeds).
"""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import callao
from callao.cli import app
from callao.fit import replay


def _wait(v):
    return (v["t_channel_in"] - v["t_arrival"]).to_numpy(float)


def test_replay_with_traced_moves_reproduces_the_run(quarter):
    sc, run, calls = quarter
    again = callao.simulate(sc, seed=3, arrivals=calls).vessels
    v = run.vessels
    assert len(again) == len(v)
    assert (again["mmsi"].to_numpy() == calls["mmsi"].to_numpy()).all()
    assert (again["terminal"].to_numpy() == v["terminal"].to_numpy()).all()
    assert np.array_equal(again["quay_position_m"].to_numpy(), v["quay_position_m"].to_numpy())
    assert np.array_equal(np.argsort(again["t_berth"].to_numpy(), kind="stable"),
                          np.argsort(v["t_berth"].to_numpy(), kind="stable"))
    assert np.nanmax(np.abs(_wait(again) - _wait(v))) < 10 / 3600
    assert _wait(v).max() > 24  # a real queue was reproduced, not an empty port


def test_replay_from_berth_times_is_close(quarter):
    sc, run, calls = quarter
    rr = replay(sc, calls.drop(columns=["moves"]), seed=3)
    assert (rr.table["terminal"].to_numpy() == run.vessels["terminal"].to_numpy()).all()
    overall = rr.summary.set_index("terminal").loc["all"]
    assert overall["calls"] == len(run.vessels)
    assert overall["mae_h"] < 0.5
    assert abs(overall["bias_h"]) < 0.5
    assert np.allclose(rr.table["observed_wait_h"], _wait(run.vessels))


def test_replay_with_drawn_moves_keeps_calls_and_terminals(quarter):
    sc, run, calls = quarter
    rr = replay(sc, calls, seed=3, handling="drawn")
    assert (rr.table["terminal"].to_numpy() == run.vessels["terminal"].to_numpy()).all()
    assert not np.allclose(rr.table["moves"], run.vessels["moves"])  # really drawn
    obs, pred = _wait(run.vessels).mean(), rr.table["predicted_wait_h"].mean()
    assert abs(pred - obs) < 0.4 * obs
    assert rr.summary.set_index("terminal").loc["all", "mae_h"] > 1.0


def test_replay_moves_the_horizon_to_the_data(quarter):
    sc, run, calls = quarter
    later = calls.copy()
    for col in ("t_arrival", "t_channel_in", "t_berth", "t_unberth", "t_depart"):
        later[col] = later[col] + pd.Timedelta(days=800)
    r = callao.simulate(sc, seed=3, arrivals=later.iloc[:40])
    assert r.scenario.simulation.start_utc == later["t_arrival"].iloc[0].floor("D")
    assert r.horizon_h >= (later["t_arrival"].iloc[39] - later["t_arrival"].iloc[0]).total_seconds() / 3600
    assert len(r.vessels) == 40


def test_calls_that_never_berthed_are_left_out_and_unknown_terminals_named(quarter):
    sc, run, calls = quarter
    c = calls.iloc[:30].copy()
    c.loc[c.index[0], "terminal"] = None
    assert len(callao.simulate(sc, seed=1, arrivals=c).vessels) == 29
    c.loc[c.index[1], "terminal"] = "chancay-north"
    with pytest.raises(ValueError, match="chancay-north.*expected one of dpworld, apmt"):
        callao.simulate(sc, seed=1, arrivals=c)


def test_cli_run_arrivals_prints_and_writes_the_replay(quarter, tmp_path):
    sc, run, calls = quarter
    calls.iloc[:60].to_parquet(tmp_path / "calls.parquet")
    (tmp_path / "vessels.toml").write_text('extends = "callao"\nname = "v"\n[simulation]\ncontainers = false\n')
    res = CliRunner().invoke(app, ["run", str(tmp_path / "vessels.toml"), "--arrivals", str(tmp_path / "calls.parquet"),
                                   "--out", str(tmp_path / "out"), "--no-report"])
    assert res.exit_code == 0, res.output
    assert "MAE" in res.output and "bias" in res.output
    table = pd.read_parquet(tmp_path / "out" / "replay.parquet")
    assert len(table) == 60 and {"observed_wait_h", "predicted_wait_h", "error_h"} <= set(table.columns)
    bad = CliRunner().invoke(app, ["run", "--arrivals", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "o2")])
    assert bad.exit_code == 2 and "nope.parquet: no such file" in bad.output and "Traceback" not in bad.output
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    bad = CliRunner().invoke(app, ["run", "--arrivals", str(tmp_path / "x.parquet"), "--out", str(tmp_path / "o3")])
    assert bad.exit_code == 2 and "not a readable Parquet" in bad.output
