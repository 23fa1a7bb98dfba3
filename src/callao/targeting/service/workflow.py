"""The unit's daily work on the database: store uploads, train and register models, issue frozen
lists, apply approved overrides, and compute the unit's figures.

Functions take an open SQLAlchemy session and raise :class:`WorkflowError` (with the HTTP status
the API answers) for anything the user can fix. Uploaded rows are kept as Parquet (the callao
schema after validation); parsed tables and loaded models are cached by id, since neither ever
changes once written.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callao.targeting.io import load_frame
from callao.targeting.schema import SchemaError
from callao.targeting.service.audit import sha256_hex
from callao.targeting.service.models import (
    Declaration, ModelVersion, Outcome, Override, Selection, SelectionItem, Upload, User,
)

TERMINAL_COLUMN = "terminal"
"""Optional column of an upload naming each declaration's terminal (kept out of the features)."""


class WorkflowError(Exception):
    """A request the service refuses, with the HTTP status to answer and a reason."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class _Cache:
    """A small thread-safe LRU of immutable objects (upload tables, model versions)."""

    def __init__(self, size: int) -> None:
        self.size, self._d, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key, make):  # noqa: ANN001, ANN201
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        value = make()
        with self._lock:
            self._d[key] = value
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return value


_frames = _Cache(16)
_models = _Cache(4)


# -- uploads ---------------------------------------------------------------------------------
def parse_upload(content: bytes, filename: str) -> pd.DataFrame:
    """A table from uploaded bytes: Parquet (by magic number or suffix) or CSV (all text)."""
    name = filename.lower()
    try:
        if content[:4] == b"PAR1" or name.endswith((".parquet", ".pq")):
            return pd.read_parquet(io.BytesIO(content))
        if not content.strip():
            raise WorkflowError(422, "empty file")
        return pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=True)
    except WorkflowError:
        raise
    except Exception as e:  # pandas/pyarrow raise many types for a bad file
        raise WorkflowError(422, f"cannot read {filename!r} as CSV or Parquet: {type(e).__name__}: {e}"[:500]) from None


def store_upload(s: Session, user: User, content: bytes, filename: str, terminal: str | None) -> Upload:
    """Validate an uploaded table, quarantine bad rows (and ids already stored), store the rest."""
    raw = parse_upload(content, filename)
    raw.columns = [str(c) for c in raw.columns]
    if TERMINAL_COLUMN in raw.columns:
        raw = raw.rename(columns={TERMINAL_COLUMN: "x_terminal"})
    try:
        res = load_frame(raw)
    except SchemaError as e:
        raise WorkflowError(422, str(e)) from None
    except (ValueError, TypeError) as e:
        raise WorkflowError(422, f"cannot read the declarations: {e}"[:500]) from None
    data = res.data
    quarantine = res.quarantine
    if "x_terminal" in data.columns:
        term = data.pop("x_terminal").astype("object")
        if terminal:
            term = term.where(term.notna(), terminal)
    else:
        term = pd.Series(terminal, index=data.index, dtype="object")
    data[TERMINAL_COLUMN] = term.to_numpy()
    if len(data):
        ids = data["declaration_id"].astype(str).tolist()
        known: set[str] = set()
        for i in range(0, len(ids), 5000):
            known |= set(s.execute(select(Declaration.declaration_id)
                                   .where(Declaration.declaration_id.in_(ids[i:i + 5000]))).scalars())
        if known:
            again = data["declaration_id"].isin(known)
            quarantine = pd.concat([quarantine, data.loc[again].assign(reason="declaration_id already uploaded")],
                                   ignore_index=True)
            data = data.loc[~again].reset_index(drop=True)
    buf = io.BytesIO()
    data.to_parquet(buf, index=False)
    q = [{"declaration_id": None if pd.isna(r.get("declaration_id")) else str(r.get("declaration_id")),
          "reason": str(r["reason"])} for r in quarantine.to_dict("records")]
    up = Upload(user_id=user.id, filename=filename[:255], source_format=res.source_format, sha256=sha256_hex(content),
                n_accepted=len(data), n_quarantined=len(quarantine), quarantine=q, data=buf.getvalue())
    s.add(up)
    s.flush()
    s.execute(Declaration.__table__.insert(), [
        {"declaration_id": str(i), "upload_id": up.id, "date": d.date(), "terminal": None if pd.isna(t) else str(t)}
        for i, d, t in zip(data["declaration_id"], data["date"], data[TERMINAL_COLUMN])
    ]) if len(data) else None
    return up


def upload_frame(s: Session, upload_id: int) -> pd.DataFrame:
    """The stored rows of an upload (cached; uploads never change)."""
    def make() -> pd.DataFrame:
        blob = s.execute(select(Upload.data).where(Upload.id == upload_id)).scalar_one()
        return pd.read_parquet(io.BytesIO(blob))
    return _frames.get((str(s.get_bind().url), upload_id), make)


def declarations(s: Session, where=None) -> pd.DataFrame:  # noqa: ANN001
    """Stored declarations (all, or those whose index rows match ``where``), in upload order."""
    q = select(Declaration.upload_id).distinct()
    if where is not None:
        q = q.where(where)
    upload_ids = sorted(s.execute(q).scalars())
    if not upload_ids:
        return pd.DataFrame()
    frames = [upload_frame(s, u) for u in upload_ids]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if where is not None:
        ids = set(s.execute(select(Declaration.declaration_id).where(where)).scalars())
        df = df[df["declaration_id"].isin(ids)]
    return df.reset_index(drop=True)


def day_declarations(s: Session, day: dt.date, terminal: str) -> pd.DataFrame:
    """The declarations of one day at one terminal, in upload order: the uploads that hold any
    (from the index), filtered on their own ``date`` and ``terminal`` columns, which the index
    rows were made from (vectorised; no per-id lookup)."""
    where = (Declaration.date == day) & (Declaration.terminal == terminal)
    upload_ids = sorted(s.execute(select(Declaration.upload_id).distinct().where(where)).scalars())
    frames = []
    for u in upload_ids:
        f = upload_frame(s, u)
        frames.append(f[(f["date"].dt.normalize() == pd.Timestamp(day)).to_numpy()
                        & (f[TERMINAL_COLUMN] == terminal).to_numpy()])
    if not frames:
        return pd.DataFrame()
    return (pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]).reset_index(drop=True)


def labelled(s: Session) -> tuple[pd.DataFrame, int]:
    """Every stored declaration with the labels known: uploaded ``illicit`` (past inspections;
    empty = not inspected) overridden by the outcomes recorded here. Returns (table, number of
    outcome labels)."""
    df = declarations(s)
    if df.empty:
        return df, 0
    for col in ("illicit", "revenue", "contraband_kg"):
        if col not in df.columns:
            df[col] = np.nan
    out = pd.DataFrame(s.execute(select(Outcome.declaration_id, Outcome.found, Outcome.kg, Outcome.revenue_usd)).all(),
                       columns=["declaration_id", "found", "kg", "revenue"])
    if len(out):
        o = out.set_index("declaration_id").reindex(df["declaration_id"])
        has = o["found"].notna().to_numpy()
        df.loc[has, "illicit"] = o["found"].to_numpy()[has].astype(float)
        df.loc[has, "revenue"] = o["revenue"].to_numpy()[has].astype(float)
        df.loc[has, "contraband_kg"] = o["kg"].to_numpy()[has].astype(float)
    return df, len(out)


# -- models ----------------------------------------------------------------------------------
def model_bytes(model) -> bytes:  # noqa: ANN001
    """A fitted RiskModel as the bytes of its model file."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        return model.save(Path(d) / "m.joblib").read_bytes()


