"""ThumbnailPipeline edge cases: TLS, vanished cache files, crashes inside, loop misuse."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qamera_desktop.core.thumbnails import ThumbnailError, ThumbnailKey
from qamera_desktop.core.thumbnails import pipeline as pipeline_module
from qamera_desktop.core.thumbnails.disk_cache import DiskCache
from qamera_desktop.core.thumbnails.fetch import _short, url_problem

from .certs import self_signed
from .conftest import ImageServer, PipelineFactory
from .images import jpeg

WAIT_MS = 10_000


@pytest.fixture
def self_signed_tls(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a self-signed certificate for 127.0.0.1."""
    _, context = self_signed(tmp_path)
    return context


@pytest.fixture
def tls_server(self_signed_tls: ssl.SSLContext) -> Iterator[ImageServer]:
    srv = ImageServer(tls=self_signed_tls)
    yield srv
    srv.close()


def test_tls_is_verified(
    tls_server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    key = ThumbnailKey(tls_server.add("/a.jpg", jpeg(64, 64)), 32)
    assert key.url.startswith("https://")
    pipeline, sink = make_pipeline()
    pipeline.want([key])
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed[key].startswith("cannot connect (certificate not trusted")
    assert tls_server.log == []  # no request was sent over the untrusted connection


def test_cache_file_deleted_behind_our_back_is_fetched(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, arun: Any
) -> None:
    a = ThumbnailKey(server.add("/a.jpg", jpeg(200, 100)), 64)
    b = ThumbnailKey(server.add("/b.jpg", jpeg(200, 100)), 64)
    first, sink1 = make_pipeline()
    first.want([a, b])
    qtbot.waitUntil(sink1.settled(a, b), timeout=WAIT_MS)
    arun(first.aclose())

    second, sink2 = make_pipeline()
    second.want([a])  # builds the index, which lists b too
    qtbot.waitUntil(sink2.settled(a), timeout=WAIT_MS)
    DiskCache(first._disk.root, 10**9).discard(b)
    second.want([b])
    qtbot.waitUntil(sink2.settled(b), timeout=WAIT_MS)
    assert b in sink2.ready
    assert server.hits["/b.jpg"] == 2
    assert second.stats().disk_hits == 1


def test_decoder_crash_is_reported_as_internal_error(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, monkeypatch: Any, caplog: Any
) -> None:
    def crash(data: bytes, size: int, **kw: Any) -> Any:
        raise RuntimeError("bug in a decoder")

    monkeypatch.setattr(pipeline_module, "decode_thumbnail", crash)
    key = ThumbnailKey(server.add("/a.jpg", jpeg(64, 64)), 32)
    pipeline, sink = make_pipeline()
    with caplog.at_level(logging.ERROR):
        pipeline.want([key])
        qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {key: "internal error"}
    assert any("decode crashed" in r.message for r in caplog.records)


def test_disk_index_crash_goes_on_without_the_cache(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, monkeypatch: Any, caplog: Any
) -> None:
    def crash(self: DiskCache) -> None:
        raise RuntimeError("bug in the scan")

    monkeypatch.setattr(DiskCache, "load_index", crash)
    key = ThumbnailKey(server.add("/a.jpg", jpeg(64, 64)), 32)
    pipeline, sink = make_pipeline()
    with caplog.at_level(logging.ERROR):
        pipeline.want([key])
        qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert key in sink.ready
    assert any("going without it" in r.message for r in caplog.records)


def test_aclose_drops_failures_not_yet_reported(make_pipeline: PipelineFactory, arun: Any) -> None:
    pipeline, sink = make_pipeline()

    async def want_then_close() -> None:
        pipeline.want([ThumbnailKey("ftp://cdn.test/a.jpg", 32)])
        await pipeline.aclose()
        await asyncio.sleep(0)  # the report would have run on this turn

    arun(want_then_close())
    assert sink.failed == {}


def test_a_second_event_loop_is_refused(make_pipeline: PipelineFactory, qtbot: Any) -> None:
    pipeline, sink = make_pipeline()
    key = ThumbnailKey("ftp://cdn.test/a.jpg", 32)
    pipeline.want([key])  # binds the session loop
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    errors: list[BaseException] = []

    async def from_another_loop() -> None:
        try:
            pipeline.want([])
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=asyncio.run, args=(from_another_loop(),))
    thread.start()
    thread.join(5)
    assert len(errors) == 1
    assert "second event loop" in str(errors[0])


def test_url_problem() -> None:
    assert url_problem("https://cdn.test/a.jpg?x=1") is None
    assert url_problem("HTTP://CDN.TEST/A.JPG") is None
    assert url_problem("javascript:alert(1)") == "unsupported URL scheme (javascript)"


def chained(outer: BaseException, *causes: BaseException) -> BaseException:
    link = outer
    for cause in causes:
        link.__cause__ = cause
        link = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (chained(httpx.ConnectError("x"), ConnectionRefusedError(111, "Connect failed")), None),
        (
            chained(httpx.ConnectError("x"), socket.gaierror(-2, "Name or service not known")),
            "Name or service not known",
        ),
        (chained(httpx.ConnectError("x"), ssl.SSLError(1, "bad")), "TLS error: bad"),
        (httpx.ReadError(""), "ReadError"),
        (httpx.ReadError("reset"), "reset"),
    ],
)
def test_short_reasons(exc: BaseException, text: str | None) -> None:
    import os

    assert _short(exc) == (text or os.strerror(111))


def test_thumbnail_error_reason() -> None:
    error = ThumbnailError("HTTP 404")
    assert error.reason == str(error) == "HTTP 404"


def test_url_that_httpx_refuses_when_building_the_request(
    make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    key = ThumbnailKey("http://999.999.999.999/a.jpg", 32)  # passes urlsplit, not httpx
    pipeline, sink = make_pipeline()
    pipeline.want([key])
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {key: "invalid URL"}
