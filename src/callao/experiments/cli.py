"""``callao compare`` and ``callao sweep``: replications, 95% CIs, differences, Dask scale-out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table

console = Console()
err = Console(stderr=True, soft_wrap=True)

Replications = Annotated[int, typer.Option("--replications", "-r", min=1,
                                           help="replications per scenario (same seeds in every scenario)")]
Years = Annotated[Optional[float], typer.Option(help="simulated years per replication (default: the scenario's)")]
Seed = Annotated[int, typer.Option(min=0, help="experiment seed; replication i of every scenario gets "
                                                "child i of SeedSequence(seed) (common random numbers)")]
Workers = Annotated[int, typer.Option(min=1, help="1: run in this process; more: a local Dask cluster of "
                                                   "that many single-threaded worker processes")]
Scheduler = Annotated[Optional[str], typer.Option(help="run on an existing Dask scheduler, e.g. tcp://host:8786")]
Report = Annotated[bool, typer.Option(help="write report.html")]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


class _ProgressBar:
    """A rich progress bar: replications done / total, running, left, elapsed and ETA."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.task = None

    def __call__(self, event: str, c: dict[str, int]) -> None:
        fields = {"running": c["running"], "left": c["left"]}
        if self.task is None:
            desc = "replications" + (f" ({c['stored']} already stored)" if c["stored"] else "")
            self.task = self.progress.add_task(desc, total=c["total"], completed=c["done"], **fields)
        else:
            self.progress.update(self.task, completed=c["done"], **fields)


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("done · {task.fields[running]} running · {task.fields[left]} left"),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=err)


def _check_years(years: float | None) -> None:
    if years is not None and not 0 < years <= 1000:
        _fail(f"--years {years}: expected a number of years in (0, 1000]")


def _execute(variants, replications: int, out: Path, seed: int, workers: int, scheduler: str | None,
             report: bool, title: str):
    from callao.experiments.executors import make_executor
    from callao.experiments.experiment import run_experiment
    from callao.experiments.replications import ExperimentError, ReplicationsFailed

    where = (f"Dask scheduler {scheduler}" if scheduler else
             f"{workers} local Dask workers" if workers > 1 else "this process")
    err.print(escape(f"{len(variants)} scenario(s) × {replications} replication(s) on {where} → {out}/"),
              highlight=False)
    started = time.perf_counter()
    try:
        with make_executor(workers, scheduler) as executor, _progress() as bar:
            exp = run_experiment(variants, replications, out, seed=seed, executor=executor,
                                 progress=_ProgressBar(bar), report=report, title=title)
    except ReplicationsFailed as e:
        _fail(str(e), code=1)
    except ExperimentError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail(f"interrupted; finished replications are stored in {out}/replications and are "
              "reused when you run the same command again", code=130)
    err.print(f"done in {time.perf_counter() - started:.1f} s", highlight=False)
    return exp


def _print_table(table, base: str, title: str) -> None:
    from callao.report.comparison import fmt, headline_kpis, label

    t = Table(title=escape(f"{title}; base: {base}"), title_justify="left")
    for col, just in (("KPI", "left"), ("scenario", "left"), ("mean [95% CI]", "right"),
                      ("diff vs base [95% CI]", "right"), ("sig", "center")):
        t.add_column(col, justify=just, overflow="fold")
    for kpi in headline_kpis(table["kpi"]):
        rows = table[table["kpi"] == kpi]
        for i, r in enumerate(rows.itertuples(index=False)):
            diff = "" if r.scenario == base else f"{fmt(r.diff)} [{fmt(r.diff_ci_low)}, {fmt(r.diff_ci_high)}]"
            mean = f"{fmt(r.mean)} [{fmt(r.ci_low)}, {fmt(r.ci_high)}]"
            t.add_row(label(kpi) if i == 0 else "", escape(r.scenario), escape(mean), escape(diff),
                      "[bold red]*[/]" if r.significant else "", end_section=i == len(rows) - 1)
    console.print(t)
    console.print("* the 95% CI of the difference (paired by replication) excludes 0")


def compare_cmd(
    base: Annotated[str, typer.Argument(help="base scenario: bundled name or TOML file")],
    alternatives: Annotated[list[str], typer.Argument(help="scenarios compared with the base")],
    replications: Replications = 10,
    out: Annotated[Path, typer.Option(help="output folder (re-running resumes)")] = Path("out/compare"),
    years: Years = None,
    seed: Seed = 0,
    workers: Workers = 1,
    scheduler: Scheduler = None,
    report: Report = True,
) -> None:
    """Compare scenarios over replications with common random numbers: means with 95% CIs and
    differences from BASE. Writes OUT/comparison.csv and OUT/report.html; re-running the same
    command computes only the replications not yet stored."""
    from callao.experiments.replications import variant
    from callao.scenario import ScenarioError

    _check_years(years)
    names = [base, *alternatives]
    try:
        variants = [variant(n, years=years) for n in names]
    except ScenarioError as e:
        _fail(str(e))
    exp = _execute(variants, replications, out, seed, workers, scheduler, report,
                   title=f"callao compare: {' vs '.join(v.name for v in variants)}")
    _print_table(exp.table, variants[0].name, f"Headline KPIs, {replications} replications")
    files = ["comparison.csv", *(["report.html"] if report else []), "replications/"]
    console.print(f"Results in [bold]{escape(str(out))}/[/]: {', '.join(files)}")


def sweep_cmd(
    scenario: Annotated[str, typer.Argument(help="scenario to vary: bundled name or TOML file")],
    vary: Annotated[Optional[list[str]], typer.Option(
        "--vary", help="PATH=V1,V2,... e.g. customs.scanners=3,6,9 or terminals.apmt.cranes=8,10; "
                       "repeat for a cartesian product")] = None,
    replications: Replications = 10,
    out: Annotated[Path, typer.Option(help="output folder (re-running resumes)")] = Path("out/sweep"),
    years: Years = None,
    seed: Seed = 0,
    workers: Workers = 1,
    scheduler: Scheduler = None,
    report: Report = True,
) -> None:
    """Sweep scenario parameters: each combination of --vary values is a scenario, compared with the
    first. Writes OUT/comparison.csv, OUT/sweep.csv and OUT/report.html; re-running resumes."""
    from callao.experiments.experiment import write_sweep_csv
    from callao.experiments.sweep import SweepError, parse_vary, sweep_variants

    _check_years(years)
    try:
        varies = [parse_vary(v) for v in vary or []]
        variants = sweep_variants(scenario, varies, years=years)
    except SweepError as e:
        _fail(str(e))
    exp = _execute(variants, replications, out, seed, workers, scheduler, report,
                   title=f"callao sweep: {variants[0].name.split('[', 1)[0]}, "
                         + " × ".join(f"{v.path} ∈ {{{', '.join(v.texts)}}}" for v in varies))
    write_sweep_csv(exp.table, out / "sweep.csv")
    _print_table(exp.table, variants[0].name, f"Headline KPIs, {len(variants)} points × {replications} replications")
    files = ["comparison.csv", "sweep.csv", *(["report.html"] if report else []), "replications/"]
    console.print(f"Results in [bold]{escape(str(out))}/[/]: {', '.join(files)}")


def register(app: typer.Typer) -> None:
    """Add ``compare`` and ``sweep`` to the ``callao`` command line."""
    app.command("compare")(compare_cmd)
    app.command("sweep")(sweep_cmd)
