"""The HTML report: one self-contained file, every promised section, the headline KPIs as shown."""

from __future__ import annotations

import os
import re
from html import escape
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

import callao
from callao.calibration import calibration_table
from callao.report import write_report
from callao.report.plots import sections

# The sections the report promises (slug of the plot div, title) - written out, not read from the code.
PROMISED = (
    ("berth-occupancy", "Berth occupancy per terminal"),
    ("anchorage-wait", "Anchorage waiting time"),
    ("yard-occupancy", "Yard occupancy vs capacity"),
    ("gate-trucks", "Gate trucks"),
    ("dwell", "Yard dwell by flow"),
    ("customs", "Customs inspections and release"),
    ("detection", "Contraband targeting: detection over time"),
    ("closures-naval", "Closures and naval movements"),
    ("quay-gantt", "Quay plan of the busiest week"),
)
CONTAINER_SECTIONS = {"yard-occupancy", "gate-trucks", "dwell", "customs", "detection"}


@pytest.fixture(scope="module")
def run():
    return callao.simulate("callao", seed=1, years=0.05)


@pytest.fixture(scope="module")
def report(run, tmp_path_factory) -> tuple[Path, str, list[dict]]:
    cal = calibration_table(run.kpis)
    path = write_report(run, tmp_path_factory.mktemp("report") / "report.html", calibration=cal)
    return path, path.read_text(encoding="utf-8"), cal


def _plotly_header() -> str:
    return get_plotlyjs()[:60]


def test_report_is_one_self_contained_file(report):
    path, html, _ = report
    assert path.is_file() and html.startswith("<!DOCTYPE html>")
    assert 'src="http' not in html and "<script src" not in html
    lib = get_plotlyjs()
    assert html.count(_plotly_header()) == 1, "plotly.js must be embedded exactly once"
    # plotly.js itself mentions CDN addresses as (unused) defaults; the rest of the page must not
    rest = html.replace(lib, "")
    assert "https://cdn" not in rest and "http://" not in rest
    assert path.stat().st_size < 8_000_000


def test_every_promised_section_has_a_plot(report):
    _, html, _ = report
    for slug, title in PROMISED:
        assert f'id="plot-{slug}"' in html, slug
        assert escape(title) in html, title
    assert html.count('class="plotly-graph-div"') == len(PROMISED)


def test_headline_kpis_are_shown_as_formatted(run, report):
    _, html, _ = report
    k = run.kpis
    shown = [f"{k['teu_total']:,.0f} TEU", f"{k['vessel_calls_total']:,.0f}", f"{k['anchorage_wait_mean_h']:.1f} h",
             f"{k['yard_dwell_import_mean_d']:.1f} d", f"{k['customs_release_mean_h']:.1f} h",
             f"{k['civil_military_encounters']:,.0f}", f"{k['closure_hours']:,.0f} h"]
    shown += [f"{k[f'berth_occupancy_{t.name}']:.0%}" for t in run.scenario.terminals]
    cards = html[html.index('<div class="cards">'):html.index("</div></div></div>")]
    for value in shown:
        assert f'<div class="v">{escape(value)}</div>' in cards, value
    for name in k:  # the full KPI table
        assert f"<code>{name}</code>" in html, name


def test_header_counts_the_horizons_calls_not_the_spin_ups(run, report):
    _, html, _ = report
    header = html[html.index("<header>"):html.index("</header>")]
    assert run.vessels["t_arrival"].min() < 0  # the spin-up's calls are in the table
    assert f"{run.kpis['vessel_calls_total']:,} vessel calls" in header


def test_calibration_rows_are_shown_only_when_given(run, report, tmp_path):
    _, html, cal = report
    assert cal and 'id="calibration"' in html
    for row in cal:
        assert escape(row["label"]) in html
        assert escape(row["source"]) in html
        assert f">{row['status']}</span>" in html
    bare = write_report(run, tmp_path / "bare.html").read_text(encoding="utf-8")
    assert 'id="calibration"' not in bare


def test_figures_are_aggregated_not_raw(run):
    """Plots carry binned / daily data, never one point per container."""
    for s in sections(run):
        assert s.figure is not None, s.slug
        for trace in s.figure["data"]:
            for axis in ("x", "y"):
                data = trace.get(axis)
                assert data is None or len(data) <= 2000, (s.slug, trace.get("name"))


def test_vessels_only_run(tmp_path):
    sc = callao.load_scenario("callao", simulation={"containers": False, "years": 0.05})
    r = callao.simulate(sc, seed=2)
    assert r.containers is None
    html = write_report(r, tmp_path / "vessels.html").read_text(encoding="utf-8")
    for slug, title in PROMISED:
        assert escape(title) in html
        assert (f'id="plot-{slug}"' in html) == (slug not in CONTAINER_SECTIONS), slug
    assert "vessels only" in html
    assert html.count(_plotly_header()) == 1


def test_write_is_atomic(run, tmp_path, monkeypatch):
    path = write_report(run, tmp_path / "r.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]
    assert os.stat(path).st_mode & 0o044, "the report should be readable by others"
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(run, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"], "no temporary file may be left"
    assert path.read_bytes() == before, "a failed write must not touch the previous report"


def test_report_creates_missing_folder(run, tmp_path):
    path = write_report(run, tmp_path / "a" / "b" / "report.html")
    assert path.is_file() and re.search(r"Seed 1 ", path.read_text(encoding="utf-8"))



def test_closure_bands_carry_no_empty_annotation():
    """A closure band is labelled with its port only when several ports are simulated; it never
    carries plotly's placeholder "new text"."""
    import dataclasses

    import pandas as pd

    import callao
    from callao.report.plots import berth_occupancy

    for name in ("callao", "chancay"):
        r = callao.simulate(name, seed=2, years=0.03)
        closures = pd.DataFrame({"port": [r.scenario.port_names[-1]], "start_h": [50.0], "end_h": [80.0],
                                 "reason": ["swell"]})
        fig = berth_occupancy(dataclasses.replace(r, closures=closures)).figure
        assert len(fig["layout"]["shapes"]) == 1
        texts = [a["text"] for a in fig["layout"].get("annotations", [])]
        assert texts == ([] if name == "callao" else ["chancay closed"]), texts
