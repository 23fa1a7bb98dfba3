"""The observed port-calls table: one row per call of a container ship, as AIS shows it.

This is the one model of an observed call. ``callao calls detect`` writes it, ``callao calibrate``,
replay (``callao run --arrivals``) and ``callao forecast`` read it, and :func:`calls_from_vessels`
turns a simulated run's vessels into the same table (the ground truth of round-trip tests).

Columns (times are UTC timestamps; a stage never reached is NaT / NaN / null):

========================  =====================================================================
``mmsi``                  int64, the ship's MMSI
``name``                  string, the ship's name (may be empty)
``loa_m``                 float64, length overall, metres (NaN if unknown)
``draft_m``               float64, draught reported on arrival, metres (NaN if unknown)
``t_arrival``             entered the anchorage area or, if it went straight in, the channel
``t_channel_in``          left the anchorage (or the sea) into the approach channel, inbound
``t_berth``               alongside the quay (moored)
``t_unberth``             left the quay
``t_depart``              left the port area outbound
``terminal``              string, the terminal whose quay the ship berthed at (null: never berthed)
``quay_position_m``       float64, metres from the quay line's start to the ship's stern end
``anchorage_wait_h``      float64, hours from ``t_arrival`` to ``t_channel_in``
========================  =====================================================================
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

TIME_COLUMNS = ("t_arrival", "t_channel_in", "t_berth", "t_unberth", "t_depart")
CALLS_COLUMNS: dict[str, str] = {
    "mmsi": "int64", "name": "string", "loa_m": "float64", "draft_m": "float64",
    **{t: "datetime64[ns, UTC]" for t in TIME_COLUMNS},
    "terminal": "string", "quay_position_m": "float64", "anchorage_wait_h": "float64",
}
"""Column name → pandas dtype of the calls table, in order. Extra columns may follow."""

SIMULATED_MMSI_BASE = 760_000_000
"""Simulated ships get MMSI 760000000 + vessel_id (760: Peru's maritime identification digits)."""


def hours_to_utc(hours: np.ndarray | pd.Series, start_utc: datetime) -> pd.Series:
    """Run hours (float, NaN allowed) → UTC timestamps, rounded to the millisecond."""
    h = np.asarray(hours, float)
    ms = np.where(np.isfinite(h), np.round(h * 3_600_000.0), np.nan)
    return pd.Series(pd.Timestamp(start_utc) + pd.to_timedelta(ms, unit="ms")).dt.tz_convert("UTC")


def utc_to_hours(times: pd.Series, start_utc: datetime) -> np.ndarray:
    """UTC timestamps (NaT allowed) → hours since ``start_utc`` (NaN for NaT)."""
    t = pd.to_datetime(times, utc=True)
    return ((t - pd.Timestamp(start_utc)).dt.total_seconds() / 3600.0).to_numpy(float, na_value=np.nan)


def conform(calls: pd.DataFrame) -> pd.DataFrame:
    """The table with the schema's columns first, in order and with their dtypes.

    Raises ``ValueError`` naming the missing column(s)."""
    missing = [c for c in CALLS_COLUMNS if c not in calls.columns]
    if missing:
        raise ValueError(f"calls table: missing column(s) {', '.join(missing)}; "
                         f"expected {', '.join(CALLS_COLUMNS)}")
    out = calls.copy()
    for col, dtype in CALLS_COLUMNS.items():
        if dtype.startswith("datetime64"):
            out[col] = pd.to_datetime(out[col], utc=True).astype("datetime64[ns, UTC]")
        else:
            out[col] = out[col].astype(dtype)
    extra = [c for c in out.columns if c not in CALLS_COLUMNS]
    return out[[*CALLS_COLUMNS, *extra]]


def calls_from_vessels(vessels: pd.DataFrame, start_utc: datetime) -> pd.DataFrame:
    """A simulated run's vessels table as the observed-calls table (what perfect AIS would show).

    Extra columns kept for comparisons: ``vessel_id``, ``vessel_class``, ``moves``, ``port``."""
    v = vessels
    calls = pd.DataFrame({
        "mmsi": SIMULATED_MMSI_BASE + v["vessel_id"].to_numpy(np.int64),
        "name": [f"SIM {i:06d}" for i in v["vessel_id"].to_numpy()],
        "loa_m": v["loa_m"].to_numpy(float),
        "draft_m": v["draft_m"].to_numpy(float),
    })
    for col in TIME_COLUMNS:
        calls[col] = hours_to_utc(v[col].to_numpy(float), start_utc)
    calls["terminal"] = np.where(np.isfinite(v["t_berth"].to_numpy(float)), v["terminal"].astype(str), None)
    calls["quay_position_m"] = v["quay_position_m"].to_numpy(float)
    calls["anchorage_wait_h"] = (v["t_channel_in"] - v["t_arrival"]).to_numpy(float)
    for col in ("vessel_id", "vessel_class", "moves", "port"):
        if col in v.columns:
            calls[col] = v[col].to_numpy()
    return conform(calls)
