"""The ``callao`` command line."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from callao.calibration import calibration_table
from callao.kpis import HEADLINE
from callao.scenario import ScenarioError, bundled_names, load_scenario
from callao.scenario.load import read_toml, resolve_path, validate

app = typer.Typer(help="callao: a digital twin of the Port of Callao.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
scenario_app = typer.Typer(help="Show, list and validate scenarios.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")
console = Console()
err = Console(stderr=True, soft_wrap=True)



def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="bundled scenario name or TOML file")] = "callao",
    seed: Annotated[int, typer.Option(help="random seed; same seed, same results")] = 0,
    years: Annotated[Optional[float], typer.Option(help="simulated years (default: the scenario's)")] = None,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("out"),
    report: Annotated[bool, typer.Option(help="write report.html")] = True,
    arrivals: Annotated[Optional[Path], typer.Option(
        help="replay these observed calls (calls.parquet) instead of generated arrivals")] = None,
    handling: Annotated[str, typer.Option(
        help="with --arrivals: moves from the trace ('observed') or the scenario ('drawn')")] = "observed",
) -> None:
    """Simulate a scenario and write kpis.json, Parquet tables and report.html to OUT."""
    from callao.sim import simulate

    try:
        sc = load_scenario(scenario)
        calls = None
        if arrivals is not None:
            from callao.fit.data import load_calls
            from callao.sim.arrivals import HANDLING_MODES, replay_window

            if handling not in HANDLING_MODES:
                raise ValueError(f"--handling {handling!r}: expected one of {', '.join(HANDLING_MODES)}")
            calls = load_calls(arrivals)
            sc = replay_window(sc, calls)
    except (ScenarioError, ValueError) as e:
        _fail(str(e))
    if years is not None and not 0 < years <= 1000:
        _fail(f"--years {years}: expected a number of years in (0, 1000]")
    started = time.perf_counter()
    with Progress(TextColumn("[bold]{task.description:<22}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err, transient=False) as bar:
        task = bar.add_task("simulating", total=1.0)
        try:
            results = simulate(sc, seed=seed, years=years, arrivals=calls, handling=handling,
                               progress=lambda f, stage: bar.update(task, completed=f, description=stage))
        except ValueError as e:
            _fail(str(e))
        bar.update(task, description="writing results")
        results.write(out)
        if report:
            from callao.report import write_report

            bar.update(task, description="writing report")
            write_report(results, out / "report.html", calibration=calibration_table(results.kpis))
        bar.update(task, completed=1.0, description="done")
    elapsed = time.perf_counter() - started
    k = results.kpis
    n = k.get("containers_total", 0)
    console.print(f"\n[bold]{sc.name}[/] seed {seed}, {sc.simulation.years if years is None else years:g} "
                  f"year(s): {len(results.vessels):,} calls, {n:,} containers in {elapsed:.1f} s")
    table = Table(title="Headline KPIs", title_justify="left")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    table.add_column("name in kpis.json", style="dim")
    for key, label, fmt in HEADLINE:
        if key in k:
            table.add_row(label, fmt.format(k[key]), key)
    for t in sc.terminals:
        table.add_row(f"Berth occupancy {t.name}", f"{k[f'berth_occupancy_{t.name}']:.0%}", f"berth_occupancy_{t.name}")
    console.print(table)
    rows = calibration_table(k)
    if len(rows) >= 3:
        console.print(_calibration(rows))
    if calls is not None:
        from callao.fit.cli import print_replay

        print_replay(results, out, console)
    files = ", ".join(sorted(p.name for p in out.iterdir() if not p.name.startswith(".")))
    console.print(f"Results in [bold]{out}/[/]: {files}")


def _calibration(rows: list[dict]) -> Table:
    table = Table(title="Model vs published figures (shared/facts/callao.md)", title_justify="left")
    for col, just in (("figure", "left"), ("model", "right"), ("published", "right"), ("unit", "left"),
                      ("check", "left"), ("status", "left"), ("source", "left")):
        table.add_column(col, justify=just)
    colour = {"ok": "green", "off": "red", "indicative": "yellow"}
    for r in rows:
        fmt = "{:.2f}" if r["unit"] == "share" else "{:,.1f}" if r["unit"] == "h" else "{:,.0f}"
        table.add_row(r["label"], fmt.format(r["model"]), fmt.format(r["published"]), r["unit"], r["bound"],
                      f"[{colour[r['status']]}]{r['status']}[/]", r["source"])
    return table


@scenario_app.command("list")
def scenario_list() -> None:
    """List the bundled scenarios."""
    for name in bundled_names():
        sc = load_scenario(name)
        console.print(f"[bold]{name:<16}[/] {sc.description}")


@scenario_app.command("show")
def scenario_show(name: Annotated[str, typer.Argument(help="bundled name or TOML file")] = "callao") -> None:
    """Print the resolved scenario (extends applied, defaults filled in) as JSON."""
    try:
        sc = load_scenario(name)
    except ScenarioError as e:
        _fail(str(e))
    console.print_json(json.dumps(sc.model_dump(mode="json", by_alias=True)))


@scenario_app.command("validate")
def scenario_validate(file: Annotated[str, typer.Argument(help="TOML file or bundled name")]) -> None:
    """Check a scenario file; on error, name the field, the value and what was expected."""
    try:
        path = resolve_path(file)
        sc = validate(read_toml(path), source=path.name)
    except ScenarioError as e:
        _fail(str(e))
    console.print(f"[green]ok[/]: {sc.name}: {len(sc.terminals)} terminal(s), "
                  f"{len(sc.services)} service(s), {len(sc.tramp)} tramp stream(s), {sc.simulation.years:g} year(s)")


@app.command("queue-check")
def queue_check_cmd(
    scenario: Annotated[str, typer.Argument(help="a pure-queue scenario, e.g. queue-mm3")] = "queue-mm3",
    replications: Annotated[int, typer.Option(min=2, help="independent replications")] = 10,
    seed: int = 0,
) -> None:
    """Compare the engine's waiting time with queueing theory (Erlang C, Pollaczek-Khinchine, PIANC)."""
    from callao.validation import queue_check

    try:
        sc = load_scenario(scenario)
        with console.status(f"{replications} replications of {sc.name}..."):
            r = queue_check(sc, replications, seed)
    except (ScenarioError, ValueError) as e:
        _fail(str(e))
    q = r.queue
    console.print(f"{q.kind} queue, utilisation {q.rho:.3f}, E[S] = {q.mean_service_h:g} h")
    console.print(f"Wq/E[S] simulated {r.mean:.4f}  (95% CI {r.ci_low:.4f} .. {r.ci_high:.4f}, "
                  f"{r.replications} replications)")
    console.print(f"Wq/E[S] {r.source:<12} {r.analytic:.4f}  -> "
                  + ("[green]inside the interval[/]" if r.within_ci else "[red]outside the interval[/]"))
    console.print(f"Little's law: time-average number waiting {r.littles_lq:.4f} vs "
                  f"arrival rate x mean wait {r.littles_lambda_wq:.4f}")


def _mount_targeting() -> None:
    from callao.targeting.cli import app as targeting_app

    app.add_typer(targeting_app, name="targeting", help="Contraband targeting: train, evaluate, score.")


_mount_targeting()


def _mount_optional_commands() -> None:
    """``compare``/``sweep`` (experiments) and ``serve`` (dashboard) register themselves."""
    import importlib

    for module in ("callao.experiments.cli", "callao.web.cli",
                   "callao.fit.cli", "callao.forecast.cli"):
        try:
            importlib.import_module(module).register(app)
        except ModuleNotFoundError as e:  # pragma: no cover - an optional package left out
            if not module.startswith(str(e.name)):
                raise


_mount_optional_commands()
