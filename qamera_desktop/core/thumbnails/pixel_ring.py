"""Shared memory between the app and a thumbnail worker, for the decoded pixels.

Sending a thumbnail's pixels through the socket (200 KB at 256 px) cost a fifth of a worker's
CPU time per thumbnail and half of the app's: the kernel copies them in, then out, in pieces
(tests/perf/bench_grid.py). Instead the worker copies them into a ring of shared memory and its
Ready frame says where; the app copies them out into a QPixmap's image and says `Consumed`.

The app creates the ring (a memfd, Linux) and hands it to the worker like the socket. Only the
worker writes to it, only the app reads. The worker never waits for room: when the ring is full
(the app is behind), the pixels go in the frame, as they do where there is no memfd.
"""

from __future__ import annotations

import mmap
import os
from typing import Final

RING_BYTES: Final = 4 * 2**20  # ~20 thumbnails at 256 px, ~6 at 512 px (HiDPI)


def create_ring(size: int = RING_BYTES) -> tuple[int, mmap.mmap] | None:
    """A new ring of `size` bytes: its file descriptor (close-on-exec; pass it on with
    pass_fds) and this process's mapping. None where shared memory files do not exist (memfd
    is Linux only) or cannot be made: the pixels then travel in the frames."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is None or size <= 0:
        return None
    try:
        fd = memfd_create("qamera-thumbnail-pixels")
    except OSError:
        return None
    try:
        os.ftruncate(fd, size)
        return fd, mmap.mmap(fd, size)
    except OSError:  # no memory for it: the frames carry the pixels
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise


def open_ring(fd: int, size: int) -> mmap.mmap:
    """The worker's mapping of the ring it was handed (the descriptor is closed: the mapping
    keeps the memory)."""
    try:
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


class RingWriter:
    """The worker's side: where the next pixels go, and which part the app has given back.

    Positions count bytes written since the worker started (they only grow); a position modulo
    the ring size is an offset. Pixels never wrap around the end: the rest of the ring is
    skipped instead, so the app always reads one contiguous piece.
    """

    def __init__(self, ring: mmap.mmap) -> None:
        self._ring = ring
        self._size = len(ring)
        self._written = 0  # position after the last pixels put
        self._released = 0  # the app has copied out everything before this position

    def put(self, data: bytes) -> tuple[int, int] | None:
        """Copy `data` into the ring: (offset, end position), or None when there is no room."""
        size, length = self._size, len(data)
        if length == 0 or length > size:
            return None
        start = self._written
        offset = start % size
        if offset + length > size:  # would wrap: start at the beginning of the ring
            start += size - offset
            offset = 0
        end = start + length
        if end - self._released > size:
            return None
        self._ring[offset : offset + length] = data
        self._written = end
        return offset, end

    def release(self, upto: int) -> None:
        """The app has copied out everything before position `upto`."""
        self._released = max(self._released, min(upto, self._written))


def read_pixels(ring: mmap.mmap, offset: int, length: int) -> bytes:
    """A copy of `length` bytes at `offset` (ValueError when that is not inside the ring)."""
    if offset < 0 or length <= 0 or offset + length > len(ring):
        raise ValueError(f"{length} bytes at {offset} are not inside a ring of {len(ring)}")
    return ring[offset : offset + length]
