"""The thumbnail client's HTTP transport: httpx's own, over a network backend that answers
httpcore's "is this idle connection readable?" question cheaply.

httpcore asks that of every idle connection each time it assigns a request to a connection
(~35 times per thumbnail with six connections). Its anyio backend answers by rebuilding anyio's
dict of socket attributes, which calls getpeername(), every time: a quarter of the event loop
thread's work while the grid fills (tests/perf/bench_grid.py). Here each stream remembers its
socket once and polls it. Everything else (connect, TLS, reads, writes, timeouts, errors) is
httpcore's anyio backend, unchanged.
"""

from __future__ import annotations

import select
import socket
import ssl
import sys
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

# httpcore's SOCKET_OPTION
_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


def socket_readable(sock: socket.socket | None) -> bool:
    """Whether a read would not block (data, or the end of the stream). A socket that is gone
    counts as readable: the next read says so."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    if sys.platform == "win32" or not hasattr(select, "poll"):  # pragma: no cover (Windows)
        readable, _, _ = select.select([fd], [], [], 0)
        return bool(readable)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


# The signatures are httpcore's (a `timeout` argument is its interface, not a choice here).
class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return socket_readable(self._socket)
        if info == "socket":
            return self._socket
        return self._inner.get_extra_info(info)


class QuickReadableBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend, with streams that answer "is_readable" from a remembered socket."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(
            await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover (the thumbnail client is TCP only)
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class ThumbnailTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (TLS verified as httpx does it), over QuickReadableBackend."""

    def __init__(self, *, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        # The one change: the connection pool gets the backend. AsyncHTTPTransport offers no
        # parameter for it, so its pool is built again with the same settings.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=QuickReadableBackend(),
        )

    @property
    def network_backend(self) -> httpcore.AsyncNetworkBackend:
        backend: httpcore.AsyncNetworkBackend = self._pool._network_backend
        return backend
