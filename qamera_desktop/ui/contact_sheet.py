"""The contact sheet: a PDF of the chosen images for sign-off, painted page by page with Qt.

Each page has a header (title, the account as the window names it, never its key; the date; the
counts), a grid of images with their name, id, decision, stars, label and product, and a footer
with the page number. Where things go is core/contact_sheet_layout.py.

Made to be fast and small (`tests/perf/bench_contact_sheet.py`: 500 images):
- each image is fetched once, into the originals cache (ui/originals_cache.py), the next page's
  while this one is painted;
- it is decoded at the size its box prints at: Pillow's `draft()` lets a JPEG decoder scale by
  1/2 to 1/8 while decoding, in worker threads (Pillow releases the GIL);
- a page is painted, and its images let go, before the next one is decoded: memory holds one
  page of images whatever the length of the sheet.

`write_contact_sheet` runs on a `ThreadJob`'s thread, never the GUI thread: Qt paints on a
QPdfWriter (like QImage and QPrinter, unlike QPixmap or widgets) from any thread, as long as one
thread does all of one painter's painting. The file is written as `<name>.part` and renamed once
complete; a cancelled or failed sheet leaves no file behind.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from PIL import Image as PilImage
from PySide6.QtCore import QLineF, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from qamera_desktop import __version__
from qamera_desktop.core.contact_sheet_layout import Box, Cell, SheetLayout, fit, line_height
from qamera_desktop.core.export.exporter import ExportItem, make_export_client
from qamera_desktop.core.export.files import part_path
from qamera_desktop.core.http_download import DownloadError
from qamera_desktop.core.review import MAX_RATING, Flag, Label
from qamera_desktop.ui.cell_sprites import LABEL_COLOURS
from qamera_desktop.ui.originals_cache import FETCH_CONCURRENCY, original
from qamera_desktop.ui.thread_job import JobContext

CANCEL_POLL_SECONDS = 0.05

INK = QColor("#212529")
MUTED = QColor("#6c757d")
RULE = QColor("#ced4da")
PLACEHOLDER = QColor("#f1f3f5")
PICK_GREEN = QColor("#2b8a3e")
REJECT_RED = QColor("#c92a2a")


@dataclass(frozen=True)
class SheetHeader:
    """What the top of every page says."""

    title: str  # "Contact sheet: picks"
    account: str  # the connection's description ("Demo sandbox"), never a key
    created: datetime
    counts: str  # "24 images · 24 picks · 3 products"


@dataclass(frozen=True)
class SheetProgress:
    done: int  # images placed on pages
    total: int
    page: int  # pages painted
    pages: int


@dataclass(frozen=True)
class SheetResult:
    path: Path  # the PDF (not written when cancelled)
    pages: int
    images: int
    missing: tuple[tuple[str, str], ...]  # (image name, why it is a blank box)
    cancelled: bool


def counts_text(items: Sequence[ExportItem]) -> str:
    """ "24 images · 20 picks · 2 rejects · 3 products": the header's counts."""
    flags = Counter(item.review.flag for item in items)
    products = {item.product.id for item in items if item.product is not None}
    parts = [plural(len(items), "image")]
    if flags[Flag.PICK]:
        parts.append(plural(flags[Flag.PICK], "pick"))
    if flags[Flag.REJECT]:
        parts.append(plural(flags[Flag.REJECT], "reject"))
    rated = sum(1 for item in items if item.review.rating)
    if rated:
        parts.append(f"{rated} rated")
    if products:
        parts.append(plural(len(products), "product"))
    return " · ".join(parts)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def stars_text(rating: int) -> str:
    """ "★★★☆☆" (nothing for no stars: a blank is clearer on paper than five hollow stars)."""
    return "★" * rating + "☆" * (MAX_RATING - rating) if rating else ""


