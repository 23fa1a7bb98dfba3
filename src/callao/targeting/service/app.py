"""The targeting service's HTTP API (FastAPI; OpenAPI at ``/openapi.json``, docs at ``/docs``).

Every ``/api`` endpoint except ``/api/login`` needs a bearer token and one of the roles listed in
its description. Each state-changing request that succeeds writes its audit entry in the same
transaction as its change; a refused one (4xx) is recorded by :class:`Guard`, which also bounds
request bodies, hashes them, and refuses cross-origin state-changing requests.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Annotated, Literal

import anyio
from fastapi import Depends, FastAPI, File, Form, HTTPException, Path, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callao.targeting.service import audit, auth, dashboard, workflow
from callao.targeting.service.db import Database
from callao.targeting.service.models import (
    ROLES, AuditEntry, Declaration, ModelVersion, Note, Outcome, Override, Selection, Token, Upload, User, utcnow,
)
from callao.targeting.service.workflow import WorkflowError

log = logging.getLogger("callao.targeting.service")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_COOKIE = "callao_dashboard"
"""Cookie holding the dashboard's token (HttpOnly, SameSite=Strict; read by the dashboard only)."""
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
Terminal = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
DeclId = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class Strict(BaseModel):
    """Request bodies: unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid")


# -- the guard: body limit, body hash, origin check, audit of refused requests ----------------
class Guard:
    """ASGI middleware in front of the API (see the module docstring)."""

    def __init__(self, app: ASGIApp, db: Database, max_body: int) -> None:
        self.app, self.db, self.max_body = app, db, max_body

    async def _reply(self, send: Send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        action = f"{scope['method']} {scope['path']}"[:200]
        origin = headers.get("origin")
        if origin and origin.split("://", 1)[-1].rstrip("/") != headers.get("host", ""):
            await self._audit(state, action, "", f"403 cross-origin request from {origin}")
            await self._reply(send, 403, f"cross-origin request refused (Origin {origin})")
            return
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await self._audit(state, action, "", f"413 body of {declared} bytes")
            await self._reply(send, 413, f"request body too large: limit {self.max_body} bytes")
            return
        chunks, size = [], 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await self._audit(state, action, "", f"413 body over {self.max_body} bytes")
                await self._reply(send, 413, f"request body too large: limit {self.max_body} bytes")
                return
            chunks.append(chunk)
            if not msg.get("more_body"):
                break
        body = b"".join(chunks)
        state["request_sha256"] = audit.sha256_hex(body)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status, error = 500, []

        async def watch(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            elif msg["type"] == "http.response.body" and status >= 400 and sum(map(len, error)) < 600:
                error.append(msg.get("body", b""))
            await send(msg)

        try:
            await self.app(scope, replay, watch)
        finally:
            if status >= 400 and not state.get("audited"):
                detail = b"".join(error).decode("utf-8", "replace")[:600]
                await self._audit(state, action, state["request_sha256"], f"{status} {detail}")

    async def _audit(self, state: dict, action: str, digest: str, result: str) -> None:
        def write() -> None:
            with self.db.write() as s:
                audit.record(s, state.get("actor", "anonymous"), state.get("role", "-"), action, digest, result)
        try:
            await anyio.to_thread.run_sync(write)
        except Exception:  # the refusal stands even if its audit entry cannot be written
            log.exception("could not audit a refused request")


# -- request bodies --------------------------------------------------------------------------
class Login(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: dt.datetime
    role: str
    terminal: str | None


class NewUser(Strict):
    name: Name
    password: Annotated[str, StringConstraints(min_length=auth.MIN_PASSWORD, max_length=256)]
    role: Literal["analyst", "officer", "supervisor", "admin"]
    terminal: Terminal | None = None


class RoleChange(Strict):
    role: Literal["analyst", "officer", "supervisor", "admin"]
    terminal: Terminal | None = None


class TrainIn(Strict):
    n_estimators: int = Field(300, ge=10, le=2000, description="boosting rounds")
    num_leaves: int = Field(workflow.NUM_LEAVES, ge=2, le=255,
                            description="leaves per tree (small trees keep the reasons' TreeSHAP fast)")
    revenue_exponent: float = Field(0.0, ge=0.0, le=2.0, description="rank by P x (1 + revenue)^this")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    test_share: float = Field(0.2, gt=0.0, lt=0.9, description="latest share of labelled dates held out")


class EvaluateIn(Strict):
    start: dt.date | None = Field(None, description="first date (default: the day after the training data)")
    end: dt.date | None = None


class ListIn(Strict):
    date: dt.date
    terminal: Terminal
    scans: int = Field(ge=0, le=100000, description="containers to scan (non-intrusive)")
    exams: int = Field(ge=0, le=100000, description="containers to open (physical exam)")
    exploration: float = Field(0.05, ge=0.0, le=0.5, description="share of the list drawn at random outside the top")
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="exploration seed (default: drawn and stored)")


class OutcomeIn(Strict):
    declaration_id: DeclId
    inspected_at: dt.datetime
    found: bool
    what: Annotated[str, StringConstraints(max_length=200)] | None = None
    kg: float = Field(0.0, ge=0.0, le=1e6, description="contraband seized, kg")
    revenue_usd: float = Field(0.0, ge=0.0, le=1e12, description="revenue recovered or value at stake, USD")


class NoteIn(Strict):
    declaration_id: DeclId
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class OverrideIn(Strict):
    selection_id: int = Field(ge=1, le=2**31 - 1)
    declaration_id: DeclId
    action: Literal["add", "drop"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class DecisionIn(Strict):
    approve: bool
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


# -- callers -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    """The authenticated user of a request."""

    id: int
    name: str
    role: str
    terminal: str | None
    token_id: int


def iso(t: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC (SQLite hands back naive datetimes; every stored time is UTC)."""
    if t is None:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat()


