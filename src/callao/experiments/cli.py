"""``callao compare`` and ``callao sweep``: replications, 95% CIs, differences, Dask scale-out."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.text import Text

console = Console()
err = Console(stderr=True)  # wraps at the terminal width (80 columns fit)

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
    """A rich progress bar: replications done / total, running, elapsed and ETA."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.task = None

    def __call__(self, event: str, c: dict[str, int]) -> None:
        if self.task is None:
            if c["stored"]:
                err.print(f"{c['stored']} of {c['total']} replications already stored, reused", highlight=False)
            self.task = self.progress.add_task("replications", total=c["total"], completed=c["done"],
                                               running=c["running"])
        else:
            self.progress.update(self.task, completed=c["done"], running=c["running"])


def _progress() -> Progress:
    """Fits 80 columns: the bar takes what the counts and times leave."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(bar_width=None), MofNCompleteColumn(),
                    TextColumn("· {task.fields[running]} running"), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=err, expand=True)


def _check_years(years: float | None) -> None:
    if years is not None and not 0 < years <= 1000:
        _fail(f"--years {years}: expected a number of years in (0, 1000]")


def _execute(variants, replications: int, out: Path, seed: int, workers: int, scheduler: str | None,
             report: bool, title: str, kind: str, force: bool):
    from callao.experiments.executors import make_executor
    from callao.experiments.experiment import claim_folder, run_experiment
    from callao.experiments.replications import ExperimentError, ReplicationsFailed

    where = (f"Dask scheduler {scheduler}" if scheduler else
             f"{workers} local Dask workers" if workers > 1 else "this process")
    try:
        claim_folder(out, kind, variants, seed, force)
    except ExperimentError as e:
        _fail(str(e))
    err.print(escape(f"{len(variants)} scenario(s) × {replications} replication(s) on {where}"), highlight=False)
    err.print(escape(f"→ {out}/"), highlight=False)
    started = time.perf_counter()
    try:
        with make_executor(workers, scheduler) as executor, _progress() as bar:
            exp = run_experiment(variants, replications, out, seed=seed, executor=executor,
                                 progress=_ProgressBar(bar), report=report, title=title, kind=kind, force=True)
    except ReplicationsFailed as e:
        _fail(str(e), code=1)
    except ExperimentError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail(f"interrupted; finished replications are stored in {out}/replications and are "
              "reused when you run the same command again", code=130)
    err.print(f"done in {time.perf_counter() - started:.1f} s", highlight=False)
    return exp


NAME_WIDTH = 24
"""Scenario names longer than this are shown as #0, #1, ... with a legend above the table."""


def _pm(x: float, lo: float, hi: float) -> str:
    """``mean ± half-width`` of a symmetric 95% CI (or the mean alone when there is no CI)."""
    from callao.report.comparison import fmt

    if not (math.isfinite(lo) and math.isfinite(hi)):
        return fmt(x)
    return f"{fmt(x)} ± {fmt((hi - lo) / 2)}"


def _print_table(table, base: str, title: str, out: Path) -> None:
    """The headline KPIs in at most 80 columns: a line per KPI, then one line per scenario with its
    mean ± 95% CI, its difference from the base ± 95% CI and the mark (``*`` or ``~``)."""
    from callao.report.comparison import headline_kpis, label, marks

    names = list(dict.fromkeys(table["scenario"]))
    short = {n: n for n in names}
    if max(map(len, names)) > NAME_WIDTH:
        short = {n: f"#{i}" for i, n in enumerate(names)}
        console.print("Scenarios:")
        for n in names:
            console.print(Text(f"  {short[n]} = {n}" + ("  (base)" if n == base else "")))
    blocks = []
    for kpi in headline_kpis(table["kpi"]):
        rows = table[table["kpi"] == kpi]
        lines = [("  " + short[r.scenario], _pm(r.mean, r.ci_low, r.ci_high),
                  "" if r.scenario == base else _pm(r.diff, r.diff_ci_low, r.diff_ci_high), m)
                 for r, m in zip(rows.itertuples(index=False), marks(rows))]
        blocks.append((label(kpi), lines))
    heads = ("", "mean ± 95% CI", "diff vs base ± 95% CI")
    every = [line for _, lines in blocks for line in lines]
    widths = [max([len(heads[i]), *(len(line[i]) for line in every)]) for i in range(3)]
    console.print(Text(f"{title}; base: {short[base]}", style="bold"))
    console.print(Text(f"{'':<{widths[0]}}  {heads[1]:>{widths[1]}}  {heads[2]:>{widths[2]}}", style="dim"))
    style = {"*": "bold red", "~": "yellow"}
    for name, lines in blocks:
        console.print(Text(name, style="bold"))
        for scenario, mean, diff, m in lines:
            text = Text(f"{scenario:<{widths[0]}}  {mean:>{widths[1]}}  {diff:>{widths[2]}}".rstrip())
            if m:
                text.append(f" {m}", style=style.get(m, ""))
            console.print(text)
    console.print(Text("* the 95% CI of the difference (paired by replication) excludes 0 and the difference "
                       "is at least the KPI's practical threshold; ~ it excludes 0 but the difference is "
                       "smaller (docs/experiments.md)"))
    console.print(Text(f"Every KPI: {out}/comparison.csv"))


