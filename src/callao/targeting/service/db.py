"""Database engines and schema upgrades.

SQLite (the default: ``callao-targeting.db`` in the working folder) runs in WAL mode with
``synchronous=FULL`` (a commit is on disk before it is acknowledged) and takes the write lock at
the start of every write transaction (``BEGIN IMMEDIATE``), so concurrent writers queue instead of
failing half-way. PostgreSQL URLs (``postgresql://…``) use psycopg 3. The schema is created and
upgraded by the Alembic migrations shipped in this package.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DB = "sqlite:///callao-targeting.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def normalise_url(url: str | None) -> str:
    """The SQLAlchemy URL for ``--db``: default SQLite file, ``postgresql://`` → psycopg 3, or a
    plain file path → SQLite."""
    if not url:
        return DEFAULT_DB
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{url}"
    return url


def is_sqlite(url: str) -> bool:
    """True for a SQLite URL."""
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@dataclass
class Database:
    """The service's engines: ``writer`` (serialised writes on SQLite) and ``reader``.

    On SQLite, write transactions of this process also queue on ``write_lock`` before ``BEGIN
    IMMEDIATE``: a waiting writer gets the database as soon as the previous one commits, instead
    of polling for it in SQLite's busy handler, which sleeps up to 100 ms between tries and left the
    write lock idle most of the time under 50 concurrent writers. Other processes (the CLI) still
    queue through the busy handler.
    """

    url: str
    writer: Engine
    reader: Engine
    write_lock: threading.Lock | None = None

    def __post_init__(self) -> None:
        self._writes = sessionmaker(self.writer, expire_on_commit=False)
        self._reads = sessionmaker(self.reader, expire_on_commit=False)

    @classmethod
    def connect(cls, url: str | None = None, pool_size: int = 10) -> "Database":
        """Open the database at ``url`` (see :func:`normalise_url`)."""
        url = normalise_url(url)
        if make_url(url).get_backend_name() == "sqlite":
            return cls(url, _sqlite_engine(url, immediate=True), _sqlite_engine(url, immediate=False), threading.Lock())
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        return cls(url, engine, engine)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.writer.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any error."""
        with self.write_lock or nullcontext():
            with self._writes() as s:
                with s.begin():
                    yield s

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session."""
        with self._reads() as s:
            with s.begin():
                yield s

    def upgrade(self) -> tuple[str | None, str]:
        """Upgrade the schema to the newest migration; returns (revision before, revision after)."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.writer.connect() as conn:
            before = MigrationContext.configure(conn).get_current_revision()
        with self.writer.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        with self.writer.connect() as conn:
            after = MigrationContext.configure(conn).get_current_revision()
        return before, after or ""

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def raw_sql(db: Database, sql: str) -> None:
    """Run one statement outside the ORM (used by tests and maintenance)."""
    with db.writer.begin() as conn:
        conn.execute(text(sql))
