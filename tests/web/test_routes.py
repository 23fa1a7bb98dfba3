"""The Flask routes: downloads, the JSON API, refusals (never a traceback, never a file outside the
results folder)."""

from __future__ import annotations

import http.client
import json
import os
import time

import pytest

from callao.web.app import create_app
from callao.web.runs import Store, WebError

SECRET = "TOP-SECRET-NOT-FOR-DOWNLOAD"


@pytest.fixture(scope="module")
def tree(tmp_path_factory, short_results):
    """results/ with a run, a nested run, a symlink to a run outside, a run whose kpis.json links
    outside; a secret file next to results/."""
    base = tmp_path_factory.mktemp("routes")
    root = base / "results"
    short_results.write(root / "run1")
    short_results.write(root / "group" / "nested")
    outside = base / "outside"
    short_results.write(outside)
    (outside / "report.html").write_text(SECRET)
    (base / "secret.txt").write_text(SECRET)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "linked").mkdir()
    (root / "linked" / "kpis.json").symlink_to(outside / "kpis.json")
    (root / "run1" / "report.html").symlink_to(base / "secret.txt")
    (root / ".hidden").mkdir()
    short_results.write(root / ".hidden" / "run")
    return root


@pytest.fixture(scope="module")
def client(tree):
    return create_app(tree).server.test_client()


def _no_secret(resp):
    assert SECRET.encode() not in resp.get_data()
    assert b"Traceback" not in resp.get_data()


def test_lists_runs_and_comparisons_only_inside(client):
    resp = client.get("/api/runs")
    assert resp.status_code == 200
    ids = {e["id"] for e in resp.get_json()}
    assert ids == {"run1", "group/nested"}


def test_downloads_a_runs_files(client, short_results):
    resp = client.get("/download/run1/kpis.json")
    assert resp.status_code == 200
    assert json.loads(resp.get_data())["vessel_calls_total"] == short_results.kpis["vessel_calls_total"]
    resp = client.get("/download/group/nested/vessels.parquet")
    assert resp.status_code == 200 and resp.get_data()[:4] == b"PAR1"
    assert "attachment" in resp.headers.get("Content-Disposition", "")


def test_unknown_run_is_a_404_json(client):
    for url in ("/api/runs/nope", "/download/nope/kpis.json", "/download/group/nope/kpis.json"):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert resp.is_json and "unknown" in resp.get_json()["error"]
    resp = client.get("/download/run1/containers.csv")
    assert resp.status_code in (400, 404) and resp.is_json


@pytest.mark.parametrize("url", [
    "/download/..%2fsecret.txt/kpis.json",
    "/download/..%2f..%2fetc/passwd",
    "/download/%2e%2e/%2e%2e/etc/passwd",
    "/download/%2e%2e%2f%2e%2e%2fetc/passwd",
    "/download/run1/..%2f..%2fsecret.txt",
    "/download/run1/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/download/..%252f..%252fsecret.txt/kpis.json",
    "/download//etc/passwd",
    "/download/%2fetc%2fpasswd/kpis.json",
    "/download/%2Fetc/passwd",
    "/download/escape/report.html",
    "/download/escape/kpis.json",
    "/download/linked/kpis.json",
    "/download/run1/report.html",
    "/download/.hidden/run/kpis.json",
    "/download/group/../run1/kpis.json",
    "/download/run1%00/kpis.json",
    "/download/a/b/c/kpis.json",
    "/api/runs/..%2f..%2fetc",
    "/api/runs/escape",
])
def test_path_traversal_is_refused(client, url):
    resp = client.get(url)
    assert resp.status_code in (400, 404), (url, resp.status_code)
    assert resp.is_json
    _no_secret(resp)


