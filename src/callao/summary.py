"""Additive aggregates of a run's containers: what the KPIs and the report need, without the rows.

A :class:`Summary` is computed from one segment's container table (:func:`summarise`) and summaries
of consecutive segments are added (``+``). Sums, counts and per-hour/day/week/month series add
exactly; maxima take the maximum; the few values an exact percentile needs (gate waits) are kept
whole. The KPIs (:func:`callao.kpis.compute_kpis`) and the report's container figures are computed
from the summary only, so a run kept in memory and a run written segment by segment
(:mod:`callao.dataset`) give the same KPIs, to the bit, when their segments are the same.
"""

from __future__ import annotations

import io
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from callao.scenario import FLOWS, Scenario
from callao.tables import Codes, hourly_mean

DWELL_BIN_D = 0.1
"""Width of the fine yard-dwell histogram bins, days (the report re-bins them)."""
DWELL_BINS = 5000
"""Fine dwell bins: 0 .. 500 days; longer dwells count in the last bin."""
RELEASE_BIN_H = 1.0
"""Width of the fine customs-release histogram bins, hours."""
RELEASE_BINS = 5000
"""Fine release bins: 0 .. 5,000 hours; longer waits count in the last bin."""
HOURS_PER_WEEK, HOURS_PER_MONTH = 168, 730
CHANNELS = ("green", "orange", "red")


@dataclass
class Summary:
    """Aggregates of a run's containers over the horizon [0, H): ``sums`` (sums and counts),
    ``maxima``, ``series`` (arrays of fixed length: hourly, weekly, monthly, histograms) and
    ``samples`` (values kept whole, one array per segment, for exact percentiles)."""

    sums: dict[str, float] = field(default_factory=dict)
    maxima: dict[str, float] = field(default_factory=dict)
    series: dict[str, np.ndarray] = field(default_factory=dict)
    samples: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def __add__(self, other: Summary) -> Summary:
        if not isinstance(other, Summary):
            return NotImplemented
        return Summary(
            sums={k: self.sums[k] + other.sums[k] for k in self.sums},
            maxima={k: max(self.maxima[k], other.maxima[k]) for k in self.maxima},
            series={k: self.series[k] + other.series[k] for k in self.series},
            samples={k: self.samples[k] + other.samples[k] for k in self.samples})

    def mean(self, name: str) -> float:
        """``sum:name / count:name``; NaN when nothing was counted."""
        n = self.sums[f"n:{name}"]
        return float(self.sums[f"sum:{name}"] / n) if n else float("nan")

    def sample(self, name: str) -> np.ndarray:
        parts = self.samples[name]
        return np.concatenate(parts) if parts else np.zeros(0)

    def save(self, path: Path) -> None:
        """Write the summary to ``path`` (a .npz file; use with :func:`callao.tables.atomic_write`)."""
        arrays = {f"sums:{k}": np.float64(v) for k, v in self.sums.items()}
        arrays |= {f"maxima:{k}": np.float64(v) for k, v in self.maxima.items()}
        arrays |= {f"series:{k}": v for k, v in self.series.items()}
        arrays |= {f"samples:{k}:{i}": v for k, parts in self.samples.items() for i, v in enumerate(parts)}
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        Path(path).write_bytes(buf.getvalue())

    @classmethod
    def load(cls, path: Path) -> Summary:
        s = cls()
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                kind, _, name = key.partition(":")
                if kind == "sums":
                    s.sums[name] = float(data[key])
                elif kind == "maxima":
                    s.maxima[name] = float(data[key])
                elif kind == "series":
                    s.series[name] = data[key]
                else:
                    name, _, i = name.rpartition(":")
                    s.samples.setdefault(name, []).append((int(i), data[key]))
        s.samples = {k: [v for _, v in sorted(parts, key=lambda p: p[0])] for k, parts in s.samples.items()}
        return s


def _within(t: np.ndarray, H: float) -> np.ndarray:
    return (t >= 0) & (t <= H)


