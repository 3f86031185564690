"""A thumbnail worker process: one ThumbnailPipeline, driven over a socket by the app.

Started by `ProcessPipeline` as `qamera-desktop --thumbnail-worker FD CONFIG` (or `python -m
qamera_desktop ...`): FD is this end of a socket pair, CONFIG the WorkerConfig as JSON. It loads
the keys of one disk cache shard and sends each thumbnail back as it is ready (the pixels through
the shared ring named in CONFIG, when there is one: pixel_ring.py). It exits when the app says
Close or goes away (end of stream), so it never outlives the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec

from ... import memory
from .pipeline import FailedCallback, ReadyCallback, ThumbnailPipeline
from .pixel_ring import RingWriter, open_ring
from .records import DecodedThumbnail, PipelineStats, ThumbnailKey
from .worker_protocol import (
    HEADER,
    Close,
    Consumed,
    Failed,
    ForgetFailures,
    FromWorker,
    Progress,
    Ready,
    Want,
    WorkerConfig,
    frame,
    frame_length,
    keys_of,
    to_worker_decoder,
)

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.1  # seconds
# A worker's loop has nothing else to do: JPEG downloads up to this size (thumbnail-sized,
# decoded in a few milliseconds) are decoded on it, without a thread hand-over (pipeline.py).
INLINE_DECODE_BYTES = 512 * 1024
# Background work: when the app's GUI thread wants a core, it gets it first (a 100k listing
# parsed while visible thumbnails load stalled the window past two frames at equal priority).
NICENESS = 5
# Frames go out in batches, at most one per SEND_INTERVAL (the first after a pause at once):
# each write wakes the app's GUI thread, and a wake-up per frame cost it more than handling the
# frames did (tests/perf/bench_grid.py). A thumbnail waits 4 ms at most, a quarter of a frame.
SEND_INTERVAL = 0.004


class _Link:
    """This worker's end of the socket: the pipeline's callbacks write frames to it (and the
    pixels to the shared ring, when there is one with room), in batches."""

    def __init__(self, writer: asyncio.StreamWriter, ring: RingWriter | None) -> None:
        self._writer = writer
        self.ring = ring
        self.pipeline: ThumbnailPipeline | None = None
        self._out: list[bytes] = []  # frames of the next batch
        self._progress_due = False  # the counters go with the next batch
        self._batch: asyncio.TimerHandle | None = None
        self._last_batch = -math.inf  # loop time the last batch went out
        self._last_sent: PipelineStats | None = None

    def ready(self, key: ThumbnailKey, thumb: DecodedThumbnail) -> None:
        placed = None if self.ring is None else self.ring.put(thumb.data)
        size = (thumb.width, thumb.height, thumb.source_pixels)
        if placed is None:
            self._send(Ready((key.url, key.size), *size, thumb.data))
        else:
            self._send(Ready((key.url, key.size), *size, b"", *placed))

    def failed(self, key: ThumbnailKey, reason: str) -> None:
        self._send(Failed((key.url, key.size), reason))

    def _send(self, message: FromWorker) -> None:
        if not self._writer.is_closing():
            self._out.append(frame(message))
            self.progress_soon()

    def progress_soon(self) -> None:
        """Send the counters with the next batch, which goes out on a later loop turn: after
        the job that reported has let go of its slot, or after the jobs a want() started or
        cancelled, so the gauges are current."""
        self._progress_due = True
        if self._batch is None:
            loop = asyncio.get_running_loop()
            wait = max(0.0, self._last_batch + SEND_INTERVAL - loop.time())
            self._batch = loop.call_later(wait, self.send_batch)

    def send_progress(self, *, if_changed: bool = False) -> None:
        """The counters now, with what waits (`if_changed`: only when they changed since sent)."""
        if self.pipeline is None:
            return
        if not if_changed or self.pipeline.stats() != self._last_sent:
            self._progress_due = True
            self.send_batch()

    def send_batch(self) -> None:
        """Write the frames waiting, and the counters when due, in one go."""
        if self._batch is not None:
            self._batch.cancel()
            self._batch = None
        if self._writer.is_closing():
            self._out.clear()
            return
        if self._progress_due and self.pipeline is not None:
            self._progress_due = False
            self._last_sent = self.pipeline.stats()
            self._out.append(frame(Progress(self._last_sent)))
        if self._out:
            self._writer.writelines(self._out)
            self._out.clear()
            self._last_batch = asyncio.get_running_loop().time()

    async def report_changes(self) -> None:
        """Jobs also move without a report (a download starts once the cache index is in):
        the counters go out when they changed, a few times a second."""
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL)
            self.send_progress(if_changed=True)


def shard_pipeline(
    config: WorkerConfig,
    *,
    on_ready: ReadyCallback,
    on_failed: FailedCallback,
    inline_decode_bytes: int = 0,
) -> ThumbnailPipeline:
    """The pipeline that loads one shard, as `config` says: in a worker (which decodes small
    downloads on its loop, `inline_decode_bytes`), or in the app when its worker could not start
    (never on the GUI thread's loop)."""
    return ThumbnailPipeline(
        Path(config.cache_dir),
        on_ready=on_ready,
        on_failed=on_failed,
        max_connections=config.max_connections,
        decode_workers=config.decode_workers,
        disk_cache_bytes=config.disk_cache_bytes,
        write_back_bytes=config.write_back_bytes,
        max_download_bytes=config.max_download_bytes,
        max_pixels=config.max_pixels,
        timeout=config.timeout,
        cache_shard=(config.shard, config.shards),
        inline_decode_bytes=inline_decode_bytes,
    )


async def serve(sock: socket.socket, config: WorkerConfig) -> int:
    """Run the pipeline for the messages arriving on `sock` until Close or end of stream.

    Returns the exit status: 0, or 1 when the app's stream was unreadable.
    """
    status = 0
    reader, writer = await asyncio.open_connection(sock=sock)
    ring = None
    if config.ring_fd >= 0:
        try:
            ring = open_ring(config.ring_fd, config.ring_bytes)
        except (OSError, ValueError) as exc:  # the pixels then go in the frames
            log.warning("Shared pixel ring not usable (%s); sending pixels inline", exc)
    link = _Link(writer, None if ring is None else RingWriter(ring))
    pipeline = shard_pipeline(
        config,
        on_ready=link.ready,
        on_failed=link.failed,
        inline_decode_bytes=INLINE_DECODE_BYTES,
    )
    link.pipeline = pipeline
    link.send_progress()  # "started": the app may be waiting for it
    reporter = asyncio.create_task(link.report_changes())
    try:
        while True:
            header = await reader.readexactly(HEADER.size)
            message = to_worker_decoder.decode(await reader.readexactly(frame_length(header)))
            if isinstance(message, Consumed):
                if link.ring is not None:
                    link.ring.release(message.upto)
                continue  # nothing changed that the counters show
            if isinstance(message, Want):
                pipeline.want(keys_of(message.keys))
            elif isinstance(message, ForgetFailures):
                pipeline.forget_failures(None if message.keys is None else keys_of(message.keys))
            elif isinstance(message, Close):
                break
            # No drain() here: the app's new wants (scrolled away: cancel) must get through even
            # when it reads results slowly. What waits in this end is bounded by the wanted set
            # (the visible rows and about a screen ahead), each key reported once.
            link.progress_soon()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # the app has gone: nobody is left to load thumbnails for
    except (ValueError, msgspec.DecodeError) as exc:  # DecodeError is a ValueError; both named
        log.error("Unreadable message from the app (%s); stopping", exc)
        status = 1
    finally:
        reporter.cancel()
        await pipeline.aclose()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
        if ring is not None:
            ring.close()
    return status


def main(argv: Sequence[str]) -> int:
    """`--thumbnail-worker FD CONFIG_JSON`: serve the app on socket FD."""
    if len(argv) != 2 or not argv[0].isdigit():
        print("usage: qamera-desktop --thumbnail-worker FD CONFIG_JSON", file=sys.stderr)
        return 2
    # Ctrl+C in a terminal reaches the whole process group; the app decides when this one ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.WARNING, format="qamera thumbnail worker: %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = msgspec.json.decode(argv[1], type=WorkerConfig)
    except msgspec.DecodeError as exc:  # not JSON, or not a WorkerConfig (ValidationError)
        print(f"invalid thumbnail worker configuration: {exc}", file=sys.stderr)
        return 2
    memory.tune_allocator(memory.WORKER)  # not the app's settings: see memory.py
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    sock = socket.socket(fileno=int(argv[0]))
    return asyncio.run(serve(sock, config))
