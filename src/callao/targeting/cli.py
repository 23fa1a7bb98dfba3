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
from callao.targeting.metrics import metrics_at_rates
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
    explain_top: int = typer.Option(
        0, help="Explain only the N highest-risk declarations (0 = all; TreeSHAP costs ~ms per row)."),
) -> None:
    """Rank DATA by risk and write declaration_id, risk, rank and the top reasons to --out (with a
    model trained with --revenue-exponent: ranked by priority = risk x (1 + predicted revenue)^γ,
    written as a ``priority`` column)."""
    from callao.targeting.explain import reasons_text

    console = _console()
    res = _load(data)
    m = _load_model(model)
    _report_quarantine(res, out, console)
    df = res.data
    risk, priority = m.risk_and_rank(df)
    lifted = m.revenue_booster_ is not None
    order = np.argsort(-(priority if lifted else risk), kind="stable")
    n_explain = len(df) if explain_top <= 0 else min(explain_top, len(df))
    ranked = df.iloc[order].reset_index(drop=True)
    why = reasons_text(m, ranked.iloc[:n_explain], reasons).reindex(range(len(ranked)))
    cols = {"declaration_id": ranked["declaration_id"].to_numpy(), "risk": risk[order]}
    if lifted:
        cols["priority"] = priority[order]
    cols["rank"] = np.arange(1, len(ranked) + 1)
    table = pd.concat([pd.DataFrame(cols), why], axis=1)
    write_table(table, out)
    console.print(f"{len(table)} declarations ranked -> {out}")


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


if __name__ == "__main__":  # pragma: no cover
    app()
