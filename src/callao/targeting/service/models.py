"""The service's tables (SQLAlchemy 2 declarative models).

One concept a table: users and their tokens; uploads of declarations (the valid rows as Parquet)
and the index of every declaration (unique id, date, terminal); model versions (the model file,
its protocol metrics, when it was promoted); issued lists (frozen: their items are never
updated), outcomes (one per container), notes, overrides; and the append-only audit trail with
its head row (the lock that serialises appends and the last hash, so a deleted tail is caught).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES: tuple[str, ...] = ("analyst", "officer", "supervisor", "admin")


def utcnow() -> dt.datetime:
    """Now, in UTC (timezone-aware)."""
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of the service tables."""


class User(Base):
    """A person with one role; officers belong to one terminal."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    terminal: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Token(Base):
    """A bearer token, stored as its SHA-256 (the token itself is shown once, at login)."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Upload(Base):
    """One uploaded file: its valid rows (callao schema, Parquet bytes) and what was quarantined."""

    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    filename: Mapped[str] = mapped_column(String(255))
    source_format: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    n_accepted: Mapped[int] = mapped_column(Integer)
    n_quarantined: Mapped[int] = mapped_column(Integer)
    quarantine: Mapped[list] = mapped_column(JSON)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Declaration(Base):
    """Index of every accepted declaration: unique across uploads, with its day and terminal."""

    __tablename__ = "declarations"
    declaration_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    terminal: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class ModelVersion(Base):
    """A trained risk model: the model file, its training data, protocol metrics, promotion."""

    __tablename__ = "model_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    params: Mapped[dict] = mapped_column(JSON)
    n_declarations: Mapped[int] = mapped_column(Integer)
    n_labelled: Mapped[int] = mapped_column(Integer)
    n_outcome_labels: Mapped[int] = mapped_column(Integer)
    trained_until: Mapped[dt.date] = mapped_column(Date)
    metrics: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    promoted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    promoted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class Selection(Base):
    """An issued list for one day and terminal: frozen once written."""

    __tablename__ = "selections"
    __table_args__ = (UniqueConstraint("date", "terminal", name="uq_selection_day_terminal"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date)
    terminal: Mapped[str] = mapped_column(String(64))
    scans: Mapped[int] = mapped_column(Integer)
    exams: Mapped[int] = mapped_column(Integer)
    exploration: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    n_declarations: Mapped[int] = mapped_column(Integer)
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SelectionItem(Base):
    """One container on an issued list (never updated: changes are approved overrides)."""

    __tablename__ = "selection_items"
    __table_args__ = (UniqueConstraint("selection_id", "declaration_id", name="uq_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selections.id"), index=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.declaration_id"))
    action: Mapped[str] = mapped_column(String(8))  # "exam" or "scan"
    rank: Mapped[int] = mapped_column(Integer)
    risk: Mapped[float] = mapped_column(Float)
    exploration: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list] = mapped_column(JSON)


class Outcome(Base):
    """What an inspection found; one per container (the unique constraint makes writes idempotent)."""

    __tablename__ = "outcomes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.declaration_id"), unique=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selections.id"), index=True)
    inspected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    found: Mapped[bool] = mapped_column(Boolean)
    what: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kg: Mapped[float] = mapped_column(Float, default=0.0)
    revenue_usd: Mapped[float] = mapped_column(Float, default=0.0)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Note(Base):
    """A free-text note an officer attaches to a container on a list."""

    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.declaration_id"), index=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selections.id"))
    text: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Override(Base):
    """A request to add or drop a container from an issued list, and the supervisor's decision."""

    __tablename__ = "overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selections.id"), index=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.declaration_id"))
    action: Mapped[str] = mapped_column(String(8))  # "add" or "drop"
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|approved|refused
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditEntry(Base):
    """One state-changing request. ``hash`` = SHA-256 over this entry's fields and ``prev_hash``;
    the database refuses UPDATE and DELETE on this table (triggers in the migration)."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, hashed as text
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(200))
    request_sha256: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row (id 1) holding the last sequence number and hash: locked to append."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
