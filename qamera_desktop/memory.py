"""Process-wide memory tuning, applied once at start-up (by the bootstrap).

glibc's malloc raises its mmap threshold each time a large block is freed, up to 32 MB: after the
first 20 MB listing body is freed, every decoded thumbnail (~150 KB) comes from the heap arenas
instead of its own mapping, and freed thumbnails leave holes that are never given back to the
system. A fixed threshold keeps large blocks (pixmaps and decoded thumbnails are 150-300 KB) in
their own mappings, returned on free; blocks that come and go by the thousand stay below it (the
listing decoder's slices are 96 KB, see api/fast_listing.py). Fewer arenas (one per thread by
default, up to 8 per core) keep the thumbnail threads from each holding their own mostly-empty
heap. Measured: RSS after filling and scrolling a 100k grid 449 -> ~240 MB (`make bench`).
Elsewhere (macOS, Windows, musl) there is nothing to do.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Final

_M_TRIM_THRESHOLD: Final = -1
_M_MMAP_THRESHOLD: Final = -3
_M_ARENA_MAX: Final = -8
MMAP_THRESHOLD: Final = 128 * 1024  # blocks this large or larger get a mapping of their own
TRIM_THRESHOLD: Final = 128 * 1024  # glibc's own default, which a fixed mmap threshold freezes
ARENA_MAX: Final = 4


def tune_allocator() -> bool:
    """Fix glibc's mmap and trim thresholds and cap its arenas; False where that does not
    apply. Idempotent."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        # the process's own symbols, libc's among them: ctypes.util.find_library("c") would run
        # `ldconfig -p` (or a compiler) at every start, 2-16 ms here
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    results = [
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        mallopt(_M_ARENA_MAX, ARENA_MAX),
    ]
    return all(result == 1 for result in results)
