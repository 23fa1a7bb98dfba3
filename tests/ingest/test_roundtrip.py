"""Round trip: a simulated run → ``callao calls export`` (NMEA and MarineCadastre) → ``callao calls
detect`` must give back the run's own calls: at least 98% recovered with arrival and berth times
within 15 minutes and the right terminal, and no call invented."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from callao.cli import app
from callao.ingest.calls import calls_from_vessels
from callao.ingest.export import read_run
from callao.scenario import load_scenario
from callao.sim import simulate

TOLERANCE = pd.Timedelta(minutes=15)


def vessels_only_run(folder, years: float, seed: int = 11, scenario: str = "callao"):
    sc = load_scenario(scenario)
    sc = sc.model_copy(update={"simulation": sc.simulation.model_copy(update={"containers": False})})
    simulate(sc, seed=seed, years=years).write(folder)
    return folder


def round_trip(run_dir, tmp, fmt: str, interval_min: float) -> dict:
    runner = CliRunner()
    ais = tmp / f"ais.{fmt}"
    res = runner.invoke(app, ["calls", "export", str(run_dir), "--format", fmt, "--out", str(ais),
                              "--interval-min", str(interval_min)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["calls", "detect", str(ais), "--out", str(tmp / f"det-{fmt}")])
    assert res.exit_code == 0, res.output
    vessels, start, _ = read_run(run_dir)
    truth = calls_from_vessels(vessels, start)
    got = pd.read_parquet(tmp / f"det-{fmt}" / "calls.parquet")
    m = truth.merge(got, on="mmsi", how="inner", suffixes=("_true", "_got"))
    close = ((m["t_arrival_got"] - m["t_arrival_true"]).abs() <= TOLERANCE) & \
            ((m["t_berth_got"] - m["t_berth_true"]).abs() <= TOLERANCE)
    return {"truth": len(truth), "got": len(got), "matched": len(m), "close": int(close.sum()),
            "terminal_wrong": int((m["terminal_got"] != m["terminal_true"]).sum()),
            "invented": int((~got["mmsi"].isin(truth["mmsi"])).sum() + got["mmsi"].duplicated().sum()),
            "wait_err_h": float((m["anchorage_wait_h_got"] - m["anchorage_wait_h_true"]).abs().max()),
            "unberth_err": (m["t_unberth_got"] - m["t_unberth_true"]).abs().max(),
            "depart_err": (m["t_depart_got"] - m["t_depart_true"]).abs().max(),
            "output": res.output}


def check(r: dict) -> None:
    assert r["truth"] > 0
    assert r["close"] >= 0.98 * r["truth"], r
    assert r["terminal_wrong"] == 0, r
    assert r["invented"] == 0 and r["got"] <= r["truth"], r
    assert r["unberth_err"] <= TOLERANCE and r["depart_err"] <= TOLERANCE, r
    assert r["wait_err_h"] <= 0.25, r


@pytest.fixture(scope="module")
def two_months(tmp_path_factory):
    return vessels_only_run(tmp_path_factory.mktemp("run2m"), years=61 / 365)


@pytest.mark.parametrize("fmt", ["marinecadastre", "nmea"])
def test_round_trip_two_months(two_months, tmp_path, fmt):
    check(round_trip(two_months, tmp_path, fmt, interval_min=5))


def test_round_trip_chancay_terminal(tmp_path):
    run = vessels_only_run(tmp_path / "run", years=21 / 365, scenario="chancay")
    r = round_trip(run, tmp_path, "marinecadastre", interval_min=3)
    check(r)
    got = pd.read_parquet(tmp_path / "det-marinecadastre" / "calls.parquet")
    assert "chancay" in set(got["terminal"]) and "calls found" in r["output"]


def test_export_is_deterministic(two_months, tmp_path):
    from callao.ingest.export import tracks

    vessels, start, seed = read_run(two_months)
    a, _ = tracks(vessels.head(20), start, interval_s=300, seed=seed)
    b, _ = tracks(vessels.head(20), start, interval_s=300, seed=seed)
    pd.testing.assert_frame_equal(a, b)
    c, _ = tracks(vessels.head(20), start, interval_s=300, seed=seed + 1)
    assert not np.array_equal(a["lat"].to_numpy(), c["lat"].to_numpy())
    assert set(a["status"]) == {0, 1, 5}  # under way, at anchor, moored
    assert a.loc[a["status"] == 5, "sog"].max() < 0.5


def test_export_speeds_are_realistic(two_months):
    """Every call, whatever its wait: speed over ground and the speed implied by consecutive
    positions stay at or below a container ship's 20 kn in the bay (calls that wait only for their
    pilot drift at the boarding point instead of crossing the anchorage), and ships waiting there
    are stopped or drifting below 1 kn."""
    from callao.ingest.export import MAX_KN, PILOT_WAIT_H, STRAIGHT_IN_WAIT_H, tracks
    from callao.ingest.geofences import ANCHORAGE, Geofences

    vessels, start, seed = read_run(two_months)
    wait = (vessels["t_channel_in"] - vessels["t_arrival"]).to_numpy(float)
    short = (wait >= STRAIGHT_IN_WAIT_H) & (wait < PILOT_WAIT_H)
    assert short.sum() >= 10 and (wait >= PILOT_WAIT_H).sum() >= 10  # both kinds of wait are exercised
    a, _ = tracks(vessels, start, interval_s=120, seed=seed)
    assert a["sog"].max() <= MAX_KN
    geo = Geofences.load()
    x, y = geo.project(a["lon"].to_numpy(), a["lat"].to_numpy())
    a = a.assign(x=x, y=y, zone=geo.kind_of[geo.zone_of(x, y)]).sort_values(["mmsi", "t"], kind="stable")
    same = a["mmsi"].to_numpy()[1:] == a["mmsi"].to_numpy()[:-1]
    implied_kn = np.hypot(np.diff(a["x"]), np.diff(a["y"])) / np.diff(a["t"]) * 3600 / 1852
    assert implied_kn[same].max() <= MAX_KN
    # a pilot-boarding wait is spent slowly in the anchorage
    pilot = a[a["mmsi"].isin(760_000_000 + vessels["vessel_id"][short]) & (a["zone"] == ANCHORAGE)]
    assert len(pilot) and (pilot.groupby("mmsi")["sog"].min() < 1.0).mean() >= 0.9


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["marinecadastre", "nmea"])
def test_round_trip_one_year(tmp_path_factory, fmt):
    run = tmp_path_factory.getbasetemp() / "run1y"
    if not (run / "vessels.parquet").exists():
        vessels_only_run(run, years=1.0)
    check(round_trip(run, tmp_path_factory.mktemp(f"year-{fmt}"), fmt, interval_min=5))
