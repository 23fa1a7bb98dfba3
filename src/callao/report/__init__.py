"""The HTML report of one run: :func:`write_report` writes a single self-contained page."""

from callao.report.html import render, write_report

__all__ = ["render", "write_report"]
