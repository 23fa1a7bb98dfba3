"""Calibration: fit a scenario's waterside to observed calls and write it as an overlay.

What is fitted, per terminal and size band (the base scenario's vessel class nearest in length):

- **arrival rate**, calls a year: the Poisson maximum-likelihood estimate n / T over the observed
  period T, with the exact (Garwood) 95% interval;
- **weekly pattern**: a chi-square test of the calls' hour of the week (14 bins of 12 h) against
  uniform. Where it is significant (p < 0.05) and the base schedules services for that band, the
  services are kept as they are and the unscheduled (tramp) rate takes the rest; otherwise every
  stream of the band is scaled to the fitted rate;
- **berth time**: the crane-hours each call had (:func:`~callao.sim.arrivals.crane_hours`: its
  berth time less mooring and unmooring, with the cranes the engine's rule gives it among the calls
  worked at the same time). With moves observed (a ``moves`` column) the terminal's crane rate is
  Σ moves / Σ crane-hours; from AIS alone only their product is identified, so the rate is fitted
  holding the base's mean moves per call (a ratio estimator, 95% interval by the delta method) and
  the moves per call of each band are then crane-hours × rate (mean with a t interval, CV).
  Crane-hours seen from outside include what the engine adds around the work (waiting for the
  outbound channel, cranes stopped by closures), so the rate is corrected by simulation: the
  fitted scenario is simulated for several periods as long as the data's, the same estimator
  applied to each, and the rate multiplied by (rate put in / mean estimate); its interval is the
  estimate's spread over those periods;
- **share of calls that skip the anchorage** (wait under 1 h, Wilson 95% interval): not a
  parameter of the model (it follows from arrivals and berth times), fitted to be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from callao.ingest.calls import conform, utc_to_hours
from callao.scenario import Scenario, load_scenario
from callao.sim.arrivals import arrival_streams, crane_hours, nearest_class

SKIP_WAIT_H = 1.0
"""A call whose anchorage wait is under this many hours went (almost) straight in."""
WEEKLY_P = 0.05
"""Significance level of the weekly-pattern test."""
WEEK_BINS = 14


@dataclass(frozen=True)
class Estimate:
    """A fitted number with its 95% interval, sample size and how it was obtained."""

    value: float
    low: float
    high: float
    n: int
    method: str

    def covers(self, x: float) -> bool:
        return self.low <= x <= self.high

    def comment(self, fmt: str = "{:.4g}") -> str:
        return (f"fit {fmt.format(self.value)}, 95% CI [{fmt.format(self.low)}, {fmt.format(self.high)}], "
                f"n = {self.n} ({self.method})")


@dataclass
class Band:
    """Arrivals and work of one terminal and size band."""

    terminal: str
    vessel_class: str
    calls_per_year: Estimate
    weekly_chi2: float
    weekly_p: float
    moves_per_call: Estimate | None
    moves_cv: float

    @property
    def weekly(self) -> bool:
        return bool(np.isfinite(self.weekly_p) and self.weekly_p < WEEKLY_P)


@dataclass
class Calibration:
    """The fit of a base scenario's waterside to a calls table (see the module docstring)."""

    base: Scenario
    base_name: str
    source: str
    start: pd.Timestamp
    end: pd.Timestamp
    calls: int
    unberthed: int
    bands: list[Band]
    crane_rate: dict[str, Estimate]
    skip_share: dict[str, Estimate]
    moves_observed: bool

    @property
    def years(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0 / 8760.0

    def overlay(self) -> dict:
        """The overlay as a dict (what :meth:`toml` writes, without the comments)."""
        return _overlay(self)[0]

    def toml(self) -> str:
        """The overlay TOML, ``extends = BASE``, a comment with the fit of every number."""
        return _overlay(self)[1]

    def write(self, path: str | Path) -> Path:
        from callao.results import atomic_write

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda p: p.write_text(self.toml(), encoding="utf-8"))
        return path

    def table(self) -> pd.DataFrame:
        """Every fitted number as rows: what, terminal, band, value, low, high, n, method."""
        rows = []
        for b in self.bands:
            rows.append(("calls per year", b.terminal, b.vessel_class, b.calls_per_year))
            if b.moves_per_call is not None:
                rows.append(("moves per call", b.terminal, b.vessel_class, b.moves_per_call))
        for t, e in self.crane_rate.items():
            rows.append(("moves per crane-hour", t, "", e))
        for t, e in self.skip_share.items():
            rows.append(("share skipping the anchorage", t, "", e))
        return pd.DataFrame([{"what": w, "terminal": t, "band": b, "value": e.value, "low": e.low,
                              "high": e.high, "n": e.n, "method": e.method} for w, t, b, e in rows])