def load_model(s: Session, version_id: int):  # noqa: ANN201
    """The RiskModel of a stored version (cached; versions never change)."""
    from callao.targeting.model import RiskModel

    def make():  # noqa: ANN202
        import tempfile
        from pathlib import Path

        blob = s.execute(select(ModelVersion.blob).where(ModelVersion.id == version_id)).scalar_one()
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "m.joblib"
            p.write_bytes(blob)
            return RiskModel.load(p)
    return _models.get((str(s.get_bind().url), version_id), make)


def protocol_metrics(df: pd.DataFrame, params: dict, test_share: float) -> dict:
    """Hold out the latest ``test_share`` of the labelled dates, train on the rest (all earlier
    rows, labelled or not, feed the history), and report precision/recall/revenue at 1/2/5/10 %
    against the test period's base rate (the precision of random inspection)."""
    from callao.targeting.metrics import metrics_at_rates
    from callao.targeting.model import RiskModel

    lab = df[df["illicit"].notna()]
    cut = lab["date"].quantile(1.0 - test_share)
    train = df[df["date"] < cut]
    test = lab[lab["date"] >= cut].reset_index(drop=True)
    if train["illicit"].notna().sum() < 10 or len(test) < 10:
        return {"note": "too few labelled dates for a time split"}
    m = RiskModel(**params).fit(train.reset_index(drop=True))
    scores = m.rank_score(test)
    table = metrics_at_rates(test["illicit"].to_numpy(), scores, test["revenue"].to_numpy())
    return {"split_date": str(pd.Timestamp(cut).date()), "n_train_labelled": int(train["illicit"].notna().sum()),
            "n_test": len(test), "base_rate": float(test["illicit"].mean()),
            "at_rates": table.round(4).to_dict("records")}