_FORCE = Annotated[bool, typer.Option("--force", help="write into an OUT folder that holds another "
                                                         "experiment (its table and report are replaced)")]
_COMPARE_EPILOG = """Examples:

  callao compare baseline naval-relocation -r 10

  callao compare baseline demand-2030 -r 20 --years 0.5 --workers 2

  callao compare my-port.toml my-port-more-cranes.toml --out out/cranes"""


def compare_cmd(
    base: Annotated[str, typer.Argument(help="base scenario: bundled name or TOML file")],
    alternatives: Annotated[list[str], typer.Argument(help="scenarios compared with the base")],
    replications: Replications = 10,
    out: Annotated[Optional[Path], typer.Option(
        help="output folder (default: in out/, named after the scenarios); running the same command again "
             "resumes",
        show_default=False)] = None,
    years: Years = None,
    seed: Seed = 0,
    workers: Workers = 1,
    scheduler: Scheduler = None,
    report: Report = True,
    force: _FORCE = False,
) -> None:
    """Compare scenarios over replications with common random numbers: means with 95% CIs and
    differences from BASE. Writes OUT/comparison.csv and OUT/report.html; re-running the same
    command computes only the replications not yet stored."""
    from callao.experiments.experiment import folder_name
    from callao.experiments.replications import variant
    from callao.scenario import ScenarioError

    _check_years(years)
    names = [base, *alternatives]
    try:
        variants = [variant(n, years=years) for n in names]
    except ScenarioError as e:
        _fail(str(e))
    out = out or Path("out") / folder_name("compare", [v.name for v in variants])
    exp = _execute(variants, replications, out, seed, workers, scheduler, report,
                   title=f"callao compare: {' vs '.join(v.name for v in variants)}", kind="compare", force=force)
    _print_table(exp.table, variants[0].name, f"Headline KPIs, {replications} replications", out)
    files = ["comparison.csv", *(["report.html"] if report else []), "replications/"]
    console.print(Text(f"Results in {out}/: {', '.join(files)}"))


_SWEEP_EPILOG = """Examples:

  callao sweep callao --vary customs.scanners=3,6,9

  callao sweep callao --vary terminals.apmt.cranes=8,10,12 \\
      --vary simulation.demand_factor=1.0,1.2

  callao sweep callao -r 20 --vary \\
      'customs.exam_h={dist="constant",value=12},{dist="constant",value=24}'

PATH is dotted into the resolved scenario (callao scenario show NAME): named items by name (terminals.apmt.cranes), other arrays by index (gate.hourly_profile.7). Values are TOML literals. See docs/experiments.md."""


def sweep_cmd(
    scenario: Annotated[str, typer.Argument(help="scenario to vary: bundled name or TOML file")],
    vary: Annotated[Optional[list[str]], typer.Option(
        "--vary", help="PATH=V1,V2,... a parameter and its values (examples below); repeat it for a "
                       "cartesian product", show_default=False)] = None,
    replications: Replications = 10,
    out: Annotated[Optional[Path], typer.Option(
        help="output folder (default: in out/, named after the scenario and the --vary values); running "
             "the same command again resumes", show_default=False)] = None,
    years: Years = None,
    seed: Seed = 0,
    workers: Workers = 1,
    scheduler: Scheduler = None,
    report: Report = True,
    force: _FORCE = False,
) -> None:
    """Sweep scenario parameters: each combination of --vary values is a scenario, compared with the
    first. Writes OUT/comparison.csv, OUT/sweep.csv and OUT/report.html; re-running resumes."""
    from callao.experiments.experiment import folder_name, write_sweep_csv
    from callao.experiments.sweep import SweepError, parse_vary, sweep_variants

    _check_years(years)
    try:
        varies = [parse_vary(v) for v in vary or []]
        variants = sweep_variants(scenario, varies, years=years)
    except SweepError as e:
        _fail(str(e))
    base_name = variants[0].name.split("[", 1)[0]
    out = out or Path("out") / folder_name("sweep", [base_name, *(f"{v.path}-{'-'.join(v.texts)}" for v in varies)])
    exp = _execute(variants, replications, out, seed, workers, scheduler, report,
                   title=f"callao sweep: {base_name}, "
                         + " × ".join(f"{v.path} ∈ {{{', '.join(v.texts)}}}" for v in varies),
                   kind="sweep", force=force)
    write_sweep_csv(exp.table, out / "sweep.csv")
    _print_table(exp.table, variants[0].name, f"Headline KPIs, {len(variants)} points × {replications} replications",
                 out)
    files = ["comparison.csv", "sweep.csv", *(["report.html"] if report else []), "replications/"]
    console.print(Text(f"Results in {out}/: {', '.join(files)}"))


def register(app: typer.Typer) -> None:
    """Add ``compare`` and ``sweep`` to the ``callao`` command line."""
    app.command("compare", epilog=_COMPARE_EPILOG)(compare_cmd)
    app.command("sweep", epilog=_SWEEP_EPILOG)(sweep_cmd)
