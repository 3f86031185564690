"""ThumbnailThread: the pipeline on a thread of its own, against a real HTTP server on loopback.

No Qt and no test loop here: the thread runs its own asyncio loop, and these tests wait on it
with threading primitives, as the GUI thread would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qamera_desktop.core.thumbnails.records import DecodedThumbnail, ThumbnailKey
from qamera_desktop.core.thumbnails.thumbnail_thread import Result, ThumbnailThread

from .conftest import Batches, ImageServer, until
from .images import jpeg

MakeThread = Callable[..., tuple[ThumbnailThread, Batches]]


@pytest.fixture
def make_thread(tmp_path: Path) -> Iterator[MakeThread]:
    made: list[ThumbnailThread] = []

    def make(**options: object) -> tuple[ThumbnailThread, Batches]:
        batches = Batches()
        thread = ThumbnailThread(tmp_path / "cache", deliver=batches, **options)
        made.append(thread)
        return thread, batches

    yield make
    for thread in made:
        thread.close()


def test_results_arrive_on_the_thumbnail_thread_in_batches(
    server: ImageServer, make_thread: MakeThread
) -> None:
    keys = [ThumbnailKey(server.add(f"/{n}.jpg", jpeg(120, 80)), 64) for n in range(12)]
    broken = ThumbnailKey(server.url("/missing.jpg"), 64)
    # a long batch window: everything that finishes within it comes as one delivery
    thread, batches = make_thread(batch_seconds=0.5)
    thread.want([*keys, broken])
    got = batches.wait_for(*keys, broken)

    assert all(isinstance(got[k], DecodedThumbnail) for k in keys)
    assert got[broken] == "HTTP 404"
    assert threading.get_ident() not in batches.threads
    assert len(batches.threads) == 1
    assert len(batches.batches) < len(keys) + 1  # batched, not one delivery per thumbnail
    thumb = got[keys[0]]
    assert isinstance(thumb, DecodedThumbnail)
    assert (thumb.width, thumb.height) == (64, 43)


def test_only_the_latest_wanted_list_counts(server: ImageServer, make_thread: MakeThread) -> None:
    slow_url, gate = server.gate("/slow.jpg", jpeg(64, 64))
    slow = ThumbnailKey(slow_url, 32)
    fast = ThumbnailKey(server.add("/fast.jpg", jpeg(64, 64)), 32)
    thread, batches = make_thread()
    thread.want([slow])
    until(lambda: server.hits["/slow.jpg"] == 1)  # its download is under way
    thread.want([fast])  # scrolled away: the slow one is cancelled
    batches.wait_for(fast)
    gate.set()
    last = ThumbnailKey(server.add("/last.jpg", jpeg(64, 64)), 32)
    thread.want([last])
    batches.wait_for(last)
    assert slow not in batches.results()


def test_close_cancels_loading_ends_the_thread_and_delivers_nothing_more(
    server: ImageServer, make_thread: MakeThread
) -> None:
    url, gate = server.gate("/held.jpg", jpeg(64, 64))
    thread, batches = make_thread()
    thread.want([ThumbnailKey(url, 32)])
    until(lambda: server.hits["/held.jpg"] == 1)
    started = time.monotonic()
    thread.close()
    assert time.monotonic() - started < 5  # the held download was cancelled, not waited for
    assert not any(t.name == "thumbnails" and t.is_alive() for t in threading.enumerate())
    gate.set()
    thread.want([ThumbnailKey(server.add("/after.jpg", jpeg(64, 64)), 32)])  # ignored
    thread.close()  # idempotent
    assert batches.batches == []


def test_a_pipeline_that_cannot_start_leaves_an_empty_thread_that_closes(
    make_thread: MakeThread, caplog: pytest.LogCaptureFixture
) -> None:
    thread, batches = make_thread(max_connections=0)  # ThumbnailPipeline refuses it
    thread.want([ThumbnailKey("http://127.0.0.1:9/a.jpg", 32)])
    thread.close(timeout=5)
    assert batches.batches == []
    assert "could not start" in caplog.text


def test_a_delivery_that_raises_is_logged_and_loading_goes_on(
    server: ImageServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    delivered: list[ThumbnailKey] = []

    def deliver(batch: list[Result]) -> None:
        delivered.extend(key for key, _ in batch)
        raise RuntimeError("a bug in the receiver")

    first = ThumbnailKey(server.add("/1.jpg", jpeg(64, 64)), 32)
    second = ThumbnailKey(server.add("/2.jpg", jpeg(64, 64)), 32)
    thread = ThumbnailThread(tmp_path / "cache", deliver=deliver)
    try:
        thread.want([first])
        until(lambda: first in delivered)
        thread.want([second])
        until(lambda: second in delivered)
    finally:
        thread.close()
    assert "ThumbnailThread._flush" in caplog.text  # the loop logged it, with its traceback
    assert "a bug in the receiver" in caplog.text
