"""The messages between the app and its thumbnail worker processes, and how they are framed.

A frame is a 4-byte little-endian length and a msgpack body (msgspec, tagged structs). The app
sends `Want`, `ForgetFailures` and `Close`; a worker answers with `Ready` and `Failed`, and with
`Progress` (its counters) once a batch of those is out.

A Ready's pixels are in the worker's shared pixel ring (pixel_ring.py) when it has one with room,
else inline in the frame. The app copies them out of the ring and says `Consumed` (once per turn
of its loop, for every Ready it has read), which gives that part of the ring back to the worker.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Final

import msgspec

from .records import PipelineStats, ThumbnailKey

HEADER: Final = struct.Struct("<I")
# A frame larger than this is a bug or a corrupt stream, never a thumbnail (a 4096 px RGB888
# preview is 48 MB): the reader stops instead of allocating it.
MAX_FRAME: Final = 64 * 2**20

KeyTuple = tuple[str, int]  # (url, size): ThumbnailKey, flattened for msgpack


def keys_of(pairs: Iterable[KeyTuple]) -> list[ThumbnailKey]:
    """The ThumbnailKeys of (url, size) pairs, in their order."""
    return [ThumbnailKey(url, size) for url, size in pairs]


class Want(msgspec.Struct, tag=True, frozen=True):
    keys: list[KeyTuple]  # most urgent first


class ForgetFailures(msgspec.Struct, tag=True, frozen=True):
    keys: list[KeyTuple] | None  # None: all


class Close(msgspec.Struct, tag=True, frozen=True):
    pass


class Consumed(msgspec.Struct, tag=True, frozen=True):
    upto: int  # the ring position up to which the app has copied the pixels out (RingWriter)


class Ready(msgspec.Struct, tag=True, frozen=True):
    key: KeyTuple
    width: int
    height: int
    source_pixels: int
    data: bytes  # RGB888, stride width * 3; empty when the pixels are in the ring
    ring_offset: int = -1  # where in the ring the pixels are (-1: not in the ring)
    ring_end: int = 0  # the ring position to say Consumed for once they are copied out


class Failed(msgspec.Struct, tag=True, frozen=True):
    key: KeyTuple
    reason: str


class Progress(msgspec.Struct, tag=True, frozen=True):
    counters: PipelineStats  # the worker pipeline's stats()


class WorkerConfig(msgspec.Struct, frozen=True):
    """What a worker process is started with (JSON on its command line)."""

    cache_dir: str
    shard: int  # this worker loads the keys of disk cache shard `shard` of `shards`
    shards: int
    max_connections: int
    decode_workers: int
    disk_cache_bytes: int
    write_back_bytes: int  # of the disk cache's write-back buffer
    max_download_bytes: int
    max_pixels: int
    timeout: float
    ring_fd: int = -1  # the worker's shared pixel ring (a file descriptor it inherits), if any
    ring_bytes: int = 0


ToWorker = Want | ForgetFailures | Close | Consumed
FromWorker = Ready | Failed | Progress

_encoder = msgspec.msgpack.Encoder()
to_worker_decoder: Final = msgspec.msgpack.Decoder(ToWorker)
from_worker_decoder: Final = msgspec.msgpack.Decoder(FromWorker)


def frame(message: ToWorker | FromWorker) -> bytes:
    """The message as one frame: length, then body."""
    body = _encoder.encode(message)
    return HEADER.pack(len(body)) + body


def frame_length(header: bytes | bytearray | memoryview) -> int:
    """The body length announced by a frame header; ValueError when it cannot be a frame."""
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME:
        raise ValueError(f"thumbnail worker frame of {length} bytes")
    return int(length)
