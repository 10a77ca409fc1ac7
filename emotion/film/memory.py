"""Keeping a long film analysis's native memory flat (glibc's allocator).

Python's own objects are few in a film pass; what grows is native memory:
glibc gives each thread that allocates (the face worker, FFmpeg's decoding
threads, torch's) an arena of its own, up to eight per core, and memory freed
in one arena is neither reused by the others nor returned to the system. On a
2-hour film at 320x180 that added about 360 MB over a 2-minute one. And
once a large buffer (a checkpoint, a batch) is freed, glibc raises the size
below which it serves buffers from those arenas instead of fresh pages, so
ever larger checkpoints of a long film fragment them further.
:func:`limit_arenas` caps the arenas and fixes that threshold at 1 MB before
the pass starts its threads, and :func:`release_free_memory` hands freed
pages back after each checkpoint.
Both do nothing where the C library is not glibc (macOS, Windows, musl).

>>> limit_arenas(); release_free_memory()       # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os

log = logging.getLogger(__name__)

#: mallopt's parameter numbers (glibc's malloc.h).
_M_ARENA_MAX, _M_MMAP_THRESHOLD = -8, -3
#: Arenas allowed when $MALLOC_ARENA_MAX does not say otherwise.
ARENAS = 2
#: Buffers from this size up get pages of their own, returned when freed ($MALLOC_MMAP_THRESHOLD_ wins).
MMAP_THRESHOLD = 1 << 20


@functools.cache
def _glibc():
    name = ctypes.util.find_library("c")
    if not name or not hasattr(os, "confstr"):
        return None
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except (OSError, ValueError, AttributeError):
        return None


@functools.cache
def limit_arenas() -> bool:
    """Cap glibc's malloc arenas at :data:`ARENAS` and fix its mmap threshold (once per process).

    ``$MALLOC_ARENA_MAX`` and ``$MALLOC_MMAP_THRESHOLD_``, when set, win.
    """
    libc = _glibc()
    if libc is None:
        return False
    ok = True
    if not os.environ.get("MALLOC_ARENA_MAX"):
        ok &= bool(libc.mallopt(_M_ARENA_MAX, ARENAS))
    if not os.environ.get("MALLOC_MMAP_THRESHOLD_"):
        ok &= bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    log.debug("malloc tuned for a long pass (arenas %d, mmap threshold %d): %s", ARENAS, MMAP_THRESHOLD, ok)
    return ok


def release_free_memory() -> None:
    """Return freed heap pages to the system (glibc's ``malloc_trim``); a no-op elsewhere."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
