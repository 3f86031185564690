"""The thumbnail pipeline: wanted keys, most urgent first -> disk cache or download -> decode.

Everything here runs on one asyncio loop, the thumbnail thread's own (thumbnail_thread.py), in the
worker process. The loop thread only schedules, downloads (httpx) and calls back; blocking work
runs in a pool of `decode_workers` threads: decoding, and reading or writing a cached file.

Scheduling: a key goes QUEUED -> FETCHING -> FETCHED -> DECODING, or QUEUED -> DECODING when its
file is in the disk cache. Jobs waiting for a download slot and jobs waiting for a decode slot sit
in two heaps ordered by their rank in the wanted list (rebuilt by each `want()`). Whenever a slot
frees up, the pump pops the most urgent job of that kind, so the next job started is always the
most urgent one not yet loading, at O(log n) per job however long the wanted list is. A decode
that has started is allowed to finish and report (a thread cannot be interrupted, and its result
lands in the disk cache); everything before that is dropped or cancelled as soon as its key is no
longer wanted.

The pipeline remembers no results: a key reported ready or failed is forgotten, and a later
`want()` listing it loads it again. Its owner (ui/thumbnail_loader.py) keeps what arrived, wants
only what it lacks, and decides when a failed thumbnail is tried again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import heapq
import itertools
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx

from qamera_desktop.core.http_download import DownloadError

from .decode import DEFAULT_MAX_PIXELS, decode_thumbnail, encode_jpeg
from .disk_cache import DiskCache
from .fetch import fetch_bytes, make_client
from .records import DecodedThumbnail, ThumbnailError, ThumbnailKey

log = logging.getLogger(__name__)

# A download is stored in the disk cache as it came when it has at most this many times the
# thumbnail's pixel area (libjpeg's draft then decodes it at full or half scale) and this size.
KEEP_DOWNLOAD_AREA: Final = 4
KEEP_DOWNLOAD_BYTES: Final = 512 * 1024

# Connections to the thumbnail CDN. Across the internet a thumbnail takes a round trip or more
# (tens of ms) whatever the CPU does, so the connection count sets the pace of a fill: at 60 ms a
# request, 6 connections filled 89 thumbnails/s and 16 filled 220/s (tests/perf/bench_grid.py,
# "cdn"), about what a browser gets from one HTTP/2 connection.
DEFAULT_CONNECTIONS: Final = 16

ReadyCallback = Callable[[ThumbnailKey, DecodedThumbnail], None]
FailedCallback = Callable[[ThumbnailKey, str], None]


class _Stage(enum.Enum):
    QUEUED = enum.auto()  # waiting for a download slot (or a decode slot when on disk)
    FETCHING = enum.auto()
    FETCHED = enum.auto()  # bytes in memory, waiting for a decode slot
    DECODING = enum.auto()  # in a worker thread (from the download or from the disk cache)


@dataclass(eq=False, slots=True)
class _Job:
    key: ThumbnailKey
    on_disk: bool
    stage: _Stage = _Stage.QUEUED
    data: bytes | None = None  # the download, between FETCHED and DECODING
    task: asyncio.Task[None] | None = None


class ThumbnailPipeline:
    """Loads thumbnails for the wanted keys, most urgent first, and reports each on the loop thread.

    `on_ready(key, thumbnail)` and `on_failed(key, reason)` are called on the event loop's thread;
    an exception they raise is logged and goes no further. Call `want()` and `aclose()` there too.
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        on_ready: ReadyCallback,
        on_failed: FailedCallback,
        max_connections: int = DEFAULT_CONNECTIONS,
        decode_workers: int = 2,
        disk_cache_bytes: int = 512 * 2**20,
        max_download_bytes: int = 20 * 2**20,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_connections < 1 or decode_workers < 1:
            raise ValueError("max_connections and decode_workers must be at least 1")
        self._on_ready = on_ready
        self._on_failed = on_failed
        self._max_fetches = max_connections
        # Twice the workers are submitted: a worker that finishes finds the next decode waiting
        # in the executor queue, instead of idling until the loop thread hears of it (the loop
        # thread is busy with downloads; that round trip halved the fill rate).
        self._max_decodes = 2 * decode_workers
        self._max_backlog = max_connections  # downloads waiting for a decode slot
        self._max_download_bytes = max_download_bytes
        self._max_pixels = max_pixels
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None  # made by the first download (_http)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=decode_workers, thread_name_prefix="thumbnail-decode"
        )
        self._disk = DiskCache(cache_dir, disk_cache_bytes)
        self._pool.submit(self._disk.trim)  # the pool's first job: count the cache, trim to cap

        self._rank: dict[ThumbnailKey, int] = {}  # wanted keys -> position, 0 = most urgent
        self._jobs: dict[ThumbnailKey, _Job] = {}
        self._fetch_heap: list[tuple[int, int, _Job]] = []  # (rank, tie-break, job)
        self._decode_heap: list[tuple[int, int, _Job]] = []
        self._tie = itertools.count()
        self._fetched: set[_Job] = set()  # downloads waiting for a decode slot
        self._tasks: set[asyncio.Task[None]] = set()
        self._fetching = 0
        self._decoding = 0
        self._closed = False
        self._write_warned = False  # only touched by the pool's threads

    def want(self, keys: Sequence[ThumbnailKey]) -> None:
        """Replace the wanted set, most urgent first (visible rows, then about a screen ahead).

        Keys no longer wanted leave the queue and their downloads are cancelled; keys already
        loading stay loading; duplicates load once.
        """
        if self._closed:
            return
        rank: dict[ThumbnailKey, int] = {}
        for key in keys:
            rank.setdefault(key, len(rank))
        self._rank = rank
        for key, job in list(self._jobs.items()):
            if key not in rank and job.stage is not _Stage.DECODING:
                self._drop(job)
                if job.task is not None:  # a download in flight: its slot frees as it unwinds
                    job.task.cancel()
        for key in rank:
            if key not in self._jobs:  # one stat: whether to download it or read it from disk
                self._jobs[key] = _Job(key, on_disk=self._disk.contains(key))
        self._fetch_heap, self._decode_heap = [], []
        for job in self._jobs.values():
            self._enqueue(job)
        self._pump()

    async def aclose(self) -> None:
        """Cancel everything, wait for running decode threads (and the cache files they write),
        close the HTTP client."""
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
        if self._client is not None:
            await self._client.aclose()

    def _http(self) -> httpx.AsyncClient:
        """The CDN client, made when the first download needs it: its TLS context takes ~40 ms
        to load the certificates, which a start served from the disk cache does not wait for."""
        if self._client is None:
            self._client = make_client(
                max_connections=self._max_fetches, timeout=self._timeout, transport=self._transport
            )
        return self._client

    # ================================================================================ scheduling
    def _pump(self) -> None:
        """Start the most urgent jobs that fit the free download and decode slots."""
        if self._closed:
            return
        while self._decoding < self._max_decodes and (job := self._pop(self._decode_heap, True)):
            self._fetched.discard(job)
            self._decoding += 1
            self._start(job, _Stage.DECODING, self._decode(job))
        # Downloads stop while `max_backlog` of them wait for a decode slot: bytes in memory stay
        # bounded, and the CPU goes to decoding what has arrived.
        while (
            self._fetching < self._max_fetches
            and len(self._fetched) < self._max_backlog
            and (job := self._pop(self._fetch_heap, False))
        ):
            self._fetching += 1
            self._start(job, _Stage.FETCHING, self._fetch(job))

    def _enqueue(self, job: _Job) -> None:
        """Put a waiting, wanted job in the heap of the slot it needs next."""
        rank = self._rank.get(job.key)
        if rank is None or job.stage in (_Stage.FETCHING, _Stage.DECODING):
            return
        to_decode = job.stage is _Stage.FETCHED or job.on_disk
        heapq.heappush(
            self._decode_heap if to_decode else self._fetch_heap, (rank, next(self._tie), job)
        )

    def _pop(self, heap: list[tuple[int, int, _Job]], decode: bool) -> _Job | None:
        """The most urgent job in `heap` that still waits for that kind of slot."""
        while heap:
            job = heapq.heappop(heap)[2]
            if self._jobs.get(job.key) is not job:
                continue  # dropped since
            if (job.stage is _Stage.FETCHED and decode) or (
                job.stage is _Stage.QUEUED and job.on_disk is decode
            ):
                return job
        return None

    def _start(self, job: _Job, stage: _Stage, coro: Coroutine[Any, Any, None]) -> None:
        job.stage = stage
        job.task = asyncio.get_running_loop().create_task(coro, name="thumbnail-load")
        self._tasks.add(job.task)
        job.task.add_done_callback(self._tasks.discard)

    def _drop(self, job: _Job) -> None:
        if self._jobs.get(job.key) is job:
            del self._jobs[job.key]
        self._fetched.discard(job)

    # ================================================================================ the jobs
    async def _fetch(self, job: _Job) -> None:
        try:
            data = await fetch_bytes(
                self._http(),
                job.key.url,
                max_bytes=self._max_download_bytes,
                time_limit=self._timeout,
            )
        except Exception as exc:
            self._fail(job, exc)
        else:
            if self._jobs.get(job.key) is job:
                job.data, job.stage = data, _Stage.FETCHED
                self._fetched.add(job)
                self._enqueue(job)
        finally:
            job.task = None
            self._fetching -= 1
            self._pump()

    async def _decode(self, job: _Job) -> None:
        data, job.data = job.data, None
        try:
            loop = asyncio.get_running_loop()
            thumb = await loop.run_in_executor(self._pool, self._load, job.key, data)
        except Exception as exc:
            self._fail(job, exc)
        else:
            if thumb is None and job.key in self._rank:  # its cached file was gone or corrupt
                job.stage, job.on_disk = _Stage.QUEUED, False
                self._enqueue(job)
            else:
                self._drop(job)
                if thumb is not None:
                    self._report(self._on_ready, job.key, thumb)
        finally:
            job.task = None
            self._decoding -= 1
            self._pump()

    def _fail(self, job: _Job, exc: Exception) -> None:
        if isinstance(exc, DownloadError | ThumbnailError):
            reason = str(exc)
        else:  # a bug, not a network or image condition: keep the loop alive, say so
            log.error("Thumbnail %s crashed", job.stage.name.lower(), exc_info=exc)
            reason = "internal error"
        self._drop(job)
        log.debug("Thumbnail %s failed: %s", _redact(job.key.url), reason)
        self._report(self._on_failed, job.key, reason)

    def _report(
        self, callback: Callable[[ThumbnailKey, Any], None], key: ThumbnailKey, result: object
    ) -> None:
        try:
            callback(key, result)
        except Exception:
            log.exception("Thumbnail callback raised")

    # ================================================================================ in threads
    def _load(self, key: ThumbnailKey, download: bytes | None) -> DecodedThumbnail | None:
        """The thumbnail from the disk cache (None if its file is gone or corrupt), or decoded
        from `download` and then stored, in the same thread.

        A download that is already about thumbnail-sized is stored as it came; a larger one as
        the decoded thumbnail, encoded again. Re-encoding every thumbnail, in a cache thread of
        its own, cost a quarter of the fill rate: the JPEG encode, and a third thread waking for
        the GIL once per thumbnail.
        """
        if download is None:
            data = self._disk.read(key)
            if data is None:
                return None
            try:
                return decode_thumbnail(data, key.size, max_pixels=self._max_pixels)
            except ThumbnailError as exc:
                log.info("Corrupt thumbnail cache file (%s); fetching again", exc)
                self._disk.discard(key)
                return None
        thumb = decode_thumbnail(download, key.size, max_pixels=self._max_pixels)
        keep = (
            thumb.source_pixels <= KEEP_DOWNLOAD_AREA * key.size * key.size
            and len(download) <= KEEP_DOWNLOAD_BYTES
        )
        try:
            self._disk.write(key, download if keep else encode_jpeg(thumb))
        except Exception as exc:  # a full disk costs a re-download later, nothing more
            level = logging.DEBUG if self._write_warned else logging.WARNING
            self._write_warned = True  # once, not once per thumbnail
            log.log(level, "Could not write the thumbnail disk cache: %s", exc)
        return thumb


def _redact(url: str) -> str:
    """A URL for a log line: signed CDN URLs carry tokens in the query, which stays out."""
    return url.split("?", 1)[0].split("#", 1)[0]
