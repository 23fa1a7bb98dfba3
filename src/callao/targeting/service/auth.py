"""Passwords (argon2id) and bearer tokens (random, stored as SHA-256, with expiry, revocable)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from callao.targeting.service.models import ROLES, Token, User, utcnow

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (t=3, 64 MiB, p=4)
_dummy: str | None = None  # verified against for unknown users: the same work either way
MIN_PASSWORD = 8


def set_hasher(hasher: PasswordHasher) -> None:
    """Use other argon2 parameters for new hashes (tests use ``argon2.profiles.CHEAPEST``; a
    stored hash is always verified with the parameters it was made with)."""
    global _hasher, _dummy
    _hasher, _dummy = hasher, None


def hash_password(password: str) -> str:
    """argon2id hash of a password (rejects passwords shorter than 8 characters)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password too short: at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """True when ``user`` exists, is active and ``password`` matches (constant work otherwise)."""
    global _dummy
    if user is None and _dummy is None:
        _dummy = _hasher.hash("not a password")
    try:
        _hasher.verify(user.password_hash if user is not None else _dummy, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and user.active


def token_hash(token: str) -> str:
    """What is stored for a token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, hours: float) -> tuple[str, dt.datetime]:
    """A new bearer token for ``user`` valid for ``hours``; returns (token, expiry)."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(hours=hours)
    session.add(Token(token_hash=token_hash(token), user_id=user.id, expires_at=expires))
    return token, expires


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.timezone.utc)


def user_for_token(session: Session, token: str) -> tuple[User, Token] | None:
    """The active user of a valid (known, unexpired, unrevoked) token, else None."""
    row = session.execute(select(Token, User).join(User, User.id == Token.user_id)
                          .where(Token.token_hash == token_hash(token))).first()
    if row is None:
        return None
    tok, user = row
    if tok.revoked_at is not None or _aware(tok.expires_at) <= utcnow() or not user.active:
        return None
    return user, tok


def check_role(role: str, terminal: str | None) -> None:
    """Raise ValueError for an unknown role or an officer without a terminal."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if role == "officer" and not terminal:
        raise ValueError("an officer needs a terminal (--terminal)")
