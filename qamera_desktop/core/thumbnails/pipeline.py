"""The thumbnail pipeline: wanted keys, most urgent first -> disk cache or download -> decode.

Everything here runs on one asyncio loop: the thumbnail thread's own (thumbnail_thread.py), never
the GUI thread's. Blocking work runs in a pool of `decode_workers` threads: decoding, reading a
cached file and writing it (twice that many are submitted, so a worker never waits for the loop
thread to hand it the next one), which also scan the cache directory once at start. The loop
thread only schedules, downloads (httpx) and calls back.

Scheduling: a key goes QUEUED -> FETCHING -> FETCHED -> DECODING, or QUEUED -> DECODING when its
file is in the disk cache. Jobs waiting for a download slot and jobs waiting for a decode slot sit
in two heaps ordered by their rank in the wanted list (rebuilt by each `want()`). Whenever a slot
frees up (at most `max_connections` downloads, and 2 x `decode_workers` decodes submitted), the
pump pops the most urgent job of that kind, so the next job started is always the most urgent
one not yet loading, at O(log n) per job however long the wanted list is. A decode that has
started is allowed to finish and report (a thread cannot be interrupted, and its result lands in
the disk cache); everything before that is dropped or cancelled as soon as its key is no longer
wanted.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import heapq
import itertools
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import httpx

from .decode import DEFAULT_MAX_PIXELS, decode_thumbnail, encode_jpeg
from .disk_cache import DiskCache
from .fetch import fetch_bytes, make_client, url_problem
from .records import DecodedThumbnail, PipelineStats, ThumbnailError, ThumbnailKey

log = logging.getLogger(__name__)

T = TypeVar("T")

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

_INTERNAL_ERROR: Final = "internal error"


class _Stage(enum.Enum):
    QUEUED = enum.auto()  # waiting for a download slot (or a decode slot when on disk)
    FETCHING = enum.auto()
    FETCHED = enum.auto()  # bytes in memory, waiting for a decode slot
    DECODING = enum.auto()  # in a worker thread (from the download or from the disk cache)


@dataclass(eq=False, slots=True)
class _Job:
    key: ThumbnailKey
    stage: _Stage = _Stage.QUEUED
    on_disk: bool | None = None  # None until the disk index is known
    data: bytes | None = None  # the download, between FETCHED and DECODING
    task: asyncio.Task[None] | None = None


@dataclass(slots=True)
class _Counters:
    fetched: int = 0
    decoded: int = 0
    disk_hits: int = 0
    failed: int = 0
    cancelled: int = 0
    bytes_downloaded: int = 0


class ThumbnailPipeline:
    """Loads thumbnails for the wanted keys, most urgent first, and reports each on the loop thread.

    `on_ready(key, thumbnail)` and `on_failed(key, reason)` are called on the event loop's thread;
    an exception they raise is logged and goes no further. A key that failed is not tried again
    until `forget_failures()` and a later `want()`. A key that was reported ready is forgotten: a
    later `want()` listing it loads it again (from the disk cache), so want only what you lack.
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
        self._client = make_client(
            max_connections=max_connections, timeout=timeout, transport=transport
        )
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=decode_workers, thread_name_prefix="thumbnail-decode"
        )
        self._disk = DiskCache(cache_dir, disk_cache_bytes)

        self._loop: asyncio.AbstractEventLoop | None = None
        self._rank: dict[ThumbnailKey, int] = {}  # wanted keys -> position, 0 = most urgent
        self._jobs: dict[ThumbnailKey, _Job] = {}
        self._fetch_heap: list[tuple[int, int, _Job]] = []  # (rank, tie-break, job)
        self._decode_heap: list[tuple[int, int, _Job]] = []
        self._tie = itertools.count()
        self._fetched: set[_Job] = set()  # downloads waiting for a decode slot
        self._failed: set[ThumbnailKey] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._decode_futures: set[concurrent.futures.Future[Any]] = set()
        self._soon: dict[ThumbnailKey, asyncio.Handle] = {}
        self._index_state = "unknown"  # -> "loading" -> "ready" | "unusable"
        self._fetching = 0
        self._decoding = 0
        self._counters = _Counters()
        self._closed = False
        self._write_warned = False  # only touched by the pool's threads

    # ================================================================================ public API
    def want(self, keys: Sequence[ThumbnailKey]) -> None:
        """Replace the wanted set, most urgent first (visible rows, then about a screen ahead).

        Keys no longer wanted leave the queue and their downloads are cancelled; keys already
        loading stay loading; duplicates load once; keys that failed are skipped. Call it on the
        event loop thread.
        """
        loop = self._bind_loop()
        if self._closed:
            return
        rank: dict[ThumbnailKey, int] = {}
        for key in keys:
            if key not in rank and key not in self._failed:
                rank[key] = len(rank)
        self._rank = rank

        for key, job in list(self._jobs.items()):
            if key in rank or job.stage is _Stage.DECODING:
                continue
            del self._jobs[key]
            self._fetched.discard(job)
            self._counters.cancelled += 1
            if job.task is not None:  # a download in flight: its slot frees when it unwinds
                job.task.cancel()

        for key in rank:
            if key in self._jobs:
                continue
            problem = url_problem(key.url)
            if problem is not None:
                self._fail_soon(loop, key, problem)
            else:
                self._jobs[key] = _Job(key)
        self._rebuild_heaps()
        self._pump()

    def forget_failures(self, keys: Iterable[ThumbnailKey] | None = None) -> None:
        """Let failed keys (all, or those given) load again the next time they are wanted."""
        if keys is None:
            self._failed.clear()
        else:
            self._failed.difference_update(keys)

    def stats(self) -> PipelineStats:
        c = self._counters
        queued = sum(
            1 for job in self._jobs.values() if job.stage in (_Stage.QUEUED, _Stage.FETCHED)
        )
        return PipelineStats(
            fetched=c.fetched,
            decoded=c.decoded,
            disk_hits=c.disk_hits,
            failed=c.failed,
            cancelled=c.cancelled,
            bytes_downloaded=c.bytes_downloaded,
            in_flight=self._fetching + self._decoding,
            queued=queued,
        )

    async def aclose(self) -> None:
        """Cancel everything, wait for running worker threads, close the HTTP client and pool."""
        if self._closed:
            return
        self._closed = True
        for handle in self._soon.values():
            handle.cancel()
        self._soon.clear()
        self._counters.cancelled += len(self._jobs)
        self._jobs.clear()
        self._rank = {}
        self._fetch_heap, self._decode_heap = [], []
        self._fetched.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Decodes not started are dropped; a running one is waited for, and with it the cache
        # file it writes, so no thread touches the cache directory after aclose().
        for future in list(self._decode_futures):
            future.cancel()
        running = [asyncio.wrap_future(f) for f in self._decode_futures if not f.done()]
        if running:
            await asyncio.wait(running)
        self._pool.shutdown(wait=False, cancel_futures=True)
        await self._client.aclose()

    # ================================================================================ scheduling
    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()  # RuntimeError off the loop thread: that is a bug
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("ThumbnailPipeline is used from a second event loop")
        return loop

    def _pump(self) -> None:
        """Start the most urgent jobs that fit the free download and decode slots."""
        if self._closed:
            return
        if self._index_state in ("unknown", "loading"):
            if self._index_state == "unknown" and self._jobs:
                self._index_state = "loading"
                self._spawn(self._load_index(), "thumbnail-index")
            return
        while self._decoding < self._max_decodes:
            job = self._pop(self._decode_heap, decode=True)
            if job is None:
                break
            self._fetched.discard(job)
            self._start(job, _Stage.DECODING, self._decode(job))
        # Downloads stop while `max_backlog` of them wait for a decode slot: bytes in memory stay
        # bounded, and a key that becomes urgent later is not stuck behind a long backlog.
        while self._fetching < self._max_fetches and len(self._fetched) < self._max_backlog:
            job = self._pop(self._fetch_heap, decode=False)
            if job is None:
                break
            self._start(job, _Stage.FETCHING, self._fetch(job))

    def _rebuild_heaps(self) -> None:
        """Order the waiting jobs by the current ranks (after want() or once the index is in)."""
        self._fetch_heap, self._decode_heap = [], []
        if self._index_state in ("unknown", "loading"):
            return  # whether a key is on disk is not known yet; the index load rebuilds
        for job in self._jobs.values():
            self._enqueue(job)

    def _enqueue(self, job: _Job) -> None:
        """Put a waiting, wanted job in the heap of the slot it needs next."""
        rank = self._rank.get(job.key)
        if rank is None:
            return
        if job.stage is _Stage.FETCHED or (job.stage is _Stage.QUEUED and self._on_disk(job)):
            heapq.heappush(self._decode_heap, (rank, next(self._tie), job))
        elif job.stage is _Stage.QUEUED:
            heapq.heappush(self._fetch_heap, (rank, next(self._tie), job))

    def _pop(self, heap: list[tuple[int, int, _Job]], *, decode: bool) -> _Job | None:
        """The most urgent job in `heap` that still waits for that kind of slot."""
        while heap:
            _, _, job = heapq.heappop(heap)
            if not self._is_current(job) or job.key not in self._rank:
                continue
            if job.stage is _Stage.FETCHED and decode:
                return job
            if job.stage is _Stage.QUEUED and job.on_disk is decode:
                return job
        return None

    def _on_disk(self, job: _Job) -> bool:
        if job.on_disk is None:
            # The index is in memory by now: a dict lookup, no file system access.
            job.on_disk = self._index_state == "ready" and self._disk.contains(job.key)
        return job.on_disk

    def _start(self, job: _Job, stage: _Stage, coro: Coroutine[Any, Any, None]) -> None:
        job.stage = stage
        if stage is _Stage.FETCHING:
            self._fetching += 1
        else:
            self._decoding += 1
        job.task = self._spawn(coro, "thumbnail-load")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        assert self._loop is not None
        task = self._loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _is_current(self, job: _Job) -> bool:
        return self._jobs.get(job.key) is job

    def _drop(self, job: _Job) -> None:
        if self._is_current(job):
            del self._jobs[job.key]

    # ================================================================================ the jobs
    async def _load_index(self) -> None:
        try:
            # in a decode worker: nothing decodes before the index is in
            await self._in_thread(self._pool, self._decode_futures, self._disk.load_index)
            self._index_state = "ready"
        except Exception:
            log.exception("Thumbnail disk cache index could not be read; going without it")
            self._index_state = "unusable"
        self._rebuild_heaps()
        self._pump()

    async def _fetch(self, job: _Job) -> None:
        try:
            data = await fetch_bytes(
                self._client,
                job.key.url,
                max_bytes=self._max_download_bytes,
                time_limit=self._timeout,
            )
        except ThumbnailError as exc:
            self._finish_failed(job, exc.reason)
        except Exception:  # a bug, not a network condition: keep the loop alive, say so
            log.exception("Thumbnail download crashed")
            self._finish_failed(job, _INTERNAL_ERROR)
        else:
            self._counters.fetched += 1
            self._counters.bytes_downloaded += len(data)
            if self._is_current(job):
                job.data = data
                job.stage = _Stage.FETCHED
                self._fetched.add(job)
                self._enqueue(job)
        finally:
            job.task = None
            self._fetching -= 1
            self._pump()

    async def _decode(self, job: _Job) -> None:
        key = job.key
        data, job.data = job.data, None
        try:
            if data is None:
                thumb = await self._in_thread(
                    self._pool, self._decode_futures, self._read_cached, key
                )
                if thumb is None:  # gone or corrupt: download it after all
                    self._requeue_for_download(job)
                    return
                self._counters.disk_hits += 1
            else:
                thumb = await self._in_thread(
                    self._pool, self._decode_futures, self._decode_and_store, key, data
                )
        except ThumbnailError as exc:
            self._finish_failed(job, exc.reason)
        except Exception:
            log.exception("Thumbnail decode crashed")
            self._finish_failed(job, _INTERNAL_ERROR)
        else:
            self._counters.decoded += 1
            self._drop(job)
            self._report_ready(key, thumb)
        finally:
            job.task = None
            self._decoding -= 1
            self._pump()

    def _requeue_for_download(self, job: _Job) -> None:
        if not self._is_current(job):
            return
        if job.key in self._rank:
            job.stage, job.on_disk = _Stage.QUEUED, False
            self._enqueue(job)
        else:
            del self._jobs[job.key]
            self._counters.cancelled += 1

    def _finish_failed(self, job: _Job, reason: str) -> None:
        self._drop(job)
        self._failed.add(job.key)
        self._report_failed(job.key, reason)

    async def _in_thread(
        self,
        executor: concurrent.futures.Executor,
        running: set[concurrent.futures.Future[Any]],
        fn: Callable[..., T],
        *args: Any,
    ) -> T:
        future: concurrent.futures.Future[T] = executor.submit(fn, *args)
        running.add(future)
        future.add_done_callback(running.discard)
        return await asyncio.wrap_future(future)

    # ================================================================================ in threads
    def _read_cached(self, key: ThumbnailKey) -> DecodedThumbnail | None:
        data = self._disk.read(key)
        if data is None:
            return None
        try:
            return decode_thumbnail(data, key.size, max_pixels=self._max_pixels)
        except ThumbnailError as exc:
            log.info("Corrupt thumbnail cache file (%s); fetching again", exc)
            self._disk.discard(key)
            return None

    def _decode_and_store(self, key: ThumbnailKey, data: bytes) -> DecodedThumbnail:
        """Decode a download, then store it in the disk cache, in the same worker thread.

        A download that is already about thumbnail-sized is stored as it came; a larger one as
        the decoded thumbnail, encoded again. Re-encoding every thumbnail, in a cache thread of
        its own, cost a quarter of the fill rate: the JPEG encode, and a third thread waking for
        the GIL once per thumbnail.
        """
        thumb = decode_thumbnail(data, key.size, max_pixels=self._max_pixels)
        if not self._closed:
            keep = (
                thumb.source_pixels <= KEEP_DOWNLOAD_AREA * key.size * key.size
                and len(data) <= KEEP_DOWNLOAD_BYTES
            )
            self._store(key, thumb, data if keep else None)
        return thumb

    def _store(self, key: ThumbnailKey, thumb: DecodedThumbnail, download: bytes | None) -> None:
        try:
            self._disk.write(key, download if download is not None else encode_jpeg(thumb))
        except Exception as exc:  # a full disk costs a re-download later, nothing more
            self._warn_write(exc)

    def _warn_write(self, exc: Exception) -> None:
        level = logging.DEBUG if self._write_warned else logging.WARNING
        self._write_warned = True  # once, not once per thumbnail
        log.log(level, "Could not write the thumbnail disk cache: %s", exc)

    # ================================================================================ reporting
    def _report_ready(self, key: ThumbnailKey, thumb: DecodedThumbnail) -> None:
        _call_back("on_ready", self._on_ready, key, thumb)

    def _report_failed(self, key: ThumbnailKey, reason: str) -> None:
        self._counters.failed += 1
        log.debug("Thumbnail %s failed: %s", _redact(key.url), reason)
        _call_back("on_failed", self._on_failed, key, reason)

    def _fail_soon(self, loop: asyncio.AbstractEventLoop, key: ThumbnailKey, reason: str) -> None:
        """Fail at once, but report on the next loop turn, not from inside want()."""
        self._failed.add(key)
        self._soon[key] = loop.call_soon(self._report_soon, key, reason)

    def _report_soon(self, key: ThumbnailKey, reason: str) -> None:
        self._soon.pop(key, None)
        self._report_failed(key, reason)


def _call_back(name: str, callback: Callable[..., None], *args: object) -> None:
    """Call the pipeline's `name` callback: what it raises is logged and goes no further."""
    try:
        callback(*args)
    except Exception:
        log.exception("Thumbnail %s callback raised", name)


def _redact(url: str) -> str:
    """A URL for a log line: signed CDN URLs carry tokens in the query, which stays out."""
    return url.split("?", 1)[0].split("#", 1)[0]
