"""A forecast: replications of the twin started from the observed state at a time.

Each replication starts at ``at`` with the ships of :func:`~callao.forecast.state.port_state`:
those waiting keep their place in the queue (their waits count from their real arrival); those
alongside keep their quay position and finish the work left, drawn from the scenario's call-size
distribution for their terminal and size band given the moves already done. Arrivals after
``at`` are the scenario's (services on their weekly windows, tramp streams) or an ETA list.
Closures: only those announced (``closures``); naval movements as the scenario's model.
Vessels only (no containers), so 7 days × 30 replications take a second or two.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from callao.forecast.state import PortState, port_state
from callao.ingest.calls import hours_to_utc, utc_to_hours
from callao.results import hourly_mean
from callao.scenario import Scenario, merge, validate
from callao.sim.arrivals import streams_like
from callao.sim.disruptions import naval_movements
from callao.sim.streams import Streams
from callao.sim.waterside import Waterside

BANDS = (0.025, 0.10, 0.50, 0.90, 0.975)
"""Bounds reported: the 95% and 80% prediction bands and the median (see :func:`band`)."""


def band(values: np.ndarray, q: float, axis: int = 0, actual: bool = False) -> np.ndarray:
    """The ``q`` bound of a prediction band from replications (NaN ignored): the median for 0.5;
    otherwise the order statistic X_(j) (q < 0.5) or X_(n+1-j) (q > 0.5) with
    j = max(1, floor((n + 1) * min(q, 1 - q))), so that a new outcome from the same model falls
    in [X_(j), X_(n+1-j)] with probability (n + 1 - 2j) / (n + 1) — at least the nominal level
    whenever n allows (30 replications: 95% band = [min, max], 93.5%; 80% band = [X_(3), X_(28)],
    80.6%). Sample quantiles with interpolation would be narrower and cover less. ``actual``: the
    median too is one of the values (the lower middle one), e.g. a time some replication had."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        if q == 0.5 and not actual:
            return np.nanmedian(values, axis=axis)
        x = np.sort(values, axis=axis)  # NaN last
        n = np.sum(np.isfinite(values), axis=axis)
        j = np.maximum(np.floor((n + 1) * min(q, 1 - q)).astype(int), 1)
        idx = (j - 1) if q < 0.5 else (n - j)
        if q == 0.5:
            idx = (n - 1) // 2
        idx = np.clip(idx, 0, max(values.shape[axis] - 1, 0))
        out = np.take_along_axis(x, np.expand_dims(idx, axis), axis=axis).squeeze(axis)
        return np.where(n > 0, out, np.nan)


@dataclass
class Forecast:
    """What :func:`forecast` returns. Times in the tables are UTC timestamps.

    ``daily``: per day 1..days, the mean anchorage queue over the day (ships) and the mean wait
    of the ships arriving that day (hours), with the quantiles of :data:`BANDS` over replications.
    ``hourly``: the queue's quantiles hour by hour (the fan chart). ``ships``: each ship waiting at
    ``at`` and its predicted berthing time (band bounds are replications' own times, never
    interpolated between them). ``samples``: replication × day values."""

    at: pd.Timestamp
    days: int
    replications: int
    state: PortState
    daily: pd.DataFrame
    hourly: pd.DataFrame
    ships: pd.DataFrame
    samples: pd.DataFrame
    closures: list[tuple[pd.Timestamp, float]] = field(default_factory=list)


