"""Tamper evidence: the audit table refuses UPDATE and DELETE; with the triggers dropped, editing,
deleting or reordering rows directly in the database is caught by ``audit verify`` (exit 1,
naming the first broken entry)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from callao.targeting.cli import app as cli
from callao.targeting.service import audit
from callao.targeting.service.db import Database

runner = CliRunner()


@pytest.fixture
def trail(db_url):  # noqa: ANN001, ANN201
    """A database whose audit trail has 6 entries, made through the CLI."""
    for i in range(3):
        r = runner.invoke(cli, ["users", "add", f"user{i}", "--role", "analyst", "--db", db_url],
                          env={"CALLAO_PASSWORD": "long enough pw"})
        assert r.exit_code == 0, r.output
        r = runner.invoke(cli, ["users", "disable", f"user{i}", "--db", db_url])
        assert r.exit_code == 0, r.output
    db = Database.connect(db_url)
    yield db
    db.dispose()


def _verify(url: str):  # noqa: ANN202
    return runner.invoke(cli, ["audit", "verify", "--db", url])


def _drop_triggers(db: Database) -> None:
    with db.writer.begin() as c:
        if db.backend == "sqlite":
            c.execute(text("DROP TRIGGER audit_log_no_update"))
            c.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            c.execute(text("DROP TRIGGER audit_log_no_update ON audit_log"))


def _sql(db: Database, *statements: str) -> None:
    with db.writer.begin() as c:
        for s in statements:
            c.execute(text(s))


def test_intact_trail_verifies_and_cli_actions_are_entries(trail, db_url):
    r = _verify(db_url)
    assert r.exit_code == 0, r.output
    assert "intact: 6 entries" in r.output
    with trail.read() as s:
        rows = s.execute(text("SELECT actor, role, action, result FROM audit_log ORDER BY seq")).all()
    assert [x[2] for x in rows] == ["users add", "users disable"] * 3
    assert all(x[0].startswith("cli") and x[1] == "cli" for x in rows)


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET result = 'nothing happened' WHERE seq = 2",
                                       "DELETE FROM audit_log WHERE seq = 2"])
def test_database_refuses_update_and_delete(trail, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(trail, statement)
    with trail.read() as s:
        assert audit.verify(s).ok


@pytest.mark.parametrize("tamper, broken", [
    (["UPDATE audit_log SET result = 'user2 created (supervisor)' WHERE seq = 3"], 3),   # edit the content
    (["UPDATE audit_log SET actor = 'cli:someone-else' WHERE seq = 1"], 1),              # edit who
    (["DELETE FROM audit_log WHERE seq = 4"], 4),                                         # delete in the middle
    (["DELETE FROM audit_log WHERE seq = 6"], 6),                                         # delete the newest
    (["DELETE FROM audit_log WHERE seq >= 5"], 5),                                        # delete a tail
    (["UPDATE audit_log SET seq = -1 WHERE seq = 2",                                      # swap entries 2 and 3
      "UPDATE audit_log SET seq = 2 WHERE seq = 3",
      "UPDATE audit_log SET seq = 3 WHERE seq = -1"], 2),
], ids=["edit-result", "edit-actor", "delete-middle", "delete-newest", "delete-tail", "reorder"])
def test_verify_names_the_first_broken_entry(trail, db_url, tamper, broken):
    _drop_triggers(trail)
    _sql(trail, *tamper)
    r = _verify(db_url)
    assert r.exit_code == 1, r.output
    assert f"entry {broken} " in r.output, r.output


def test_rehashing_an_edited_entry_still_breaks_the_next_link(trail, db_url):
    """An editor who also recomputes the edited entry's hash breaks the link to the next entry."""
    _drop_triggers(trail)
    with trail.read() as s:
        e = s.execute(text("SELECT seq, at, actor, role, action, request_sha256, prev_hash FROM audit_log "
                           "WHERE seq = 3")).one()
    forged = audit.entry_hash(e.seq, e.at, e.actor, e.role, e.action, e.request_sha256, "forged", e.prev_hash)
    _sql(trail, f"UPDATE audit_log SET result = 'forged', hash = '{forged}' WHERE seq = 3")
    r = _verify(db_url)
    assert r.exit_code == 1 and "entry 4 " in r.output, r.output
