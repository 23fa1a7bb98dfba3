"""The audit trail: an append-only hash chain of every state-changing request.

Entry ``n`` stores ``prev_hash`` (entry ``n−1``'s hash, 64 zeros for the first) and ``hash =
SHA-256`` of the canonical JSON of ``[seq, at, actor, role, action, request_sha256, result,
prev_hash]``. Appends are serialised by locking the single ``audit_head`` row (``SELECT … FOR
UPDATE`` on PostgreSQL; SQLite write transactions already hold the database's write lock from
``BEGIN IMMEDIATE``), which also keeps the last sequence number and hash so that deleting the
newest entries is caught too. :func:`verify` recomputes the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from callao.targeting.service.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def entry_hash(seq: int, at: str, actor: str, role: str, action: str, request_sha256: str, result: str,
               prev_hash: str) -> str:
    """The hash of one entry, covering the previous entry's hash."""
    payload = json.dumps([seq, at, actor, role, action, request_sha256, result, prev_hash],
                         ensure_ascii=False, separators=(",", ":"))
    return sha256_hex(payload.encode())


def lock(session: Session) -> AuditHead:
    """Take the append lock (the head row) for the rest of this transaction. Call it first in
    every write transaction, so all writers queue in one order (no deadlocks)."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    return head


def append(session: Session, head: AuditHead, actor: str, role: str, action: str, request_sha256: str,
           result: str) -> AuditEntry:
    """Append one entry after ``head`` (from :func:`lock` in the same transaction)."""
    seq = head.seq + 1
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
    result = result[:2000]
    h = entry_hash(seq, at, actor, role, action, request_sha256, result, head.hash)
    entry = AuditEntry(seq=seq, at=at, actor=actor, role=role, action=action, request_sha256=request_sha256,
                       result=result, prev_hash=head.hash, hash=h)
    session.add(entry)
    head.seq, head.hash = seq, h
    session.flush()
    return entry


def record(session: Session, actor: str, role: str, action: str, request_sha256: str, result: str) -> AuditEntry:
    """Lock and append in one call (for transactions whose only write is the entry)."""
    return append(session, lock(session), actor, role, action, request_sha256, result)


@dataclass(frozen=True)
class Verification:
    """Result of :func:`verify`: ``ok``, number of entries checked, first broken entry, message."""

    ok: bool
    entries: int
    first_broken: int | None
    message: str


def verify(session: Session) -> Verification:
    """Recompute the chain in sequence order; name the first entry that was edited, deleted or
    moved."""
    entries = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    prev, expected, n = GENESIS, 1, 0
    for e in entries:
        n += 1
        if e.seq != expected:
            return Verification(False, n, expected, f"entry {expected} is missing (found {e.seq} next): deleted or reordered")
        if e.prev_hash != prev:
            return Verification(False, n, e.seq, f"entry {e.seq} does not follow entry {e.seq - 1}: deleted, inserted or reordered")
        h = entry_hash(e.seq, e.at, e.actor, e.role, e.action, e.request_sha256, e.result, e.prev_hash)
        if h != e.hash:
            return Verification(False, n, e.seq, f"entry {e.seq} was altered (its hash does not match its content)")
        prev, expected = e.hash, expected + 1
    head = session.get(AuditHead, 1)
    last = expected - 1
    if head is None or head.seq != last or head.hash != prev:
        broken = last + 1
        return Verification(False, n, broken, f"entry {broken} and later are missing (the head records "
                                             f"{head.seq if head else '?'} entries, the table ends at {last})")
    return Verification(True, n, None, f"audit trail intact: {n} entries, last hash {prev[:16]}…")
