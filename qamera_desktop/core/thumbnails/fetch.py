"""Downloading thumbnail bytes from the CDN: the client settings, URL checks, size cap, errors.

The thumbnail client is separate from the API client on purpose: it never carries the API key or
any other credentials, whatever server a redirect leads to.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Final
from urllib.parse import urlsplit

import httpx

from .records import ThumbnailError

MAX_REDIRECTS: Final = 3
_ALLOWED_SCHEMES: Final = frozenset({"http", "https"})
_FORBIDDEN_HEADERS: Final = ("authorization", "proxy-authorization", "x-api-key", "cookie")
USER_AGENT: Final = "QameraDesktop-thumbnails"


def url_problem(url: str) -> str | None:
    """Why `url` cannot be fetched (a readable reason), or None when it is a usable http(s) URL.

    urllib's parser, not httpx.URL: this runs on the loop thread for every new key, and is ~30x
    cheaper. httpx still has the last word when the request is built ("invalid URL").
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "invalid URL"
    scheme = parts.scheme.lower()
    if scheme not in _ALLOWED_SCHEMES:
        return f"unsupported URL scheme ({scheme or 'none'})"
    if not host:
        return "invalid URL (no host)"
    return None


async def _strip_credentials(request: httpx.Request) -> None:
    """Last line of defence: no request of this client ever carries credentials."""
    for name in _FORBIDDEN_HEADERS:
        if name in request.headers:
            del request.headers[name]


def make_client(
    *,
    max_connections: int,
    timeout: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The thumbnail client: bounded connections, explicit timeouts, TLS verified, no auth."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return httpx.AsyncClient(
        auth=None,
        headers={"User-Agent": USER_AGENT, "Accept": "image/*"},
        timeout=httpx.Timeout(timeout),
        limits=limits,
        verify=True,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        transport=transport,
        event_hooks={"request": [_strip_credentials]},
    )


async def fetch_bytes(
    client: httpx.AsyncClient, url: str, *, max_bytes: int, time_limit: float
) -> bytes:
    """GET `url` into memory: at most `max_bytes` of (decoded) body, `time_limit` seconds in all.

    Raises ThumbnailError with a readable reason for every failure; CancelledError passes through.
    """
    try:
        async with asyncio.timeout(time_limit):
            return await _fetch(client, url, max_bytes)
    except ThumbnailError:
        raise
    except TimeoutError:
        raise ThumbnailError("timed out") from None
    except httpx.TimeoutException:
        raise ThumbnailError("timed out") from None
    except httpx.TooManyRedirects:
        raise ThumbnailError("too many redirects") from None
    except httpx.UnsupportedProtocol:
        raise ThumbnailError("redirected to an unsupported URL") from None
    except httpx.InvalidURL:
        raise ThumbnailError("invalid URL") from None
    except httpx.ConnectError as exc:
        raise ThumbnailError(f"cannot connect ({_short(exc)})") from None
    except httpx.HTTPError as exc:
        raise ThumbnailError(f"network error ({_short(exc)})") from None


async def _fetch(client: httpx.AsyncClient, url: str, max_bytes: int) -> bytes:
    async with client.stream("GET", url) as response:
        if not response.is_success:
            raise ThumbnailError(f"HTTP {response.status_code}")
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise ThumbnailError(f"download too large ({int(declared)} bytes)")
        body = response.aiter_bytes()
        try:
            return await _read_capped(body, max_bytes)
        finally:
            # Stopping early leaves httpx's generators suspended. Close the connection first, so
            # that closing them (now, or when they are collected) has nothing left to await.
            await response.aclose()
            if isinstance(body, AsyncGenerator):
                await body.aclose()


async def _read_capped(body: AsyncIterator[bytes], max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    received = 0
    async for chunk in body:
        received += len(chunk)
        if received > max_bytes:
            raise ThumbnailError(f"download too large (over {max_bytes} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def _short(exc: BaseException) -> str:
    """A one-line reason from an exception chain: the OS or TLS cause when there is one."""
    link: BaseException | None = exc
    while link is not None:
        if isinstance(link, ssl.SSLCertVerificationError):
            return f"certificate not trusted: {link.verify_message}"
        if isinstance(link, ssl.SSLError):
            return f"TLS error: {getattr(link, 'reason', None) or link.strerror or link}"
        if isinstance(link, socket.gaierror) and link.strerror:
            return f"{link.strerror}"  # "Name or service not known"
        if isinstance(link, OSError) and link.errno and link.errno > 0:
            return os.strerror(link.errno)  # "Connection refused"
        link = link.__cause__ or link.__context__
    return (str(exc).strip() or type(exc).__name__)[:120]
