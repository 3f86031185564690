"""ThumbnailPipeline over real loopback HTTP: priority, cancellation, disk cache, failures."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from qamera_desktop.core.thumbnails import pipeline as pipeline_module
from qamera_desktop.core.thumbnails.disk_cache import cache_name
from qamera_desktop.core.thumbnails.pipeline import ThumbnailPipeline
from qamera_desktop.core.thumbnails.records import ThumbnailKey

from .conftest import ImageServer, PipelineFactory
from .images import jpeg

WAIT_MS = 10_000


def cached_files(cache_dir: Path) -> set[str]:
    return {p.name for p in cache_dir.rglob("*.jpg")}


def serve_jpegs(server: ImageServer, count: int, size: tuple[int, int] = (320, 240)) -> list[str]:
    return [server.add(f"/img{i}.jpg", jpeg(*size, color=(i * 20, 100, 50))) for i in range(count)]


def test_loads_and_reports_the_right_dimensions(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, tmp_path: Path, arun: Any
) -> None:
    wide = ThumbnailKey(server.add("/wide.jpg", jpeg(800, 400)), 128)
    tall = ThumbnailKey(server.add("/tall.jpg", jpeg(300, 600)), 128)
    small = ThumbnailKey(server.add("/small.jpg", jpeg(60, 40)), 128)
    pipeline, sink = make_pipeline()

    pipeline.want([wide, tall, small])
    qtbot.waitUntil(sink.settled(wide, tall, small), timeout=WAIT_MS)

    assert sink.failed == {}
    assert (sink.ready[wide].width, sink.ready[wide].height) == (128, 64)
    assert (sink.ready[tall].width, sink.ready[tall].height) == (64, 128)
    assert (sink.ready[small].width, sink.ready[small].height) == (60, 40)
    assert set(server.hits.values()) == {1}
    arun(pipeline.aclose())
    assert cached_files(tmp_path / "cache") == {cache_name(k) for k in (wide, tall, small)}


def test_callbacks_run_on_the_loop_thread(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    good = [ThumbnailKey(url, 64) for url in serve_jpegs(server, 4)]
    bad = ThumbnailKey(server.url("/missing.jpg"), 64)
    pipeline, sink = make_pipeline(decode_workers=2)
    pipeline.want([*good, bad])
    qtbot.waitUntil(sink.settled(*good, bad), timeout=WAIT_MS)
    assert sink.threads == {threading.get_ident()}  # the test runs on the qasync loop's thread


def test_requests_follow_the_priority_order(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    urls = serve_jpegs(server, 6)
    keys = [ThumbnailKey(url, 64) for url in urls]
    wanted = [keys[i] for i in (3, 0, 5, 1, 4, 2)]
    pipeline, sink = make_pipeline(max_connections=1, decode_workers=1)
    pipeline.want(wanted)
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
    assert server.paths() == [f"/img{i}.jpg" for i in (3, 0, 5, 1, 4, 2)]
    assert sink.ready_order == wanted


def test_a_new_want_reorders_what_has_not_started(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    first, gate = server.gate("/first.jpg", jpeg(100, 100))
    keys = [ThumbnailKey(first, 64)] + [ThumbnailKey(u, 64) for u in serve_jpegs(server, 4)]
    pipeline, sink = make_pipeline(max_connections=1)
    pipeline.want(keys)
    qtbot.waitUntil(lambda: server.hits["/first.jpg"] == 1, timeout=WAIT_MS)
    pipeline.want([keys[0], keys[4], keys[3], keys[2], keys[1]])  # the user scrolled up
    gate.set()
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
    assert server.paths() == ["/first.jpg", "/img3.jpg", "/img2.jpg", "/img1.jpg", "/img0.jpg"]


def test_unwanted_key_cancels_its_download_and_its_queued_followers(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    slow, gate = server.gate("/slow.jpg", jpeg(100, 100))
    queued = [ThumbnailKey(u, 64) for u in serve_jpegs(server, 2)]
    slow_key = ThumbnailKey(slow, 64)
    pipeline, sink = make_pipeline(max_connections=1)

    pipeline.want([slow_key, *queued])
    qtbot.waitUntil(lambda: server.hits["/slow.jpg"] == 1, timeout=WAIT_MS)

    other = ThumbnailKey(server.add("/other.jpg", jpeg(90, 90)), 64)
    pipeline.want([other])
    # the one connection was freed for it, while the slow answer is still held back
    qtbot.waitUntil(sink.settled(other), timeout=WAIT_MS)
    gate.set()  # the server now answers the cancelled request: nobody is listening
    last = ThumbnailKey(server.add("/last.jpg", jpeg(90, 90)), 64)
    pipeline.want([last])
    qtbot.waitUntil(sink.settled(last), timeout=WAIT_MS)

    assert set(sink.ready) == {other, last}
    assert sink.failed == {}
    assert server.hits["/img0.jpg"] == server.hits["/img1.jpg"] == 0


def test_wanted_again_after_cancel_loads_again(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    slow, gate = server.gate("/slow.jpg", jpeg(100, 100))
    key = ThumbnailKey(slow, 64)
    pipeline, sink = make_pipeline()
    pipeline.want([key])
    qtbot.waitUntil(lambda: server.hits["/slow.jpg"] == 1, timeout=WAIT_MS)
    pipeline.want([])
    pipeline.want([key])
    gate.set()
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert server.hits["/slow.jpg"] == 2
    assert sink.ready_order == [key]


def test_duplicates_load_once(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    url, gate = server.gate("/dup.jpg", jpeg(200, 100))
    key = ThumbnailKey(url, 64)
    bigger = ThumbnailKey(url, 128)  # another size of the same image is another thumbnail
    pipeline, sink = make_pipeline()
    pipeline.want([key, key, bigger, key])
    qtbot.waitUntil(lambda: server.hits["/dup.jpg"] == 2, timeout=WAIT_MS)
    pipeline.want([key, bigger])  # already loading: stays loading, no second request
    gate.set()
    qtbot.waitUntil(sink.settled(key, bigger), timeout=WAIT_MS)
    assert server.hits["/dup.jpg"] == 2
    assert sink.ready_order.count(key) == 1
    assert (sink.ready[bigger].width, sink.ready[key].width) == (128, 64)


def test_warm_start_is_served_from_disk_without_http(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, arun: Any
) -> None:
    keys = [ThumbnailKey(u, 96) for u in serve_jpegs(server, 5, size=(640, 480))]
    first, sink1 = make_pipeline()
    first.want(keys)
    qtbot.waitUntil(sink1.settled(*keys), timeout=WAIT_MS)
    arun(first.aclose())
    requests_before = len(server.log)

    second, sink2 = make_pipeline()
    second.want(keys)
    qtbot.waitUntil(sink2.settled(*keys), timeout=WAIT_MS)

    assert len(server.log) == requests_before  # zero HTTP requests
    for key in keys:
        assert (sink2.ready[key].width, sink2.ready[key].height) == (96, 72)


def test_corrupt_cache_file_is_deleted_and_fetched_again(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, arun: Any, tmp_path: Path
) -> None:
    key = ThumbnailKey(server.add("/a.jpg", jpeg(400, 300)), 80)
    first, sink1 = make_pipeline()
    first.want([key])
    qtbot.waitUntil(sink1.settled(key), timeout=WAIT_MS)
    arun(first.aclose())
    [cached] = list((tmp_path / "cache").rglob("*.jpg"))
    cached.write_bytes(b"\xff\xd8\xff garbage")

    second, sink2 = make_pipeline()
    second.want([key])
    qtbot.waitUntil(sink2.settled(key), timeout=WAIT_MS)
    assert (sink2.ready[key].width, sink2.ready[key].height) == (80, 60)
    assert server.hits["/a.jpg"] == 2
    arun(second.aclose())  # the cache write of the fresh copy is done
    assert cached.read_bytes()[:2] == b"\xff\xd8"
    assert len(cached.read_bytes()) > 100  # a real JPEG again


def test_disk_cache_cap_evicts_least_recently_used(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, tmp_path: Path, arun: Any
) -> None:
    keys = [ThumbnailKey(u, 128) for u in serve_jpegs(server, 4, size=(512, 512))]
    cache_dir = tmp_path / "cache"
    pipeline, sink = make_pipeline()
    pipeline.want(keys[:3])
    qtbot.waitUntil(sink.settled(*keys[:3]), timeout=WAIT_MS)
    arun(pipeline.aclose())
    now = time.time()
    for age, key in zip((30, 20, 10), keys, strict=False):  # used in order 0, 1, 2
        os.utime(cache_dir / cache_name(key)[:2] / cache_name(key), (now - age, now - age))
    sizes = [p.stat().st_size for p in cache_dir.rglob("*.jpg")]
    cap = sum(sizes) + min(sizes) // 2  # room for the three, not for a fourth

    capped, sink2 = make_pipeline(cache_dir, disk_cache_bytes=cap)
    capped.want([keys[0]])  # from disk: keys[0] becomes the most recently used
    qtbot.waitUntil(sink2.settled(keys[0]), timeout=WAIT_MS)
    assert server.hits["/img0.jpg"] == 1
    capped.want([keys[3]])
    qtbot.waitUntil(sink2.settled(keys[3]), timeout=WAIT_MS)
    arun(capped.aclose())  # the write of keys[3], and the eviction it causes, are done

    names = cached_files(cache_dir)
    assert cache_name(keys[1]) not in names  # the least recently used went first
    assert {cache_name(keys[0]), cache_name(keys[3])} <= names
    assert sum(p.stat().st_size for p in cache_dir.rglob("*.jpg")) <= cap


@pytest.mark.parametrize(("status", "reason"), [(404, "HTTP 404"), (503, "HTTP 503")])
def test_http_errors_fail_with_the_status(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, status: int, reason: str
) -> None:
    key = ThumbnailKey(server.add("/x.jpg", b"nope", status=status, content_type="text/plain"), 64)
    pipeline, sink = make_pipeline()
    pipeline.want([key])
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {key: reason}


def test_html_instead_of_an_image(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    key = ThumbnailKey(server.add("/page", b"<html>login</html>", content_type="text/html"), 64)
    pipeline, sink = make_pipeline()
    pipeline.want([key])
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {key: "not an image"}


def test_declared_oversize_download_is_refused(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    key = ThumbnailKey(server.add("/big.jpg", jpeg(300, 300)), 64)
    size = len(server.routes["/big.jpg"].body)
    pipeline, sink = make_pipeline(max_download_bytes=1000)
    pipeline.want([key])
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {key: f"download too large ({size} bytes)"}


def test_streamed_oversize_download_is_stopped(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    key = ThumbnailKey(server.add("/stream.jpg", jpeg(300, 300), chunked=True), 64)
    ok = ThumbnailKey(server.add("/ok.jpg", jpeg(300, 300), chunked=True), 64)
    pipeline, sink = make_pipeline(max_download_bytes=1500)
    pipeline.want([key])
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {key: "download too large (over 1500 bytes)"}

    roomy, sink2 = make_pipeline(max_download_bytes=10**6)
    roomy.want([ok])  # chunked without a cap problem loads normally
    qtbot.waitUntil(sink2.settled(ok), timeout=WAIT_MS)
    assert ok in sink2.ready


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/a.jpg", "unsupported URL scheme (ftp)"),
        ("file:///etc/passwd", "unsupported URL scheme (file)"),
        ("data:image/png;base64,iVBORw0KGgo=", "unsupported URL scheme (data)"),
        ("/relative/path.jpg", "unsupported URL scheme (none)"),
        ("http:///no-host.jpg", "invalid URL (no host)"),
        ("http://[::1", "invalid URL"),
    ],
)
def test_non_http_urls_fail_at_once(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, url: str, reason: str
) -> None:
    key = ThumbnailKey(url, 64)
    pipeline, sink = make_pipeline()
    pipeline.want([key])
    assert sink.failed == {}  # reported on the next loop turn, not from inside want()
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {key: reason}
    assert server.log == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: nothing listens there


def test_connection_refused(make_pipeline: PipelineFactory, qtbot: Any) -> None:
    key = ThumbnailKey(f"http://127.0.0.1:{free_port()}/a.jpg", 64)
    pipeline, sink = make_pipeline()
    pipeline.want([key])
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed[key].startswith("cannot connect")
    assert "refused" in sink.failed[key].lower()


def test_timeout(server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any) -> None:
    url, _gate = server.gate("/hang.jpg", jpeg(50, 50))
    key = ThumbnailKey(url, 64)
    pipeline, sink = make_pipeline(timeout=0.3)
    pipeline.want([key])
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {key: "timed out"}


def test_redirects_are_followed_up_to_three(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    server.add("/real.jpg", jpeg(100, 100))
    server.add("/r1", location="/real.jpg")
    server.add("/loop", location="/loop")
    server.add("/elsewhere", location="ftp://127.0.0.1/x.jpg")
    moved, looping, ftp = (ThumbnailKey(server.url(p), 32) for p in ("/r1", "/loop", "/elsewhere"))
    pipeline, sink = make_pipeline()
    pipeline.want([moved, looping, ftp])
    qtbot.waitUntil(sink.settled(moved, looping, ftp), timeout=WAIT_MS)
    assert moved in sink.ready
    assert sink.failed == {
        looping: "too many redirects",
        ftp: "redirected to an unsupported URL",
    }
    assert server.hits["/loop"] == 4  # the request and three redirects


def test_no_credentials_are_ever_sent(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    other_origin = ImageServer()  # another port is another origin
    try:
        other_origin.add("/b.jpg", jpeg(64, 64))
        server.add("/a.jpg", jpeg(64, 64))
        server.add("/moved", location=other_origin.url("/b.jpg"))
        keys = [
            ThumbnailKey(server.url("/a.jpg"), 32),
            ThumbnailKey(f"http://user:secret@127.0.0.1:{server.port}/a.jpg", 32),  # userinfo
            ThumbnailKey(server.url("/moved"), 32),
        ]
        pipeline, sink = make_pipeline()
        pipeline.want(keys)
        qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
        assert set(sink.ready) == set(keys)
        log = server.log + other_origin.log
    finally:
        other_origin.close()
    assert [entry.path for entry in log].count("/b.jpg") == 1
    assert len(log) == 4
    for entry in log:
        assert not {"authorization", "x-api-key", "proxy-authorization", "cookie"} & set(
            entry.headers
        )


def test_mock_transport_faults(make_pipeline: PipelineFactory, qtbot: Any) -> None:
    """What a real server cannot easily do: a connection reset mid-body, a transport bug."""

    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self) -> Any:
            yield b"\xff\xd8\xff"
            raise httpx.ReadError("connection reset by peer")

    def handler(request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers
        if request.url.path == "/reset.jpg":
            return httpx.Response(200, stream=Broken())
        raise RuntimeError("transport bug")

    reset = ThumbnailKey("https://cdn.test/reset.jpg", 64)
    bug = ThumbnailKey("https://cdn.test/bug.jpg", 64)
    pipeline, sink = make_pipeline(transport=httpx.MockTransport(handler))
    pipeline.want([reset, bug])
    qtbot.waitUntil(sink.settled(reset, bug), timeout=WAIT_MS)
    assert sink.failed == {
        reset: "network error (connection reset by peer)",
        bug: "internal error",
    }


def test_a_reported_key_wanted_again_loads_again(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    """The pipeline remembers no results (its owner does): a failure wanted again is tried
    again, a thumbnail wanted again comes from the disk cache."""
    late = ThumbnailKey(server.add("/late.jpg", b"", status=404, content_type="text/plain"), 64)
    done = ThumbnailKey(server.add("/done.jpg", jpeg(100, 100)), 64)
    pipeline, sink = make_pipeline()
    pipeline.want([late, done])
    qtbot.waitUntil(sink.settled(late, done), timeout=WAIT_MS)
    assert sink.failed == {late: "HTTP 404"}
    server.add("/late.jpg", jpeg(100, 100))  # the image exists now
    sink.ready.clear()

    pipeline.want([late, done])
    qtbot.waitUntil(lambda: {late, done} <= set(sink.ready), timeout=WAIT_MS)
    assert (server.hits["/late.jpg"], server.hits["/done.jpg"]) == (2, 1)


def test_callback_exceptions_are_logged_not_raised(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, caplog: Any
) -> None:
    keys = [ThumbnailKey(u, 32) for u in serve_jpegs(server, 3)]
    missing = ThumbnailKey(server.url("/missing.jpg"), 32)
    seen: list[ThumbnailKey] = []

    def on_ready(key: ThumbnailKey, thumb: Any) -> None:
        seen.append(key)
        raise ValueError("UI bug")

    def on_failed(key: ThumbnailKey, reason: str) -> None:
        seen.append(key)
        raise ValueError("UI bug")

    pipeline, _ = make_pipeline(on_ready=on_ready, on_failed=on_failed)
    with caplog.at_level(logging.ERROR, logger="qamera_desktop.core.thumbnails"):
        pipeline.want([*keys, missing])
        qtbot.waitUntil(lambda: len(seen) == 4, timeout=WAIT_MS)
    assert set(seen) == {*keys, missing}
    assert sum("callback raised" in r.message for r in caplog.records) == 4


def test_a_started_decode_finishes_and_reports(
    server: ImageServer,
    make_pipeline: PipelineFactory,
    qtbot: Any,
    monkeypatch: Any,
    arun: Any,
    tmp_path: Path,
) -> None:
    """A thread cannot be stopped: an unwanted key that is decoding still reports and is cached."""
    started, release = threading.Event(), threading.Event()
    real_decode = pipeline_module.decode_thumbnail

    def slow_decode(data: bytes, size: int, **kw: Any) -> Any:
        started.set()
        release.wait(10)
        return real_decode(data, size, **kw)

    monkeypatch.setattr(pipeline_module, "decode_thumbnail", slow_decode)
    key = ThumbnailKey(server.add("/d.jpg", jpeg(200, 200)), 64)
    pipeline, sink = make_pipeline()
    pipeline.want([key])
    qtbot.waitUntil(started.is_set, timeout=WAIT_MS)
    pipeline.want([])
    release.set()
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert key in sink.ready
    arun(pipeline.aclose())
    assert (tmp_path / "cache" / cache_name(key)[:2] / cache_name(key)).exists()


def test_aclose_cancels_everything_and_leaves_no_tasks(
    server: ImageServer,
    make_pipeline: PipelineFactory,
    qtbot: Any,
    arun: Any,
    qt_loop: asyncio.AbstractEventLoop,
    monkeypatch: Any,
) -> None:
    started, release = threading.Event(), threading.Event()
    real_decode = pipeline_module.decode_thumbnail

    def slow_decode(data: bytes, size: int, **kw: Any) -> Any:
        started.set()
        release.wait(10)
        return real_decode(data, size, **kw)

    monkeypatch.setattr(pipeline_module, "decode_thumbnail", slow_decode)
    decoding = ThumbnailKey(server.add("/decoding.jpg", jpeg(100, 100)), 64)
    slow, _gate = server.gate("/slow.jpg", jpeg(100, 100))
    keys = [decoding, ThumbnailKey(slow, 64)]
    keys += [ThumbnailKey(u, 64) for u in serve_jpegs(server, 3)]
    pipeline, sink = make_pipeline(max_connections=2, decode_workers=1)
    pipeline.want(keys)
    qtbot.waitUntil(lambda: started.is_set() and server.hits["/slow.jpg"] == 1, timeout=WAIT_MS)

    closing = qt_loop.create_task(pipeline.aclose())
    qtbot.wait(200)
    assert not closing.done()  # waits for the decode that is running in the worker thread
    release.set()
    qtbot.waitUntil(closing.done, timeout=WAIT_MS)
    assert closing.exception() is None

    ours = [t for t in asyncio.all_tasks(qt_loop) if t.get_name().startswith("thumbnail")]
    assert ours == []
    assert sink.ready == {}
    requests = len(server.log)
    pipeline.want(keys)  # closed: ignored
    qtbot.wait(100)
    assert len(server.log) == requests
    arun(pipeline.aclose())  # idempotent


def test_unusable_cache_dir_still_delivers(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, tmp_path: Path, caplog: Any
) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_bytes(b"")
    key = ThumbnailKey(server.add("/a.jpg", jpeg(100, 100)), 64)
    pipeline, sink = make_pipeline(not_a_dir)
    with caplog.at_level(logging.WARNING):
        pipeline.want([key])
        qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert key in sink.ready
    assert any("disk cache" in r.message for r in caplog.records)


def test_constructor_checks_its_limits(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ThumbnailPipeline(
            tmp_path, on_ready=lambda k, t: None, on_failed=lambda k, r: None, max_connections=0
        )


def test_corrupt_cache_file_is_deleted_even_when_the_refetch_fails(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, arun: Any, tmp_path: Path
) -> None:
    key = ThumbnailKey(server.add("/a.jpg", jpeg(400, 300)), 80)
    first, sink1 = make_pipeline()
    first.want([key])
    qtbot.waitUntil(sink1.settled(key), timeout=WAIT_MS)
    arun(first.aclose())
    [cached] = list((tmp_path / "cache").rglob("*.jpg"))
    cached.write_bytes(cached.read_bytes()[:200])  # truncated by a crash of another tool
    server.add("/a.jpg", b"gone", status=410, content_type="text/plain")

    second, sink2 = make_pipeline()
    second.want([key])
    qtbot.waitUntil(sink2.settled(key), timeout=WAIT_MS)
    assert sink2.failed == {key: "HTTP 410"}
    assert not cached.exists()