def forecast(scenario: Scenario, calls: pd.DataFrame, at: pd.Timestamp | str, days: int = 7,
             replications: int = 30, seed: int = 0, etas: pd.DataFrame | None = None,
             closures: list[tuple[pd.Timestamp, float]] | None = None) -> Forecast:
    """Forecast the ``days`` after ``at`` from the observed ``calls`` (see the module docstring).
    ``etas``: expected arrivals (mmsi, eta, loa_m, terminal) replacing the scenario's after ``at``;
    ``closures``: announced closures as (start, hours)."""
    if days < 1 or replications < 2:
        raise ValueError(f"days = {days}, replications = {replications}: expected days >= 1 and replications >= 2")
    at = pd.Timestamp(at)
    at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    closures = list(closures or [])
    sc = validate(merge(scenario.model_dump(by_alias=True), {"simulation": {
        "start_utc": at.to_pydatetime(), "years": days * 24.0 / 8760.0, "containers": False}}), scenario.name)
    state = port_state(calls, at, sc)
    horizon = days * 24.0
    closure_frame = pd.DataFrame({
        "port": sc.home_port,
        "start_h": [utc_to_hours(pd.Series([s]), at)[0] for s, _ in closures],
        "end_h": [utc_to_hours(pd.Series([s]), at)[0] + h for s, h in closures],
        "reason": "announced"}).astype({"start_h": float, "end_h": float, "reason": str})
    waiting_ids = state.waiting["mmsi"].to_numpy(np.int64)
    fixed = _state_frame(sc, state, etas)
    queues, waits, berths = [], [], []
    for ss in np.random.SeedSequence(seed).spawn(replications):
        streams = Streams(ss)
        frame = _replication_frame(sc, scenario, fixed, state, at, horizon, streams, etas is None)
        ws = Waterside(sc, frame, closure_frame, _naval(scenario, streams, at, horizon), streams)
        v = ws.run(step_h=horizon)
        t_arr, t_in = v["t_arrival"].to_numpy(float), v["t_channel_in"].to_numpy(float)
        anchored = ~np.isfinite(v["start_at_berth_m"].to_numpy(float))  # not alongside at the start
        queues.append(np.maximum(hourly_mean(t_arr[anchored], t_in[anchored], np.ones(int(anchored.sum())),
                                             int(horizon)), 0.0))
        wait = t_in - t_arr
        day = np.floor(t_arr / 24.0)
        new = ~v["state"].to_numpy(bool)
        waits.append([_nanmean(wait[(day == d) & new]) for d in range(days)])
        key = v["waiting_key"].to_numpy(float)
        b = np.full(waiting_ids.size, np.nan)
        ok = np.isfinite(key) & (key >= 0)
        b[key[ok].astype(int)] = v["t_berth"].to_numpy(float)[ok]
        berths.append(b)
    queues, waits, berths = np.array(queues), np.array(waits, float), np.array(berths, float).reshape(replications, -1)
    daily_q = queues.reshape(replications, days, 24).mean(axis=2)
    daily = _bands_table(daily_q, "queue", at, days)
    daily = daily.merge(_bands_table(waits, "wait_h", at, days), on=["day", "date"])
    hourly = pd.DataFrame({"time": hours_to_utc(np.arange(int(horizon)) + 0.5, at)})
    for q in BANDS:
        hourly[f"queue_q{q * 100:g}"] = band(queues, q)
    hourly["queue_mean"] = queues.mean(axis=0)
    ships = state.waiting[["mmsi", "name", "loa_m", "terminal", "t_arrival", "waited_h"]].copy().reset_index(drop=True)
    for q in BANDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a ship that never berthed in any replication
            ships[f"berth_q{q * 100:g}"] = hours_to_utc(band(berths, q, actual=True) if berths.size else np.empty(0), at) \
                if len(ships) else pd.Series(dtype="datetime64[ns, UTC]")
    samples = pd.DataFrame({"replication": np.repeat(np.arange(replications), days),
                            "day": np.tile(np.arange(1, days + 1), replications),
                            "queue": daily_q.ravel(), "wait_h": waits.ravel()})
    return Forecast(at, days, replications, state, daily, hourly, ships, samples, closures)


def _nanmean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def _bands_table(values: np.ndarray, name: str, at: pd.Timestamp, days: int) -> pd.DataFrame:
    out = pd.DataFrame({"day": np.arange(1, days + 1), "date": [at + pd.Timedelta(days=d) for d in range(days)]})
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # days without arrivals in some replications
        out[f"{name}_mean"] = np.nanmean(values, axis=0) if np.isfinite(values).any() else np.nan
        for q in BANDS:
            out[f"{name}_q{q * 100:g}"] = band(values, q)
    return out


ENGINE_COLUMNS = ("terminal", "vessel_class", "loa_m", "max_cranes", "t_arrival", "moves", "mmsi",
                  "start_at_berth_m", "state", "spec")


def _state_frame(sc: Scenario, state: PortState, etas: pd.DataFrame | None) -> pd.DataFrame:
    """The calls every replication shares (the ships in port and the ETA list), moves not yet
    drawn: ``spec`` is the index of their stream in :func:`_specs`, ``moves_done`` what is done."""
    parts = []
    for table, alongside in ((state.waiting, False), (state.alongside, True)):
        if len(table):
            parts.append(_rows(sc, table, alongside))
    if etas is not None:
        parts.append(_rows(sc, etas_as_calls(etas), False).assign(state=False, waiting_key=-1))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in ENGINE_COLUMNS}).assign(
            alongside=pd.Series(dtype=bool), waiting_key=pd.Series(dtype=float), moves_done=pd.Series(dtype=float))
    frame = pd.concat(parts, ignore_index=True)
    return _fit_on_quay(sc, frame)


