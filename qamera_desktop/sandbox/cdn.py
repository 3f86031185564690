"""Thumbnails, served like a CDN: `/cdn/<kind>/<id>.jpg`, rendered once and cached on disk.

Finished images are rendered by the worker when they complete (and lazily on first request for
seeded images or after a lost cache file), always into `<data dir>/cdn/v<N>/<kind>/<xx>/<id>.jpg` by
an atomic rename. Unfinished images get a neutral "rendering" placeholder, failed ones a "failed"
placeholder. Rendering runs in a small thread pool; concurrent requests for one id share one render.
Final thumbnails (a done image's, a catalogue record's) never change, so the most recently served
ones are also kept in memory (`MEMORY_BYTES`): a repeat request costs no thread hop, no status query
and no file read. In demo mode the sandbox shares the machine, or the process, with the app.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from qamera_desktop.sandbox import renderer
from qamera_desktop.sandbox.schema import DONE, FAILED
from qamera_desktop.sandbox.store import Store

RENDER_VERSION = 1
"""Bump when the renderer's output changes: old cache files are then ignored and ETags change."""

KINDS = ("images", "products", "models", "sceneries")
MEMORY_BYTES = 64 * 2**20

_RECORD_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
_FINAL = "public, max-age=31536000, immutable"
_PENDING = "no-cache"


@dataclass(frozen=True, slots=True)
class Thumbnail:
    data: bytes
    etag: str
    cache_control: str


class ThumbnailCache:
    def __init__(self, data_dir: Path, store: Store, executor: Executor) -> None:
        self.root = data_dir / "cdn" / f"v{RENDER_VERSION}"
        self._store = store
        self._executor = executor
        self._inflight: dict[tuple[str, str], asyncio.Future[bytes | None]] = {}
        self._memory: OrderedDict[tuple[str, str], Thumbnail] = OrderedDict()  # LRU first
        self._memory_bytes = 0

    def path_for(self, kind: str, record_id: str) -> Path:
        return self.root / kind / record_id[-2:] / f"{record_id}.jpg"

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".render-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _renderer(self, kind: str, record_id: str) -> Callable[[], bytes] | None:
        """A function that renders the record, or None if there is no such record."""
        if kind == "images":
            spec = self._store.shot_spec(record_id)
            return None if spec is None else lambda: renderer.render_shot(spec)
        if kind == "products":
            product = self._store.product_look(record_id)
            return (
                None
                if product is None
                else lambda: renderer.render_product_thumb(record_id, product)
            )
        if kind == "models":
            model = self._store.model_look(record_id)
            return None if model is None else lambda: renderer.render_model_thumb(record_id, model)
        if kind == "sceneries":
            scenery = self._store.scenery_look(record_id)
            return (
                None
                if scenery is None
                else lambda: renderer.render_scenery_thumb(record_id, scenery)
            )
        return None

    def render_to_cache(self, kind: str, record_id: str) -> bytes | None:
        """Render a record and store its JPEG (blocking; call it from a worker thread)."""
        render = self._renderer(kind, record_id)
        if render is None:
            return None
        data = render()
        self._write(self.path_for(kind, record_id), data)
        return data

    def _read_or_render(self, kind: str, record_id: str) -> bytes | None:
        path = self.path_for(kind, record_id)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return self.render_to_cache(kind, record_id)

    async def _final_bytes(self, kind: str, record_id: str) -> bytes | None:
        key = (kind, record_id)
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._read_or_render, kind, record_id)
        self._inflight[key] = future
        try:
            return await asyncio.shield(future)
        finally:
            if future.done():
                self._inflight.pop(key, None)
            else:
                future.add_done_callback(lambda _f: self._inflight.pop(key, None))

    async def get(self, kind: str, record_id: str) -> Thumbnail | None:
        """The thumbnail of a record, or None for an unknown kind or id."""
        if kind not in KINDS or not _RECORD_ID.fullmatch(record_id):
            return None
        remembered = self._memory.get((kind, record_id))
        if remembered is not None:
            self._memory.move_to_end((kind, record_id))
            return remembered
        if kind == "images":
            status = await run_in_threadpool(self._store.image_status, record_id)
            if status is None:
                return None
            if status == FAILED:
                return Thumbnail(renderer.render_placeholder("failed"), '"failed-v1"', _FINAL)
            if status != DONE:
                return Thumbnail(renderer.render_placeholder("pending"), '"pending-v1"', _PENDING)
        data = await self._final_bytes(kind, record_id)
        if data is None:
            return None
        thumb = Thumbnail(data, f'"{record_id}-v{RENDER_VERSION}"', _FINAL)
        self._remember((kind, record_id), thumb)
        return thumb

    def _remember(self, key: tuple[str, str], thumb: Thumbnail) -> None:
        if key in self._memory or len(thumb.data) > MEMORY_BYTES // 8:
            return
        self._memory[key] = thumb
        self._memory_bytes += len(thumb.data)
        while self._memory_bytes > MEMORY_BYTES:
            _, oldest = self._memory.popitem(last=False)
            self._memory_bytes -= len(oldest.data)