def decode_for_print(path: Path, size: tuple[int, int]) -> QImage:
    """The image at `path`, decoded at about `size` pixels (never larger than it is): Pillow's
    `draft` has a JPEG decoded at 1/2 to 1/8 scale straight away, then a fast resize."""
    with PilImage.open(path) as opened:
        opened.draft("RGB", size)
        image = opened.convert("RGB")
    image.thumbnail(size, PilImage.Resampling.BILINEAR, reducing_gap=2.0)
    data = image.tobytes()
    width, height = image.size
    # QImage borrows `data`: copy() gives it memory of its own before `data` goes
    return QImage(data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


async def write_contact_sheet(
    items: Sequence[ExportItem],
    destination: Path,
    layout: SheetLayout,
    header: SheetHeader,
    *,
    originals: Path,
    context: JobContext | None = None,
    http: httpx.AsyncClient | None = None,
) -> SheetResult:
    """Write the contact sheet of `items` to `destination` (see the module docstring).

    `originals`: the cache folder of the images' files. `context` (a ThreadJob's) carries the
    cancel request and receives `SheetProgress` reports. Raises OSError when the PDF cannot be
    written; an image that cannot be fetched or decoded is a captioned blank box instead.
    """
    client = http if http is not None else make_export_client(FETCH_CONCURRENCY)
    part = part_path(destination)
    try:
        await asyncio.to_thread(destination.parent.mkdir, parents=True, exist_ok=True)
        painter = _SheetPainter(part, layout, header, len(items))
        try:
            result = await _paint_pages(items, layout, painter, client, originals, context)
        finally:
            painter.close()
        if result.cancelled:
            part.unlink(missing_ok=True)
            return result
        await asyncio.to_thread(os.replace, part, destination)
        return replace(result, path=destination)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        if http is None:
            await client.aclose()


async def _paint_pages(
    items: Sequence[ExportItem],
    layout: SheetLayout,
    painter: _SheetPainter,
    client: httpx.AsyncClient,
    originals: Path,
    context: JobContext | None,
) -> SheetResult:
    gate = asyncio.Semaphore(FETCH_CONCURRENCY)
    pixels = layout.image_pixels()

    async def picture(item: ExportItem) -> QImage | str:
        """The item's image decoded for print, or why there is none."""
        async with gate:
            try:
                file = await original(client, originals, item.image)
            except DownloadError as exc:
                return exc.reason
            except OSError as exc:
                return f"cannot write to the cache ({exc.strerror or exc})"
        return await _decode(file, pixels)

    pages = list(layout.pages(items))
    preparing: dict[int, asyncio.Future[list[QImage | str]]] = {}

    def prepare(page: int) -> None:
        if page < len(pages) and page not in preparing:
            preparing[page] = asyncio.gather(*(picture(item) for item in pages[page]))

    missing: list[tuple[str, str]] = []
    done = 0
    try:
        for number, page_items in enumerate(pages):
            if context is not None and context.cancelled:
                break
            prepare(number)
            # the next page downloads and decodes (threads) while this one is painted
            prepare(number + 1)
            pending = preparing.pop(number)
            if not await _ready_unless_cancelled(pending, context):
                pending.cancel()
                break
            pictures = pending.result()
            painter.begin_page(number)
            for slot, (item, shown) in enumerate(zip(page_items, pictures, strict=True)):
                if isinstance(shown, str):
                    missing.append((item.image.name, shown))
                painter.paint_cell(layout.cell(slot), item, shown)
            done += len(page_items)
            if context is not None:
                context.report(SheetProgress(done, len(items), number + 1, len(pages)))
    finally:
        for pending in preparing.values():
            pending.cancel()
        if preparing:
            await asyncio.gather(*preparing.values(), return_exceptions=True)
    return SheetResult(painter.path, painter.pages, done, tuple(missing), _was_cancelled(context))


async def _ready_unless_cancelled(pending: asyncio.Future[Any], context: JobContext | None) -> bool:
    """Wait for `pending`; False as soon as the job is cancelled (a stalled download must not
    hold a cancel up)."""
    while not pending.done():
        await asyncio.wait({pending}, timeout=CANCEL_POLL_SECONDS)
        if _was_cancelled(context):
            return False
    return True


def _was_cancelled(context: JobContext | None) -> bool:
    return context is not None and context.cancelled


async def _decode(file: Path, pixels: tuple[int, int]) -> QImage | str:
    """The picture of a fetched file, or why there is none."""
    try:
        return await asyncio.to_thread(decode_for_print, file, pixels)
    except (OSError, ValueError, PilImage.DecompressionBombError) as exc:
        return f"cannot be read ({exc})"


class _SheetPainter:
    """The QPdfWriter and its QPainter: pages, headers, cells, footers. One thread only."""

    def __init__(self, path: Path, layout: SheetLayout, header: SheetHeader, images: int) -> None:
        self.path = path
        self.layout = layout
        self.header = header
        self.total_pages = layout.page_count(images)
        self.pages = 0
        self._writer: QPdfWriter | None = QPdfWriter(str(path))
        writer = self._writer
        size = QPageSize(QSizeF(layout.width, layout.height), QPageSize.Unit.Point, layout.page)
        writer.setPageLayout(
            QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
        )
        writer.setResolution(72)  # one unit of the painter is one point
        writer.setTitle(f"{header.title} ({header.account})")
        writer.setCreator(f"Qamera Desktop {__version__}")
        self._painter: QPainter | None = QPainter(writer)
        if not self._painter.isActive():  # Qt says no more than that the file cannot be opened
            self._painter = None
            self._writer = None
            raise OSError(errno.EACCES, "cannot write the PDF", str(path))
        self._painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        base = QFont()
        for ligatures in ("liga", "clig"):  # "ff" stays two letters: ids are copied and searched
            base.setFeature(QFont.Tag(ligatures), 0)
        self.font = QFont(base)
        self.font.setPointSizeF(layout.caption_font)
        self.bold = QFont(self.font)
        self.bold.setBold(True)
        self.title_font = QFont(base)
        self.title_font.setPointSizeF(13)
        self.title_font.setBold(True)
        self.small = QFont(base)
        self.small.setPointSizeF(8)
        self.line = line_height(layout.caption_font)

    @property
    def painter(self) -> QPainter:
        assert self._painter is not None, "closed"
        return self._painter

    def begin_page(self, number: int) -> None:
        if number > 0:
            assert self._writer is not None
            self._writer.newPage()
        self.pages = number + 1
        self._paint_header()
        self._paint_footer(number + 1)

    def close(self) -> None:
        """Finish the PDF (the file is complete once this returns)."""
        if self._painter is not None:
            self._painter.end()
            self._painter = None
        self._writer = None  # deleting the writer closes its file

    # -- the page's frame --------------------------------------------------------------------
    def _paint_header(self) -> None:
        p, box, header = self.painter, self.layout.header, self.header
        p.setPen(INK)
        p.setFont(self.title_font)
        title = QRectF(box.x, box.y, box.width, 18)
        p.drawText(title, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, header.title)
        p.setFont(self.small)
        p.setPen(MUTED)
        date = header.created.strftime("%Y-%m-%d %H:%M")
        p.drawText(title, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, date)
        second = QRectF(box.x, box.y + 20, box.width, 12)
        p.setPen(INK)
        p.drawText(
            second,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"{header.account} · {header.counts}",
        )
        p.setPen(QPen(RULE, 0.75))
        rule_y = box.bottom - 8
        p.drawLine(QLineF(box.x, rule_y, box.x + box.width, rule_y))

    def _paint_footer(self, number: int) -> None:
        p, box = self.painter, self.layout.footer
        p.setFont(self.small)
        p.setPen(MUTED)
        rect = QRectF(box.x, box.y, box.width, box.height)
        bottom = Qt.AlignmentFlag.AlignBottom
        p.drawText(rect, Qt.AlignmentFlag.AlignLeft | bottom, "Qamera Desktop")
        p.drawText(
            rect, Qt.AlignmentFlag.AlignRight | bottom, f"Page {number} of {self.total_pages}"
        )

    # -- one image ---------------------------------------------------------------------------
    def paint_cell(self, cell: Cell, item: ExportItem, picture: QImage | str) -> None:
        p = self.painter
        if isinstance(picture, QImage):
            shown = fit(picture.width(), picture.height(), cell.image)
            p.drawImage(_rect(shown), picture)
        else:
            self._paint_blank(cell.image, picture)
        self._paint_caption(cell.caption, item)

    def _paint_blank(self, box: Box, reason: str) -> None:
        p = self.painter
        p.fillRect(_rect(box), PLACEHOLDER)
        p.setPen(MUTED)
        p.setFont(self.font)
        inner = _rect(box).adjusted(6, 6, -6, -6)
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        p.drawText(inner, int(flags), f"Image not available\n{reason}")

    def _paint_caption(self, box: Box, item: ExportItem) -> None:
        p, line, image = self.painter, self.line, item.image
        rows = [QRectF(box.x, box.y + n * line, box.width, line) for n in range(4)]
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        p.setPen(INK)
        p.setFont(self.bold)
        p.drawText(rows[0], left, self._elided(image.name or "(no name)", self.bold, box.width))
        p.setFont(self.font)
        p.setPen(MUTED)
        p.drawText(rows[1], left, self._elided(image.id, self.font, box.width))
        self._paint_decision(rows[2], item)
        p.setPen(INK)
        product = item.product.name if item.product is not None else "Product not known"
        p.drawText(rows[3], left, self._elided(product, self.font, box.width))

    def _paint_decision(self, row: QRectF, item: ExportItem) -> None:
        """ "Pick  ★★★☆☆  ● Blue" on one line."""
        p, review = self.painter, item.review
        metrics = QFontMetricsF(self.font, p.device())
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        x = row.x()
        gap = metrics.horizontalAdvance("  ")
        if review.flag is not Flag.NONE:
            word = "Pick" if review.flag is Flag.PICK else "Reject"
            p.setPen(PICK_GREEN if review.flag is Flag.PICK else REJECT_RED)
            p.drawText(QRectF(x, row.y(), row.right() - x, row.height()), left, word)
            x += metrics.horizontalAdvance(word) + gap
        stars = stars_text(review.rating)
        if stars:
            p.setPen(INK)
            p.drawText(QRectF(x, row.y(), row.right() - x, row.height()), left, stars)
            x += metrics.horizontalAdvance(stars) + gap
        if review.label is not Label.NONE and x < row.right():
            colour = LABEL_COLOURS.get(review.label, MUTED)
            diameter = row.height() * 0.55
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawEllipse(QRectF(x, row.center().y() - diameter / 2, diameter, diameter))
            p.setBrush(Qt.BrushStyle.NoBrush)
            x += diameter + metrics.horizontalAdvance(" ")
            p.setPen(INK)
            text = review.label.value.capitalize()
            p.drawText(QRectF(x, row.y(), row.right() - x, row.height()), left, text)

    def _elided(self, text: str, font: QFont, width: float) -> str:
        metrics = QFontMetricsF(font, self.painter.device())
        return metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, width)


def _rect(box: Box) -> QRectF:
    return QRectF(box.x, box.y, box.width, box.height)
