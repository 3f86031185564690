"""The thumbnail pipeline on a background thread of its own, with its own plain asyncio loop.

It runs in the thumbnail worker process (worker_process.py), and in the app itself only when the
worker cannot run. Its owner says what it wants (`want()`, any thread, cheap) and is handed the
results in batches (`deliver(batch)`, called on the thumbnail thread). The same on every OS.

A batch holds everything that finished within `batch_seconds` of the first result in it, so a
fast fill costs the GUI one event per frame or so, not one per thumbnail.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .records import DecodedThumbnail, ThumbnailKey

if TYPE_CHECKING:
    from .pipeline import ThumbnailPipeline

log = logging.getLogger(__name__)

# (key, pixels) when it loaded, (key, reason) when it failed
Result = tuple[ThumbnailKey, DecodedThumbnail | str]
Deliver = Callable[[list[Result]], None]

BATCH_SECONDS: Final = 0.016  # about a frame
CLOSE_SECONDS: Final = 10.0


class ThumbnailThread:
    """Runs a ThumbnailPipeline on a daemon thread. `want()` and `close()` may be called from any
    thread; `deliver` is called on the thumbnail thread (what it raises is logged by the loop),
    never after `close()` has returned. Keyword arguments go to ThumbnailPipeline."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        deliver: Deliver,
        batch_seconds: float = BATCH_SECONDS,
        **pipeline_options: Any,
    ) -> None:
        self._deliver = deliver
        self._batch_seconds = batch_seconds
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._wanted: list[ThumbnailKey] | None = None  # the latest want(), not yet applied
        self._batch: list[Result] = []
        self._closing = False
        self._stop = asyncio.Event()
        self._pipeline: ThumbnailPipeline | None = None
        # The pipeline (its httpx client, its SSL context, its pool) is built on the thread too:
        # none of that costs the caller's thread anything.
        self._thread = threading.Thread(
            target=self._run, args=(cache_dir, pipeline_options), name="thumbnails", daemon=True
        )
        self._thread.start()

    def want(self, keys: Sequence[ThumbnailKey]) -> None:
        """Replace the wanted keys, most urgent first. Calls that come faster than the thread
        takes them are coalesced: only the latest list counts."""
        with self._lock:
            if self._closing:
                return
            already_posted = self._wanted is not None
            self._wanted = list(keys)
            if not already_posted:
                self._loop.call_soon_threadsafe(self._apply_wanted)

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        """Cancel everything, close the pipeline and end the thread (blocking)."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("Thumbnail thread did not close in %.0f s", timeout)

    # ------------------------------------------------------------------ the thumbnail thread
    def _run(self, cache_dir: Path, options: dict[str, Any]) -> None:
        try:
            from .pipeline import ThumbnailPipeline  # Pillow: only where thumbnails are made

            self._pipeline = ThumbnailPipeline(
                cache_dir, on_ready=self._add, on_failed=self._add, **options
            )
        except Exception:  # the loop still runs, empty, until close()
            log.exception("The thumbnail pipeline could not start; thumbnails stay empty")
        try:
            self._loop.run_until_complete(self._stop.wait())
            if self._pipeline is not None:
                self._loop.run_until_complete(self._pipeline.aclose())
        finally:
            self._loop.close()

    def _apply_wanted(self) -> None:
        with self._lock:
            keys, self._wanted = self._wanted, None
        if keys is not None and self._pipeline is not None:
            self._pipeline.want(keys)

    def _add(self, key: ThumbnailKey, result: DecodedThumbnail | str) -> None:
        if not self._batch:
            self._loop.call_later(self._batch_seconds, self._flush)
        self._batch.append((key, result))

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if not self._closing:
            self._deliver(batch)
