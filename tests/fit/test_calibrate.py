"""Calibration recovers the truth: a year simulated from a scenario whose parameters were changed
(20% more calls at APM Terminals, DP World's cranes 5% slower) is fitted starting from the
bundled port, from what AIS shows (no moves column)."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import callao
from callao.cli import app
from callao.fit.calibrate import calibrate, fitted_scenario, weekly_test
from callao.fit.compare import model_vs_data
from callao.ingest.calls import calls_from_vessels
from callao.scenario import load_scenario
from callao.scenario.load import read_toml, validate

BASE_RATE = {t.name: t.moves_per_crane_hour for t in load_scenario("callao").terminals}
TRUE_RATE = {"dpworld": round(0.95 * BASE_RATE["dpworld"], 3), "apmt": BASE_RATE["apmt"]}
"""The truth: DP World's cranes 5% slower than the bundled port's, APM Terminals' as bundled."""


@pytest.fixture(scope="module")
def truth():
    sc = load_scenario("callao", simulation={"containers": False},
                       tramp=[{"name": "apmt-extra-panamax", "calls_per_year": 207.0}],  # apmt 510 -> 612 calls a year
                       terminals=[{"name": "dpworld", "moves_per_crane_hour": TRUE_RATE["dpworld"]}])
    run = callao.simulate(sc, seed=1)
    calls = calls_from_vessels(run.vessels, sc.simulation.start_utc).drop(columns=["moves"])
    return sc, calls, calibrate(calls, "callao", source="truth.parquet", seed=1)


def _true_band_rates(sc):
    years = sc.simulation.years
    rates = {}
    for s in sc.services:
        n = np.arange(s.first_window_h, sc.horizon_h, s.interval_days * 24).size
        rates[(s.terminal, s.vessel_class)] = rates.get((s.terminal, s.vessel_class), 0.0) + n / years
    for t in sc.tramp:
        rates[(t.terminal, t.vessel_class)] = rates.get((t.terminal, t.vessel_class), 0.0) + t.calls_per_year
    return rates


def test_fitted_arrival_rates_cover_the_truth(truth):
    sc, calls, cal = truth
    true = _true_band_rates(sc)
    assert {(b.terminal, b.vessel_class) for b in cal.bands} == set(true)
    for b in cal.bands:
        e = b.calls_per_year
        assert e.covers(true[(b.terminal, b.vessel_class)]), (b.terminal, b.vessel_class, e, true)
    apmt = sum(b.calls_per_year.value for b in cal.bands if b.terminal == "apmt")
    assert 580 < apmt < 645  # the 20% more calls are seen (base: 510 a year)


def test_fitted_crane_rates_cover_the_truth(truth):
    sc, calls, cal = truth
    for name, rate in TRUE_RATE.items():
        e = cal.crane_rate[name]
        assert e.covers(rate), (name, e)
        assert e.high - e.low < 0.15 * rate  # informative, not a blanket interval
    assert cal.crane_rate["dpworld"].value < BASE_RATE["dpworld"]  # slower than the base


def test_overlay_is_valid_and_commented(truth, tmp_path):
    sc, calls, cal = truth
    path = cal.write(tmp_path / "fitted.toml")
    text = path.read_text()
    assert text.count("95% CI") >= len(cal.bands) + 2 and "truth.parquet" in text and 'extends = "callao"' in text
    fitted = validate(read_toml(path), "fitted.toml")
    assert fitted.terminal("dpworld").moves_per_crane_hour == pytest.approx(cal.crane_rate["dpworld"].value, abs=1e-3)
    expected = sum(365.0 / s.interval_days for s in fitted.services if s.first_window_h < 1e8) + \
        sum(t.calls_per_year for t in fitted.tramp)
    assert expected == pytest.approx(sum(b.calls_per_year.value for b in cal.bands), rel=0.01)
    direct = fitted_scenario(cal)
    assert [t.calls_per_year for t in direct.tramp] == [t.calls_per_year for t in fitted.tramp]


def test_weekly_pattern_test_tells_services_from_poisson():
    rng = np.random.default_rng(5)
    start = pd.Timestamp("2024-01-01", tz="UTC")
    poisson = start + pd.to_timedelta(np.sort(rng.uniform(0, 8760, 300)), unit="h")
    weekly = start + pd.to_timedelta(np.concatenate([np.arange(52) * 168 + w for w in (20, 70, 130)])
                                     + rng.normal(6, 12, 156), unit="h")
    assert weekly_test(pd.Series(poisson))[1] > 0.01
    assert weekly_test(pd.Series(weekly))[1] < 1e-3
    # its size: Poisson arrivals are called weekly about 5% of the time at p < 0.05
    p = [weekly_test(pd.Series(start + pd.to_timedelta(rng.uniform(0, 8760, 150), unit="h")))[1] for _ in range(300)]
    assert 0.02 < np.mean(np.array(p) < 0.05) < 0.09


@pytest.mark.slow
def test_fitted_scenario_waits_match_the_data(truth):
    sc, calls, cal = truth
    comp = model_vs_data(fitted_scenario(cal), calls, replications=8, seed=2).table.set_index("figure")
    for fig in ("anchorage_wait_mean_h", "calls_per_week", "berth_time_mean_h"):
        assert comp.loc[fig, "data_within_pi"], comp.loc[fig]
    assert comp.loc["berth_time_mean_h", "model_mean"] == pytest.approx(comp.loc["berth_time_mean_h", "data"], rel=0.05)


def test_cli_calibrate_writes_overlay_and_comparison(tmp_path):
    sc = load_scenario("callao", simulation={"containers": False})
    run = callao.simulate(sc, seed=4, years=0.25)
    calls_from_vessels(run.vessels, sc.simulation.start_utc).drop(columns=["moves"]).to_parquet(tmp_path / "calls.parquet")
    res = CliRunner().invoke(app, ["calibrate", str(tmp_path / "calls.parquet"), "--out", str(tmp_path / "fit.toml"),
                                   "--replications", "2"])
    assert res.exit_code == 0, res.output
    assert "crane-hour" in res.output and "KS anchorage wait" in res.output
    validate(read_toml(tmp_path / "fit.toml"), "fit.toml")
    html = (tmp_path / "fit.html").read_text()
    assert "QQ plot" in html and "<script src" not in html  # plotly.js embedded: works offline
    table = pd.read_csv(tmp_path / "fit-comparison.csv")
    assert {"data", "model_mean", "pi_low", "pi_high"} <= set(table.columns)
    bad = CliRunner().invoke(app, ["calibrate", str(tmp_path / "missing.parquet")])
    assert bad.exit_code == 2 and "missing.parquet: no such file" in bad.output
