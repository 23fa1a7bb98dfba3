"""``callao targeting``: train a risk model, evaluate it, score declarations, run the weekly protocol.

Every command reads CSV or Parquet in the callao schema, the WCO/BACUDA research format or the KCS
format (detected from the columns), validates every row and reports how many rows were
quarantined (written to ``<output stem>.quarantine.csv`` beside the output).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from callao.targeting.io import LoadResult, quarantine_path, read_declarations, write_table
from callao.targeting.metrics import metrics_at_rates, n_inspected
from callao.targeting.schema import SchemaError, has_labels

app = typer.Typer(
    name="targeting",
    help="Contraband and customs-fraud targeting: train, evaluate and score declarations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _console() -> Console:
    return Console(width=120)


def _load(path: Path, what: str = "DATA") -> LoadResult:
    """Read and validate, turning every input problem into a clear usage error (exit code 2)."""
    try:
        return read_declarations(path)
    except FileNotFoundError:
        raise typer.BadParameter(f"file not found: {path}", param_hint=what) from None
    except SchemaError as e:
        raise typer.BadParameter(f"{path}: {e}", param_hint=what) from None
    except (ValueError, OSError) as e:
        raise typer.BadParameter(f"cannot read {path}: {e}", param_hint=what) from None


def _report_quarantine(res: LoadResult, next_to: Path | None, console: Console) -> None:
    msg = f"{len(res.data)} declarations read ({res.source_format} format), {res.n_quarantined} quarantined"
    if res.n_quarantined and next_to is not None:
        q = write_table(res.quarantine, quarantine_path(next_to))
        msg += f" -> {q}"
    console.print(msg)


def _load_model(path: Path) -> "RiskModel":  # noqa: F821
    from callao.targeting.model import RiskModel

    if not path.is_file():
        raise typer.BadParameter(f"model file not found: {path}", param_hint="--model")
    try:
        return RiskModel.load(path)
    except Exception as e:  # any unreadable model is a usage error, not a crash
        raise typer.BadParameter(f"cannot load model {path}: {e}", param_hint="--model") from None


def _require_labels(res: LoadResult, path: Path) -> None:
    if not has_labels(res.data):
        raise typer.BadParameter(f"{path} has no 'illicit' labels (needed to train/evaluate)", param_hint="DATA")


def _print_metrics(table: pd.DataFrame, title: str, console: Console) -> None:
    t = Table(title=title)
    for c in table.columns:
        t.add_column(c, justify="right")
    for row in table.itertuples(index=False):
        t.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    console.print(t)


@app.command()
def train(
    data: Path = typer.Argument(..., help="Labelled declarations (CSV/Parquet; callao, WCO/BACUDA or KCS)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model file to write (e.g. model.joblib)."),
    n_estimators: int = typer.Option(500, help="Boosting rounds."),
    revenue_exponent: float = typer.Option(
        0.0, help="Also learn the revenue at stake, and rank by P(illicit) x (1 + revenue)^this (0 = by probability)."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Train the risk model on DATA and save it to --out."""
    from callao.targeting.model import RiskModel

    console = _console()
    res = _load(data)
    _report_quarantine(res, out, console)
    _require_labels(res, data)
    if revenue_exponent < 0:
        raise typer.BadParameter(f"{revenue_exponent}: expected a number >= 0", param_hint="--revenue-exponent")
    if revenue_exponent > 0 and "revenue" not in res.data.columns:
        raise typer.BadParameter(f"{data} has no 'revenue' column (needed for --revenue-exponent)", param_hint="DATA")
    model = RiskModel(n_estimators=n_estimators, revenue_exponent=revenue_exponent, random_state=seed).fit(res.data)
    model.save(out)
    console.print(f"model trained on {int(res.data['illicit'].notna().sum())} labelled declarations -> {out}")


