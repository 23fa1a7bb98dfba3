"""The supervisor's dashboard page: the unit's figures as server-rendered HTML, for supervisors
only, signed in by bearer token or by the sign-in form's HttpOnly same-site cookie."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from callao.targeting.service import dashboard
from callao.targeting.service.app import SESSION_COOKIE

from .conftest import DAY, PASSWORD


@pytest.fixture(scope="module")
def world(world):  # noqa: ANN001, ANN201
    """The shared service, with outcomes (every third container a hit) and an override recorded."""
    w = world
    off = {"dpworld": w.headers("officer"), "apmt": w.headers("officer_apmt")}
    for t, h in off.items():  # outcomes: every third container a hit of 10 kg
        for k, d in enumerate(sorted(w.items(t))[:9]):
            r = w.client.post("/api/outcomes", headers=h, json={
                "declaration_id": d, "inspected_at": f"{DAY}T12:00:00Z", "found": k % 3 == 0, "kg": 10.0 * (k % 3 == 0)})
            assert r.status_code == 201, r.text
    r = w.client.post("/api/overrides", headers=off["apmt"], json={
        "selection_id": w.lists["apmt"]["id"], "declaration_id": w.items("apmt")[-1], "action": "drop",
        "reason": "reefer plugged, cannot be opened"})
    assert r.status_code == 201, r.text
    return w


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_dashboard_shows_the_unit_figures(world):
    sup = world.headers("supervisor")
    r = world.client.get("/api/dashboard", headers=sup)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"] and "<script" not in r.text
    text = _text(r.text)
    figures = world.client.get("/api/figures", headers=sup).json()
    for t in ("dpworld", "apmt"):  # per terminal: inspections, hits, hit rate, kg
        rows = [f for f in figures if f["terminal"] == t]
        insp, hits = sum(f["inspections"] for f in rows), sum(f["hits"] for f in rows)
        assert (insp, hits) == (9, 3)
        assert re.search(rf"{t} 1 35 9 3 33\.3 %", text), text
    assert re.search(r"2025-W09 2 70 18 6 33\.3 %", text), text  # the week, both terminals
    assert re.search(r"all terminals 2 70 18 6 33\.3 % .* 60 ", text)  # unit: 6 hits x 10 kg
    assert "off_ap (1)" in text  # who asked for the override
    assert f"#{world.model} (in use)" in text and "by ana" in text  # model versions, who promoted


def test_dashboard_is_for_supervisors_only(world):
    assert world.client.get("/api/dashboard").status_code == 401
    for role in ("analyst", "officer", "admin"):
        r = world.client.get("/api/dashboard", headers=world.headers(role))
        assert r.status_code == 403 and "may not" in r.json()["detail"]


def test_browser_signs_in_with_a_same_site_cookie(world):
    browser = TestClient(world.app, follow_redirects=False)
    r = browser.get("/dashboard")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/login"
    assert 'action="/dashboard/login"' in browser.get("/dashboard/login").text
    r = browser.post("/dashboard/login", data={"username": "off_dp", "password": PASSWORD})
    assert r.status_code == 401 and SESSION_COOKIE not in r.cookies  # an officer is refused
    r = browser.post("/dashboard/login", data={"username": "sup", "password": PASSWORD},
                     headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and SESSION_COOKIE not in r.cookies  # cross-origin sign-in refused
    r = browser.post("/dashboard/login", data={"username": "sup", "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/api/dashboard"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert browser.get("/api/dashboard").status_code == 200
    assert browser.get("/api/figures").status_code == 401  # the cookie opens the dashboard only
    token = browser.cookies[SESSION_COOKIE]
    assert browser.post("/dashboard/logout").status_code == 303
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401  # revoked
    browser.cookies.set(SESSION_COOKIE, token)
    assert browser.get("/api/dashboard").status_code == 401
    log = world.client.get("/api/audit?limit=1000", headers=world.headers("supervisor")).json()
    results = [(e["actor"], e["action"], e["result"]) for e in log]
    assert ("off_dp", "POST /dashboard/login", "403 sign-in refused: role officer") in results
    assert any(a == "sup" and act == "POST /dashboard/login" and res.startswith("200 login") for a, act, res in results)
    assert ("sup", "POST /dashboard/logout", "200 token revoked (dashboard sign-out)") in results
    browser.close()


def test_render_escapes_every_value():
    row = {"terminal": "<script>x</script>", "week": "2025-W01", "lists": 1, "listed": 2, "inspections": 2, "hits": 1,
           "random_inspections": 0, "random_hits": 0, "kg_seized": 0.0, "revenue_usd": 0.0, "overrides_requested": 1,
           "overrides_approved": 0, "overrides_refused": 0, "override_requests_by": {"<b>eve</b>": 1},
           "hit_rate": 0.5, "random_baseline": None}
    page = dashboard.render([row], [], "<i>sup</i>", dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    assert "<script>" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "50.0 %" in page
