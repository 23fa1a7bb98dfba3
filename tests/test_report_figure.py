"""The report's figures are plain plotly data built without plotly's validation: they must be
exactly what plotly's own objects give (same layout of subplots, lines, bands), and valid."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots

import callao
from callao.report.figure import Figure, bar, encoded, scatter, template, typed_array
from callao.report.plots import sections

GRIDS = [  # every grid the report draws, and a few more
    dict(rows=1, cols=2, column_widths=[0.45, 0.55], horizontal_spacing=0.08, subplot_titles=("a", "b")),
    dict(rows=1, cols=5, shared_yaxes=False, horizontal_spacing=0.04, subplot_titles=list("abcde")),
    dict(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=("a", "b")),
    dict(rows=2, cols=1, shared_xaxes=True, row_heights=[0.35, 0.65], vertical_spacing=0.08),
    dict(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[1050.0, 800.0], subplot_titles=["a", "b"]),
    dict(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[1, 2, 3], subplot_titles=["a", "", "c"]),
    dict(rows=2, cols=3),
    dict(rows=3, cols=2, subplot_titles=list("abcdef")),
]


def _plain(fig) -> dict:
    """plotly's own dict of a figure, through JSON (numbers as JSON writes them)."""
    return json.loads(pio.to_json(fig, validate=False))


@pytest.mark.parametrize("kwargs", GRIDS)
def test_grid_is_laid_out_as_make_subplots(kwargs):
    theirs = _plain(make_subplots(**kwargs))["layout"]
    theirs.pop("template")
    assert _plain(Figure.grid(**kwargs).to_dict())["layout"] == theirs


def test_traces_lines_bands_and_axes_as_plotly_builds_them():
    x, y = np.arange(30), np.linspace(0.0, 1.0, 30)
    theirs = make_subplots(rows=1, cols=2, subplot_titles=("left", "right"))
    ours = Figure.grid(rows=1, cols=2, subplot_titles=("left", "right"))
    for fig, b, s in ((theirs, go.Bar, go.Scatter), (ours, bar, scatter)):
        fig.add_trace(b(x=x, y=y * 3, marker_color="#123456", name="bars", width=np.diff(np.r_[x, 30]),
                        hovertemplate="%{x}: %{y}<extra></extra>"), 1, 1)
        fig.add_trace(s(x=x, y=y, mode="lines", line=dict(color="#abcdef", width=2), showlegend=False), 1, 2)
        fig.add_trace(b(x=[1.5], y=["closed"], base=np.array([2.0]), orientation="h",
                        customdata=np.c_[np.array(["swell"], dtype=object), [3.0]]), 1, 1)
        fig.add_vline(x=4.5, line=dict(color="#333", dash="dash", width=1.5), row=1, col=2)
        fig.update_layout(barmode="stack", legend_traceorder="normal", template="plotly_white",
                          margin=dict(l=60, r=20, t=70, b=50))
        fig.update_xaxes(title_text="")
        fig.update_xaxes(title_text="day", dtick=3, row=1, col=2)
        fig.update_yaxes(rangemode="tozero", range=[0, 10], row=1, col=1)
        fig.add_annotation(text="note", x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(color="#555"))
    assert _plain(encoded(ours.to_dict())) == _plain(theirs)
    single, mine = go.Figure(), Figure()
    for fig in (single, mine):
        fig.add_vrect(x0=1.0, x1=2.0, fillcolor="#c0392b", opacity=0.2, line_width=0, layer="below",
                      annotation_text="chancay closed", annotation_position="top left",
                      annotation_font=dict(size=10, color="#c0392b"))
        fig.add_vline(x=3.0, line=dict(color="red"))
        fig.update_xaxes(title_text="x")
    theirs = _plain(single)["layout"]
    theirs.pop("template")
    assert _plain(mine.to_dict())["layout"] == theirs


def test_typed_arrays_are_plotlys():
    for a in (np.arange(5), np.arange(300), np.arange(70_000), np.array([2**40, 1]), np.linspace(0, 1, 7),
              np.zeros(0), np.array([1.0, np.nan])):
        theirs = _plain(go.Figure(go.Scatter(y=a)))["data"][0].get("y", [])
        assert json.loads(json.dumps(typed_array(a))) == theirs


@pytest.fixture(scope="module")
def short_sections():
    return sections(callao.simulate("callao", seed=3, years=0.04))


def test_report_figures_are_valid_plotly_figures(short_sections):
    """Validating a report figure with plotly changes nothing: every property exists and has a
    value plotly accepts, in the form plotly itself would write."""
    assert all(s.figure is not None for s in short_sections)
    for s in short_sections:
        ours = _plain(encoded(s.figure))
        assert _plain(go.Figure(ours)) == ours, s.slug
        assert ours["layout"]["template"] == template("plotly_white")
