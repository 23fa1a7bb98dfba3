"""One replication: scenario + seed → :class:`~callao.results.Results`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


SEGMENT_YEARS = 1.0
"""Default segment length: a horizon longer than this is simulated as consecutive segments of this
many years (see :func:`segments`)."""

SEGMENT_KEY = 0x5E6
"""Spawn-key element that separates the random streams of segment k > 0 from segment 0's."""


@dataclass
class Segment:
    """One simulated segment of a run: its calls, containers, closures and naval movements, times in
    hours of the whole run, ids numbered on from the previous segments (``vessel_id`` and
    ``container_id`` continue, ``vessel_in``/``vessel_out`` index the run's vessels table)."""

    index: int
    count: int
    vessels: pd.DataFrame
    containers: pd.DataFrame | None
    closures: pd.DataFrame
    naval: pd.DataFrame


def simulate(scenario: Scenario | str | Path = "callao", seed: int | np.random.SeedSequence = 0,
             years: float | None = None, progress: Progress | None = None,
             arrivals: pd.DataFrame | None = None, handling: str = "observed",
             segment_years: float = SEGMENT_YEARS) -> Results:
    """Simulate the port container by container.

    ``scenario`` is a :class:`Scenario`, a bundled name (default ``"callao"``) or a TOML path;
    ``years`` overrides ``simulation.years``. The same scenario and seed give identical results.

    A horizon longer than ``segment_years`` is simulated as consecutive segments
    (:func:`segments`) and their tables concatenated; the KPIs add up segment by segment, exactly
    as a chunked run (:func:`callao.dataset.run_chunked`) that writes each segment to disk.

    ``arrivals`` (an observed-calls table, :mod:`callao.ingest.calls`) replays those calls instead
    of the scenario's generated ones (trace-driven simulation); the horizon moves to cover them if
    needed (:func:`~callao.sim.arrivals.replay_window`) and ``handling`` sets their work content
    (:data:`~callao.sim.arrivals.HANDLING_MODES`); a replay is always one segment.
    """
    sc = resolve(scenario, years)
    if arrivals is not None:
        sc = replay_window(sc, arrivals)
        one = _simulate_one(sc, Streams(seed), progress, arrivals=arrivals, handling=handling)
        one.seed = _seed_int(seed)
        return one
    parts = list(segments(sc, seed, segment_years, progress))
    if len(parts) == 1:
        p = parts[0]
        return Results(scenario=sc, seed=_seed_int(seed), vessels=p.vessels, containers=p.containers,
                       closures=p.closures, naval=p.naval)
    containers = None
    if sc.simulation.containers:
        containers = concat_segments([p.containers for p in parts])
    return Results(scenario=sc, seed=_seed_int(seed), vessels=concat_segments([p.vessels for p in parts]),
                   containers=containers, closures=concat_segments([p.closures for p in parts]),
                   naval=concat_segments([p.naval for p in parts]),
                   meta={"segments": segment_meta(sc, segment_years, parts)})


