"""``callao serve``: the web dashboard over a results folder."""

from __future__ import annotations

import secrets
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
                                                 min=0.003, max=5.0)] = 1.0,
        max_disk_gb: Annotated[float, typer.Option(help="refuse runs from the page once the results folder "
                                                        "holds this many GB", min=0.01)] = 5.0,
        insecure: Annotated[bool, typer.Option(help="serve a non-loopback address WITHOUT an access token "
                                                    "(anyone who can reach it can start runs)")] = False,
    ) -> None:
        """Serve the dashboard: map of the bay, KPIs, comparisons, runs started from the page.

        On a non-loopback --host every request needs an access token, printed once at start
        (open the link it prints), unless --insecure."""
        if results.exists() and not results.is_dir():
            _fail(f"--results {results}: not a folder")
        try:
            results.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            _fail(f"--results {results}: cannot create the folder ({e.strerror or e})")
        from callao.web.app import create_app
        from callao.web.guard import LOOPBACK_NAMES

        hosts, token = access(host, insecure)
        wildcard = host in WILDCARDS
        if token is None and host.lower() not in LOOPBACK_NAMES:
            typer.echo(f"WARNING: serving {host} without an access token (--insecure): anyone who can reach "
                       "this address can read the results and start runs.", err=True)
        dash_app = create_app(results, max_years=max_years, hosts=hosts, token=token, max_disk_gb=max_disk_gb)
        shown = "localhost" if wildcard else (f"[{host}]" if ":" in host else host)
        link = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
        typer.echo(f"callao dashboard on {link}  (results: {results.resolve()}; Ctrl+C to stop)")
        if token:
            typer.echo("Access token (shown once; open the link above, or send 'Authorization: Bearer "
                       f"<token>'): {token}")
        try:
            dash_app.run(host=host, port=port, debug=False)
        except OSError as e:  # port in use, address not available
            _fail(f"cannot serve on {host}:{port}: {e.strerror or e}")


WILDCARDS = ("0.0.0.0", "::", "")


def access(host: str, insecure: bool = False) -> tuple[set[str] | None, str | None]:
    """(host names accepted in ``Host``, access token) for a server bound to ``host``: loopback
    needs no token; any other address gets a fresh token unless ``insecure``. A wildcard address
    accepts any ``Host`` (the token protects it); a named one, that name and the loopback names."""
    from callao.web.guard import LOOPBACK_NAMES  # here: flask is slow to import for other commands

    if host.lower() in LOOPBACK_NAMES:
        return set(LOOPBACK_NAMES), None
    hosts = None if host in WILDCARDS else set(LOOPBACK_NAMES) | {host.lower().strip("[]")}
    return hosts, None if insecure else secrets.token_urlsafe(24)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
