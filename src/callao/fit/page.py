"""One self-contained HTML page (plotly.js embedded once, no network needed) for the calibration
and forecast reports, in the run report's style."""

from __future__ import annotations

from html import escape
from pathlib import Path

from plotly.offline import get_plotlyjs

from callao.report.html import CSS, PLOT_CONFIG
from callao.results import atomic_write


def write_page(path: str | Path, title: str, blocks: list) -> Path:
    """Write ``blocks`` (HTML strings or plotly figures) as one page at ``path``, atomically."""
    parts = []
    for b in blocks:
        if isinstance(b, str):
            parts.append(b)
        else:
            parts.append("<section>" + b.to_html(full_html=False, include_plotlyjs=False, config=PLOT_CONFIG) + "</section>")
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{CSS}</style><script>{get_plotlyjs()}</script></head><body><main>"
            f"<header><h1>{escape(title)}</h1></header>{''.join(parts)}</main></body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: p.write_text(page, encoding="utf-8"))
    return path
