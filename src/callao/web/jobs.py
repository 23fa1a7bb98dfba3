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

from callao.web.runs import WebError

log = logging.getLogger(__name__)
MAX_SEED = 2**32 - 1
YEARS_LIMIT = 5.0
MIN_YEARS = 1.0 / 365.0
"""Shortest run the page starts: one day (a run of 1e-300 years is nothing to look at)."""
RUN_BYTES_PER_YEAR = 120e6
"""Disk a run takes per simulated year (tables and report of the bundled Callao scenario, ~100 MB)."""


def _typed(value) -> str:
    """What the user typed, for an error message ("empty" when nothing)."""
    text = "" if value is None else str(value)
    return "empty" if not text.strip() else repr(text[:40])


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
        seed_f = float(str(seed).strip())
        if not seed_f.is_integer():
            raise ValueError
        seed_i = int(seed_f)
    except (TypeError, ValueError, OverflowError):
        raise WebError(400, f"seed {_typed(seed)}: expected a whole number from 0 to {MAX_SEED}") from None
    if not 0 <= seed_i <= MAX_SEED:
        raise WebError(400, f"seed {seed_i}: expected a whole number from 0 to {MAX_SEED}")
    expected = f"expected a number of years from {MIN_YEARS:.4f} (one day) to {max_years:g}"
    try:
        if isinstance(years, bool) or years is None:
            raise ValueError
        years_f = float(str(years).strip())
    except (TypeError, ValueError, OverflowError):
        raise WebError(400, f"years {_typed(years)}: {expected}") from None
    if not math.isfinite(years_f) or not MIN_YEARS <= years_f <= max_years:
        raise WebError(400, f"years {_typed(years)}: {expected}")
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

    def __init__(self, root: Path, max_years: float = 1.0, max_running: int = 2, max_disk_bytes: int = 5_000_000_000):
        self.root = Path(root)
        self.max_years = max_years
        self.max_running = max_running
        self.max_disk_bytes = max_disk_bytes
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
            used = disk_used(self.root)
            pending = sum(j.years for j in self._jobs.values() if j.status == "running") + years
            need = used + pending * RUN_BYTES_PER_YEAR
            if need > self.max_disk_bytes:
                raise WebError(507, f"the results folder holds {used / 1e9:.2f} GB; a {years:g}-year run needs about "
                                    f"{years * RUN_BYTES_PER_YEAR / 1e9:.2f} GB more, over the "
                                    f"{self.max_disk_bytes / 1e9:g} GB limit (--max-disk-gb): delete old runs first")
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


def disk_used(root: Path) -> int:
    """Bytes of the files in the results folder (symlinks not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


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
