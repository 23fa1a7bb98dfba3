"""Forecasts from the observed state: the state read from the calls, the engine's initial-state
hook, announced closures, ETA lists, the CLI, and a backtest of the bands' coverage."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import callao
from callao.cli import app
from callao.forecast import forecast, port_state
from callao.forecast.backtest import backtest
from callao.forecast.report import read_forecast
from callao.ingest.calls import calls_from_vessels
from callao.scenario import load_scenario
from callao.sim.streams import Streams
from callao.sim.waterside import Waterside


@pytest.fixture(scope="module")
def year():
    sc = load_scenario("callao", simulation={"containers": False})
    run = callao.simulate(sc, seed=3, years=0.3)
    return sc, run, calls_from_vessels(run.vessels, sc.simulation.start_utc)


def _busy_hour(run):
    """An hour with ships both waiting and alongside."""
    v = run.vessels
    for h in np.arange(500.0, run.horizon_h - 300, 7.0):
        waiting = ((v["t_arrival"] <= h) & (v["t_channel_in"] > h)).sum()
        if waiting >= 3:
            return h
    raise AssertionError("no busy hour")


def test_state_is_what_the_run_had_at_that_time(year):
    sc, run, calls = year
    v = run.vessels.assign(mmsi=calls["mmsi"].to_numpy())
    h = _busy_hour(run)
    at = pd.Timestamp(sc.simulation.start_utc) + pd.Timedelta(hours=h)
    st = port_state(calls, at, sc)
    waiting = v[(v["t_arrival"] <= h) & (v["t_channel_in"] > h)]
    alongside = v[(v["t_channel_in"] <= h) & (v["t_unberth"] > h)]
    assert set(st.waiting["mmsi"]) == set(waiting["mmsi"])
    assert set(st.alongside["mmsi"]) == set(alongside["mmsi"])
    assert st.waiting["t_channel_in"].isna().all()  # nothing after `at` is known
    assert np.allclose(st.waiting.set_index("mmsi").loc[waiting["mmsi"], "waited_h"], h - waiting["t_arrival"], atol=1e-5)
    done = st.alongside.set_index("mmsi")["moves_done"]
    true_done = alongside.set_index("mmsi")["moves"]
    assert (done <= true_done.loc[done.index] * 1.05 + 1).all()  # never more than the whole call
    # ships call again and again: a state from calls sharing MMSIs is the same state
    again = port_state(calls.assign(mmsi=calls["mmsi"] % 13), at, sc)
    assert len(again.waiting) == len(st.waiting) and len(again.alongside) == len(st.alongside)
    assert np.allclose(np.sort(again.alongside["moves_done"]), np.sort(st.alongside["moves_done"]))


def test_initial_state_hook_keeps_ships_alongside(year):
    sc = load_scenario("callao", simulation={"containers": False, "years": 0.01})
    dpw = sc.terminal("dpworld")
    calls = pd.DataFrame({
        "vessel_id": [0, 1], "terminal": "dpworld", "vessel_class": "ulcv-14k", "loa_m": [366.0, 366.0],
        "max_cranes": 5, "t_arrival": [-20.0, -5.0], "moves": [200.0, 1000.0], "alternatives": "",
        "n_transship_in": 0, "n_transship_out": 0, "start_at_berth_m": [400.0, np.nan]})
    empty = pd.DataFrame({"port": pd.Series(dtype=str), "start_h": pd.Series(dtype=float), "end_h": pd.Series(dtype=float)})
    v = Waterside(sc, calls, empty.assign(reason=""), empty, Streams(0)).run()
    assert np.isnan(v.loc[0, "t_berth"]) and v.loc[0, "quay_position_m"] == 400.0
    assert v.loc[0, "t_handling_end"] == pytest.approx(200.0 / (5 * dpw.moves_per_crane_hour))
    # the waiting ship berths at once beside it (the quay has room), with its wait counted from -5 h
    assert v.loc[1, "t_channel_in"] == pytest.approx(0.0, abs=1.0)
    assert not (400 <= v.loc[1, "quay_position_m"] < 400 + 366 + dpw.berth_clearance_m)


def test_forecast_bands_ships_and_reproducibility(year):
    sc, run, calls = year
    at = pd.Timestamp(sc.simulation.start_utc) + pd.Timedelta(hours=_busy_hour(run))
    f = forecast(sc, calls, at, days=7, replications=12, seed=1)
    d = f.daily
    assert list(d["day"]) == list(range(1, 8))
    for name in ("queue", "wait_h"):
        q = d[[f"{name}_q2.5", f"{name}_q10", f"{name}_q50", f"{name}_q90", f"{name}_q97.5"]].dropna().to_numpy()
        assert (np.diff(q, axis=1) >= -1e-9).all()
    assert d.loc[0, "queue_q50"] > 0
    assert len(f.ships) == len(f.state.waiting) >= 3
    assert (f.ships["berth_q50"] > at).all() and (f.ships["berth_q10"] <= f.ships["berth_q90"]).all()
    again = forecast(sc, calls, at, days=7, replications=12, seed=1)
    pd.testing.assert_frame_equal(f.daily, again.daily)


def test_announced_closure_holds_ships_and_grows_the_queue(year):
    sc, run, calls = year
    at = pd.Timestamp(sc.simulation.start_utc) + pd.Timedelta(hours=_busy_hour(run))
    closure = (at + pd.Timedelta(hours=12), 48.0)
    open_ = forecast(sc, calls, at, days=5, replications=10, seed=2)
    shut = forecast(sc, calls, at, days=5, replications=10, seed=2, closures=[closure])
    assert shut.daily.loc[2, "queue_q50"] > open_.daily.loc[2, "queue_q50"] + 1
    start, end = closure[0], closure[0] + pd.Timedelta(hours=48)
    for col in ("berth_q2.5", "berth_q50", "berth_q97.5"):
        inside = (shut.ships[col] > start + pd.Timedelta(hours=1)) & (shut.ships[col] < end)
        assert not inside.any()


def test_eta_list_replaces_the_scenarios_arrivals(year, tmp_path):
    sc, run, calls = year
    at = pd.Timestamp("2024-01-01T00:00Z")  # before any call: an empty port
    etas = pd.DataFrame({"mmsi": [1, 2, 3, 4], "eta": [at + pd.Timedelta(hours=h) for h in (1, 1.5, 2, 2.5)],
                         "loa_m": [366.0, 366.0, 366.0, 366.0], "terminal": "dpworld"})
    f = forecast(sc, calls.iloc[:0], at, days=3, replications=4, etas=etas)
    assert f.daily.loc[0, "queue_q50"] > 0.3  # four ULCVs for a quay of two
    assert f.daily.loc[2, "queue_q97.5"] == 0  # nothing else arrives
    with pytest.raises(ValueError, match="eta 'soon' is not a time"):
        forecast(sc, calls.iloc[:0], at, days=3, replications=4, etas=etas.assign(eta="soon"))


def test_cli_forecast_writes_tables_and_fan_chart(year, tmp_path):
    sc, run, calls = year
    calls.to_parquet(tmp_path / "calls.parquet")
    at = (pd.Timestamp(sc.simulation.start_utc) + pd.Timedelta(hours=_busy_hour(run))).strftime("%Y-%m-%dT%H:%M")
    (tmp_path / "v.toml").write_text('extends = "callao"\nname = "v"\n[simulation]\ncontainers = false\n')
    res = CliRunner().invoke(app, ["forecast", "--calls", str(tmp_path / "calls.parquet"), "--at", at,
                                   "--replications", "5", "--days", "3", "--out", str(tmp_path / "fc"),
                                   "--scenario", str(tmp_path / "v.toml"), "--closure", f"{at}/6"])
    assert res.exit_code == 0, res.output
    assert "Ships waiting now" in res.output
    daily = pd.read_parquet(tmp_path / "fc" / "forecast.parquet")
    assert len(daily) == 3 and {"queue_q10", "queue_q90", "wait_h_q2.5"} <= set(daily.columns)
    assert "95% band" in (tmp_path / "fc" / "forecast.html").read_text()
    back = read_forecast(tmp_path / "fc")  # what the dashboard reads: the state at --at and the closure
    assert back.at == pd.Timestamp(at, tz="UTC") and back.replications == 5 and back.days == 3
    assert back.closures == [(pd.Timestamp(at, tz="UTC"), 6.0)]
    st = pd.read_parquet(tmp_path / "fc" / "state.parquet")
    assert (st["kind"] == "waiting").sum() == len(back.ships) >= 3 and (st["kind"] == "alongside").any()
    bad = CliRunner().invoke(app, ["forecast", "--calls", str(tmp_path / "calls.parquet"), "--at", at,
                                   "--closure", "tomorrow"])
    assert bad.exit_code == 2 and "expected START/HOURS" in bad.output and "Traceback" not in bad.output


@pytest.mark.slow
def test_backtest_bands_cover_the_realised_queue():
    """Coverage over 10 start times x 7 days of a simulated year (docs/twin.md has the long run)."""
    sc = load_scenario("callao", simulation={"containers": False})
    run = callao.simulate(sc, seed=5)
    bt = backtest(sc, run, np.arange(20 * 24, 350 * 24, 33 * 24), days=7, replications=20, seed=1)
    total = bt.by_day.set_index("day").loc["all"]
    assert total["forecasts"] == 70
    assert 0.6 <= total["coverage_80"] <= 0.95
    assert 0.8 <= total["coverage_95"] <= 1.0


def test_prediction_band_covers_a_new_draw_at_its_level():
    from callao.forecast.run import band

    rng = np.random.default_rng(0)
    draws = rng.gamma(2.0, 3.0, size=(31, 4000))  # 30 replications + the outcome, 4000 times
    reps, new = draws[:30], draws[30]
    in80 = (band(reps, 0.10) <= new) & (new <= band(reps, 0.90))
    in95 = (band(reps, 0.025) <= new) & (new <= band(reps, 0.975))
    assert abs(in80.mean() - 25 / 31) < 0.02 and abs(in95.mean() - 29 / 31) < 0.015
    with_nan = np.vstack([reps[:, :3], np.full((1, 3), np.nan)])
    assert np.isfinite(band(with_nan, 0.975)).all()
