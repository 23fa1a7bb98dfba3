"""Gate stage: when trucks come (hour-of-day profile or appointment slots), which visits are dual
cycles (a truck drops an export box and takes an import box), and each terminal's gate as a
multi-server FIFO queue of truck visits over its lanes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callao.scenario import Scenario
from callao.sim.queues import multi_server_fifo_wait
from callao.sim.streams import Streams

PAIRING_ROUNDS = 4
"""Rounds of dual-cycle matching (each round, drop-offs left unmatched try the nearest free pick-up)."""

FLAT = [1.0] * 24
"""Appointment slots are spread evenly over the day."""


def snap_to_profile(t: np.ndarray, profile: list[float], rng: np.random.Generator,
                    not_before: np.ndarray | None = None, not_after: np.ndarray | None = None) -> np.ndarray:
    """Move each time to a random hour of the same day, drawn from the hour-of-day ``profile``,
    then a day later (``not_before``) or earlier (``not_after``) if that breaks the bound."""
    p = np.asarray(profile, float)
    hour = rng.choice(24, size=t.size, p=p / p.sum())
    out = np.floor(t / 24.0) * 24.0 + hour + rng.random(t.size)
    if not_before is not None:
        out = np.where(out < not_before, out + 24.0, out)
        out = np.maximum(out, not_before)
    if not_after is not None:
        out = np.where(out > not_after, out - 24.0, out)
        out = np.minimum(out, not_after)
    return out


def truck_arrivals(scenario: Scenario, t: np.ndarray, rng: np.random.Generator, rng_appointment: np.random.Generator,
                   not_before: np.ndarray | None = None, not_after: np.ndarray | None = None) -> np.ndarray:
    """Gate arrival of trucks wishing to come on the day of ``t``: walk-ins at an hour of the
    gate's ``hourly_profile``, the ``appointment_share`` at an evenly spread slot hour."""
    gate = scenario.gate
    walk_in = snap_to_profile(t, gate.hourly_profile, rng, not_before, not_after)
    if gate.appointment_share <= 0:
        return walk_in
    booked = rng_appointment.random(t.size) < gate.appointment_share
    slot = snap_to_profile(t, FLAT, rng_appointment, not_before, not_after)
    return np.where(booked, slot, walk_in)


def pair_dual_cycles(t_drop: np.ndarray, t_pick: np.ndarray, pick_ready: np.ndarray, share: float,
                     window_h: float, rng: np.random.Generator) -> np.ndarray:
    """For each drop-off (a truck bringing a box, arriving at ``t_drop``), the index of the
    pick-up it also does (-1: none): ``share`` of the drop-offs try the free pick-up whose wished
    time is nearest, within ``window_h``, whose box is ready (released) by the drop-off's
    arrival; a pick-up goes to the earliest drop-off that wants it, the others try again (a few
    rounds). The visit keeps the drop-off's time."""
    partner = np.full(t_drop.size, -1, np.int64)
    if share <= 0 or t_drop.size == 0 or t_pick.size == 0:
        return partner
    tries = np.flatnonzero(rng.random(t_drop.size) < share)
    tries = tries[np.argsort(t_drop[tries], kind="stable")]
    free = np.ones(t_pick.size, bool)
    by_time = np.argsort(t_pick, kind="stable")  # the free pick-ups in time order, each round
    for _ in range(PAIRING_ROUNDS):  # drop-offs that lost their nearest pick-up try the next free one
        if tries.size == 0 or not free.any():
            break
        order = by_time[free[by_time]]
        tp = t_pick[order]
        td = t_drop[tries]
        j = np.searchsorted(tp, td)
        lo, hi = np.clip(j - 1, 0, tp.size - 1), np.clip(j, 0, tp.size - 1)
        nearest = np.where(np.abs(tp[lo] - td) < np.abs(tp[hi] - td), lo, hi)
        ok = (np.abs(tp[nearest] - td) <= window_h) & (pick_ready[order[nearest]] <= td)
        tries, nearest = tries[ok], nearest[ok]
        first = _first_of_each(nearest)  # each pick-up once: the earliest drop-off
        pick = order[nearest[first]]
        partner[tries[first]] = pick
        free[pick] = False
        tries = np.delete(tries, first)
    return partner


def _first_of_each(values: np.ndarray) -> np.ndarray:
    """Index of the first occurrence of each distinct value. The drop-offs come in time order, so
    their nearest pick-ups do too and a comparison with the neighbour suffices."""
    if values.size and (values[1:] >= values[:-1]).all():
        return np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    return np.unique(values, return_index=True)[1]


@dataclass
class GateOutcome:
    """Per container (NaN / False for boxes not by truck): gate arrival (a dual cycle's pick-up
    takes its drop-off's time), wait, time through the gate, and ``dual_cycle``: the box is the
    pick-up of a dual-cycle visit (the truck's visit is counted on its drop-off)."""

    t_gate: np.ndarray
    wait_h: np.ndarray
    done: np.ndarray
    dual_cycle: np.ndarray


def run_gate(scenario: Scenario, terminal: np.ndarray, t_gate: np.ndarray, drop: np.ndarray,
             pick: np.ndarray, pick_ready: np.ndarray, streams: Streams) -> GateOutcome:
    """Each terminal's gate: truck visits (single drop-off, single pick-up, dual cycle), each with
    its service-time distribution, through ``gate_lanes`` lanes in one FIFO queue (exact
    multi-server queue). ``drop``/``pick`` mark the boxes trucks bring / take."""
    gate = scenario.gate
    n = t_gate.size
    t_gate = t_gate.copy()
    wait = np.full(n, np.nan)
    done = np.full(n, np.nan)
    dual = np.zeros(n, bool)
    rng_pair, rng_service = streams("gate", "dual"), streams("gate", "service")
    for code, term in enumerate(scenario.terminals):
        d = np.flatnonzero(drop & (terminal == code))
        p = np.flatnonzero(pick & (terminal == code))
        partner = pair_dual_cycles(t_gate[d], t_gate[p], pick_ready[p], gate.dual_cycle_share,
                                   gate.dual_cycle_window_h, rng_pair)
        paired = partner >= 0
        taken = p[partner[paired]]
        t_gate[taken] = t_gate[d[paired]]
        dual[taken] = True
        single_pick = np.setdiff1d(p, taken, assume_unique=True)
        visits = np.concatenate([d, single_pick])
        service = np.concatenate([
            np.where(paired, gate.service("dual").sample(rng_service, d.size),
                     gate.service("in").sample(rng_service, d.size)),
            gate.service("out").sample(rng_service, single_pick.size)]) / 60.0
        w = multi_server_fifo_wait(t_gate[visits], service, term.gate_lanes)
        wait[visits] = w
        done[visits] = t_gate[visits] + w + service
        wait[taken], done[taken] = wait[d[paired]], done[d[paired]]
    return GateOutcome(t_gate, wait, done, dual)
