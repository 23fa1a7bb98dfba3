"""One replication: scenario + seed → :class:`~callao.results.Results`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from callao.results import Results
from callao.scenario import Scenario, load_scenario, merge, validate
from callao.sim.arrivals import observed_calls, replay_window, vessel_calls
from callao.sim.cargo import build_containers
from callao.sim.disruptions import closures, naval_movements
from callao.sim.landside import run_landside
from callao.sim.streams import Streams
from callao.sim.waterside import Waterside

DRAIN_MARGIN_H = 120 * 24.0
"""Closures and naval movements are generated this far past the horizon, so that calls that
arrived before it can finish under the same conditions."""

Progress = Callable[[float, str], None]
"""Called with (fraction done 0..1, stage name)."""


def simulate(scenario: Scenario | str | Path = "callao", seed: int | np.random.SeedSequence = 0,
             years: float | None = None, progress: Progress | None = None,
             arrivals: pd.DataFrame | None = None, handling: str = "observed") -> Results:
    """Simulate the port container by container.

    ``scenario`` is a :class:`Scenario`, a bundled name (default ``"callao"``) or a TOML path;
    ``years`` overrides ``simulation.years``. The same scenario and seed give identical results.

    ``arrivals`` (an observed-calls table, :mod:`callao.ingest.calls`) replays those calls instead
    of the scenario's generated ones (trace-driven simulation); the horizon moves to cover them if
    needed (:func:`~callao.sim.arrivals.replay_window`) and ``handling`` sets their work content
    (:data:`~callao.sim.arrivals.HANDLING_MODES`).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if years is not None:
        sc = validate(merge(sc.model_dump(by_alias=True), {"simulation": {"years": years}}), sc.name)
    if arrivals is not None:
        sc = replay_window(sc, arrivals)
    report = progress or (lambda f, s: None)
    streams = Streams(seed)
    requested, sc = sc, _with_spin_up(sc)
    horizon = sc.horizon_h
    calls = vessel_calls(sc, streams) if arrivals is None else observed_calls(sc, arrivals, streams, handling)
    closure_windows = closures(sc, streams, horizon + DRAIN_MARGIN_H)
    naval = naval_movements(sc, streams, horizon + DRAIN_MARGIN_H)
    waterside = Waterside(sc, calls, closure_windows, naval, streams)
    share_water = 0.6 if sc.simulation.containers else 1.0
    vessels = waterside.run(progress=lambda t: report(share_water * t / horizon, "vessels"))
    containers = None
    if sc.simulation.containers:
        report(share_water, "containers")
        containers = build_containers(sc, vessels, waterside.transshipments(), streams("cargo"))
        report(share_water + 0.15, "yard, customs, gate")
        containers = run_landside(sc, containers, vessels, streams)
        entered = containers["t_yard_in"].to_numpy() <= horizon
        containers = containers.loc[entered].reset_index(drop=True)
        containers["container_id"] = np.arange(len(containers), dtype=np.int64)
    if sc is not requested:  # the spin-up happened before hour 0
        shift = requested.simulation.spin_up_days * 24.0
        vessels, containers, closure_windows, naval = (
            _shifted(df, shift) for df in (vessels, containers, closure_windows, naval))
    report(1.0, "done")
    return Results(scenario=requested, seed=seed if isinstance(seed, int) else int(seed.entropy),
                   vessels=vessels, containers=containers, closures=closure_windows, naval=naval)


def _with_spin_up(sc: Scenario) -> Scenario:
    """The scenario to run: with ``spin_up_days``, that many days longer and starting that much
    earlier, fixed events moved with it (its times are shifted back afterwards, so the spin-up
    lies before hour 0)."""
    days = sc.simulation.spin_up_days
    if days <= 0:
        return sc
    sim = sc.simulation
    data = merge(sc.model_dump(by_alias=True), {"simulation": {
        "years": sim.years + days / 365.0, "spin_up_days": 0.0,
        "start_utc": sim.start_utc - timedelta(days=days)}})
    # events fixed in horizon hours keep their place in the horizon
    for closures in [data["closures"], *(p["closures"] for p in data.get("ports", []))]:
        for event in closures.get("fixed", []):
            event["start_h"] += days * 24.0
    return validate(data, sc.name)


def _shifted(df: pd.DataFrame | None, hours: float) -> pd.DataFrame | None:
    """``df`` with every time column (``t_*``, ``start_h``, ``end_h``) moved ``hours`` earlier."""
    if df is None:
        return None
    cols = [c for c in df.columns if c.startswith("t_") or c in ("start_h", "end_h")]
    return df.assign(**{c: df[c] - hours for c in cols})