NUM_LEAVES = 15
"""Leaves per tree of the service's models (the library's default is 63). The reasons of a list
are exact TreeSHAP, whose cost grows with leaves × depth²: LightGBM's leaf-wise trees with 63
leaves reach depth 16-34 and TreeSHAP took ~10 ms a row; 15 leaves (depth ≤ 14, mean leaf depth
~5) cut it 6-9x, with the same AUC and precision at 5 % within their spread over seeds on the
bundled KCS sample and synthetic Callao declarations (``benchmarks/bench_service.py --only model``)."""


def train(s: Session, user: User, n_estimators: int, revenue_exponent: float, seed: int, test_share: float,
          num_leaves: int = NUM_LEAVES) -> ModelVersion:
    """Train on every stored declaration whose label is known (inspected only), register a version."""
    from callao.targeting.model import RiskModel

    df, n_outcomes = labelled(s)
    if df.empty or df["illicit"].notna().sum() == 0:
        raise WorkflowError(422, "no labelled declarations: upload past inspections (an 'illicit' column) "
                                 "or record outcomes first")
    if df.loc[df["illicit"].notna(), "illicit"].nunique() < 2:
        raise WorkflowError(422, "labels have a single class: need both hits and clean inspections to train")
    df = df.drop(columns=[TERMINAL_COLUMN], errors="ignore")
    params = {"n_estimators": n_estimators, "num_leaves": num_leaves, "revenue_exponent": revenue_exponent,
              "random_state": seed}
    metrics = protocol_metrics(df, params, test_share)
    model = RiskModel(**params).fit(df)
    blob = model_bytes(model)
    v = ModelVersion(user_id=user.id, params={**params, "test_share": test_share}, n_declarations=len(df),
                     n_labelled=int(df["illicit"].notna().sum()), n_outcome_labels=n_outcomes,
                     trained_until=df["date"].max().date(), metrics=metrics, sha256=sha256_hex(blob), blob=blob)
    s.add(v)
    s.flush()
    return v


def evaluate(s: Session, version_id: int, start: dt.date | None, end: dt.date | None) -> dict:
    """A stored model on the labelled declarations dated in [start, end] (default: after its
    training data)."""
    from callao.targeting.metrics import metrics_at_rates

    v = s.get(ModelVersion, version_id)
    if v is None:
        raise WorkflowError(404, f"no model version {version_id}")
    df, _ = labelled(s)
    start = start or (v.trained_until + dt.timedelta(days=1))
    if df.empty:
        raise WorkflowError(422, "no declarations stored")
    d = df["date"].dt.date
    sel = df[(d >= start) & ((d <= end) if end else True) & df["illicit"].notna()].reset_index(drop=True)
    if len(sel) < 2:
        raise WorkflowError(422, f"fewer than 2 labelled declarations from {start}"
                                 f"{f' to {end}' if end else ''}: nothing to evaluate on")
    scores = load_model(s, version_id).rank_score(sel.drop(columns=[TERMINAL_COLUMN], errors="ignore"))
    table = metrics_at_rates(sel["illicit"].to_numpy(), scores, sel["revenue"].to_numpy())
    return {"model_version": version_id, "from": str(start), "to": str(end) if end else None, "n": len(sel),
            "base_rate": float(sel["illicit"].mean()), "at_rates": table.round(4).to_dict("records")}


def promoted(s: Session) -> ModelVersion | None:
    """The version in use: the one promoted last."""
    return s.execute(select(ModelVersion).where(ModelVersion.promoted_at.is_not(None))
                     .order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc()).limit(1)).scalar_one_or_none()


