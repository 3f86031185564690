"""`download_to`: one image from its URL into a file, as served, complete or not at all.

For a single file whose name is known beforehand (a drag out of the window, say). The export
itself downloads into memory first (exporter.py), because a JPEG's XMP goes into its header and
the file name's extension follows the bytes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Final

import httpx

from qamera_desktop.core.export.files import in_thread_to_the_end, part_path
from qamera_desktop.core.export.formats import SNIFF_BYTES, sniff
from qamera_desktop.core.http_download import DownloadError, stream_body

MAX_IMAGE_BYTES: Final = 200 * 2**20
"""No generated image is near this; a body past it is not an image worth a file."""

DOWNLOAD_TIME_LIMIT: Final = 300.0
"""Seconds for one whole download, however slowly the bytes trickle in."""


def not_an_image(head: bytes, content_type: str | None) -> DownloadError:
    """The error for a body whose first bytes are no image format known here."""
    served = f"served as {content_type}" if content_type else "no content type"
    return DownloadError(f"not an image ({served})")


def _finish(file: BinaryIO, part: Path, destination: Path) -> None:
    """Blocking: flush to disk, close, rename into place."""
    file.flush()
    os.fsync(file.fileno())
    file.close()
    os.replace(part, destination)


async def download_to(
    http: httpx.AsyncClient,
    url: str,
    destination: Path,
    *,
    max_bytes: int = MAX_IMAGE_BYTES,
    time_limit: float = DOWNLOAD_TIME_LIMIT,
) -> Path:
    """Download the image at `url` to `destination`, streamed to `<destination>.part`, flushed
    to disk and renamed, so `destination` only ever holds a whole image. Returns `destination`.

    `http` should be a client from `make_download_client` (no credentials: the CDN needs none,
    and the API key must never reach it). Raises DownloadError with a readable reason (HTTP
    status, timeout, size cap, a body that is not an image, ...); on any failure or cancellation
    the `.part` file is removed and `destination` is left as it was.
    """
    part = part_path(destination)
    file = part.open("wb")
    head = bytearray()

    def write(chunk: bytes) -> None:
        if len(head) < SNIFF_BYTES:
            head.extend(chunk[: SNIFF_BYTES - len(head)])
        file.write(chunk)

    try:
        served = await stream_body(http, url, write, max_bytes=max_bytes, time_limit=time_limit)
        if sniff(bytes(head)) is None:
            raise not_an_image(bytes(head), served.content_type)
        await in_thread_to_the_end(_finish, file, part, destination)
    except BaseException:
        file.close()
        part.unlink(missing_ok=True)
        raise
    return destination
