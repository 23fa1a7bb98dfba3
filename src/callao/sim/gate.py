"""Gate stage: when trucks come (hour-of-day profile or appointment slots), which visits are dual
cycles (a truck drops an export box and takes an import box), and each terminal's gate as a
multi-server FIFO queue of truck visits over its lanes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callao.scenario import Scenario
from callao.sim.queues import multi_server_fifo_wait
from callao.sim.streams import Streams, choice_index
from callao.tables import stable_argsort

PAIRING_ROUNDS = 4
"""Rounds of dual-cycle matching (each round, drop-offs left unmatched try the nearest free pick-up)."""

FLAT = [1.0] * 24
"""Appointment slots are spread evenly over the day."""


def snap_to_profile(t: np.ndarray, profile: list[float], rng: np.random.Generator,
                    not_before: np.ndarray | None = None, not_after: np.ndarray | None = None) -> np.ndarray:
    """Move each time to a random hour of the same day, drawn from the hour-of-day ``profile``,
    then a day later (``not_before``) or earlier (``not_after``) if that breaks the bound."""
    p = np.asarray(profile, float)
    hour = choice_index(rng, p / p.sum(), t.size)
    out = t / 24.0  # then floor(t / 24) * 24 + hour + U, in place (the same operations in the same order)
    np.floor(out, out=out)
    out *= 24.0
    out += hour
    out += rng.random(t.size)
    if not_before is not None:
        np.add(out, 24.0, out=out, where=out < not_before)
        np.maximum(out, not_before, out=out)
    if not_after is not None:
        np.subtract(out, 24.0, out=out, where=out > not_after)
        np.minimum(out, not_after, out=out)
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
    np.copyto(walk_in, slot, where=booked)
    return walk_in


def pair_dual_cycles(t_drop: np.ndarray, t_pick: np.ndarray, pick_ready: np.ndarray, share: float,
                     window_h: float, rng: np.random.Generator, drop_order: np.ndarray | None = None,
                     pick_order: np.ndarray | None = None) -> np.ndarray:
    """For each drop-off (a truck bringing a box, arriving at ``t_drop``), the index of the
    pick-up it also does (-1: none): ``share`` of the drop-offs try the free pick-up whose wished
    time is nearest, within ``window_h``, whose box is ready (released) by the drop-off's
    arrival; a pick-up goes to the earliest drop-off that wants it, the others try again (a few
    rounds). The visit keeps the drop-off's time. ``drop_order`` / ``pick_order``, if given, are
    the stable argsorts of ``t_drop`` / ``t_pick`` (the caller may have them already)."""
    partner = np.full(t_drop.size, -1, np.int64)
    if share <= 0 or t_drop.size == 0 or t_pick.size == 0:
        return partner
    trying = rng.random(t_drop.size) < share
    if drop_order is None:
        drop_order = stable_argsort(t_drop)
    tries = drop_order[trying[drop_order]]  # the trying drop-offs in time order (ties: index order)
    order = stable_argsort(t_pick) if pick_order is None else pick_order  # free pick-ups in time order
    tp, ready = t_pick[order], pick_ready[order]
    for round_ in range(PAIRING_ROUNDS):  # drop-offs that lost their nearest pick-up try the next free one
        if tries.size == 0 or order.size == 0:
            break
        td = t_drop[tries]
        j = np.searchsorted(tp, td)  # 0..tp.size
        lo, hi = np.maximum(j - 1, 0), np.minimum(j, tp.size - 1)
        gap_lo, gap_hi = np.abs(tp[lo] - td), np.abs(tp[hi] - td)
        closer = gap_lo < gap_hi
        nearest = np.where(closer, lo, hi)
        ok = (np.where(closer, gap_lo, gap_hi) <= window_h) & (ready[nearest] <= td)
        tries, nearest = tries[ok], nearest[ok]
        first = _first_of_each(nearest)  # each pick-up once: the earliest drop-off
        partner[tries[first]] = order[nearest[first]]
        if round_ == PAIRING_ROUNDS - 1:  # no round after this one to prepare for
            break
        still_free = np.ones(order.size, bool)
        still_free[nearest[first]] = False
        order, tp, ready = order[still_free], tp[still_free], ready[still_free]
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
    drops, picks = np.flatnonzero(drop), np.flatnonzero(pick)
    drop_terminal, pick_terminal = terminal[drops], terminal[picks]
    for code, term in enumerate(scenario.terminals):
        d = drops[drop_terminal == code]
        p = picks[pick_terminal == code]
        td, tp = t_gate[d], t_gate[p]
        d_order, p_order = stable_argsort(td), stable_argsort(tp)
        partner = pair_dual_cycles(td, tp, pick_ready[p], gate.dual_cycle_share, gate.dual_cycle_window_h,
                                   rng_pair, drop_order=d_order, pick_order=p_order)
        paired = partner >= 0
        drop_of = np.full(p.size, -1, np.int64)  # the drop-off a pick-up is paired with (-1: none)
        drop_of[partner[paired]] = d[paired]
        is_taken = drop_of >= 0
        taken = p[is_taken]  # ascending, as p
        their_drop = drop_of[is_taken]
        t_gate[taken] = t_gate[their_drop]
        dual[taken] = True
        single_pick = p[~is_taken]
        visits = np.concatenate([d, single_pick])
        service_dual = gate.service("dual").sample(rng_service, d.size)  # both drawn for every drop-off
        service_in = gate.service("in").sample(rng_service, d.size)
        np.copyto(service_in, service_dual, where=paired)
        service = np.concatenate([service_in, gate.service("out").sample(rng_service, single_pick.size)])
        service /= 60.0  # minutes to hours
        a = t_gate[visits]
        w = multi_server_fifo_wait(a, service, term.gate_lanes, order=_merged_order(
            td, d_order, tp, p_order, ~is_taken))
        wait[visits] = w
        done[visits] = a + w + service
        wait[taken], done[taken] = wait[their_drop], done[their_drop]
    return GateOutcome(t_gate, wait, done, dual)


def _merged_order(td: np.ndarray, d_order: np.ndarray, tp: np.ndarray, p_order: np.ndarray,
                  keep: np.ndarray) -> np.ndarray:
    """``stable_argsort(np.concatenate([td, tp[keep]]))`` from the two stable argsorts, by merging
    them (ties: the drop-offs first, as they come first)."""
    ps = p_order[keep[p_order]]  # the kept pick-ups in time order, as indices into tp
    rank = np.cumsum(keep) - 1  # index of each kept pick-up among the kept ones
    a, b = td[d_order], tp[ps]
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return stable_argsort(np.concatenate([td, tp[keep]]))
    order = np.empty(a.size + b.size, np.int64)
    at_b = np.arange(b.size) + np.searchsorted(a, b, side="right")  # a pick-up after the drop-offs not later
    order[at_b] = td.size + rank[ps]
    of_a = np.ones(order.size, bool)
    of_a[at_b] = False
    order[of_a] = d_order  # the drop-offs fill the other places, in their order
    return order