def test_raw_http_traversal_is_refused(tree, live_server_factory):
    """Through a real socket, with the request line as written (no client-side normalising)."""
    srv = live_server_factory(tree)
    for raw in ("/download/../secret.txt", "/download/../../../../etc/passwd", "/download/run1/../../secret.txt",
                "/download/..%2f..%2fsecret.txt/kpis.json", "/download/%2e%2e/secret.txt",
                f"/download/{tree.parent / 'secret.txt'}", f"/download/{tree.parent}/secret.txt/kpis.json"):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        conn.putrequest("GET", raw, skip_host=False, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        assert resp.status in (400, 404), (raw, resp.status)
        assert SECRET.encode() not in body and b"root:" not in body and b"Traceback" not in body


def test_store_refuses_ids_before_touching_the_disk(tree):
    store = Store(tree)
    for bad in ("..", "../x", "/etc", "a/../b", "a//b", "", "a/b/c", "@root/x", "x\x00", ".hidden"):
        with pytest.raises(WebError) as e:
            store.folder(bad)
        assert e.value.status == 400, bad
    with pytest.raises(WebError) as e:
        store.folder("escape")
    assert e.value.status == 404


@pytest.mark.parametrize("body, field", [
    ({"scenario": "callao", "seed": 1, "years": "abc"}, "years"),
    ({"scenario": "callao", "seed": 1, "years": 0}, "years"),
    ({"scenario": "callao", "seed": 1, "years": -1}, "years"),
    ({"scenario": "callao", "seed": 1, "years": 2}, "years"),  # above the default maximum of 1
    ({"scenario": "callao", "seed": 1, "years": "nan"}, "years"),
    ({"scenario": "callao", "seed": 1, "years": "inf"}, "years"),
    ({"scenario": "callao", "seed": 1, "years": None}, "years"),
    ({"scenario": "callao", "seed": 1, "years": [1]}, "years"),
    ({"scenario": "callao", "seed": "x", "years": 0.01}, "seed"),
    ({"scenario": "callao", "seed": -3, "years": 0.01}, "seed"),
    ({"scenario": "callao", "seed": 1.5, "years": 0.01}, "seed"),
    ({"scenario": "../etc/passwd", "seed": 1, "years": 0.01}, "scenario"),
    ({"scenario": "nope", "seed": 1, "years": 0.01}, "scenario"),
])
def test_malformed_run_requests_are_400(client, body, field):
    resp = client.post("/api/runs", json=body)
    assert resp.status_code == 400, body
    assert field in resp.get_json()["error"]


def test_non_json_start_request_is_refused(client):
    resp = client.post("/api/runs", data="years=abc", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415 and resp.is_json and "form posts are refused" in resp.get_json()["error"]
    resp = client.post("/api/runs", data="[1, 2", content_type="application/json")
    assert resp.status_code == 400 and resp.is_json


def test_other_bad_requests(client):
    assert client.get("/api/jobs/nope").status_code == 404
    assert client.get("/api/positions/run1?t=abc").status_code == 400
    assert client.get("/api/positions/run1?t=inf").status_code == 400
    assert client.get("/api/nothing").status_code == 404
    resp = client.get("/api/positions/run1?t=20")
    assert resp.status_code == 200 and all(p["state"] for p in resp.get_json())


def test_start_a_run_through_the_api(tmp_path):
    app = create_app(tmp_path, max_years=0.05)
    client = app.server.test_client()
    resp = client.post("/api/runs", json={"scenario": "queue-mm3", "seed": 2, "years": 0.01})
    assert resp.status_code == 202, resp.get_json()
    job = resp.get_json()["id"]
    deadline = time.time() + 60
    while time.time() < deadline:
        state = client.get(f"/api/jobs/{job}").get_json()
        if state["status"] != "running":
            break
        time.sleep(0.1)
    assert state["status"] == "done", state
    assert state["run_id"].startswith("web-queue-mm3-s2-")
    assert client.get(f"/download/{state['run_id']}/kpis.json").status_code == 200
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".partial")]
    assert client.post("/api/runs", json={"scenario": "callao", "seed": 1, "years": 0.06}).status_code == 400


def test_max_years_is_bounded(tmp_path):
    with pytest.raises(ValueError):
        create_app(tmp_path, max_years=6)


def test_the_results_folder_itself_can_be_a_run(tmp_path, short_results):
    """``callao run`` writes to out/ directly: that run has the id @root."""
    short_results.write(tmp_path)
    client = create_app(tmp_path).server.test_client()
    assert [e["id"] for e in client.get("/api/runs").get_json()] == ["@root"]
    assert client.get("/download/@root/kpis.json").status_code == 200
    assert client.get("/api/runs/@root").get_json()["kpis"]["vessel_calls_total"] > 0
    assert client.get("/download/@root/..%2f..%2fetc%2fpasswd").status_code in (400, 404)


def test_malformed_callback_requests_are_not_500(tree):
    """Dash's callback endpoint with values no control would send: no 500, no traceback."""
    app = create_app(tree)
    client = app.server.test_client()
    key = next(k for k in app.callback_map if "bay-map.figure" in k)
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")]
    for slider, run, view in (("abc", "../../etc", {"x": 1}), (None, ["run1"], None), ("1e999", "run1", "harbour"),
                              (12, "/etc/passwd", "bay")):
        body = {"output": key, "outputs": outputs, "changedPropIds": ["time-slider.value"], "state": [],
                "inputs": [{"id": "time-slider", "property": "value", "value": slider},
                           {"id": "run-select", "property": "value", "value": run},
                           {"id": "map-view", "property": "data", "value": view}]}
        resp = client.post("/_dash-update-component", json=body)
        assert resp.status_code in (200, 204), (slider, run, view, resp.status_code)
        _no_secret(resp)
