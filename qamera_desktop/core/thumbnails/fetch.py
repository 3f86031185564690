"""The thumbnail pipeline's CDN client and download, by the rules of core/http_download.py.

Those rules are shared with the export and stated there once: http(s) URLs only, a client that
never carries the API key or any other credentials (whatever server a redirect leads to), a size
cap, a time limit on the whole download, and every failure as `DownloadError` with one readable
reason. Here only what is the thumbnails' own: their user agent, and the body kept in memory.
"""

from __future__ import annotations

from typing import Final

import httpx

from qamera_desktop.core.http_download import make_download_client, stream_body

USER_AGENT: Final = "QameraDesktop-thumbnails"


def make_client(
    *, max_connections: int, timeout: float, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The thumbnail client: `max_connections` connections, all kept alive, no credentials."""
    return make_download_client(
        max_connections=max_connections,
        timeout=timeout,
        user_agent=USER_AGENT,
        transport=transport,
    )


async def fetch_bytes(
    client: httpx.AsyncClient, url: str, *, max_bytes: int, time_limit: float
) -> bytes:
    """GET `url` into memory: at most `max_bytes` of body, `time_limit` seconds in all.

    Raises DownloadError with a readable reason for every failure; CancelledError passes through.
    """
    chunks: list[bytes] = []
    await stream_body(client, url, chunks.append, max_bytes=max_bytes, time_limit=time_limit)
    return b"".join(chunks)
