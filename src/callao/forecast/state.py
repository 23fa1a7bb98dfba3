"""The port's state at a time as the observed calls show it, knowing nothing recorded after it:
ships waiting at the anchorage (since when), ships alongside (where, since when, how much of
their work is done) — what a forecast starts from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from callao.ingest.calls import TIME_COLUMNS, conform, utc_to_hours
from callao.scenario import Scenario
from callao.sim.arrivals import arrival_streams, crane_hours, nearest_class


@dataclass
class PortState:
    """Ships in port at ``at``. Both tables have the calls-table columns, censored at ``at``
    (times after it are NaT), plus: ``waiting`` — ``waited_h`` so far; ``alongside`` — ``vessel_class``,
    ``elapsed_h`` since berthing and ``moves_done`` (crane-hours so far × the terminal's rate)."""

    at: pd.Timestamp
    waiting: pd.DataFrame
    alongside: pd.DataFrame

    def summary(self) -> str:
        return (f"{self.at:%Y-%m-%d %H:%M} UTC: {len(self.waiting)} ship(s) at the anchorage, "
                f"{len(self.alongside)} alongside")


def censor(calls: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """The calls table as it stood at ``at``: calls arrived by then, later times blanked (and the
    wait and terminal of ships that had not yet entered the channel / berthed)."""
    c = conform(calls)
    c = c[c["t_arrival"] <= at].copy()
    for col in TIME_COLUMNS:
        c.loc[c[col] > at, col] = pd.NaT
    c.loc[c["t_channel_in"].isna(), "anchorage_wait_h"] = np.nan
    return c


def port_state(calls: pd.DataFrame, at: pd.Timestamp | str, scenario: Scenario) -> PortState:
    """The state at ``at`` (see :class:`PortState`). A waiting ship's terminal is the one its
    record names, if any (the berth it was bound for), else the busiest for its size band."""
    at = pd.Timestamp(at)
    at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    full = conform(calls).reset_index(drop=True)  # a ship may call many times: calls are rows
    c = censor(full, at)
    gone = c["t_depart"].notna() | c["t_unberth"].notna()
    waiting = c[~gone & c["t_channel_in"].isna()].copy()
    inside = c[~gone & c["t_channel_in"].notna()].copy()  # in the channel inbound or alongside
    waiting["terminal"] = full.loc[waiting.index, "terminal"].to_numpy()  # the berth it was bound for
    inside["terminal"] = full.loc[inside.index, "terminal"].to_numpy()
    inside["row"] = inside.index
    cls = nearest_class(scenario, waiting["loa_m"].to_numpy(float))
    busiest = _busiest_terminal(scenario)
    waiting["terminal"] = [t if isinstance(t, str) else busiest[scenario.vessel_classes[k].name]
                           for t, k in zip(waiting["terminal"], cls)]
    waiting["waited_h"] = (at - waiting["t_arrival"]).dt.total_seconds().to_numpy() / 3600.0
    names = {t.name for t in scenario.terminals}
    waiting = waiting[waiting["terminal"].isin(names)]
    inside = inside[inside["terminal"].isin(names)].reset_index(drop=True)
    k = nearest_class(scenario, inside["loa_m"].to_numpy(float))
    inside["vessel_class"] = [scenario.vessel_classes[i].name for i in k]
    berth = inside["t_berth"].fillna(at)
    inside["elapsed_h"] = (at - berth).dt.total_seconds().to_numpy() / 3600.0
    inside["moves_done"] = _moves_done(scenario, c, inside, at)
    return PortState(at, waiting.sort_values("t_arrival").reset_index(drop=True), inside)


def _busiest_terminal(scenario: Scenario) -> dict[str, str]:
    """Vessel class → the terminal with the most calls of it a year (any terminal if none)."""
    rates: dict[tuple[str, str], float] = {}
    for spec, r in arrival_streams(scenario):
        rates[(spec.vessel_class, spec.terminal)] = rates.get((spec.vessel_class, spec.terminal), 0.0) + r
    out = {}
    for vc in scenario.vessel_classes:
        mine = {t: r for (c, t), r in rates.items() if c == vc.name}
        out[vc.name] = max(mine, key=mine.get) if mine else scenario.terminals[0].name
    return out


def _moves_done(scenario: Scenario, censored: pd.DataFrame, inside: pd.DataFrame, at: pd.Timestamp) -> np.ndarray:
    """Moves each ship alongside has had done by ``at``: its crane-hours so far (the cranes shared
    with every ship worked at the terminal meanwhile, including those gone since) × the rate."""
    c = censored[censored["t_berth"].notna() & censored["terminal"].notna()
                 & ~(censored["t_unberth"] < at - pd.Timedelta(days=14))]  # older calls shared no cranes
    if inside.empty or c.empty:
        return np.zeros(len(inside))
    terminal = c["terminal"].astype(str).to_numpy(object)
    k = nearest_class(scenario, c["loa_m"].to_numpy(float))
    cap = np.array([scenario.vessel_classes[i].max_cranes for i in k])
    unmoor = np.array([scenario.terminal(t).unmooring_h if t in {x.name for x in scenario.terminals} else 0.0
                       for t in terminal])
    t_unberth = utc_to_hours(c["t_unberth"], at)
    t_unberth = np.where(np.isfinite(t_unberth), t_unberth, unmoor)  # still alongside: worked until now
    ch = crane_hours(scenario, terminal, utc_to_hours(c["t_berth"], at), t_unberth, cap, c["loa_m"].to_numpy(float))
    done = pd.Series(np.nan_to_num(ch) * np.array([scenario.terminal(t).moves_per_crane_hour
                                                    if t in {x.name for x in scenario.terminals} else 0.0
                                                    for t in terminal]), index=c.index)
    return done.reindex(inside["row"].to_numpy()).fillna(0.0).to_numpy(float)
