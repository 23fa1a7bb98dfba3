"""Plotly figures as plain data: the few ``plotly.graph_objects`` operations the report uses
(traces, subplot grids as ``make_subplots`` lays them out, axis and layout updates, vertical lines
and bands, annotations) building the dict plotly.js reads, without plotly's per-property
validation and template copies (which took seconds a report). ``go.Figure(fig)`` validates such a
dict and gives the object form; :func:`plotly.io.to_html` / ``to_json`` with ``validate=False``
write it as it is."""

from __future__ import annotations

import base64
import json
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

FigureDict = dict[str, Any]
"""``{"data": [trace, ...], "layout": {...}}``; arrays may be numpy arrays (see :func:`encoded`)."""


@cache
def _template_text(name: str) -> str:
    return (files("plotly") / "package_data" / "templates" / f"{name}.json").read_text(encoding="utf-8")


def template(name: str) -> dict:
    """A plotly template (``"plotly_white"``, ...) as plain data, read from plotly's own file."""
    return json.loads(_template_text(name))


def _merge(into: dict, update: dict) -> dict:
    """Merge ``update`` into ``into`` as plotly's ``update`` does: nested dicts key by key."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def props(**kwargs: Any) -> dict:
    """Properties with plotly's magic underscores expanded (``marker_color="red"`` → ``{"marker":
    {"color": "red"}}``); ``None`` means unset, as in plotly."""
    out: dict = {}
    for key, value in kwargs.items():
        if value is None:
            continue
        *path, last = key.split("_")
        node = out
        for part in path:
            node = node.setdefault(part, {})
        _merge(node, {last: dict(value) if isinstance(value, dict) else value})
    return out


def trace(kind: str, **kwargs: Any) -> dict:
    """One trace: ``trace("scatter", x=..., y=..., line_color=...)``."""
    return {"type": kind, **props(**kwargs)}


def scatter(**kwargs: Any) -> dict:
    return trace("scatter", **kwargs)


def bar(**kwargs: Any) -> dict:
    return trace("bar", **kwargs)


class Figure:
    """A figure being built; :meth:`to_dict` gives the plain data. Methods mirror
    ``plotly.graph_objects.Figure``'s of the same names (rows and columns count from 1)."""

    def __init__(self) -> None:
        self.data: list[dict] = []
        self.layout: dict = {}
        self.rows = self.cols = 0  # 0: no subplot grid

    @classmethod
    def grid(cls, rows: int, cols: int, *, shared_xaxes: bool = False, shared_yaxes: bool = False,
             horizontal_spacing: float | None = None, vertical_spacing: float | None = None,
             column_widths: list[float] | None = None, row_heights: list[float] | None = None,
             subplot_titles: list[str] | tuple[str, ...] | None = None) -> Figure:
        """A grid of x/y subplots laid out exactly as ``plotly.subplots.make_subplots`` does
        (start cell top-left; ``shared_xaxes``: each column's axes match its bottom one)."""
        if shared_yaxes:
            raise NotImplementedError("shared y axes")
        fig = cls()
        fig.rows, fig.cols = rows, cols
        hs = 0.2 / cols if horizontal_spacing is None else horizontal_spacing
        vs = (0.5 if subplot_titles is not None else 0.3) / rows if vertical_spacing is None else vertical_spacing
        if column_widths is None:
            widths = [(1.0 - hs * (cols - 1)) / cols] * cols
        else:
            total = float(sum(column_widths))
            widths = [(1.0 - hs * (cols - 1)) * (w / total) for w in column_widths]
        if row_heights is None:
            heights = [(1.0 - vs * (rows - 1)) / rows] * rows
        else:
            total = float(sum(row_heights))
            heights = list(reversed([(1.0 - vs * (rows - 1)) * (h / total) for h in row_heights]))
        starts = [[(sum(widths[:c]) + c * hs, sum(heights[:r]) + r * vs) for c in range(cols)]
                  for r in reversed(range(rows))]  # the top row first
        titles = list(subplot_titles or [])
        annotations = []
        for r in range(rows):
            for c in range(cols):
                x0, y0 = starts[r][c]
                x = [x0, x0 + widths[c]]
                y = [_unit(y0), _unit(y0 + heights[-1 - r])]
                n = r * cols + c + 1
                fig.layout[_axis("x", n)] = {"anchor": _ref("y", n), "domain": [max(0.0, x[0]), min(1.0, x[1])]}
                fig.layout[_axis("y", n)] = {"anchor": _ref("x", n), "domain": [max(0.0, y[0]), min(1.0, y[1])]}
                if n <= len(titles) and titles[n - 1]:
                    annotations.append({"y": y[1], "xref": "paper", "x": sum(x) / 2.0, "yref": "paper",
                                        "text": titles[n - 1], "showarrow": False, "font": {"size": 16},
                                        "xanchor": "center", "yanchor": "bottom"})
        if shared_xaxes:
            for c in range(cols):
                bottom = _ref("x", (rows - 1) * cols + c + 1)
                for r in range(rows - 1):
                    fig.layout[_axis("x", r * cols + c + 1)].update(matches=bottom, showticklabels=False)
        if annotations:
            fig.layout["annotations"] = annotations
        return fig

    def _cell(self, row: int | None, col: int | None) -> int:
        return 1 if row is None or not self.cols else (row - 1) * self.cols + (col or 1)

    def add_trace(self, trace: dict, row: int | None = None, col: int | None = None) -> Figure:
        if row is not None and self.cols:
            n = self._cell(row, col)
            trace = {**trace, "xaxis": _ref("x", n), "yaxis": _ref("y", n)}
        self.data.append(trace)
        return self

    def update_layout(self, **kwargs: Any) -> Figure:
        update = props(**kwargs)
        if isinstance(update.get("template"), str):
            update["template"] = template(update["template"])
        _merge(self.layout, update)
        return self

    def _update_axes(self, letter: str, row: int | None, col: int | None, kwargs: dict) -> Figure:
        if row is None and col is None:
            keys = ([_axis(letter, n) for n in range(1, self.rows * self.cols + 1)] if self.cols
                    else [f"{letter}axis"])
        else:
            keys = [_axis(letter, n) for n in range(1, self.rows * self.cols + 1)
                    if (row is None or (n - 1) // self.cols + 1 == row) and (col is None or (n - 1) % self.cols + 1 == col)]
        for key in keys:
            _merge(self.layout.setdefault(key, {}), props(**kwargs))
        return self

    def update_xaxes(self, row: int | None = None, col: int | None = None, **kwargs: Any) -> Figure:
        return self._update_axes("x", row, col, kwargs)

    def update_yaxes(self, row: int | None = None, col: int | None = None, **kwargs: Any) -> Figure:
        return self._update_axes("y", row, col, kwargs)

    def add_vline(self, x: float, line: dict, row: int | None = None, col: int | None = None) -> Figure:
        n = self._cell(row, col)
        self.layout.setdefault("shapes", []).append(
            {"line": dict(line), "type": "line", "x0": x, "x1": x, "xref": _ref("x", n), "y0": 0, "y1": 1,
             "yref": _ref("y", n) + " domain"})
        return self

    def add_vrect(self, x0: float, x1: float, annotation_text: str | None = None, annotation_font: dict | None = None,
                  annotation_position: str = "top left", **kwargs: Any) -> Figure:
        """A band from ``x0`` to ``x1`` over the whole height; ``annotation_text`` is written at its
        top left (the one position supported)."""
        if annotation_position != "top left":
            raise NotImplementedError(f"annotation_position {annotation_position!r}")
        self.layout.setdefault("shapes", []).append(
            {**props(**kwargs), "type": "rect", "x0": x0, "x1": x1, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain"})
        if annotation_text is not None:
            self.layout.setdefault("annotations", []).append(
                {**props(font=annotation_font), "showarrow": False, "text": annotation_text, "x": x0,
                 "xanchor": "left", "xref": "x", "y": 1, "yanchor": "top", "yref": "y domain"})
        return self

    def add_annotation(self, **kwargs: Any) -> Figure:
        self.layout.setdefault("annotations", []).append(props(**kwargs))
        return self

    def to_dict(self) -> FigureDict:
        return {"data": self.data, "layout": self.layout}


def _axis(letter: str, n: int) -> str:
    return f"{letter}axis" if n == 1 else f"{letter}axis{n}"


def _ref(letter: str, n: int) -> str:
    return letter if n == 1 else f"{letter}{n}"


def _unit(y: float) -> float:
    """A y domain end rounded onto [0, 1] when a float error put it just outside (as plotly does)."""
    return 0.0 if -0.01 < y < 0.0 else 1.0 if 1.0 < y < 1.01 else y


_TYPED = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4",
          "float32": "f4", "float64": "f8"}
_INTS = (np.int8, np.int16, np.int32)


def typed_array(a: np.ndarray) -> Any:
    """A numpy array as a plotly.js typed array (``{"dtype": "f8", "bdata": base64}``), 64-bit
    integers narrowed to the smallest type holding them, as plotly itself writes arrays; text and
    mixed arrays as lists."""
    if a.dtype == np.int64 and a.size:
        lo, hi = a.min(), a.max()
        narrow = next((t for t in _INTS if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max), None)
        a = a.astype(narrow) if narrow is not None else a
    if a.size and str(a.dtype) in _TYPED:
        spec = {"dtype": _TYPED[str(a.dtype)], "bdata": base64.b64encode(np.ascontiguousarray(a)).decode("ascii")}
        if a.ndim > 1:
            spec["shape"] = str(a.shape)[1:-1]
        return spec
    return a.tolist()


_AS_LISTS = {"base", "customdata", "text", "range"}
"""Properties plotly keeps as plain lists (``range`` is never a typed array in plotly.js)."""


def encoded(fig: Any, key: str = "") -> Any:
    """A copy of ``fig`` with numpy arrays as typed arrays (:func:`typed_array`) and numpy numbers
    as Python numbers: what plotly's own ``Figure.to_dict`` gives for the same figure."""
    if isinstance(fig, dict):
        return {k: encoded(v, k) for k, v in fig.items()}
    if isinstance(fig, (list, tuple)):
        return [encoded(v) for v in fig]
    if hasattr(fig, "to_numpy") and not isinstance(fig, np.ndarray):  # a pandas Series or Index
        fig = fig.to_numpy()
    if isinstance(fig, np.ndarray):
        return fig.tolist() if key in _AS_LISTS or fig.dtype == object else typed_array(fig)
    if isinstance(fig, np.generic):
        return fig.item()
    return fig
