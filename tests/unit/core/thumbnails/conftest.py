"""Thumbnail test set-up: a real HTTP server on loopback, and pipelines that are always closed.

The server (`http.server.ThreadingHTTPServer` on port 0, in daemon threads) serves routes from a
dict, counts requests per path, keeps the request log in arrival order with the headers, and can
hold a path at a gate (an Event the test opens) to make a download slow or hang.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from qamera_desktop.core.thumbnails.pipeline import ThumbnailPipeline
from qamera_desktop.core.thumbnails.records import DecodedThumbnail, ThumbnailKey
from qamera_desktop.core.thumbnails.thumbnail_thread import Result

GATE_LIMIT = 30.0  # a gated request gives up after this long, so no thread outlives a test run


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "image/jpeg"
    chunked: bool = False  # stream without Content-Length
    location: str | None = None  # redirect target
    gate: threading.Event | None = None  # answer only once the event is set


@dataclass
class Logged:
    path: str
    headers: dict[str, str]


class ImageServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._gates: list[threading.Event] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def add(self, path: str, body: bytes = b"", **options: Any) -> str:
        """Serve `body` at `path`; returns the full URL."""
        self.routes[path] = Route(body=body, **options)
        return self.url(path)

    def gate(self, path: str, body: bytes, **options: Any) -> tuple[str, threading.Event]:
        """Serve `body` at `path` only once the returned event is set."""
        event = threading.Event()
        self._gates.append(event)
        return self.add(path, body, gate=event, **options), event

    def url(self, path: str) -> str:
        return self.base_url + path

    def paths(self) -> list[str]:
        with self._lock:
            return [entry.path for entry in self.log]

    def record(self, path: str, headers: dict[str, str]) -> Route | None:
        with self._lock:
            self.hits[path] += 1
            self.log.append(Logged(path, headers))
        return self.routes.get(path)

    def close(self) -> None:
        for event in self._gates:
            event.set()
        self._httpd.shutdown()
        self._httpd.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ImageServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hung up (a cancelled download): expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: _Server

    def do_GET(self) -> None:
        route = self.server.owner.record(self.path, {k.lower(): v for k, v in self.headers.items()})
        if route is None:
            self._reply(404, b"not found", "text/plain")
            return
        if route.gate is not None:
            route.gate.wait(GATE_LIMIT)
        if route.location is not None:
            self.send_response(route.status if route.status != 200 else 302)
            self.send_header("Location", route.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if route.chunked:
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(route.body), 1000):
                part = route.body[start : start + 1000]
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self._reply(route.status, route.body, route.content_type)

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ImageServer]:
    srv = ImageServer()
    yield srv
    srv.close()


@dataclass
class Sink:
    """Records the callbacks of a pipeline, with the thread each one ran on."""

    ready: dict[ThumbnailKey, DecodedThumbnail] = field(default_factory=dict)
    ready_order: list[ThumbnailKey] = field(default_factory=list)
    failed: dict[ThumbnailKey, str] = field(default_factory=dict)
    threads: set[int] = field(default_factory=set)

    def on_ready(self, key: ThumbnailKey, thumb: DecodedThumbnail) -> None:
        self.threads.add(threading.get_ident())
        self.ready[key] = thumb
        self.ready_order.append(key)

    def on_failed(self, key: ThumbnailKey, reason: str) -> None:
        self.threads.add(threading.get_ident())
        self.failed[key] = reason

    def settled(self, *keys: ThumbnailKey) -> Callable[[], bool]:
        return lambda: all(k in self.ready or k in self.failed for k in keys)


PipelineFactory = Callable[..., tuple[ThumbnailPipeline, Sink]]


@pytest.fixture
def make_pipeline(
    tmp_path: Path, arun: Any, qt_loop: asyncio.AbstractEventLoop
) -> Iterator[PipelineFactory]:
    """Build pipelines on the test loop (cache in tmp_path/cache unless given), each with a Sink
    for its callbacks unless given; every one is closed at teardown."""
    made: list[ThumbnailPipeline] = []

    def make(cache_dir: Path | None = None, **options: Any) -> tuple[ThumbnailPipeline, Sink]:
        sink = Sink()
        pipeline = ThumbnailPipeline(
            cache_dir or tmp_path / "cache",
            on_ready=options.pop("on_ready", sink.on_ready),
            on_failed=options.pop("on_failed", sink.on_failed),
            **options,
        )
        made.append(pipeline)
        return pipeline, sink

    yield make
    for pipeline in made:
        arun(pipeline.aclose())


WAIT_S = 15.0


def until(predicate: Callable[[], bool], wait_s: float = WAIT_S) -> None:
    """Wait on this thread (no event loop) until `predicate()` holds."""
    deadline = time.monotonic() + wait_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


class Batches:
    """What `deliver` received, batch by batch, with the thread each batch came on."""

    def __init__(self) -> None:
        self.batches: list[list[Result]] = []
        self.threads: set[int] = set()
        self._changed = threading.Condition()

    def __call__(self, batch: list[Result]) -> None:
        with self._changed:
            self.threads.add(threading.get_ident())
            self.batches.append(batch)
            self._changed.notify_all()

    def results(self) -> dict[ThumbnailKey, DecodedThumbnail | str]:
        with self._changed:
            return {key: result for batch in self.batches for key, result in batch}

    def wait_for(self, *keys: ThumbnailKey) -> dict[ThumbnailKey, DecodedThumbnail | str]:
        deadline = time.monotonic() + WAIT_S
        with self._changed:
            while not all(k in self._all() for k in keys):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not delivered within {WAIT_S} s: {keys}")
                self._changed.wait(left)
            return self._all()

    def _all(self) -> dict[ThumbnailKey, DecodedThumbnail | str]:
        return {key: result for batch in self.batches for key, result in batch}