# -- daily lists -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ListRequest:
    """What a list is issued for."""

    date: dt.date
    terminal: str
    scans: int
    exams: int
    exploration: float
    seed: int | None


def issue(s: Session, user: User, req: ListRequest) -> Selection:
    """Score the day's declarations at the terminal with the promoted model, select ``scans +
    exams`` with the exploration share (random picks outside the top), explain the selected only,
    store and freeze the list. Exams go to the highest-priority containers."""
    from callao.targeting.explain import top_reasons
    from callao.targeting.selection import select_for_inspection

    existing = s.execute(select(Selection.id).where(Selection.date == req.date, Selection.terminal == req.terminal)).scalar()
    if existing is not None:
        raise WorkflowError(409, f"a list for {req.terminal} on {req.date} was already issued (#{existing}); "
                                 "it is frozen: ask for an override instead")
    version = promoted(s)
    if version is None:
        raise WorkflowError(409, "no promoted model: train one and promote it first")
    df = day_declarations(s, req.date, req.terminal)
    if df.empty:
        raise WorkflowError(422, f"no declarations for terminal {req.terminal!r} on {req.date}")
    df = df.drop(columns=[TERMINAL_COLUMN]).sort_values("declaration_id", kind="stable").reset_index(drop=True)
    model = load_model(s, version.id)
    F = model.transform(df)  # built once: scores for every declaration, reasons for the selected
    risk, priority = model.matrix_risk_and_rank(F)
    seed = req.seed if req.seed is not None else secrets.randbelow(2**31)
    k = min(req.scans + req.exams, len(df))
    rng = np.random.default_rng(seed)
    mask = select_for_inspection(priority, k, rng, req.exploration, "random")
    n_explore = int(np.floor(req.exploration * k + 1e-9))
    top = np.argsort(-priority, kind="stable")[: k - n_explore]
    chosen = np.flatnonzero(mask)
    chosen = chosen[np.argsort(-priority[chosen], kind="stable")]
    explore = ~np.isin(chosen, top)
    long = top_reasons(model, df.iloc[chosen], top=3, matrix=F.iloc[chosen])
    reasons: list[list[dict]] = [[] for _ in chosen]
    for r in long.itertuples(index=False):
        if r.contribution > 0:
            v = r.value
            v = None if v is None or (isinstance(v, float) and np.isnan(v)) else (round(float(v), 4) if isinstance(v, (float, np.floating, int, np.integer)) else str(v))
            reasons[r.row].append({"feature": r.feature, "value": v, "contribution": round(float(r.contribution), 4)})
    sel = Selection(date=req.date, terminal=req.terminal, scans=req.scans, exams=req.exams, exploration=req.exploration,
                    seed=seed, model_version_id=version.id, n_declarations=len(df), issued_by=user.id)
    s.add(sel)
    try:
        s.flush()
    except IntegrityError:
        raise WorkflowError(409, f"a list for {req.terminal} on {req.date} was already issued") from None
    s.execute(SelectionItem.__table__.insert(), [
        {"selection_id": sel.id, "declaration_id": str(df.at[int(i), "declaration_id"]),
         "action": "exam" if rank < req.exams else "scan", "rank": rank + 1, "risk": float(risk[i]),
         "exploration": bool(explore[rank]), "reasons": reasons[rank]}
        for rank, i in enumerate(chosen)
    ]) if len(chosen) else None
    return sel


def effective_items(s: Session, sel: Selection) -> list[dict]:
    """The list as it stands: issued items, minus approved drops, plus approved additions."""
    items = s.execute(select(SelectionItem).where(SelectionItem.selection_id == sel.id)
                      .order_by(SelectionItem.rank)).scalars().all()
    ov = s.execute(select(Override).where(Override.selection_id == sel.id, Override.status == "approved")
                   .order_by(Override.decided_at, Override.id)).scalars().all()
    rows = {i.declaration_id: {"declaration_id": i.declaration_id, "action": i.action, "rank": i.rank, "risk": i.risk,
                               "exploration": i.exploration, "reasons": i.reasons, "source": "model"} for i in items}
    for o in ov:
        if o.action == "drop":
            rows.pop(o.declaration_id, None)
        elif o.declaration_id not in rows:
            rows[o.declaration_id] = {"declaration_id": o.declaration_id, "action": "exam", "rank": None, "risk": None,
                                      "exploration": False, "reasons": [], "source": f"override #{o.id}"}
    return list(rows.values())


