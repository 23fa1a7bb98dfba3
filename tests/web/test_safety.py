"""The attacks on a running dashboard, each refused: cross-site posts, foreign Host headers, broken
or symlinked run files, malformed callback bodies, absurd runs, a full disk, and access without the
token on a shared interface."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from callao.web.app import create_app
from callao.web.cli import access
from callao.web.jobs import MIN_YEARS, parse_request
from callao.web.runs import WebError

from .conftest import DASH, callback_body


@pytest.fixture
def tree(tmp_path, short_results):
    root = tmp_path / "results"
    short_results.write(root / "good")
    short_results.write(root / "broken")
    return root


def _kpis(client, app, run_id):
    resp = client.post(DASH, json=callback_body(app, "kpi-cards.children", {"run-select.value": run_id}))
    assert resp.status_code == 200, resp.get_data()[:300]
    return resp.get_json()["response"]


# --- cross-site requests and DNS rebinding ----------------------------------------------------

def test_cross_site_form_post_cannot_start_a_run(tree):
    app = create_app(tree)
    client = app.server.test_client()
    form = client.post("/api/runs", data={"scenario": "queue-mm3", "seed": "1", "years": "0.01"},
                       headers={"Origin": "http://evil.example"})
    assert form.status_code in (403, 415)
    plain = client.post("/api/runs", data='{"scenario": "queue-mm3", "seed": 1, "years": 0.01}',
                        content_type="text/plain")
    assert plain.status_code == 415 and "JSON" in plain.get_json()["error"]
    foreign = client.post("/api/runs", json={"scenario": "queue-mm3", "seed": 1, "years": 0.01},
                          headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "cross-origin" in foreign.get_json()["error"]
    site = client.post("/api/runs", json={"scenario": "queue-mm3", "seed": 1, "years": 0.01},
                       headers={"Sec-Fetch-Site": "cross-site"})
    assert site.status_code == 403
    assert app.jobs._jobs == {}  # nothing started
    own = client.post("/api/runs", json={"scenario": "queue-mm3", "seed": 1, "years": 0.01},
                      headers={"Origin": "http://localhost"})
    assert own.status_code == 202


def test_cross_site_post_to_the_callback_endpoint_is_refused(tree):
    app = create_app(tree)
    client = app.server.test_client()
    body = callback_body(app, "job-id.data", {"start-run.n_clicks": 1, "new-scenario.value": "queue-mm3",
                                          "new-seed.value": "1", "new-years.value": "0.01"})
    assert client.post(DASH, json=body, headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post(DASH, data=json.dumps(body), content_type="text/plain").status_code == 415
    assert app.jobs._jobs == {}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8050", "127.0.0.1.evil.example", "10.0.0.5"])
def test_unexpected_host_header_is_refused(tree, host):
    client = create_app(tree).server.test_client()
    for url in ("/", "/api/runs", "/download/good/kpis.json"):
        resp = client.get(url, headers={"Host": host})
        assert resp.status_code == 400 and "unexpected Host" in resp.get_json()["error"], (url, host)
    assert client.get("/api/runs", headers={"Host": "127.0.0.1:8050"}).status_code == 200
    assert client.get("/api/runs", headers={"Host": "[::1]:8050"}).status_code == 200


# --- broken runs ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, damage", [
    ("closures.parquet", "corrupt"), ("naval.parquet", "corrupt"), ("scenario.json", "corrupt"),
    ("closures.parquet", "symlink"), ("naval.parquet", "symlink"), ("scenario.json", "symlink"),
])
def test_broken_run_is_a_4xx_with_a_reason_and_an_error_on_the_page(tree, tmp_path, name, damage):
    path = tree / "broken" / name
    if damage == "corrupt":
        path.write_bytes(b"\x00garbage\xff")
    else:
        outside = tmp_path / f"outside-{name}"
        shutil.copy(path, outside)  # a valid file outside the results folder: must not be read
        path.unlink()
        path.symlink_to(outside)
    app = create_app(tree)
    client = app.server.test_client()
    resp = client.get("/api/runs/broken")
    assert resp.status_code == 422, resp.status_code
    error = resp.get_json()["error"]
    assert name in error and ("outside the results folder" in error if damage == "symlink" else "expected" in error)
    assert str(tmp_path) not in error  # no server paths in messages
    out = _kpis(client, app, "broken")  # its error on the page, and nothing else
    assert out["run-error"]["className"] == "banner" and name in out["run-error"]["children"]
    assert out["kpi-cards"]["children"] == [] and out["run-plots"]["children"] == []
    assert out["run-summary"]["children"] == ""
    m = client.post(DASH, json=callback_body(app, "bay-map.figure", {"run-select.value": "broken",
                                                                 "time-slider.value": 10, "map-view.data": "bay"}))
    assert m.status_code == 200 and name in m.get_json()["response"]["map-status"]["children"]


def test_after_a_good_run_a_broken_one_shows_its_error_not_the_previous_run(tree):
    (tree / "broken" / "closures.parquet").write_bytes(b"PAR1 broken")
    app = create_app(tree)
    client = app.server.test_client()
    out = _kpis(client, app, "good")
    assert out["kpi-cards"]["children"] and out["run-plots"]["children"]
    assert out["run-error"]["className"] == "banner hidden"
    out = _kpis(client, app, "broken")
    assert out["run-error"]["className"] == "banner" and "closures.parquet" in out["run-error"]["children"]
    assert out["kpi-cards"]["children"] == [] and out["run-plots"]["children"] == []


def test_a_run_rewritten_broken_is_not_served_from_the_cache(tree):
    app = create_app(tree)
    client = app.server.test_client()
    assert _kpis(client, app, "good")["kpi-cards"]["children"]
    assert client.get("/api/runs/good").status_code == 200
    time.sleep(0.01)
    (tree / "good" / "naval.parquet").write_bytes(b"PAR1 broken")
    out = _kpis(client, app, "good")
    assert out["kpi-cards"]["children"] == [] and "naval.parquet" in out["run-error"]["children"]
    assert client.get("/api/runs/good").status_code == 422


# --- malformed callback bodies ----------------------------------------------------------------

def _deep(n: int):
    v: object = 1
    for _ in range(n):
        v = [v]
    return v


@pytest.mark.parametrize("body, reason", [
    ([], "expected an object"),
    ([1, 2, 3], "expected an object"),
    (None, "expected an object"),
    ({}, "'output' missing"),
    ({"output": "nothing.children", "outputs": [], "inputs": [], "state": []}, "unknown output"),
    ({"output": 5}, "'output' missing"),
    ("[" * 5000 + "1" + "]" * 5000, "nested deeper"),
    ({"output": "x", "inputs": _deep(100)}, "nested deeper"),
])
def test_malformed_callback_bodies_are_400(tree, body, reason):
    client = create_app(tree).server.test_client()
    raw = body if isinstance(body, str) else json.dumps(body)
    resp = client.post(DASH, data=raw, content_type="application/json")
    assert resp.status_code == 400, resp.status_code
    assert reason in resp.get_json()["error"]


def test_callback_body_with_wrong_inputs_or_bad_json_is_400(tree):
    app = create_app(tree)
    client = app.server.test_client()
    body = callback_body(app, "kpi-cards.children", {"run-select.value": "good"})
    for broken in ({**body, "inputs": [{"id": "other", "property": "value", "value": 1}]},
                   {**body, "inputs": "run-select"}, {**body, "outputs": None}, {**body, "outputs": {}},
                   {**body, "outputs": body["outputs"][:2]},
                   {**body, "changedPropIds": [1]}):
        resp = client.post(DASH, json=broken)
        assert resp.status_code == 400 and resp.get_json()["error"].startswith("callback body"), broken
    assert client.post(DASH, data="{not json", content_type="application/json").status_code == 400
    assert client.post(DASH, data=b"[" * 2_000_000, content_type="application/json").status_code == 413


# --- limits -----------------------------------------------------------------------------------

@pytest.mark.parametrize("years", ["1e-300", 1e-300, "0.0001", 0])
def test_a_run_must_cover_at_least_a_day(tree, years):
    client = create_app(tree).server.test_client()
    resp = client.post("/api/runs", json={"scenario": "queue-mm3", "seed": 1, "years": years})
    assert resp.status_code == 400 and "one day" in resp.get_json()["error"]
    assert parse_request("queue-mm3", 1, MIN_YEARS, 1.0)[2] == MIN_YEARS


def test_runs_are_capped_by_the_disk_they_use(tree):
    app = create_app(tree, max_disk_gb=0.001)  # the two runs already there fill 1 MB
    resp = app.server.test_client().post("/api/runs", json={"scenario": "queue-mm3", "seed": 1, "years": 0.01})
    assert resp.status_code == 507 and "--max-disk-gb" in resp.get_json()["error"]


def test_concurrent_runs_are_capped(tree, monkeypatch):
    import threading

    from callao.web.jobs import Jobs

    release = threading.Event()

    def slow_run(self, job):  # a run that lasts until the test lets it finish
        release.wait(30)
        job.status = "done"

    monkeypatch.setattr(Jobs, "_run", slow_run)
    app = create_app(tree)
    client = app.server.test_client()
    codes = [client.post("/api/runs", json={"scenario": "callao", "seed": s, "years": 0.01}).status_code
             for s in range(3)]
    release.set()
    assert codes == [202, 202, 429]


@pytest.mark.parametrize("seed, years, shown", [
    ("12x", "0.01", "seed '12x'"), ("", "0.01", "seed empty"), ("1", "abc", "years 'abc'"),
    ("1", "", "years empty"), ("1", "1e-300", "years '1e-300'"),
])
def test_form_errors_show_what_was_typed(tree, seed, years, shown):
    app = create_app(tree)
    client = app.server.test_client()
    body = callback_body(app, "job-id.data", {"start-run.n_clicks": 1, "new-scenario.value": "queue-mm3",
                                          "new-seed.value": seed, "new-years.value": years})
    resp = client.post(DASH, json=body)
    assert resp.status_code == 200
    status = json.dumps(resp.get_json()["response"]["job-status"])
    assert shown in status and "None" not in status
    with pytest.raises(WebError) as e:
        parse_request("queue-mm3", None, None, 1.0)
    assert "None" not in e.value.message


# --- access token on shared interfaces --------------------------------------------------------

def test_non_loopback_binding_needs_a_token_unless_insecure():
    assert access("127.0.0.1") == ({"localhost", "127.0.0.1", "::1"}, None)
    hosts, token = access("0.0.0.0")
    assert hosts is None and token and len(token) >= 24
    assert access("0.0.0.0")[1] != token  # fresh each start
    hosts, token = access("192.168.1.20")
    assert "192.168.1.20" in hosts and token
    assert access("192.168.1.20", insecure=True)[1] is None


def test_the_token_is_required_and_kept_as_a_cookie(tree):
    client = create_app(tree, hosts=None, token="s3cret-token-value").server.test_client()
    for url in ("/", "/api/runs", "/download/good/kpis.json", "/_dash-layout"):
        assert client.get(url).status_code == 401, url
    assert client.get("/api/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/runs?token=wrong").status_code == 401
    assert client.get("/api/runs", headers={"Authorization": "Bearer s3cret-token-value"}).status_code == 200
    first = client.get("/?token=s3cret-token-value")
    assert first.status_code == 303 and "HttpOnly" in first.headers["Set-Cookie"]
    assert "SameSite=Strict" in first.headers["Set-Cookie"]
    assert client.get("/").status_code == 200  # the cookie from now on
    assert client.get("/api/runs").status_code == 200


def test_serve_warns_when_insecure(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tests.web.test_cli_serve import _app

    started = {}
    monkeypatch.setattr("dash.Dash.run", lambda self, **kw: started.update(kw))
    out = CliRunner().invoke(_app(), ["serve", "--host", "0.0.0.0", "--results", str(tmp_path)])
    assert out.exit_code == 0 and "?token=" in out.output and "Access token" in out.output
    out = CliRunner().invoke(_app(), ["serve", "--host", "0.0.0.0", "--insecure", "--results", str(tmp_path)])
    assert out.exit_code == 0 and "WARNING" in out.output and "token" not in out.output.split("WARNING")[0]
    assert started["host"] == "0.0.0.0"