def summarise(scenario: Scenario, c: pd.DataFrame, vessels: pd.DataFrame) -> Summary:
    """The summary of one segment's containers ``c`` (times in hours of the run; ``vessels`` is the
    run's calls table that ``vessel_in``/``vessel_out`` index, at least up to this segment).
    The hourly series (sorts of millions of times, numpy without the GIL) are computed in a
    background thread beside the rest."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="summary") as pool:
        s = _summarise(scenario, c, vessels, pool)
        for key, value in s.series.items():
            if isinstance(value, Future):
                s.series[key] = value.result()
    return s


def _summarise(scenario: Scenario, c: pd.DataFrame, vessels: pd.DataFrame, pool: ThreadPoolExecutor) -> Summary:
    sc, H = scenario, scenario.horizon_h
    n_hours = int(np.ceil(H))
    s = Summary()
    add, top, ser = s.sums, s.maxima, s.series

    def mean_parts(name: str, x: np.ndarray) -> None:
        x = np.asarray(x, float)
        x = x[np.isfinite(x)]
        add[f"sum:{name}"] = float(x.sum())
        add[f"n:{name}"] = float(x.size)

    col = {name: c[name].to_numpy() for name in ("t_discharge", "t_load", "t_yard_in", "t_yard_out",
                                                  "t_customs_request", "t_inspection_start",
                                                  "t_customs_release", "t_gate", "gate_wait_h", "t_lima")}
    teu = c["teu"].to_numpy(float)
    discharged = _within(col["t_discharge"], H)
    loaded = _within(col["t_load"], H)
    term, flow, ch = Codes(c["terminal"]), Codes(c["flow"]), Codes(c["customs_channel"])  # == a name: a mask
    add["rows"] = float(len(c))
    add["containers"] = float((discharged | loaded).sum())
    add["discharged"], add["loaded"] = float(discharged.sum()), float(loaded.sum())
    add["teu_discharged"], add["teu_loaded"] = float(teu[discharged].sum()), float(teu[loaded].sum())
    at = {t.name: term == t.name for t in sc.terminals}  # each terminal's rows
    yard = {}  # the hourly yard series start first: they run in the background meanwhile
    for t in sc.terminals:
        sel = at[t.name]
        yard[t.name] = pool.submit(hourly_mean, col["t_yard_in"][sel], col["t_yard_out"][sel], teu[sel], n_hours)
        add[f"teu_discharged:{t.name}"] = float(teu[discharged & sel].sum())
        add[f"teu_loaded:{t.name}"] = float(teu[loaded & sel].sum())
    for p in sc.port_names:  # TEU counts are whole numbers: these sums are exact in any order
        mine = [t.name for t in sc.terminals if t.port == p]
        add[f"teu_discharged_port:{p}"] = float(sum(add[f"teu_discharged:{n}"] for n in mine))
        add[f"teu_loaded_port:{p}"] = float(sum(add[f"teu_loaded:{n}"] for n in mine))
    v = vessels
    diverted = (v["terminal"] != v["planned_terminal"]).to_numpy()
    vin, vout = c["vessel_in"].to_numpy(), c["vessel_out"].to_numpy()
    on_in = np.where(vin >= 0, diverted[np.maximum(vin, 0)] & discharged, False)
    on_out = np.where(vout >= 0, diverted[np.maximum(vout, 0)] & loaded, False)
    add["teu_diverted_in"], add["teu_diverted_out"] = float(teu[on_in].sum()), float(teu[on_out].sum())
    left = _within(col["t_yard_out"], H)
    for f in FLOWS:
        sel = left & (flow == f)
        x = (col["t_yard_out"][sel] - col["t_yard_in"][sel]) / 24.0  # dwell, days
        mean_parts(f"dwell_d:{f}", x)
        x = x[np.isfinite(x)]
        ser[f"dwell_hist:{f}"] = np.bincount(np.clip((x / DWELL_BIN_D).astype(np.int64), 0, DWELL_BINS - 1),
                                             minlength=DWELL_BINS)
    for t in sc.terminals:
        ser[f"yard_teu:{t.name}"] = yard[t.name]
    release_done = _within(col["t_customs_release"], H)
    imp = (flow == "import") & release_done
    berth = v["t_berth"].to_numpy()[vin[imp]]
    rel = col["t_customs_release"][imp] - berth
    mean_parts("customs_release_h", rel)
    fin = np.isfinite(rel)
    rel_bin = np.clip((rel[fin] / RELEASE_BIN_H).astype(np.int64), 0, RELEASE_BINS - 1)
    ch_rel = ch.codes[imp][fin]
    for name in CHANNELS:
        mine = ch_rel == ch.code(name)
        mean_parts(f"customs_release_h:{name}", rel[fin][mine])
        ser[f"release_hist:{name}"] = np.bincount(rel_bin[mine], minlength=RELEASE_BINS)
    n_weeks = max(int(np.ceil(H / HOURS_PER_WEEK)), 1)
    start = col["t_inspection_start"]
    for name, label in (("orange", "scan"), ("red", "exam")):
        sel = (ch == name) & release_done
        add[f"customs_{label}s"] = float(sel.sum())
        mean_parts(f"customs_{label}_wait_h", start[sel] - col["t_customs_request"][sel])
        st = start[(ch == name) & np.isfinite(start) & (start >= 0) & (start < H)]
        ser[f"inspections_week:{name}"] = np.bincount((st // HOURS_PER_WEEK).astype(np.int64), minlength=n_weeks)[:n_weeks]
    insp = ch.isin("orange", "red") & release_done
    mean_parts("customs_added_dwell_h", col["t_customs_release"][insp] - col["t_customs_request"][insp])
    if "contraband_kg" in c.columns:
        _targeting(s, c, flow, ch, _within(col["t_customs_request"], H), H)
    add["exports_customs_late"] = float((c["customs_late"].to_numpy() & loaded).sum())
    add["exports_late_gate"] = float((c["late_gate"].to_numpy() & loaded).sum())
    gated = (col["t_gate"] >= 0) & (col["t_gate"] < H)
    for t in sc.terminals:
        g = col["t_gate"][gated & at[t.name]]
        ser[f"gate_trucks:{t.name}"] = np.bincount(g.astype(np.int64), minlength=n_hours)[:n_hours]
    waits = col["gate_wait_h"][gated]
    mean_parts("gate_wait_h", waits)
    s.samples["gate_wait_h"] = [waits[np.isfinite(waits)]]
    if "dual_cycle" in c.columns:
        dual = c["dual_cycle"].to_numpy()
        visit = gated & ~dual
        arrive = col["t_gate"][visit]
        begin = arrive + col["gate_wait_h"][visit]
        add["gate_visits"] = float(visit.sum())
        add["gate_dual"] = float(dual[gated].sum())
        top["gate_visit_wait_max_h"] = float((begin - arrive).max()) if arrive.size else 0.0
        ser["gate_queue"] = pool.submit(hourly_mean, arrive, begin, np.ones(arrive.size), n_hours)
    out_truck = flow.isin("import", "empty_in") & left
    mean_parts("corridor_h", col["t_lima"][out_truck] - col["t_yard_out"][out_truck])
    return s


def _targeting(s: Summary, c: pd.DataFrame, flow: Codes, ch: Codes, requested: np.ndarray,
               H: float) -> None:
    """Export-targeting sums (export boxes declared within the horizon) and monthly series."""
    add = s.sums
    exp = (flow == "export") & requested
    kg = c["contraband_kg"].to_numpy()
    loaded = exp & (kg > 0)
    found = c["found"].to_numpy() & exp
    inspected = exp & ch.isin("orange", "red")
    clean = exp & ~loaded
    add["export_scans"] = float((exp & (ch == "orange")).sum())
    add["export_exams"] = float((exp & (ch == "red")).sum())
    add["contraband_containers"] = float(loaded.sum())
    add["detection_hits"] = float(found.sum())
    add["seized_kg"] = float(kg[found].sum())
    add["shipped_kg"] = float(kg[loaded].sum())
    add["export_inspected"] = float(inspected.sum())
    add["export_clean"] = float(clean.sum())
    add["export_clean_inspected"] = float((inspected & clean).sum())
    x = c["t_customs_release"].to_numpy()[inspected] - c["t_customs_request"].to_numpy()[inspected]
    x = x[np.isfinite(x)]
    add["sum:export_inspection_added_dwell_h"], add["n:export_inspection_added_dwell_h"] = float(x.sum()), float(x.size)
    # monthly series for the report: exports by the month of their declaration
    n_months = max(int(np.ceil(H / HOURS_PER_MONTH)), 1)
    all_exp = flow == "export"
    month = c["t_customs_request"].to_numpy(float)[all_exp] // HOURS_PER_MONTH
    ok = (month >= 0) & (month < n_months)
    month = month[ok].astype(np.int64)
    kg_e, found_e = kg[all_exp][ok], c["found"].to_numpy(bool)[all_exp][ok]
    s.series["month_loaded"] = np.bincount(month, weights=(kg_e > 0).astype(float), minlength=n_months)
    s.series["month_hits"] = np.bincount(month, weights=found_e.astype(float), minlength=n_months)
    s.series["month_shipped_kg"] = np.bincount(month, weights=kg_e, minlength=n_months)
    s.series["month_seized_kg"] = np.bincount(month, weights=np.where(found_e, kg_e, 0.0), minlength=n_months)


def summarise_segments(scenario: Scenario, containers: pd.DataFrame, vessels: pd.DataFrame,
                       segment_rows: list[int] | None = None) -> Summary:
    """The summary of a whole container table made of consecutive segments of ``segment_rows``
    rows each (default: one segment), added segment by segment, as a chunked run does."""
    bounds = np.cumsum([0, *(segment_rows or [len(containers)])])
    total = None
    for a, b in zip(bounds[:-1], bounds[1:]):
        part = summarise(scenario, containers.iloc[a:b], vessels)
        total = part if total is None else total + part
    return total
