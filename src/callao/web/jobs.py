"""Runs started from the page: ``callao.simulate`` in a background thread, with progress.

A run is written to a hidden temporary folder and renamed to
``<results>/web-<scenario>-s<seed>-<stamp>/`` when complete, so the run list never shows a
half-written run.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from callao.web.store import WebError

log = logging.getLogger(__name__)
MAX_SEED = 2**32 - 1
YEARS_LIMIT = 5.0


def bundled() -> list[str]:
    from callao.scenario import bundled_names

    return list(bundled_names())


def parse_request(scenario, seed, years, max_years: float) -> tuple[str, int, float]:
    """Validated (scenario, seed, years), or :class:`WebError` 400 naming the bad field."""
    names = bundled()
    if not isinstance(scenario, str) or scenario not in names:
        raise WebError(400, f"scenario {str(scenario)[:60]!r}: expected one of {names}")
    try:
        if isinstance(seed, bool) or seed is None or str(seed).strip() == "":
            raise ValueError
        seed_f = float(seed)
        if not seed_f.is_integer():
            raise ValueError
        seed_i = int(seed_f)
    except (TypeError, ValueError, OverflowError):
        raise WebError(400, f"seed {str(seed)[:40]!r}: expected a whole number from 0 to {MAX_SEED}") from None
    if not 0 <= seed_i <= MAX_SEED:
        raise WebError(400, f"seed {seed_i}: expected a whole number from 0 to {MAX_SEED}")
    try:
        if isinstance(years, bool) or years is None:
            raise ValueError
        years_f = float(years)
    except (TypeError, ValueError, OverflowError):
        raise WebError(400, f"years {str(years)[:40]!r}: expected a number in (0, {max_years:g}]") from None
    if not math.isfinite(years_f) or not 0 < years_f <= max_years:
        raise WebError(400, f"years {years_f:g}: expected a number in (0, {max_years:g}]")
    return scenario, seed_i, years_f


@dataclass
class Job:
    id: str
    scenario: str
    seed: int
    years: float
    status: str = "running"  # running, done, failed
    fraction: float = 0.0
    stage: str = "starting"
    run_id: str | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class Jobs:
    """Background runs writing into one results folder."""

    def __init__(self, root: Path, max_years: float = 1.0, max_running: int = 2):
        self.root = Path(root)
        self.max_years = max_years
        self.max_running = max_running
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def get(self, job_id) -> Job:
        with self._lock:
            job = self._jobs.get(str(job_id))
        if job is None:
            raise WebError(404, f"unknown job {str(job_id)[:40]!r}")
        return job

    def start(self, scenario, seed, years) -> Job:
        scenario, seed, years = parse_request(scenario, seed, years, self.max_years)
        with self._lock:
            running = sum(j.status == "running" for j in self._jobs.values())
            if running >= self.max_running:
                raise WebError(429, f"{running} runs are in progress; wait for one to finish")
            job = Job(id=f"{next(self._ids)}-{os.getpid()}-{int(time.time() * 1000) % 10**8}",
                      scenario=scenario, seed=seed, years=years)
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job,), name=f"callao-web-run-{job.id}", daemon=True).start()
        return job

    def _target(self, job: Job) -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        base = f"web-{job.scenario}-s{job.seed}-{stamp}"
        name, n = base, 1
        while (self.root / name).exists():
            n += 1
            name = f"{base}-{n}"
        return self.root / name

    def _run(self, job: Job) -> None:
        tmp = None
        try:
            from callao.sim import simulate

            def progress(f: float, stage: str) -> None:
                job.fraction = 0.9 * max(0.0, min(float(f), 1.0))
                job.stage = stage

            results = simulate(job.scenario, seed=job.seed, years=job.years, progress=progress)
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = self.root / f".partial-{job.id}"
            job.stage, job.fraction = "writing results", 0.9
            results.write(tmp)
            job.stage, job.fraction = "writing report", 0.95
            _write_report(results, tmp / "report.html")
            with self._lock:  # pick the name and rename under the lock: no two jobs take one name
                target = self._target(job)
                os.rename(tmp, target)
            tmp = None
            job.run_id = target.name
            job.stage, job.fraction, job.status = "done", 1.0, "done"
        except Exception as e:  # the page shows the message; the server keeps running
            log.exception("run %s failed", job.id)
            job.status, job.stage, job.error = "failed", "failed", f"{type(e).__name__}: {e}"
        finally:
            job.finished = time.time()
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)


def _write_report(results, path: Path) -> None:
    """report.html when the report module is available; a failing report does not lose the run."""
    try:
        from callao.calibration import calibration_table
        from callao.report import write_report
    except ImportError:
        return
    try:
        write_report(results, path, calibration=calibration_table(results.kpis))
    except Exception:  # noqa: BLE001 - keep the run even if the report cannot be drawn
        log.exception("report.html could not be written")
        Path(path).unlink(missing_ok=True)
