import numpy as np
import pandas as pd
import pytest

from callao.ingest.calls import CALLS_COLUMNS, calls_from_vessels, conform, utc_to_hours


def test_calls_from_vessels_keeps_times_and_schema(short_run):
    start = short_run.scenario.simulation.start_utc
    calls = calls_from_vessels(short_run.vessels, start)
    assert list(calls.columns[: len(CALLS_COLUMNS)]) == list(CALLS_COLUMNS)
    assert len(calls) == len(short_run.vessels)
    for col in ("t_arrival", "t_berth", "t_depart"):
        back = utc_to_hours(calls[col], start)
        assert np.nanmax(np.abs(back - short_run.vessels[col].to_numpy())) < 1e-3 / 3600 * 2
    wait = short_run.vessels["t_channel_in"] - short_run.vessels["t_arrival"]
    assert np.allclose(calls["anchorage_wait_h"], wait)
    assert calls["mmsi"].is_unique


def test_conform_names_missing_columns():
    with pytest.raises(ValueError, match="missing column.*t_berth"):
        conform(pd.DataFrame({c: [] for c in CALLS_COLUMNS if c != "t_berth"}))
