"""The sequential part of the port, as SimPy processes: anchorage, channel, quay, cranes.

A vessel arrives at the anchorage, waits for a place on its terminal's quay, transits the channel
(when no closure or naval movement blocks it and the traffic rule allows), moors, is worked by
quay cranes (shared by the terminal's vessels, stopped by closures), unmoors and transits out.
Everything container-level happens afterwards, vectorised, from what is recorded here
(:class:`VesselRecords`). Each terminal's quay is a SimPy resource (:class:`Quay`) of metres;
each port (:attr:`Scenario.ports`) has its own :class:`Channel`.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import simpy

from callao.scenario import Scenario
from callao.scenario.model import Channel as ChannelRules
from callao.scenario.model import Terminal
from callao.sim.disruptions import Windows
from callao.sim.streams import Streams


@dataclass(slots=True)
class ChannelDelays:
    """Hours one call waited for each channel resource or rule, inbound plus outbound."""

    pilot_wait_h: float = 0.0
    tug_wait_h: float = 0.0
    daylight_delay_h: float = 0.0
    closure_delay_h: float = 0.0
    naval_delay_h: float = 0.0
    traffic_delay_h: float = 0.0
    naval_encounters: int = 0
    """1 if a naval movement held the call back, else 0."""


CHANNEL_DELAYS = tuple(f.name for f in fields(ChannelDelays) if f.name.endswith("_h"))
"""Hours a call waited for each channel resource or rule, inbound plus outbound."""


@dataclass
class VesselRecords:
    """What the waterside records of every call: one array per field, element ``i`` for call ``i``
    (the row order of the calls table). Times are run hours (NaN until the event happens: a call
    alongside when the run starts has no ``t_berth_assigned``, ``t_channel_in`` or ``t_berth``).
    The fields, in this order, become the vessels table's columns after the calls' own
    (:meth:`columns`)."""

    t_berth_assigned: np.ndarray
    """A place on the quay granted (the call may leave the anchorage), hours."""
    t_channel_in: np.ndarray
    """Inbound transit starts (the anchorage wait ends), hours."""
    t_berth: np.ndarray
    """Alongside (the inbound transit ends), hours."""
    t_handling_start: np.ndarray
    """Moored; crane work may start, hours."""
    t_handling_end: np.ndarray
    """Crane work done, hours."""
    t_unberth: np.ndarray
    """Outbound transit starts (the quay place is freed), hours."""
    t_depart: np.ndarray
    """Outbound transit ends, hours."""
    pilot_wait_h: np.ndarray
    """Waiting for a pilot, inbound plus outbound, hours (likewise the other ``*_h`` delays)."""
    tug_wait_h: np.ndarray
    daylight_delay_h: np.ndarray
    closure_delay_h: np.ndarray
    naval_delay_h: np.ndarray
    traffic_delay_h: np.ndarray
    """Waiting for the one-way traffic rule, hours."""
    naval_encounters: np.ndarray
    """1 if a naval movement held the call back, else 0 (int32)."""
    quay_position_m: np.ndarray
    """Start of the call's place on its terminal's quay, metres from the quay's start."""
    n_transship_out_actual: np.ndarray
    """Transshipment boxes loaded from the terminal's pool (int64)."""
    cranes_max: np.ndarray
    """Most cranes that worked the call at once (int32)."""
    crane_limit: np.ndarray
    """Most cranes the terminal puts on the call (class, length and terminal rules; int32)."""
    work_moves: np.ndarray
    """Moves worked: planned moves with the transshipment loads actually taken."""
    crane_hours: np.ndarray
    """Crane-hours spent on the call."""
    terminal: np.ndarray
    """The terminal each call went to (route choice may change the planned one; object)."""

    @classmethod
    def empty(cls, planned_terminal: np.ndarray) -> "VesselRecords":
        """Records of ``len(planned_terminal)`` calls before the run: times NaN, counts and delays
        0, each call at its planned terminal."""
        n = len(planned_terminal)
        arrays = {f.name: np.full(n, np.nan) if f.name.startswith("t_") else np.zeros(n, _INTEGER.get(f.name, float))
                  for f in fields(cls) if f.name != "terminal"}
        return cls(**arrays, terminal=np.asarray(planned_terminal, dtype=object).copy())

    def set_delays(self, i: int, delays: ChannelDelays) -> None:
        """Store call ``i``'s channel delays."""
        for name in (*CHANNEL_DELAYS, "naval_encounters"):
            getattr(self, name)[i] = getattr(delays, name)

    def columns(self) -> dict[str, np.ndarray]:
        """The recorded columns of the vessels table, in table order (``terminal`` excluded: it
        replaces the calls table's own)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "terminal"}


_INTEGER = {"naval_encounters": np.int32, "n_transship_out_actual": np.int64, "cranes_max": np.int32,
            "crane_limit": np.int32}
"""The integer fields of :class:`VesselRecords` and their dtypes (the others are float64)."""

VESSEL_TIMES = tuple(f.name for f in fields(VesselRecords) if f.name.startswith("t_"))
"""The stage times a call records, in order."""

TRANSSHIP_TAKE_FACTOR = 2
"""A call loads up to this multiple of its planned transshipment moves from the boxes ready for
it, so that the connection pool stays stable (with a factor of 1 it would be a critically loaded
queue and grow without bound)."""


def below_resolution(now_h: float, step_h: float) -> bool:
    """True if a step of ``step_h`` hours cannot move a clock that reads ``now_h``: it is below
    the floating-point spacing at ``now_h`` (about 6e-11 h after 30 years)."""
    return now_h + step_h <= now_h


def delay_until(now_h: float, t_h: float) -> float:
    """The timeout delay (hours, >= 0) that brings a clock reading ``now_h`` to at least ``t_h``
    despite rounding: ``now_h + delay >= t_h`` holds exactly in floating point."""
    delay = t_h - now_h
    if delay <= 0:
        return 0.0
    while now_h + delay < t_h:
        delay = float(np.nextafter(delay, np.inf))
    return delay


class BerthRequest(simpy.resources.base.Put):
    """A request for ``length_m`` metres of one terminal's quay (the ship's length plus the
    clearance). It fires with the berth position, metres from the quay's start, also kept as
    ``position_m``. A waiting request can be withdrawn with :meth:`cancel`; a granted one is freed
    with ``quay.release(request)`` (both happen on leaving a ``with quay.request(...)`` block).
    ``at_m`` places the ship there at once, whatever else is alongside (a ship already berthed
    when the run starts)."""

    def __init__(self, quay: "Quay", length_m: float, at_m: float | None = None):
        self.length_m = length_m
        self.at_m = at_m
        self.position_m: float | None = None
        """Where the ship's place starts once granted, metres from the quay's start."""
        self.end_m: float | None = None
        """Where it ends (``position_m + length_m``)."""
        super().__init__(quay)

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        if self.triggered and self in self.resource.berthed:
            self.resource.release(self)


class BerthRelease(simpy.resources.base.Get):
    """Frees the quay taken by a granted :class:`BerthRequest`; fires at once."""

    def __init__(self, quay: "Quay", request: BerthRequest):
        self.request = request
        super().__init__(quay)
        self.callbacks.remove(quay._trigger_put)  # done already, when the place was freed (Quay._do_get)


class Quay(simpy.resources.base.BaseResource):
    """A terminal's continuous quay as a SimPy resource of ``quay_length_m`` metres. A ship takes
    the smallest free gap its length (plus clearance) fits, at the gap's start. Waiting requests
    are served in arrival order, but one that fits may go ahead of a longer one that does not. A
    release frees the place and grants, at the same instant, every waiting request that now fits."""

    def __init__(self, env: simpy.Environment, terminal: Terminal):
        super().__init__(env, capacity=terminal.quay_length_m)
        self.length = terminal.quay_length_m
        self.clearance = terminal.berth_clearance_m
        self.berthed: list[BerthRequest] = []
        """The granted requests, sorted by position (then end)."""

    def request(self, loa_m: float, at_m: float | None = None) -> BerthRequest:
        """A place for a ship of ``loa_m`` metres (plus the clearance, within the quay's length)."""
        return BerthRequest(self, min(loa_m + self.clearance, self.length), at_m)

    def release(self, request: BerthRequest) -> BerthRelease:
        """Free the place ``request`` holds."""
        return BerthRelease(self, request)

    def _do_put(self, event: BerthRequest) -> bool:
        pos = event.at_m if event.at_m is not None else self._best_fit(event.length_m)
        if pos is not None:
            event.position_m, event.end_m = pos, pos + event.length_m
            bisect.insort(self.berthed, event, key=lambda r: (r.position_m, r.end_m))
            event.succeed(pos)
        return True  # a later, shorter request may still fit

    def _do_get(self, event: BerthRelease) -> bool:
        self.berthed.remove(event.request)
        event.succeed()
        self._trigger_put(None)  # the freed place goes to waiting ships now, not when the release is processed
        return True

    def _best_fit(self, need: float) -> float | None:
        best, best_gap, edge = None, np.inf, 0.0
        for r in self.berthed:
            gap = r.position_m - edge
            if need <= gap + 1e-9 and gap < best_gap:
                best, best_gap = edge, gap
            edge = max(edge, r.end_m)
        gap = self.length - edge
        if need <= gap + 1e-9 and gap < best_gap:
            best = edge
        return best


class Job:
    """A vessel being worked: its crane count and a wake-up event for when that (or a closure) changes."""

    def __init__(self, env: simpy.Environment, max_cranes: int):
        self.env = env
        self.max_cranes = max_cranes
        self.cranes = 0
        self.wake = env.event()

    def notify(self) -> None:
        if not self.wake.triggered:
            self.wake.succeed()


class Cranes:
    """A terminal's crane pool, shared evenly among the vessels at berth (each up to its maximum;
    cranes left over go to the earliest-berthed vessels)."""

    def __init__(self, total: int):
        self.total = total
        self.jobs: list[Job] = []

    def join(self, job: Job) -> None:
        self.jobs.append(job)
        self._rebalance()

    def leave(self, job: Job) -> None:
        self.jobs.remove(job)
        self._rebalance()

    def _rebalance(self) -> None:
        alloc = allocate_cranes(self.total, [j.max_cranes for j in self.jobs])
        for job, n in zip(self.jobs, alloc):
            if n != job.cranes:
                job.cranes = n
                job.notify()


def allocate_cranes(total: int, maxima: list[int]) -> list[int]:
    """Water-filling: an even share each, capped by each vessel's maximum; the remainder goes one
    by one to vessels in berthing order. Never allocates more than ``total``."""
    alloc = [0] * len(maxima)
    left = total
    open_ = [i for i, m in enumerate(maxima) if m > 0]
    while left > 0 and open_:
        share = max(left // len(open_), 1)
        for i in list(open_):
            give = min(share, maxima[i] - alloc[i], left)
            alloc[i] += give
            left -= give
            if alloc[i] >= maxima[i]:
                open_.remove(i)
            if left == 0:
                break
    return alloc


class Channel:
    """The approach channel and its rules. A transit waits until no closure or naval movement
    blocks the channel and the daylight rule allows it (ships at least ``daylight_loa_m`` long only
    between sunrise and sunset, local time); then takes a pilot from the pool (compulsory
    pilotage; the pilot boards first) and the tugs its length needs; then checks the channel again
    and the traffic rule (a vessel at least ``one_way_loa_m`` long needs the channel to itself;
    smaller ones may pass each other). The pilot leaves at the end of the transit, the tugs after
    ``tug_assist_h``."""

    def __init__(self, env: simpy.Environment, rules: ChannelRules, closures: Windows, naval: Windows,
                 rng: np.random.Generator, start_local_h: float = 0.0):
        self.env = env
        self.rules = rules
        self.transit_h = rules.transit_h
        self.one_way_loa_m = rules.one_way_loa_m
        self.closures = closures
        self.naval = naval
        self.rng = rng
        self.start_local_h = start_local_h
        self.pilots = simpy.Resource(env, rules.pilots) if rules.pilots else None
        self.tugs = simpy.Container(env, rules.tugs, init=rules.tugs) if rules.tugs else None
        self.large_in_channel = 0
        self.small_in_channel = 0
        self.released = env.event()

    def daylight_start(self, t: float) -> float:
        """The earliest time >= ``t`` (run hours) at which a daylight transit may start."""
        r = self.rules
        local = (t + self.start_local_h) % 24.0
        if r.sunrise_local_h <= local and local + self.transit_h <= r.sunset_local_h:
            return t
        wait = r.sunrise_local_h - local if local < r.sunrise_local_h else 24.0 - local + r.sunrise_local_h
        return t + wait

    def transit(self, loa_m: float, delays: ChannelDelays,
                on_start: Callable[[], None] | None = None, outbound: bool = False) -> Generator:
        """Process: get a pilot and tugs, wait until the channel may be entered, then transit. Adds
        hours of delay by cause to ``delays`` and sets its ``naval_encounters`` to 1 if a naval
        movement held the vessel back."""
        env, rules, large = self.env, self.rules, loa_m >= self.one_way_loa_m
        daylight = rules.needs_daylight(loa_m)
        pilot = None
        needs_pilot = self.pilots is not None and (rules.pilot_outbound or not outbound)
        n_tugs = rules.tugs_for(loa_m) if self.tugs is not None else 0
        if needs_pilot or n_tugs:  # no pilot boards, no tug comes, while the ship may not sail
            yield from self._wait_until_open(daylight, delays)
        if needs_pilot:
            t = env.now
            pilot = self.pilots.request()
            yield pilot
            delays.pilot_wait_h += env.now - t
            boarding = float(rules.pilot_boarding_h.sample(self.rng, 1)[0])
            if boarding > 0:
                yield env.timeout(boarding)
        if n_tugs:
            t = env.now
            yield self.tugs.get(n_tugs)
            delays.tug_wait_h += env.now - t
        while True:  # a closure or naval movement may have begun meanwhile: the ship waits with its pilot
            yield from self._wait_until_open(daylight, delays)
            t = env.now
            if self.large_in_channel or (large and self.small_in_channel):
                yield self.released
                delays.traffic_delay_h += env.now - t
                continue
            break
        if large:
            self.large_in_channel += 1
        else:
            self.small_in_channel += 1
        if on_start:
            on_start()
        if self.transit_h > 0:
            yield env.timeout(self.transit_h)
        if large:
            self.large_in_channel -= 1
        else:
            self.small_in_channel -= 1
        released, self.released = self.released, env.event()
        released.succeed()
        if pilot is not None:
            self.pilots.release(pilot)
        if self.tugs is not None and n_tugs:
            env.process(self._return_tugs(n_tugs))

    def _wait_until_open(self, daylight: bool, delays: ChannelDelays) -> Generator:
        """Process: wait until a transit starting now clashes with no closure or naval movement
        and, for a daylight ship, fits in daylight. Every wait ends at or after the window's end,
        so the loop always progresses."""
        env = self.env
        while True:
            t = env.now
            end = self.closures.clash_end(t, self.transit_h)
            if end is not None:
                delays.closure_delay_h += end - t
                yield env.timeout(delay_until(t, end))
                continue
            end = self.naval.clash_end(t, self.transit_h)
            if end is not None:
                delays.naval_delay_h += end - t
                delays.naval_encounters = 1
                yield env.timeout(delay_until(t, end))
                continue
            if daylight:
                start = self.daylight_start(t)
                if start > t:
                    delays.daylight_delay_h += start - t
                    yield env.timeout(delay_until(t, start))
                    continue
            return

    def _return_tugs(self, n: int) -> Generator:
        if self.rules.tug_assist_h > 0:
            yield self.env.timeout(self.rules.tug_assist_h)
        yield self.tugs.put(n)


class TransshipPool:
    """Transshipment boxes waiting in one terminal's yard for an onward call: (box id, ready time h)."""

    def __init__(self) -> None:
        self.ids = np.empty(0, np.int64)
        self.ready = np.empty(0)

    def add(self, ids: np.ndarray, ready_h: np.ndarray) -> None:
        self.ids = np.concatenate([self.ids, ids])
        self.ready = np.concatenate([self.ready, ready_h])

    def take(self, now_h: float, n: int) -> np.ndarray:
        """Up to ``n`` boxes ready by ``now_h``: the longest-ready (ties: the lowest ids), in no
        particular order. A partition, not a sort: only which boxes go matters."""
        if n <= 0 or self.ids.size == 0:
            return np.empty(0, np.int64)
        chosen = np.flatnonzero(self.ready <= now_h)
        if chosen.size > n:
            r = self.ready[chosen]
            cut = np.partition(r, n - 1)[n - 1]  # the n-th shortest ready time
            below, tied = chosen[r < cut], chosen[r == cut]
            if below.size + tied.size > n:  # ties at the cut: the lowest ids
                tied = tied[np.argsort(self.ids[tied], kind="stable")[:n - below.size]]
            chosen = np.concatenate([below, tied])
        if chosen.size == 0:
            return np.empty(0, np.int64)
        taken = self.ids[chosen]
        keep = np.ones(self.ids.size, bool)
        keep[chosen] = False
        self.ids, self.ready = self.ids[keep], self.ready[keep]
        return taken


class Waterside:
    """All vessel-level processes of one run. ``run()`` returns the calls table with the
    :class:`VesselRecords` (stage times, delays, quay positions) as columns."""

    def __init__(self, scenario: Scenario, calls: pd.DataFrame, closures: pd.DataFrame,
                 naval: pd.DataFrame, streams: Streams):
        self.scenario = scenario
        self.calls = calls
        self.rows = list(calls.itertuples(index=False))
        self.env = env = simpy.Environment()
        self.quays = {t.name: Quay(env, t) for t in scenario.terminals}
        self.cranes = {t.name: Cranes(t.cranes) for t in scenario.terminals}
        self.pools = {t.name: TransshipPool() for t in scenario.terminals}
        self.port_of = {t.name: t.port for t in scenario.terminals}
        self.channels = {}
        start = scenario.simulation.start_utc
        for port in scenario.ports:
            ch = port.channel
            start_local_h = (start.hour + start.minute / 60 + start.second / 3600 + ch.utc_offset_h) % 24.0
            self.channels[port.name] = Channel(
                env, ch, Windows.from_frame(closures[closures["port"] == port.name]),
                Windows.from_frame(naval[naval["port"] == port.name]), streams("channel", port.name), start_local_h)
        self.closures = closures
        self.stopped = dict.fromkeys(scenario.port_names, False)
        self.recent_waits = {p: deque(maxlen=scenario.route_choice.memory_calls) for p in scenario.port_names}
        self.rng = streams("transship")
        self.route_rng = streams("route choice")
        n = len(calls)
        self.records = VesselRecords.empty(calls["terminal"].to_numpy(dtype=object))
        self._box_vessel_in: list[np.ndarray] = []  # per discharging call: its vessel index per box
        self._taken: list[tuple[np.ndarray, int]] = []  # (box ids, vessel_out)
        self._next_box = 0
        self._in_port = n
        # initial state (forecasts): a call with a finite start_at_berth_m is alongside at that
        # quay position when the run starts, with ``moves`` of work left; calls with t_arrival < 0
        # are at the anchorage when it starts (waiting since then)
        self.start_at_berth_m = (calls["start_at_berth_m"].to_numpy(float) if "start_at_berth_m" in calls
                                 else np.full(n, np.nan))
        self._alongside: dict[int, BerthRequest] = {}  # call → its place, for calls alongside at the start
        self.all_departed = env.event()
        if n == 0:
            self.all_departed.succeed()

    def run(self, progress: Callable[[float], None] | None = None, step_h: float = 168.0) -> pd.DataFrame:
        env = self.env
        for i in np.flatnonzero(np.isfinite(self.start_at_berth_m)):
            quay = self.quays[self.records.terminal[i]]
            self._alongside[i] = quay.request(self.rows[i].loa_m, at_m=float(self.start_at_berth_m[i]))
        env.process(self._arrivals())
        for port in self.scenario.ports:
            if port.closures.stop_cranes:
                env.process(self._crane_stops(port.name))
        horizon = self.scenario.horizon_h
        for t in np.append(np.arange(step_h, horizon, step_h), horizon):
            env.run(until=float(t))
            if progress:
                progress(float(t))
        if not self.all_departed.triggered:  # drain: calls that arrived before the horizon finish
            env.run(until=self.all_departed)
        out = self.calls.copy()
        out.insert(out.columns.get_loc("terminal"), "planned_terminal", out["terminal"])
        out["terminal"] = self.records.terminal
        out.insert(out.columns.get_loc("terminal") + 1, "port", out["terminal"].map(self.port_of))
        for name, values in self.records.columns().items():
            out[name] = values
        return out

    def transshipments(self) -> tuple[np.ndarray, np.ndarray]:
        """Vessel in and vessel out (-1: still in the yard) of every transshipment box, by box id."""
        v_in = np.concatenate([np.empty(0, np.int32), *self._box_vessel_in])
        v_out = np.full(v_in.size, -1, np.int32)
        for ids, i in self._taken:
            v_out[ids] = i
        return v_in, v_out

    def _arrivals(self) -> Generator:
        for i, t in enumerate(self.calls["t_arrival"].to_numpy()):
            yield self.env.timeout(delay_until(self.env.now, t))
            self.env.process(self._vessel(i))

    def _crane_stops(self, port: str) -> Generator:
        mine = self.closures[self.closures["port"] == port]
        for start, end in zip(mine["start_h"], mine["end_h"]):
            yield self.env.timeout(delay_until(self.env.now, start))
            self._set_stopped(port, True)
            yield self.env.timeout(delay_until(self.env.now, end))
            self._set_stopped(port, False)

    def _set_stopped(self, port: str, stopped: bool) -> None:
        self.stopped[port] = stopped
        for name, pool in self.cranes.items():
            if self.port_of[name] == port:
                for job in pool.jobs:
                    job.notify()

    def _choose_terminal(self, row) -> str:
        """Route choice (multinomial logit) among the planned terminal and its alternatives."""
        rc = self.scenario.route_choice
        options = [row.terminal, *row.alternatives.split(",")]
        utility = []
        for name in options:
            port = self.port_of[name]
            waits = self.recent_waits[port]
            expected_wait_h = sum(waits) / len(waits) if waits else 0.0
            days = rc.sailing_days.get(port, {}).get(row.region, 0.0)
            utility.append(rc.asc.get(port, 0.0) - rc.beta_per_day * (days + expected_wait_h / 24.0))
        u = np.array(utility)
        p = np.exp(u - u.max())
        return options[int(self.route_rng.choice(len(options), p=p / p.sum()))]

    def _vessel(self, i: int) -> Generator:
        env, rec = self.env, self.records
        row = self.rows[i]
        name = self._choose_terminal(row) if row.alternatives else row.terminal
        rec.terminal[i] = name
        term = self.scenario.terminal(name)
        quay, channel, port = self.quays[name], self.channels[term.port], term.port
        delays = ChannelDelays()

        if i in self._alongside:  # alongside when the run starts
            berth = self._alongside.pop(i)
            rec.quay_position_m[i] = berth.position_m
        else:
            berth = quay.request(row.loa_m)
            rec.quay_position_m[i] = yield berth
            rec.t_berth_assigned[i] = env.now
            def entering() -> None:
                rec.t_channel_in[i] = env.now
                self.recent_waits[port].append(env.now - row.t_arrival)

            yield from channel.transit(row.loa_m, delays, on_start=entering)
            rec.t_berth[i] = env.now
            yield env.timeout(term.mooring_h)

        rec.t_handling_start[i] = env.now
        taken = self.pools[name].take(env.now, TRANSSHIP_TAKE_FACTOR * int(row.n_transship_out))
        self._taken.append((taken, i))
        rec.n_transship_out_actual[i] = taken.size
        work = max(row.moves + taken.size - row.n_transship_out, 0.0)
        rec.work_moves[i] = work
        limit = term.cranes_per_ship(row.loa_m, int(row.max_cranes))
        rec.crane_limit[i] = limit
        yield from self._work(self.cranes[name], Job(env, limit), work,
                              term.moves_per_crane_hour, i, port)
        rec.t_handling_end[i] = env.now
        self._discharge_transship(i, row, name)

        yield env.timeout(term.unmooring_h)

        def leaving() -> None:
            rec.t_unberth[i] = env.now
            quay.release(berth)

        yield from channel.transit(row.loa_m, delays, on_start=leaving, outbound=True)
        rec.t_depart[i] = env.now
        rec.set_delays(i, delays)
        self._in_port -= 1
        if self._in_port == 0:
            self.all_departed.succeed()

    def _work(self, pool: Cranes, job: Job, work: float, rate_per_crane: float, i: int,
              port: str) -> Generator:
        """Process: work ``work`` moves with the cranes the pool gives the job, re-planning each
        time the allocation or a crane stop changes. The work is done when the planned finish
        fires, or when what is left would take less than the clock can resolve at ``env.now``
        (so a step too small to move the clock never spins)."""
        env = self.env
        pool.join(job)
        remaining = work
        while remaining > 0:
            rate = 0.0 if self.stopped[port] else job.cranes * rate_per_crane
            self.records.cranes_max[i] = max(self.records.cranes_max[i], job.cranes)
            job.wake = env.event()
            if rate <= 0:
                yield job.wake
                continue
            if below_resolution(env.now, remaining / rate):
                break
            t0, cranes = env.now, job.cranes
            finish = env.timeout(remaining / rate)
            fired = yield finish | job.wake
            self.records.crane_hours[i] += cranes * (env.now - t0)
            if finish in fired:
                break
            remaining -= rate * (env.now - t0)
        pool.leave(job)

    def _discharge_transship(self, i: int, row, terminal: str) -> None:
        n = int(row.n_transship_in)
        if n == 0:
            return
        ids = np.arange(self._next_box, self._next_box + n, dtype=np.int64)
        self._next_box += n
        dwell = self.scenario.dwell_days.transship if self.scenario.dwell_days else None
        ready = self.env.now + (dwell.sample(self.rng, n) * 24.0 if dwell else np.zeros(n))
        self.pools[terminal].add(ids, ready)
        self._box_vessel_in.append(np.full(n, i, np.int32))
