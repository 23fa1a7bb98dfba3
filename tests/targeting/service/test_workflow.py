"""The daily workflow: frozen lists, exploration seeds, overrides, idempotent outcomes, retraining
on inspected containers only, explicit promotion, and the unit's figures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select

from callao.targeting.service.models import SelectionItem

from .conftest import DAY


def test_list_is_frozen_and_reproducible_from_its_seed(world):
    a = world.headers("analyst")
    lst = world.lists["dpworld"]
    assert (lst["scans"], lst["exams"], lst["seed"], lst["model_version"]) == (30, 5, 1, world.model)
    assert len(lst["items"]) == 35 and [i["action"] for i in lst["items"]].count("exam") == 5
    assert sum(i["exploration"] for i in lst["items"]) == int(np.floor(0.05 * 35))
    r = world.client.post("/api/selections", headers=a, json={"date": DAY, "terminal": "dpworld", "scans": 1, "exams": 0})
    assert r.status_code == 409 and "frozen" in r.json()["detail"]
    # the same seed on the same declarations and model gives the same list
    t = world.spare_terminals.pop()
    one = world.client.post("/api/selections", headers=a, json={"date": DAY, "terminal": t, "scans": 3, "exams": 1,
                                                                "exploration": 0.5, "seed": 7}).json()
    from callao.targeting.selection import select_for_inspection
    from callao.targeting.service import workflow
    from callao.targeting.service.models import Declaration

    with world.db.read() as s:
        df = workflow.declarations(s, (Declaration.date == dt.date.fromisoformat(one["date"])) & (Declaration.terminal == t))
        model = workflow.load_model(s, world.model)
    df = df.drop(columns=["terminal"]).sort_values("declaration_id", kind="stable").reset_index(drop=True)
    mask = select_for_inspection(model.rank_score(df), 4, np.random.default_rng(7), 0.5, "random")
    assert set(df.loc[mask, "declaration_id"]) == {i["declaration_id"] for i in one["items"]}
    # reasons were computed for the selected only, each with positive contributions
    assert all(i["reasons"] and all(r["contribution"] > 0 for r in i["reasons"]) for i in one["items"])


def test_outcome_retry_with_another_offset_is_the_same_outcome(world):
    h = world.headers("officer")
    d = world.items()[-1]
    body = {"declaration_id": d, "inspected_at": f"{DAY}T10:40:00-05:00", "found": True, "what": "cocaine", "kg": 12.5,
            "revenue_usd": 18750}
    assert world.client.post("/api/outcomes", headers=h, json=body).status_code == 201
    assert world.client.post("/api/outcomes", headers=h, json=body).status_code == 200
    same = {**body, "inspected_at": f"{DAY}T15:40:00Z"}
    assert world.client.post("/api/outcomes", headers=h, json=same).status_code == 200
    r = world.client.post("/api/outcomes", headers=h, json={**body, "kg": 13})
    assert r.status_code == 409


def test_overrides_change_the_list_only_when_approved(world):
    a, sup, off = world.headers("analyst"), world.headers("supervisor"), world.headers("officer")
    sel = world.lists["dpworld"]["id"]
    listed = set(world.items())
    extra = next(d for d, t in zip(world.day["declaration_id"], world.day["terminal"]) if t == "dpworld" and d not in listed)
    drop = world.items()[5]
    ask = lambda who, d, act: world.client.post("/api/overrides", headers=who, json={  # noqa: E731
        "selection_id": sel, "declaration_id": d, "action": act, "reason": "tip from the dog unit"}).json()["id"]
    o_add, o_drop, o_refused = ask(off, extra, "add"), ask(a, drop, "drop"), ask(off, world.items()[6], "drop")
    view = lambda: {i["declaration_id"] for i in world.client.get(  # noqa: E731
        f"/api/lists/dpworld?date={DAY}", headers=off).json()["items"]}
    assert view() == listed  # pending requests change nothing
    for o, ok in ((o_add, True), (o_drop, True), (o_refused, False)):
        r = world.client.post(f"/api/overrides/{o}/decision", headers=sup, json={"approve": ok})
        assert r.status_code == 200 and r.json()["status"] == ("approved" if ok else "refused")
    assert world.client.post(f"/api/overrides/{o_add}/decision", headers=sup, json={"approve": False}).status_code == 409
    assert view() == (listed | {extra}) - {drop}
    with world.db.read() as s:  # the issued items themselves are untouched
        assert set(s.execute(select(SelectionItem.declaration_id).where(SelectionItem.selection_id == sel)).scalars()) == listed
    figures = world.client.get("/api/figures", headers=sup).json()
    row = next(f for f in figures if f["terminal"] == "dpworld")
    assert row["overrides_requested"] >= 3 and row["overrides_approved"] >= 2 and row["overrides_refused"] >= 1
    assert row["override_requests_by"].get("off_dp", 0) >= 2 and row["override_requests_by"].get("ana", 0) >= 1


def test_retraining_learns_from_outcomes_and_promotion_is_explicit(world):
    a, off, sup = world.headers("analyst"), world.headers("officer"), world.headers("supervisor")
    items = sorted(i["declaration_id"] for i in world.client.get(f"/api/lists/dpworld?date={DAY}", headers=off).json()["items"])[:12]
    for k, d in enumerate(items):
        r = world.client.post("/api/outcomes", headers=off, json={
            "declaration_id": d, "inspected_at": f"{DAY}T12:00:00Z", "found": k % 3 == 0, "kg": 10.0 * (k % 3 == 0)})
        assert r.status_code in (200, 201), r.text
    before = world.client.get("/api/models", headers=a).json()[0]
    r = world.client.post("/api/models", headers=a, json={"n_estimators": 10})
    assert r.status_code == 201
    v = r.json()
    from sqlalchemy import func

    from callao.targeting.service.models import Outcome

    with world.db.read() as s:
        n_outcomes = s.execute(select(func.count()).select_from(Outcome)).scalar_one()
    assert v["n_outcome_labels"] == n_outcomes >= 12
    assert v["n_labelled"] == before["n_labelled"] - before["n_outcome_labels"] + n_outcomes  # inspected only
    assert "at_rates" in v["metrics"] and v["promoted_at"] is None
    from callao.targeting.service import workflow

    assert v["params"]["num_leaves"] == workflow.NUM_LEAVES < 63  # small trees: fast exact reasons
    with world.db.read() as s:
        trees = workflow.load_model(s, v["id"]).booster_.dump_model()["tree_info"]
    assert max(t["num_leaves"] for t in trees) <= workflow.NUM_LEAVES
    t = world.spare_terminals.pop()
    r = world.client.post("/api/selections", headers=a, json={"date": DAY, "terminal": t, "scans": 1, "exams": 0})
    assert r.json()["model_version"] != v["id"]  # not used until promoted
    assert world.client.post(f"/api/models/{v['id']}/promote", headers=a).status_code == 200
    t = world.spare_terminals.pop()
    r = world.client.post("/api/selections", headers=a, json={"date": DAY, "terminal": t, "scans": 1, "exams": 0})
    assert r.json()["model_version"] == v["id"]
    log = world.client.get("/api/audit?limit=1000", headers=sup).json()
    assert any(e["action"] == f"POST /api/models/{v['id']}/promote" and e["actor"] == "ana" for e in log)
    fig = next(f for f in world.client.get("/api/figures", headers=sup).json() if f["terminal"] == "dpworld")
    assert fig["inspections"] >= 12 and fig["hits"] >= 4 and fig["hit_rate"] == fig["hits"] / fig["inspections"]
    assert fig["kg_seized"] >= 40.0 and fig["week"] == "2025-W09"
