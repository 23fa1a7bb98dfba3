"""The command line as a user meets it: run, scenario show/validate, queue-check, clear errors."""

import json

from typer.testing import CliRunner

from callao.cli import app

runner = CliRunner()


def test_run_writes_results_and_prints_tables(tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", "--years", "0.03", "--seed", "3", "--out", str(out), "--no-report"])
    assert res.exit_code == 0, res.output
    kpis = json.loads((out / "kpis.json").read_text())
    for key in ("teu_total", "containers_total", "vessel_calls_total", "anchorage_wait_mean_h",
                "berth_occupancy_dpworld", "berth_occupancy_apmt", "yard_dwell_import_mean_d",
                "civil_military_encounters", "closure_hours"):
        assert isinstance(kpis[key], (int, float)), key
    assert (out / "containers.parquet").stat().st_size > 0 and (out / "vessels.parquet").exists()
    assert "Headline KPIs" in res.output and "Model vs published" in res.output
    assert not list(out.glob(".*.tmp"))


def test_scenario_show_and_validate(tmp_path):
    res = runner.invoke(app, ["scenario", "show", "callao"])
    assert res.exit_code == 0 and '"quay_length_m": 1050.0' in res.output
    res = runner.invoke(app, ["scenario", "validate", "queue-mm3"])
    assert res.exit_code == 0 and "ok" in res.output
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "callao"\n[[terminals]]\nname = "dpworld"\ncranes = -2\n')
    res = runner.invoke(app, ["scenario", "validate", str(bad)])
    assert res.exit_code == 2
    assert "terminals[0] (dpworld).cranes = -2" in res.output and "Traceback" not in res.output


def test_bad_inputs_give_one_clear_error():
    res = runner.invoke(app, ["run", "no-such-scenario"])
    assert res.exit_code == 2 and "not found" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["run", "--years", "-1"])
    assert res.exit_code == 2 and "--years" in res.output


def test_queue_check_command():
    res = runner.invoke(app, ["queue-check", "queue-mm3", "--replications", "3"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "M/M/3" in res.output and "Erlang C" in res.output and "Little's law" in res.output
    res = runner.invoke(app, ["queue-check", "callao", "--replications", "2"])
    assert res.exit_code == 2 and "not a pure queue" in res.output


def test_console_command_exits_fast_after_run_and_loses_nothing(tmp_path):
    """The installed `callao` command skips the interpreter's teardown after a finished run; every
    file is in place, the output is complete (piped), and failures still exit with their code."""
    import subprocess
    import sys

    out = tmp_path / "run"
    code = ("import atexit, sys; from callao.cli import app\n"
            "atexit.register(print, 'teardown', file=sys.stderr)\nsys.exit(app())")
    res = subprocess.run([sys.executable, "-c", code, "run", "--years", "0.02", "--out", str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "teardown" not in res.stderr  # left without the interpreter's teardown
    assert res.stdout.rstrip().endswith("vessels.parquet") and "Headline KPIs" in res.stdout
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["containers_total"] > 0
    assert (out / "report.html").read_text().rstrip().endswith("</html>")
    assert not list(out.glob(".*.tmp"))
    res = subprocess.run([sys.executable, "-c", code, "run", "--years", "-1"], capture_output=True, text=True)
    assert res.returncode == 2 and "--years" in res.stderr and "teardown" in res.stderr
