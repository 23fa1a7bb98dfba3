"""``callao calibrate`` and the replay part of ``callao run --arrivals``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from callao.results import Results


def print_replay(results: Results, out: Path, console: Console) -> pd.DataFrame:
    """Compare a replay run with the observed calls, write ``OUT/replay.parquet``, print the
    summary table; returns the summary."""
    from callao.fit.replay import ReplayResult, compare

    rr = ReplayResult(results, *compare(results))
    path = rr.write(out)
    table = Table(title="Replay: predicted vs observed anchorage wait (error = predicted − observed)",
                  title_justify="left")
    for col in ("terminal", "calls", "observed mean h", "predicted mean h", "MAE h", "bias h", "RMSE h"):
        table.add_column(col, justify="left" if col == "terminal" else "right")
    for r in rr.summary.itertuples():
        table.add_row(r.terminal, f"{r.calls:,}", f"{r.observed_wait_mean_h:.1f}", f"{r.predicted_wait_mean_h:.1f}",
                      f"{r.mae_h:.2f}", f"{r.bias_h:+.2f}", f"{r.rmse_h:.2f}")
    console.print(table)
    console.print(f"Call by call in [bold]{path}[/]")
    return rr.summary


def register(app) -> None:
    """Add ``callao calibrate`` to the ``callao`` CLI."""

    @app.command()
    def calibrate(
        calls: Annotated[Path, typer.Argument(help="observed calls (calls.parquet from 'callao calls detect')")],
        base: Annotated[str, typer.Option(help="scenario to fit (bundled name or TOML file)")] = "callao",
        out: Annotated[Path, typer.Option(help="fitted overlay to write (TOML, extends BASE)")] = Path("fitted.toml"),
        replications: Annotated[int, typer.Option(min=0, help="replications of the fitted scenario for the "
                                                          "model-vs-data comparison (0: skip it)")] = 10,
        seed: Annotated[int, typer.Option(help="random seed of the replications")] = 0,
    ) -> None:
        """Fit a scenario's waterside to observed calls; write the overlay, and a model-vs-data
        comparison (OUT with .html and -comparison.csv)."""
        import time

        from callao.fit.calibrate import calibrate as fit
        from callao.fit.compare import model_vs_data, write_html
        from callao.fit.data import CallsFileError, load_calls
        from callao.scenario import ScenarioError, bundled_names, load_scenario
        from callao.scenario.load import read_toml, validate

        console, err = Console(), Console(stderr=True, soft_wrap=True)

        def fail(message: str) -> None:
            err.print(f"[bold red]error:[/] {message}", highlight=False)
            raise typer.Exit(2)

        started = time.perf_counter()
        try:
            table = load_calls(calls)
            sc = load_scenario(base)
            with console.status("fitting (and simulating the fit's bias correction)..."):
                cal = fit(table, sc, source=str(calls), seed=seed)
            cal.base_name = base if base in bundled_names() else str(Path(base).resolve())
            path = cal.write(out)
            fitted = validate(read_toml(path), source=path.name)  # the overlay as a user will load it
        except (CallsFileError, ScenarioError, ValueError) as e:
            fail(str(e))
        console.print(f"[bold]{calls}[/]: {cal.calls:,} calls ({cal.unberthed} left without berthing), "
                      f"{cal.start:%Y-%m-%d} to {cal.end:%Y-%m-%d} ({cal.years * 365:.0f} days)")
        t = Table(title="Fitted (95% CI, n)", title_justify="left")
        for col in ("what", "terminal", "band", "value", "95% CI", "n"):
            t.add_column(col, justify="right" if col in ("value", "95% CI", "n") else "left")
        for r in cal.table().itertuples():
            f = "{:.3f}" if r.value < 1 else "{:,.1f}"
            t.add_row(r.what, r.terminal, r.band, f.format(r.value), f"[{f.format(r.low)}, {f.format(r.high)}]", f"{r.n:,}")
        console.print(t)
        weekly = [f"{b.terminal}/{b.vessel_class} p={b.weekly_p:.2g}" for b in cal.bands if np.isfinite(b.weekly_p)]
        console.print("Weekly pattern (chi-square on hour of week): " + ", ".join(weekly))
        console.print(f"Overlay: [bold]{path}[/] (valid: {fitted.name}, extends {base})")
        if replications:
            if replications < 2:
                fail(f"--replications {replications}: expected 0 or at least 2")
            with console.status(f"{replications} replications of the fitted scenario..."):
                comp = model_vs_data(fitted, table, replications, seed)
            ct = Table(title=f"Model vs data ({replications} replications of {fitted.name})", title_justify="left")
            for col in ("figure", "data", "model mean [95% CI]", "95% PI (one period)", "data in PI"):
                ct.add_column(col, justify="left" if col == "figure" else "right")
            for r in comp.table.itertuples():
                f = "{:.3f}" if abs(r.model_mean) < 1.5 else "{:,.1f}"
                ct.add_row(r.label, f.format(r.data), f"{f.format(r.model_mean)} [{f.format(r.ci_low)}, {f.format(r.ci_high)}]",
                           f"[{f.format(r.pi_low)}, {f.format(r.pi_high)}]",
                           "[green]yes[/]" if r.data_within_pi else "[red]no[/]")
            console.print(ct)
            for r in comp.ks.itertuples():
                console.print(f"KS {r.distribution}: D = {r.ks_statistic:.3f} (p = {r.p_value:.2g}; "
                              f"{r.n_data:,} observed vs {r.n_model:,} simulated calls)")
            html = out.with_suffix(".html")
            csv = out.with_name(out.stem + "-comparison.csv")
            from callao.results import atomic_write

            atomic_write(csv, lambda p: comp.table.to_csv(p, index=False))
            write_html(comp, html, f"Calibration of {base} to {calls.name}",
                       f"{cal.calls:,} observed calls, {cal.start:%Y-%m-%d} to {cal.end:%Y-%m-%d}; overlay {path.name}.",
                       cal.table())
            console.print(f"Model vs data: [bold]{html}[/], {csv.name}")
        console.print(f"done in {time.perf_counter() - started:.1f} s")
