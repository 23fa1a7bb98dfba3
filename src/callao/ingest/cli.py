"""``callao calls detect`` and ``callao calls export``: AIS in, AIS out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Port calls from AIS: detect calls in AIS files, export a simulated run as AIS.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


def _geofences(path: Optional[Path]):
    from callao.ingest.geofences import GeofenceError, Geofences

    try:
        return Geofences.load(path)
    except GeofenceError as e:
        _fail(str(e))


@app.command()
def detect(
    files: Annotated[list[Path], typer.Argument(help="AIS files: NMEA, MarineCadastre or DMA CSV (gzip allowed)")],
    out: Annotated[Path, typer.Option(help="output folder for calls.parquet and quarantine.csv")] = Path("calls"),
    geofences: Annotated[Optional[Path], typer.Option(help="GeoJSON with anchorage, channel and quay features "
                                                           "(default: the bundled Callao and Chancay bay)")] = None,
    berth_sog_kn: Annotated[float, typer.Option(help="at berth below this speed over ground, knots")] = 0.5,
    all_types: Annotated[bool, typer.Option("--all-types", help="keep ships of every AIS type, not only cargo")] = False,
    chunk_rows: Annotated[int, typer.Option(min=1000, help="lines read at a time (memory bound)")] = 250_000,
) -> None:
    """Detect port calls in AIS files: write OUT/calls.parquet and OUT/quarantine.csv."""
    from callao.ingest.detect import DetectOptions, detect_calls
    from callao.ingest.readers import AISFormatError

    geo = _geofences(geofences)
    options = DetectOptions(berth_sog_kn=berth_sog_kn, cargo_only=not all_types)
    try:
        with console.status("reading AIS...") as status:
            calls, s = detect_calls(files, out, geo, options, chunk_rows=chunk_rows,
                                    progress=lambda f, n: status.update(f"reading {Path(f).name}: {n:,} messages"))
    except AISFormatError as e:
        _fail(str(e))
    console.print(f"AIS read in {s.seconds:.1f} s ({s.cpu_seconds:.1f} s of CPU, "
                  f"{s.messages / max(s.cpu_seconds, 1e-9):,.0f} messages per CPU second)")
    table = Table(title="AIS read", title_justify="left")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("files", f"{len(s.files)}")
    table.add_row("messages read", f"{s.messages:,}")
    table.add_row("positions kept", f"{s.positions_kept:,}")
    table.add_row("ships seen in port zones", f"{s.ships:,}")
    if s.other_type_ships:
        table.add_row("  of them not cargo (skipped)", f"{s.other_type_ships:,}")
    if s.passages:
        table.add_row("passages without a call", f"{s.passages:,}")
    table.add_row("calls found", f"{s.calls:,}")
    table.add_row("  berthed", f"{s.calls_berthed:,}")
    table.add_row("  left without berthing", f"{s.calls - s.calls_berthed:,}")
    table.add_row("refused (quarantine.csv)", f"{s.refused_total:,}")
    for reason, n in sorted(s.refused.items(), key=lambda kv: -kv[1]):
        table.add_row(f"  {reason}", f"{n:,}")
    console.print(table)
    if len(calls):
        by = calls.dropna(subset=["terminal"]).groupby("terminal").agg(
            calls=("mmsi", "size"), wait_h=("anchorage_wait_h", "mean"),
            berth_h=("t_berth", lambda c: ((calls.loc[c.index, "t_unberth"] - c).dt.total_seconds() / 3600).mean()))
        t = Table(title="Calls by terminal", title_justify="left")
        for c in ("terminal", "calls", "mean anchorage wait (h)", "mean time at berth (h)"):
            t.add_column(c, justify="left" if c == "terminal" else "right")
        for name, r in by.iterrows():
            t.add_row(str(name), f"{int(r.calls):,}", f"{r.wait_h:.1f}", f"{r.berth_h:.1f}")
        console.print(t)
        first, last = calls["t_arrival"].min(), calls["t_arrival"].max()
        console.print(f"arrivals from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC")
    console.print(f"wrote {out / 'calls.parquet'} and {out / 'quarantine.csv'}")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="a run folder written by `callao run` (vessels.parquet, scenario.json)")],
    format: Annotated[str, typer.Option("--format", help="nmea or marinecadastre")] = "nmea",
    out: Annotated[Path, typer.Option(help="output file (.gz to compress)")] = Path("ais.nmea"),
    interval_min: Annotated[float, typer.Option(help="minutes between position reports of a ship")] = 3.0,
    geofences: Annotated[Optional[Path], typer.Option(help="GeoJSON of the bay (default: bundled)")] = None,
) -> None:
    """Write a simulated run as AIS: every call's track anchorage → channel → berth → out."""
    from callao.ingest.export import export_run

    if format not in ("nmea", "marinecadastre"):
        _fail(f"--format {format!r}: expected nmea or marinecadastre")
    if not 0 < interval_min <= 60:
        _fail(f"--interval-min {interval_min}: expected minutes in (0, 60]")
    geo = _geofences(geofences)
    try:
        with console.status(f"writing {out}..."):
            calls, lines = export_run(run_dir, format, out, interval_s=interval_min * 60, geofences=geo)
    except (ValueError, KeyError) as e:
        _fail(str(e))
    unit = "sentences" if format == "nmea" else "rows"
    console.print(f"wrote {out}: {calls:,} calls as {lines:,} {unit} ({format}, a position every "
                  f"{interval_min:g} min)")
