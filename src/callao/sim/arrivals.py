"""Vessel calls: scheduled liner services plus unscheduled (tramp) Poisson streams."""

from __future__ import annotations

import numpy as np
import pandas as pd

from callao.scenario import Scenario
from callao.scenario.model import CallSize
from callao.sim.streams import Streams

DISCHARGE_FLOWS = ("import", "empty_in", "transship")
LOAD_FLOWS = ("export", "empty_out", "transship")


def vessel_calls(scenario: Scenario, streams: Streams) -> pd.DataFrame:
    """One row per call arriving before the horizon, sorted by arrival time (hours).

    Columns: source, kind (service/tramp), terminal, vessel_class, region, loa_m, draft_m,
    max_cranes, t_arrival (h), moves (work content, moves) and the planned move counts per flow
    (n_import, n_empty_in, n_transship_in, n_export, n_empty_out, n_transship_out).
    """
    horizon = scenario.horizon_h
    frames = []
    for s in scenario.services:
        rng = streams("arrivals", "service", s.name)
        windows = np.arange(s.first_window_h, horizon, s.interval_days * 24.0)
        t = np.maximum(windows + s.lateness_h.sample(rng, windows.size), 0.0)
        frames.append(_calls(s, "service", t[t < horizon], scenario, streams))
    for tr in scenario.tramp:
        rng = streams("arrivals", "tramp", tr.name)
        mean_gap = 8760.0 / tr.calls_per_year
        n = int(horizon / mean_gap * 1.2 + 10 * np.sqrt(horizon / mean_gap) + 10)
        t = np.cumsum(rng.exponential(mean_gap, n))
        while t[-1] < horizon:  # rare: draw more
            t = np.concatenate([t, t[-1] + np.cumsum(rng.exponential(mean_gap, n))])
        frames.append(_calls(tr, "tramp", t[t < horizon], scenario, streams))
    calls = pd.concat(frames, ignore_index=True)
    calls = calls.sort_values(["t_arrival", "source"], kind="stable", ignore_index=True)
    calls.insert(0, "vessel_id", np.arange(len(calls), dtype=np.int32))
    return calls


def _calls(spec: CallSize, kind: str, t: np.ndarray, scenario: Scenario, streams: Streams) -> pd.DataFrame:
    rng = streams("calls", kind, spec.name)
    vc = scenario.vessel_class(spec.vessel_class)
    moves = spec.moves_per_call.sample(rng, t.size) * scenario.simulation.demand_factor
    return pd.DataFrame({
        "source": spec.name, "kind": kind, "terminal": spec.terminal, "vessel_class": vc.name,
        "region": spec.region, "loa_m": vc.loa_m, "draft_m": vc.draft_m, "max_cranes": vc.max_cranes,
        "t_arrival": t, "moves": moves,
        "alternatives": ",".join(getattr(spec, "alternatives", [])),
        **_flow_counts(t.size, moves, spec.discharge_share, scenario, rng),
    })


def _add_flows(df: pd.DataFrame, moves: np.ndarray, discharge_share: float | np.ndarray,
               scenario: Scenario, rng: np.random.Generator) -> pd.DataFrame:
    """Add the planned move counts per flow (n_import, ..., n_transship_out) to ``df``."""
    for name, values in _flow_counts(len(df), moves, discharge_share, scenario, rng).items():
        df[name] = values
    return df


