"""The straightforward alternative, as a speed baseline: one SimPy process per container.

``python benchmarks/simpy_baseline.py [--days 30] [--seed 1]`` runs callao once for the vessel
table, then this model on the calls whose handling starts in the first ``--days`` days.

It takes the vessel table of a real callao run (handling windows and per-flow move counts) and the
scenario, and moves every box as its own process, with the same distributions and counts as
``callao.sim.cargo`` / ``callao.sim.landside``:

* inbound (import, empty_in): discharged at a uniform time in its vessel's handling window →
  imports: paperwork (anticipated or documentary_h), customs channel draw, queue for a scanner
  (``Resource(capacity=scanners)``, exponential service at scans_per_hour, released ``scan_h``
  after the scan starts) or for the exam desk (exams start at most ``exams_per_day`` a day, one
  every 24/exams_per_day h, released ``exam_h`` after the start) → yard until the pick-up wish
  (dwell) and release → truck at an hour from the gate profile → terminal gate
  (``Resource(capacity=gate_lanes)``, exponential service) → corridor to Lima (peak factor);
* outbound (export, empty_out): the truck leaves Lima so as to reach the gate ``dwell`` before
  loading (snapped to the gate profile, by the cut-off) → corridor → gate → export customs
  (channel, scanner / exam) → yard until loaded at a uniform time in the vessel's window;
* transshipment: discharged, ready ``dwell`` after its vessel's work ends, then in the
  terminal's ``simpy.Store``; each call takes up to 2× its planned transshipment moves from the
  ready boxes, longest-ready first, and each taken box is loaded in that call's window;
* cargo attributes as in ``build_containers`` (size, reefer, commodity, destination).

Written the way a SimPy modeller would (stdlib ``random`` scalar draws, ``with res.request()``,
processes spawned by the vessel that carries the box, a record tuple per box); nothing is made
slow on purpose. Known, deliberate differences from callao's vectorised stages (they do not change
the amount of work): gate lanes and scanners are real multi-server resources here, where callao
pools them into one faster FIFO server; export customs starts after the gate transaction instead
of at gate arrival.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from callao.scenario import Scenario  # noqa: E402

EXPORT_CUTOFF_H = 2.0  # as callao.sim.landside
TRANSSHIP_TAKE_FACTOR = 2  # as callao.sim.waterside
BOOKING_LEAD_H = 60 * 24.0
"""A call's export and empty-out boxes start their process this long before its handling starts
(their trucks leave Lima dwell + corridor before loading; dwell beyond 60 days is ~1e-6)."""

NAN = float("nan")
COUNT_FLOWS = ("n_import", "n_empty_in", "n_transship_in", "n_export", "n_empty_out")
RECORD_COLUMNS = (
    "flow", "terminal", "vessel_in", "vessel_out", "size_ft", "reefer", "commodity", "destination",
    "t_discharge", "t_load", "customs_channel", "t_customs_request", "t_inspection_start",
    "t_customs_release", "t_gate", "gate_wait_h", "t_yard_in", "t_yard_out", "t_lima",
)


def scalar_sampler(dist, rng: random.Random) -> Callable[[], float]:
    """A zero-argument scalar sampler for a scenario distribution (same parameterisation as
    ``callao.scenario.distributions``), drawing from the stdlib generator ``rng``."""
    kind = dist.dist
    if kind == "constant":
        value = dist.value
        return lambda: value
    if kind == "exponential":
        lam = 1.0 / dist.mean
        return lambda: rng.expovariate(lam)
    if kind == "erlang":
        k, scale = dist.k, dist.mean / dist.k
        return lambda: rng.gammavariate(k, scale)
    if kind == "gamma":
        shape = 1.0 / dist.cv**2
        scale = dist.mean / shape
        return lambda: rng.gammavariate(shape, scale)
    if kind == "lognormal":
        s2 = math.log1p(dist.cv**2)
        mu, sigma = math.log(dist.mean) - s2 / 2, math.sqrt(s2)
        return lambda: rng.lognormvariate(mu, sigma)
    if kind == "normal":
        mean, sd, low = dist.mean, dist.sd, dist.low
        if low is None:
            return lambda: rng.gauss(mean, sd)
        return lambda: max(rng.gauss(mean, sd), low)
    if kind == "uniform":
        low, high = dist.low, dist.high
        return lambda: rng.uniform(low, high)
    if kind == "triangular":
        low, mode, high = dist.low, dist.mode, dist.high
        return lambda: rng.triangular(low, high, mode)
    raise ValueError(f"no scalar sampler for {kind!r}")


class WeightedChoice:
    """Draw a key of ``shares`` with probability proportional to its value."""

    def __init__(self, shares: dict, rng: random.Random):
        self.keys = list(shares)
        self.cum = list(itertools.accumulate(shares.values()))
        self.total = self.cum[-1]
        self.rng = rng

    def __call__(self):
        return self.keys[bisect.bisect_right(self.cum, self.rng.random() * self.total)]


def first_days(vessels: pd.DataFrame, days: float) -> pd.DataFrame:
    """The calls whose handling starts in the first ``days`` days of the run's horizon (hour 0 on;
    a scenario's spin-up calls, before hour 0, are left out: the port is already busy)."""
    start = vessels["t_handling_start"]
    return vessels[(start >= 0.0) & (start < days * 24.0)]


