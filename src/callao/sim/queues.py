"""Vectorised FIFO queues for container-level stages (gate lanes, scanners, exam teams)."""

from __future__ import annotations

import heapq
from collections.abc import Callable

import numpy as np

from callao.tables import stable_argsort


def fifo_wait(arrival_h: np.ndarray, service_h: np.ndarray) -> np.ndarray:
    """Waiting time (hours) of each customer in a single FIFO server, by Lindley's recursion
    W[n] = max(0, W[n-1] + S[n-1] - (A[n] - A[n-1])), solved without a Python loop as
    W = C - running_min(C) with C the cumulative sum of S[n-1] - (A[n] - A[n-1]).

    ``arrival_h`` need not be sorted; results are in the input order. A pool of c identical
    servers is represented by one server c times as fast (service_h already divided by c):
    exact in heavy traffic, slightly pessimistic at low load.
    """
    n = arrival_h.size
    if n == 0:
        return np.empty(0)
    order = stable_argsort(arrival_h)
    a, s = arrival_h[order], service_h[order]
    x = np.empty(n)
    x[0] = 0.0
    x[1:] = s[:-1] - np.diff(a)
    c = np.cumsum(x)
    w = c - np.minimum.accumulate(c)
    out = np.empty(n)
    out[order] = np.maximum(w, 0.0)
    return out


SEGMENT = 2048
"""Most customers in a segment of the multi-server queue (see :func:`multi_server_fifo_wait`)."""

CHECKPOINTS = (0, 8, 16, 32, 64, 128, 256, 512)
"""Steps into a segment where its run from an empty queue is compared with the true run."""


def multi_server_fifo_wait(arrival_h: np.ndarray, service_h: np.ndarray, servers: int,
                           order: np.ndarray | None = None) -> np.ndarray:
    """Waiting time (hours) of each customer in a FIFO queue served by ``servers`` identical
    servers (G/G/c): each customer, in arrival order, takes the server that frees first.

    Exact (unlike one server ``servers`` times as fast), and the same to the last bit as a loop over
    the customers with a heap of the servers' free times, but faster: the customers are cut into
    segments of at most :data:`SEGMENT` customers (each cut at a long gap between arrivals), all
    segments are run side by side from an empty queue, one customer of each per numpy step, then
    each segment's start is checked against the true end of the one before: where servers were
    still busy, the segment is rerun with the heap from its true start until both runs reach the
    same state (:data:`CHECKPOINTS`; usually within a few customers). Results are in the input order.
    ``order``, if given, is ``np.argsort(arrival_h, kind="stable")`` (the caller may know it cheaper)."""
    n = arrival_h.size
    if n == 0:
        return np.empty(0)
    if servers < 1:
        raise ValueError(f"servers must be >= 1, got {servers}")
    if order is None:
        order = stable_argsort(arrival_h)
    a, s = arrival_h[order], service_h[order]
    if n < 4 * SEGMENT or not (np.isfinite(a).all() and np.isfinite(s).all()):
        start = _heap_starts(a, s, [-np.inf] * servers)[0]
    else:
        start = _segmented_starts(a, s, servers)
    out = np.empty(n)
    out[order] = start - a
    return out


def _heap_starts(a: np.ndarray, s: np.ndarray, free: list[float],
                 check: Callable[[int, list[float]], bool] | None = None) -> tuple[np.ndarray, list[float]]:
    """Service start of each customer (arrivals ``a`` sorted, services ``s``) given the servers'
    free times ``free``, and the free times at the end: one pass with a heap, O(n log c). With
    ``check``, stops before customer ``i`` in :data:`CHECKPOINTS` when ``check(i, free)`` is true."""
    n = a.size
    free = list(free)
    heapq.heapify(free)
    start = [0.0] * n
    replace = heapq.heapreplace
    i = 0
    for stop in [*(k for k in CHECKPOINTS if k < n), n] if check is not None else [n]:
        # as Python floats, only the customers up to this checkpoint (a rerun usually stops early)
        for i, ai, si in zip(range(i, stop), a[i:stop].tolist(), s[i:stop].tolist()):
            t = free[0]
            st = t if t > ai else ai
            start[i] = st
            replace(free, st + si)
        i = stop
        if stop < n and check(stop, free):
            return np.asarray(start[:stop]), free
    return np.asarray(start), free