@app.command()
def evaluate(
    data: Path = typer.Argument(..., help="Labelled declarations to evaluate on."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Trained model; without it, a time split is used."),
    test_share: float = typer.Option(0.2, help="Without --model: share of the latest dates held out for testing."),
    quarantine_out: Path | None = typer.Option(None, "--quarantine-out", help="Where to write quarantined rows."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Print precision, recall and revenue share at 1/2/5/10% inspection rates."""
    from callao.targeting.model import RiskModel

    console = _console()
    res = _load(data)
    _report_quarantine(res, quarantine_out, console)
    _require_labels(res, data)
    df = res.data[res.data["illicit"].notna()].reset_index(drop=True)
    if model is not None:
        m, test = _load_model(model), df
        title = f"{data.name} scored by {model.name}"
    else:
        cut = df["date"].quantile(1.0 - test_share)
        train_df, test = df[df["date"] < cut], df[df["date"] >= cut].reset_index(drop=True)
        if train_df.empty or test.empty:
            raise typer.BadParameter("not enough distinct dates for a time split", param_hint="DATA")
        m = RiskModel(random_state=seed).fit(train_df)
        title = f"time split: train < {cut.date()} ({len(train_df)}), test >= ({len(test)})"
    scores = m.predict_proba(test)[:, 1]
    rev = test["revenue"].to_numpy() if "revenue" in test.columns else None
    table = metrics_at_rates(test["illicit"].to_numpy(), scores, rev)
    _print_metrics(table, title, console)
    console.print(f"base rate (precision of random inspection): {test['illicit'].mean():.3f}")


@app.command()
def score(
    data: Path = typer.Argument(..., help="Declarations to score (labels not needed)."),
    model: Path = typer.Option(..., "--model", "-m", help="Trained model file."),
    out: Path = typer.Option(..., "--out", "-o", help="Ranked output, .csv or .parquet."),
    reasons: int = typer.Option(3, help="Number of top reasons per declaration."),
    inspection_rate: float = typer.Option(
        0.05, help="Explain the declarations this inspection rate would select (the top of the ranking)."),
    explain_top: int = typer.Option(
        0, help="Explain the N highest-ranked declarations instead of --inspection-rate (0 = use the rate)."),
    explain_all: bool = typer.Option(False, help="Explain every declaration (TreeSHAP: slow on large files)."),
) -> None:
    """Rank DATA by risk and write declaration_id, risk, rank and the top reasons to --out (with a
    model trained with --revenue-exponent: ranked by priority = risk x (1 + predicted revenue)^γ,
    written as a ``priority`` column). Scoring covers every row; reasons (exact TreeSHAP, the
    costly part) only the top that --inspection-rate would select, so a year scores in seconds."""
    from callao.targeting.explain import reasons_text

    console = _console()
    res = _load(data)
    m = _load_model(model)
    _report_quarantine(res, out, console)
    df = res.data
    risk, priority = m.risk_and_rank(df)
    lifted = m.revenue_booster_ is not None
    order = np.argsort(-(priority if lifted else risk), kind="stable")
    if not 0 < inspection_rate <= 1:
        raise typer.BadParameter(f"{inspection_rate}: expected a rate in (0, 1]", param_hint="--inspection-rate")
    if explain_all:
        n_explain = len(df)
    elif explain_top > 0:
        n_explain = min(explain_top, len(df))
    else:
        n_explain = n_inspected(len(df), inspection_rate)
    ranked = df.iloc[order].reset_index(drop=True)
    why = reasons_text(m, ranked.iloc[:n_explain], reasons).reindex(range(len(ranked)))
    cols = {"declaration_id": ranked["declaration_id"].to_numpy(), "risk": risk[order]}
    if lifted:
        cols["priority"] = priority[order]
    cols["rank"] = np.arange(1, len(ranked) + 1)
    table = pd.concat([pd.DataFrame(cols), why], axis=1)
    write_table(table, out)
    console.print(f"{len(table)} declarations ranked, the top {n_explain} explained -> {out}")


def _numbers(text: str, option: str, ok, expected: str) -> list[float]:
    """Comma-separated numbers from an option, each passing ``ok``; else a usage error."""
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        values = []
    if not values or not all(ok(v) for v in values):
        raise typer.BadParameter(f"{text!r}: expected {expected} separated by commas", param_hint=option)
    return values


@app.command()
def protocol(
    data: Path = typer.Argument(..., help="Labelled declarations with dates (CSV/Parquet; callao, WCO/BACUDA or KCS)."),
    rates: str = typer.Option("0.01,0.02,0.05,0.10", help="Weekly inspection rates (0..1), comma-separated."),
    strategies: str = typer.Option(
        "random,risky_profile,xgboost,hybrid_90_10,ours", help="Strategies to compare, comma-separated."),
    initial_days: int = typer.Option(91, help="Length of the fully labelled initial window, days."),
    retrain_every: int = typer.Option(1, help="Weeks between refits."),
    revenue_exponent: str = typer.Option(
        "0.1", help="ours: rank by P(illicit) x (1 + predicted revenue)^this; 0 = most hits, higher = more "
                    "revenue; several (e.g. 0,0.1,0.3) compare ours at each, tracing the hits/revenue trade-off."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Per-week table for every strategy and rate (.csv/.parquet)."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """The customs-fraud community's weekly protocol on DATA: train on the initial window, then
    week by week select at each rate, reveal only the inspected labels and retrain; prints overall
    precision, recall and revenue share per strategy and rate."""
    from callao.targeting.protocol import OursStrategy, default_strategies, run_protocol

    known = {s.name: s for s in default_strategies()}
    gammas = _numbers(revenue_exponent, "--revenue-exponent", lambda g: g >= 0, "numbers >= 0")
    chosen = [x.strip() for x in strategies.split(",") if x.strip()]
    if unknown := [x for x in chosen if x not in known]:
        raise typer.BadParameter(f"unknown strategy {unknown[0]!r}; expected some of {', '.join(known)}",
                                 param_hint="--strategies")
    runs = []  # (label, strategy)
    for name in chosen:
        if name != "ours":
            runs.append((name, known[name]))
        else:
            runs += [("ours" if len(gammas) == 1 else f"ours γ={g:g}", OursStrategy(revenue_exponent=g)) for g in gammas]
    rate_list = _numbers(rates, "--rates", lambda r: 0 < r < 1, "numbers in (0, 1)")
    if initial_days < 1 or retrain_every < 1:
        raise typer.BadParameter("--initial-days and --retrain-every must be at least 1")
    console = _console()
    res = _load(data)
    _report_quarantine(res, out, console)
    _require_labels(res, data)
    df = res.data[res.data["illicit"].notna()].reset_index(drop=True)
    span = (df["date"].max() - df["date"].min()).days
    if span < initial_days + 7:
        raise typer.BadParameter(f"{data} spans {span} days: the {initial_days}-day initial window leaves no test "
                                 "week (lower --initial-days)", param_hint="DATA")
    rows, weekly = [], []
    with console.status("running the weekly protocol...") as status:
        for rate in rate_list:
            for name, strategy in runs:
                status.update(f"weekly protocol: {name} at {rate:.0%}")
                r = run_protocol(df, strategy, rate, seed=seed, initial_days=initial_days, retrain_every=retrain_every)
                rows.append({"strategy": name, "rate": rate, **{k: r.overall[k] for k in ("precision", "recall", "revenue")},
                             "inspected": int(r.overall["inspected"]), "hits": int(r.overall["hits"])})
                weekly.append(r.weekly.assign(strategy=name, rate=rate))
    table = pd.DataFrame(rows)
    weeks = int(r.overall["weeks"])
    _print_metrics(table, f"weekly protocol on {data.name}: {weeks} test weeks after {initial_days} days, "
                          f"retrain every {retrain_every} week(s)", console)
    if out is not None:
        write_table(pd.concat(weekly, ignore_index=True), out)
        console.print(f"per-week table -> {out}")


@app.command()
def synthetic(
    out: Path = typer.Option(Path("callao-declarations"), "--out", "-o", help="Folder to write the files to."),
    days: int = typer.Option(120, help="Days of history before the day to select on."),
    exports_per_day: float = typer.Option(120.0, help="Export declarations (containers) a day."),
    imports_per_day: float = typer.Option(80.0, help="Import declarations a day."),
    inspected_share: float = typer.Option(0.3, help="Share of the history carrying a label (the past inspections)."),
    seed: int = typer.Option(1, help="Random seed."),
) -> None:
    """Write synthetic Callao declarations: ``history.csv`` (past days; labels only on the
    inspected share, empty elsewhere), ``day.csv`` (the next day, unlabelled, to select on) and
    ``day-truth.csv`` (what inspecting each container of that day would find, to play the officers)."""
    from callao.targeting.synthetic import SyntheticConfig, generate_declarations

    if days < 14 or days > 364:
        raise typer.BadParameter(f"{days}: expected 14..364", param_hint="--days")
    if not 0 < inspected_share <= 1:
        raise typer.BadParameter(f"{inspected_share}: expected a share in (0, 1]", param_hint="--inspected-share")
    rng = np.random.default_rng(seed)
    df = generate_declarations(rng, SyntheticConfig(exports_per_day=exports_per_day, imports_per_day=imports_per_day))
    first = df["date"].min()
    df = df[df["date"] <= first + pd.Timedelta(days=days)].drop(columns=["exporter_type"]).reset_index(drop=True)
    df.insert(2, "terminal", rng.choice(["dpworld", "apmt"], size=len(df), p=[0.55, 0.45]))
    day = first + pd.Timedelta(days=days)
    hist = df[df["date"] < day].copy()
    hidden = rng.random(len(hist)) >= inspected_share
    hist.loc[hidden, ["illicit", "revenue", "contraband_kg"]] = np.nan
    today = df[df["date"] == day]
    labels = ["illicit", "revenue", "contraband_kg"]
    paths = [write_table(hist, out / "history.csv"), write_table(today.drop(columns=labels), out / "day.csv"),
             write_table(today[["declaration_id", "terminal", *labels]], out / "day-truth.csv")]
    console = _console()
    console.print(f"{len(hist)} declarations {first.date()}..{(day - pd.Timedelta(days=1)).date()} "
                  f"({int(hist['illicit'].notna().sum())} inspected, {int((hist['illicit'] == 1).sum())} hits) -> {paths[0]}")
    console.print(f"{len(today)} declarations on {day.date()} -> {paths[1]} (what inspections would find: {paths[2]})")


# -- the service: serve, users, audit ------------------------------------------------------------
DB_HELP = "Database URL: sqlite:///file.db (default: callao-targeting.db here) or postgresql://user@host/db."
LOOPBACK = {"127.0.0.1", "::1", "localhost"}

users_app = typer.Typer(help="Users and roles of the targeting service (same --db as serve).", no_args_is_help=True)
audit_app = typer.Typer(help="The service's audit trail.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")


def _db(url: str | None, announce: bool = False):  # noqa: ANN202
    """Open and upgrade the service database, saying what the upgrade did (``announce``: say
    so even when the schema was already up to date)."""
    from callao.targeting.service.db import Database

    db = Database.connect(url)
    try:
        before, after = db.upgrade()
    except Exception as e:  # an unreachable or unusable database is a usage error
        raise typer.BadParameter(f"cannot open the database {db.url}: {type(e).__name__}: {e}"[:400],
                                 param_hint="--db") from None
    where = db.writer.url.render_as_string(hide_password=True)
    if before != after:
        typer.echo(f"database {where}: schema upgraded {before or 'empty'} -> {after}", err=True)
    elif announce:
        typer.echo(f"database {where}: schema up to date (revision {after})", err=True)
    return db


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:  # no user name in this environment
        return "cli"


@app.command()
def serve(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)."),
    port: int = typer.Option(8700, help="TCP port."),
    ssl_keyfile: Path | None = typer.Option(None, help="TLS private key (needed to bind beyond loopback)."),
    ssl_certfile: Path | None = typer.Option(None, help="TLS certificate (needed to bind beyond loopback)."),
    insecure: bool = typer.Option(False, help="Allow plain HTTP on a non-loopback interface (warns)."),
    token_hours: float = typer.Option(12.0, help="Lifetime of a login token, hours."),
    max_body_mb: float = typer.Option(50.0, help="Largest request body (uploads), MB."),
) -> None:
    """Start the targeting service's HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    from callao.targeting.service.app import create_app

    if host not in LOOPBACK:
        if not (ssl_keyfile and ssl_certfile) and not insecure:
            raise typer.BadParameter(f"{host} is not a loopback address: give --ssl-keyfile and --ssl-certfile, "
                                     "or --insecure to serve plain HTTP on the network", param_hint="--host")
        if not (ssl_keyfile and ssl_certfile):
            typer.echo(f"WARNING: serving plain HTTP on {host}: passwords and tokens cross the network unencrypted",
                       err=True)
    for f, hint in ((ssl_keyfile, "--ssl-keyfile"), (ssl_certfile, "--ssl-certfile")):
        if f is not None and not f.is_file():
            raise typer.BadParameter(f"file not found: {f}", param_hint=hint)
    database = _db(db, announce=True)
    api = create_app(database, token_hours=token_hours, max_body_mb=max_body_mb, upgrade=False)
    scheme = "https" if ssl_certfile else "http"
    typer.echo(f"callao targeting service on {scheme}://{host}:{port} (docs: /docs), database "
               f"{database.writer.url.render_as_string(hide_password=True)}", err=True)
    uvicorn.run(api, host=host, port=port, ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
                ssl_certfile=str(ssl_certfile) if ssl_certfile else None, log_level="warning")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="User name (letters, digits, _ . @ -)."),
    role: str = typer.Option(..., help="analyst, officer, supervisor or admin."),
    terminal: str | None = typer.Option(None, help="Officers: their terminal (e.g. dpworld, apmt)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Create a user; the password comes from CALLAO_PASSWORD or a prompt."""
    import os
    import re

    from sqlalchemy import select

    from callao.targeting.service import audit, auth
    from callao.targeting.service.models import User

    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", name):
        raise typer.BadParameter(f"{name!r}: use 1-64 letters, digits, _ . @ -", param_hint="NAME")
    try:
        auth.check_role(role, terminal)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--role") from None
    password = os.environ.get("CALLAO_PASSWORD") or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        hashed = auth.hash_password(password)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="password") from None
    database = _db(db)
    with database.write() as s:
        head = audit.lock(s)
        if s.execute(select(User.id).where(User.name == name)).scalar() is not None:
            raise typer.BadParameter(f"user {name!r} exists", param_hint="NAME")
        s.add(User(name=name, password_hash=hashed, role=role, terminal=terminal if role == "officer" else None))
        audit.append(s, head, _cli_actor(), "cli", "users add", audit.sha256_hex(f"{name}|{role}|{terminal}".encode()),
                     f"user {name} created ({role}{', ' + terminal if terminal and role == 'officer' else ''})")
    typer.echo(f"user {name} added ({role}{', terminal ' + terminal if terminal and role == 'officer' else ''})")


@users_app.command("list")
def users_list(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """List users, roles and terminals."""
    from sqlalchemy import select

    from callao.targeting.service.models import User

    database = _db(db)
    t = Table(title="users")
    for c in ("name", "role", "terminal", "active", "created"):
        t.add_column(c)
    with database.read() as s:
        for u in s.execute(select(User).order_by(User.name)).scalars():
            t.add_row(u.name, u.role, u.terminal or "", "yes" if u.active else "no", u.created_at.strftime("%Y-%m-%d %H:%M"))
    _console().print(t)


@users_app.command("disable")
def users_disable(name: str = typer.Argument(...), db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Disable a user and revoke their tokens."""
    from sqlalchemy import select

    from callao.targeting.service import audit
    from callao.targeting.service.models import Token, User, utcnow

    database = _db(db)
    with database.write() as s:
        head = audit.lock(s)
        u = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if u is None:
            raise typer.BadParameter(f"no user {name!r}", param_hint="NAME")
        u.active = False
        for tok in s.execute(select(Token).where(Token.user_id == u.id, Token.revoked_at.is_(None))).scalars():
            tok.revoked_at = utcnow()
        audit.append(s, head, _cli_actor(), "cli", "users disable", audit.sha256_hex(name.encode()), f"user {name} disabled")
    typer.echo(f"user {name} disabled; their tokens are revoked")


@audit_app.command("verify")
def audit_verify(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Recompute the audit hash chain: exit 0 when intact, 1 naming the first broken entry."""
    from callao.targeting.service import audit

    database = _db(db)
    with database.read() as s:
        v = audit.verify(s)
    typer.echo(v.message)
    if not v.ok:
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    app()