def poisson_rate(n: int, years: float) -> Estimate:
    """Calls a year with the exact (Garwood) 95% interval."""
    low = stats.chi2.ppf(0.025, 2 * n) / 2 if n else 0.0
    high = stats.chi2.ppf(0.975, 2 * n + 2) / 2
    return Estimate(n / years, low / years, high / years, n, "Poisson MLE, exact interval")


def proportion(k: int, n: int) -> Estimate:
    """A share with the Wilson 95% interval."""
    if n == 0:
        return Estimate(float("nan"), 0.0, 1.0, 0, "Wilson")
    z = 1.959964
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(p, max(centre - half, 0.0), min(centre + half, 1.0), n, "Wilson interval")


def mean_estimate(x: np.ndarray, method: str = "mean, t interval") -> Estimate:
    x = x[np.isfinite(x)]
    if x.size < 2:
        v = float(x.mean()) if x.size else float("nan")
        return Estimate(v, float("nan"), float("nan"), int(x.size), method)
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return Estimate(float(x.mean()), float(x.mean() - half), float(x.mean() + half), int(x.size), method)


def weekly_test(t: pd.Series) -> tuple[float, float]:
    """Chi-square statistic and p-value of the calls' hour of the week against uniform (NaN if
    fewer than 5 expected per bin)."""
    t = pd.to_datetime(t, utc=True).dropna()
    if len(t) < 5 * WEEK_BINS:
        return float("nan"), float("nan")
    how = (t.dt.day_of_week * 24 + t.dt.hour + t.dt.minute / 60.0).to_numpy(float)
    counts = np.bincount((how // (168 / WEEK_BINS)).astype(int), minlength=WEEK_BINS)[:WEEK_BINS]
    res = stats.chisquare(counts)
    return float(res.statistic), float(res.pvalue)


def period(calls: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The observed period: midnight before the first arrival to midnight after the last."""
    t = pd.to_datetime(calls["t_arrival"], utc=True).dropna()
    return t.min().floor("D"), t.max().floor("D") + pd.Timedelta(days=1)


def calibrate(calls: pd.DataFrame, base: Scenario | str = "callao", source: str = "calls",
              seed: int = 0, bias_periods: int = 8) -> Calibration:
    """Fit ``base``'s waterside to the observed ``calls`` (see the module docstring).
    ``bias_periods`` simulated periods correct the crane rate and give its interval (0: none)."""
    base_name = base if isinstance(base, str) else base.name
    sc = base if isinstance(base, Scenario) else load_scenario(base)
    c = conform(calls)
    c = c[c["t_arrival"].notna()].reset_index(drop=True)
    if c.empty:
        raise ValueError(f"{source}: no call with an arrival time")
    start, end = period(c)
    berthed = c[c["terminal"].notna()].reset_index(drop=True)
    names = [t.name for t in sc.terminals]
    unknown = sorted(set(berthed["terminal"].astype(str)) - set(names))
    if unknown:
        raise ValueError(f"{source}: terminal(s) {', '.join(unknown)} not in the base scenario "
                         f"{sc.name!r}; expected one of {', '.join(names)}")
    bands, crane_rate, skip, moves_observed = _fit(sc, berthed, start, end)
    cal = Calibration(sc, base_name, source, start, end, int(len(c)), int(len(c) - len(berthed)),
                      bands, crane_rate, skip, moves_observed)
    if bias_periods > 1:
        _correct_crane_rate(cal, seed, bias_periods)
    return cal


def fitted_scenario(cal: Calibration, **simulation) -> Scenario:
    """The base with the calibration's overlay applied (and ``simulation`` settings on top)."""
    from callao.scenario import merge, validate

    overlay = {k: v for k, v in cal.overlay().items() if k != "extends"}
    data = merge(cal.base.model_dump(by_alias=True), overlay)
    if simulation:
        data = merge(data, {"simulation": simulation})
    return validate(data, f"{cal.base.name}-fitted")


def _correct_crane_rate(cal: Calibration, seed: int, periods: int) -> None:
    """Simulation-based bias correction and interval of the crane rates: simulate ``periods``
    periods as long as the data's in the fitted scenario, apply the same estimator to each, and
    scale the rate by (rate put in / mean estimate). The interval is the spread of the estimate
    over those periods (t with periods − 1 degrees of freedom, as for one new period): it covers
    what varies from one period to the next (closures above all), which the calls of a single
    period cannot show."""
    import callao
    from callao.ingest.calls import calls_from_vessels

    length = cal.end - cal.start
    sim_sc = fitted_scenario(cal, containers=False, years=periods * cal.years)
    run = callao.simulate(sim_sc, seed=seed)
    sim_calls = conform(calls_from_vessels(run.vessels, sim_sc.simulation.start_utc))
    if not cal.moves_observed:
        sim_calls = sim_calls.drop(columns=["moves"], errors="ignore")
    sim_calls = sim_calls[sim_calls["terminal"].notna()].reset_index(drop=True)
    estimates: dict[str, list[float]] = {}
    for j in range(periods):
        a = cal.start + j * length
        chunk = sim_calls[(sim_calls["t_arrival"] >= a) & (sim_calls["t_arrival"] < a + length)]
        # the same estimator, in a world whose moves per call are the fitted ones (only its bias shows)
        _, rates, _, _ = _fit(sim_sc, chunk.reset_index(drop=True), a, a + length)
        for name, e in rates.items():
            estimates.setdefault(name, []).append(e.value)
    t = stats.t.ppf(0.975, periods - 1)
    for name, e in list(cal.crane_rate.items()):
        got = np.array(estimates.get(name, []), float)
        got = got[np.isfinite(got)]
        if got.size < 2 or not np.isfinite(e.value):
            continue
        factor = sim_sc.terminal(name).moves_per_crane_hour / got.mean()
        half = t * got.std(ddof=1) / got.mean() * np.sqrt(1 + 1 / got.size)
        v = e.value * factor
        cal.crane_rate[name] = Estimate(v, v * (1 - half), v * (1 + half), e.n,
                                        f"{e.method}; x{factor:.3f} bias correction and interval from "
                                        f"{got.size} simulated periods")


def _fit(sc: Scenario, berthed: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
         base_moves: dict | None = None) -> tuple[list[Band], dict[str, Estimate], dict[str, Estimate], bool]:
    years = (end - start).total_seconds() / 3600.0 / 8760.0
    terminal = berthed["terminal"].astype(str).to_numpy(object)
    cls_idx = nearest_class(sc, berthed["loa_m"].to_numpy(float))
    cls = np.array([sc.vessel_classes[i].name for i in cls_idx], object)
    cap = np.array([sc.vessel_classes[i].max_cranes for i in cls_idx])
    ch = crane_hours(sc, terminal, utc_to_hours(berthed["t_berth"], start),
                     utc_to_hours(berthed["t_unberth"], start), cap, berthed["loa_m"].to_numpy(float))
    observed_moves = berthed["moves"].to_numpy(float) if "moves" in berthed.columns else np.full(len(berthed), np.nan)
    moves_observed = bool(np.isfinite(observed_moves).any())
    base_mean = base_moves or _base_mean_moves(sc)
    expected = np.array([base_mean.get((t, k), np.nan) for t, k in zip(terminal, cls)])
    m = np.where(np.isfinite(observed_moves), observed_moves, expected) if moves_observed else expected
    crane_rate, bands, skip = {}, [], {}
    for t in sc.terminals:
        at = terminal == t.name
        ok = at & np.isfinite(ch) & (ch > 0) & np.isfinite(m)
        crane_rate[t.name] = _ratio(m[ok], ch[ok], "moves / crane-hours" if moves_observed else
                                    "base mean moves / crane-hours, ratio estimator")
        wait = berthed["anchorage_wait_h"].to_numpy(float)[at]
        wait = wait[np.isfinite(wait)]
        skip[t.name] = proportion(int((wait < SKIP_WAIT_H).sum()), int(wait.size))
        rate = crane_rate[t.name].value
        for k in [vc.name for vc in sc.vessel_classes]:
            sel = at & (cls == k)
            if not sel.any():
                continue
            chi2, p = weekly_test(berthed.loc[sel, "t_arrival"])
            work = observed_moves[sel] if moves_observed else ch[sel] * rate
            work = work[np.isfinite(work) & (work > 0)]
            mv = mean_estimate(work, "observed moves" if moves_observed else "crane-hours × fitted rate") \
                if work.size else None
            cv = float(work.std(ddof=1) / work.mean()) if work.size > 2 else 0.3
            bands.append(Band(t.name, k, poisson_rate(int(sel.sum()), years), chi2, p, mv, cv))
    return bands, crane_rate, skip, moves_observed


def _base_mean_moves(sc: Scenario) -> dict[tuple[str, str], float]:
    """Mean moves per call of the base's streams of each (terminal, class), weighted by their rates."""
    acc: dict[tuple[str, str], list[float]] = {}
    for spec, rate in arrival_streams(sc):
        a = acc.setdefault((spec.terminal, spec.vessel_class), [0.0, 0.0])
        a[0] += rate * spec.moves_per_call.mean_value * sc.simulation.demand_factor
        a[1] += rate
    return {k: s / w for k, (s, w) in acc.items() if w > 0}


def _ratio(y: np.ndarray, x: np.ndarray, method: str) -> Estimate:
    """Ratio estimator Σy / Σx with its delta-method 95% interval."""
    n = y.size
    if n < 2:
        return Estimate(float("nan"), float("nan"), float("nan"), n, method)
    r = y.sum() / x.sum()
    se = np.sqrt(((y - r * x) ** 2).sum() / (n * (n - 1))) / x.mean()
    z = stats.t.ppf(0.975, n - 1)
    return Estimate(float(r), float(r - z * se), float(r + z * se), n, method)


# --- The overlay --------------------------------------------------------------------------------

RETIRED_WINDOW_H = 1e9
"""first_window_h of a base service the data shows no call of (an overlay cannot delete it)."""


def _overlay(cal: Calibration) -> tuple[dict, str]:
    sc = cal.base
    df = sc.simulation.demand_factor
    lines = [
        f"# Fitted by 'callao calibrate' from {cal.source}: {cal.calls} calls "
        f"({cal.unberthed} left without berthing) from {cal.start:%Y-%m-%d} to {cal.end:%Y-%m-%d} "
        f"({cal.years * 365:.0f} days).",
        f"# Every fitted number says its estimate, 95% CI, n and method. Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        f'extends = "{cal.base_name}"',
        f'name = "{sc.name}-fitted"',
        f'description = "{sc.name} fitted to {Path(cal.source).name}, {cal.start:%Y-%m-%d} to {cal.end:%Y-%m-%d}"',
        "",
        "[simulation]",
        f"start_utc = {cal.start.strftime('%Y-%m-%dT%H:%M:%SZ')}   # start of the observed period",
        f"years = {cal.years:.6f}   # the observed period",
        "",
    ]
    data: dict = {"extends": cal.base_name, "name": f"{sc.name}-fitted",
                  "simulation": {"start_utc": cal.start.to_pydatetime(), "years": cal.years},
                  "terminals": [], "services": [], "tramp": []}
    lines.append("# --- Crane productivity (berth time model: handling h = moves / (rate x cranes at work)) ---")
    for t in sc.terminals:
        e = cal.crane_rate[t.name]
        s = cal.skip_share[t.name]
        lines += ["[[terminals]]", f'name = "{t.name}"']
        if np.isfinite(e.value):
            lines.append(f"moves_per_crane_hour = {e.value:.3f}   # {e.comment()}; base {t.moves_per_crane_hour:g}")
            data["terminals"].append({"name": t.name, "moves_per_crane_hour": round(e.value, 3)})
        else:
            lines.append(f"# moves_per_crane_hour: too few berthed calls to fit (n = {e.n}); base kept")
        lines.append(f"# share of calls skipping the anchorage (wait < {SKIP_WAIT_H:g} h): {s.comment('{:.3f}')}; "
                     "not a parameter, compared in the model-vs-data report")
        lines.append("")
    lines.append("# --- Arrivals by terminal and size band (vessel class nearest in LOA) ---")
    by_band = {(b.terminal, b.vessel_class): b for b in cal.bands}
    streams = arrival_streams(sc)
    keys = list(dict.fromkeys([(s.terminal, s.vessel_class) for s, _ in streams] + list(by_band)))
    service_items, tramp_items = [], []
    for key in keys:
        band = by_band.get(key)
        mine = [(s, r) for s, r in streams if (s.terminal, s.vessel_class) == key]
        services = [(s, r) for s, r in mine if s in sc.services]
        tramps = [(s, r) for s, r in mine if s in sc.tramp]
        S, T = sum(r for _, r in services), sum(r for _, r in tramps)
        head = f"# {key[0]} / {key[1]}: "
        if band is None:
            service_items += [([f'name = "{s.name}"', f"first_window_h = {RETIRED_WINDOW_H:g}   # retired: no such calls observed"],
                               {"name": s.name, "first_window_h": RETIRED_WINDOW_H}) for s, _ in services]
            tramp_items += [([f'name = "{s.name}"', "calls_per_year = 1e-06   # retired: no such calls observed"],
                             {"name": s.name, "calls_per_year": 1e-6}) for s, _ in tramps]
            continue
        lam = band.calls_per_year
        weekly = (f"weekly pattern chi2 = {band.weekly_chi2:.1f}, p = {band.weekly_p:.2g}"
                  if np.isfinite(band.weekly_p) else "too few calls to test a weekly pattern")
        moves = None
        if band.moves_per_call is not None and np.isfinite(band.moves_per_call.value):
            moves = {"dist": "gamma", "mean": round(band.moves_per_call.value / df, 1),
                     "cv": round(min(max(band.moves_cv, 0.05), 2.0), 3)}
        mv_comment = (f"   # moves per call {band.moves_per_call.comment('{:.0f}')}, cv {band.moves_cv:.2f}"
                      if moves else "")
        mv_line = (f'moves_per_call = {{ dist = "gamma", mean = {moves["mean"]}, cv = {moves["cv"]} }}{mv_comment}'
                   if moves else None)
        if services and band.weekly and lam.value >= S:
            how = (f"calls a year {lam.comment('{:.1f}')}; {weekly}: the base's {len(services)} weekly "
                   f"service(s) ({S:.1f} calls a year) kept, unscheduled calls take the rest")
            service_factor, excess = 1.0, lam.value - S
        else:
            total = S + T
            how = (f"calls a year {lam.comment('{:.1f}')}; {weekly}"
                   + (f": every stream scaled by {lam.value / total:.3f}" if total else ""))
            service_factor = lam.value / total if total else 0.0
            excess = (lam.value - S * service_factor) if not total else T * service_factor
        lines.append(head + how)
        for s, _ in services:
            item = {"name": s.name}
            body = [f'name = "{s.name}"']
            if service_factor != 1.0:
                if service_factor <= 0:
                    item["first_window_h"] = RETIRED_WINDOW_H
                    body.append(f"first_window_h = {RETIRED_WINDOW_H:g}   # retired")
                else:
                    item["interval_days"] = round(s.interval_days / service_factor, 4)
                    body.append(f"interval_days = {item['interval_days']}   # base {s.interval_days:g} / {service_factor:.3f}")
            if moves:
                item["moves_per_call"] = moves
                body.append(mv_line)
            service_items.append((body, item))
        if tramps:
            for s, r in tramps:
                share = r / T
                val = max(excess * share, 1e-6)
                item = {"name": s.name, "calls_per_year": round(val, 3)}
                body = [f'name = "{s.name}"', f"calls_per_year = {item['calls_per_year']}   # {share:.0%} of the band's unscheduled calls"]
                if moves:
                    item["moves_per_call"] = moves
                    body.append(mv_line)
                tramp_items.append((body, item))
        elif excess > 1e-9:
            region = _region(sc, key[0])
            item = {"name": f"fit-{key[0]}-{key[1]}", "terminal": key[0], "vessel_class": key[1],
                    "region": region, "calls_per_year": round(excess, 3),
                    "moves_per_call": moves or {"dist": "gamma", "mean": 1500.0, "cv": 0.3}}
            body = [f'name = "{item["name"]}"', f'terminal = "{key[0]}"', f'vessel_class = "{key[1]}"',
                    f'region = "{region}"   # the terminal\'s busiest region in the base',
                    f"calls_per_year = {item['calls_per_year']}   # calls not explained by the base's services",
                    mv_line or 'moves_per_call = { dist = "gamma", mean = 1500.0, cv = 0.3 }   # ASSUMPTION: no berth times'] 
            tramp_items.append((body, item))
    for kind, items in (("services", service_items), ("tramp", tramp_items)):
        for body, item in items:
            lines += [f"[[{kind}]]", *body, ""]
            data[kind].append(item)
    for k in ("terminals", "services", "tramp"):
        if not data[k]:
            del data[k]
    return data, "\n".join(lines).rstrip() + "\n"


def _region(sc: Scenario, terminal: str) -> str:
    rates: dict[str, float] = {}
    for s, r in arrival_streams(sc):
        if s.terminal == terminal:
            rates[s.region] = rates.get(s.region, 0.0) + r
    return max(rates, key=rates.get) if rates else "other"
