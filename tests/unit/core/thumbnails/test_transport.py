"""ThumbnailTransport: httpx's transport over a backend that answers "is_readable" by polling the
socket it remembers (qamera_desktop/core/thumbnails/transport.py).

Real sockets only: socket pairs for `socket_readable`, and a small HTTP/1.1 keep-alive server on
127.0.0.1 (plain and TLS) that counts the connections it accepts and closes. Each response body
names the client's port, so a test can tell which connection served it.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from qamera_desktop.core.thumbnails.fetch import make_client
from qamera_desktop.core.thumbnails.transport import (
    QuickReadableBackend,
    ThumbnailTransport,
    socket_readable,
)

from .certs import self_signed

WAIT_MS = 10_000
GATE_LIMIT = 30.0  # a gated request gives up after this long, so no thread outlives a test run


# ------------------------------------------------------------------------------ the server
class KeepAliveServer(ThreadingHTTPServer):
    """HTTP/1.1 with Content-Length on every response, so connections stay open between requests.

    Paths: `/drop...` answers, then closes the connection without saying so (no `Connection:
    close` header: the client's idle connection just goes away); `/close...` answers with
    `Connection: close`; `/slow...` answers once `gate` is set; anything else simply answers.
    """

    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.lock = threading.Lock()
        self.accepted = 0  # connections accepted
        self.closed = 0  # connections the server has closed
        self.hits = 0  # requests received
        self.gate = threading.Event()
        host, port = self.server_address[:2]
        self.base_url = f"{'https' if tls else 'http'}://{host!s}:{port}"
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base_url + path

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self.lock:
            self.closed += 1

    def stop(self) -> None:
        self.gate.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: KeepAliveServer

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.hits += 1
        if self.path.startswith("/slow"):
            self.server.gate.wait(GATE_LIMIT)
        body = f"{self.path} via {self.client_address[1]}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if self.path.startswith("/close"):
            self.send_header("Connection", "close")  # also makes the handler close
        self.end_headers()
        self.wfile.write(body)
        if self.path.startswith("/linger"):
            self.server.gate.wait(GATE_LIMIT)
        if self.path.startswith(("/drop", "/linger")):
            self.close_connection = True  # close after this response, without telling the client

    def log_message(self, format: str, *args: Any) -> None:
        pass


def served(response: httpx.Response) -> tuple[str, str]:
    """(path, client port of the connection) of a response of KeepAliveServer."""
    path, port = response.text.split(" via ")
    return path, port


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    srv = KeepAliveServer()
    yield srv
    srv.stop()


@pytest.fixture
def client(arun: Any) -> Iterator[httpx.AsyncClient]:
    thumbnails = make_client(max_connections=2, timeout=5)
    yield thumbnails
    arun(thumbnails.aclose())


def idle_stream(client: httpx.AsyncClient) -> Any:
    """The network stream of the one connection in the client's pool."""
    transport = client._transport
    assert isinstance(transport, ThumbnailTransport)
    connections = transport._pool.connections
    assert len(connections) == 1
    assert connections[0].is_idle()
    return connections[0]._connection._network_stream  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ socket_readable
def test_a_quiet_socket_is_not_readable_and_sent_bytes_make_it_readable() -> None:
    left, right = socket.socketpair()
    with left, right:
        assert not socket_readable(left)
        right.sendall(b"hello")
        assert socket_readable(left)
        assert not socket_readable(right)  # the sender has nothing to read
        assert left.recv(100) == b"hello"
        assert not socket_readable(left)  # read out: quiet again


def test_the_end_of_the_stream_is_readable() -> None:
    left, right = socket.socketpair()
    with left:
        right.close()
        assert socket_readable(left)
        assert left.recv(100) == b""  # the read it promised does not block


def test_a_half_closed_peer_is_readable() -> None:
    left, right = socket.socketpair()
    with left, right:
        right.shutdown(socket.SHUT_WR)
        assert socket_readable(left)


def test_no_socket_and_a_closed_socket_count_as_readable() -> None:
    assert socket_readable(None)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.close()
    assert sock.fileno() == -1
    assert socket_readable(sock)


# ------------------------------------------------------------------------------ the backend
def test_backend_streams_answer_is_readable_from_their_socket(arun: Any, qtbot: Any) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]
    backend = QuickReadableBackend()

    with listener:
        stream = arun(backend.connect_tcp("127.0.0.1", port, timeout=5))
        peer, _ = listener.accept()  # the handshake is done: accept returns at once
    try:
        with peer:
            sock = stream.get_extra_info("socket")  # asyncio's TransportSocket, under anyio
            assert sock.fileno() >= 0
            assert sock.getpeername() == ("127.0.0.1", port)
            assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)  # passed through
            assert stream.get_extra_info("is_readable") is False

            peer.sendall(b"ping")
            qtbot.waitUntil(lambda: stream.get_extra_info("is_readable"), timeout=WAIT_MS)
            assert arun(stream.read(100, timeout=5)) == b"ping"
            assert stream.get_extra_info("is_readable") is False

            arun(stream.write(b"pong", timeout=5))
            peer.settimeout(10)
            assert peer.recv(100) == b"pong"
        # the peer is closed now
        qtbot.waitUntil(lambda: stream.get_extra_info("is_readable"), timeout=WAIT_MS)
        assert arun(stream.read(100, timeout=5)) == b""
    finally:
        arun(stream.aclose())
    assert stream.get_extra_info("is_readable") is True  # a closed stream: the next read says so


