"""``callao serve`` on the command line."""

from __future__ import annotations

import socket

import typer
from typer.testing import CliRunner

from callao.web.cli import register


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def other() -> None:  # a second command, so that typer keeps "serve" as a subcommand
        pass

    register(app)
    return app


def test_serve_is_registered_with_its_options():
    result = CliRunner().invoke(_app(), ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--host", "--results", "--max-years"):
        assert option in result.output
    assert "127.0.0.1" in result.output


def test_bad_options_are_clear_errors(tmp_path):
    runner = CliRunner()
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    result = runner.invoke(_app(), ["serve", "--results", str(afile)])
    assert result.exit_code == 2 and "not a folder" in result.output
    assert runner.invoke(_app(), ["serve", "--max-years", "9"]).exit_code == 2
    assert runner.invoke(_app(), ["serve", "--port", "0"]).exit_code == 2


def test_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        result = CliRunner().invoke(_app(), ["serve", "--port", str(port), "--results", str(tmp_path)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
