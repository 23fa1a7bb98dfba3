"""glibc's allocator thresholds, for work that allocates and frees arrays of megabytes over and over
(chunked readers, replications): pinned low, every such array is mapped afresh from the kernel and
its pages fault in zeroed, which can cost a fifth of the CPU time or more.

Where the C library is not glibc, :func:`glibc` is None and callers leave the allocator alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
"""glibc ``mallopt`` parameters (malloc.h)."""
MMAP_THRESHOLD_MAX = 32 * 2**20
"""glibc's ceiling of its dynamic mmap threshold on 64-bit systems, bytes."""
GLIBC_MMAP_THRESHOLD = 128 * 2**10
"""glibc's default mmap and trim thresholds (fixed once either is set), bytes."""


@functools.cache
def glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (has ``mallopt`` and ``malloc_trim``), else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version, libc.mallopt, libc.malloc_trim  # noqa: B018 (glibc only)
        return libc
    except (OSError, AttributeError):
        return None


def set_thresholds(mmap_bytes: int, trim_bytes: int) -> bool:
    """Set glibc's mmap threshold (blocks at least this large are mapped on their own) and trim
    threshold (free memory at the heap's top above this is handed back), both in bytes, for the
    whole process; glibc's self-tuning of them stays off from then on. False where not glibc."""
    libc = glibc()
    if libc is None:
        return False
    libc.mallopt(M_MMAP_THRESHOLD, mmap_bytes)
    libc.mallopt(M_TRIM_THRESHOLD, trim_bytes)
    return True


def trim() -> None:
    """Hand the heap's free memory back to the kernel (glibc's ``malloc_trim(0)``)."""
    libc = glibc()
    if libc is not None:
        libc.malloc_trim(0)
