"""ThumbnailLoader: the Qt side of the thumbnail worker, against a real image server on loopback.

Nothing of the loading happens in the app's process (or, with a transport of the caller's, on the
GUI thread); results come as a few queued signals, not one per thumbnail; the pixmaps show the
right pixels; a worker that dies is replaced by loading in the app.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from PySide6.QtGui import QColor

from qamera_desktop.core.thumbnails import pipeline as pipeline_module
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader
from tests.unit.core.thumbnails.conftest import ImageServer
from tests.unit.core.thumbnails.images import encode, jpeg

WAIT_MS = 10_000


@pytest.fixture
def server() -> Iterator[ImageServer]:
    srv = ImageServer()
    yield srv
    srv.close()


@pytest.fixture
def thread_log(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[int]]:
    """The threads that downloaded and decoded, recorded around the pipeline's own functions."""
    seen: dict[str, set[int]] = {"fetch": set(), "decode": set()}
    fetch, decode = pipeline_module.fetch_bytes, pipeline_module.decode_thumbnail

    async def recording_fetch(*args: Any, **kwargs: Any) -> bytes:
        seen["fetch"].add(threading.get_ident())
        return await fetch(*args, **kwargs)

    def recording_decode(*args: Any, **kwargs: Any) -> Any:
        seen["decode"].add(threading.get_ident())
        return decode(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "fetch_bytes", recording_fetch)
    monkeypatch.setattr(pipeline_module, "decode_thumbnail", recording_decode)
    return seen


def test_thumbnails_load_in_the_worker_process_and_arrive_in_batches(
    qtbot: Any, arun: Any, tmp_path: Path, server: ImageServer, thread_log: dict[str, set[int]]
) -> None:
    urls = [server.add(f"/{n}.jpg", jpeg(200, 100, (220, 20, 20))) for n in range(30)]
    loader = ThumbnailLoader(tmp_path / "cache")
    signals: list[list[str]] = []
    loader.ready.connect(signals.append)
    try:
        assert loader.worker_pid not in (None, os.getpid())
        loader.set_wanted("grid", urls, 64)
        assert {loader.state(u, 64) for u in urls} == {"loading"}
        qtbot.waitUntil(lambda: all(loader.state(u, 64) == "ready" for u in urls), timeout=WAIT_MS)
    finally:
        arun(loader.aclose())

    assert thread_log == {"fetch": set(), "decode": set()}  # nothing of it in this process
    assert sorted(u for batch in signals for u in batch) == sorted(urls)
    assert len(signals) < len(urls)  # batched
    assert server.hits["/0.jpg"] == 1


def test_with_a_transport_of_its_own_it_loads_on_a_thread_never_the_gui_thread(
    qtbot: Any, arun: Any, tmp_path: Path, server: ImageServer, thread_log: dict[str, set[int]]
) -> None:
    urls = [server.add(f"/{n}.jpg", jpeg(200, 100)) for n in range(10)]
    loader = ThumbnailLoader(tmp_path / "cache", transport=httpx.AsyncHTTPTransport())
    try:
        assert loader.worker_pid is None
        loader.set_wanted("grid", urls, 64)
        qtbot.waitUntil(lambda: all(loader.state(u, 64) == "ready" for u in urls), timeout=WAIT_MS)
    finally:
        arun(loader.aclose())
    gui = threading.get_ident()
    assert thread_log["fetch"]
    assert gui not in thread_log["fetch"]
    assert thread_log["decode"]
    assert gui not in thread_log["decode"]
    assert not any(t.name == "thumbnails" for t in threading.enumerate())


def test_when_the_worker_dies_thumbnails_load_in_the_app(
    qtbot: Any, arun: Any, tmp_path: Path, server: ImageServer, caplog: Any
) -> None:
    first = server.add("/first.jpg", jpeg(200, 100))
    later = [server.add(f"/later-{n}.jpg", jpeg(200, 100)) for n in range(5)]
    loader = ThumbnailLoader(tmp_path / "cache")
    try:
        loader.set_wanted("grid", [first], 64)
        qtbot.waitUntil(lambda: loader.state(first, 64) == "ready", timeout=WAIT_MS)
        pid = loader.worker_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        qtbot.waitUntil(lambda: loader.worker_pid is None, timeout=WAIT_MS)
        loader.set_wanted("grid", later, 64)
        qtbot.waitUntil(lambda: all(loader.state(u, 64) == "ready" for u in later), timeout=WAIT_MS)
    finally:
        arun(loader.aclose())
    assert "The thumbnail worker ended" in caplog.text


def test_pixmaps_carry_the_decoded_pixels(
    qtbot: Any, arun: Any, tmp_path: Path, server: ImageServer
) -> None:
    url = server.add("/red.jpg", encode(Image.new("RGB", (300, 150), (230, 10, 10)), "JPEG"))
    loader = ThumbnailLoader(tmp_path / "cache")
    try:
        loader.set_wanted("preview", [url], 128)
        qtbot.waitUntil(lambda: loader.state(url, 128) == "ready", timeout=WAIT_MS)
        pixmap = loader.pixmap(url, 128)
        assert pixmap is not None
        assert (pixmap.width(), pixmap.height()) == (128, 64)
        assert loader.memory_bytes == 128 * 64 * 4
        colour = QColor(pixmap.toImage().pixel(64, 32))  # red stays red: no channel swap
        assert colour.red() > 180
        assert colour.green() < 60
        assert colour.blue() < 60
    finally:
        arun(loader.aclose())


def test_a_failure_is_reported_and_retried_on_request(
    qtbot: Any, arun: Any, tmp_path: Path, server: ImageServer
) -> None:
    url = server.url("/not-yet.jpg")
    loader = ThumbnailLoader(tmp_path / "cache")
    try:
        with qtbot.waitSignal(loader.ready, timeout=WAIT_MS):
            loader.set_wanted("grid", [url], 64)
        assert loader.state(url, 64) == "failed"
        assert loader.failure(url, 64) == "HTTP 404"

        server.add("/not-yet.jpg", jpeg(64, 64))
        loader.retry_failed()  # the channel, still showing it, need not ask again
        qtbot.waitUntil(lambda: loader.state(url, 64) == "ready", timeout=WAIT_MS)
        assert loader.failure(url, 64) is None
    finally:
        arun(loader.aclose())


def test_a_thumbnail_pushed_out_of_memory_is_asked_again_when_shown_again(
    qtbot: Any, arun: Any, tmp_path: Path, server: ImageServer
) -> None:
    shown = server.add("/shown.jpg", jpeg(64, 64))
    # room for two pixmaps: the two others push the oldest, the details' one, out
    others = [server.add(f"/other-{n}.jpg", jpeg(64, 64)) for n in range(2)]
    loader = ThumbnailLoader(tmp_path / "cache", memory_bytes=2 * 64 * 64 * 4)
    try:
        loader.set_wanted("details", [shown], 64)
        qtbot.waitUntil(lambda: loader.state(shown, 64) == "ready", timeout=WAIT_MS)
        arrived: set[str] = set()
        loader.ready.connect(arrived.update)
        loader.set_wanted("grid", others, 64)  # their pixmaps push the details' one out
        qtbot.waitUntil(lambda: arrived >= set(others), timeout=WAIT_MS)
        assert loader.pixmap(shown, 64) is None  # pushed out of memory
        # the details panel paints it again (the same list, unchanged): it is asked for again
        loader.set_wanted("details", [shown], 64)
        qtbot.waitUntil(lambda: loader.pixmap(shown, 64) is not None, timeout=WAIT_MS)
    finally:
        arun(loader.aclose())