def _rows(sc: Scenario, table: pd.DataFrame, alongside: bool) -> pd.DataFrame:
    from callao.sim.arrivals import nearest_class

    cls = nearest_class(sc, table["loa_m"].to_numpy(float))
    vcs = [sc.vessel_classes[k] for k in cls]
    loa = table["loa_m"].to_numpy(float)
    names = {t.name for t in sc.terminals}
    bad = sorted(set(table["terminal"].astype(str)) - names)
    if bad:
        raise ValueError(f"terminal(s) {', '.join(bad)} not in scenario {sc.name!r}; expected one of {', '.join(sorted(names))}")
    return pd.DataFrame({
        "terminal": table["terminal"].astype(str).to_numpy(object),
        "vessel_class": [vc.name for vc in vcs],
        "loa_m": np.where(np.isfinite(loa), loa, [vc.loa_m for vc in vcs]),
        "max_cranes": np.array([vc.max_cranes for vc in vcs], np.int64),
        "t_arrival": utc_to_hours(table["t_arrival"], pd.Timestamp(sc.simulation.start_utc)),
        "moves": np.nan, "mmsi": table["mmsi"].to_numpy(np.int64),
        "start_at_berth_m": table["quay_position_m"].to_numpy(float) if alongside else np.nan,
        "state": True, "alongside": alongside,
        "waiting_key": -1 if alongside else np.arange(len(table)),  # row in state.waiting
        "moves_done": table["moves_done"].to_numpy(float) if alongside else 0.0,
    })


