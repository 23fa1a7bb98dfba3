"""How a Dask cluster is set up to run replications at full speed (imported only when Dask is used).

:class:`~callao.experiments.executors.DaskExecutor` registers :class:`ReplicationWorkerPlugin` on
every worker of the cluster it starts or connects to, :class:`ReplicationNannyPlugin` on every
nanny and :class:`ReplicationSchedulerPlugin` on the scheduler, and removes them (restoring each
process as it was) when it leaves a cluster it did not start.

The scheduler and the nannies do no work for a replication, but by default they wake up 50 times
a second each (``tick``, the event-loop latency probe, every 20 ms) and the nannies check their
worker's memory 10 times a second: on a 2-core machine running 2 workers that took 0.13–0.50 CPU s
per replication from the workers (more at higher load: the callbacks run by the clock), 0.04–0.12 s
with these plugins (docs/experiments.md, Speed).
"""

from __future__ import annotations

import functools
import os

from distributed import NannyPlugin, SchedulerPlugin, WorkerPlugin

from callao import allocator

SLOWER_CALLBACKS_MS = {"tick": 1000.0, "memory_monitor": 1000.0, "monitor": 5000.0}
"""Periodic callbacks of a worker, nanny or scheduler run less often during replications,
milliseconds: ``tick`` (the event loop's latency probe, every 20 ms by default),
``memory_monitor`` (a worker's or nanny's memory-limit check, every 100 ms) and ``monitor`` (the
CPU, memory and network sampling shown on the dashboard, every 500 ms). In a worker each wakes the
event loop, which then takes the GIL from the running replication; in the scheduler and the
nannies they take CPU from the workers on a machine they share."""

WARM_MODULES = ("callao.sim.engine", "callao.sim.customs", "callao.kpis")
"""What a replication imports: the engine, the customs stage the landside imports on its first run
(it brings LightGBM, scikit-learn and SciPy, ~1.5 CPU s) and the KPIs."""


@functools.cache
def warm_engine() -> None:
    """Import everything a replication uses (:data:`WARM_MODULES`), once per process: the first
    replication of a fresh worker then costs what the others do (measured: 0.84-0.99 against
    0.91-0.93 CPU s for 0.1-year replications), instead of ~2 CPU s more. Nothing is simulated:
    a warm-up simulation (two days, as before) cost each worker another ~1 CPU s at start-up (CPU at
    ready 4.0–4.6 s against 3.0–3.8 s) and made no later replication faster."""
    import importlib

    for name in WARM_MODULES:
        importlib.import_module(name)


HEAP_KEEP_BYTES = 2**31 - 1
"""glibc's trim threshold on a worker while replications run, bytes (the largest ``mallopt``
takes): the heap a replication grew is kept for the next one instead of being handed back to the
kernel and faulted in, zeroed, again (measured in one process: 0.3–0.5 CPU s of system time per
one-year replication, ~0.02 s once the heap is kept). A worker's memory stays at a replication's
peak, ~1.2 GB for a year of Callao, until the executor leaves, which trims it."""


def _pinned_malloc() -> int | None:
    """``MALLOC_TRIM_THRESHOLD_`` of this process (bytes) when it pins glibc's thresholds, as
    Dask's nanny does by default (65536); None when glibc's dynamic thresholds are in effect."""
    value = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    if value is None or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return None
    try:
        return int(value)
    except ValueError:
        return None


