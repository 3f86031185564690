"""The messages between the app and its thumbnail worker processes, and how they are framed.

A frame is a 4-byte little-endian length and a msgpack body (msgspec, tagged structs). The app
sends `Want`, `ForgetFailures` and `Close`; a worker answers with `Ready` (the decoded pixels
inline) and `Failed`, and with `Progress` (its counters) once a batch of those is out.
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


class Ready(msgspec.Struct, tag=True, frozen=True):
    key: KeyTuple
    width: int
    height: int
    source_pixels: int
    data: bytes  # RGB888, stride width * 3


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
    max_download_bytes: int
    max_pixels: int
    timeout: float


ToWorker = Want | ForgetFailures | Close
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
