"""Targeting service benchmark: ``python benchmarks/bench_service.py [--declarations 5000] [--requests 1000]
[--clients 50] [--postgres URL] [--only issue|outcomes|model]``.

(a) Issuing a day's list for ``--declarations`` declarations at one terminal, with reasons for the
    selected: server time of ``POST /api/selections`` (in-process), median of ``--repeats`` lists,
    beside the same work done directly with the library in the same process (the baseline: score,
    select, explain the selected), so the ratio is the service's overhead, and the library's median CPU
    time of each stage (load the day's rows, build features, score, reasons for the selected); with
    the service's model size (``--num-leaves``, default the service's) and, in the same process, a
    model of ``--baseline-leaves`` (default 63, the library's default), with the ratio.
(b) Recording outcomes with ``--clients`` concurrent clients against a real uvicorn server on
    127.0.0.1: requests/s, median and p99 latency and the server's CPU time per request, on SQLite
    and (with ``--postgres`` or ``CALLAO_TEST_POSTGRES_URL``; scripts/ensure-postgres.sh starts one)
    on PostgreSQL.
(c) ``--only model``: AUC and precision at 5/10 % of the service's tree size against the library's
    on the bundled KCS sample and synthetic Callao declarations over ``--seeds`` seeds, with the
    TreeSHAP CPU time per row (not run by default).
The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections import Counter
import sys
import tempfile
import threading
import time
import uuid
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")

from argon2 import PasswordHasher  # noqa: E402
from argon2.profiles import CHEAPEST  # noqa: E402

from callao.targeting.service import auth  # noqa: E402

auth.set_hasher(PasswordHasher.from_parameters(CHEAPEST))  # benchmark users only
from tests.targeting.service.conftest import (  # noqa: E402
    DAY, PASSWORD, add_user, csv_bytes, day_frame, history_csv,
)


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def _pg_database(admin: str) -> str:
    import psycopg

    name = f"callao_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


def _drop_pg(admin: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _setup(url: str, n_day: int, terminals: list[str], n_estimators: int, num_leaves: int | None = None,  # noqa: ANN202
           day_first: bool = False):
    """A service with history, a promoted model and a day of declarations at each terminal."""
    from fastapi.testclient import TestClient

    from callao.targeting.service.app import create_app
    from callao.targeting.service.db import Database

    db = Database.connect(url)
    app = create_app(db)
    client = TestClient(app)
    add_user(db, "ana", "analyst")
    add_user(db, "off", "officer", terminals[0])
    tok = lambda n: client.post("/api/login", json={"username": n, "password": PASSWORD}).json()["access_token"]  # noqa: E731
    a = {"Authorization": f"Bearer {tok('ana')}"}
    # the daily cycle: 59 days of history (to the day before DAY), a model trained and promoted,
    # then the day's declarations uploaded (``day_first``: before training, so the model's history
    # tables include the day's unlabelled rows and features take the as-of path for every row)
    assert client.post("/api/uploads", headers=a, files={"file": ("h.csv", history_csv(n=20000, days=59))}).status_code == 201
    day = day_frame(n_day * len(terminals), terminals=tuple(terminals))

    def upload_day() -> None:
        assert client.post("/api/uploads", headers=a, files={"file": ("d.csv", csv_bytes(day))}).status_code == 201

    if day_first:
        upload_day()
    train = {"n_estimators": n_estimators} | ({"num_leaves": num_leaves} if num_leaves else {})
    r = client.post("/api/models", headers=a, json=train)
    assert r.status_code == 201, r.text
    v = r.json()["id"]
    assert client.post(f"/api/models/{v}/promote", headers=a).status_code == 200
    if not day_first:
        upload_day()
    return db, client, a, tok, day


def bench_issue(n_day: int, scans: int, exams: int, repeats: int, n_estimators: int, num_leaves: int,
                day_first: bool = False) -> dict[str, float]:
    """(a) server time to issue a list, against the library doing the same work; returns the
    medians (wall and CPU seconds)."""
    from callao.targeting.explain import top_reasons
    from callao.targeting.selection import select_for_inspection
    from callao.targeting.service import workflow

    terminals = [f"t{i}" for i in range(repeats)]
    with tempfile.TemporaryDirectory() as d:
        db, client, a, _, day = _setup(f"sqlite:///{d}/bench.db", n_day, terminals, n_estimators, num_leaves, day_first)
        times, cpu = [], []
        for t in terminals:
            start, c0 = time.perf_counter(), time.process_time()
            r = client.post("/api/selections", headers=a,
                            json={"date": DAY, "terminal": t, "scans": scans, "exams": exams, "seed": 1})
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - c0)
            assert r.status_code == 201, r.text
            assert all(i["reasons"] for i in r.json()["items"])
        with db.read() as s:
            model = workflow.load_model(s, workflow.promoted(s).id)
            stages: dict[str, list[float]] = {k: [] for k in ("load rows", "features", "score", "reasons")}
            base = []
            for _ in range(repeats):  # the library doing the same work, each stage timed in CPU seconds
                start, c0 = time.perf_counter(), time.process_time()
                frame = workflow.day_declarations(s, pd.Timestamp(DAY).date(), terminals[0]).drop(columns=["terminal"])
                c1 = time.process_time()
                F = model.transform(frame)
                c2 = time.process_time()
                risk, prio = model.matrix_risk_and_rank(F)
                mask = select_for_inspection(prio, scans + exams, np.random.default_rng(1), 0.05, "random")
                c3 = time.process_time()
                top_reasons(model, frame[mask], 3, matrix=F[mask])
                c4 = time.process_time()
                base.append(time.perf_counter() - start)
                for k, a0, a1 in zip(stages, (c0, c1, c2, c3), (c1, c2, c3, c4)):
                    stages[k].append(a1 - a0)
        client.close()
        db.dispose()
    med, bmed = statistics.median(times), statistics.median(base)
    print(f"(a) issue a list: {n_day} declarations, {scans} scans + {exams} exams, reasons for the selected "
          f"({n_estimators} trees x {num_leaves} leaves{', day uploaded before training' if day_first else ''}), "
          f"median of {repeats}: {med * 1000:.0f} ms server time "
          f"(CPU {statistics.median(cpu) * 1000:.0f} ms; first {times[0] * 1000:.0f} ms, max {max(times) * 1000:.0f} ms); "
          f"library alone {bmed * 1000:.0f} ms; service/library {med / bmed:.2f}x  [{_load()}]")
    print("    library stages, median CPU: " + ", ".join(f"{k} {statistics.median(v) * 1000:.0f} ms"
                                                        for k, v in stages.items()))
    return {"wall": med, "cpu": statistics.median(cpu)}


def bench_outcomes(url: str, label: str, n_requests: int, clients: int) -> None:
    """(b) outcomes from concurrent clients against a real server."""
    import httpx

    from tests.targeting.service.test_durability import Server

    n_list = n_requests + 10
    with tempfile.TemporaryDirectory() as d:
        db, client, a, tok, _ = _setup(url if url != "sqlite" else f"sqlite:///{d}/bench.db", n_list + 50,
                                       ["dock"], 30)
        r = client.post("/api/selections", headers=a, json={"date": DAY, "terminal": "dock", "scans": n_list,
                                                            "exams": 0, "exploration": 0.0, "seed": 1})
        items = [i["declaration_id"] for i in r.json()["items"]]
        officer = {"Authorization": f"Bearer {tok('off')}"}
        client.close()
        db.dispose()
        server = Server(url if url != "sqlite" else f"sqlite:///{d}/bench.db", Path(d))
        lat: list[float] = []
        errors: list[int] = []
        todo = iter(items[:n_requests])
        lock = threading.Lock()
        barrier = threading.Barrier(clients)

        def worker() -> None:
            with httpx.Client(base_url=server.base, headers=officer, timeout=120) as c:
                barrier.wait()
                while True:
                    with lock:
                        decl = next(todo, None)
                    if decl is None:
                        return
                    start = time.perf_counter()
                    try:
                        code = c.post("/api/outcomes", json={"declaration_id": decl, "inspected_at": f"{DAY}T09:00:00Z",
                                                             "found": False}).status_code
                    except httpx.HTTPError as e:
                        code = type(e).__name__
                    with lock:
                        lat.append(time.perf_counter() - start)
                        if code != 201:
                            errors.append(code)

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        server_cpu = psutil.Process(server.proc.pid).cpu_times()
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        after = psutil.Process(server.proc.pid).cpu_times()
        cpu_ms = (after.user + after.system - server_cpu.user - server_cpu.system) * 1000 / max(len(lat), 1)
        server.stop()
    ms = np.array(lat) * 1000
    print(f"(b) outcomes on {label}: {len(lat)} requests from {clients} concurrent clients in {wall:.1f} s: "
          f"{len(lat) / wall:.0f} requests/s, median {np.median(ms):.0f} ms, p99 {np.percentile(ms, 99):.0f} ms, "
          f"errors: {dict(Counter(errors)) or 0}; server CPU {cpu_ms:.1f} ms a request  [{_load()}]")


def _model_rows(name: str, train: pd.DataFrame, test: pd.DataFrame, seed: int, leaves: tuple[int, ...],
                n_estimators: int) -> list[dict]:
    """Fit one model per leaf count on ``train``; AUC, precision at 5 % and 10 % on ``test`` and
    the CPU time of exact TreeSHAP for the 250 top-scored test rows."""
    from sklearn.metrics import roc_auc_score

    from callao.targeting.metrics import metrics_at_rates
    from callao.targeting.model import RiskModel

    rows = []
    y = test["illicit"].to_numpy()
    for nl in leaves:
        m = RiskModel(n_estimators=n_estimators, num_leaves=nl, random_state=seed).fit(train)
        F = m.transform(test)
        p = m.matrix_risk_and_rank(F)[0]
        table = metrics_at_rates(y, p, test["revenue"].to_numpy()).set_index("rate")["precision"]
        top = np.argsort(-p, kind="stable")[:250]
        c0 = time.process_time()
        m.matrix_contributions(F.iloc[top])
        rows.append({"data": name, "seed": seed, "leaves": nl, "auc": roc_auc_score(y, p), "p5": table[0.05],
                     "p10": table[0.10], "shap_ms_row": (time.process_time() - c0) * 1000 / len(top)})
    return rows


def bench_model(seeds: int, n_estimators: int, leaves: tuple[int, int]) -> None:
    """(c) the service's tree size against the library's: AUC and precision at 5/10 % (the
    inspection rate of a list) on the bundled KCS sample (train file -> test file, model seeds) and
    on synthetic Callao declarations (data seeds; 150 days, 30 % inspected, the latest 20 % of
    labelled dates held out, as the service's protocol metrics), and TreeSHAP CPU per row."""
    from callao.targeting.io import read_declarations
    from callao.targeting.synthetic import SyntheticConfig, generate_declarations

    rows: list[dict] = []
    kcs = ROOT / "data" / "kcs"
    tr, te = (read_declarations(kcs / f"kcs_{k}_sample.csv").data for k in ("train", "test"))
    for seed in range(seeds):
        rows += _model_rows("KCS sample", tr, te, seed, leaves, n_estimators)
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        df = generate_declarations(rng, SyntheticConfig(exports_per_day=120, imports_per_day=80))
        df = df[df["date"] < df["date"].min() + pd.Timedelta(days=150)].drop(columns=["exporter_type"])
        df = df.reset_index(drop=True)
        df.loc[rng.random(len(df)) >= 0.3, ["illicit", "revenue", "contraband_kg"]] = np.nan
        lab = df[df["illicit"].notna()]
        cut = lab["date"].quantile(0.8)
        rows += _model_rows("synthetic Callao", df[df["date"] < cut].reset_index(drop=True),
                            lab[lab["date"] >= cut].reset_index(drop=True), seed, leaves, n_estimators)
    t = pd.DataFrame(rows)
    print(f"(c) model size: {n_estimators} trees of {leaves[0]} (library default) vs {leaves[1]} (service) leaves, "
          f"{seeds} seeds; mean (sd), and the paired difference  [{_load()}]")
    for name, g in t.groupby("data", sort=False):
        a, b = (g[g["leaves"] == nl].set_index("seed") for nl in leaves)
        cells = []
        for col, fmt in (("auc", "{:.3f}"), ("p5", "{:.3f}"), ("p10", "{:.3f}"), ("shap_ms_row", "{:.2f}")):
            d = b[col] - a[col]
            cells.append(f"{col} {fmt.format(a[col].mean())} ({fmt.format(a[col].std(ddof=1))}) -> "
                         f"{fmt.format(b[col].mean())} ({fmt.format(b[col].std(ddof=1))}), "
                         f"diff {d.mean():+.3f} ({d.std(ddof=1):.3f})")
        print(f"    {name}: " + "; ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--declarations", type=int, default=5000, help="declarations of the day at the terminal")
    ap.add_argument("--scans", type=int, default=200)
    ap.add_argument("--exams", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5, help="lists issued (median reported)")
    ap.add_argument("--n-estimators", type=int, default=300, help="boosting rounds of the promoted model")
    ap.add_argument("--requests", type=int, default=1000, help="outcomes recorded per database")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--postgres", default=os.environ.get("CALLAO_TEST_POSTGRES_URL"),
                    help="admin URL of a PostgreSQL server (a database is created and dropped)")
    ap.add_argument("--num-leaves", type=int, help="leaves per tree of the promoted model (default: the service's)")
    ap.add_argument("--baseline-leaves", type=int, default=63,
                    help="also issue with a model of this many leaves (the library's default; 0: skip) and print the ratio")
    ap.add_argument("--day-first", action="store_true",
                    help="upload the day before training (the model's history then holds the day's rows)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the model comparison (--only model)")
    ap.add_argument("--only", choices=("issue", "outcomes", "model"),
                    help="one part; 'model' (not run by default) compares the service's tree size with the library's")
    args = ap.parse_args()
    if args.only in (None, "issue"):
        from callao.targeting.service.workflow import NUM_LEAVES

        ours = bench_issue(args.declarations, args.scans, args.exams, args.repeats, args.n_estimators,
                           args.num_leaves or NUM_LEAVES, args.day_first)
        if args.baseline_leaves:
            base = bench_issue(args.declarations, args.scans, args.exams, args.repeats, args.n_estimators,
                               args.baseline_leaves, args.day_first)
            print(f"    {args.num_leaves or NUM_LEAVES} leaves against {args.baseline_leaves}: server time "
                  f"{ours['wall'] / base['wall']:.2f}x, CPU {ours['cpu'] / base['cpu']:.2f}x")
    if args.only == "model":
        from callao.targeting.service.workflow import NUM_LEAVES

        bench_model(args.seeds, args.n_estimators, (args.baseline_leaves or 63, args.num_leaves or NUM_LEAVES))
    if args.only in (None, "outcomes"):
        bench_outcomes("sqlite", "SQLite", args.requests, args.clients)
        if args.postgres:
            url = _pg_database(args.postgres)
            try:
                bench_outcomes(url, "PostgreSQL", args.requests, args.clients)
            finally:
                _drop_pg(args.postgres, url)
        else:
            print("(b) PostgreSQL: skipped (no --postgres URL; scripts/ensure-postgres.sh starts a server)")


if __name__ == "__main__":
    main()
