"""The ``callao`` command line."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from importlib.metadata import PackageNotFoundError, version as package_version
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from callao.scenario import ScenarioError, bundled_names, load_scenario
from callao.scenario.load import read_toml, resolve_path, validate

class _ConsoleApp(typer.Typer):
    """The ``callao`` console command: a Typer app that, when a command asked for it (``callao run``
    once every file is written), leaves the process without the interpreter's teardown (freeing
    the run's millions of objects and arrays one by one: about 0.6 CPU s after a Callao year).
    Nothing is lost: every file is closed and renamed into place, no thread is left running, and
    the console output is flushed first. In-process callers (tests, ``CliRunner``) never get here."""

    exit_fast = False

    def __call__(self, *args, **kwargs):
        _ConsoleApp.exit_fast = False  # set by a command of this call only
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit as e:
            if _ConsoleApp.exit_fast and e.code in (0, None):
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(0)
            raise


app = _ConsoleApp(help="callao: a digital twin of the Port of Callao.", no_args_is_help=True,
               pretty_exceptions_enable=False, add_completion=False)
scenario_app = typer.Typer(help="Show, list and validate scenarios.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")
console = Console()
err = Console(stderr=True, soft_wrap=True)


def _version() -> str:
    try:
        return package_version("callao")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        console.print(f"callao {_version()}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="print the version of callao and exit")] = False,
) -> None:
    """callao: a digital twin of the Port of Callao. Start with: callao run"""


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="bundled scenario name or TOML file")] = "callao",
    seed: Annotated[int, typer.Option(help="random seed; same seed, same results")] = 0,
    years: Annotated[Optional[float], typer.Option(help="simulated years (default: the scenario's)",
                                                   show_default=False)] = None,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("out"),
    report: Annotated[bool, typer.Option(help="write report.html (--no-report: skip it)")] = True,
    arrivals: Annotated[Optional[Path], typer.Option(
        help="replay these observed calls (calls.parquet) instead of generated arrivals")] = None,
    handling: Annotated[str, typer.Option(
        help="with --arrivals: moves from the trace ('observed') or the scenario ('drawn')")] = "observed",
    chunked: Annotated[Optional[bool], typer.Option(
        "--chunked/--in-memory", show_default=False,
        help="write the run segment by segment to partitioned Parquet, memory flat in the horizon "
             "(default: chunked above ~4 M expected containers, about two Callao years)")] = None,
    segment_years: Annotated[float, typer.Option(
        help="length of the segments a multi-year run is simulated in, years")] = 1.0,
) -> None:
    """Simulate a scenario and write kpis.json, Parquet tables and report.html to OUT."""
    from callao.kpis import HEADLINE
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
    if not 0 < segment_years <= 1000:
        _fail(f"--segment-years {segment_years}: expected a number of years in (0, 1000]")
    span = sc.simulation.years if years is None else years
    if chunked is None or chunked:
        from callao.dataset import CHUNKED_ABOVE_CONTAINERS, expected_containers
        from callao.sim.engine import resolve

        try:
            expected = expected_containers(resolve(sc, years))
        except (ScenarioError, ValueError) as e:
            _fail(str(e))
        if chunked and calls is not None:
            _fail("--chunked with --arrivals: a replay runs in memory; leave out --chunked")
        chunked = calls is None and (chunked or expected > CHUNKED_ABOVE_CONTAINERS)
    started = time.perf_counter()
    with Progress(TextColumn("[bold]{task.description:<16}"), BarColumn(bar_width=None),
                  TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=err, transient=False,
                  expand=True) as bar:
        task = bar.add_task("simulating", total=1.0)
        step = (lambda f, stage: bar.update(task, completed=f, description=stage))
        try:
            if chunked:
                from callao.dataset import run_chunked

                results = run_chunked(resolve(sc, years), seed, out, segment_years, progress=step)
            else:
                results = simulate(sc, seed=seed, years=years, arrivals=calls, handling=handling,
                                   progress=step, segment_years=segment_years)
        except ValueError as e:
            _fail(str(e))
        if not chunked:
            bar.update(task, description="writing results")
            results.write(out)
        if report:
            from callao.report import write_report

            bar.update(task, description="writing report")
            write_report(results, out / "report.html", calibration=_annual_calibration(results.kpis, span))
        bar.update(task, completed=1.0, description="done")
    elapsed = time.perf_counter() - started
    k = results.kpis
    n = k.get("containers_total", 0)
    console.print()
    mode = " (chunked: one Parquet part per segment)" if chunked else ""
    console.print(Text.assemble((sc.name, "bold"), f" seed {seed}, {span:g} year(s): {k.get('vessel_calls_total', len(results.vessels)):,.0f} calls, "
                                f"{n:,} containers in {elapsed:.1f} s{mode}"))
    table = Table(title="Headline KPIs", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("KPI", overflow="fold")
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("name in kpis.json", style="dim", overflow="fold")
    for key, label, fmt in HEADLINE:
        if key in k:
            table.add_row(label, fmt.format(k[key]), key)
    for t in sc.terminals:
        table.add_row(f"Berth occupancy {t.name}", f"{k[f'berth_occupancy_{t.name}']:.0%}", f"berth_occupancy_{t.name}")
    console.print(table)
    rows = _annual_calibration(k, span)
    if len(rows) >= 3:
        console.print(_calibration(rows, span))
    if calls is not None:
        from callao.fit.cli import print_replay

        print_replay(results, out, console)
    files = ", ".join(sorted(p.name for p in out.iterdir() if not p.name.startswith(".")))
    console.print(Text(f"Results in {out}/: {files}"))
    _ConsoleApp.exit_fast = True


ANNUAL_UNITS = ("TEU", "calls")
"""Units of the published figures that are totals over a year."""


def _annual_calibration(kpis: dict[str, float], years: float) -> list[dict]:
    """The model-versus-published rows, with a run's totals (TEU, calls) scaled to a year when it
    covers another span, so that a short run compares like with like."""
    from callao.calibration import CALLAO_TARGETS, calibration_table

    if years != 1:
        kpis = dict(kpis)
        for t in CALLAO_TARGETS:
            if t.unit in ANNUAL_UNITS and t.kpi in kpis:
                kpis[t.kpi] = kpis[t.kpi] / years
    return calibration_table(kpis)


def _calibration(rows: list[dict], years: float = 1.0) -> Table:
    """Model vs published figures in at most 80 columns: the unit joins the figure's label, the check
    joins the status, the source is its keys (references in docs/sources.md); numbers never wrap."""
    note = "" if years == 1 else f"TEU and calls of this {years:g}-year run are scaled to a year."
    table = Table(title="Model vs published figures (sources: docs/sources.md)", title_justify="left",
                  caption=note or None, caption_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("figure, unit", overflow="fold", ratio=1)
    for col in ("model", "published"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("source", no_wrap=True)
    colour = {"ok": "green", "off": "red", "indicative": "yellow"}
    for r in rows:
        fmt = "{:.2f}" if r["unit"] == "share" else "{:,.1f}" if r["unit"] == "h" else "{:,.0f}"
        status = r["status"] if r["status"] == "indicative" else f"{r['status']} ({r['bound']})"
        keys = ", ".join(re.findall(r"\bR\d+[a-z]?\b", r["source"])) or r["source"]
        table.add_row(Text(f"{r['label']}, {r['unit']}"), fmt.format(r["model"]), fmt.format(r["published"]),
                      Text(status, style=colour[r["status"]]), keys)
    return table


@scenario_app.command("list")
def scenario_list() -> None:
    """List the bundled scenarios."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name in bundled_names():
        grid.add_row(name, Text(load_scenario(name).description))
    console.print(grid)


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
    seed: Annotated[int, typer.Option(help="experiment seed; the replications get its SeedSequence children")] = 0,
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