def _cuts(a: np.ndarray) -> np.ndarray:
    """Segment bounds (0, cuts, n) of the sorted arrivals ``a``: each segment at most
    :data:`SEGMENT` customers and at least half that (but the last), cut at the longest gap
    between arrivals in the second half of its span (where the servers are the likeliest to be
    free again). The loop's steps are the longest segment's customers, so capping it keeps the
    padding of shorter segments small."""
    n, half = a.size, SEGMENT // 2
    gaps = np.diff(a)  # gaps[i]: before customer i + 1
    bounds, start = [0], 0
    while n - start > SEGMENT:  # cut before customer c in start + half .. start + SEGMENT
        start += half + int(np.argmax(gaps[start + half - 1:start + SEGMENT]))
        bounds.append(start)
    bounds.append(n)
    return np.array(bounds)


def _segmented_starts(a: np.ndarray, s: np.ndarray, servers: int) -> np.ndarray:
    """:func:`_heap_starts` from an empty queue, computed segment by segment side by side.

    Each segment's servers are kept as the sorted column of their free times (``free[:, q]``): a
    customer starts at ``max(arrival, free[0])`` and its end time ``e`` replaces ``free[0]``, which
    keeps the column sorted as ``free[k] = min(free[k + 1], max(free[k], e))`` (and the last
    ``max(free[-1], e)``): a few whole-array operations a step, no search for the free server.
    Only the multiset of free times matters, so this is the heap loop's arithmetic exactly."""
    n = a.size
    bounds = _cuts(a)
    size = np.diff(bounds)
    n_seg, steps = size.size, int(size.max())
    # step-major tables (flat position step * n_seg + segment); padding customers (arrival -inf,
    # service 0) leave the servers unchanged
    # customer i of segment q (from bounds[q]) at step i - bounds[q]: cell i * n_seg + q - bounds[q] * n_seg
    cell = np.arange(0, n * n_seg, n_seg)
    cell += np.repeat(np.arange(n_seg) - bounds[:-1] * n_seg, size)
    arrival = np.full(steps * n_seg, -np.inf)
    arrival[cell] = a
    arrival = arrival.reshape(steps, n_seg)
    service = np.zeros(steps * n_seg)
    service[cell] = s
    service = service.reshape(steps, n_seg)
    started = np.empty((steps, n_seg))
    free = np.full((servers, n_seg), -np.inf)
    spare = np.empty((servers, n_seg))
    end = np.empty(n_seg)
    marks = set(m for m in CHECKPOINTS if m < steps)
    saved = {}
    for m in range(steps):
        if m in marks:
            saved[m] = free.copy()
        st = np.maximum(arrival[m], free[0], out=started[m])  # a if a >= t else t: as the heap loop
        np.add(st, service[m], out=end)
        np.maximum(free[:-1], end, out=spare[:-1])
        np.minimum(free[1:], spare[:-1], out=spare[:-1])
        np.maximum(free[-1], end, out=spare[-1])
        free, spare = spare, free
    start = started.reshape(-1)[cell]
    # segment q ran from an empty queue: where the true queue (the end of q - 1) differs, rerun q
    # from the true state until both states agree for every later arrival
    first = a[bounds[1:-1]]
    for q in range(1, n_seg):
        if free[-1, q - 1] <= first[q - 1]:  # every server free by its first arrival: as if empty
            continue
        lo, hi = bounds[q], bounds[q + 1]

        def same(i: int, heap: list[float], q: int = q, lo: int = lo) -> bool:
            t = a[lo + i]
            return sorted(max(x, t) for x in heap) == sorted(np.maximum(saved[i][:, q], t).tolist())

        rerun, true_end = _heap_starts(a[lo:hi], s[lo:hi], free[:, q - 1].tolist(), same)
        start[lo:lo + rerun.size] = rerun
        if rerun.size == hi - lo:  # never agreed: the true end state is the rerun's
            free[:, q] = sorted(true_end)
    return start
