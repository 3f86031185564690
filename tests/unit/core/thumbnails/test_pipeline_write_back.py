"""ThumbnailPipeline and the disk cache's write-back buffer: cache files are written while nothing
loads, the flush gives way as soon as something is wanted, aclose() writes what is left.

Over the real loopback image server. Downloads of 100x100 JPEGs for 64-pixel thumbnails are
stored as they came, so a cache file must hold exactly the bytes the server sent.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qamera_desktop.core.thumbnails import ThumbnailKey, ThumbnailPipeline
from qamera_desktop.core.thumbnails import pipeline as pipeline_module
from qamera_desktop.core.thumbnails.disk_cache import cache_name

from .conftest import ImageServer, PipelineFactory, Sink
from .images import jpeg

WAIT_MS = 10_000
SIZE = 64
WARNING_TEXT = "Could not write the thumbnail disk cache"


def serve(server: ImageServer, count: int, prefix: str = "img") -> list[ThumbnailKey]:
    return [
        ThumbnailKey(server.add(f"/{prefix}{i}.jpg", jpeg(100, 100, color=(i * 30, 90, 60))), SIZE)
        for i in range(count)
    ]


def gated_key(server: ImageServer, path: str) -> tuple[ThumbnailKey, threading.Event]:
    """A thumbnail whose download waits for the returned event (wanted, it keeps a pipeline
    busy)."""
    url, gate = server.gate(path, jpeg(100, 100))
    return ThumbnailKey(url, SIZE), gate


def path_of(cache_dir: Path, key: ThumbnailKey) -> Path:
    name = cache_name(key)
    return cache_dir / name[:2] / name


def body_of(server: ImageServer, key: ThumbnailKey) -> bytes:
    return server.routes[key.url.removeprefix(server.base_url)].body


def cached_names(cache_dir: Path) -> set[str]:
    return {p.name for p in cache_dir.rglob("*.jpg")}


def temp_files(cache_dir: Path) -> list[Path]:
    return [p for p in cache_dir.rglob("*") if p.name.startswith(".tmp-")]


def all_written(cache_dir: Path, keys: list[ThumbnailKey]) -> Callable[[], bool]:
    return lambda: all(path_of(cache_dir, k).exists() for k in keys)


class WriteRecorder:
    """Wraps the pipeline's DiskCache._write_file: records each file written (name, thread name,
    how many thumbnails were reported ready by then); can hold the first write at a gate, or
    fail while `broken` is set."""

    def __init__(
        self, pipeline: ThumbnailPipeline, sink: Sink, *, hold_first: bool = False
    ) -> None:
        self._real = pipeline._disk._write_file
        self._sink = sink
        self._lock = threading.Lock()
        self.names: Counter[str] = Counter()
        self.threads: set[str] = set()
        self.ready_seen: list[int] = []
        self.hold_first = hold_first
        self.reached = threading.Event()
        self.proceed = threading.Event()
        self.returned = threading.Event()
        self.broken = False
        self.first = ""  # the name of the first file written

    def __call__(self, name: str, data: bytes) -> None:
        with self._lock:
            first = not self.reached.is_set()
            if first:
                self.first = name
            self.reached.set()
            self.threads.add(threading.current_thread().name)
            self.ready_seen.append(len(self._sink.ready))
        if self.broken:
            raise OSError(28, "No space left on device")
        if first and self.hold_first:
            assert self.proceed.wait(WAIT_MS / 1000)
        self._real(name, data)
        with self._lock:
            self.names[name] += 1
        if first:
            self.returned.set()


def recorded(
    pipeline: ThumbnailPipeline, sink: Sink, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> WriteRecorder:
    recorder = WriteRecorder(pipeline, sink, **options)
    monkeypatch.setattr(pipeline._disk, "_write_file", recorder)
    return recorder


def test_files_are_written_once_idle_without_closing(
    server: ImageServer,
    make_pipeline: PipelineFactory,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache_dir = tmp_path / "cache"
    keys = serve(server, 6)
    pipeline, sink = make_pipeline(decode_workers=2)
    recorder = recorded(pipeline, sink, monkeypatch)

    pipeline.want(keys)
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
    assert sink.failed == {}
    qtbot.waitUntil(all_written(cache_dir, keys), timeout=WAIT_MS)

    for k in keys:
        assert path_of(cache_dir, k).read_bytes() == body_of(server, k)
    assert recorder.names == Counter({cache_name(k): 1 for k in keys})
    assert recorder.ready_seen == [len(keys)] * len(keys)  # only once everything was reported
    assert all(name.startswith("thumbnail-decode") for name in recorder.threads)  # in the pool
    qtbot.waitUntil(lambda: pipeline._disk.pending_bytes == 0, timeout=WAIT_MS)
    assert temp_files(cache_dir) == []


def test_no_flush_while_a_wanted_key_is_loading(
    server: ImageServer,
    make_pipeline: PipelineFactory,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache_dir = tmp_path / "cache"
    fast = serve(server, 4)
    slow, gate = gated_key(server, "/slow.jpg")
    pipeline, sink = make_pipeline()
    recorder = recorded(pipeline, sink, monkeypatch)

    pipeline.want([*fast, slow])
    qtbot.waitUntil(sink.settled(*fast), timeout=WAIT_MS)
    assert not pipeline._flushing  # the pump that would have started it has run
    qtbot.wait(50)  # a chance for a wrong flush to show
    assert cached_names(cache_dir) == set()
    assert not recorder.reached.is_set()
    assert all(pipeline._disk.contains(k) for k in fast)  # in the index, waiting in memory
    assert pipeline._disk.pending_bytes == sum(len(body_of(server, k)) for k in fast)

    gate.set()
    qtbot.waitUntil(sink.settled(slow), timeout=WAIT_MS)
    qtbot.waitUntil(all_written(cache_dir, [*fast, slow]), timeout=WAIT_MS)
    assert recorder.names == Counter({cache_name(k): 1 for k in [*fast, slow]})
    assert path_of(cache_dir, slow).read_bytes() == body_of(server, slow)


def test_a_key_wanted_again_while_waiting_is_read_from_memory(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    keys = serve(server, 3)
    held, _gate = gated_key(server, "/held.jpg")  # busy: no idle flush
    pipeline, sink = make_pipeline()
    pipeline.want([*keys, held])
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
    first = {k: sink.ready.pop(k) for k in keys}

    pipeline.want([*keys, held])  # reported ones are forgotten: they load again
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)

    stats = pipeline.stats()
    assert (stats.disk_hits, stats.fetched) == (3, 3)
    assert all(server.hits[k.url.removeprefix(server.base_url)] == 1 for k in keys)
    assert cached_names(cache_dir) == set()  # served from the buffer, still not on disk
    for k in keys:
        assert sink.ready[k].data == first[k].data


def test_the_flush_stops_after_the_current_file_when_something_is_wanted(
    server: ImageServer,
    make_pipeline: PipelineFactory,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache_dir = tmp_path / "cache"
    keys = serve(server, 5)
    later, gate = gated_key(server, "/later.jpg")
    pipeline, sink = make_pipeline(decode_workers=2)
    recorder = recorded(pipeline, sink, monkeypatch, hold_first=True)

    pipeline.want(keys)
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
    qtbot.waitUntil(recorder.reached.is_set, timeout=WAIT_MS)  # the idle flush holds a file
    pipeline.want([later])  # the user scrolled: busy again
    recorder.proceed.set()
    qtbot.waitUntil(lambda: recorder.returned.is_set() and not pipeline._flushing, timeout=WAIT_MS)

    assert recorder.names == Counter({recorder.first: 1})  # the file it was writing, no other
    assert cached_names(cache_dir) == {recorder.first}
    assert recorder.first in {cache_name(k) for k in keys}
    assert all(pipeline._disk.contains(k) for k in keys)  # the rest still wait

    gate.set()
    qtbot.waitUntil(sink.settled(later), timeout=WAIT_MS)
    qtbot.waitUntil(all_written(cache_dir, [*keys, later]), timeout=WAIT_MS)
    assert recorder.names == Counter({cache_name(k): 1 for k in [*keys, later]})


def test_aclose_writes_what_is_left_and_a_new_pipeline_finds_it(
    server: ImageServer,
    make_pipeline: PipelineFactory,
    qtbot: Any,
    tmp_path: Path,
    arun: Any,
) -> None:
    cache_dir = tmp_path / "cache"
    keys = serve(server, 5)
    held, _gate = gated_key(server, "/held.jpg")  # keeps the pipeline busy
    first, sink1 = make_pipeline()
    first.want([*keys, held])
    qtbot.waitUntil(sink1.settled(*keys), timeout=WAIT_MS)
    assert cached_names(cache_dir) == set()

    arun(first.aclose())

    assert cached_names(cache_dir) == {cache_name(k) for k in keys}
    for k in keys:
        assert path_of(cache_dir, k).read_bytes() == body_of(server, k)
    assert temp_files(cache_dir) == []
    assert first._disk.pending_bytes == 0
    requests_before = len(server.log)

    second, sink2 = make_pipeline(cache_dir)
    second.want(keys)
    qtbot.waitUntil(sink2.settled(*keys), timeout=WAIT_MS)
    assert set(sink2.ready) == set(keys)
    stats = second.stats()
    assert (stats.disk_hits, stats.fetched) == (5, 0)
    assert len(server.log) == requests_before  # no HTTP at all


def test_aclose_during_an_idle_flush_writes_every_file_once(
    server: ImageServer,
    make_pipeline: PipelineFactory,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qt_loop: asyncio.AbstractEventLoop,
) -> None:
    cache_dir = tmp_path / "cache"
    keys = serve(server, 5)
    pipeline, sink = make_pipeline()
    recorder = recorded(pipeline, sink, monkeypatch, hold_first=True)
    pipeline.want(keys)
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
    qtbot.waitUntil(recorder.reached.is_set, timeout=WAIT_MS)

    closing = qt_loop.create_task(pipeline.aclose())
    qtbot.wait(20)
    assert not closing.done()  # it waits for the file being written
    recorder.proceed.set()
    qtbot.waitUntil(closing.done, timeout=WAIT_MS)
    closing.result()

    assert recorder.names == Counter({cache_name(k): 1 for k in keys})
    assert cached_names(cache_dir) == {cache_name(k) for k in keys}
    assert temp_files(cache_dir) == []


def test_the_close_flush_stops_at_its_deadline(
    server: ImageServer,
    make_pipeline: PipelineFactory,
    qtbot: Any,
    tmp_path: Path,
    arun: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline_module, "CLOSE_FLUSH_SECONDS", -1.0)  # already past
    keys = serve(server, 3)
    held, _gate = gated_key(server, "/held.jpg")
    pipeline, sink = make_pipeline()
    pipeline.want([*keys, held])
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)

    arun(pipeline.aclose())
    assert cached_names(tmp_path / "cache") == set()  # lost, as a crash would lose them
    assert pipeline._disk.pending_bytes > 0


def test_no_buffer_writes_each_file_before_it_is_reported(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    keys = serve(server, 3)
    held, _gate = gated_key(server, "/held.jpg")  # busy: no idle flush
    sink = Sink()
    written_when_ready: dict[ThumbnailKey, bool] = {}

    def on_ready(key: ThumbnailKey, thumb: Any) -> None:
        written_when_ready[key] = path_of(cache_dir, key).exists()
        sink.on_ready(key, thumb)

    pipeline, _ = make_pipeline(write_back_bytes=0, on_ready=on_ready, on_failed=sink.on_failed)
    pipeline.want([*keys, held])
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)

    assert written_when_ready == dict.fromkeys(keys, True)
    assert pipeline._disk.pending_bytes == 0
    for k in keys:
        assert path_of(cache_dir, k).read_bytes() == body_of(server, k)


def test_a_small_buffer_overflows_to_disk_while_loading(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    keys = serve(server, 6)
    held, _gate = gated_key(server, "/held.jpg")  # busy: no idle flush
    bound = max(len(body_of(server, k)) for k in keys) * 2  # room for two files, not three
    # one download and one decode at a time: the thumbnails enter the buffer in `keys` order
    pipeline, sink = make_pipeline(write_back_bytes=bound, max_connections=1, decode_workers=1)
    pipeline.want([*keys, held])
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
    assert sink.ready_order == keys

    pending = pipeline._disk.pending_bytes
    assert 0 < pending <= bound
    on_disk = cached_names(cache_dir)
    written = len(on_disk)
    assert 1 <= written < len(keys)  # the overflow went to disk, the last ones wait
    assert on_disk == {cache_name(k) for k in keys[:written]}  # the oldest ones
    assert pending == sum(len(body_of(server, k)) for k in keys[written:])
    for k in keys[:written]:
        assert path_of(cache_dir, k).read_bytes() == body_of(server, k)
    assert all(pipeline._disk.contains(k) for k in keys)


def test_a_write_error_is_logged_once_and_loading_goes_on(
    server: ImageServer,
    make_pipeline: PipelineFactory,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache_dir = tmp_path / "cache"
    keys = serve(server, 3)
    pipeline, sink = make_pipeline()
    recorder = recorded(pipeline, sink, monkeypatch)
    recorder.broken = True
    logger = "qamera_desktop.core.thumbnails.pipeline"

    with caplog.at_level(logging.DEBUG, logger=logger):
        pipeline.want(keys)
        qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
        # each failed file is dropped from the cache: nothing is left waiting
        qtbot.waitUntil(lambda: pipeline._disk.pending_bytes == 0, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not pipeline._flushing, timeout=WAIT_MS)
        records = [r for r in caplog.records if WARNING_TEXT in r.getMessage()]

    assert [r.levelno for r in records] == [logging.WARNING] + [logging.DEBUG] * 2
    assert all("No space left on device" in r.getMessage() for r in records)
    assert sink.failed == {}  # the thumbnails themselves were delivered
    assert set(sink.ready) == set(keys)
    assert cached_names(cache_dir) == set()
    assert not any(pipeline._disk.contains(k) for k in keys)

    recorder.broken = False  # the disk has room again
    other = ThumbnailKey(server.add("/other.jpg", jpeg(100, 100)), SIZE)
    pipeline.want([*keys, other])  # the dropped ones are downloaded again, not read from disk
    qtbot.waitUntil(lambda: pipeline.stats().decoded == 7, timeout=WAIT_MS)
    stats = pipeline.stats()
    assert (stats.fetched, stats.disk_hits, stats.failed) == (7, 0, 0)
    assert all(server.hits[k.url.removeprefix(server.base_url)] == 2 for k in keys)
    qtbot.waitUntil(all_written(cache_dir, [*keys, other]), timeout=WAIT_MS)
    assert path_of(cache_dir, other).read_bytes() == body_of(server, other)
