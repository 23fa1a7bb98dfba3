"""Replications on a real Dask cluster started from the command line, as a user with a cluster would:
``dask scheduler`` and two ``dask worker`` processes on loopback, then ``callao compare --scheduler``.
The results must be identical to the same comparison run in one process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from callao.cli import app

BIN = Path(sys.executable).parent
ARGS = ["baseline", "more-scanners", "--replications", "2", "--years", "0.02", "--seed", "5", "--no-report"]
STARTUP_S = 120.0  # generous: the shared 2-core CI machine may be busy
COMPARE_S = 300.0
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    """A process in its own session (so its children can be killed with it), output to ``log``."""
    with open(log, "wb") as f:
        return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=ENV, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_for(what: str, ready, procs: list[subprocess.Popen], logs: list[Path], timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        dead = [log for p, log in zip(procs, logs) if p.poll() is not None]
        if dead:
            pytest.fail(f"{what}: a process exited early:\n" + "\n".join(p.read_text()[-3000:] for p in dead))
        time.sleep(0.2)
    pytest.fail(f"{what}: not ready within {timeout:.0f} s:\n" + "\n".join(p.read_text()[-2000:] for p in logs))


def _replications(out: Path) -> pd.DataFrame:
    files = sorted((out / "replications").glob("*/*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True).sort_values(
        ["scenario", "replication"], ignore_index=True)


@pytest.mark.slow
def test_compare_on_a_command_line_dask_cluster_equals_a_local_run(tmp_path):
    from distributed import Client

    procs: list[subprocess.Popen] = []
    logs: list[Path] = []
    client = None
    try:
        sched_file = tmp_path / "scheduler.json"
        logs.append(tmp_path / "scheduler.log")
        procs.append(_start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                             "--no-dashboard", "--scheduler-file", str(sched_file)], logs[-1]))
        address = _wait_for("dask scheduler", lambda: sched_file.exists() and sched_file.stat().st_size > 0
                            and json.loads(sched_file.read_text())["address"], procs, logs, STARTUP_S)
        assert address.startswith("tcp://127.0.0.1:"), address
        for i in (1, 2):
            logs.append(tmp_path / f"worker{i}.log")
            procs.append(_start([str(BIN / "dask"), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                 "--nworkers", "1", "--no-dashboard", "--name", f"w{i}", "--death-timeout", "60"],
                                logs[-1]))
        client = Client(address, timeout="60s")
        _wait_for("two dask workers", lambda: len(client.scheduler_info()["workers"]) == 2, procs, logs, STARTUP_S)
        workers = client.scheduler_info()["workers"]
        assert all(w.startswith("tcp://127.0.0.1:") for w in workers), workers

        on_cluster = tmp_path / "cluster"
        proc = subprocess.run([str(BIN / "callao"), "compare", *ARGS, "--out", str(on_cluster),
                               "--scheduler", address], capture_output=True, text=True, env=ENV, timeout=COMPARE_S)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert f"Dask scheduler {address}" in proc.stderr

        # the 4 replications (2 scenarios x 2) really ran on the cluster's two workers
        ran = client.run(lambda dask_worker: sorted({entry[0] for entry in dask_worker.state.log
                                                     if str(entry[0]).startswith("callao-")}))
        assert sum(len(keys) for keys in ran.values()) >= 4, ran
        assert all(keys for keys in ran.values()), f"each worker should have run replications: {ran}"
    finally:
        if client is not None:
            client.close()
        for p in reversed(procs):
            _stop(p)

    local = tmp_path / "local"
    res = CliRunner().invoke(app, ["compare", *ARGS, "--out", str(local)])
    assert res.exit_code == 0, res.output
    cluster_reps, local_reps = _replications(on_cluster), _replications(local)
    assert len(cluster_reps) == 4
    pd.testing.assert_frame_equal(cluster_reps, local_reps)
    pd.testing.assert_frame_equal(pd.read_csv(on_cluster / "comparison.csv"), pd.read_csv(local / "comparison.csv"))
