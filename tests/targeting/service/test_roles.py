"""Role matrix: every endpoint × every role × no token. Only the allowed roles succeed; no token
→ 401; the wrong role → 403; an officer never sees or touches another terminal's list."""

from __future__ import annotations

import itertools

import pytest

from .conftest import DAY, World, add_user, csv_bytes, day_frame

ROLES = ("analyst", "officer", "supervisor", "admin")
_n = itertools.count()


def _fresh(prefix: str) -> str:
    return f"{prefix}{next(_n)}"


def _upload(w: World):
    df = day_frame(5, seed=11, prefix=_fresh("U") + "-")
    return "POST", "/api/uploads", {"files": {"file": ("u.csv", csv_bytes(df))}}


def _disable(w: World):
    name = _fresh("gone")
    add_user(w.db, name, "analyst")
    return "POST", f"/api/users/{name}/disable", {}


def _next_item(w: World, used: set = set()) -> str:  # noqa: B006 - shared on purpose: each item once
    for d in w.items("dpworld"):
        if d not in used:
            used.add(d)
            return d
    raise AssertionError("list exhausted")


def _decision(w: World):
    r = w.client.post("/api/overrides", headers=w.headers("analyst"), json={
        "selection_id": w.lists["dpworld"]["id"], "declaration_id": w.items()[0], "action": "drop",
        "reason": "duplicate of a container examined yesterday"})
    assert r.status_code == 201, r.text
    return "POST", f"/api/overrides/{r.json()['id']}/decision", {"json": {"approve": False, "note": "keep it"}}


CASES = {  # (method, path template) -> (allowed roles, request factory)
    ("POST", "/api/logout"): (ROLES, lambda w: ("POST", "/api/logout", {})),
    ("GET", "/api/me"): (ROLES, lambda w: ("GET", "/api/me", {})),
    ("GET", "/api/users"): (("admin",), lambda w: ("GET", "/api/users", {})),
    ("POST", "/api/users"): (("admin",), lambda w: ("POST", "/api/users", {"json": {
        "name": _fresh("new"), "password": "long enough pw", "role": "supervisor"}})),
    ("POST", "/api/users/{name}/disable"): (("admin",), _disable),
    ("POST", "/api/users/{name}/role"): (("admin",), lambda w: ("POST", "/api/users/sup/role", {"json": {
        "role": "supervisor"}})),
    ("POST", "/api/uploads"): (("analyst",), _upload),
    ("GET", "/api/uploads"): (("analyst", "supervisor"), lambda w: ("GET", "/api/uploads", {})),
    ("POST", "/api/models"): (("analyst",), lambda w: ("POST", "/api/models", {"json": {"n_estimators": 10}})),
    ("GET", "/api/models"): (("analyst", "supervisor"), lambda w: ("GET", "/api/models", {})),
    ("POST", "/api/models/{version}/evaluate"): (("analyst",), lambda w: (
        "POST", f"/api/models/{w.model}/evaluate", {"json": {"start": "2025-01-01"}})),
    ("POST", "/api/models/{version}/promote"): (("analyst",), lambda w: (
        "POST", f"/api/models/{w.model}/promote", {})),
    ("POST", "/api/selections"): (("analyst",), lambda w: ("POST", "/api/selections", {"json": {
        "date": DAY, "terminal": w.spare_terminals.pop(), "scans": 2, "exams": 1}})),
    ("GET", "/api/selections"): (("analyst", "supervisor"), lambda w: ("GET", "/api/selections", {})),
    ("GET", "/api/lists/{terminal}"): (("officer",), lambda w: ("GET", f"/api/lists/dpworld?date={DAY}", {})),
    ("POST", "/api/outcomes"): (("officer",), lambda w: ("POST", "/api/outcomes", {"json": {
        "declaration_id": _next_item(w), "inspected_at": f"{DAY}T09:30:00Z", "found": False}})),
    ("POST", "/api/notes"): (("officer",), lambda w: ("POST", "/api/notes", {"json": {
        "declaration_id": w.items()[1], "text": "seal number differs from the manifest"}})),
    ("POST", "/api/overrides"): (("officer", "analyst"), lambda w: ("POST", "/api/overrides", {"json": {
        "selection_id": w.lists["dpworld"]["id"], "declaration_id": w.items()[2], "action": "drop",
        "reason": "reefer plugged, cannot be opened today"}})),
    ("GET", "/api/overrides"): (("supervisor", "analyst"), lambda w: ("GET", "/api/overrides", {})),
    ("POST", "/api/overrides/{override_id}/decision"): (("supervisor",), _decision),
    ("GET", "/api/audit"): (("supervisor",), lambda w: ("GET", "/api/audit", {})),
    ("GET", "/api/audit/verify"): (("supervisor",), lambda w: ("GET", "/api/audit/verify", {})),
    ("GET", "/api/figures"): (("supervisor",), lambda w: ("GET", "/api/figures", {})),
    ("GET", "/api/dashboard"): (("supervisor",), lambda w: ("GET", "/api/dashboard", {})),
}


