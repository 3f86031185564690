"""Process-wide memory tuning, applied once at start-up (by the bootstrap).

glibc's malloc raises its mmap threshold each time a large block is freed, up to 32 MB: after the
first 20 MB listing body is freed, every decoded thumbnail (~150 KB) comes from the heap arenas
instead of its own mapping, and freed thumbnails leave holes that are never given back to the
system. A fixed threshold keeps large blocks (pixmaps and decoded thumbnails are 150-300 KB) in
their own mappings, returned on free; blocks that come and go by the thousand stay below it (the
listing decoder's slices are 96 KB, see api/fast_listing.py). Fewer
arenas (one per thread by default, up to 8 per core) keep worker threads from each holding
their own mostly-empty heap. Elsewhere (macOS, Windows, musl) there is nothing to do.

A thumbnail worker process is the other way round (`WORKER`): it keeps no pixels (they go to
the app as soon as they are decoded), but makes and drops a few blocks of 150-600 KB per
thumbnail (Pillow's image, its pixels). In mappings of their own, or in heap memory given back
to the system (trimmed) as soon as it is free, each costs page faults and zeroed pages again: a
tenth of a worker's CPU time per thumbnail (tests/perf/bench_grid.py). Below a higher threshold,
and with a few MB of free heap kept, the next thumbnail reuses the last one's memory.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from dataclasses import dataclass
from typing import Final

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
ARENA_MAX = 4


@dataclass(frozen=True, slots=True)
class AllocatorSettings:
    mmap_threshold: int  # blocks this large or larger get a mapping of their own
    trim_threshold: int  # free memory at the top of the heap beyond this goes back to the system


# The app: glibc's own trim threshold (128 KB), which a fixed mmap threshold keeps fixed.
APP: Final = AllocatorSettings(mmap_threshold=128 * 1024, trim_threshold=128 * 1024)
# A thumbnail worker: above a 512 px (HiDPI) thumbnail's pixels (630 KB) and Pillow's image.
WORKER: Final = AllocatorSettings(mmap_threshold=1024 * 1024, trim_threshold=8 * 1024 * 1024)


def tune_allocator(settings: AllocatorSettings = APP) -> bool:
    """Fix glibc's mmap and trim thresholds and cap its arenas; False where that does not
    apply. Idempotent; a later call replaces the thresholds of an earlier one."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    results = [
        mallopt(_M_MMAP_THRESHOLD, settings.mmap_threshold),
        mallopt(_M_TRIM_THRESHOLD, settings.trim_threshold),
        mallopt(_M_ARENA_MAX, ARENA_MAX),
    ]
    return all(result == 1 for result in results)
