"""Qt side of the thumbnail pipeline: turns decoded thumbnails into QPixmaps on the GUI thread,
keeps them in a byte-bounded memory cache, and tells the views which URLs became ready (batched).

Consumers ask for URLs on named channels (preview, details, grid, icons, pickers: that priority);
the union, in
that priority order, becomes the pipeline's wanted set, so rows scrolled away are cancelled.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import httpx
from PySide6.QtCore import QObject, QTimer
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QImage, QPixmap

from qamera_desktop.core.byte_lru import ByteLRU
from qamera_desktop.core.thumbnails import DecodedThumbnail, ThumbnailKey
from qamera_desktop.core.thumbnails.process_pipeline import open_pipeline

log = logging.getLogger(__name__)

Channel = Literal["preview", "details", "grid", "icons", "pickers"]
CHANNEL_ORDER: tuple[Channel, ...] = ("preview", "details", "grid", "icons", "pickers")
ThumbState = Literal["ready", "loading", "failed", "none"]


def _pixmap_cost(pixmap: QPixmap) -> int:
    return max(1, pixmap.width() * pixmap.height() * 4)


class ThumbnailLoader(QObject):
    """Emits `ready(urls)` a few times a second at most, never once per thumbnail."""

    ready = QtSignal(list)  # list[str] of URLs whose thumbnails arrived or failed

    def __init__(
        self,
        cache_dir: Path,
        *,
        memory_bytes: int = 128 * 2**20,  # ~400 thumbnails of 256 px: 8 screens of the grid
        transport: httpx.AsyncBaseTransport | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._pixmaps: ByteLRU[ThumbnailKey, QPixmap] = ByteLRU(memory_bytes, _pixmap_cost)
        self._failed: dict[ThumbnailKey, str] = {}
        # per channel, in priority order (dicts keep insertion order and remove in O(1))
        self._wanted: dict[Channel, dict[ThumbnailKey, None]] = {c: {} for c in CHANNEL_ORDER}
        # In worker processes (in this one when a test passes a transport): see process_pipeline.
        self._pipeline = open_pipeline(
            cache_dir, on_ready=self._on_ready, on_failed=self._on_failed, transport=transport
        )
        self._pending_urls: set[str] = set()
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(30)
        self._flush_timer.timeout.connect(self._flush)
        self._want_timer = QTimer(self)
        self._want_timer.setSingleShot(True)
        self._want_timer.setInterval(0)
        self._want_timer.timeout.connect(self._push_wanted)

    # -- reading -----------------------------------------------------------------------------
    def pixmap(self, url: str | None, size: int) -> QPixmap | None:
        if not url:
            return None
        return self._pixmaps.get(ThumbnailKey(url, size))

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
        """Replace what `channel` wants (most urgent first); cached and failed URLs are skipped."""
        keys: dict[ThumbnailKey, None] = {}
        for url in urls:
            if not url:
                continue
            key = ThumbnailKey(url, size)
            if key not in self._pixmaps and key not in self._failed:
                keys[key] = None
        if list(keys) != list(self._wanted[channel]):
            self._wanted[channel] = keys
            self._want_timer.start()

    def retry_failed(self) -> None:
        """Forget failures so that broken thumbnails are tried again (on an explicit refresh)."""
        self._failed.clear()
        self._pipeline.forget_failures()

    @property
    def worker_pids(self) -> list[int]:
        """The processes loading thumbnails for this loader (none when it is done in this one)."""
        return self._pipeline.worker_pids

    async def wait_started(self) -> None:
        """Until the pipeline's worker processes are up (they start with the loader)."""
        await self._pipeline.wait_started()

    async def aclose(self) -> None:
        self._want_timer.stop()
        self._flush_timer.stop()
        await self._pipeline.aclose()
        self._pixmaps.clear()  # the memory goes now, not whenever the QObject is collected

    # -- pipeline callbacks (on the GUI thread: the event loop runs there) ----------------------
    def _push_wanted(self) -> None:
        merged: list[ThumbnailKey] = []
        seen: set[ThumbnailKey] = set()
        for channel in CHANNEL_ORDER:
            for key in self._wanted[channel]:
                if key not in seen:
                    seen.add(key)
                    merged.append(key)
        try:
            self._pipeline.want(merged)
        except RuntimeError:  # no running loop (shutting down)
            log.debug("thumbnail pipeline not running; wanted set dropped")

    def _on_ready(self, key: ThumbnailKey, thumb: DecodedThumbnail) -> None:
        image = QImage(
            thumb.data, thumb.width, thumb.height, thumb.width * 3, QImage.Format.Format_RGB888
        )
        pixmap = QPixmap.fromImage(image)  # copies: the bytes may go away after this
        self._pixmaps.put(key, pixmap)
        self._done(key)

    def _on_failed(self, key: ThumbnailKey, reason: str) -> None:
        self._failed[key] = reason
        self._done(key)

    def _done(self, key: ThumbnailKey) -> None:
        for channel in CHANNEL_ORDER:
            self._wanted[channel].pop(key, None)
        self._pending_urls.add(key.url)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush(self) -> None:
        urls, self._pending_urls = list(self._pending_urls), set()
        if urls:
            self.ready.emit(urls)