def test_every_endpoint_is_in_the_matrix(world):
    routes = {(m.upper(), p) for p, ops in world.app.openapi()["paths"].items() for m in ops}
    assert routes - {("POST", "/api/login")} == set(CASES)


@pytest.mark.parametrize("endpoint", list(CASES), ids=[f"{m} {p}" for m, p in CASES])
def test_role_matrix(world, endpoint):
    allowed, make = CASES[endpoint]
    method, path, kw = make(world)
    r = world.client.request(method, path, **kw)
    assert r.status_code == 401, (path, r.text)
    r = world.client.request(method, path, headers={"Authorization": "Bearer not-a-token"}, **kw)
    assert r.status_code == 401, (path, r.text)
    for role in sorted(ROLES, key=lambda x: x in allowed):  # the refused ones first
        method, path, kw = make(world)
        token = world.login(World.USERS[role][0]) if endpoint == ("POST", "/api/logout") else world.tokens[role]
        r = world.client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)
        if role in allowed:
            assert 200 <= r.status_code < 300, (role, path, r.status_code, r.text)
        else:
            assert r.status_code == 403, (role, path, r.status_code, r.text)
            assert "may not" in r.json()["detail"]


def test_officer_never_sees_or_touches_another_terminals_list(world):
    h = world.headers("officer")  # dpworld
    r = world.client.get(f"/api/lists/apmt?date={DAY}", headers=h)
    assert r.status_code == 403 and "own terminal" in r.json()["detail"]
    theirs = world.items("apmt")[0]
    r = world.client.post("/api/outcomes", headers=h, json={"declaration_id": theirs, "inspected_at": f"{DAY}T10:00:00Z",
                                                           "found": True})
    assert r.status_code == 403, r.text
    r = world.client.post("/api/notes", headers=h, json={"declaration_id": theirs, "text": "x"})
    assert r.status_code == 403, r.text
    r = world.client.post("/api/overrides", headers=h, json={"selection_id": world.lists["apmt"]["id"],
                                                            "declaration_id": theirs, "action": "drop", "reason": "not needed"})
    assert r.status_code == 403, r.text
    mine = world.client.get(f"/api/lists/apmt?date={DAY}", headers=world.headers("officer_apmt"))
    assert mine.status_code == 200 and {i["declaration_id"] for i in mine.json()["items"]} == set(world.items("apmt"))


def test_officer_view_hides_exploration_and_risk(world):
    full = world.lists["dpworld"]
    assert any(i["exploration"] for i in full["items"]), "the fixture list should hold exploration picks"
    seen = world.client.get(f"/api/lists/dpworld?date={DAY}", headers=world.headers("officer")).json()
    for item in seen["items"]:
        assert set(item) == {"declaration_id", "action", "reasons"}
        assert all(set(r) == {"feature", "value"} for r in item["reasons"])
    assert "seed" not in seen and "exploration" not in seen and "model_version" not in seen


def test_tokens_expire_and_logout_revokes(world):
    token = world.login("sup")
    h = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/api/me", headers=h).status_code == 200
    assert world.client.post("/api/logout", headers=h).status_code == 200
    assert world.client.get("/api/me", headers=h).status_code == 401
    from sqlalchemy import update

    from callao.targeting.service.auth import token_hash
    from callao.targeting.service.models import Token, utcnow

    token = world.login("sup")
    with world.db.write() as s:
        s.execute(update(Token).where(Token.token_hash == token_hash(token)).values(expires_at=utcnow()))
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_failed_and_successful_logins_are_audited(world):
    r = world.client.post("/api/login", json={"username": "ana", "password": "wrong password"})
    assert r.status_code == 401
    r = world.client.post("/api/login", json={"username": "nobody", "password": "x"})
    assert r.status_code == 401
    world.login("ana")
    log = world.client.get("/api/audit?limit=1000", headers=world.headers("supervisor")).json()
    results = [(e["actor"], e["result"]) for e in log if e["action"] == "POST /api/login"]
    assert ("ana", "401 login failed") in results and ("nobody", "401 login failed") in results
    assert results[-1][0] == "ana" and results[-1][1].startswith("200 login")
