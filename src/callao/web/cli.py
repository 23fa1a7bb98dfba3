"""``callao serve``: the web dashboard over a results folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the top-level ``serve`` command to the ``callao`` CLI."""

    @app.command()
    def serve(
        port: Annotated[int, typer.Option(help="TCP port", min=1, max=65535)] = 8050,
        host: Annotated[str, typer.Option(help="address to bind (default: this machine only)")] = "127.0.0.1",
        results: Annotated[Path, typer.Option(help="results folder: runs (kpis.json) and comparisons "
                                                   "(comparison.csv) in it and its subfolders, 2 levels deep")] = Path("out"),
        max_years: Annotated[float, typer.Option(help="longest run that can be started from the page, years",
                                                 min=0.001, max=5.0)] = 1.0,
    ) -> None:
        """Serve the dashboard: map of the bay, KPIs, comparisons, runs started from the page."""
        if results.exists() and not results.is_dir():
            _fail(f"--results {results}: not a folder")
        try:
            results.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            _fail(f"--results {results}: cannot create the folder ({e.strerror or e})")
        from callao.web.app import create_app

        dash_app = create_app(results, max_years=max_years)
        typer.echo(f"callao dashboard on http://{host}:{port}/  (results: {results.resolve()}; Ctrl+C to stop)")
        try:
            dash_app.run(host=host, port=port, debug=False)
        except OSError as e:  # port in use, address not available
            _fail(f"cannot serve on {host}:{port}: {e.strerror or e}")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
