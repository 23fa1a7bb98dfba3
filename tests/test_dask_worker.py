"""The Dask worker set-up of experiments (callao.experiments.dask_worker): what DaskExecutor does
to a cluster's workers while replications run, and that it gives a cluster it only connected to
back as it found it."""

from __future__ import annotations

import logging

import pytest

distributed = pytest.importorskip("distributed")

from callao.experiments import DaskExecutor  # noqa: E402


def _probe():
    """A function run inside a worker (defined here so that Dask ships it by value)."""

    def _state(dask_worker=None) -> dict:
        """What the plugin changes, seen from inside a worker; and the page faults of allocating and
        freeing 1 MiB arrays 100 times (each one is mapped afresh when glibc's mmap threshold is pinned
        at 128 KiB: 256 faults each; served from the heap when it is not: almost none; 1 MiB is
        below the 4 MiB from which numpy asks for transparent huge pages)."""
        import os
        import resource

        import numpy as np

        from callao.experiments.dask_worker import warm_engine

        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(100):
            a = np.ones(2**17)  # 1 MiB
            del a
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        for _ in range(2):  # a 'replication' growing the heap by 160 MiB and freeing it: faults of the second
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            arrays = [np.ones(2**18) for _ in range(80)]  # 2 MiB each
            del arrays
        refaults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        pcs = dask_worker.periodic_callbacks
        return {"profiler": "profile" in pcs and pcs["profile"].is_running(), "tick_ms": pcs["tick"].callback_time,
                "memory_ms": pcs["memory_monitor"].callback_time, "warm": warm_engine.cache_info().currsize == 1,
                "malloc_env": os.environ.get("MALLOC_TRIM_THRESHOLD_"), "faults": faults,
                "refaults": refaults}

    return _state


@pytest.fixture(scope="module")
def cluster():
    """A cluster started as a user would, not by DaskExecutor: Dask's defaults (profiler on,
    MALLOC_TRIM_THRESHOLD_=65536 in the worker's environment)."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as c:
        yield c


def test_executor_sets_up_a_connected_clusters_workers_and_gives_them_back(cluster):
    with distributed.Client(cluster.scheduler_address) as client:
        (before,) = client.run(_probe()).values()
    assert before["profiler"] and before["tick_ms"] == 20 and before["malloc_env"] == "65536"
    assert not before["warm"]
    assert before["faults"] > 20_000, "Dask's pinned malloc thresholds should map every 1 MiB array afresh"

    with DaskExecutor(scheduler=cluster.scheduler_address) as ex:
        (during,) = ex.client.run(_probe()).values()
        around_during = _around(cluster)
    assert not during["profiler"]
    assert during["tick_ms"] == 1000 and during["memory_ms"] == 1000
    assert during["warm"], "the engine should have been imported and run once before the first task"
    assert during["faults"] < 5_000, "large arrays should come from the heap again"
    assert during["refaults"] < 2_000, "the heap a task grew should be kept for the next one"

    with distributed.Client(cluster.scheduler_address) as client:
        (after,) = client.run(_probe()).values()
    assert after["profiler"] and after["tick_ms"] == 20 and after["memory_ms"] == 100
    assert after["faults"] > 20_000, "the worker's own malloc settings should be back"
    assert after["refaults"] > 20_000

    assert around_during == {"scheduler": {"tick": 1000, "monitor": 5000},
                             "nanny": {"tick": 1000, "monitor": 5000, "memory_monitor": 1000}}
    assert _around(cluster) == {"scheduler": {"tick": 20, "monitor": 500},
                                "nanny": {"tick": 20, "monitor": 500, "memory_monitor": 100}}, \
        "the scheduler and the nannies should be given back their own intervals"


def _around(cluster) -> dict:
    """The intervals (ms) of the scheduler's and the nanny's periodic callbacks that the executor
    stretches (the fixture's scheduler and nanny live in this process)."""
    (nanny,) = cluster.workers.values()
    pick = lambda server, names: {n: server.periodic_callbacks[n].callback_time for n in names}  # noqa: E731
    return {"scheduler": pick(cluster.scheduler, ("tick", "monitor")),
            "nanny": pick(nanny, ("tick", "monitor", "memory_monitor"))}


def test_executor_sets_up_workers_that_join_later(cluster):
    """Plugins run while a joining worker registers, before Dask starts its periodic callbacks: the
    profiler must stay off on such a worker too."""
    with DaskExecutor(scheduler=cluster.scheduler_address) as ex:
        cluster.scale(2)
        ex.client.wait_for_workers(2, timeout=120)
        states = list(ex.client.run(_probe()).values())
    cluster.scale(1)
    assert len(states) == 2
    assert not any(s["profiler"] for s in states)
    assert all(s["warm"] and s["tick_ms"] == 1000 for s in states)
