"""A thumbnail worker process: one ThumbnailPipeline, driven over a socket by the app.

Started by `ProcessPipeline` as `qamera-desktop --thumbnail-worker FD CONFIG` (or `python -m
qamera_desktop ...`): FD is this end of a socket pair, CONFIG the WorkerConfig as JSON. It loads
the keys of one disk cache shard and sends each thumbnail back as it is ready. It exits when the
app says Close or goes away (end of stream), so it never outlives the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec

from ...memory import tune_allocator
from .pipeline import FailedCallback, ReadyCallback, ThumbnailPipeline
from .records import DecodedThumbnail, PipelineStats, ThumbnailKey
from .worker_protocol import (
    HEADER,
    Close,
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
# Background work: when the app's GUI thread wants a core, it gets it first (a 100k listing
# parsed while visible thumbnails load stalled the window past two frames at equal priority).
NICENESS = 5


class _Link:
    """This worker's end of the socket: the pipeline's callbacks write frames to it."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self.pipeline: ThumbnailPipeline | None = None
        self._progress_due = False
        self._last_sent: PipelineStats | None = None

    def ready(self, key: ThumbnailKey, thumb: DecodedThumbnail) -> None:
        self._send(
            Ready((key.url, key.size), thumb.width, thumb.height, thumb.source_pixels, thumb.data)
        )

    def failed(self, key: ThumbnailKey, reason: str) -> None:
        self._send(Failed((key.url, key.size), reason))

    def _send(self, message: FromWorker) -> None:
        if self._writer.is_closing():
            return
        self._writer.write(frame(message))
        self.progress_soon()

    def progress_soon(self) -> None:
        """Send the counters on the next loop turn (once for any number of calls before it):
        after the job that reported has let go of its slot, or after the jobs a want() started
        or cancelled, so the gauges are current."""
        if not self._progress_due:
            self._progress_due = True
            asyncio.get_running_loop().call_soon(self.send_progress)

    def send_progress(self, *, if_changed: bool = False) -> None:
        self._progress_due = False
        if self.pipeline is None or self._writer.is_closing():
            return
        counters = self.pipeline.stats()
        if not if_changed or counters != self._last_sent:
            self._last_sent = counters
            self._writer.write(frame(Progress(counters)))

    async def report_changes(self) -> None:
        """Jobs also move without a report (a download starts once the cache index is in):
        the counters go out when they changed, a few times a second."""
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL)
            self.send_progress(if_changed=True)


def shard_pipeline(
    config: WorkerConfig, *, on_ready: ReadyCallback, on_failed: FailedCallback
) -> ThumbnailPipeline:
    """The pipeline that loads one shard, as `config` says: in a worker, or in the app when its
    worker could not start."""
    return ThumbnailPipeline(
        Path(config.cache_dir),
        on_ready=on_ready,
        on_failed=on_failed,
        max_connections=config.max_connections,
        decode_workers=config.decode_workers,
        disk_cache_bytes=config.disk_cache_bytes,
        max_download_bytes=config.max_download_bytes,
        max_pixels=config.max_pixels,
        timeout=config.timeout,
        cache_shard=(config.shard, config.shards),
    )


async def serve(sock: socket.socket, config: WorkerConfig) -> int:
    """Run the pipeline for the messages arriving on `sock` until Close or end of stream.

    Returns the exit status: 0, or 1 when the app's stream was unreadable.
    """
    status = 0
    reader, writer = await asyncio.open_connection(sock=sock)
    link = _Link(writer)
    pipeline = shard_pipeline(config, on_ready=link.ready, on_failed=link.failed)
    link.pipeline = pipeline
    link.send_progress()  # "started": the app may be waiting for it
    reporter = asyncio.create_task(link.report_changes())
    try:
        while True:
            header = await reader.readexactly(HEADER.size)
            message = to_worker_decoder.decode(await reader.readexactly(frame_length(header)))
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
    tune_allocator()
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    sock = socket.socket(fileno=int(argv[0]))
    return asyncio.run(serve(sock, config))
