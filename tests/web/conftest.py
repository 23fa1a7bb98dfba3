"""Fixtures of the dashboard tests: a results folder with one short run and a small comparison,
and a live server on a free localhost port (each test gets its own: safe under pytest-xdist)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import callao

COMPARISON_KPIS = ("teu_total", "anchorage_wait_mean_h", "berth_occupancy_dpworld", "berth_occupancy_apmt",
                   "customs_release_mean_h", "civil_military_encounters")


DASH = "/_dash-update-component"
"""The URL Dash's page posts callback requests to."""


def callback_body(app, marker: str, values: dict) -> dict:  # noqa: ANN001
    """The body Dash's page posts for the callback whose output key contains ``marker``, with the
    inputs and states set from ``values`` (``"id.property"`` → value; missing ones are None)."""
    key = next(k for k in app.callback_map if marker in k)
    spec = app.callback_map[key]
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]} for o in key.strip(".").split("...")]
    outputs = outputs if key.startswith("..") else outputs[0]
    body = {"output": key, "outputs": outputs, "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"][:1]]}
    for part in ("inputs", "state"):
        body[part] = [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in spec[part]]
    return body


def write_comparison(out_dir: Path, scenarios=("callao", "naval-relocation"), seeds=(1, 2), years=0.01) -> Path:
    """A comparison.csv in the format of ``callao compare`` (scenario, kpi, mean, ci_low, ci_high,
    diff, diff_ci_low, diff_ci_high, significant), from a few short runs (normal-approximation CIs)."""
    values = {sc: {k: [] for k in COMPARISON_KPIS} for sc in scenarios}
    for sc in scenarios:
        for seed in seeds:
            k = callao.simulate(sc, seed=seed, years=years).kpis
            for name in COMPARISON_KPIS:
                values[sc][name].append(float(k[name]))
    base = scenarios[0]
    rows = []
    for sc in scenarios:
        for name in COMPARISON_KPIS:
            x = np.asarray(values[sc][name])
            d = x - np.asarray(values[base][name])
            h = 1.96 * x.std(ddof=1) / np.sqrt(len(x))
            dh = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
            rows.append({"scenario": sc, "kpi": name, "mean": x.mean(), "ci_low": x.mean() - h, "ci_high": x.mean() + h,
                         "diff": d.mean(), "diff_ci_low": d.mean() - dh, "diff_ci_high": d.mean() + dh,
                         "significant": bool(sc != base and (d.mean() - dh > 0 or d.mean() + dh < 0))})
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "comparison.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def short_results():
    return callao.simulate("callao", seed=1, years=0.02)


@pytest.fixture(scope="session")
def results_dir(tmp_path_factory, short_results) -> Path:
    """<tmp>/results with run ``run1`` (callao, seed 1, 0.02 years) and comparison ``cmp/naval``."""
    root = tmp_path_factory.mktemp("web") / "results"
    short_results.write(root / "run1")
    write_comparison(root / "cmp" / "naval")
    return root


class LiveServer:
    """The dashboard served by werkzeug in a background thread on a free port."""

    def __init__(self, results: Path, **kwargs):
        from werkzeug.serving import make_server

        from callao.web.app import create_app

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.app = create_app(results, **kwargs)
        self.server = make_server("127.0.0.1", 0, self.app.server, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server_factory():
    servers = []

    def start(results: Path, **kwargs) -> LiveServer:
        s = LiveServer(results, **kwargs)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()
