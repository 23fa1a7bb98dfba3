"""Call detection on small hand-made and exported tracks, clean and dirty."""

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from callao.cli import app
from callao.ingest.calls import CALLS_COLUMNS, SIMULATED_MMSI_BASE, calls_from_vessels
from callao.ingest.detect import detect_calls
from callao.ingest.export import tracks, write_marinecadastre
from callao.ingest.geofences import Geofences
from callao.ingest.readers import DUPLICATE, OUT_OF_ORDER, SPEED_JUMP

START = datetime(2024, 3, 1, tzinfo=timezone.utc)
T0 = START.timestamp()


@pytest.fixture(scope="module")
def geo():
    return Geofences.load()


def vessels():
    """Three calls: one waits 6 h at Callao's anchorage, one goes straight in, one at Chancay."""
    return pd.DataFrame({
        "vessel_id": [1, 2, 3], "terminal": ["dpworld", "apmt", "chancay"], "loa_m": [300.0, 200.0, 366.0],
        "draft_m": [14.0, 11.0, 15.5], "quay_position_m": [100.0, 400.0, 0.0],
        "t_arrival": [2.0, 5.0, 3.0], "t_channel_in": [8.0, 5.0, 4.5], "t_berth": [9.0, 6.0, 5.5],
        "t_unberth": [30.0, 20.0, 40.0], "t_depart": [31.0, 21.0, 41.0]})


def statics_of(st):
    return st.assign(ship_type=70)


def detect(tmp_path, positions, statics, **kw):
    tmp_path.mkdir(parents=True, exist_ok=True)
    f = tmp_path / "ais.csv"
    write_marinecadastre(positions, statics, f)
    return detect_calls([f], tmp_path / "out", **kw)


def assert_matches_truth(calls, tol_min=5.0):
    truth = calls_from_vessels(vessels(), START)
    assert len(calls) == len(truth)
    m = truth.merge(calls, on="mmsi", suffixes=("_true", "_got"))
    assert len(m) == len(truth)
    assert (m["terminal_true"] == m["terminal_got"]).all()
    for col in ("t_arrival", "t_channel_in", "t_berth", "t_unberth", "t_depart"):
        err = (m[f"{col}_got"] - m[f"{col}_true"]).dt.total_seconds().abs() / 60
        assert err.max() <= tol_min, col
    assert np.allclose(m["quay_position_m_got"], m["quay_position_m_true"], atol=5)
    assert np.allclose(m["loa_m_got"], m["loa_m_true"]) and (m["name_got"] == m["name_true"]).all()


def test_clean_tracks_give_back_the_calls(tmp_path, geo):
    pos, st = tracks(vessels(), START, geo, interval_s=120, seed=1)
    calls, summary = detect(tmp_path, pos, st)
    assert list(calls.columns[: len(CALLS_COLUMNS)]) == list(CALLS_COLUMNS)
    assert_matches_truth(calls)
    assert summary.refused_total == 0 and summary.positions_kept == len(pos)
    assert (tmp_path / "out" / "calls.parquet").is_file()
    assert pd.read_parquet(tmp_path / "out" / "calls.parquet")["mmsi"].tolist() == calls["mmsi"].tolist()