def resolve(scenario: Scenario | str | Path, years: float | None = None) -> Scenario:
    """The scenario to run: loaded if a name or path, with ``years`` overriding its horizon."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if years is not None:
        sc = validate(merge(sc.model_dump(by_alias=True), {"simulation": {"years": years}}), sc.name)
    return sc


def segment_bounds(sc: Scenario, segment_years: float = SEGMENT_YEARS) -> list[tuple[float, float]]:
    """The segments of the run as (start, end) in hours: consecutive, ``segment_years`` long, the
    last one shorter if the horizon is not a whole number of segments. A vessels-only run
    (``simulation.containers = false``: small in memory, and queueing validation needs one
    unbroken queue) is always one segment."""
    if not segment_years > 0:
        raise ValueError(f"segment_years {segment_years}: expected a positive number of years")
    H, step = sc.horizon_h, segment_years * 8760.0
    if not sc.simulation.containers:
        return [(0.0, H)]
    n = max(int(np.ceil(H / step - 1e-9)), 1)
    edges = [min(k * step, H) for k in range(n)] + [H]
    return list(zip(edges[:-1], edges[1:]))


def segment_meta(sc: Scenario, segment_years: float, parts: list[Segment]) -> dict:
    """What ``scenario.json`` records about a run of several segments."""
    return {"years": segment_years, "count": len(parts),
            "vessel_rows": [len(p.vessels) for p in parts],
            "container_rows": [0 if p.containers is None else len(p.containers) for p in parts]}


def segments(sc: Scenario, seed: int | np.random.SeedSequence = 0, segment_years: float = SEGMENT_YEARS,
             progress: Progress | None = None, skip: dict[int, tuple[int, int]] | None = None
             ) -> Iterator[Segment]:
    """Simulate ``sc`` as consecutive segments (:func:`segment_bounds`), yielding each in turn.

    Each segment runs like a one-year run: its own spin-up before its start, in absolute calendar
    time (``start_utc`` and fixed events keep their dates), random streams keyed by (seed,
    segment); it keeps the calls that arrive in it (the first also its spin-up's, at negative
    times, as a one-segment run does), the containers of those calls and the closures and naval
    movements that start in it. Queues do not carry over a boundary: each segment starts from its
    own spin-up, so a boundary costs nothing in memory and segments are independent.

    ``skip`` maps segments already done (a resumed chunked run) to their (vessel, container) row
    counts: they are not simulated and yield nothing, but the ids of later ones continue after them.
    """
    report = progress or (lambda f, s: None)
    bounds = segment_bounds(sc, segment_years)
    n, H = len(bounds), sc.horizon_h
    base = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    n_vessels = n_containers = 0
    for k, (start, end) in enumerate(bounds):
        if skip and k in skip:
            n_vessels, n_containers = n_vessels + skip[k][0], n_containers + skip[k][1]
            continue
        streams = Streams(base if k == 0 else np.random.SeedSequence(
            base.entropy, spawn_key=(*base.spawn_key, SEGMENT_KEY, k)))
        step = (lambda f, s, k=k: report((k + f) / n, s if n == 1 else f"{s} {k + 1}/{n}"))
        if n == 1:
            one = _simulate_one(sc, streams, step)
            yield Segment(0, 1, one.vessels, one.containers, one.closures, one.naval)
            return
        part = _simulate_one(_segment_scenario(sc, start, end), streams, step, keep_until_h=H - start,
                             offset_h=start)
        seg = _place(part, k, n, start, end, n_vessels, n_containers)
        del part  # not held while the caller writes the segment
        n_vessels += len(seg.vessels)
        n_containers += 0 if seg.containers is None else len(seg.containers)
        yield seg
        del seg


def _segment_scenario(sc: Scenario, start_h: float, end_h: float) -> Scenario:
    """The scenario of the segment [start_h, end_h): that long, starting at its calendar time,
    with fixed closures moved to its hours: those that end before its start are dropped, one
    that began before it starts at its hour 0 (fixed events of its spin-up are left out)."""
    sim = sc.simulation
    data = merge(sc.model_dump(by_alias=True), {"simulation": {
        "years": (end_h - start_h) / 8760.0, "start_utc": sim.start_utc + timedelta(hours=start_h)}})
    earliest = 0.0
    for closures in [data["closures"], *(p["closures"] for p in data.get("ports", []))]:
        kept = []
        for event in closures.get("fixed", []):
            s0, s1 = event["start_h"] - start_h, event["start_h"] - start_h + event["duration_h"]
            if s1 > earliest:
                event["start_h"], event["duration_h"] = max(s0, earliest), s1 - max(s0, earliest)
                kept.append(event)
        if "fixed" in closures:
            closures["fixed"] = kept
    return validate(data, sc.name)


def _starts_in(t: np.ndarray, k: int, n: int, start: float, end: float) -> np.ndarray:
    """Which times ``t`` (hours) belong to segment ``k`` of ``n`` spanning [``start``, ``end``): the
    first segment also owns everything before it (its spin-up), the last everything after."""
    keep = np.ones(len(t), bool)
    if k > 0:
        keep &= t >= start
    if k < n - 1:
        keep &= t < end
    return keep


def _place(part: Results, k: int, n: int, start: float, end: float, n_vessels: int,
           n_containers: int) -> Segment:
    """Segment ``k``'s own rows of ``part`` (times already in the run's hours), numbered on after
    ``n_vessels`` calls and ``n_containers`` containers."""
    v, c, cl, nv = part.vessels, part.containers, part.closures, part.naval
    part.containers = None
    keep = _starts_in(v["t_arrival"].to_numpy(), k, n, start, end)
    new_id = np.full(len(v), -1, np.int64)
    new_id[keep] = n_vessels + np.arange(int(keep.sum()))
    v = v.loc[keep].reset_index(drop=True)
    v["vessel_id"] = new_id[keep].astype(v["vessel_id"].dtype)
    if c is not None:
        vin, vout = c["vessel_in"].to_numpy(), c["vessel_out"].to_numpy()
        owner = np.where(vin >= 0, vin, vout)
        mine = np.where(owner >= 0, keep[np.maximum(owner, 0)], False)
        c = c.loc[mine].reset_index(drop=True)
        for col in ("vessel_in", "vessel_out"):
            ids = c[col].to_numpy()
            c[col] = np.where(ids >= 0, new_id[np.maximum(ids, 0)], -1).astype(c[col].dtype)
        c["container_id"] = np.arange(n_containers, n_containers + len(c), dtype=np.int64)

    def own(df: pd.DataFrame) -> pd.DataFrame:
        return df.loc[_starts_in(df["start_h"].to_numpy(), k, n, start, end)].reset_index(drop=True)

    return Segment(k, n, v, c, own(cl), own(nv))


def concat_segments(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Segments' tables as one, categorical columns kept categorical (categories united)."""
    out = pd.concat(frames, ignore_index=True)
    for col, dtype in frames[0].dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype) and not isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = pd.Categorical(out[col])
    return out