def _draw_moves(sc: Scenario, frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Moves left for each call of ``frame``: a total from the call-size distribution of its
    terminal and size band, given that it exceeds ``moves_done``, minus what is done."""
    out = np.empty(len(frame))
    for i, (term, vc, done) in enumerate(zip(frame["terminal"], frame["vessel_class"], frame["moves_done"])):
        specs, w = streams_like(sc, term, vc)
        spec = specs[rng.choice(len(specs), p=w)] if len(specs) > 1 else specs[0]
        if done <= 0:
            out[i] = spec.moves_per_call.sample(rng, 1)[0] * sc.simulation.demand_factor
            continue
        total = spec.moves_per_call.sample(rng, 256) * sc.simulation.demand_factor
        more = total[total > done]
        out[i] = (more[0] - done) if more.size else 0.05 * done
    return out


def _replication_frame(sc: Scenario, base: Scenario, fixed: pd.DataFrame, state: PortState, at: pd.Timestamp,
                       horizon: float, streams: Streams, scenario_arrivals: bool) -> pd.DataFrame:
    """One replication's calls for the engine: the shared ones with their moves drawn, plus the
    scenario's arrivals after ``at`` (unless an ETA list replaces them)."""
    frame = fixed.assign(moves=_draw_moves(sc, fixed, streams("forecast", "moves")))
    if scenario_arrivals:
        frame = pd.concat([frame, _future_arrivals(base, at, horizon, streams)], ignore_index=True)
    frame = frame[frame["t_arrival"] < horizon].sort_values("t_arrival", kind="stable", ignore_index=True)
    frame["vessel_id"] = np.arange(len(frame), dtype=np.int32)
    frame["alternatives"] = ""
    frame["n_transship_in"] = 0
    frame["n_transship_out"] = 0
    return frame


def _fit_on_quay(sc: Scenario, a: pd.DataFrame) -> pd.DataFrame:
    """Ships alongside whose recorded positions overlap (or are missing) are laid out again from
    the quay's start, in their order; ships that do not fit are left to queue like arrivals."""
    a = a.copy()
    for t in sc.terminals:
        idx = np.flatnonzero((a["terminal"].to_numpy() == t.name) & a["alongside"].to_numpy(bool))
        order = idx[np.argsort(np.nan_to_num(a["start_at_berth_m"].to_numpy(float)[idx], nan=np.inf), kind="stable")]
        edge = 0.0
        for i in order:
            need = min(a.at[i, "loa_m"] + t.berth_clearance_m, t.quay_length_m)
            pos = a.at[i, "start_at_berth_m"]
            pos = pos if np.isfinite(pos) and pos >= edge - 1e-6 and pos + need <= t.quay_length_m + 1e-6 else edge
            if pos + need > t.quay_length_m + 1e-6:
                a.at[i, "start_at_berth_m"] = np.nan
                continue
            a.at[i, "start_at_berth_m"] = pos
            edge = pos + need
    return a


def _future_arrivals(base: Scenario, at: pd.Timestamp, horizon: float, streams: Streams) -> pd.DataFrame:
    """The scenario's arrivals in (at, at + horizon], hours from ``at``: services on their windows
    (the scenario's calendar, from ``simulation.start_utc``) plus lateness, tramp streams as
    Poisson processes; each with its moves drawn. Columns as :data:`ENGINE_COLUMNS`."""
    offset = (at - pd.Timestamp(base.simulation.start_utc)).total_seconds() / 3600.0
    cols: dict[str, list] = {k: [] for k in ("terminal", "vessel_class", "t_arrival", "moves")}
    for s in base.services:
        rng = streams("forecast", "service", s.name)
        period = s.interval_days * 24.0
        first = s.first_window_h + period * np.ceil((offset - 72.0 - s.first_window_h) / period)
        windows = np.arange(first, offset + horizon + 72.0, period)
        t = np.maximum(windows + s.lateness_h.sample(rng, windows.size), 0.0) - offset
        t = t[(t > 0) & (t < horizon)]
        _add(cols, s, t, s.moves_per_call.sample(rng, t.size) * base.simulation.demand_factor)
    for tr in base.tramp:
        rng = streams("forecast", "tramp", tr.name)
        n = rng.poisson(tr.calls_per_year * horizon / 8760.0)
        t = np.sort(rng.uniform(0.0, horizon, n))
        _add(cols, tr, t, tr.moves_per_call.sample(rng, n) * base.simulation.demand_factor)
    t = np.concatenate(cols["t_arrival"]) if cols["t_arrival"] else np.empty(0)
    classes = {vc.name: vc for vc in base.vessel_classes}
    vcls = np.concatenate(cols["vessel_class"]) if cols["vessel_class"] else np.empty(0, object)
    return pd.DataFrame({
        "terminal": np.concatenate(cols["terminal"]) if cols["terminal"] else np.empty(0, object),
        "vessel_class": vcls,
        "loa_m": np.array([classes[c].loa_m for c in vcls], float),
        "max_cranes": np.array([classes[c].max_cranes for c in vcls], np.int64),
        "t_arrival": t, "moves": np.concatenate(cols["moves"]) if cols["moves"] else np.empty(0),
        "mmsi": -1 - np.arange(t.size, dtype=np.int64),  # not real ships
        "start_at_berth_m": np.nan, "state": False, "alongside": False, "waiting_key": -1, "moves_done": 0.0})


def _add(cols: dict, spec, t: np.ndarray, moves: np.ndarray) -> None:
    cols["terminal"].append(np.full(t.size, spec.terminal, object))
    cols["vessel_class"].append(np.full(t.size, spec.vessel_class, object))
    cols["t_arrival"].append(t)
    cols["moves"].append(moves)


def _naval(base: Scenario, streams: Streams, at: pd.Timestamp, horizon: float) -> pd.DataFrame:
    """Naval movements in the forecast window, on the clock of day (generated from midnight)."""
    midnight = at.floor("D")
    offset = (at - midnight).total_seconds() / 3600.0
    nav = naval_movements(base, streams, offset + horizon + 24.0)
    nav = nav.assign(start_h=nav["start_h"] - offset, end_h=nav["end_h"] - offset)
    return nav[nav["end_h"] > 0].reset_index(drop=True)


ETA_COLUMNS = ("mmsi", "eta", "loa_m", "terminal")


def etas_as_calls(etas: pd.DataFrame) -> pd.DataFrame:
    """An ETA list (mmsi, eta, loa_m, terminal) as a calls table (arrival = ETA)."""
    missing = [c for c in ETA_COLUMNS if c not in etas.columns]
    if missing:
        raise ValueError(f"ETA list: missing column(s) {', '.join(missing)}; expected {', '.join(ETA_COLUMNS)}")
    eta = pd.to_datetime(etas["eta"], utc=True, errors="coerce", format="ISO8601")
    bad = eta.isna()
    if bad.any():
        raise ValueError(f"ETA list: row {int(np.flatnonzero(bad)[0]) + 1}: eta {etas['eta'][bad].iloc[0]!r} "
                         "is not a time; expected ISO 8601, e.g. 2024-06-03T14:00Z")
    out = pd.DataFrame({"mmsi": etas["mmsi"].astype("int64"), "name": "", "loa_m": etas["loa_m"].astype(float),
                        "draft_m": np.nan, "t_arrival": eta, "terminal": etas["terminal"].astype("string"),
                        "quay_position_m": np.nan, "anchorage_wait_h": np.nan})
    for c in ("t_channel_in", "t_berth", "t_unberth", "t_depart"):
        out[c] = pd.NaT
    return out
