"""Fixtures of the service tests: every database-backed test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``CALLAO_TEST_POSTGRES_URL`` (``./run-tests`` starts a throw-away server
with scripts/ensure-postgres.sh); each test or module gets a database of its own. Without the
variable the PostgreSQL half is skipped (and says why).
"""

from __future__ import annotations

import io
import os
import uuid
import warnings

import numpy as np
import pandas as pd
import pytest

from ..conftest import planted_declarations

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from callao.targeting.service import auth

auth.set_hasher(PasswordHasher.from_parameters(CHEAPEST))  # the machine is shared: cheap hashes in tests
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")

PASSWORD = "correct horse battery"
DAY = "2025-03-01"
TERMINALS = ("dpworld", "apmt")
BACKENDS = ("sqlite", "postgresql")


def _pg_admin_url() -> str | None:
    return os.environ.get("CALLAO_TEST_POSTGRES_URL")


def new_database(backend: str, tmp_path) -> str:  # noqa: ANN001
    """A fresh, empty database URL on ``backend``."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / f'svc-{uuid.uuid4().hex[:8]}.db'}"
    admin = _pg_admin_url()
    if not admin:
        pytest.skip("no PostgreSQL: set CALLAO_TEST_POSTGRES_URL (./run-tests starts one)")
    import psycopg

    name = f"callao_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    """Drop a PostgreSQL test database (SQLite files go with tmp_path)."""
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):  # noqa: ANN001, ANN201
    """A fresh database on each backend."""
    url = new_database(request.param, tmp_path)
    yield url
    drop_database(url)


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):  # noqa: ANN001, ANN201
    """A running service with users, a model and two issued lists, on each backend, shared by a
    test module (a module may extend it by defining its own ``world`` that takes this one)."""
    url = new_database(request.param, tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
    w = World(url)
    yield w
    w.close()
    drop_database(url)


def add_user(db, name: str, role: str, terminal: str | None = None) -> None:  # noqa: ANN001
    """Create a user directly (as `callao targeting users add` does), audited."""
    from callao.targeting.service import audit, auth
    from callao.targeting.service.models import User

    with db.write() as s:
        head = audit.lock(s)
        s.add(User(name=name, password_hash=auth.hash_password(PASSWORD), role=role, terminal=terminal))
        audit.append(s, head, "cli:test", "cli", "users add", audit.sha256_hex(name.encode()), f"user {name} created")


def history_csv(seed: int = 2, n: int = 1500, days: int = 50) -> bytes:
    """Labelled past declarations (half of them inspected) as CSV bytes."""
    rng = np.random.default_rng(seed)
    df = planted_declarations(rng, n=n, days=days)
    hidden = rng.random(n) < 0.5
    df.loc[hidden, ["illicit", "revenue"]] = np.nan
    return df.to_csv(index=False).encode()


def day_frame(n: int = 240, seed: int = 3, prefix: str = "T", day: str = DAY,
              terminals: tuple[str, ...] = TERMINALS) -> pd.DataFrame:
    """Unlabelled declarations of one day, spread over ``terminals``, ids ``<prefix>000000…``."""
    df = planted_declarations(np.random.default_rng(seed), n=n, days=1).drop(columns=["illicit", "revenue"])
    df["declaration_id"] = [f"{prefix}{i:06d}" for i in range(n)]
    df["date"] = pd.Timestamp(day)
    df["terminal"] = [terminals[i % len(terminals)] for i in range(n)]
    return df


def csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_csv(buf, index=False)
    return buf.getvalue()


class World:
    """A service on a fresh database, with one user per role (two officers, one per terminal),
    past declarations uploaded, a model trained and promoted, and today's list issued for each
    terminal. ``headers(role)`` gives that user's bearer header."""

    USERS = {"analyst": ("ana", None), "supervisor": ("sup", None), "admin": ("adm", None),
             "officer": ("off_dp", "dpworld"), "officer_apmt": ("off_ap", "apmt")}

    def __init__(self, url: str, n_day: int = 240, scans: int = 30, exams: int = 5) -> None:
        from fastapi.testclient import TestClient

        from callao.targeting.service.app import create_app
        from callao.targeting.service.db import Database

        self.url = url
        self.db = Database.connect(url)
        self.app = create_app(self.db)
        self.client = TestClient(self.app)
        for key, (name, terminal) in self.USERS.items():
            add_user(self.db, name, key.split("_")[0], terminal)
        self.tokens = {key: self.login(name) for key, (name, _) in self.USERS.items()}
        a = self.headers("analyst")
        r = self.client.post("/api/uploads", headers=a, files={"file": ("history.csv", history_csv())})
        assert r.status_code == 201, r.text
        self.day = day_frame(n_day)
        r = self.client.post("/api/uploads", headers=a, files={"file": ("day.csv", csv_bytes(self.day))})
        assert r.status_code == 201, r.text
        spare = day_frame(60, seed=9, prefix="X", terminals=tuple(f"spare{i}" for i in range(12)))
        r = self.client.post("/api/uploads", headers=a, files={"file": ("spare.csv", csv_bytes(spare))})
        assert r.status_code == 201, r.text
        self.spare_terminals = [f"spare{i}" for i in range(12)]
        r = self.client.post("/api/models", headers=a, json={"n_estimators": 20})
        assert r.status_code == 201, r.text
        self.model = r.json()["id"]
        assert self.client.post(f"/api/models/{self.model}/promote", headers=a).status_code == 200
        self.lists = {}
        for t in TERMINALS:
            r = self.client.post("/api/selections", headers=a,
                                 json={"date": DAY, "terminal": t, "scans": scans, "exams": exams, "seed": 1})
            assert r.status_code == 201, r.text
            self.lists[t] = r.json()

    def login(self, name: str) -> str:
        r = self.client.post("/api/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[key]}"}

    def items(self, terminal: str = "dpworld") -> list[str]:
        return [i["declaration_id"] for i in self.lists[terminal]["items"]]

    def close(self) -> None:
        self.client.close()
        self.db.dispose()