class PerContainerPort:
    """The port's container side, one SimPy process per box, driven by a callao vessel table."""

    def __init__(self, scenario: Scenario, vessels: pd.DataFrame, days: float | None = None, seed: int = 0):
        # Start the clock early enough for the first calls' export trucks (callao's times may be
        # negative there: trucks gate in before the first call's handling starts).
        window = vessels if days is None else first_days(vessels, days)
        first = min(0.0, float(window["t_handling_start"].min())) if len(window) else 0.0
        self.env = env = simpy.Environment(initial_time=first - BOOKING_LEAD_H)
        self.rng = rng = random.Random(seed)
        sc = scenario
        cus, gate, cargo, dwell = sc.customs, sc.gate, sc.cargo, sc.dwell_days
        self.calls = list(window.itertuples(index=False))
        self.n_containers = int(window[list(COUNT_FLOWS)].to_numpy().sum())
        # Resources.
        self.scanner = simpy.Resource(env, capacity=cus.scanners)
        self.exam_desk = simpy.Resource(env, capacity=1)
        self.lanes = {t.name: simpy.Resource(env, capacity=t.gate_lanes) for t in sc.terminals}
        self.pools = {t.name: simpy.Store(env) for t in sc.terminals}
        # Parameters and samplers.
        self.scans_per_hour, self.scan_h = cus.scans_per_hour, cus.scan_h
        self.exam_gap_h = 24.0 / cus.exams_per_day
        self.exam_h = scalar_sampler(cus.exam_h, rng)
        self.documentary_h = scalar_sampler(cus.documentary_h, rng)
        self.anticipated_share = cus.anticipated_share
        self.dwell = {f: scalar_sampler(dwell.for_flow(f), rng)
                      for f in ("import", "empty_in", "export", "empty_out", "transship")}
        self.channel = {
            "import": WeightedChoice({1: cus.import_channels.green, 2: cus.import_channels.orange,
                                      3: cus.import_channels.red}, rng),
            "export": WeightedChoice({1: cus.export_channels.green, 2: cus.export_channels.orange,
                                      3: cus.export_channels.red}, rng),
        }
        self.gate_rate = 60.0 / gate.service_min  # per lane, per hour
        self.hour = WeightedChoice(dict(enumerate(gate.hourly_profile)), rng)
        self.corridor_h, self.peak = gate.corridor_h, list(gate.corridor_peak_factor)
        self.forty_share = cargo.forty_ft_share
        self.reefer_import, self.reefer_export = cargo.reefer_share_import, cargo.reefer_share_export
        self.reefer_commodity = WeightedChoice(cargo.reefer_commodities, rng)
        self.export_commodity = WeightedChoice(cargo.export_commodities, rng)
        self.destination = {reg: WeightedChoice(ports, rng) for reg, ports in cargo.destinations.items()}
        self.records: list[tuple] = []

    # --- helpers ----------------------------------------------------------------------------
    def snap(self, t: float, not_before: float | None = None, not_after: float | None = None) -> float:
        """As ``landside.snap_to_profile``, for one time."""
        out = math.floor(t / 24.0) * 24.0 + self.hour() + self.rng.random()
        if not_before is not None:
            if out < not_before:
                out += 24.0
            out = max(out, not_before)
        if not_after is not None:
            if out > not_after:
                out -= 24.0
            out = min(out, not_after)
        return out

    def size(self) -> int:
        return 40 if self.rng.random() < self.forty_share else 20

    def inspect(self, channel: int):
        """Process part: queue for the scanner (2) or the exam desk (3). Returns (start, release)."""
        env = self.env
        if channel == 2:
            with self.scanner.request() as req:
                yield req
                start = env.now
                yield env.timeout(self.rng.expovariate(self.scans_per_hour))
            return start, start + self.scan_h
        if channel == 3:
            with self.exam_desk.request() as req:
                yield req
                start = env.now
                yield env.timeout(self.exam_gap_h)
            return start, start + self.exam_h()
        return NAN, env.now

    def through_gate(self, terminal: str):
        """Process part: a truck at its terminal's gate. Returns the wait, hours."""
        env = self.env
        arrive = env.now
        with self.lanes[terminal].request() as req:
            yield req
            wait = env.now - arrive
            yield env.timeout(self.rng.expovariate(self.gate_rate))
        return wait

    # --- processes ----------------------------------------------------------------------------
    def vessel(self, v):
        """Books the call's outbound boxes ahead of it, discharges its inbound boxes and loads
        ready transshipment boxes when its handling starts."""
        env = self.env
        yield env.timeout(v.t_handling_start - BOOKING_LEAD_H - env.now)
        for _ in range(v.n_export):
            env.process(self.outbound_box(v, "export"))
        for _ in range(v.n_empty_out):
            env.process(self.outbound_box(v, "empty_out"))
        yield env.timeout(max(v.t_handling_start - env.now, 0.0))
        for _ in range(v.n_import):
            env.process(self.inbound_box(v, "import"))
        for _ in range(v.n_empty_in):
            env.process(self.inbound_box(v, "empty_in"))
        for _ in range(v.n_transship_in):
            env.process(self.transship_box(v))
        pool = self.pools[v.terminal]
        for _ in range(min(TRANSSHIP_TAKE_FACTOR * v.n_transship_out, len(pool.items))):
            onward = yield pool.get()
            onward.succeed(v)

    def inbound_box(self, v, flow: str):
        env, rng = self.env, self.rng
        t_dis = v.t_handling_start + rng.random() * (v.t_handling_end - v.t_handling_start)
        size = self.size()
        if flow == "import":
            reefer, commodity = rng.random() < self.reefer_import, "import cargo"
        else:
            reefer, commodity = False, "empty"
        wish = self.dwell[flow]() * 24.0
        yield env.timeout(t_dis - env.now)  # discharged
        channel, request, start, release = 0, NAN, NAN, NAN
        if flow == "import":
            channel = self.channel["import"]()
            paperwork = 0.0 if rng.random() < self.anticipated_share else self.documentary_h()
            yield env.timeout(paperwork)
            request = env.now
            start, release = yield from self.inspect(channel)
            ready = max(release, t_dis + wish)
        else:
            ready = t_dis + wish
        t_gate = self.snap(ready, not_before=ready)
        yield env.timeout(max(t_gate - env.now, 0.0))  # the truck arrives
        wait = yield from self.through_gate(v.terminal)
        t_out = env.now
        yield env.timeout(self.corridor_h * self.peak[int(t_out % 24)])  # to Lima
        self.records.append((flow, v.terminal, v.vessel_id, -1, size, reefer, commodity, "",
                             t_dis, NAN, channel, request, start, release, t_gate, wait,
                             t_dis, t_out, env.now))

    def outbound_box(self, v, flow: str):
        env, rng = self.env, self.rng
        t_load = v.t_handling_start + rng.random() * (v.t_handling_end - v.t_handling_start)
        size = self.size()
        if flow == "export":
            reefer = rng.random() < self.reefer_export
            commodity = self.reefer_commodity() if reefer else self.export_commodity()
        else:
            reefer, commodity = False, "empty"
        destination = self.destination[v.region]() if v.region in self.destination else ""
        wish = self.dwell[flow]() * 24.0
        cutoff = t_load - EXPORT_CUTOFF_H
        t_gate = self.snap(min(t_load - wish, cutoff), not_after=cutoff)
        t_lima = t_gate - self.corridor_h * self.peak[int(t_gate % 24)]
        yield env.timeout(max(t_lima - env.now, 0.0))  # the truck leaves Lima
        yield env.timeout(max(t_gate - env.now, 0.0))  # corridor
        wait = yield from self.through_gate(v.terminal)
        t_in = min(env.now, t_load)
        channel, request, start, release = 0, NAN, NAN, NAN
        if flow == "export":
            channel, request = self.channel["export"](), t_gate
            start, release = yield from self.inspect(channel)
        yield env.timeout(max(t_load - env.now, 0.0))  # loaded
        self.records.append((flow, v.terminal, -1, v.vessel_id, size, reefer, commodity, destination,
                             NAN, t_load, channel, request, start, release, t_gate, wait,
                             t_in, t_load, t_lima))

    def transship_box(self, v):
        env, rng = self.env, self.rng
        t_dis = v.t_handling_start + rng.random() * (v.t_handling_end - v.t_handling_start)
        size = self.size()
        yield env.timeout(t_dis - env.now)  # discharged
        yield env.timeout(max(v.t_handling_end + self.dwell["transship"]() * 24.0 - env.now, 0.0))
        onward = env.event()
        yield self.pools[v.terminal].put(onward)  # ready for an onward call
        out = yield onward
        t_load = out.t_handling_start + rng.random() * (out.t_handling_end - out.t_handling_start)
        destination = self.destination[out.region]() if out.region in self.destination else ""
        yield env.timeout(max(t_load - env.now, 0.0))  # loaded
        self.records.append(("transship", v.terminal, v.vessel_id, out.vessel_id, size, False,
                             "transshipment", destination, t_dis, t_load, 0, NAN, NAN, NAN, NAN, NAN,
                             t_dis, t_load, NAN))

    # --- running ------------------------------------------------------------------------------
    def run(self) -> None:
        for v in self.calls:
            self.env.process(self.vessel(v))
        self.env.run()

    def table(self) -> pd.DataFrame:
        """The finished boxes (transshipment boxes never taken by a call in the window are not)."""
        return pd.DataFrame.from_records(self.records, columns=RECORD_COLUMNS)


def run_baseline(scenario: Scenario, vessels: pd.DataFrame, days: float | None = None, seed: int = 0) -> dict:
    """Build, run and tabulate the per-container model; wall times in seconds and counts."""
    t0 = time.perf_counter()
    port = PerContainerPort(scenario, vessels, days=days, seed=seed)
    t1 = time.perf_counter()
    port.run()
    t2 = time.perf_counter()
    table = port.table()
    t3 = time.perf_counter()
    return {"port": port, "table": table, "calls": len(port.calls), "containers": port.n_containers,
            "finished": len(table), "setup_s": t1 - t0, "run_s": t2 - t1, "table_s": t3 - t2,
            "total_s": t3 - t0}


def main() -> None:
    import argparse

    import callao

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30.0, help="calls whose handling starts in the first DAYS days")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    r = callao.simulate("callao", seed=args.seed)
    out = run_baseline(r.scenario, r.vessels, days=args.days, seed=args.seed)
    print(f"{out['calls']} calls, {out['containers']:,} containers ({out['finished']:,} finished) in "
          f"{out['total_s']:.2f} s (run {out['run_s']:.2f} s): {out['containers'] / out['total_s']:,.0f} containers/s")


if __name__ == "__main__":
    main()
