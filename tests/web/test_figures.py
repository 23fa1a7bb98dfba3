"""The dashboard's figures from run folders (no browser)."""

from __future__ import annotations

import pandas as pd
import pytest

import callao
from callao.web import figures
from callao.web.store import Store

PLOTS = ("occupancy_figure", "anchorage_figure", "yard_figure", "gate_figure", "inspections_figure")


@pytest.fixture(scope="module")
def store(tmp_path_factory, short_results):
    root = tmp_path_factory.mktemp("figs")
    short_results.write(root / "callao")
    callao.simulate("chancay", seed=1, years=0.02).write(root / "chancay")
    callao.simulate("queue-mm3", seed=1, years=0.02).write(root / "mm3")  # vessels only
    return Store(root)


def _texts(fig) -> str:
    return " ".join(str(t.text) for t in fig.data if getattr(t, "text", None) is not None)


def test_map_names_the_terminals_and_shows_ships(store):
    run = store.load("callao")
    fig = figures.map_figure(run, 20.0)
    text = _texts(fig)
    assert "DP World Callao (Muelle Sur)" in text and "APM Terminals Callao (Muelle Norte)" in text
    ships = [t for t in fig.data if (t.uid or "").startswith("vessels-")]
    assert sum(len(t.x) for t in ships) > 0
    assert fig.layout.yaxis.scaleanchor == "x"  # equal aspect, lon/lat axes, no tiles
    assert "xaxis2" not in fig.layout.to_plotly_json()
    harbour = figures.map_figure(run, 20.0, "harbour")
    assert harbour.layout.xaxis.range[0] > fig.layout.xaxis.range[0]


def test_chancay_inset_and_closure(store):
    run = store.load("chancay")
    closures = run.closures[run.closures["port"] == "chancay"]
    t = float(closures["start_h"].iloc[0]) + 1.0
    fig = figures.map_figure(run, t)
    assert fig.layout.xaxis2.range is not None
    assert "Chancay terminal" in _texts(fig)
    assert "PORT CLOSED" in fig.layout.title.text
    channel = next(tr for tr in fig.data if tr.name == "Chancay approach")
    assert channel.line.color == "#c0392b"


@pytest.mark.parametrize("run_id", ["callao", "chancay", "mm3"])
def test_kpi_plots_build_for_every_kind_of_run(store, run_id):
    run = store.load(run_id)
    for name in PLOTS:
        fig = getattr(figures, name)(run)
        assert fig.layout.title.text
    if run_id == "mm3":
        assert run.containers is None
        assert "no container table" in figures.yard_figure(run).layout.annotations[0].text


def test_seizures_are_plotted_when_the_run_has_them(store):
    run = store.load("callao")
    assert any(k.startswith("seized_") for k in run.kpis)
    fig = figures.inspections_figure(run)
    assert any(t.name == "cocaine seized (kg)" for t in fig.data)


def test_comparison_figure_has_both_scenarios(tmp_path):
    df = pd.DataFrame([
        {"scenario": s, "kpi": k, "mean": m, "ci_low": m - 1, "ci_high": m + 1, "diff": d, "diff_ci_low": d - 0.5,
         "diff_ci_high": d + 0.5, "significant": sig}
        for s, d, sig in (("callao", 0.0, False), ("naval-relocation", -2.0, True))
        for k, m in (("anchorage_wait_mean_h", 10.0), ("teu_total", 5e4))])
    fig = figures.comparison_figure(df, [])
    ys = {y for t in fig.data for y in t.y}
    assert ys == {"callao", "naval-relocation"}
    assert figures.default_kpis(df) == ["teu_total", "anchorage_wait_mean_h"]
    diff = [t for t in fig.data if t.name.endswith("diff")]
    assert len(diff) == 2 and list(diff[0].y) == ["naval-relocation"]