def utc(t: dt.datetime) -> dt.datetime:
    """An aware datetime in UTC (naive input is taken as UTC)."""
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


bearer = HTTPBearer(auto_error=False, description="Token from POST /api/login")


def role_doc(*roles: str) -> str:
    return "Roles: " + ", ".join(roles) + "."


def create_app(db: Database | str | None = None, token_hours: float = 12.0, max_body_mb: float = 50.0,
               upgrade: bool = True) -> FastAPI:
    """The API on ``db`` (a :class:`Database` or URL; upgraded to the newest schema unless told
    not to). ``token_hours``: token lifetime; ``max_body_mb``: request body limit."""
    if not isinstance(db, Database):
        db = Database.connect(db)
    if upgrade:
        db.upgrade()
    app = FastAPI(title="callao targeting service",
                  description="The port control unit's daily selection, outcomes and audit trail. "
                              "Log in at POST /api/login, then send `Authorization: Bearer <token>`.",
                  version="1")
    app.state.db = db
    app.add_middleware(Guard, db=db, max_body=int(max_body_mb * 1024 * 1024))

    @app.exception_handler(WorkflowError)
    async def _workflow_error(_request: Request, exc: WorkflowError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(DataError)
    async def _out_of_range(_request: Request, exc: DataError) -> JSONResponse:
        return JSONResponse({"detail": f"a value the database cannot store: {exc.orig}"}, status_code=422)

    @app.exception_handler(OperationalError)
    async def _busy(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return JSONResponse({"detail": "database busy or unavailable; retry"}, status_code=503,
                            headers={"Retry-After": "1"})

    def resolve(request: Request, token: str | None) -> Caller:
        """The caller holding ``token`` (401 when missing, unknown, expired or revoked)."""
        if not token:
            raise HTTPException(401, "not authenticated: send Authorization: Bearer <token> (POST /api/login)",
                                headers={"WWW-Authenticate": "Bearer"})
        with db.read() as s:
            found = auth.user_for_token(s, token[:200])
        if found is None:
            raise HTTPException(401, "invalid, expired or revoked token", headers={"WWW-Authenticate": "Bearer"})
        user, tok = found
        request.state.actor, request.state.role = user.name, user.role
        return Caller(user.id, user.name, user.role, user.terminal, tok.id)

    def caller(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
        ok = creds is not None and creds.scheme.lower() == "bearer"
        return resolve(request, creds.credentials if ok else None)

    def allowed(c: Caller, roles: tuple[str, ...]) -> Caller:
        if c.role not in roles:
            raise HTTPException(403, f"role {c.role} may not do this (needs {' or '.join(roles)})")
        return c

    def require(*roles: str):  # noqa: ANN202
        def dep(c: Caller = Depends(caller)) -> Caller:
            return allowed(c, roles)
        return dep

    def done(request: Request, s, head, c: Caller | None, result: str, actor: str | None = None,  # noqa: ANN001
             role: str | None = None) -> None:
        audit.append(s, head, actor or c.name, role or c.role, f"{request.method} {request.url.path}"[:200],
                     request.state.request_sha256, result)
        request.state.audited = True

    # -- auth --------------------------------------------------------------------------------
    def sign_in(request: Request, username: str, password: str, roles: tuple[str, ...] = ROLES):  # noqa: ANN202
        """Check a password and issue a token, auditing the attempt; None when refused (wrong
        password, disabled user, or a role not in ``roles``)."""
        with db.read() as s:
            user = s.execute(select(User).where(User.name == username)).scalar_one_or_none()
        ok = auth.check_password(user, password)
        with db.write() as s:
            head = audit.lock(s)
            if not ok:
                done(request, s, head, None, "401 login failed", actor=username[:64], role="-")
                return None
            if user.role not in roles:
                done(request, s, head, None, f"403 sign-in refused: role {user.role}", actor=user.name, role=user.role)
                return None
            user = s.get(User, user.id)
            token, expires = auth.issue_token(s, user, token_hours)
            done(request, s, head, None, f"200 login, token expires {expires.isoformat()}", actor=user.name,
                 role=user.role)
            return user, token, expires

    @app.post("/api/login", response_model=TokenOut, tags=["auth"],
              responses={401: {"description": "wrong username or password"}})
    def login(body: Login, request: Request) -> TokenOut:
        """Exchange a username and password for a bearer token (every attempt is audited)."""
        found = sign_in(request, body.username, body.password)
        if found is None:
            raise HTTPException(401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"})
        user, token, expires = found
        return TokenOut(access_token=token, expires_at=expires, role=user.role, terminal=user.terminal)

    @app.post("/api/logout", tags=["auth"], description=role_doc(*ROLES))
    def logout(request: Request, c: Caller = Depends(caller)) -> dict:
        """Revoke the token of this request."""
        with db.write() as s:
            head = audit.lock(s)
            s.get(Token, c.token_id).revoked_at = utcnow()
            done(request, s, head, c, "200 token revoked")
        return {"revoked": True}

    @app.get("/api/me", tags=["auth"], description=role_doc(*ROLES))
    def me(c: Caller = Depends(caller)) -> dict:
        """Who the token belongs to."""
        return {"name": c.name, "role": c.role, "terminal": c.terminal}

    # -- admin: users and roles ----------------------------------------------------------------
    def user_out(u: User) -> dict:
        return {"name": u.name, "role": u.role, "terminal": u.terminal, "active": u.active,
                "created_at": iso(u.created_at)}

    admin = require("admin")

    @app.get("/api/users", tags=["admin"], description=role_doc("admin"))
    def list_users(c: Caller = Depends(admin)) -> list[dict]:
        """Every user."""
        with db.read() as s:
            return [user_out(u) for u in s.execute(select(User).order_by(User.name)).scalars()]

    @app.post("/api/users", status_code=201, tags=["admin"], description=role_doc("admin"))
    def add_user(body: NewUser, request: Request, c: Caller = Depends(admin)) -> dict:
        """Create a user (officers need a terminal)."""
        try:
            auth.check_role(body.role, body.terminal)
        except ValueError as e:
            raise HTTPException(422, str(e)) from None
        try:
            with db.write() as s:
                head = audit.lock(s)
                if s.execute(select(User.id).where(User.name == body.name)).scalar() is not None:
                    raise HTTPException(409, f"user {body.name!r} exists")
                u = User(name=body.name, password_hash=auth.hash_password(body.password), role=body.role,
                         terminal=body.terminal if body.role == "officer" else None)
                s.add(u)
                s.flush()
                done(request, s, head, c, f"201 user {u.name} created ({u.role}{', ' + u.terminal if u.terminal else ''})")
                return user_out(u)
        except IntegrityError:
            raise HTTPException(409, f"user {body.name!r} exists") from None

    def _user(s, name: str) -> User:  # noqa: ANN001
        u = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if u is None:
            raise HTTPException(404, f"no user {name!r}")
        return u

    @app.post("/api/users/{name}/disable", tags=["admin"], description=role_doc("admin"))
    def disable_user(name: Annotated[str, Path(max_length=64)], request: Request, c: Caller = Depends(admin)) -> dict:
        """Disable a user and revoke their tokens."""
        with db.write() as s:
            head = audit.lock(s)
            u = _user(s, name)
            u.active = False
            for t in s.execute(select(Token).where(Token.user_id == u.id, Token.revoked_at.is_(None))).scalars():
                t.revoked_at = utcnow()
            done(request, s, head, c, f"200 user {name} disabled")
            return user_out(u)

    @app.post("/api/users/{name}/role", tags=["admin"], description=role_doc("admin"))
    def set_role(name: Annotated[str, Path(max_length=64)], body: RoleChange, request: Request,
                 c: Caller = Depends(admin)) -> dict:
        """Change a user's role (and terminal, for officers)."""
        try:
            auth.check_role(body.role, body.terminal)
        except ValueError as e:
            raise HTTPException(422, str(e)) from None
        with db.write() as s:
            head = audit.lock(s)
            u = _user(s, name)
            before = f"{u.role}/{u.terminal}"
            u.role, u.terminal = body.role, body.terminal if body.role == "officer" else None
            done(request, s, head, c, f"200 user {name}: {before} -> {u.role}/{u.terminal}")
            return user_out(u)

    # -- analyst: declarations and models ------------------------------------------------------
    analyst = require("analyst")
    analyst_or_supervisor = require("analyst", "supervisor")

    def upload_out(u: Upload, quarantine_rows: int = 50) -> dict:
        reasons: dict[str, int] = {}
        for q in u.quarantine:
            for r in q["reason"].split("; "):
                reasons[r] = reasons.get(r, 0) + 1
        return {"id": u.id, "filename": u.filename, "format": u.source_format, "accepted": u.n_accepted,
                "quarantined": u.n_quarantined, "quarantine_reasons": reasons,
                "quarantined_rows": u.quarantine[:quarantine_rows], "sha256": u.sha256,
                "created_at": iso(u.created_at)}

    @app.post("/api/uploads", status_code=201, tags=["analyst"], description=role_doc("analyst"))
    def upload(request: Request, file: UploadFile = File(..., description="CSV or Parquet: callao, WCO/BACUDA or KCS columns"),
               terminal: Terminal | None = Query(None, description="terminal of rows without a 'terminal' column"),
               c: Caller = Depends(analyst)) -> dict:
        """Upload declarations; bad rows are quarantined with their reason (counts in the answer).
        A ``terminal`` column (or the ``terminal`` parameter) says where each container is."""
        content = file.file.read()
        name = file.filename or "upload"
        with db.write() as s:
            head = audit.lock(s)
            user = s.get(User, c.id)
            up = workflow.store_upload(s, user, content, name, terminal)
            done(request, s, head, c, f"201 upload #{up.id} {name}: {up.n_accepted} accepted, {up.n_quarantined} quarantined")
            return upload_out(up)

    @app.get("/api/uploads", tags=["analyst"], description=role_doc("analyst", "supervisor"))
    def list_uploads(c: Caller = Depends(analyst_or_supervisor)) -> list[dict]:
        """Uploads, newest first (first 5 quarantined rows each)."""
        with db.read() as s:
            return [upload_out(u, 5) for u in s.execute(select(Upload).order_by(Upload.id.desc())).scalars()]

    def version_out(v: ModelVersion) -> dict:
        return {"id": v.id, "created_at": iso(v.created_at), "params": v.params,
                "n_declarations": v.n_declarations, "n_labelled": v.n_labelled, "n_outcome_labels": v.n_outcome_labels,
                "trained_until": str(v.trained_until), "metrics": v.metrics, "sha256": v.sha256,
                "promoted_at": iso(v.promoted_at)}

    @app.post("/api/models", status_code=201, tags=["analyst"], description=role_doc("analyst"))
    def train(body: TrainIn, request: Request, c: Caller = Depends(analyst)) -> dict:
        """Train on every inspected declaration (uploaded labels and recorded outcomes; containers
        never inspected count only in the history volumes) and register a new version with its
        protocol metrics (a time split). It is not used until promoted."""
        with db.read() as s:
            user = s.get(User, c.id)
            v = workflow.train(s, user, body.n_estimators, body.revenue_exponent, body.seed, body.test_share,
                               num_leaves=body.num_leaves)
            s.expunge(v)
        with db.write() as s:
            head = audit.lock(s)
            s.add(v)
            s.flush()
            done(request, s, head, c, f"201 model version #{v.id} trained on {v.n_labelled} labelled "
                                      f"({v.n_outcome_labels} from outcomes), sha256 {v.sha256[:16]}")
            return version_out(v)

    @app.get("/api/models", tags=["analyst"], description=role_doc("analyst", "supervisor"))
    def list_models(c: Caller = Depends(analyst_or_supervisor)) -> list[dict]:
        """Model versions, newest first; ``promoted_at`` of the one in use is the latest."""
        with db.read() as s:
            return [version_out(v) for v in s.execute(select(ModelVersion).order_by(ModelVersion.id.desc())).scalars()]

    @app.post("/api/models/{version}/evaluate", tags=["analyst"], description=role_doc("analyst"))
    def evaluate(version: Annotated[int, Path(ge=1, le=2**31 - 1)], body: EvaluateIn,
                 c: Caller = Depends(analyst)) -> dict:
        """Precision, recall and revenue share at 1/2/5/10 % on labelled declarations of a period."""
        with db.read() as s:
            return workflow.evaluate(s, version, body.start, body.end)

    @app.post("/api/models/{version}/promote", tags=["analyst"], description=role_doc("analyst"))
    def promote(version: Annotated[int, Path(ge=1, le=2**31 - 1)], request: Request, c: Caller = Depends(analyst)) -> dict:
        """Make this version the one that issues lists (explicit and audited)."""
        with db.write() as s:
            head = audit.lock(s)
            v = s.get(ModelVersion, version)
            if v is None:
                raise HTTPException(404, f"no model version {version}")
            before = workflow.promoted(s)
            v.promoted_at, v.promoted_by = utcnow(), c.id
            done(request, s, head, c, f"200 model version #{v.id} promoted (was #{before.id if before else 'none'})")
            return version_out(v)

    # -- lists -----------------------------------------------------------------------------------
    def selection_out(s, sel: Selection, full: bool) -> dict:  # noqa: ANN001
        items = workflow.effective_items(s, sel)
        if full:
            shown = items
        else:  # officers: no risk, rank, exploration flag or contribution; sorted by action and id
            shown = sorted(({"declaration_id": i["declaration_id"], "action": i["action"],
                             "reasons": [{"feature": r["feature"], "value": r["value"]} for r in i["reasons"]]}
                            for i in items), key=lambda i: (i["action"], i["declaration_id"]))
        out = {"id": sel.id, "date": str(sel.date), "terminal": sel.terminal, "scans": sel.scans, "exams": sel.exams,
               "issued_at": iso(sel.issued_at), "items": shown}
        if full:
            out |= {"model_version": sel.model_version_id, "exploration": sel.exploration, "seed": sel.seed,
                    "n_declarations": sel.n_declarations}
        return out

    @app.post("/api/selections", status_code=201, tags=["lists"], description=role_doc("analyst"))
    def issue(body: ListIn, request: Request, c: Caller = Depends(analyst)) -> dict:
        """Issue and freeze the day's list for a terminal with the promoted model."""
        try:
            with db.write() as s:
                head = audit.lock(s)
                user = s.get(User, c.id)
                sel = workflow.issue(s, user, workflow.ListRequest(body.date, body.terminal, body.scans, body.exams,
                                                                   body.exploration, body.seed))
                out = selection_out(s, sel, full=True)
                done(request, s, head, c, f"201 list #{sel.id} {sel.terminal} {sel.date}: {len(out['items'])} of "
                                          f"{sel.n_declarations}, model #{sel.model_version_id}, seed {sel.seed}")
                return out
        except IntegrityError:
            raise HTTPException(409, f"a list for {body.terminal} on {body.date} was already issued") from None

    @app.get("/api/selections", tags=["lists"], description=role_doc("analyst", "supervisor"))
    def list_selections(date: dt.date | None = None, terminal: Terminal | None = None,
                        c: Caller = Depends(analyst_or_supervisor)) -> list[dict]:
        """Issued lists (full view: risk, rank, exploration picks), filtered by date and terminal."""
        with db.read() as s:
            q = select(Selection).order_by(Selection.date.desc(), Selection.terminal)
            if date:
                q = q.where(Selection.date == date)
            if terminal:
                q = q.where(Selection.terminal == terminal)
            return [selection_out(s, sel, full=True) for sel in s.execute(q).scalars()]

    officer = require("officer")

    @app.get("/api/lists/{terminal}", tags=["officer"], description=role_doc("officer (own terminal only)"))
    def officer_list(terminal: Terminal, date: dt.date | None = Query(None, description="default: today"),
                     c: Caller = Depends(officer)) -> dict:
        """The day's list for the officer's own terminal, as it stands after approved overrides."""
        if terminal != c.terminal:
            raise HTTPException(403, f"officers see only their own terminal's list ({c.terminal})")
        day = date or dt.date.today()
        with db.read() as s:
            sel = s.execute(select(Selection).where(Selection.date == day, Selection.terminal == terminal)).scalar()
            if sel is None:
                raise HTTPException(404, f"no list issued for {terminal} on {day}")
            return selection_out(s, sel, full=False)

    def outcome_out(o: Outcome) -> dict:
        return {"declaration_id": o.declaration_id, "selection_id": o.selection_id, "inspected_at": iso(o.inspected_at),
                "found": o.found, "what": o.what, "kg": o.kg, "revenue_usd": o.revenue_usd}

    def same(o: Outcome, b: OutcomeIn) -> bool:
        return (utc(o.inspected_at) == utc(b.inspected_at) and o.found == b.found and (o.what or None) == (b.what or None)
                and o.kg == b.kg and o.revenue_usd == b.revenue_usd)

    @app.post("/api/outcomes", status_code=201, tags=["officer"], description=role_doc("officer"),
              responses={200: {"description": "the same outcome was already recorded (idempotent)"},
                         409: {"description": "a different outcome is already recorded"}})
    def record_outcome(body: OutcomeIn, request: Request, c: Caller = Depends(officer)):  # noqa: ANN201
        """Record what the inspection of a listed container found. Idempotent: sending the same
        outcome again answers 200 with it; a different one for the same container is a 409."""
        at = utc(body.inspected_at)  # stored in UTC on every database
        try:
            with db.write() as s:
                head = audit.lock(s)
                prior = s.execute(select(Outcome).where(Outcome.declaration_id == body.declaration_id)).scalar()
                if prior is not None:
                    if same(prior, body):
                        done(request, s, head, c, f"200 outcome for {body.declaration_id} already recorded (same)")
                        return JSONResponse(outcome_out(prior), status_code=200)
                    raise HTTPException(409, f"a different outcome for {body.declaration_id} is already recorded")
                sel = workflow.on_list(s, body.declaration_id, c.terminal)
                o = Outcome(declaration_id=body.declaration_id, selection_id=sel.id, inspected_at=at, found=body.found,
                            what=body.what, kg=body.kg, revenue_usd=body.revenue_usd, recorded_by=c.id)
                s.add(o)
                s.flush()
                done(request, s, head, c, f"201 outcome {body.declaration_id}: found={body.found} kg={body.kg} "
                                          f"revenue={body.revenue_usd}")
                return outcome_out(o)
        except IntegrityError:  # a concurrent writer stored it first (PostgreSQL): compare with it
            with db.write() as s:
                head = audit.lock(s)
                prior = s.execute(select(Outcome).where(Outcome.declaration_id == body.declaration_id)).scalar_one()
                if not same(prior, body):
                    raise HTTPException(409, f"a different outcome for {body.declaration_id} is already recorded") from None
                done(request, s, head, c, f"200 outcome for {body.declaration_id} already recorded (same)")
                return JSONResponse(outcome_out(prior), status_code=200)

    @app.post("/api/notes", status_code=201, tags=["officer"], description=role_doc("officer"))
    def add_note(body: NoteIn, request: Request, c: Caller = Depends(officer)) -> dict:
        """Attach a note to a container on the officer's list."""
        with db.write() as s:
            head = audit.lock(s)
            sel = workflow.on_list(s, body.declaration_id, c.terminal)
            n = Note(declaration_id=body.declaration_id, selection_id=sel.id, text=body.text, user_id=c.id)
            s.add(n)
            s.flush()
            done(request, s, head, c, f"201 note #{n.id} on {body.declaration_id}")
            return {"id": n.id, "declaration_id": n.declaration_id, "text": n.text}

    # -- overrides ---------------------------------------------------------------------------------
    def override_out(s, o: Override) -> dict:  # noqa: ANN001
        names = dict(s.execute(select(User.id, User.name)).all())
        return {"id": o.id, "selection_id": o.selection_id, "declaration_id": o.declaration_id, "action": o.action,
                "reason": o.reason, "requested_by": names.get(o.requested_by), "requested_at": iso(o.requested_at),
                "status": o.status, "decided_by": names.get(o.decided_by), "decision_note": o.decision_note}

    @app.post("/api/overrides", status_code=201, tags=["overrides"], description=role_doc("officer (own terminal)", "analyst"))
    def ask_override(body: OverrideIn, request: Request, c: Caller = Depends(require("officer", "analyst"))) -> dict:
        """Ask to add a container to an issued list or drop one from it, with a reason."""
        with db.write() as s:
            head = audit.lock(s)
            sel = s.get(Selection, body.selection_id)
            if sel is None:
                raise HTTPException(404, f"no list {body.selection_id}")
            if c.role == "officer" and sel.terminal != c.terminal:
                raise HTTPException(403, f"list {sel.id} is terminal {sel.terminal}'s, not yours")
            on = {i["declaration_id"] for i in workflow.effective_items(s, sel)}
            if body.action == "drop" and body.declaration_id not in on:
                raise HTTPException(409, f"{body.declaration_id} is not on list {sel.id}")
            if body.action == "add":
                d = s.get(Declaration, body.declaration_id)
                if d is None or d.terminal != sel.terminal or d.date != sel.date:
                    raise HTTPException(422, f"{body.declaration_id} is not a declaration of {sel.terminal} on {sel.date}")
                if body.declaration_id in on:
                    raise HTTPException(409, f"{body.declaration_id} is already on list {sel.id}")
            o = Override(selection_id=sel.id, declaration_id=body.declaration_id, action=body.action, reason=body.reason,
                         requested_by=c.id)
            s.add(o)
            s.flush()
            done(request, s, head, c, f"201 override #{o.id} asked: {o.action} {o.declaration_id} on list {sel.id}")
            return override_out(s, o)

    @app.get("/api/overrides", tags=["overrides"], description=role_doc("supervisor", "analyst"))
    def list_overrides(status: Literal["pending", "approved", "refused"] | None = None,
                       c: Caller = Depends(require("supervisor", "analyst"))) -> list[dict]:
        """Override requests, newest first."""
        with db.read() as s:
            q = select(Override).order_by(Override.id.desc())
            if status:
                q = q.where(Override.status == status)
            return [override_out(s, o) for o in s.execute(q).scalars()]

    @app.post("/api/overrides/{override_id}/decision", tags=["overrides"], description=role_doc("supervisor"))
    def decide(override_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: DecisionIn, request: Request,
               c: Caller = Depends(require("supervisor"))) -> dict:
        """Approve or refuse a pending override."""
        with db.write() as s:
            head = audit.lock(s)
            o = s.get(Override, override_id)
            if o is None:
                raise HTTPException(404, f"no override {override_id}")
            if o.status != "pending":
                raise HTTPException(409, f"override {override_id} was already {o.status}")
            o.status = "approved" if body.approve else "refused"
            o.decided_by, o.decided_at, o.decision_note = c.id, utcnow(), body.note
            done(request, s, head, c, f"200 override #{o.id} {o.status}")
            return override_out(s, o)

    # -- supervisor: audit trail and figures -----------------------------------------------------
    supervisor = require("supervisor")

    @app.get("/api/audit", tags=["supervisor"], description=role_doc("supervisor"))
    def read_audit(after: int = Query(0, ge=0, le=2**31 - 1, description="entries after this sequence number"),
                   limit: int = Query(100, ge=1, le=1000), c: Caller = Depends(supervisor)) -> list[dict]:
        """The audit trail, oldest first."""
        with db.read() as s:
            rows = s.execute(select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit)).scalars()
            return [{"seq": e.seq, "at": e.at, "actor": e.actor, "role": e.role, "action": e.action,
                     "request_sha256": e.request_sha256, "result": e.result, "hash": e.hash} for e in rows]

    @app.get("/api/audit/verify", tags=["supervisor"], description=role_doc("supervisor"))
    def verify_audit(c: Caller = Depends(supervisor)) -> dict:
        """Recompute the hash chain."""
        with db.read() as s:
            v = audit.verify(s)
        return {"ok": v.ok, "entries": v.entries, "first_broken": v.first_broken, "message": v.message}

    @app.get("/api/figures", tags=["supervisor"], description=role_doc("supervisor"))
    def unit_figures(c: Caller = Depends(supervisor)) -> list[dict]:
        """The unit's figures per terminal and ISO week (lists, inspections, hits, hit rate vs the
        random baseline, kg seized, overrides and who asked)."""
        with db.read() as s:
            return workflow.figures(s)

    # -- supervisor: the dashboard page (HTML) ---------------------------------------------------
    # A browser signs in with the form at /dashboard/login, which keeps the token in an HttpOnly,
    # SameSite=Strict cookie that only the dashboard reads (the JSON API takes bearer tokens only);
    # its POSTs pass the Guard's same-origin check like every state-changing request.
    def dashboard_caller(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
        ok = creds is not None and creds.scheme.lower() == "bearer"
        return allowed(resolve(request, creds.credentials if ok else request.cookies.get(SESSION_COOKIE)),
                       ("supervisor",))

    def html(text: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(text, status_code=status, headers={"Content-Security-Policy": dashboard.CSP,
                                                                "X-Frame-Options": "DENY", "Cache-Control": "no-store"})

    @app.get("/api/dashboard", tags=["supervisor"], response_class=HTMLResponse,
             description=role_doc("supervisor") + " Bearer token or the cookie set by the sign-in form at "
                                                  "/dashboard/login.")
    def dashboard_page(c: Caller = Depends(dashboard_caller)) -> HTMLResponse:
        """The unit's figures as an HTML page: hit rate against the random baseline by terminal and
        by week, lists, inspections, kg seized, overrides and who asked, model versions."""
        with db.read() as s:
            figs = workflow.figures(s)
            names = dict(s.execute(select(User.id, User.name)).all())
            used = workflow.promoted(s)
            lists = dict(s.execute(select(Selection.model_version_id, func.count()).group_by(
                Selection.model_version_id)).all())
            versions = [{"id": v.id, "created_at": iso(v.created_at), "trained_until": str(v.trained_until),
                         "n_labelled": v.n_labelled, "n_outcome_labels": v.n_outcome_labels, "metrics": v.metrics,
                         "promoted_at": iso(v.promoted_at), "promoted_by": names.get(v.promoted_by),
                         "in_use": used is not None and v.id == used.id, "lists": lists.get(v.id, 0)}
                        for v in s.execute(select(ModelVersion).order_by(ModelVersion.id.desc())).scalars()]
        return html(dashboard.render(figs, versions, f"{c.name} ({c.role})", utcnow()))

    @app.get("/dashboard", include_in_schema=False)
    def dashboard_home(request: Request) -> RedirectResponse:
        signed_in = SESSION_COOKIE in request.cookies
        return RedirectResponse("/api/dashboard" if signed_in else "/dashboard/login", status_code=303)

    @app.get("/dashboard/login", include_in_schema=False)
    def dashboard_form() -> HTMLResponse:
        return html(dashboard.login_form())

    @app.post("/dashboard/login", include_in_schema=False)
    def dashboard_sign_in(request: Request, username: Annotated[str, Form(max_length=64)],
                          password: Annotated[str, Form(max_length=256)]) -> Response:
        found = sign_in(request, username, password, roles=("supervisor",))
        if found is None:
            return html(dashboard.login_form("Wrong user or password, or not a supervisor."), status=401)
        _, token, _ = found
        r = RedirectResponse("/api/dashboard", status_code=303)
        r.set_cookie(SESSION_COOKIE, token, max_age=int(token_hours * 3600), path="/", httponly=True,
                     samesite="strict", secure=request.url.scheme == "https")
        return r

    @app.post("/dashboard/logout", include_in_schema=False)
    def dashboard_sign_out(request: Request) -> RedirectResponse:
        r = RedirectResponse("/dashboard/login", status_code=303)
        r.delete_cookie(SESSION_COOKIE, path="/")
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            try:
                c = resolve(request, token)
            except HTTPException:
                return r  # already expired or revoked: nothing to change
            with db.write() as s:
                head = audit.lock(s)
                s.get(Token, c.token_id).revoked_at = utcnow()
                done(request, s, head, c, "200 token revoked (dashboard sign-out)")
        return r

    return app
