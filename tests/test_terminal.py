"""The command line at 80 columns, as a user on a default terminal sees it: no line wider than the
terminal, no number cut short, no scenario name split; help texts describe every option, show their
examples whole and contain no raw markup; ``callao --version``."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

import callao
from callao.cli import app

WIDTH = 80
MINE = ("run", "export", "compare", "sweep", "scenario", "queue-check")
"""Commands whose help this suite holds to the rules (others are tested with their packages)."""


def cli(*args: str, width: int = WIDTH, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``callao ARGS`` in a fresh process whose terminal is ``width`` columns wide."""
    env = {**os.environ, "COLUMNS": str(width), "LINES": "50"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-c", "from callao.cli import app; app()", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def assert_fits(text: str, width: int = WIDTH) -> None:
    wide = [line for line in text.splitlines() if len(line) > width]
    assert not wide, f"{len(wide)} line(s) wider than {width}:\n" + "\n".join(wide)
    assert "…" not in text, text


@pytest.fixture(scope="module")
def run_80(tmp_path_factory):
    """``callao run`` in a real process on an 80-column terminal."""
    out = tmp_path_factory.mktemp("run80") / "out"
    res = cli("run", "--years", "0.02", "--seed", "2", "--out", str(out), "--no-report")
    assert res.returncode == 0, res.stderr
    return res, out


@pytest.fixture
def terminal(monkeypatch):
    """Make the commands' consoles ``width`` columns wide, in this process."""
    import callao.cli as main
    import callao.experiments.cli as experiments

    def set_width(width: int) -> None:
        for module in (main, experiments):
            monkeypatch.setattr(module, "console", Console(width=width))
            monkeypatch.setattr(module, "err", Console(width=width, stderr=True))

    return set_width


def test_run_output_fits_80_columns_with_whole_numbers(run_80):
    res, out = run_80
    assert_fits(res.stdout)
    assert_fits(res.stderr)
    kpis = json.loads((out / "kpis.json").read_text())
    text = res.stdout
    # the calibration table shows every model figure whole, on one line with its published value
    assert f"{kpis['teu_total']:,.0f} TEU" in text and "Headline KPIs" in text
    # totals of this 0.02-year run are scaled to a year to compare with the annual published figures
    assert re.search(rf"{kpis['teu_total'] / 0.02:,.0f} +3,100,000", text)
    assert re.search(rf"{kpis['teu_dpworld'] / 0.02:,.0f} +1,960,000", text)
    assert "scaled to a year" in text
    assert "docs/sources.md" in text and "R23" in text
    calibration = text.split("Model vs published", 1)[1].split("Results in", 1)[0]
    from callao.calibration import CALLAO_TARGETS

    # compact: a title, a header and at most three lines a figure, not columns folded into many lines
    assert len(calibration.splitlines()) <= 6 + 3 * len(CALLAO_TARGETS)
    assert "done" in res.stderr and "100%" in res.stderr  # the progress bar, whole


def test_a_wide_terminal_keeps_one_line_per_row(run_80, terminal):
    terminal(160)
    _, out = run_80
    from callao.cli import _calibration, console
    from callao.calibration import calibration_table

    rows = calibration_table(json.loads((out / "kpis.json").read_text()))
    with console.capture() as cap:
        console.print(_calibration(rows))
    lines = [line for line in cap.get().splitlines() if "Container throughput 2024" in line]
    assert len(lines) == 1 and "3,100,000" in lines[0] and "R23" in lines[0]


def test_compare_output_fits_80_columns_and_keeps_scenario_names_whole(tmp_path, terminal):
    terminal(WIDTH)
    out = tmp_path / "cmp"
    res = CliRunner().invoke(app, ["compare", "baseline", "naval-relocation", "-r", "2", "--years", "0.02",
                                   "--out", str(out), "--no-report"])
    assert res.exit_code == 0, res.output
    assert_fits(res.output)
    assert any(line.startswith("  naval-relocation ") for line in res.output.splitlines())
    assert "±" in res.output and "Anchorage wait (mean), h" in res.output
    assert f"Every KPI: {out}/comparison.csv" in res.output.replace("\n", "")  # a long path folds
    assert "replications" in res.output and "2 scenario(s)" in res.output


def test_sweep_names_long_points_by_number_with_a_legend(tmp_path, terminal):
    terminal(WIDTH)
    res = CliRunner().invoke(app, ["sweep", "baseline", "--vary", "customs.scanners=3,6", "-r", "2",
                                   "--years", "0.02", "--out", str(tmp_path / "sw"), "--no-report"])
    assert res.exit_code == 0, res.output
    assert_fits(res.output)
    assert "#0 = baseline[customs.scanners=3]  (base)" in res.output
    assert "#1 = baseline[customs.scanners=6]" in res.output
    assert re.search(r"^  #1 ", res.output, flags=re.M) and "base: #0" in res.output


def test_scenario_list_wraps_descriptions_beside_whole_names(terminal):
    terminal(WIDTH)
    res = CliRunner().invoke(app, ["scenario", "list"])
    assert res.exit_code == 0, res.output
    assert_fits(res.output)
    assert re.search(r"^naval-relocation +Naval base relocated", res.output, flags=re.M)
    assert re.search(r"^ {10,}\S", res.output, flags=re.M)  # a long description continues indented


@pytest.mark.parametrize("command", [[], ["run"], ["compare"], ["sweep"], ["export"], ["scenario"],
                                     ["scenario", "show"], ["scenario", "validate"], ["queue-check"]])
def test_help_fits_80_columns(command):
    res = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": str(WIDTH)})
    assert res.exit_code == 0, res.output
    assert "Usage" in res.output
    assert_fits(res.output)
    assert "`" not in res.output


def test_sweep_help_shows_its_examples_whole():
    help_of = lambda cmd: CliRunner().invoke(app, [cmd, "--help"], env={"COLUMNS": str(WIDTH)}).output
    text = help_of("sweep")
    assert "callao sweep callao --vary customs.scanners=3,6,9" in text
    assert "'customs.exam_h={dist=\"constant\",value=12},{dist=\"constant\",value=24}'" in text
    assert "callao compare baseline naval-relocation -r 10" in help_of("compare")
    assert "callao export out --format xlsx" in help_of("export")


def _commands(group: click.Group, prefix=()):
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name), cmd


def test_every_option_and_argument_is_described_without_raw_backticks():
    root = typer.main.get_command(app)
    assert {"run", "export", "compare", "sweep", "queue-check", "scenario"} <= set(root.commands)
    for path, cmd in _commands(root):
        if path[0] not in MINE:
            continue
        assert cmd.help and "`" not in cmd.help, path
        assert "`" not in (cmd.epilog or ""), path
        for p in cmd.params:
            if p.name == "help":
                continue
            assert getattr(p, "help", None), f"{' '.join(path)}: {p.name} has no help"
            assert "`" not in p.help, f"{' '.join(path)}: {p.name}"


def test_version():
    from importlib.metadata import version

    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"callao {version('callao')}" and callao.__version__ in res.output
