"""Where replications run: in this process, or on a Dask cluster (local processes or remote).

An executor's :meth:`run` takes a function and tasks and yields ``(task, result, error)`` as each
task finishes, in completion order. The caller stores each result as it arrives, so the worker
count and the executor never change what is computed, only how fast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

from callao.experiments.errors import ExperimentError

Outcome = tuple[Any, Any, BaseException | None]


class LocalExecutor:
    """One task after another in this process."""

    slots = 1

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def run(self, fn: Callable, tasks: Sequence) -> Iterator[Outcome]:
        for task in tasks:
            try:
                result = fn(task)
            except Exception as e:  # one failed replication must not lose the others
                yield task, None, e
            else:
                yield task, result, None


_DASK_LOGGERS = ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
                 "distributed.core", "distributed.comm", "distributed.batched", "tornado",
                 "asyncio", "bokeh")


@contextmanager
def quiet_dask(level: int = logging.ERROR):
    """Silence Dask's start-up and shutdown chatter for the duration."""
    loggers = [logging.getLogger(n) for n in _DASK_LOGGERS]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, lv in zip(loggers, before):
            lg.setLevel(lv)


class DaskExecutor:
    """Tasks on a Dask cluster: a ``LocalCluster`` of ``workers`` single-threaded processes, or the
    scheduler at ``scheduler`` (e.g. ``tcp://host:8786``). Use as a context manager: the cluster is
    started (or connected to) once on entry, each worker is set up by
    :class:`~callao.experiments.dask_worker.ReplicationWorkerPlugin`
    (also workers that join later), the scheduler and nannies are made to wake up less often
    (:mod:`callao.experiments.dask_worker`), and on exit the cluster is closed (a started one) or
    its processes are given back as they were (a connected one)."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        if (workers is None) == (scheduler is None):
            raise ValueError("give exactly one of workers or scheduler")
        if workers is not None and workers < 1:
            raise ExperimentError(f"--workers {workers}: expected at least 1")
        self.workers, self.scheduler = workers, scheduler
        self.cluster = self.client = None
        self._quiet = None
        self._plugin = False
        self._quieted: list[str] = []

    def __enter__(self) -> DaskExecutor:
        import warnings

        import dask
        from distributed import Client, LocalCluster

        from callao.experiments.dask_worker import ReplicationWorkerPlugin

        self._quiet = quiet_dask()
        self._quiet.__enter__()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if self.scheduler is not None:
                    self.client = Client(self.scheduler, timeout="15s")
                else:
                    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in workers by default, which makes
                    # a replication (pandas-heavy, allocation-heavy) ~20% slower; keep glibc's default.
                    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                        self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                                    dashboard_address=None, silence_logs=logging.ERROR)
                    self.client = Client(self.cluster)
                self.client.register_plugin(ReplicationWorkerPlugin(), name=ReplicationWorkerPlugin.name)
                self._plugin = True
                self._quiet_scheduler_and_nannies()
        except (OSError, TimeoutError) as e:
            self.__exit__(None, None, None)
            where = self.scheduler or f"a local cluster of {self.workers} workers"
            raise ExperimentError(f"cannot connect to the Dask scheduler at {where}: {e}") from None
        return self

    def _quiet_scheduler_and_nannies(self) -> None:
        """Register the plugins that make the scheduler and the nannies wake up less often. A
        scheduler or nanny that cannot load them (e.g. a scheduler without callao installed) is
        left as it is: slower on a shared machine, but the results are the same."""
        from callao.experiments.dask_worker import ReplicationNannyPlugin, ReplicationSchedulerPlugin

        for plugin in (ReplicationSchedulerPlugin(), ReplicationNannyPlugin()):
            try:
                self.client.register_plugin(plugin, name=plugin.name)
            except Exception:  # noqa: S112 (only a speed-up; see the docstring)
                continue
            self._quieted.append(plugin.name)

    def __exit__(self, *exc) -> None:
        with quiet_dask(logging.CRITICAL):
            if self.client is not None and self._plugin and self.cluster is None:
                from callao.experiments.dask_worker import (ReplicationNannyPlugin, ReplicationSchedulerPlugin,
                                                            ReplicationWorkerPlugin, leave_scheduler)

                undo = {ReplicationWorkerPlugin.name: lambda: self.client.unregister_worker_plugin(
                            ReplicationWorkerPlugin.name),
                        ReplicationNannyPlugin.name: lambda: self.client.unregister_worker_plugin(
                            ReplicationNannyPlugin.name, nanny=True),
                        ReplicationSchedulerPlugin.name: lambda: self.client.run_on_scheduler(leave_scheduler)}
                for name in (ReplicationWorkerPlugin.name, *self._quieted):
                    try:  # a cluster we only connected to gets its processes back as they were
                        undo[name]()
                    except Exception:  # noqa: S110 (the scheduler may be gone; nothing to give back then)
                        pass
            self._plugin = False
            self._quieted = []
            if self.client is not None:
                self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        self.client = self.cluster = None
        if self._quiet is not None:
            self._quiet.__exit__(None, None, None)
            self._quiet = None

    @property
    def slots(self) -> int:
        """Threads across the cluster's workers: how many tasks run at once."""
        if self.client is None:
            return self.workers or 1
        return max(1, sum(self.client.nthreads().values()))

    def run(self, fn: Callable, tasks: Sequence) -> Iterator[Outcome]:
        from distributed import as_completed

        if self.client is None:
            raise RuntimeError("use DaskExecutor as a context manager")
        futures = {}
        for task in tasks:
            label = getattr(task, "label", "task").replace(" ", "-").replace("#", "")
            fut = self.client.submit(fn, task, key=f"callao-{label}-{uuid4().hex[:8]}", pure=False)
            futures[fut] = task
        try:
            for fut in as_completed(futures):
                task = futures[fut]
                try:
                    result = fut.result()
                except Exception as e:
                    yield task, None, e
                else:
                    yield task, result, None
                fut.release()
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()


def make_executor(workers: int = 1, scheduler: str | None = None) -> LocalExecutor | DaskExecutor:
    """The executor for the CLI options: a Dask scheduler address wins; then more than one worker
    means a local Dask cluster; otherwise in-process."""
    if scheduler:
        return DaskExecutor(scheduler=scheduler)
    if workers > 1:
        return DaskExecutor(workers=workers)
    if workers < 1:
        raise ExperimentError(f"--workers {workers}: expected at least 1")
    return LocalExecutor()
