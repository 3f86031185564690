"""ThumbnailPipeline edge cases: TLS, vanished cache files, crashes inside, close, reasons."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qamera_desktop.core.http_download import short_cause, url_problem
from qamera_desktop.core.thumbnails import pipeline as pipeline_module
from qamera_desktop.core.thumbnails.disk_cache import DiskCache
from qamera_desktop.core.thumbnails.records import ThumbnailKey

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
    second.want([a])
    qtbot.waitUntil(sink2.settled(a), timeout=WAIT_MS)
    DiskCache(first._disk.root, 10**9).discard(b)
    second.want([b])
    qtbot.waitUntil(sink2.settled(b), timeout=WAIT_MS)
    assert b in sink2.ready
    assert (server.hits["/a.jpg"], server.hits["/b.jpg"]) == (1, 2)


def test_cache_file_deleted_between_the_check_and_the_read_is_fetched(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, monkeypatch: Any
) -> None:
    key = ThumbnailKey(server.add("/a.jpg", jpeg(200, 100)), 64)
    monkeypatch.setattr(DiskCache, "contains", lambda self, key: True)  # then read() finds none
    pipeline, sink = make_pipeline()
    pipeline.want([key])
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert key in sink.ready
    assert server.hits["/a.jpg"] == 1


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
    assert any("decoding crashed" in r.getMessage() for r in caplog.records)


def test_aclose_drops_failures_not_yet_reported(make_pipeline: PipelineFactory, arun: Any) -> None:
    pipeline, sink = make_pipeline()

    async def want_then_close() -> None:
        pipeline.want([ThumbnailKey("ftp://cdn.test/a.jpg", 32)])
        await pipeline.aclose()
        await asyncio.sleep(0)  # the report would have run on this turn

    arun(want_then_close())
    assert sink.failed == {}


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

    assert short_cause(exc) == (text or os.strerror(111))


def test_url_that_httpx_refuses_when_building_the_request(
    make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    key = ThumbnailKey("http://999.999.999.999/a.jpg", 32)  # passes urlsplit, not httpx
    pipeline, sink = make_pipeline()
    pipeline.want([key])
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {key: "invalid URL"}
