"""Customs stage: channel selection (import shares, export risk targeting under the day's
inspection capacity), then the scanner and exam queues of each inspection pool, to release."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from callao.tables import values
from callao.scenario import Scenario
from callao.scenario.model import Channels
from callao.sim.inspection import export_capacity_per_day, target_exports
from callao.sim.queues import fifo_wait
from callao.sim.streams import Streams, choice_index

CHANNELS = ("none", "green", "orange", "red")


@dataclass
class CustomsOutcome:
    """Per container (hours, NaN where not applicable): channel code (index into
    :data:`CHANNELS`), request, inspection start and release; ``extra`` holds the targeting
    columns (contraband_kg, risk, found, exporter_id) when targeting is on."""

    channel: np.ndarray
    request: np.ndarray
    inspect_start: np.ndarray
    release: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def _channels(shares: Channels, n: int, rng: np.random.Generator) -> np.ndarray:
    """Channel codes 1 (green), 2 (orange), 3 (red) for ``n`` boxes: ``rng.choice`` by the shares."""
    p = [shares.green, shares.orange, shares.red]
    return np.array([1, 2, 3], np.int8)[choice_index(rng, np.array(p) / sum(p), n)]


def _equals(column: pd.Series, value: str) -> np.ndarray:
    """``column == value`` as a boolean array (on a categorical's codes: no per-row strings)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        code = categories.get_loc(value) if value in categories else -2  # -2: no row (NaN is -1)
        return column.cat.codes.to_numpy() == code
    return values(column) == value


def select_inspections(scenario: Scenario, c: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Customs channel per container (0 none, 1 green, 2 orange = scan, 3 red = physical exam),
    drawn from the configured shares (exports are re-chosen by risk when targeting is on).
    Empties and transshipment boxes pass no customs here."""
    channel = np.zeros(len(c), np.int8)
    for name, shares in (("import", scenario.customs.import_channels),
                         ("export", scenario.customs.export_channels)):
        sel = _equals(c["flow"], name)
        channel[sel] = _channels(shares, int(sel.sum()), rng)
    return channel


def _categorical(column: pd.Series) -> pd.Categorical | np.ndarray:
    """A column as a categorical (its codes, no per-row strings) or, if not one, its values."""
    return column.array if isinstance(column.dtype, pd.CategoricalDtype) else column.to_numpy()


def _exporter_column(exporter_id: pd.Categorical, rows: np.ndarray, n: int) -> pd.Categorical:
    """Exporter per container ("" where none), as a categorical with sorted categories."""
    names = np.asarray(exporter_id.categories, dtype=object)
    categories = np.array(sorted({"", *names.tolist()}), dtype=object)
    codes = np.full(n, int(np.searchsorted(categories, "")), np.int32)
    codes[rows] = np.searchsorted(categories, names)[exporter_id.codes]
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories))


def inspection_pool_of(scenario: Scenario, c: pd.DataFrame) -> np.ndarray:
    """Index into ``scenario.inspection_pools()`` of each container's inspection pool."""
    pools = scenario.inspection_pools()
    codes = np.array([pools.index(scenario.inspection_pool(t)) for t in scenario.terminals])
    return codes[c["terminal"].cat.codes.to_numpy()]


def run_customs(scenario: Scenario, c: pd.DataFrame, t_export_gate: np.ndarray,
                streams: Streams) -> CustomsOutcome:
    """Imports request release at discharge (+ documentary time unless anticipated), exports at
    their gate-in (``t_export_gate``); inspected boxes queue FIFO at their pool's scanners
    (``scanners`` × ``scans_per_hour``) or exam teams (``exams_per_day``)."""
    cus = scenario.customs
    n = len(c)
    imp, is_export = _equals(c["flow"], "import"), _equals(c["flow"], "export")
    t_dis = c["t_discharge"].to_numpy()
    rng = streams("customs")
    channel = select_inspections(scenario, c, rng)
    pools = scenario.inspection_pools()
    pool = inspection_pool_of(scenario, c)
    extra: dict[str, np.ndarray] = {}
    if cus.targeting is not None:
        exp = np.flatnonzero(is_export)
        capacity = [export_capacity_per_day(cus.targeting, scanners, cus.scans_per_hour, exams)
                    for _, scanners, exams in pools]
        outcome = target_exports(
            cus.targeting, _categorical(c["commodity"])[exp], _categorical(c["destination"])[exp],
            c["reefer"].to_numpy()[exp], t_export_gate[exp], c["container_id"].to_numpy()[exp],
            streams("declarations"), streams("contraband"), streams("targeting"),
            pool=pool[exp], capacity_per_day=capacity)
        channel[exp] = outcome.channel
        extra["contraband_kg"] = np.zeros(n)
        extra["contraband_kg"][exp] = outcome.contraband_kg
        extra["risk"] = np.full(n, np.nan)
        extra["risk"][exp] = outcome.risk
        extra["found"] = np.zeros(n, bool)
        extra["found"][exp] = outcome.found
        extra["exporter_id"] = _exporter_column(outcome.exporter_id, exp, n)
    paperwork = np.where(rng.random(int(imp.sum())) < cus.anticipated_share, 0.0,
                         cus.documentary_h.sample(rng, int(imp.sum())))
    request = np.full(n, np.nan)
    request[imp] = t_dis[imp] + paperwork
    request[is_export] = t_export_gate[is_export]
    release = request.copy()
    inspect_start = np.full(n, np.nan)
    exam_h = np.full(n, np.nan)
    exam_h[channel == 3] = cus.exam_h.sample(rng, int((channel == 3).sum()))
    for j, (_, scanners, exams_per_day) in enumerate(pools):
        in_pool = pool == j
        scan = (channel == 2) & in_pool
        wait = fifo_wait(request[scan], np.full(int(scan.sum()), 1.0 / (scanners * cus.scans_per_hour)))
        inspect_start[scan] = request[scan] + wait
        release[scan] = inspect_start[scan] + cus.scan_h
        exam = (channel == 3) & in_pool
        wait = fifo_wait(request[exam], np.full(int(exam.sum()), 24.0 / exams_per_day))
        inspect_start[exam] = request[exam] + wait
        release[exam] = inspect_start[exam] + exam_h[exam]
    return CustomsOutcome(channel, request, inspect_start, release, extra)
