"""The dashboard's forecast view: a forecast folder (as `callao forecast --out DIR` writes it) is
listed, its fan chart, day table, ships table and the bay at the start time are shown; broken or
linked-out files give a visible error and a 4xx, never a 500."""

from __future__ import annotations

import base64
import os

import numpy as np
import pandas as pd
import pytest

import callao
from callao.forecast import forecast
from callao.forecast.report import read_forecast, write_forecast
from callao.ingest.calls import calls_from_vessels
from callao.scenario import load_scenario
from callao.web.app import create_app

from .conftest import DASH, callback_body


@pytest.fixture(scope="module")
def made():
    """A small vessels-only forecast from a busy hour of a short run: (forecast, run vessels, hour)."""
    sc = load_scenario("callao", simulation={"containers": False})
    run = callao.simulate(sc, seed=2, years=0.06)
    calls = calls_from_vessels(run.vessels, sc.simulation.start_utc)
    v = run.vessels
    for h in np.arange(100.0, run.horizon_h - 48, 5.0):
        if ((v["t_arrival"] <= h) & (v["t_channel_in"] > h)).sum() >= 2:
            break
    at = pd.Timestamp(sc.simulation.start_utc) + pd.Timedelta(hours=float(h))
    return forecast(sc, calls, at, days=2, replications=4, seed=1), v, float(h)


@pytest.fixture
def tree(tmp_path, made):
    root = tmp_path / "results"
    write_forecast(made[0], root / "fc" / "now")
    write_forecast(made[0], root / "fc" / "broken")
    return root


def _view(client, app, fc_id) -> dict:
    resp = client.post(DASH, json=callback_body(app, "fc-fan.figure", {"fc-select.value": fc_id}))
    assert resp.status_code == 200, resp.get_data()[:300]
    return resp.get_json()["response"]