def on_list(s: Session, declaration_id: str, terminal: str | None) -> Selection:
    """The issued list (of ``terminal``, when given) that currently holds the container, else
    404 (unknown), 403 (another terminal's list) or 409 (on no list). One query: the declaration,
    the list of its day and terminal, whether it was issued on it and the last approved override."""
    listed = (select(SelectionItem.id).where(SelectionItem.selection_id == Selection.id,
                                             SelectionItem.declaration_id == declaration_id).exists())
    last = (select(Override.action).where(Override.selection_id == Selection.id, Override.declaration_id == declaration_id,
                                          Override.status == "approved")
            .order_by(Override.decided_at.desc(), Override.id.desc()).limit(1).scalar_subquery())
    row = s.execute(select(Declaration.declaration_id, Selection, listed.label("listed"), last.label("last"))
                    .select_from(Declaration)
                    .outerjoin(Selection, (Selection.date == Declaration.date) & (Selection.terminal == Declaration.terminal))
                    .where(Declaration.declaration_id == declaration_id)).first()
    if row is None:
        raise WorkflowError(404, f"unknown declaration_id {declaration_id!r}")
    _, sel, is_listed, last_action = row
    if sel is not None and ((is_listed and last_action != "drop") or last_action == "add"):
        if terminal is not None and sel.terminal != terminal:
            raise WorkflowError(403, f"{declaration_id} is on terminal {sel.terminal}'s list, not yours")
        return sel
    raise WorkflowError(409, f"{declaration_id} is not on an issued list")


# -- figures ---------------------------------------------------------------------------------
def figures(s: Session) -> list[dict]:
    """Per terminal and ISO week: lists issued, containers listed, inspections, hits, hit rate,
    the random baseline (hit rate of the exploration picks, drawn at random outside the top),
    kg seized, revenue, and overrides (requested, approved, refused; who asked)."""
    sels = s.execute(select(Selection)).scalars().all()
    names = dict(s.execute(select(User.id, User.name)).all())
    rows: dict[tuple[str, str], dict] = {}

    def row(terminal: str, day: dt.date) -> dict:
        y, w, _ = day.isocalendar()
        key = (terminal, f"{y}-W{w:02d}")
        return rows.setdefault(key, {"terminal": terminal, "week": key[1], "lists": 0, "listed": 0, "inspections": 0,
                                     "hits": 0, "random_inspections": 0, "random_hits": 0, "kg_seized": 0.0,
                                     "revenue_usd": 0.0, "overrides_requested": 0, "overrides_approved": 0,
                                     "overrides_refused": 0, "override_requests_by": {}})

    by_sel = {sel.id: sel for sel in sels}
    explore = {(i.selection_id, i.declaration_id): i.exploration
               for i in s.execute(select(SelectionItem)).scalars()}
    for sel in sels:
        r = row(sel.terminal, sel.date)
        r["lists"] += 1
        r["listed"] += len(effective_items(s, sel))
    for o in s.execute(select(Outcome)).scalars():
        sel = by_sel[o.selection_id]
        r = row(sel.terminal, sel.date)
        r["inspections"] += 1
        r["hits"] += int(o.found)
        r["kg_seized"] += float(o.kg or 0.0)
        r["revenue_usd"] += float(o.revenue_usd or 0.0)
        if explore.get((o.selection_id, o.declaration_id)):
            r["random_inspections"] += 1
            r["random_hits"] += int(o.found)
    for o in s.execute(select(Override)).scalars():
        sel = by_sel[o.selection_id]
        r = row(sel.terminal, sel.date)
        r["overrides_requested"] += 1
        if o.status in ("approved", "refused"):
            r[f"overrides_{o.status}"] += 1
        who = names.get(o.requested_by, str(o.requested_by))
        r["override_requests_by"][who] = r["override_requests_by"].get(who, 0) + 1
    out = []
    for key in sorted(rows):
        r = rows[key]
        r["hit_rate"] = r["hits"] / r["inspections"] if r["inspections"] else None
        r["random_baseline"] = r["random_hits"] / r["random_inspections"] if r["random_inspections"] else None
        out.append(r)
    return out


def count(s: Session, model) -> int:  # noqa: ANN001
    """Rows in a table."""
    return int(s.execute(select(func.count()).select_from(model)).scalar_one())
