"""The dashboard's figures from run folders (no browser): the map from a run's Results, the run's
plots from the report's figure builders, the comparison with human KPI names."""

from __future__ import annotations

import pandas as pd
import pytest

import callao
from callao.report.plots import FIGURES
from callao.web import figures
from callao.web.app import kpi_cards, run_plots
from callao.web.runs import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory, short_results):
    root = tmp_path_factory.mktemp("figs")
    short_results.write(root / "callao")
    callao.simulate("chancay", seed=1, years=0.02).write(root / "chancay")
    callao.simulate("queue-mm3", seed=1, years=0.02).write(root / "mm3")  # vessels only
    return Store(root)


def _texts(fig) -> str:
    return " ".join([str(t.text) for t in fig.data if getattr(t, "text", None) is not None]
                    + [str(a.text) for a in fig.layout.annotations])


def test_map_names_the_terminals_and_shows_ships(store):
    r = store.load("callao").results
    fig = figures.map_figure(r, 20.0)
    text = _texts(fig)
    assert "DP World Callao (Muelle Sur)" in text and "APM Terminals Callao (Muelle Norte)" in text
    ships = [t for t in fig.data if (t.uid or "").startswith("vessels-")]
    assert sum(len(t.x) for t in ships) > 0
    assert fig.layout.yaxis.scaleanchor == "x"  # equal aspect, lon/lat axes, no tiles
    assert "xaxis2" not in fig.layout.to_plotly_json()
    harbour = figures.map_figure(r, 20.0, "harbour")
    assert harbour.layout.xaxis.range[0] > fig.layout.xaxis.range[0]


def test_labels_stay_clear_of_ships_and_the_channel(store):
    """The anchorage's name sits above the area (ships wait inside it), terminal names on the land
    side of their quays (ships berth on the sea side, to the west), the entrance's below-left of it
    (the channel runs up-left and down-right from it)."""
    from callao.web.positions import vessel_positions

    r = store.load("callao").results
    fig = figures.map_figure(r, 20.0)
    labels = {a.text: a for a in fig.layout.annotations}
    anchorage = labels["Anchorage"]
    waiting = vessel_positions(r.vessels, 20.0, figures.bay(figures.geometry_key(r)))
    waiting = waiting[waiting["state"] == "waiting"]
    assert anchorage.yanchor == "bottom" and (waiting["lat"] < anchorage.y).all()
    for name in ("DP World Callao (Muelle Sur)", "APM Terminals Callao (Muelle Norte)"):
        assert labels[name].xanchor == "left" and labels[name].xshift >= 10
    entrance = next(a for a in fig.layout.annotations if a.text.startswith("Entrance"))
    assert entrance.xanchor == "right" and entrance.yanchor == "top"


def test_chancay_inset_and_closure(store):
    r = store.load("chancay").results
    closures = r.closures[r.closures["port"] == "chancay"]
    t = float(closures["start_h"].iloc[0]) + 1.0
    fig = figures.map_figure(r, t)
    assert fig.layout.xaxis2.range is not None
    assert "Chancay terminal" in _texts(fig)
    assert "PORT CLOSED" in fig.layout.title.text
    channel = next(tr for tr in fig.data if tr.name == "Chancay approach")
    assert channel.line.color == "#c0392b"


@pytest.mark.parametrize("run_id", ["callao", "chancay", "mm3"])
def test_run_plots_are_the_reports_figures(store, run_id):
    r = store.load(run_id).results
    cards = run_plots(r)
    assert [c.id for c in cards] == [f"card-{make(r).slug}" for make in FIGURES]
    graphs = [c.children[2] for c in cards if hasattr(c.children[2], "figure")]
    assert all(isinstance(g.figure, dict) and g.figure["data"] is not None for g in graphs)
    if run_id == "mm3":  # vessels only: the container sections say why they are empty
        assert r.containers is None and len(graphs) < len(cards)
    else:
        assert len(graphs) >= len(cards) - 1


def test_plots_send_aggregates_not_containers(store):
    """No trace carries per-container data: every series is at most one point per hour."""
    r = store.load("callao").results
    limit = int(r.horizon_h) + 1
    for card in run_plots(r):
        fig = getattr(card.children[2], "figure", None)
        for trace in (fig or {}).get("data", []):
            for axis in ("x", "y"):
                values = trace.get(axis)
                n = len(values) if isinstance(values, list) else len((values or {}).get("bdata", "")) // 8
                assert n <= max(limit, 400), (card.id, trace.get("name"), n)


def test_cards_use_human_labels_and_units(store):
    r = store.load("callao").results
    cards = {c.id: c for c in kpi_cards(r)}
    occ = cards["kpi-berth_occupancy_apmt"]
    assert occ.children[0].children == "Berth occupancy, APM Terminals Callao (Muelle Norte)"
    assert occ.children[1].children.endswith("%") and occ.title == "berth_occupancy_apmt"
    assert cards["kpi-anchorage_wait_mean_h"].children[1].children.endswith(" h")
    assert not any("_" in c.children[0].children for c in cards.values())


def test_comparison_figure_has_both_scenarios_and_human_names(tmp_path):
    df = pd.DataFrame([
        {"scenario": s, "kpi": k, "mean": m, "ci_low": m - 1, "ci_high": m + 1, "diff": d, "diff_ci_low": d - 0.5,
         "diff_ci_high": d + 0.5, "significant": sig}
        for s, d, sig in (("callao", 0.0, False), ("naval-relocation", -2.0, True))
        for k, m in (("anchorage_wait_mean_h", 10.0), ("teu_total", 5e4), ("berth_occupancy_apmt", 0.6))])
    fig = figures.comparison_figure(df, [])
    ys = {y for t in fig.data for y in t.y}
    assert ys == {"callao", "naval-relocation"}
    assert figures.default_kpis(df) == ["teu_total", "anchorage_wait_mean_h", "berth_occupancy_apmt"]
    diff = [t for t in fig.data if t.name.endswith("diff")]
    assert len(diff) == 3 and list(diff[0].y) == ["naval-relocation"]
    titles = " ".join(a.text for a in fig.layout.annotations)
    assert "Anchorage wait (mean), h" in titles and "Berth occupancy, apmt, %" in titles
    assert "berth_occupancy_apmt" not in titles
    occ = next(t for t in fig.data if t.name == "berth_occupancy_apmt")
    assert list(occ.x) == [60.0, 60.0]  # shares in per cent, as on the cards