@app.command("export", epilog="Examples:\n\n  callao export out --format xlsx\n\n"
             "  callao export out --format csv --sample 50000 --out tables/\n\n"
             "  callao export out/compare-baseline-chancay --format csv")
def export_cmd(
    folder: Annotated[Path, typer.Argument(help="a run folder (callao run --out) or an experiment folder "
                                                "(callao compare/sweep)", show_default=False)],
    format: Annotated[str, typer.Option("--format", "-f", help="csv: one file per table; xlsx: one sheet per "
                                                                 "table")] = "xlsx",
    out: Annotated[Optional[Path], typer.Option(help="where to write: a folder for csv (default FOLDER/export/), "
                                                     "a .xlsx file or a folder for xlsx (default "
                                                     "FOLDER/export.xlsx)", show_default=False)] = None,
    sample: Annotated[int, typer.Option(min=0, help="containers in the random sample of a run; 0: all")] = 10_000,
    seed: Annotated[int, typer.Option(help="seed of the container sample; same seed, same rows")] = 0,
) -> None:
    """Export tables for spreadsheets: a run's calls, a container sample and its KPIs, or an
    experiment's comparison (and sweep) table."""
    from callao.export import ExportError, export

    try:
        result = export(folder, format.lower(), out, sample=sample, seed=seed)
    except ExportError as e:
        _fail(str(e))
    console.print(Text(f"{result.kind} {folder}:"))
    for name, n in result.rows.items():
        console.print(Text(f"  {name:<12} {n:>9,} rows"))
    for f in result.files:
        console.print(Text(f"-> {f}"))


def _mount_targeting() -> None:
    from callao.targeting.cli import app as targeting_app

    app.add_typer(targeting_app, name="targeting", help="Contraband targeting: risk models for customs declarations "
                      "(callao targeting --help lists the commands).")


_mount_targeting()
from callao.ingest.cli import app as calls_app  # noqa: E402
app.add_typer(calls_app, name="calls", help="Port calls from AIS: detect calls in AIS files, export a run as AIS.")


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
