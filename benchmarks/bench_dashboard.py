"""Dashboard under load: N users at once asking for a run's KPIs and plots (the callback the page
calls when a run is selected), against a server on 127.0.0.1.

    python benchmarks/bench_dashboard.py                      # makes a one-year run first (~1 min)
    python benchmarks/bench_dashboard.py --results out --run year1 --users 50 --requests 2
    python benchmarks/bench_dashboard.py --results out --run year1 --baseline /work/main/src

Each server is a separate process started here (this code, and with ``--baseline SRC`` the code in
SRC, e.g. the main branch before this change), on the same run, one after the other. Printed per
server: the first load (cold), then p50/p95 latency of the N·R requests after it, requests/s, the
response size and the server's peak memory (VmHWM, resident set); with a baseline, the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1] / "src"

SERVER = """
import logging, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from werkzeug.serving import make_server
from callao.web.app import create_app
app = create_app(sys.argv[1])
make_server("127.0.0.1", int(sys.argv[2]), app.server, threaded=True).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def request(url: str, body: bytes | None = None) -> tuple[float, int, int]:
    """(seconds, status, bytes) of one GET (no body) or JSON POST."""
    origin = url.split("/", 3)
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET",
                                 headers={"Content-Type": "application/json",
                                          "Origin": f"{origin[0]}//{origin[2]}"})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            data = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        data, status = e.read(), e.code
    return time.perf_counter() - t, status, len(data)


def kpi_callback_body(base: str, run_id: str) -> bytes:
    """The body the page posts when a run is selected (the callback with kpi-cards among its outputs)."""
    with urllib.request.urlopen(base + "/_dash-dependencies", timeout=60) as r:
        deps = json.loads(r.read())
    cb = next(d for d in deps if "kpi-cards.children" in d["output"])
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in cb["output"].strip(".").split("...")]
    inputs = [{"id": i["id"], "property": i["property"], "value": run_id} for i in cb["inputs"]]
    return json.dumps({"output": cb["output"], "outputs": outputs, "inputs": inputs,
                       "changedPropIds": [f"{i['id']}.{i['property']}" for i in cb["inputs"]],
                       "state": []}).encode()


def measure(src: Path, results: Path, run_id: str, users: int, per_user: int) -> dict:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(results), str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                request(base + "/")
                break
            except OSError:
                time.sleep(0.2)
        body = kpi_callback_body(base, run_id)
        first, status, size = request(base + "/_dash-update-component", body)
        if status != 200:
            raise SystemExit(f"{src}: first load answered {status}")
        times: list[float] = []
        errors = [0]
        lock = threading.Lock()

        def user() -> None:
            for _ in range(per_user):
                dt, st, _ = request(base + "/_dash-update-component", body)
                with lock:
                    times.append(dt)
                    errors[0] += st != 200

        threads = [threading.Thread(target=user) for _ in range(users)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        return {"first_s": first, "p50_s": float(np.median(times)), "p95_s": float(np.percentile(times, 95)),
                "rps": len(times) / wall, "errors": errors[0], "response_kb": size / 1024,
                "peak_rss_mb": peak_rss_mb(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", type=Path, help="results folder holding the run (default: make one)")
    ap.add_argument("--run", default="year1", help="run id inside the results folder")
    ap.add_argument("--years", type=float, default=1.0, help="length of the run made when --results is not given")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--requests", type=int, default=2, help="requests per user after the first load")
    ap.add_argument("--baseline", type=Path, help="src folder of the code to compare with (e.g. /work/main/src)")
    a = ap.parse_args()
    results = a.results
    if results is None:
        sys.path.insert(0, str(HERE))
        import callao

        results = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
        print(f"simulating callao, {a.years:g} years, into {results / a.run} ...", flush=True)
        callao.simulate("callao", seed=1, years=a.years).write(results / a.run)
    load = os.getloadavg()
    print(f"{a.users} users x {a.requests} requests, run {a.run!r}, load average {load[0]:.1f} "
          f"({os.cpu_count()} cores)")
    rows = {"this code": measure(HERE, results, a.run, a.users, a.requests)}
    if a.baseline:
        rows["baseline"] = measure(a.baseline, results, a.run, a.users, a.requests)
    print(f"{'':10s} {'first s':>8s} {'p50 s':>7s} {'p95 s':>7s} {'req/s':>7s} {'errors':>6s} {'resp KB':>8s} "
          f"{'peak MB':>8s}")
    for name, m in rows.items():
        print(f"{name:10s} {m['first_s']:8.2f} {m['p50_s']:7.3f} {m['p95_s']:7.3f} {m['rps']:7.1f} {m['errors']:6d} "
              f"{m['response_kb']:8.0f} {m['peak_rss_mb']:8.0f}")
    if a.baseline:
        new, old = rows["this code"], rows["baseline"]
        print(f"ratio baseline/this code: p50 {old['p50_s'] / new['p50_s']:.1f}x, p95 {old['p95_s'] / new['p95_s']:.1f}x, "
              f"req/s {new['rps'] / old['rps']:.1f}x, peak memory {old['peak_rss_mb'] / new['peak_rss_mb']:.1f}x")


if __name__ == "__main__":
    main()