class ReplicationWorkerPlugin(WorkerPlugin):
    """Sets a Dask worker up for long CPU-bound replications, and undoes it on teardown (when the
    executor leaves a cluster it did not start):

    - stops Dask's statistical profiler, which samples the running task's stack every 10 ms in the
      worker's event loop (about 10–20% of a replication's CPU, holding the GIL meanwhile), and
      runs its event-loop latency probe and memory check once a second and its system monitor
      every 5 s (:data:`SLOWER_CALLBACKS_MS`): together the worker's own threads then take ~4% of a
      replication's CPU instead of ~25%;
    - sets glibc's mmap threshold to the ceiling its dynamic threshold would reach (32 MiB) and its
      trim threshold to :data:`HEAP_KEEP_BYTES`: on a worker started with Dask's default
      ``MALLOC_TRIM_THRESHOLD_=65536`` (a ``dask worker``; the LocalCluster of
      :class:`~callao.experiments.executors.DaskExecutor` drops it) both are pinned at 128 KiB and
      every array above it is mapped and unmapped afresh, ~60% more CPU per replication; with
      glibc's dynamic thresholds the heap above 64 MiB is handed back after each replication and
      faulted in again by the next; on teardown the thresholds go back (pinned: to the pinned
      values; dynamic: to their ceilings, 32 and 64 MiB) and the heap is trimmed;
    - imports the engine, LightGBM, scikit-learn and SciPy (:func:`warm_engine`), so the worker's
      first replication costs what the others do.

    None of this changes a result: only how fast the same code runs.
    """

    name = "callao-replications"

    def __init__(self) -> None:
        self._profiler: dict = {}
        self._intervals: dict[str, float] = {}
        self._malloc: tuple[int, int] | None = None

    async def setup(self, worker) -> None:
        import asyncio

        for name in ("profile", "profile-cycle"):  # taken out, or a joining worker would start them
            pc = worker.periodic_callbacks.pop(name, None)
            if pc is not None:
                self._profiler[name] = (pc, pc.is_running())
                pc.stop()
        self._intervals = slow_down(worker)
        pinned = _pinned_malloc()
        if allocator.set_thresholds(allocator.MMAP_THRESHOLD_MAX, HEAP_KEEP_BYTES):
            self._malloc = ((allocator.GLIBC_MMAP_THRESHOLD, pinned) if pinned is not None
                            else (allocator.MMAP_THRESHOLD_MAX, 2 * allocator.MMAP_THRESHOLD_MAX))
        try:
            await asyncio.to_thread(warm_engine)
        except Exception:  # a broken worker reports its error with its first task, in the task's words
            pass

    def teardown(self, worker) -> None:
        for name, (pc, running) in self._profiler.items():
            worker.periodic_callbacks[name] = pc
            if running or worker.status.name == "running":
                pc.start()
        restore(worker, self._intervals)
        if self._malloc is not None:
            allocator.set_thresholds(*self._malloc)
            allocator.trim()
        self._profiler, self._intervals, self._malloc = {}, {}, None


class ReplicationNannyPlugin(NannyPlugin):
    """Runs a nanny's periodic callbacks less often (:data:`SLOWER_CALLBACKS_MS`) while
    replications run, and restores them on teardown. Changes no result."""

    name = "callao-replications-nanny"
    restart = False

    def __init__(self) -> None:
        self._intervals: dict[str, float] = {}

    def setup(self, nanny) -> None:
        self._intervals = slow_down(nanny)

    def teardown(self, nanny) -> None:
        restore(nanny, self._intervals)
        self._intervals = {}


class ReplicationSchedulerPlugin(SchedulerPlugin):
    """Runs the scheduler's periodic callbacks less often (:data:`SLOWER_CALLBACKS_MS`) while
    replications run; :func:`leave_scheduler` restores them (Dask does not tear a scheduler plugin
    down when it is removed). Changes no result."""

    name = "callao-replications-scheduler"

    def __init__(self) -> None:
        self._intervals: dict[str, float] = {}

    async def start(self, scheduler) -> None:
        self._intervals = slow_down(scheduler)

    def restore(self, scheduler) -> None:
        restore(scheduler, self._intervals)
        self._intervals = {}


def leave_scheduler(dask_scheduler) -> None:
    """Remove :class:`ReplicationSchedulerPlugin` from the scheduler and restore its callbacks
    (run on the scheduler with ``Client.run_on_scheduler``)."""
    plugin = dask_scheduler.plugins.pop(ReplicationSchedulerPlugin.name, None)
    if plugin is not None:
        plugin.restore(dask_scheduler)


def slow_down(server) -> dict[str, float]:
    """Run the server's (worker's, nanny's, scheduler's) periodic callbacks named in
    :data:`SLOWER_CALLBACKS_MS` at most that often; returns the intervals they had (ms), for
    :func:`restore`."""
    before = {}
    for name, ms in SLOWER_CALLBACKS_MS.items():
        pc = server.periodic_callbacks.get(name)
        if pc is not None and pc.callback_time < ms:
            before[name] = pc.callback_time
            _reschedule(pc, ms)
    return before


def restore(server, intervals: dict[str, float]) -> None:
    """Give the server's periodic callbacks the intervals :func:`slow_down` returned."""
    for name, ms in intervals.items():
        pc = server.periodic_callbacks.get(name)
        if pc is not None:
            _reschedule(pc, ms)


def _reschedule(pc, ms: float) -> None:
    """Run a tornado ``PeriodicCallback`` every ``ms`` milliseconds from now on."""
    running = pc.is_running()
    pc.stop()
    pc.callback_time = ms
    if running:
        pc.start()
