"""Qt side of the thumbnail pipeline: turns decoded thumbnails into QPixmaps on the GUI thread,
keeps them in a byte-bounded memory cache, and tells the views which URLs became ready.

The pipeline runs in a worker process (core/thumbnails/worker_process.py), which hands over its
results in batches; each batch becomes one queued signal, so the views hear of a fast fill about
once a frame. The pixels are converted to the display format on the thread that receives them:
the GUI thread only makes the QPixmap.

Consumers ask for URLs on named channels (preview, details, grid, icons, pickers: that priority);
the union, in that priority order, becomes the pipeline's wanted set, so rows scrolled away are
cancelled. Only what is not in memory is wanted, and not what failed: the loader is the one place
that remembers failures, until `retry_failed()`. What a channel still shows is asked again when
its failure is forgotten, and when the channel says it shows it again after its pixmap was pushed
out of memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from PySide6.QtCore import QObject, QTimer
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QImage, QPixmap

from qamera_desktop.core.byte_lru import ByteLRU
from qamera_desktop.core.thumbnails.records import DecodedThumbnail, ThumbnailKey
from qamera_desktop.core.thumbnails.thumbnail_thread import Result, ThumbnailThread
from qamera_desktop.core.thumbnails.worker_process import ThumbnailProcess

if TYPE_CHECKING:
    import httpx

Channel = Literal["preview", "details", "grid", "icons", "pickers"]
CHANNEL_ORDER: tuple[Channel, ...] = ("preview", "details", "grid", "icons", "pickers")
ThumbState = Literal["ready", "loading", "failed", "none"]
SIZE_STEP = 64  # every consumer asks for multiples of this (grid_geometry.REQUEST_STEP, the loupe)


def _pixmap_cost(pixmap: QPixmap) -> int:
    return max(1, pixmap.width() * pixmap.height() * 4)


class ThumbnailLoader(QObject):
    """Emits `ready(urls)` once per batch of arrivals, never once per thumbnail."""

    ready = QtSignal(list)  # list[str] of URLs whose thumbnails arrived or failed
    # from the thumbnail thread: list[tuple[ThumbnailKey, QImage | str]] (queued to this thread)
    _arrived = QtSignal(list)

    def __init__(
        self,
        cache_dir: Path,
        *,
        memory_bytes: int = 128 * 2**20,  # ~400 thumbnails of 256 px: 8 screens of the grid
        transport: httpx.AsyncBaseTransport | None = None,
        parent: QObject | None = None,
        **pipeline_options: Any,
    ) -> None:
        """`pipeline_options` go to ThumbnailPipeline (connections, decode workers...)."""
        super().__init__(parent)
        self._pixmaps: ByteLRU[ThumbnailKey, QPixmap] = ByteLRU(memory_bytes, _pixmap_cost)
        self._failed: dict[ThumbnailKey, str] = {}
        # per channel, in priority order (dicts keep insertion order and remove in O(1))
        self._wanted: dict[Channel, dict[ThumbnailKey, None]] = {c: {} for c in CHANNEL_ORDER}
        self._asked: set[ThumbnailKey] = set()  # sent to the pipeline and not arrived yet
        self._arrived.connect(self._on_arrived)  # emitted on another thread: a queued connection
        # In a worker process (see worker_process.py); on a thread here only for a transport of
        # the caller's, which cannot cross to another process (tests of network faults).
        self._pipeline: ThumbnailProcess | ThumbnailThread = (
            ThumbnailProcess(cache_dir, deliver=self._deliver, **pipeline_options)
            if transport is None
            else ThumbnailThread(
                cache_dir, deliver=self._deliver, transport=transport, **pipeline_options
            )
        )
        self._want_timer = QTimer(self)
        self._want_timer.setSingleShot(True)
        self._want_timer.setInterval(0)
        self._want_timer.timeout.connect(self._push_wanted)

    # -- reading -----------------------------------------------------------------------------
    def pixmap(self, url: str | None, size: int) -> QPixmap | None:
        if not url:
            return None
        return self._pixmaps.get(ThumbnailKey(url, size))

    def best_pixmap(self, url: str | None, size: int) -> QPixmap | None:
        """The largest pixmap of `url` in memory at `size` or smaller (the grid's, the details'),
        to show while a larger one loads. Request sizes are multiples of SIZE_STEP."""
        if not url:
            return None
        for smaller in range(size - size % SIZE_STEP, 0, -SIZE_STEP):
            key = ThumbnailKey(url, smaller)
            if key in self._pixmaps:
                return self._pixmaps.get(key)
        return None

    def state(self, url: str | None, size: int) -> ThumbState:
        if not url:
            return "failed"
        key = ThumbnailKey(url, size)
        if key in self._pixmaps:
            return "ready"
        if key in self._failed:
            return "failed"
        return "loading" if any(key in keys for keys in self._wanted.values()) else "none"

    def failure(self, url: str, size: int) -> str | None:
        return self._failed.get(ThumbnailKey(url, size))

    @property
    def memory_bytes(self) -> int:
        return self._pixmaps.total_bytes

    # -- asking ------------------------------------------------------------------------------
    def set_wanted(self, channel: Channel, urls: Sequence[str | None], size: int) -> None:
        """Replace what `channel` shows (most urgent first). It stays wanted until the channel
        says otherwise: what is in memory or failed is not asked of the pipeline meanwhile, and
        is asked again once it is not (evicted from memory, or its failure forgotten)."""
        keys = {ThumbnailKey(url, size): None for url in urls if url}
        if list(keys) != list(self._wanted[channel]) or any(map(self._missing, keys)):
            self._wanted[channel] = keys
            self._want_timer.start()

    def _missing(self, key: ThumbnailKey) -> bool:
        """Neither in memory, nor failed, nor asked of the pipeline (pushed out of memory)."""
        return key not in self._pixmaps and key not in self._failed and key not in self._asked

    def retry_failed(self) -> None:
        """Forget failures, so that the broken thumbnails every channel shows are tried again
        (an explicit refresh, an account's server reached, a connection back)."""
        if self._failed:
            self._failed.clear()
            self._want_timer.start()

    @property
    def worker_pid(self) -> int | None:
        """The worker process loading the thumbnails; None when they load in this process."""
        pipeline = self._pipeline
        return pipeline.pid if isinstance(pipeline, ThumbnailProcess) else None

    async def aclose(self) -> None:
        self._want_timer.stop()
        await asyncio.to_thread(self._pipeline.close)  # it waits for the worker to stop
        self._pixmaps.clear()  # the memory goes now, not whenever the QObject is collected

    # -- the pipeline's side ---------------------------------------------------------------------
    def _push_wanted(self) -> None:
        merged: dict[ThumbnailKey, None] = {}
        for channel in CHANNEL_ORDER:
            merged.update(self._wanted[channel])
        asked = [key for key in merged if key not in self._pixmaps and key not in self._failed]
        self._asked = set(asked)
        self._pipeline.want(asked)

    def _deliver(self, batch: list[Result]) -> None:
        """On the thumbnail thread: pixels in the format a pixmap is made from, then one signal."""
        items: list[tuple[ThumbnailKey, QImage | str]] = []
        for key, result in batch:
            if isinstance(result, DecodedThumbnail):
                image = QImage(
                    result.data,
                    result.width,
                    result.height,
                    result.stride,
                    QImage.Format.Format_RGB888,
                )
                items.append((key, image.convertToFormat(QImage.Format.Format_RGB32)))  # a copy
            else:
                items.append((key, result))
        self._arrived.emit(items)

    def _on_arrived(self, items: list[tuple[ThumbnailKey, QImage | str]]) -> None:
        urls: set[str] = set()
        for key, result in items:
            if isinstance(result, QImage):
                self._pixmaps.put(key, QPixmap.fromImage(result))
            else:
                self._failed[key] = result
            self._asked.discard(key)
            urls.add(key.url)
        self.ready.emit(list(urls))
