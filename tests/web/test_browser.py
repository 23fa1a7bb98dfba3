"""End-to-end: the dashboard in headless Chromium (Playwright's sync API).

Screenshots go to tests/web/artifacts/ for a reviewer. Skipped only when no Chromium binary is
found (set CALLAO_CHROMIUM=/path/to/chromium to use another one)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).with_name("artifacts")
CHROMIUM = os.environ.get("CALLAO_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
VESSELS_JS = """() => {
  const g = document.querySelector('#bay-map .js-plotly-plot');
  const out = {};
  for (const t of g._fullData) {
    if ((t.uid || '').startsWith('vessels-')) out[t.uid] = Array.from(t.x || []).map((x, i) => [x, t.y[i]]);
  }
  return out;
}"""


def _chromium() -> str:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip(f"no Chromium binary at {CHROMIUM} or on PATH (set CALLAO_CHROMIUM); browser tests skipped")
    return found


@pytest.fixture
def page():
    exe = _chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        # offline: anything not served by the dashboard itself is refused, and must not be asked for
        external: list[str] = []

        def only_local(route):
            if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                route.continue_()
            else:
                external.append(route.request.url)
                route.abort()

        context.route("**/*", only_local)
        pg = context.new_page()
        pg.set_default_timeout(120_000)  # a loaded 2-core CI machine
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
        browser.close()
        assert not errors, errors
        assert not external, f"the page asked for resources outside the dashboard: {external}"


def _map_text(pg) -> str:
    return " ".join(pg.locator("#bay-map svg text").all_text_contents())


def test_map_time_slider_and_comparison(page, results_dir, live_server_factory):
    srv = live_server_factory(results_dir)
    page.goto(srv.url + "/")
    page.wait_for_selector("#bay-map .scatterlayer .trace", state="attached")
    page.wait_for_function("document.querySelector('#map-status') && "
                           "document.querySelector('#map-status').innerText.startsWith('hour')")
    text = _map_text(page)  # the first view: anchorage to quays, where the ships are
    for name in ("DP World Callao (Muelle Sur)", "APM Terminals Callao (Muelle Norte)", "Anchorage",
                 "Callao Naval Base"):
        assert name in text, name
    status0 = page.inner_text("#map-status")
    vessels0 = page.evaluate(VESSELS_JS)
    assert sum(len(v) for v in vessels0.values()) > 0, "the first view shows ships"
    page.locator("#section-map").screenshot(path=str(ARTIFACTS / "map.png"))

    # move the time slider: a click at 15% of the track
    box = page.locator("#time-slider .dash-slider-track").bounding_box()
    page.mouse.click(box["x"] + 0.15 * box["width"], box["y"] + box["height"] / 2)
    page.wait_for_function("s => document.querySelector('#map-status').innerText !== s", arg=status0)
    status1 = page.inner_text("#map-status")
    hour = status1.split(" (")[0]  # "hour 41.0": the map's title shows the same time once redrawn
    page.wait_for_function("h => document.querySelector('#bay-map .gtitle').textContent.includes(h)", arg=hour)
    vessels1 = page.evaluate(VESSELS_JS)
    assert vessels1 != vessels0, "positions or states changed with time"
    page.locator("#section-map").screenshot(path=str(ARTIFACTS / "map-after-slider.png"))

    # the harbour view zooms on the terminals and stays while time moves
    page.click("#view-harbour")
    page.wait_for_function("() => document.querySelector('#bay-map .js-plotly-plot').layout.xaxis.range[0] > -77.2")
    page.wait_for_timeout(300)
    page.locator("#section-map").screenshot(path=str(ARTIFACTS / "map-harbour.png"))

    # typed hour and play both move the time
    page.fill("#time-input", "100")
    page.press("#time-input", "Enter")
    page.wait_for_function("() => document.querySelector('#map-status').innerText.startsWith('hour 100.0')")
    page.click("#play")
    page.wait_for_function("() => !document.querySelector('#map-status').innerText.startsWith('hour 100.0')")
    page.click("#play")
    page.wait_for_function("() => document.querySelector('#play').innerText.endsWith('play')")
    assert page.evaluate("() => document.querySelector('#bay-map .js-plotly-plot').layout.xaxis.range[0]") > -77.2
    page.click("#view-bay")
    page.wait_for_function("() => document.querySelector('#bay-map .js-plotly-plot').layout.xaxis.range[0] < -77.25")
    for name in ("San Lorenzo island", "La Punta"):
        page.wait_for_function("n => Array.from(document.querySelectorAll('#bay-map svg text'))"
                               ".some(t => t.textContent.includes(n))", arg=name)

    # KPI cards and plots of the run
    assert "Vessel calls" in page.inner_text("#kpi-cards")
    for fig in ("berth-occupancy", "anchorage-wait", "yard-occupancy", "gate-trucks", "customs", "quay-gantt"):
        page.wait_for_selector(f"#plot-{fig} .main-svg", state="attached")
    assert "berth_occupancy" not in page.inner_text("#kpi-cards")  # human names on the cards

    # the comparison view shows both scenarios
    page.locator("#section-compare").scroll_into_view_if_needed()
    page.wait_for_function("() => Array.from(document.querySelectorAll('#fig-compare svg text'))"
                           ".some(t => t.textContent === 'naval-relocation')")
    labels = page.locator("#fig-compare svg text").all_text_contents()
    assert "callao" in labels and "naval-relocation" in labels
    assert any("difference from callao" in t for t in labels)
    page.locator("#section-compare").screenshot(path=str(ARTIFACTS / "comparison.png"))
    page.screenshot(path=str(ARTIFACTS / "dashboard-full.png"), full_page=True)


def test_start_a_run_from_the_page(page, tmp_path, live_server_factory):
    srv = live_server_factory(tmp_path / "results")
    page.goto(srv.url + "/")
    page.wait_for_function("() => (document.querySelector('#kpi-cards') || {}).innerText?.includes('No run')")
    page.fill("#new-seed", "3")
    page.fill("#new-years", "9")  # out of range: a clear message, no run
    page.click("#start-run")
    page.wait_for_selector("#job-status .error")
    assert "years" in page.inner_text("#job-status")
    page.fill("#new-years", "0.01")
    page.click("#start-run")
    page.wait_for_selector("#job-finished", timeout=90_000)
    done = page.inner_text("#job-finished")
    assert "web-callao-s3-" in done
    page.wait_for_selector("#kpi-vessel_calls_total")
    assert "Vessel calls" in page.inner_text("#kpi-cards")
    run_id = done.split()[1]
    assert run_id in page.inner_text("#run-select")
    assert (tmp_path / "results" / run_id / "kpis.json").is_file()
    resp = page.request.get(srv.url + f"/download/{run_id}/kpis.json")
    assert resp.status == 200 and "vessel_calls_total" in resp.json()
    page.wait_for_selector("#run-files a")
    page.screenshot(path=str(ARTIFACTS / "run-from-page.png"), full_page=True)
