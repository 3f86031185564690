"""The export engine: the designer's images, downloaded into a folder with their decisions.

`export_images(items, folder)` downloads each image's URL (a few at a time over one client that
never sends credentials), writes the file as served under a name made from the image's name and
id (file_names.py), with the review as XMP (inside a JPEG, beside anything else: xmp.py), and
writes `manifest.csv` and `manifest.json` (manifest.py) with one row per image, failed or not.

- Files appear complete or not at all (written to `.part`, flushed, renamed: files.py), so a kill
  never leaves half an image under its final name.
- Exporting again into the same folder skips the images whose file is already there (complete by
  the rule above) and writes the rest: a cancelled or interrupted export resumes where it stopped;
  the manifests are rewritten for every item.
- A failed image (HTTP error, a body that is not an image, a reset connection, a timeout, a disk
  error) is recorded with its reason and the export goes on.
- Cancelling (the `cancel` event, set from any thread and seen within `CANCEL_POLL_SECONDS`, or
  cancelling the task) stops the export: downloads in flight are dropped, a file being renamed
  into place finishes, the manifests still describe what was done. The event gives
  `ExportResult(cancelled=True)`; a cancelled task writes the manifests and then raises
  CancelledError as usual.
- Plain asyncio, no Qt: the window runs it with `asyncio.run()` on a worker thread (so the GUI
  thread never downloads), the headless `qamera-desktop export` on the main thread. `progress` is
  called on the export's loop, at most every `PROGRESS_INTERVAL` seconds and once at the end.

An image is downloaded into memory before its file is written: a JPEG's XMP goes into its header,
and the file's extension follows what the bytes are, known only once they arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import httpx

from qamera_desktop import __version__
from qamera_desktop.api.client import QameraClient
from qamera_desktop.api.records import Image, Product, Progress
from qamera_desktop.core.export.download import (
    DOWNLOAD_TIME_LIMIT,
    MAX_IMAGE_BYTES,
    download_to,
    not_an_image,
)
from qamera_desktop.core.export.file_names import file_stem
from qamera_desktop.core.export.files import PART_SUFFIX, in_thread_to_the_end, write_atomically
from qamera_desktop.core.export.formats import (
    EXTENSION,
    IMAGE_EXTENSIONS,
    SNIFF_BYTES,
    ImageFormat,
    sniff,
)
from qamera_desktop.core.export.manifest import (
    MANIFEST_CSV,
    MANIFEST_JSON,
    ManifestEntry,
    Outcome,
    write_manifest,
)
from qamera_desktop.core.export.records import (
    ExportFailure,
    ExportItem,
    ExportProgress,
    ExportResult,
    ExportScope,
)
from qamera_desktop.core.export.xmp import NotAJpegError, embed_in_jpeg, sidecar_path, xmp_packet
from qamera_desktop.core.http_download import DownloadError, make_download_client, stream_body
from qamera_desktop.core.review import BLANK, Flag, Review
from qamera_desktop.core.shoots import Shoot

__all__ = [
    "DEFAULT_CONCURRENCY",
    "ExportFailure",
    "ExportItem",
    "ExportProgress",
    "ExportResult",
    "ExportScope",
    "download_to",
    "export_images",
    "export_items",
    "in_scope",
    "make_export_client",
    "product_index",
    "select_images",
]

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY: Final = 8
PROGRESS_INTERVAL: Final = 0.05
CANCEL_POLL_SECONDS: Final = 0.05
REQUEST_TIMEOUT: Final = 30.0
USER_AGENT: Final = f"QameraDesktop/{__version__} export"

ProgressCallback = Callable[[ExportProgress], None]


# -- what to export ----------------------------------------------------------------------------
def in_scope(review: Review, scope: ExportScope) -> bool:
    """Whether a review belongs to the scope (whatever the image's status)."""
    if scope is ExportScope.PICKS:
        return review.flag is Flag.PICK
    if scope is ExportScope.REJECTS:
        return review.flag is Flag.REJECT
    if scope is ExportScope.REVIEWED:
        return not review.is_blank
    return True


def select_images(
    images: Sequence[Image], reviews: Mapping[str, Review], scope: ExportScope
) -> list[Image]:
    """The images of `scope`, in the listing's order, each once.

    Only finished (done) images are selected: an image still being generated, or one whose
    generation failed, has no file to export, and leaving it out keeps "everything was written"
    true of a complete export. (Items given to `export_images` that are not done are recorded as
    failures with the reason, never downloaded.)
    """
    seen: set[str] = set()
    selected: list[Image] = []
    for image in images:
        if image.id in seen:
            continue
        seen.add(image.id)
        if image.is_done and in_scope(reviews.get(image.id, BLANK), scope):
            selected.append(image)
    return selected


def export_items(
    images: Iterable[Image],
    reviews: Mapping[str, Review],
    products: Mapping[str, Product] | None = None,
    shoots: Mapping[str, Shoot] | None = None,
) -> list[ExportItem]:
    """The items for `images`: each with its review, and its product and shoot when known
    (`products`: image id -> product, from `product_index`; `shoots`: image id -> shoot, from
    `core.shoot_lineage.shoot_index`)."""
    products = products or {}
    shoots = shoots or {}
    return [
        ExportItem(
            image,
            reviews.get(image.id, BLANK),
            products.get(image.id),
            shoots.get(image.id),
        )
        for image in images
    ]


async def product_index(
    client: QameraClient, products: Sequence[Product] | None = None
) -> dict[str, Product]:
    """Image id -> its product, from each product's listing (one request per product; the
    listing of every image does not say which product an image shows). `products` defaults to
    every product of the account."""
    if products is None:
        products = await client.list_products()
    async with asyncio.TaskGroup() as group:
        listings = [group.create_task(client.list_images(product_id=p.id)) for p in products]
    index: dict[str, Product] = {}
    for product, listing in zip(products, listings, strict=True):
        for image in listing.result():
            index.setdefault(image.id, product)
    return index


def make_export_client(
    concurrency: int = DEFAULT_CONCURRENCY, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The download client of an export: a connection per concurrent download, kept alive (the
    CDN is often 30-80 ms away: new connections would cost more than the files), no credentials."""
    return make_download_client(
        max_connections=concurrency,
        timeout=REQUEST_TIMEOUT,
        user_agent=USER_AGENT,
        transport=transport,
    )


# -- the engine --------------------------------------------------------------------------------
async def export_images(
    items: Sequence[ExportItem],
    folder: Path,
    *,
    http: httpx.AsyncClient | None = None,
    progress: ProgressCallback | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    cancel: threading.Event | None = None,
) -> ExportResult:
    """Export `items` into `folder` (created if missing); see the module docstring.

    `http`: a client from `make_export_client` (or `make_download_client`), left open; None
    makes one with `concurrency` connections and closes it. Raises OSError only when the folder
    itself cannot be made, read or written (the manifests); a single image's failure is in the
    result's `failures`.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    folder = Path(folder)
    client = http if http is not None else make_export_client(concurrency)
    try:
        present = await asyncio.to_thread(_prepare_folder, folder)
        run = _Run(tuple(items), folder, client, present, progress)
        return await run.execute(concurrency, cancel)
    finally:
        if http is None:
            await client.aclose()


def _prepare_folder(folder: Path) -> frozenset[str]:
    """Make the folder; the names of the files in it."""
    folder.mkdir(parents=True, exist_ok=True)
    with os.scandir(folder) as entries:
        return frozenset(entry.name for entry in entries)


@dataclass
class _Tally:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    bytes_written: int = 0
    last: str = ""


@dataclass(frozen=True, slots=True)
class _Downloaded:
    """An image in memory, on its way into its file."""

    index: int
    target: Path
    kind: ImageFormat
    body: bytes


@dataclass
class _Run:
    """One export: the items, what became of each, the progress reports.

    Workers download; each downloaded image is written by a task of its own (in a thread), so
    that a worker goes on to its next download at once instead of waiting for the disk (flush
    and rename take milliseconds, and a thread back from the disk may wait for the GIL). At most
    `concurrency` images wait in memory for their write.
    """

    items: tuple[ExportItem, ...]
    folder: Path
    client: httpx.AsyncClient
    present: frozenset[str]  # file names in the folder when the export began
    progress: ProgressCallback | None
    entries: dict[int, ManifestEntry] = field(default_factory=dict)
    tally: _Tally = field(default_factory=_Tally)
    cancelled: bool = False
    _next: int = 0
    _reported_at: float = float("-inf")
    _writes: set[asyncio.Task[None]] = field(default_factory=set)
    _write_slots: asyncio.Semaphore = field(default_factory=asyncio.Semaphore)

    async def execute(self, concurrency: int, cancel: threading.Event | None) -> ExportResult:
        self._write_slots = asyncio.Semaphore(concurrency)
        workers = [
            asyncio.create_task(self._work(), name=f"export-{n}")
            for n in range(min(concurrency, len(self.items)))
        ]
        watcher = (
            asyncio.create_task(self._watch(cancel, workers), name="export-cancel")
            if cancel is not None
            else None
        )
        try:
            if workers:
                await asyncio.wait(workers)
            await self._writes_done()
        except asyncio.CancelledError:  # the export itself is being cancelled
            self.cancelled = True
            for worker in workers:
                worker.cancel()
            await asyncio.wait(workers)
            await self._writes_done()
            await self._finish()
            raise
        finally:
            if watcher is not None:
                watcher.cancel()
        result = await self._finish()
        for task in workers:  # a bug, not an image's failure (those are caught per image)
            if not task.cancelled() and (error := task.exception()) is not None:
                raise error
        return result

    async def _watch(self, cancel: threading.Event, workers: Sequence[asyncio.Task[None]]) -> None:
        """Stop the workers once `cancel` is set (from whichever thread); writes under way end."""
        while not cancel.is_set():  # noqa: ASYNC110 - a threading.Event cannot be awaited
            await asyncio.sleep(CANCEL_POLL_SECONDS)
        self.cancelled = True
        for worker in workers:
            worker.cancel()

    async def _work(self) -> None:
        while not self.cancelled and self._next < len(self.items):
            index = self._next
            self._next += 1
            outcome = await self._fetch(index)
            if isinstance(outcome, ManifestEntry):
                self._record(index, outcome, 0)
                continue
            await self._write_slots.acquire()
            task = asyncio.create_task(self._write(outcome), name=f"export-write-{index}")
            self._writes.add(task)
            task.add_done_callback(self._write_ended)

    def _write_ended(self, task: asyncio.Task[None]) -> None:
        self._writes.discard(task)
        self._write_slots.release()

    async def _writes_done(self) -> None:
        while self._writes:
            await asyncio.wait(set(self._writes))

    # -- one image -----------------------------------------------------------------------------
    async def _fetch(self, index: int) -> ManifestEntry | _Downloaded:
        """The image in memory, or what became of it when it needs no download or failed."""
        item = self.items[index]
        image = item.image
        if not image.is_done:
            return _failed(item, _not_done_reason(image))
        if not image.thumbnail:
            return _failed(item, "the listing gives no URL for it")
        stem = file_stem(image.name, image.id)
        existing = self._existing(stem)
        if existing is not None:
            sidecar = sidecar_path(existing)
            known_sidecar = sidecar if sidecar.name in self.present else None
            return ManifestEntry(item, Outcome.SKIPPED, file=existing, sidecar=known_sidecar)
        body = bytearray()
        try:
            served = await stream_body(
                self.client,
                image.thumbnail,
                body.extend,
                max_bytes=MAX_IMAGE_BYTES,
                time_limit=DOWNLOAD_TIME_LIMIT,
            )
        except DownloadError as exc:
            return _failed(item, exc.reason)
        head = bytes(body[:SNIFF_BYTES])
        kind = sniff(head)
        if kind is None:
            return _failed(item, not_an_image(head, served.content_type).reason)
        return _Downloaded(index, self.folder / (stem + EXTENSION[kind]), kind, bytes(body))

    def _existing(self, stem: str) -> Path | None:
        """The complete file of an earlier export of this image, if there is one."""
        for extension in IMAGE_EXTENSIONS:
            if stem + extension in self.present:
                return self.folder / (stem + extension)
        return None

    async def _write(self, image: _Downloaded) -> None:
        """The file (with its XMP inside, or beside it) written into place, and recorded."""
        item, target = self.items[image.index], image.target
        packet = xmp_packet(item.image.id, item.image.name, item.review)
        data, sidecar = image.body, None
        if image.kind is ImageFormat.JPEG:
            try:
                data = embed_in_jpeg(image.body, packet)
            except NotAJpegError as exc:  # a header this reader does not follow: keep the bytes
                log.warning("XMP beside %s instead of inside: %s", target.name, exc)
                sidecar = sidecar_path(target)
        else:
            sidecar = sidecar_path(target)
        try:
            await in_thread_to_the_end(_write_files, target, data, sidecar, packet)
        except OSError as exc:
            reason = f"cannot write {target.name} ({exc.strerror or exc})"
            self._record(image.index, _failed(item, reason), 0)
            return
        written = ManifestEntry(item, Outcome.WRITTEN, file=target, sidecar=sidecar)
        self._record(image.index, written, len(data))

    # -- bookkeeping ---------------------------------------------------------------------------
    def _record(self, index: int, entry: ManifestEntry, size: int) -> None:
        self.entries[index] = entry
        tally = self.tally
        tally.done += 1
        tally.failed += entry.outcome is Outcome.FAILED
        tally.skipped += entry.outcome is Outcome.SKIPPED
        tally.bytes_written += size
        tally.last = entry.item.image.name
        now = time.monotonic()
        if now - self._reported_at >= PROGRESS_INTERVAL:
            self._report(now)

    def _report(self, now: float) -> None:
        self._reported_at = now
        if self.progress is None:
            return
        tally = self.tally
        snapshot = ExportProgress(
            tally.done,
            len(self.items),
            tally.failed,
            tally.skipped,
            tally.bytes_written,
            tally.last,
        )
        try:
            self.progress(snapshot)
        except Exception:  # the listener's bug must not stop the export
            log.exception("An export progress listener failed")

    async def _finish(self) -> ExportResult:
        """The manifests (every item: those never reached too), the last progress report, the
        result."""
        entries = [
            self.entries.get(index) or ManifestEntry(item, Outcome.NOT_REACHED)
            for index, item in enumerate(self.items)
        ]
        csv_path, json_path = await in_thread_to_the_end(
            _write_manifests, self.folder, entries, self.cancelled, self._leftovers()
        )
        self._report(time.monotonic())
        return ExportResult(
            folder=self.folder,
            written=tuple(e.file for e in entries if e.outcome is Outcome.WRITTEN and e.file),
            skipped=tuple(e.file for e in entries if e.outcome is Outcome.SKIPPED and e.file),
            failures=tuple(
                ExportFailure(e.item, e.reason) for e in entries if e.outcome is Outcome.FAILED
            ),
            cancelled=self.cancelled,
            manifest_csv=csv_path,
            manifest_json=json_path,
        )

    def _leftovers(self) -> list[Path]:
        """`.part` files of this export's own names left by an earlier export that was killed
        (this one removes its own as it goes): never anyone else's files."""
        stems = {file_stem(item.image.name, item.image.id) for item in self.items}
        ours = {MANIFEST_CSV, MANIFEST_JSON}
        found = []
        for name in self.present:
            if not name.endswith(PART_SUFFIX):
                continue
            base = name[: -len(PART_SUFFIX)]
            stem, dot, _ = base.rpartition(".")
            if base in ours or (dot and stem in stems):
                found.append(self.folder / name)
        return found


def _failed(item: ExportItem, reason: str) -> ManifestEntry:
    return ManifestEntry(item, Outcome.FAILED, reason=reason)


def _not_done_reason(image: Image) -> str:
    if image.progress is Progress.FAILED:
        return f"its generation failed (status {image.status}): there is no image"
    return f"not finished yet (status {image.status}): no image to download"


def _write_files(target: Path, data: bytes, sidecar: Path | None, packet: bytes) -> None:
    """Blocking: the sidecar first, so that a complete image file always has its XMP."""
    if sidecar is not None:
        write_atomically(sidecar, packet)
    write_atomically(target, data)


def _write_manifests(
    folder: Path, entries: list[ManifestEntry], cancelled: bool, leftovers: list[Path]
) -> tuple[Path, Path]:
    for path in leftovers:
        with contextlib.suppress(OSError):  # tidying up: never a reason to lose the manifest
            path.unlink(missing_ok=True)
    return write_manifest(folder, entries, exported_at=datetime.now(UTC), cancelled=cancelled)
