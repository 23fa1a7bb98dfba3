"""Nothing lost, on a real uvicorn server on 127.0.0.1: 50 concurrent clients recording outcomes
lose no write and create no duplicate; a server killed with SIGKILL in the middle of uploads and
outcome writes restarts with every acknowledged write present and the audit chain intact."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from callao.targeting.cli import app as cli
from callao.targeting.service.models import AuditEntry, Declaration, Outcome, Upload

from .conftest import DAY, World, csv_bytes, day_frame, drop_database

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``callao targeting serve`` as a subprocess on a free loopback port."""

    def __init__(self, url: str, cwd: Path) -> None:
        self.url, self.cwd, self.port = url, cwd, _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(cwd / f"server-{self.port}.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "callao.targeting.cli", "serve", "--db", url,
                                      "--port", str(self.port)], cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(cwd / f'server-{self.port}.log').read_text()}")
            try:
                if httpx.get(self.base + "/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def world(db_url):  # noqa: ANN001, ANN201
    """The standard world, with a 130-container list at dpworld."""
    w = World(db_url, n_day=300, scans=125, exams=5)
    w.client.close()
    yield w
    w.db.dispose()


def _verify(url: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["audit", "verify", "--db", url])
    return r.exit_code, r.output


def test_fifty_concurrent_clients_lose_nothing_and_duplicate_nothing(world, tmp_path):
    items = world.items("dpworld")
    assert len(items) >= 51
    shared = items[50]
    server = Server(world.url, tmp_path)
    try:
        start = threading.Barrier(50)
        answers: dict[int, list[tuple[str, int]]] = {}

        def client(i: int) -> None:
            out = answers.setdefault(i, [])
            with httpx.Client(base_url=server.base, headers=world.headers("officer"), timeout=120) as c:
                start.wait()
                for d in (items[i], shared, items[i]):  # own, shared by all, own again (a retry)
                    body = {"declaration_id": d, "inspected_at": f"{DAY}T08:00:00Z", "found": d == shared,
                            "what": "cocaine" if d == shared else None, "kg": 40.0 if d == shared else 0.0}
                    out.append((d, c.post("/api/outcomes", json=body).status_code))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    codes = [code for a in answers.values() for _, code in a]
    assert len(codes) == 150 and set(codes) <= {200, 201}, sorted(set(codes))
    for i in range(50):  # own container: created once, the retry is answered 200
        assert [c for d, c in answers[i] if d == items[i]] == [201, 200]
    shared_codes = [c for a in answers.values() for d, c in a if d == shared]
    assert sorted(shared_codes) == [200] * 49 + [201]
    with world.db.read() as s:
        rows = s.execute(select(Outcome.declaration_id, Outcome.found, Outcome.kg)).all()
        n_entries = s.execute(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "POST /api/outcomes")).scalar_one()
    assert len(rows) == 51 and len({r[0] for r in rows}) == 51
    assert {r[0] for r in rows} == set(items[:51])
    assert [(r[1], r[2]) for r in rows if r[0] == shared] == [(True, 40.0)]
    assert n_entries == 150  # one audit entry per request, acknowledged or idempotent
    code, out = _verify(world.url)
    assert code == 0, out


def test_sigkill_mid_writes_loses_no_acknowledged_write(world, tmp_path):
    items = world.items("dpworld")
    server = Server(world.url, tmp_path)
    acked_uploads: list[tuple[int, int, str]] = []  # (upload id, accepted, first declaration id)
    acked_outcomes: list[str] = []
    stop = threading.Event()

    def uploader(k: int) -> None:
        with httpx.Client(base_url=server.base, headers=world.headers("analyst"), timeout=60) as c:
            for j in range(1000):
                if stop.is_set():
                    return
                df = day_frame(40, seed=j, prefix=f"K{k}-{j}-")
                try:
                    r = c.post("/api/uploads", files={"file": (f"k{k}-{j}.csv", csv_bytes(df))})
                except httpx.HTTPError:
                    return
                if r.status_code == 201:
                    acked_uploads.append((r.json()["id"], r.json()["accepted"], df["declaration_id"].iloc[0]))

    def recorder(k: int) -> None:
        with httpx.Client(base_url=server.base, headers=world.headers("officer"), timeout=60) as c:
            for d in items[k::4]:
                if stop.is_set():
                    return
                body = {"declaration_id": d, "inspected_at": f"{DAY}T11:00:00Z", "found": False}
                try:
                    r = c.post("/api/outcomes", json=body)
                except httpx.HTTPError:
                    return
                if r.status_code == 201:
                    acked_outcomes.append(d)

    threads = [threading.Thread(target=uploader, args=(k,)) for k in range(2)]
    threads += [threading.Thread(target=recorder, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while (len(acked_uploads) < 4 or len(acked_outcomes) < 10) and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # in the middle of both kinds of writes
    stop.set()
    for t in threads:
        t.join()
    assert len(acked_uploads) >= 4 and len(acked_outcomes) >= 10, (len(acked_uploads), len(acked_outcomes))
    assert len(acked_outcomes) < len(items), "the kill should land mid-way"

    again = Server(world.url, tmp_path)  # restarts on the same database
    try:
        r = httpx.get(again.base + "/api/uploads", headers=world.headers("analyst"), timeout=60)
        assert r.status_code == 200
        stored = {u["id"]: u["accepted"] for u in r.json()}
    finally:
        again.stop()
    for uid, accepted, first in acked_uploads:
        assert stored.get(uid) == accepted, uid
    with world.db.read() as s:
        recorded = set(s.execute(select(Outcome.declaration_id)).scalars())
        for uid, accepted, first in acked_uploads:
            assert s.execute(select(func.count()).select_from(Declaration)
                             .where(Declaration.upload_id == uid)).scalar_one() == accepted
            assert s.get(Upload, uid) is not None and s.get(Declaration, first) is not None
        results = set(s.execute(select(AuditEntry.result)).scalars())
    assert set(acked_outcomes) <= recorded
    for uid, accepted, _ in acked_uploads:  # every acknowledged write has its audit entry
        assert any(r.startswith(f"201 upload #{uid} ") for r in results), uid
    code, out = _verify(world.url)
    assert code == 0, out


def test_sqlite_writers_of_a_process_queue_on_a_lock(tmp_path):
    """A second writer waits on the process's lock (not in SQLite's sleeping busy handler) and
    starts as soon as the first commits, in order."""
    from callao.targeting.service import audit
    from callao.targeting.service.db import Database

    db = Database.connect(f"sqlite:///{tmp_path / 'w.db'}")
    db.upgrade()
    order: list[str] = []

    def second() -> None:
        with db.write() as s:
            audit.record(s, "b", "-", "second", "", "ok")
            order.append("second")

    with db.write() as s:
        audit.record(s, "a", "-", "first", "", "ok")
        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.3)
        assert t.is_alive() and db.write_lock.locked()  # queued behind the open transaction
        order.append("first")
    t.join(10)
    assert order == ["first", "second"]
    with db.read() as s:
        assert audit.verify(s).ok and s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 2
    db.dispose()