def _flow_counts(n: int, moves: np.ndarray, discharge_share: float | np.ndarray, scenario: Scenario,
                 rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The planned move counts per flow (n_import, ..., n_transship_out) of ``n`` calls of ``moves``."""
    counts = np.rint(moves).astype(np.int64) if scenario.simulation.containers else np.zeros(n, np.int64)
    discharge = rng.binomial(counts, discharge_share)
    mix = scenario.cargo
    out = {}
    for total, flows, shares, suffix in (
        (discharge, DISCHARGE_FLOWS, mix.discharge_mix, "_in"),
        (counts - discharge, LOAD_FLOWS, mix.load_mix, "_out"),
    ):
        p = np.array([shares.get(f, 0.0) for f in flows])
        split = rng.multinomial(total, p / p.sum()) if total.size else np.zeros((0, 3), np.int64)
        for j, f in enumerate(flows):
            out[f"n_{f}{suffix}" if f == "transship" else f"n_{f}"] = split[:, j]
    return out


# --- Replay: observed calls instead of generated ones ------------------------------------------

HANDLING_MODES = ("observed", "drawn")
"""How a replayed call's work content (moves) is set: ``observed`` from the trace (its ``moves``
column if present, else its crane-hours at berth, :func:`crane_hours`, times the terminal's
crane rate; its transshipment moves count as import and export, since the trace's work is the
whole work), ``drawn`` from the scenario's call-size distribution for its terminal and vessel
class."""


def crane_hours(scenario: Scenario, terminal: np.ndarray, t_berth: np.ndarray, t_unberth: np.ndarray,
                max_cranes: np.ndarray, loa_m: np.ndarray) -> np.ndarray:
    """Crane-hours each observed call had at berth: its handling span (berth + mooring to unberth −
    unmooring) with the cranes the engine's rules give it — at most the terminal's deployment limit
    for its length and class maximum (``Terminal.cranes_per_ship``), shared by
    :func:`~callao.sim.waterside.allocate_cranes` in berthing order among the calls being worked at
    the same terminal at each moment. NaN where a berth time is missing."""
    from callao.sim.waterside import allocate_cranes

    out = np.full(len(terminal), np.nan)
    for term in scenario.terminals:
        idx = np.flatnonzero((terminal == term.name) & np.isfinite(t_berth) & np.isfinite(t_unberth))
        if idx.size == 0:
            continue
        ch = scenario.port_settings(term.port).channel
        boarding_h = ch.pilot_boarding_h.mean_value if ch.pilots and ch.pilot_outbound else 0.0
        start = t_berth[idx] + term.mooring_h
        # alongside after the work: unmooring, and the outbound pilot boarding (mean) before leaving
        end = np.maximum(t_unberth[idx] - term.unmooring_h - boarding_h, start)
        order = np.argsort(t_berth[idx], kind="stable")
        idx, start, end = idx[order], start[order], end[order]
        loa = np.asarray(loa_m, float)[idx]
        cap = np.array([term.cranes_per_ship(length, int(m)) if np.isfinite(length) else int(m)
                        for length, m in zip(loa, np.asarray(max_cranes)[idx])], int)
        edges = np.unique(np.concatenate([start, end]))
        total = np.zeros(idx.size)
        for a, b in zip(edges[:-1], edges[1:]):
            on = np.flatnonzero((start <= a) & (end >= b))
            if on.size:
                total[on] += np.array(allocate_cranes(term.cranes, cap[on].tolist())) * (b - a)
        out[idx] = total
    return out


def nearest_class(scenario: Scenario, loa_m: np.ndarray) -> np.ndarray:
    """Index into ``scenario.vessel_classes`` of the class nearest in length overall (NaN: the
    most common class of the scenario's arrival streams)."""
    loas = np.array([vc.loa_m for vc in scenario.vessel_classes])
    loa = np.asarray(loa_m, float)
    idx = np.abs(np.nan_to_num(loa, nan=-1e9)[:, None] - loas[None, :]).argmin(axis=1)
    if np.isnan(loa).any():
        rates = {vc.name: 0.0 for vc in scenario.vessel_classes}
        for spec, rate in arrival_streams(scenario):
            rates[spec.vessel_class] += rate
        idx[np.isnan(loa)] = list(rates).index(max(rates, key=rates.get))
    return idx


def arrival_streams(scenario: Scenario) -> list[tuple[CallSize, float]]:
    """Every service and tramp stream with its expected calls a year."""
    return [*((s, 365.0 / s.interval_days) for s in scenario.services),
            *((t, t.calls_per_year) for t in scenario.tramp)]


def streams_like(scenario: Scenario, terminal: str, vessel_class: str) -> tuple[list[CallSize], np.ndarray]:
    """The arrival streams whose calls a call of ``vessel_class`` at ``terminal`` resembles, with
    their weights (calls a year, summing to 1): those of that terminal and class; failing that, the
    terminal's streams of the class nearest in length; failing that, any stream of the class."""
    all_ = arrival_streams(scenario)
    at = [(s, r) for s, r in all_ if s.terminal == terminal] or all_
    loa = scenario.vessel_class(vessel_class).loa_m
    gap = min(abs(scenario.vessel_class(s.vessel_class).loa_m - loa) for s, _ in at)
    chosen = [(s, r) for s, r in at if abs(scenario.vessel_class(s.vessel_class).loa_m - loa) == gap]
    w = np.array([r for _, r in chosen])
    return [s for s, _ in chosen], w / w.sum()


def replay_window(scenario: Scenario, calls: pd.DataFrame) -> Scenario:
    """The scenario, with ``simulation.start_utc`` and ``years`` moved to cover the observed
    arrivals if they do not already lie within its horizon or its spin-up before hour 0 (then it
    is returned unchanged, so a replay of a run's own calls sees the same closures and naval
    movements)."""
    from callao.ingest.calls import utc_to_hours
    from callao.scenario import merge, validate

    t = pd.to_datetime(calls["t_arrival"], utc=True).dropna()
    if t.empty:
        raise ValueError("arrivals: no call with a t_arrival")
    h = utc_to_hours(t, scenario.simulation.start_utc)
    spin_up_h = scenario.simulation.spin_up_days * 24.0  # a run's own calls start in its spin-up
    if h.min() >= -spin_up_h and h.max() < scenario.horizon_h:
        return scenario
    start = t.min().floor("D")
    years = float(np.ceil((t.max() - start).total_seconds() / 86400.0 + 1.0)) * 24.0 / 8760.0
    data = merge(scenario.model_dump(by_alias=True),
                 {"simulation": {"start_utc": start.to_pydatetime(), "years": years}})
    return validate(data, scenario.name)


def observed_calls(scenario: Scenario, calls: pd.DataFrame, streams: Streams,
                   handling: str = "observed") -> pd.DataFrame:
    """Observed calls (the :mod:`callao.ingest.calls` table) as the engine's calls frame, in
    place of :func:`vessel_calls`: arrival time (hours from ``simulation.start_utc``), length,
    draught and terminal as observed; the vessel class (crane limit) nearest in length; moves as
    ``handling`` says (:data:`HANDLING_MODES`). Calls that never berthed (no terminal) are left
    out: the twin could only guess where they were going. Extra columns: ``mmsi`` and the
    observed ``obs_anchorage_wait_h``, ``obs_t_berth``, ``obs_t_unberth`` (hours)."""
    from callao.ingest.calls import conform, utc_to_hours

    if handling not in HANDLING_MODES:
        raise ValueError(f"handling {handling!r}: expected one of {', '.join(HANDLING_MODES)}")
    c = conform(calls)
    c = c[c["terminal"].notna() & c["t_arrival"].notna()].reset_index(drop=True)
    names = [t.name for t in scenario.terminals]
    unknown = sorted(set(c["terminal"]) - set(names))
    if unknown:
        raise ValueError(f"arrivals: terminal(s) {', '.join(map(str, unknown))} not in scenario "
                         f"{scenario.name!r}; expected one of {', '.join(names)}")
    start = scenario.simulation.start_utc
    t = utc_to_hours(c["t_arrival"], start)
    t_berth, t_unberth = utc_to_hours(c["t_berth"], start), utc_to_hours(c["t_unberth"], start)
    cls = [scenario.vessel_classes[i] for i in nearest_class(scenario, c["loa_m"].to_numpy(float))]
    terminal = c["terminal"].astype(str).to_numpy(object)
    rng = streams("replay", "moves")
    n = len(c)
    moves, share, region = np.empty(n), np.empty(n), np.empty(n, object)
    for i in range(n):  # one draw per call: a few thousand calls at most
        specs, w = streams_like(scenario, terminal[i], cls[i].name)
        spec = specs[rng.choice(len(specs), p=w)]
        moves[i] = spec.moves_per_call.sample(rng, 1)[0] * scenario.simulation.demand_factor
        share[i], region[i] = spec.discharge_share, spec.region
    if handling == "observed":
        rate = np.array([scenario.terminal(x).moves_per_crane_hour for x in terminal])
        max_cranes = np.array([vc.max_cranes for vc in cls])
        from_berth = np.maximum(crane_hours(scenario, terminal, t_berth, t_unberth, max_cranes,
                                              c["loa_m"].to_numpy(float)), 0.05) * rate
        observed = c["moves"].to_numpy(float) if "moves" in c.columns else np.full(n, np.nan)
        observed = np.where(np.isfinite(observed), observed, from_berth)
        moves = np.where(np.isfinite(observed), observed, moves)
    loa = c["loa_m"].to_numpy(float)
    draft = c["draft_m"].to_numpy(float)
    df = pd.DataFrame({
        "source": "observed", "kind": "observed", "terminal": terminal,
        "vessel_class": [vc.name for vc in cls], "region": region,
        "loa_m": np.where(np.isfinite(loa), loa, [vc.loa_m for vc in cls]),
        "draft_m": np.where(np.isfinite(draft), draft, [vc.draft_m for vc in cls]),
        "max_cranes": np.array([vc.max_cranes for vc in cls], np.int64),
        "t_arrival": t, "moves": moves, "alternatives": "",
    })
    df = _add_flows(df, moves, share.astype(float), scenario, rng)
    if handling == "observed":  # the trace's work is the whole work: no boxes linked between calls
        df["n_import"] += df.pop("n_transship_in")
        df["n_export"] += df.pop("n_transship_out")
        df["n_transship_in"] = df["n_transship_out"] = 0
    df["mmsi"] = c["mmsi"].to_numpy(np.int64)
    df["obs_anchorage_wait_h"] = c["anchorage_wait_h"].to_numpy(float)
    df["obs_t_berth"], df["obs_t_unberth"] = t_berth, t_unberth
    df = df.sort_values(["t_arrival", "mmsi"], kind="stable", ignore_index=True)
    df.insert(0, "vessel_id", np.arange(len(df), dtype=np.int32))
    return df
