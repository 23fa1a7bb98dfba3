"""Checking the engine against queueing theory (docs/sources.md, queueing anchors).

A *pure-queue* scenario has one terminal whose quay holds c identical ships, one crane each, a
single Poisson stream of calls and nothing else. Its waiting time in units of the mean service
time, Wq/E[S], has a published value: Erlang C (M/M/c), Pollaczek-Khinchine (M/G/1) or the PIANC
M/E2/n berth table. :func:`queue_check` runs replications and reports the simulated value with
its 95% confidence interval beside the analytic one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from callao.tables import hourly_mean
from callao.scenario import Scenario
from callao.scenario.distributions import Constant, Erlang, Exponential

PIANC_ME2N: dict[tuple[float, int], float] = {
    (0.5, 1): 0.75, (0.5, 2): 0.26, (0.5, 3): 0.12, (0.5, 4): 0.07, (0.5, 5): 0.04, (0.5, 6): 0.03,
    (0.6, 1): 1.13, (0.6, 2): 0.43, (0.6, 3): 0.23, (0.6, 4): 0.14, (0.6, 5): 0.09, (0.6, 6): 0.06,
    (0.7, 1): 1.75, (0.7, 2): 0.73, (0.7, 3): 0.42, (0.7, 4): 0.27, (0.7, 5): 0.19, (0.7, 6): 0.14,
    (0.8, 1): 3.00, (0.8, 2): 1.34, (0.8, 3): 0.82, (0.8, 4): 0.57, (0.8, 5): 0.42, (0.8, 6): 0.33,
    (0.9, 1): 6.75, (0.9, 2): 3.14, (0.9, 3): 2.01, (0.9, 4): 1.45, (0.9, 5): 1.12, (0.9, 6): 0.91,
}
"""Wq/E[S] for Erlang-2 service (Groenveld 2007 Table IV = PIANC 2014 Table 6.1)."""


def erlang_c(c: int, rho: float) -> float:
    """Probability of waiting in M/M/c at utilisation ``rho``."""
    a = c * rho
    top = a**c / math.factorial(c) / (1 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def wq_over_es_mmc(c: int, rho: float) -> float:
    """M/M/c mean wait in units of mean service time: C(c, a) / (c (1 - rho))."""
    return erlang_c(c, rho) / (c * (1 - rho))


def wq_over_es_pk(rho: float, scv: float) -> float:
    """M/G/1 (Pollaczek-Khinchine): rho (1 + Cs²) / (2 (1 - rho))."""
    return rho * (1 + scv) / (2 * (1 - rho))


@dataclass(frozen=True)
class PureQueue:
    """The queue a pure-queue scenario describes."""

    servers: int
    rho: float
    mean_service_h: float
    service_scv: float
    arrival_rate_per_h: float

    @property
    def kind(self) -> str:
        s = {0.0: "D", 0.5: "E2", 1.0: "M"}.get(round(self.service_scv, 6), "G")
        return f"M/{s}/{self.servers}"

    def analytic_wq_over_es(self) -> tuple[float, str]:
        """The published value and where it comes from."""
        if self.service_scv == 1.0:
            return wq_over_es_mmc(self.servers, self.rho), "Erlang C"
        if self.servers == 1:
            return wq_over_es_pk(self.rho, self.service_scv), "Pollaczek-Khinchine"
        key = (round(self.rho, 2), self.servers)
        if self.service_scv == 0.5 and key in PIANC_ME2N:
            return PIANC_ME2N[key], "PIANC M/E2/n table"
        approx = wq_over_es_mmc(self.servers, self.rho) * (1 + self.service_scv) / 2
        return approx, "Allen-Cunneen approximation"


def pure_queue(sc: Scenario) -> PureQueue:
    """Describe ``sc`` as a queue, or raise ValueError saying why it is not a pure queue."""
    problems = []
    if len(sc.terminals) != 1 or len(sc.tramp) != 1 or sc.services:
        problems.append("needs exactly one terminal and one tramp stream, no services")
    if sc.simulation.containers:
        problems.append("simulation.containers must be false")
    if any(p.channel.transit_h or p.naval.movements_per_day or p.closures.seasons or p.closures.fixed
           for p in sc.ports):
        problems.append("channel.transit_h, naval movements and closures must be zero/empty")
    if any(p.channel.pilots or p.channel.tugs or p.channel.daylight_loa_m is not None for p in sc.ports):
        problems.append("channel pilots, tugs and daylight rule must be off (a berth queue only)")
    if problems:
        raise ValueError(f"{sc.name} is not a pure queue: " + "; ".join(problems))
    t, stream = sc.terminals[0], sc.tramp[0]
    vc = sc.vessel_class(stream.vessel_class)
    servers = int(t.quay_length_m // (vc.loa_m + t.berth_clearance_m))
    dist = stream.moves_per_call
    if not isinstance(dist, (Exponential, Erlang, Constant)) or vc.max_cranes != 1 or t.cranes < servers:
        raise ValueError(f"{sc.name} is not a pure queue: needs one crane per berth and "
                         "exponential, erlang or constant moves_per_call")
    if t.mooring_h or t.unmooring_h:
        raise ValueError(f"{sc.name} is not a pure queue: mooring_h and unmooring_h must be 0")
    es = dist.mean_value * sc.simulation.demand_factor / t.moves_per_crane_hour
    lam = stream.calls_per_year / 8760.0
    return PureQueue(servers, lam * es / servers, es, dist.scv, lam)


@dataclass(frozen=True)
class QueueCheck:
    queue: PureQueue
    analytic: float
    source: str
    mean: float
    ci_low: float
    ci_high: float
    replications: int
    littles_lq: float  # time-average number waiting
    littles_lambda_wq: float  # arrival rate x mean wait

    @property
    def within_ci(self) -> bool:
        return self.ci_low <= self.analytic <= self.ci_high


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of independent replications."""
    x = np.asarray(x, float)
    m = float(x.mean())
    if x.size < 2:
        return m, float("nan"), float("nan")
    from scipy import stats  # slow to import: only when an interval is computed

    h = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return m, m - h, m + h


def queue_check(sc: Scenario, replications: int = 10, seed: int = 0) -> QueueCheck:
    """Simulate ``replications`` independent runs of a pure-queue scenario; compare Wq/E[S]."""
    from callao.sim import simulate

    q = pure_queue(sc)
    analytic, source = q.analytic_wq_over_es()
    seeds = np.random.SeedSequence(seed).spawn(replications)
    ratios, lq, lam_wq = [], [], []
    for ss in seeds:
        v = simulate(sc, seed=ss).vessels
        warm, horizon = sc.simulation.warmup_days * 24.0, sc.horizon_h
        sel = (v["t_arrival"] >= warm) & (v["t_arrival"] < horizon)
        wait = (v["t_berth_assigned"] - v["t_arrival"])[sel].to_numpy()
        ratios.append(wait.mean() / q.mean_service_h)
        n_wait = hourly_mean(v["t_arrival"].to_numpy(), v["t_berth_assigned"].to_numpy(),
                             np.ones(len(v)), int(horizon))[int(warm):]
        lq.append(n_wait.mean())
        lam_wq.append(sel.sum() / (horizon - warm) * wait.mean())
    m, lo, hi = mean_ci(np.array(ratios))
    return QueueCheck(q, analytic, source, m, lo, hi, replications, float(np.mean(lq)), float(np.mean(lam_wq)))
