"""How a Dask worker is set up to run replications at full speed (imported only when Dask is used).

:class:`~callao.experiments.executors.DaskExecutor` registers :class:`ReplicationWorkerPlugin` on
every worker of the cluster it starts or connects to, and unregisters it (restoring the workers)
when it leaves a cluster it did not start.
"""

from __future__ import annotations

import functools
import os

from distributed import WorkerPlugin

from callao import allocator

WARM_YEARS = 0.005
"""Simulated years of :func:`warm_engine`'s short run (about two days)."""

SLOWER_CALLBACKS_MS = {"tick": 1000.0, "memory_monitor": 1000.0}
"""Worker callbacks run less often during replications, milliseconds: ``tick`` (the event loop's
latency probe, every 20 ms by default) and ``memory_monitor`` (the memory-limit check, every
100 ms) wake the event loop, which then takes the GIL from the running replication."""

@functools.cache
def warm_engine() -> None:
    """Import everything a replication uses and run a short simulation (:data:`WARM_YEARS` of the
    bundled Callao scenario), once per process: the first replication of a fresh worker then
    costs what the others do, instead of ~3 CPU s more (LightGBM, scikit-learn and SciPy imports,
    first calls)."""
    from callao.sim import simulate

    simulate("callao", seed=0, years=WARM_YEARS).kpis  # noqa: B018 (computed for its side effect)


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
      runs its event-loop latency probe and memory check once a second
      (:data:`SLOWER_CALLBACKS_MS`): together the worker's own threads then take ~4% of a
      replication's CPU instead of ~25%;
    - on a worker started with Dask's default ``MALLOC_TRIM_THRESHOLD_=65536`` (a ``dask worker``;
      the LocalCluster of :class:`~callao.experiments.executors.DaskExecutor` drops it), sets
      glibc's mmap and trim thresholds to the ceilings its dynamic thresholds would reach (32 and
      64 MiB): pinned at 128 KiB, every array above it is mapped and unmapped afresh, ~60% more
      CPU per replication;
    - imports the engine and runs a two-day simulation
      (:func:`warm_engine`), so the worker's first replication
      costs what the others do.

    None of this changes a result: only how fast the same code runs.
    """

    name = "callao-replications"

    def __init__(self) -> None:
        self._profiler: dict = {}
        self._intervals: dict[str, float] = {}
        self._malloc: int | None = None

    async def setup(self, worker) -> None:
        import asyncio

        for name in ("profile", "profile-cycle"):  # taken out, or a joining worker would start them
            pc = worker.periodic_callbacks.pop(name, None)
            if pc is not None:
                self._profiler[name] = (pc, pc.is_running())
                pc.stop()
        for name, ms in SLOWER_CALLBACKS_MS.items():
            pc = worker.periodic_callbacks.get(name)
            if pc is not None and pc.callback_time < ms:
                self._intervals[name] = pc.callback_time
                _reschedule(pc, ms)
        pinned = _pinned_malloc()
        if pinned is not None and allocator.set_thresholds(allocator.MMAP_THRESHOLD_MAX,
                                                           2 * allocator.MMAP_THRESHOLD_MAX):
            self._malloc = pinned
        try:
            await asyncio.to_thread(warm_engine)
        except Exception:  # a broken worker reports its error with its first task, in the task's words
            pass

    def teardown(self, worker) -> None:
        for name, (pc, running) in self._profiler.items():
            worker.periodic_callbacks[name] = pc
            if running or worker.status.name == "running":
                pc.start()
        for name, ms in self._intervals.items():
            pc = worker.periodic_callbacks.get(name)
            if pc is not None:
                _reschedule(pc, ms)
        if self._malloc is not None:
            allocator.set_thresholds(allocator.GLIBC_MMAP_THRESHOLD, self._malloc)
        self._profiler, self._intervals, self._malloc = {}, {}, None


def _reschedule(pc, ms: float) -> None:
    """Run a tornado ``PeriodicCallback`` every ``ms`` milliseconds from now on."""
    running = pc.is_running()
    pc.stop()
    pc.callback_time = ms
    if running:
        pc.start()