# ------------------------------------------------------------------------------ the client
def test_make_client_uses_the_thumbnail_transport(client: httpx.AsyncClient) -> None:
    transport = client._transport
    assert isinstance(transport, ThumbnailTransport)
    assert isinstance(transport.network_backend, QuickReadableBackend)


def test_a_given_transport_is_used_as_is(arun: Any) -> None:
    mock = httpx.MockTransport(lambda request: httpx.Response(200, text="mocked"))
    thumbnails = make_client(max_connections=2, timeout=5, transport=mock)
    try:
        assert thumbnails._transport is mock
        response = arun(thumbnails.get("http://thumbs.test/a.jpg"))
        assert response.text == "mocked"
    finally:
        arun(thumbnails.aclose())


def test_sequential_gets_reuse_one_connection(
    server: KeepAliveServer, client: httpx.AsyncClient, arun: Any
) -> None:
    async def go() -> list[httpx.Response]:
        return [await client.get(server.url(f"/a{i}.jpg")) for i in range(6)]

    responses = arun(go())

    assert [r.status_code for r in responses] == [200] * 6
    assert [served(r)[0] for r in responses] == [f"/a{i}.jpg" for i in range(6)]
    assert len({served(r)[1] for r in responses}) == 1
    assert (server.accepted, server.hits) == (1, 6)


def test_concurrent_gets_open_at_most_max_connections(
    server: KeepAliveServer, client: httpx.AsyncClient, arun: Any, qtbot: Any, qt_loop: Any
) -> None:
    tasks = [qt_loop.create_task(client.get(server.url(f"/slow{i}.jpg"))) for i in range(5)]
    qtbot.waitUntil(lambda: server.hits == 2, timeout=WAIT_MS)  # both connections are busy
    assert server.accepted == 2
    server.gate.set()
    qtbot.waitUntil(lambda: all(t.done() for t in tasks), timeout=WAIT_MS)

    responses = [t.result() for t in tasks]
    assert sorted(served(r)[0] for r in responses) == [f"/slow{i}.jpg" for i in range(5)]
    assert len({served(r)[1] for r in responses}) == 2
    assert (server.accepted, server.hits) == (2, 5)
    # afterwards both stay in the pool for reuse
    again = arun(client.get(server.url("/after.jpg")))
    assert served(again)[1] in {served(r)[1] for r in responses}
    assert server.accepted == 2


def test_a_connection_the_server_dropped_is_not_used_again(
    server: KeepAliveServer, client: httpx.AsyncClient, arun: Any, qtbot: Any
) -> None:
    first = arun(client.get(server.url("/drop.jpg")))
    assert first.status_code == 200
    qtbot.waitUntil(lambda: server.closed == 1, timeout=WAIT_MS)

    second = arun(client.get(server.url("/next.jpg")))  # not sent on the dead connection

    assert second.status_code == 200
    assert served(second)[0] == "/next.jpg"
    assert served(second)[1] != served(first)[1]
    assert (server.accepted, server.hits) == (2, 2)
    third = arun(client.get(server.url("/third.jpg")))  # and the new one is kept
    assert served(third)[1] == served(second)[1]
    assert server.accepted == 2