def test_noise_duplicates_disorder_and_jumps_are_tolerated(tmp_path, geo):
    pos, st = tracks(vessels(), START, geo, interval_s=120, seed=2)
    rng = np.random.default_rng(0)
    dups = pos.sample(frac=0.05, random_state=1)
    spikes = pos.sample(n=20, random_state=2).copy()
    spikes["lat"] += 0.1  # 11 km away and back within two minutes
    spikes["t"] += 30
    late = pos.iloc[[len(pos) // 2]].copy()  # re-sent two hours after its time
    dirty = pd.concat([pos, dups, spikes], ignore_index=True)
    dirty["key"] = dirty["t"] + rng.uniform(-600, 600, len(dirty))  # receivers mixed up within 10 minutes
    dirty = dirty.sort_values("key").drop(columns="key")
    idx = int(np.searchsorted(dirty["t"].to_numpy(), late["t"].iloc[0] + 7200))
    dirty = pd.concat([dirty.iloc[:idx], late, dirty.iloc[idx:]], ignore_index=True)
    calls, summary = detect(tmp_path, dirty, st, chunk_rows=1000)
    assert_matches_truth(calls)
    # a copy that lands in the next chunk is not refused but merges harmlessly into the same run
    assert len(dups) - 5 <= summary.refused[DUPLICATE] <= len(dups)
    assert summary.refused[SPEED_JUMP] == len(spikes)
    assert summary.refused[OUT_OF_ORDER] >= 1
    q = pd.read_csv(tmp_path / "out" / "quarantine.csv")
    assert len(q) == summary.refused_total
    assert set(q["reason"]) == {DUPLICATE, SPEED_JUMP, OUT_OF_ORDER}


def test_chunk_size_does_not_change_the_result(tmp_path, geo):
    pos, st = tracks(vessels(), START, geo, interval_s=120, seed=3)
    a, _ = detect(tmp_path / "a", pos, st, chunk_rows=1000)
    b, _ = detect(tmp_path / "b", pos, st, chunk_rows=1_000_000)
    pd.testing.assert_frame_equal(a, b)


def track(mmsi, legs, interval_s=180.0):
    """Positions along (hours, lon, lat, status) waypoints."""
    T = np.array([leg[0] for leg in legs]) * 3600
    t = np.arange(T[0], T[-1], interval_s)
    lon = np.interp(t, T, [leg[1] for leg in legs])
    lat = np.interp(t, T, [leg[2] for leg in legs])
    sog = np.hypot(np.gradient(lon) * 108_900, np.gradient(lat) * 110_600) / interval_s / 0.5144
    status = np.array([legs[i][3] for i in np.clip(np.searchsorted(T, t, "right") - 1, 0, len(legs) - 1)])
    return pd.DataFrame({"mmsi": mmsi, "t": T0 + t, "lat": lat, "lon": lon, "sog": np.round(sog, 1),
                         "cog": 0.0, "heading": 0, "status": status})


def static(mmsi, ship_type=70):
    return pd.DataFrame({"mmsi": [mmsi], "name": [f"S{mmsi}"], "loa_m": [200.0], "beam_m": [30.0],
                         "draft_m": [10.0], "ship_type": [ship_type]})


SEA_W = (-77.35, -12.00)
ANCHOR = (-77.20, -12.02)
C0, C1 = (-77.1711, -12.0374), (-77.154, -12.048)
APMT = (-77.14418, -12.0440)  # 20 m off APM's quay
DPW = (-77.1505, -12.0553)  # off DP World's quay (north side)


def test_ship_that_anchors_and_leaves_without_berthing(tmp_path):
    pos = track(SIMULATED_MMSI_BASE + 9, [(0, *SEA_W, 0), (1, *ANCHOR, 1), (11, *ANCHOR, 0), (12.5, *SEA_W, 0)])
    calls, summary = detect(tmp_path, pos, static(SIMULATED_MMSI_BASE + 9))
    assert len(calls) == 1
    c = calls.iloc[0]
    assert pd.isna(c["terminal"]) and pd.isna(c["t_berth"]) and pd.isna(c["t_channel_in"])
    assert abs((c["t_arrival"] - pd.Timestamp(T0 + 0.8 * 3600, unit="s", tz="UTC")).total_seconds()) < 1800
    assert c["t_depart"] > c["t_arrival"] + pd.Timedelta(hours=9)
    assert summary.calls_berthed == 0


def test_shift_between_berths_keeps_the_first_berth_and_counts_the_shift(tmp_path):
    legs = [(0, *SEA_W, 0), (1, *C0, 0), (2, *C1, 0), (2.5, *DPW, 5), (12.5, *DPW, 0), (13, *C1, 0),
            (13.5, *APMT, 5), (23.5, *APMT, 0), (24, *C1, 0), (25, *C0, 0), (26, *SEA_W, 0)]
    pos = track(SIMULATED_MMSI_BASE + 7, legs)
    calls, _ = detect(tmp_path, pos, static(SIMULATED_MMSI_BASE + 7))
    assert len(calls) == 1
    c = calls.iloc[0]
    assert c["terminal"] == "dpworld" and c["berth_shifts"] == 1
    assert abs((c["t_berth"] - pd.Timestamp(T0 + 2.5 * 3600, unit="s", tz="UTC")).total_seconds()) <= 180
    assert abs((c["t_unberth"] - pd.Timestamp(T0 + 23.5 * 3600, unit="s", tz="UTC")).total_seconds()) <= 180
    assert c["anchorage_wait_h"] == 0


def test_other_ship_types_make_no_calls_unless_asked(tmp_path):
    from callao.ingest.detect import DetectOptions

    legs = [(0, *SEA_W, 0), (1, *C0, 0), (2, *C1, 0), (2.5, *APMT, 5), (6, *APMT, 0), (7, *C0, 0), (8, *SEA_W, 0)]
    pos = track(123456789, legs)
    calls, summary = detect(tmp_path / "a", pos, static(123456789, ship_type=52))  # a tug
    assert len(calls) == 0 and summary.other_type_ships == 1
    calls, _ = detect(tmp_path / "b", pos, static(123456789, ship_type=52), options=DetectOptions(cargo_only=False))
    assert len(calls) == 1 and calls["terminal"].iloc[0] == "apmt"


def test_cli_detect_summary_and_clear_errors(tmp_path, geo):
    pos, st = tracks(vessels(), START, geo, interval_s=120, seed=4)
    f = tmp_path / "ais.csv"
    write_marinecadastre(pos, st, f)
    runner = CliRunner()
    res = runner.invoke(app, ["calls", "detect", str(f), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "calls found" in res.output and "messages read" in res.output
    assert len(pd.read_parquet(tmp_path / "out" / "calls.parquet")) == 3
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    res = runner.invoke(app, ["calls", "detect", str(f), str(empty), "--out", str(tmp_path / "out2")])
    assert res.exit_code == 2
    assert "empty.csv: the file is empty" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out2" / "calls.parquet").exists()


def test_positions_outside_the_area_of_interest_are_refused(tmp_path):
    from callao.ingest.readers import OUTSIDE_AOI

    f = tmp_path / "seattle.nmea"  # gpsd's worked example: a ship moored in Seattle, far from the bay
    f.write_text("1704100004 !AIVDM,1,1,,B,177KQJ5000G?tO`K>RA1wUbN0TKH,0*5C\n")
    calls, summary = detect_calls([f], tmp_path / "out")
    assert len(calls) == 0 and summary.refused == {OUTSIDE_AOI: 1} and summary.positions_kept == 0
    q = pd.read_csv(tmp_path / "out" / "quarantine.csv")
    assert q[["file", "line", "reason", "mmsi"]].values.tolist() == [["seattle.nmea", 1, OUTSIDE_AOI, 477553000]]


def test_cli_export_errors_are_clear(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["calls", "export", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.nmea")])
    assert res.exit_code == 2 and "no vessels.parquet" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["calls", "export", str(tmp_path), "--format", "kml", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "expected nmea or marinecadastre" in res.output
    assert not (tmp_path / "x").exists()


def test_short_pilot_wait_seen_once_is_an_arrival_at_the_anchorage(tmp_path, geo):
    """A call waiting 12 minutes for its pilot, reported every 5 minutes: the track drifts at the
    boarding point inside the anchorage and may be seen there only once. That lone stopped report
    is the arrival (not noise), so arrival and wait come back within one reporting interval."""
    v = pd.DataFrame({"vessel_id": [7], "terminal": ["dpworld"], "loa_m": [300.0], "draft_m": [14.0],
                      "quay_position_m": [100.0], "t_arrival": [2.0], "t_channel_in": [2.2], "t_berth": [2.95],
                      "t_unberth": [20.0], "t_depart": [20.75]})
    truth = calls_from_vessels(v, START)
    for phase_seed in range(6):  # several report phases: seen once or twice in the anchorage
        pos, st = tracks(v, START, geo, interval_s=300, seed=phase_seed)
        calls, _ = detect(tmp_path / str(phase_seed), pos, statics_of(st))
        assert len(calls) == 1
        err = (calls["t_arrival"] - truth["t_arrival"]).dt.total_seconds().abs().iloc[0] / 60
        assert err <= 5.5, phase_seed
        assert abs(calls["anchorage_wait_h"].iloc[0] - 0.2) <= 5.5 / 60


def test_each_call_takes_the_static_report_before_its_arrival_else_the_first_after():
    from callao.ingest.detect import _with_statics

    statics = pd.DataFrame({"mmsi": [1, 1, 1, 2], "t": [np.nan, 100.0, 200.0, 500.0],
                            "name": ["OLD", None, "NEW", "TWO"], "loa_m": [np.nan, 250.0, 260.0, 100.0],
                            "draft_m": [9.0, 10.0, np.nan, 5.0], "ship_type": 70.0})
    calls = pd.DataFrame({"mmsi": [1, 1, 1, 2, 3], "t_arrival": [150.0, 250.0, np.nan, 50.0, 10.0],
                          "t_berth": [160.0, 260.0, 50.0, 60.0, 20.0], "t_depart": 300.0})
    got = _with_statics(calls, statics)
    # a report without a time comes first; a missing value is taken from the nearest report that has it
    assert got["name"].tolist()[:4] == ["OLD", "NEW", "OLD", "TWO"] and pd.isna(got["name"].iloc[4])
    assert got["loa_m"].tolist()[:4] == [250.0, 260.0, 250.0, 100.0] and np.isnan(got["loa_m"].iloc[4])
    assert got["draft_m"].tolist()[:4] == [10.0, 10.0, 9.0, 5.0] and np.isnan(got["draft_m"].iloc[4])
