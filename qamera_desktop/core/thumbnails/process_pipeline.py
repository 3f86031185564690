"""Thumbnails loaded in worker processes: the app's side of them.

Why processes: in one process the event loop thread (httpx costs ~1.5 ms of Python per download)
and the decode threads (Pillow's Python around its C decoder, the cache writes) take turns on one
GIL, and every turn is a wait. Side by side in one run (`make bench` prints both), the grid
filled at 311 thumbnails/s in one process and at 522/s in two worker processes, each with its
own GIL (743/s since: cache writes while idle, small JPEGs decoded on the worker's loop, a
worker's own allocator settings, frames in batches, pixels in shared memory); the GUI thread
only turns finished pixels into pixmaps.

Each worker (worker.py) runs a ThumbnailPipeline for one shard of the keys: a key belongs to its
disk cache subdirectory's number modulo the number of workers (`shard_of`), so each worker owns
its part of the disk cache and the cache folder keeps one layout. `want()` splits the wanted list
by shard, keeping its order, and sends each worker its part when that changed; connections and
disk cache bytes are divided between the workers. Results arrive as frames on the event loop
thread, a batch per read (`_FrameReader`), with the pixels in the worker's shared ring
(pixel_ring.py), and are reported from there, like ThumbnailPipeline's.

A worker that dies (a decoder crash, say) is started again and given its wanted keys again, up to
`MAX_RESTARTS` times within `RESTART_WINDOW` seconds; after that its keys fail with a reason the
window shows. A worker that dies twice in a row before saying it started (a broken install, a
frozen build missing a module) is not tried again: its shard loads in this process instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Final, Protocol

import httpx
import msgspec

from qamera_desktop import THUMBNAIL_WORKER_FLAG

from ..secret_store import API_KEY_ENV
from .decode import DEFAULT_MAX_PIXELS
from .disk_cache import shard_of
from .pipeline import (
    WRITE_BACK_BYTES,
    FailedCallback,
    ReadyCallback,
    ThumbnailPipeline,
    call_back,
)
from .pixel_ring import create_ring, read_pixels
from .records import DecodedThumbnail, PipelineStats, ThumbnailKey
from .worker import shard_pipeline
from .worker_protocol import (
    HEADER,
    Close,
    Consumed,
    Failed,
    ForgetFailures,
    KeyTuple,
    Progress,
    Ready,
    ToWorker,
    Want,
    WorkerConfig,
    frame,
    frame_length,
    from_worker_decoder,
    keys_of,
)

log = logging.getLogger(__name__)

MAX_RESTARTS: Final = 3  # per worker, within RESTART_WINDOW seconds
RESTART_WINDOW: Final = 60.0
WORKER_STOPPED: Final = "thumbnail worker stopped"
_SOCKET_BUFFER: Final = 2**20  # a 256 px thumbnail is a 200 KB frame: a few per wake-up
_STAGING: Final = 256 * 1024  # the app reads small frames into this, as many as have come
_LARGE_FRAME: Final = _STAGING // 2  # a larger frame's body is read into a buffer of its own
# The app says Consumed each time it has copied out a quarter of the ring: a message per
# thumbnail cost the worker and the app more than the ring saved.
_CONSUMED_EVERY: Final = 4
_EXIT_WAIT: Final = 3.0  # seconds a worker gets to finish its cache writes at close


class Pipeline(Protocol):
    """What ThumbnailLoader needs of a pipeline: ThumbnailPipeline and ProcessPipeline."""

    def want(self, keys: Sequence[ThumbnailKey]) -> None: ...
    def forget_failures(self, keys: Iterable[ThumbnailKey] | None = None) -> None: ...
    def stats(self) -> PipelineStats: ...
    @property
    def worker_pids(self) -> list[int]: ...
    async def wait_started(self) -> None: ...
    async def aclose(self) -> None: ...


def processes_supported() -> bool:
    """Worker processes need POSIX (a socket handed over with pass_fds). QAMERA_THUMBNAIL_
    PROCESSES=0 turns them off, for a machine where starting processes is not allowed."""
    return os.name == "posix" and os.environ.get("QAMERA_THUMBNAIL_PROCESSES", "1") != "0"


def open_pipeline(
    cache_dir: Path,
    *,
    on_ready: ReadyCallback,
    on_failed: FailedCallback,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Pipeline:
    """The thumbnail pipeline for the app: in worker processes where that works, else in this
    process. A custom transport (tests' fault injection) cannot cross into a process."""
    if transport is None and processes_supported():
        try:
            return ProcessPipeline(cache_dir, on_ready=on_ready, on_failed=on_failed)
        except OSError as exc:
            log.warning("Thumbnail worker processes could not start (%s); loading in-process", exc)
    return ThumbnailPipeline(cache_dir, on_ready=on_ready, on_failed=on_failed, transport=transport)


def worker_command() -> list[str]:
    """How to start a worker: the frozen app itself, or this Python with the package."""
    if getattr(sys, "frozen", False):
        return [sys.executable, THUMBNAIL_WORKER_FLAG]
    return [sys.executable, "-m", "qamera_desktop", THUMBNAIL_WORKER_FLAG]


def worker_environment() -> dict[str, str]:
    """The app's environment without the account key: a worker parses downloaded files, and
    never needs the key (the thumbnail client sends no credentials)."""
    return {name: value for name, value in os.environ.items() if name != API_KEY_ENV}


class ProcessPipeline:
    """ThumbnailPipeline's interface, with the loading done in `processes` worker processes.

    Callbacks run on the event loop's thread, as ThumbnailPipeline's do. The processes start at
    construction (OSError if they cannot), so they are ready by the time the first keys are
    wanted; the socket to each is connected on first use, on the running loop.
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        on_ready: ReadyCallback,
        on_failed: FailedCallback,
        processes: int = 2,
        max_connections: int = 6,
        decode_workers: int = 1,
        disk_cache_bytes: int = 512 * 2**20,
        write_back_bytes: int = WRITE_BACK_BYTES,
        max_download_bytes: int = 20 * 2**20,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        timeout: float = 15.0,
        command: Sequence[str] | None = None,
    ) -> None:
        if processes < 1 or max_connections < processes or decode_workers < 1:
            raise ValueError("need at least one process, a connection per process, one decoder")
        self._on_ready = on_ready
        self._on_failed = on_failed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failed: set[ThumbnailKey] = set()
        self._soon: set[asyncio.Handle] = set()
        self._closed = False
        command = list(command) if command is not None else worker_command()
        self._links: list[_WorkerLink] = []
        try:
            for shard in range(processes):
                config = WorkerConfig(
                    cache_dir=str(cache_dir),
                    shard=shard,
                    shards=processes,
                    max_connections=max_connections // processes
                    + (1 if shard < max_connections % processes else 0),
                    decode_workers=decode_workers,
                    disk_cache_bytes=disk_cache_bytes // processes,
                    write_back_bytes=write_back_bytes // processes,
                    max_download_bytes=max_download_bytes,
                    max_pixels=max_pixels,
                    timeout=timeout,
                )
                self._links.append(_WorkerLink(self, config, command))
        except BaseException:
            for link in self._links:
                link.kill()
            raise

    # ================================================================================ public API
    def want(self, keys: Sequence[ThumbnailKey]) -> None:
        """Replace the wanted set, most urgent first (see ThumbnailPipeline.want)."""
        loop = self._bind_loop()
        if self._closed:
            return
        shards = len(self._links)
        parts: list[dict[KeyTuple, None]] = [{} for _ in range(shards)]
        for key in keys:
            if key not in self._failed:
                parts[shard_of(key, shards)][(key.url, key.size)] = None
        for link, part in zip(self._links, parts, strict=True):
            link.want(loop, part)

    def forget_failures(self, keys: Iterable[ThumbnailKey] | None = None) -> None:
        """Let failed keys (all, or those given) load again the next time they are wanted."""
        if keys is None:
            self._failed.clear()
            for link in self._links:
                link.send(ForgetFailures(None))
            return
        shards = len(self._links)
        parts: list[list[KeyTuple]] = [[] for _ in range(shards)]
        for key in keys:
            self._failed.discard(key)
            parts[shard_of(key, shards)].append((key.url, key.size))
        for link, part in zip(self._links, parts, strict=True):
            if part:
                link.send(ForgetFailures(part))

    def stats(self) -> PipelineStats:
        """The workers' counters, summed (their last report: a moment behind)."""
        totals = dict.fromkeys((field.name for field in dataclasses.fields(PipelineStats)), 0)
        for link in self._links:
            for counters in link.all_counters():
                for name in totals:
                    totals[name] += getattr(counters, name)
        return PipelineStats(**totals)

    async def wait_started(self) -> None:
        """Until every worker has started and said so (benchmarks time the loading after it)."""
        loop = self._bind_loop()
        for link in self._links:
            link.connect(loop)
        # shielded: a caller that gives up waiting must not cancel the links' shared futures
        await asyncio.gather(*(asyncio.shield(link.started) for link in self._links))

    @property
    def worker_pids(self) -> list[int]:
        """The running workers' process ids (for tests and diagnostics)."""
        return [link.pid for link in self._links if link.pid is not None]

    async def aclose(self) -> None:
        """Tell the workers to stop, let them finish their cache writes, then reap them."""
        if self._closed:
            return
        self._closed = True
        for handle in self._soon:
            handle.cancel()
        self._soon.clear()
        for link in self._links:
            link.close()
        for link in self._links:
            await link.close_fallback()
        deadline = time.monotonic() + _EXIT_WAIT
        # Polled: a child's exit is no event on this loop without a child watcher thread.
        while any(link.running() for link in self._links) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        for link in self._links:
            link.kill()

    # ================================================================================ from links
    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()  # RuntimeError off the loop thread: that is a bug
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("ProcessPipeline is used from a second event loop")
        return loop

    def _report_ready(self, key: ThumbnailKey, thumb: DecodedThumbnail) -> None:
        call_back("on_ready", self._on_ready, key, thumb)

    def _report_failed(self, key: ThumbnailKey, reason: str) -> None:
        self._failed.add(key)
        call_back("on_failed", self._on_failed, key, reason)

    def _fail_soon(self, loop: asyncio.AbstractEventLoop, key: ThumbnailKey, reason: str) -> None:
        """Fail on the next loop turn, not from inside want()."""
        self._failed.add(key)

        def report() -> None:
            self._soon.discard(handle)
            self._report_failed(key, reason)

        handle = loop.call_soon(report)
        self._soon.add(handle)


class _WorkerLink:
    """One worker process and the socket to it; starts it again when it dies."""

    def __init__(self, owner: ProcessPipeline, config: WorkerConfig, command: list[str]) -> None:
        self._owner = owner
        self._config = config
        self._command = command
        self.wanted: dict[KeyTuple, None] = {}  # sent to the worker and not reported yet
        self._counters = PipelineStats()
        self._earlier: list[PipelineStats] = []  # the last counters of workers that died
        self._restarts: deque[float] = deque()  # when the worker was started again
        self._hello = False  # the current worker has said it started
        self._early_deaths = 0  # workers in a row that died before that
        self._fallback: ThumbnailPipeline | None = None  # the shard, loaded in this process
        self._dead = False
        self._closing = False
        self._outbox: list[bytes] = []  # frames written before the socket is connected
        self._transport: asyncio.Transport | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._exited: list[subprocess.Popen[bytes]] = []
        self._started: asyncio.Future[None] | None = None
        # The pixel ring, kept for the link's life (each worker started writes it from the start)
        self._ring = create_ring()
        self._consumed = 0  # ring position the current worker's pixels have been copied out to
        self._said_consumed = 0  # the position last told to the worker
        try:
            self._proc, self._sock = self._spawn()
        except BaseException:
            self._close_ring()
            raise

    # -------------------------------------------------------------------------------- process
    def _spawn(self) -> tuple[subprocess.Popen[bytes], socket.socket]:
        mine, theirs = socket.socketpair()
        try:
            for sock in (mine, theirs):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SOCKET_BUFFER)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _SOCKET_BUFFER)
            fds = [theirs.fileno()]
            config = self._config
            if self._ring is not None:
                fds.append(self._ring[0])
                config = msgspec.structs.replace(
                    config, ring_fd=self._ring[0], ring_bytes=len(self._ring[1])
                )
            proc = subprocess.Popen(  # noqa: S603 (this app's own executable, no shell)
                [*self._command, str(theirs.fileno()), msgspec.json.encode(config).decode()],
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=worker_environment(),
            )
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
        return proc, mine

    @property
    def pid(self) -> int | None:
        return None if self._dead or self._fallback is not None else self._proc.pid

    def running(self) -> bool:
        return any(proc.poll() is None for proc in (self._proc, *self._exited))

    def kill(self) -> None:
        """Stop the process now (after close() had its chance) and reap it."""
        for proc in (self._proc, *self._exited):
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1.0)
        self._exited.clear()
        if self._transport is not None:
            self._transport.abort()
        with contextlib.suppress(OSError):
            self._sock.close()
        self._close_ring()

    def _close_ring(self) -> None:
        if self._ring is not None:
            fd, ring = self._ring
            self._ring = None
            ring.close()
            os.close(fd)

    def close(self) -> None:
        """Ask the worker to stop once it has read everything sent so far."""
        self._closing = True
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self._transport is not None:
            self._transport.write(frame(Close()))
            self._transport.close()  # after the buffered frames are out
        else:  # never connected: the end of the stream stops it just as well, without blocking
            self._outbox.clear()
            with contextlib.suppress(OSError):
                self._sock.close()
        self._mark_started()  # nobody waits for a worker being closed

    async def close_fallback(self) -> None:
        if self._fallback is not None:
            await self._fallback.aclose()

    # -------------------------------------------------------------------------------- messages
    def want(self, loop: asyncio.AbstractEventLoop, part: dict[KeyTuple, None]) -> None:
        if self._fallback is not None:
            self._fallback.want(keys_of(part))
            return
        if self._dead:
            for url, size in part:
                self._owner._fail_soon(loop, ThumbnailKey(url, size), WORKER_STOPPED)
            return
        if list(part) == list(self.wanted):
            return  # what the worker is already loading, in the same order
        self.wanted = dict(part)
        self.connect(loop)
        self.send(Want(list(part)))

    def send(self, message: ToWorker) -> None:
        if self._fallback is not None and isinstance(message, ForgetFailures):
            keys = message.keys
            self._fallback.forget_failures(None if keys is None else keys_of(keys))
        if self._dead or self._closing or self._fallback is not None:
            return
        data = frame(message)
        if self._transport is not None:
            self._transport.write(data)
        else:
            self._outbox.append(data)

    def all_counters(self) -> list[PipelineStats]:
        """Counters of every worker this link ran; gauges only from the current one."""
        current = self._counters if self._fallback is None else self._fallback.stats()
        return [*self._earlier, current]

    def _mark_started(self) -> None:
        """Whoever waits for this worker to start stops waiting (it did, or never will)."""
        if self._started is not None and not self._started.done():
            self._started.set_result(None)

    @property
    def started(self) -> asyncio.Future[None]:
        """Done once the worker's first message has arrived (call connect() first)."""
        assert self._started is not None
        return self._started

    def connect(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._started is None:
            self._started = loop.create_future()
        if self._dead:
            self._mark_started()
        if self._transport is None and self._connecting is None and not self._dead:
            sock = self._sock
            task = loop.create_task(self._open(loop), name="thumbnail-worker-link")
            task.add_done_callback(lambda t: self._opened(t, sock))
            self._connecting = task

    def _opened(self, task: asyncio.Task[None], sock: socket.socket) -> None:
        if task.cancelled() or task.exception() is None:
            return
        log.error("Thumbnail worker socket could not be used: %s", task.exception())
        self._connecting = None
        self._on_lost(sock)  # as if the worker had died: start another

    async def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        sock = self._sock
        transport, _ = await loop.create_unix_connection(
            lambda: _FrameReader(self._on_frame, lambda: self._on_lost(sock)), sock=sock
        )
        self._transport = transport
        self._connecting = None
        for data in self._outbox:
            transport.write(data)
        self._outbox.clear()

    def _on_frame(self, body: bytearray) -> None:
        try:
            message = from_worker_decoder.decode(body)
        except msgspec.DecodeError:
            log.error("Thumbnail worker %s sent an unreadable message; stopping it", self.pid)
            if self._transport is not None:
                self._transport.abort()  # connection_lost restarts it
            return
        if isinstance(message, Progress):
            self._counters = message.counters
            self._hello, self._early_deaths = True, 0
            self._mark_started()
            return
        key = ThumbnailKey(*message.key)
        self.wanted.pop(message.key, None)
        if isinstance(message, Ready):
            try:
                thumb = DecodedThumbnail(
                    message.width, message.height, self._pixels(message), message.source_pixels
                )
            except ValueError:
                self._owner._report_failed(key, "internal error")
                return
            self._owner._report_ready(key, thumb)
        elif isinstance(message, Failed):
            self._owner._report_failed(key, message.reason)

    def _pixels(self, message: Ready) -> bytes:
        """The Ready's pixels: from the frame, or copied out of the ring (ValueError when they
        are not where it says)."""
        if message.ring_offset < 0:
            return message.data
        if self._ring is None:
            raise ValueError("pixels in a ring this link does not have")
        ring = self._ring[1]
        pixels = read_pixels(ring, message.ring_offset, message.width * message.height * 3)
        self._consumed = max(self._consumed, message.ring_end)
        if self._consumed - self._said_consumed >= len(ring) // _CONSUMED_EVERY:
            self._said_consumed = self._consumed
            self.send(Consumed(self._consumed))
        return pixels

    def _on_lost(self, sock: socket.socket) -> None:
        if self._closing or sock is not self._sock:
            return
        self._transport = None
        self._consumed = self._said_consumed = 0  # the next worker's positions start again
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        with contextlib.suppress(OSError):
            sock.close()
        old = self._proc
        if old.poll() is None:
            old.kill()  # its stream is gone (or garbled): it must not write to the shard any more
        self._exited.append(old)
        self._earlier.append(dataclasses.replace(self._counters, in_flight=0, queued=0))
        self._counters = PipelineStats()
        loop = asyncio.get_running_loop()
        if not self._hello:
            self._early_deaths += 1
            if self._early_deaths >= 2:
                log.warning(
                    "Thumbnail worker could not start (exit code %s); loading in this process",
                    old.poll(),
                )
                self._load_here()
                return
        now = time.monotonic()
        while self._restarts and now - self._restarts[0] > RESTART_WINDOW:
            self._restarts.popleft()
        if len(self._restarts) >= MAX_RESTARTS:
            log.error("Thumbnail worker keeps stopping (exit code %s); giving up", old.poll())
            self._give_up(loop)
            return
        self._restarts.append(now)
        log.warning("Thumbnail worker stopped (exit code %s); starting it again", old.poll())
        try:
            self._proc, self._sock = self._spawn()
            self._hello = False
        except OSError as exc:
            log.error("Thumbnail worker could not start again: %s", exc)
            self._give_up(loop)
            return
        self.connect(loop)
        if self.wanted:
            self.send(Want(list(self.wanted)))

    def _load_here(self) -> None:
        """This shard from now on in this process (the same pipeline the worker would run)."""
        self._fallback = shard_pipeline(
            self._config, on_ready=self._owner._report_ready, on_failed=self._owner._report_failed
        )
        self._mark_started()
        wanted, self.wanted = self.wanted, {}
        if wanted:
            self._fallback.want(keys_of(wanted))

    def _give_up(self, loop: asyncio.AbstractEventLoop) -> None:
        self._dead = True
        self._mark_started()
        wanted, self.wanted = self.wanted, {}
        for url, size in wanted:
            self._owner._fail_soon(loop, ThumbnailKey(url, size), WORKER_STOPPED)


class _FrameReader(asyncio.BufferedProtocol):
    """Reads length-prefixed frames: small ones as many per read as have come, through a staging
    buffer; the rest of a large one (pixels sent in the frame) straight into its own buffer.

    Each read is a turn of the GUI thread's event loop: a worker sends its frames in batches,
    and one read takes in a whole batch of small frames (the pixels are in the ring).
    """

    def __init__(self, on_frame: Callable[[bytearray], None], on_lost: Callable[[], None]) -> None:
        self._on_frame = on_frame
        self._on_lost = on_lost
        self._transport: asyncio.Transport | None = None
        self._staging = bytearray(_STAGING)
        self._start = 0  # the first byte of `_staging` not parsed yet
        self._end = 0  # the end of what was read into it
        self._body: bytearray | None = None  # a large frame being read into its own buffer
        self._body_filled = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._body is not None:
            return memoryview(self._body)[self._body_filled :]
        return memoryview(self._staging)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        if self._body is None:
            self._end += nbytes
            self._parse()
            return
        self._body_filled += nbytes
        if self._body_filled == len(self._body):
            body, self._body = self._body, None
            self._on_frame(body)

    def _parse(self) -> None:
        """Hand on every whole frame in the staging buffer; keep the start of the next one."""
        staging = self._staging
        while self._end - self._start >= HEADER.size:
            if self._transport is not None and self._transport.is_closing():
                return  # a frame was refused: nothing more is read from this worker
            begin = self._start + HEADER.size
            try:
                length = frame_length(staging[self._start : begin])
            except ValueError as exc:
                log.error("Thumbnail worker stream is corrupt: %s", exc)
                if self._transport is not None:
                    self._transport.abort()
                return
            have = self._end - begin
            if have >= length:
                self._start = begin + length
                self._on_frame(staging[begin : self._start])
            elif length > _LARGE_FRAME:
                body = bytearray(length)
                body[:have] = staging[begin : self._end]
                self._body, self._body_filled = body, have
                self._start = self._end = 0
                return
            else:
                break
        # The start of the next frame moves to the front: a small frame then always fits.
        rest = self._end - self._start
        if self._start and rest:
            staging[:rest] = staging[self._start : self._end]
        self._start, self._end = 0, rest

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_lost()