def _seed_int(seed: int | np.random.SeedSequence) -> int:
    return seed if isinstance(seed, int) else int(seed.entropy)


def _simulate_one(sc: Scenario, streams: Streams, progress: Progress | None = None,
                  arrivals: pd.DataFrame | None = None, handling: str = "observed",
                  keep_until_h: float | None = None, offset_h: float = 0.0) -> Results:
    """One segment simulated as one piece: spin-up, waterside, containers, landside. Containers
    entering the yard after ``keep_until_h`` (default: the horizon) are dropped; times are returned
    in hours from the segment's start plus ``offset_h`` (its start in the whole run)."""
    report = progress or (lambda f, s: None)
    requested, sc = sc, _with_spin_up(sc)
    horizon = sc.horizon_h
    keep_until = horizon if keep_until_h is None else keep_until_h + (horizon - requested.horizon_h)
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
    shift = (requested.simulation.spin_up_days * 24.0 if sc is not requested else 0.0) - offset_h
    if containers is not None:  # one gather a column: the rows entered by keep_until, times shifted
        entered = np.flatnonzero(containers["t_yard_in"].to_numpy() <= keep_until)
        containers = _rows_shifted(containers, entered, shift)
    if shift:  # the spin-up happened before hour 0; a later segment starts at offset_h
        vessels, closure_windows, naval = (_shifted(df, shift) for df in (vessels, closure_windows, naval))
    report(1.0, "done")
    return Results(scenario=requested, seed=0, vessels=vessels, containers=containers,
                   closures=closure_windows, naval=naval)


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


def _is_time(column: str) -> bool:
    return column.startswith("t_") or column in ("start_h", "end_h")


def _rows_shifted(df: pd.DataFrame, rows: np.ndarray, hours: float) -> pd.DataFrame:
    """The container table's ``rows`` (renumbered ``container_id`` 0..) with every time column
    moved ``hours`` earlier: as ``_shifted(df.loc[rows].reset_index(drop=True), hours)``, but one
    gather per column and no intermediate table."""
    columns = {}
    for name in df.columns:
        if name == "container_id":
            columns[name] = np.arange(rows.size, dtype=np.int64)
        elif _is_time(name):
            columns[name] = df[name].to_numpy()[rows]
            if hours:
                columns[name] -= hours  # in place: the gathered copy is this table's own
        elif isinstance(df[name].dtype, pd.api.extensions.ExtensionDtype):  # categoricals
            columns[name] = df[name].array.take(rows)
        else:
            columns[name] = df[name].to_numpy()[rows]
    return pd.DataFrame(columns, copy=False)


def _shifted(df: pd.DataFrame | None, hours: float) -> pd.DataFrame | None:
    """``df`` with every time column (``t_*``, ``start_h``, ``end_h``) moved ``hours`` earlier."""
    if df is None:
        return None
    cols = [c for c in df.columns if _is_time(c)]
    return df.assign(**{c: df[c] - hours for c in cols})