def _array(v) -> np.ndarray:
    """A figure's array as plotly's JSON holds it: a list, or {dtype, bdata} (base64)."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).astype(float)
    return np.asarray(v, float)


def _texts(component) -> list[str]:
    """Every string in a Dash component tree (as JSON)."""
    out, stack = [], [component]
    while stack:
        c = stack.pop()
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, list):
            stack.extend(c)
        elif isinstance(c, dict):
            stack.extend(c.get("props", {}).get("children", []) if isinstance(c.get("props", {}).get("children"), list)
                         else [c.get("props", {}).get("children")] if "props" in c else list(c.values()))
    return [t for t in out if isinstance(t, str)]


def test_state_is_written_and_read_back(tmp_path, made):
    f, v, h = made
    write_forecast(f, tmp_path)
    assert (tmp_path / "state.parquet").is_file() and (tmp_path / "forecast.json").is_file()
    back = read_forecast(tmp_path)
    assert back.at == f.at and back.days == 2 and back.replications == 4
    assert set(back.state.waiting["mmsi"]) == set(f.state.waiting["mmsi"])
    assert set(back.state.alongside["mmsi"]) == set(f.state.alongside["mmsi"])
    pd.testing.assert_frame_equal(back.hourly, f.hourly)


def test_view_lists_and_renders_the_forecast(tree, made):
    f = made[0]
    app = create_app(tree)
    client = app.server.test_client()
    listed = client.post(DASH, json=callback_body(app, "fc-select.options", {}))
    assert listed.status_code == 200
    ids = [o["value"] for o in listed.get_json()["response"]["fc-select"]["options"]]
    assert sorted(ids) == ["fc/broken", "fc/now"]
    assert [e["kind"] for e in client.get("/api/runs").get_json()] == ["forecast", "forecast"]

    out = _view(client, app, "fc/now")
    fan = out["fc-fan"]["figure"]
    assert "Ships at the anchorage from" in fan["layout"]["title"]["text"]
    median = next(t for t in fan["data"] if t.get("name") == "median")
    assert np.allclose(_array(median["y"]), f.hourly["queue_q50"].to_numpy(float))  # the report's own fan chart
    assert out["fc-error"]["className"] == "banner hidden"
    daily = _texts(out["fc-daily"]["children"])
    assert f"{f.daily['queue_q50'].iloc[0]:.1f}" in daily
    ships = _texts(out["fc-ships"]["children"])
    for mmsi in f.ships["mmsi"]:
        assert str(mmsi) in ships
    # the bay at the start: every ship waiting drawn at the anchorage, every ship alongside at its berth
    bay = out["fc-map"]["figure"]
    traces = {t.get("name"): t for t in bay["data"]}
    assert _array(traces["waiting at anchorage"]["x"]).size == len(f.state.waiting) >= 2
    berthed = f.state.alongside["t_berth"].notna().sum()
    assert _array(traces["at berth"]["x"]).size == berthed
    assert set(_array(traces["waiting at anchorage"]["customdata"]).astype(np.int64)) == set(f.state.waiting["mmsi"])
    assert "from data" in bay["layout"]["title"]["text"]

    api = client.get("/api/forecasts/fc/now").get_json()
    assert api["waiting"] == len(f.state.waiting) and len(api["daily"]) == 2
    assert client.get("/download/fc/now/state.parquet").status_code == 200


def test_broken_or_linked_out_forecast_is_a_visible_4xx(tree, tmp_path):
    (tree / "fc" / "broken" / "hourly.parquet").write_bytes(b"PAR1 not a parquet file")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "forecast.json").write_text('{"at": "2024-01-01T00:00Z", "days": 2, "replications": 4}')
    linked = tree / "fc" / "now" / "forecast.json"
    linked.unlink()
    os.symlink(outside / "forecast.json", linked)
    app = create_app(tree)
    client = app.server.test_client()
    for fc_id, word in (("fc/broken", "hourly.parquet"), ("fc/now", "outside the results folder")):
        resp = client.get(f"/api/forecasts/{fc_id}")
        assert resp.status_code == 422 and word in resp.get_json()["error"]
        out = _view(client, app, fc_id)
        assert out["fc-error"]["className"] == "banner" and word in out["fc-error"]["children"]
        assert out["fc-daily"]["children"] == "" and out["fc-ships"]["children"] == ""
    assert client.get("/api/forecasts/fc/../../etc").status_code in (400, 404)
    assert client.get("/api/forecasts/nope").status_code == 404


def test_forecast_written_before_the_state_file_still_shows(tree, made):
    for name in ("state.parquet", "forecast.json"):
        (tree / "fc" / "now" / name).unlink()
    app = create_app(tree)
    out = _view(app.server.test_client(), app, "fc/now")
    assert out["fc-error"]["className"] == "banner hidden"
    assert made[0].at.strftime("%Y-%m-%d %H:%M") in out["fc-fan"]["figure"]["layout"]["title"]["text"]
    traces = {t.get("name"): t for t in out["fc-map"]["figure"]["data"]}
    assert _array(traces["waiting at anchorage"]["x"]).size == 0


def test_forecast_view_in_a_browser(tree, made, live_server_factory):
    """The page as a user sees it (headless Chromium; skipped without one): the fan chart, the
    ships table and the bay at the start drawn, no script error."""
    import shutil

    exe = os.environ.get("CALLAO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.skip("no Chromium binary (set CALLAO_CHROMIUM); browser test skipped")
    from playwright.sync_api import sync_playwright

    srv = live_server_factory(tree)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(srv.url + "/")
            page.wait_for_selector("#fc-ships-table tbody tr")
            page.wait_for_selector("#fc-fan .scatterlayer .trace", state="attached")
            page.wait_for_function("document.querySelector('#fc-map .gtitle') && "
                                   "document.querySelector('#fc-map .gtitle').textContent.includes('from data')")
            assert page.locator("#fc-ships-table tbody tr").count() == len(made[0].ships)
            assert "Ships at the anchorage from" in page.locator("#fc-fan .gtitle").text_content()
            assert not errors, errors
        finally:
            browser.close()
