"""The images themselves (not thumbnails) as files in a cache folder, each downloaded once.

A drag out of the grid drops real files and the contact sheet decodes the images at print size:
both need the image's own file, and both find it here the second time. A file is named as the
export names it (`<name>__<id>.jpg`, core/export/file_names.py), so what a drag drops reads the
same as an export; it is downloaded with the export engine's `download_to` (credential-free
client, size and time caps, `.part` then rename), so a name in this folder always holds a whole
image. Generated images never change once done, so a file here never goes stale.

Plain Python and asyncio (no Qt): run from a `ThreadJob`'s loop, never the GUI thread's.
The folder is kept under `MAX_CACHE_BYTES` by `prune` (least recently used first).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

from qamera_desktop.api.records import Image
from qamera_desktop.core.export.exporter import download_to
from qamera_desktop.core.export.file_names import file_stem
from qamera_desktop.core.export.files import PART_SUFFIX
from qamera_desktop.core.export.formats import extension_for
from qamera_desktop.core.http_download import DownloadError

log = logging.getLogger(__name__)

MAX_CACHE_BYTES: Final = 2 * 2**30
"""The originals kept on disk at most (the least recently used go first)."""

FETCH_CONCURRENCY: Final = 8
DOWNLOADING_SUFFIX: Final = ".download"


def cache_path(folder: Path, image: Image) -> Path:
    """Where `image` is (or will be) in the cache: the export's name for it."""
    return folder / (file_stem(image.name, image.id) + extension_for(None, image.thumbnail))


def cached(folder: Path, image: Image) -> Path | None:
    """The complete file of `image` if the cache has it (a `.part` never counts)."""
    path = cache_path(folder, image)
    return path if path.is_file() else None


async def original(http: httpx.AsyncClient, folder: Path, image: Image) -> Path:
    """The file of `image`: from the cache (marked as just used), else downloaded into it.

    Raises DownloadError with a readable reason (no URL, HTTP status, not an image...)."""
    if not image.thumbnail:
        raise DownloadError("the listing gives no URL for it")
    path = cache_path(folder, image)
    if await asyncio.to_thread(_touch, path):
        return path
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    # a name of its own for each download, renamed into place once complete: two jobs fetching
    # the same image (a drag during a contact sheet) each write a whole file, never one file
    unique = path.with_name(f"{path.name}.{secrets.token_hex(4)}{DOWNLOADING_SUFFIX}")
    try:
        await download_to(http, image.thumbnail, unique)
        await asyncio.to_thread(os.replace, unique, path)
    except BaseException:
        unique.unlink(missing_ok=True)
        raise
    return path


def _touch(path: Path) -> bool:
    """Mark a cached file as used now (for `prune`); False when there is none."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


@dataclass
class Fetched:
    """What `fetch_all` got: a file per image id, a reason per image that failed."""

    files: dict[str, Path] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    cancelled: bool = False


async def fetch_all(
    http: httpx.AsyncClient,
    folder: Path,
    images: Sequence[Image],
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    concurrency: int = FETCH_CONCURRENCY,
) -> Fetched:
    """The files of `images` (each id once), `concurrency` downloads at a time. `progress(done,
    total)` after each image; `cancel` stops the downloads still to start or in flight (what is
    complete stays in the cache)."""
    unique = list({image.id: image for image in images}.values())
    fetched = Fetched()
    gate = asyncio.Semaphore(concurrency)

    async def one(image: Image) -> None:
        async with gate:
            if cancel is not None and cancel.is_set():
                return
            try:
                fetched.files[image.id] = await original(http, folder, image)
            except DownloadError as exc:
                fetched.failures[image.id] = exc.reason
            except OSError as exc:
                fetched.failures[image.id] = f"cannot write to the cache ({exc.strerror or exc})"
        if progress is not None:
            progress(len(fetched.files) + len(fetched.failures), len(unique))

    tasks = [asyncio.create_task(one(image)) for image in unique]
    watcher = asyncio.create_task(_cancel_when_set(cancel, tasks)) if cancel else None
    try:
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        if watcher is not None:
            watcher.cancel()
    fetched.cancelled = cancel is not None and cancel.is_set()
    return fetched


async def _cancel_when_set(cancel: threading.Event, tasks: Iterable[asyncio.Task[None]]) -> None:
    while not cancel.is_set():  # noqa: ASYNC110 - a threading.Event cannot be awaited
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()


def prune(folder: Path, max_bytes: int = MAX_CACHE_BYTES) -> int:
    """Delete the least recently used files until the folder holds at most `max_bytes`, and
    the unfinished downloads a kill left. Blocking (a thread), and only while no job fetches
    into the folder (at start). Returns how many files were deleted."""
    try:
        entries = [entry for entry in os.scandir(folder) if entry.is_file()]
    except FileNotFoundError:
        return 0
    deleted = 0
    kept: list[tuple[float, int, str]] = []
    for entry in entries:
        if entry.name.endswith((PART_SUFFIX, DOWNLOADING_SUFFIX)):
            Path(entry.path).unlink(missing_ok=True)
            deleted += 1
            continue
        stat = entry.stat()
        kept.append((stat.st_mtime, stat.st_size, entry.path))
    total = sum(size for _, size, _ in kept)
    for _, size, path in sorted(kept):
        if total <= max_bytes:
            break
        Path(path).unlink(missing_ok=True)
        total -= size
        deleted += 1
    if deleted:
        log.info("Pruned %d files from %s", deleted, folder)
    return deleted
