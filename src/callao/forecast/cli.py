"""``callao forecast``: the next days of the anchorage from the observed calls."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table


def parse_closure(text: str) -> tuple[pd.Timestamp, float]:
    """``START/HOURS`` (e.g. ``2024-06-03T06:00/36``) → (UTC start, hours)."""
    start, sep, hours = text.rpartition("/")
    try:
        if not sep:
            raise ValueError
        t = pd.Timestamp(start)
        h = float(hours)
        if not h > 0:
            raise ValueError
    except ValueError:
        raise ValueError(f"--closure {text!r}: expected START/HOURS, e.g. 2024-06-03T06:00/36 "
                         "(UTC start, hours > 0)") from None
    return (t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")), h


def register(app: typer.Typer) -> None:
    """Add ``callao forecast`` to the ``callao`` CLI."""

    @app.command("forecast")
    def forecast_cmd(
        calls: Annotated[Path, typer.Option(help="observed calls (calls.parquet from 'callao calls detect')")],
        at: Annotated[str, typer.Option(help="forecast from this time (UTC, e.g. 2024-06-03T08:00)")],
        days: Annotated[int, typer.Option(min=1, max=60, help="days ahead")] = 7,
        replications: Annotated[int, typer.Option(min=2, help="replications (prediction bands)")] = 30,
        out: Annotated[Path, typer.Option(help="output folder")] = Path("out/forecast"),
        scenario: Annotated[str, typer.Option(help="scenario (bundled name or TOML, e.g. a fitted overlay)")] = "callao",
        etas: Annotated[Optional[Path], typer.Option(help="expected arrivals CSV: mmsi, eta, loa_m, terminal "
                                                         "(replaces the scenario's arrivals)")] = None,
        closure: Annotated[Optional[list[str]], typer.Option(help="announced closure START/HOURS (repeatable)")] = None,
        seed: Annotated[int, typer.Option(help="random seed")] = 0,
    ) -> None:
        """Start the twin from the port's state at AT as the calls show it and forecast the
        anchorage queue and waits, with 80% and 95% prediction bands."""
        from callao.fit.data import CallsFileError, load_calls
        from callao.forecast.report import write_forecast
        from callao.forecast.run import forecast
        from callao.scenario import ScenarioError, load_scenario

        console, err = Console(), Console(stderr=True, soft_wrap=True)
        started = time.perf_counter()
        try:
            table = load_calls(calls)
            sc = load_scenario(scenario)
            try:
                t_at = pd.Timestamp(at)
            except ValueError:
                raise ValueError(f"--at {at!r}: expected a time, e.g. 2024-06-03T08:00 (UTC)") from None
            closures = [parse_closure(c) for c in closure or []]
            eta_table = None
            if etas is not None:
                if not etas.is_file():
                    raise ValueError(f"--etas {etas}: no such file; expected a CSV with mmsi, eta, loa_m, terminal")
                eta_table = pd.read_csv(etas)
            f = forecast(sc, table, t_at, days, replications, seed, eta_table, closures)
        except (CallsFileError, ScenarioError, ValueError) as e:
            err.print(f"[bold red]error:[/] {e}", highlight=False)
            raise typer.Exit(2)
        paths = write_forecast(f, out)
        console.print(f"[bold]{sc.name}[/], {f.state.summary()}; {replications} replications in "
                      f"{time.perf_counter() - started:.1f} s")
        t = Table(title="Anchorage by day (median [80% band] [95% band])", title_justify="left")
        for col in ("day", "from (UTC)", "ships waiting", "wait of arrivals, h"):
            t.add_column(col, justify="left" if col == "from (UTC)" else "right")
        for _, r in f.daily.iterrows():
            t.add_row(str(r["day"]), f"{r['date']:%a %m-%d %H:%M}",
                      f"{r['queue_q50']:.1f} [{r['queue_q10']:.1f}, {r['queue_q90']:.1f}] [{r['queue_q2.5']:.1f}, {r['queue_q97.5']:.1f}]",
                      f"{r['wait_h_q50']:.0f} [{r['wait_h_q10']:.0f}, {r['wait_h_q90']:.0f}] [{r['wait_h_q2.5']:.0f}, {r['wait_h_q97.5']:.0f}]"
                      if pd.notna(r["wait_h_q50"]) else "– (no arrivals)")
        console.print(t)
        if len(f.ships):
            s = Table(title="Ships waiting now: predicted berthing (UTC, median [80% band])", title_justify="left")
            for col in ("MMSI", "terminal", "waited h", "berths"):
                s.add_column(col, justify="right" if col == "waited h" else "left")
            for r in f.ships.itertuples():
                s.add_row(str(r.mmsi), r.terminal, f"{r.waited_h:.0f}",
                          f"{r.berth_q50:%m-%d %H:%M} [{r.berth_q10:%m-%d %H:%M}, {r.berth_q90:%m-%d %H:%M}]")
            console.print(s)
        console.print(f"Results in [bold]{out}/[/]: " + ", ".join(p.name for p in paths.values()))