def test_an_idle_connection_the_server_closed_later_is_replaced(
    server: KeepAliveServer, client: httpx.AsyncClient, arun: Any, qtbot: Any
) -> None:
    first = arun(client.get(server.url("/linger.jpg")))
    assert first.status_code == 200
    stream = idle_stream(client)  # in the pool, and the server still holds it open
    assert stream.get_extra_info("is_readable") is False

    server.gate.set()  # now the server closes it, saying nothing
    qtbot.waitUntil(lambda: server.closed == 1, timeout=WAIT_MS)
    assert idle_stream(client) is stream  # nothing has asked the pool since
    qtbot.waitUntil(lambda: stream.get_extra_info("is_readable"), timeout=WAIT_MS)

    second = arun(client.get(server.url("/next.jpg")))

    assert second.status_code == 200
    assert served(second)[0] == "/next.jpg"
    assert served(second)[1] != served(first)[1]
    assert (server.accepted, server.hits) == (2, 2)
    assert idle_stream(client) is not stream


def test_connection_close_from_the_server_opens_a_new_connection(
    server: KeepAliveServer, client: httpx.AsyncClient, arun: Any
) -> None:
    async def go() -> list[httpx.Response]:
        return [
            await client.get(server.url("/close1.jpg")),
            await client.get(server.url("/close2.jpg")),
            await client.get(server.url("/keep.jpg")),
        ]

    responses = arun(go())

    assert [served(r)[0] for r in responses] == ["/close1.jpg", "/close2.jpg", "/keep.jpg"]
    assert len({served(r)[1] for r in responses}) == 3
    assert server.accepted == 3


# ------------------------------------------------------------------------------ over TLS
@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeepAliveServer]:
    """A keep-alive server with a self-signed certificate that the thumbnail client trusts: httpx
    reads SSL_CERT_FILE when the transport makes its TLS context."""
    cert_file, context = self_signed(tmp_path, ca=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    srv = KeepAliveServer(tls=context)
    yield srv
    srv.stop()


def test_tls_connections_are_reused_and_replaced_when_the_server_drops_them(
    tls_server: KeepAliveServer, arun: Any, qtbot: Any
) -> None:
    client = make_client(max_connections=2, timeout=5)
    try:

        async def go() -> list[httpx.Response]:
            return [await client.get(tls_server.url(f"/a{i}.jpg")) for i in range(4)]

        responses = arun(go())
        assert [served(r)[0] for r in responses] == [f"/a{i}.jpg" for i in range(4)]
        assert len({served(r)[1] for r in responses}) == 1
        assert tls_server.accepted == 1
        stream = idle_stream(client)
        assert stream.get_extra_info("socket").fileno() >= 0
        assert stream.get_extra_info("is_readable") is False  # idle and well: kept

        dropped = arun(client.get(tls_server.url("/linger.jpg")))
        assert served(dropped)[1] == served(responses[0])[1]
        assert idle_stream(client) is stream
        assert stream.get_extra_info("is_readable") is False
        tls_server.gate.set()  # the server closes the connection now, saying nothing
        qtbot.waitUntil(lambda: tls_server.closed == 1, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: stream.get_extra_info("is_readable"), timeout=WAIT_MS)

        after = arun(client.get(tls_server.url("/after.jpg")))
        assert served(after)[0] == "/after.jpg"
        assert served(after)[1] != served(dropped)[1]
        assert tls_server.accepted == 2
    finally:
        arun(client.aclose())


def test_configured_proxies_keep_httpx_own_transport(monkeypatch, arun):
    """httpx applies the environment's proxies only to a transport it builds itself."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    client = make_client(max_connections=2, timeout=5)
    try:
        assert not isinstance(client._transport, ThumbnailTransport)
        assert client._mounts  # requests are routed through the proxy
    finally:
        arun(client.aclose())
