"""The loupe: one image as large as the window allows, opened with Space or Enter from the grid,
closed with Esc; Left / Right step through the grid's current (filtered) order without closing,
and the review keys (P, X, U, 0-5, 6-9, reasons, undo, redo) decide the image shown. Those keys are
actions of the table in ui/actions.py, which the main window puts on this dialog; the caption
names the loupe's own.

The image is asked for at the size the screen can show (`loupe_size`, on the loader's "preview"
channel), with the next two images and the previous one after it, so that stepping is instant.
Until it arrives the best smaller thumbnail in memory (the grid's) is shown, never a blank.
Z toggles fit and 100% (one image pixel per device pixel); at 100% a drag pans.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QDialog, QLabel, QSizePolicy, QVBoxLayout, QWidget

from qamera_desktop.api.records import Image
from qamera_desktop.ui.actions import LOUPE_ACTION_DATA, key_text
from qamera_desktop.ui.status_style import status_label
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

LOUPE_STEP = 512  # loupe sizes are multiples of this, so a resize reuses the cache
LOUPE_MAX = 4096  # a 4096 px pixmap is 64 MB: no more, whatever the screen


class LoupeView(QWidget):
    """The picture: fitted to the widget (enlarged too), or at 100%, where a drag pans it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap = QPixmap()
        self._text = ""
        self._actual_size = False
        self._pan = QPointF(0.0, 0.0)
        self._drag_from: QPointF | None = None
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setAccessibleName("Image")

    # -- what it shows -----------------------------------------------------------------------
    def pixmap(self) -> QPixmap:
        return self._pixmap

    def text(self) -> str:
        return self._text

    def set_pixmap(self, pixmap: QPixmap) -> None:
        self._pixmap, self._text = pixmap, ""
        self._pan = self._clamped(self._pan)
        self.update()

    def set_text(self, text: str) -> None:
        self._pixmap, self._text = QPixmap(), text
        self.update()

    @property
    def actual_size(self) -> bool:
        """True at 100%, False fitted to the window."""
        return self._actual_size

    def set_actual_size(self, on: bool) -> None:
        self._actual_size = on
        self._pan = QPointF(0.0, 0.0)
        self._drag_from = None
        self.setCursor(Qt.CursorShape.OpenHandCursor if on else Qt.CursorShape.ArrowCursor)
        self.update()

    @property
    def pan(self) -> QPointF:
        """How far the image is moved from the centre, in logical pixels (only at 100%)."""
        return QPointF(self._pan)

    def reset_pan(self) -> None:
        self._pan = QPointF(0.0, 0.0)
        self.update()

    def painted_size(self) -> QSizeF:
        """The size the image is painted at, in logical pixels (empty: none)."""
        if self._pixmap.isNull():
            return QSizeF()
        ratio = max(1.0, self.devicePixelRatioF())
        natural = QSizeF(self._pixmap.width() / ratio, self._pixmap.height() / ratio)
        if self._actual_size:
            return natural
        return natural.scaled(QSizeF(self.size()), Qt.AspectRatioMode.KeepAspectRatio)

    def painted_rect(self) -> QRectF:
        size = self.painted_size()
        centre = QRectF(self.rect()).center() + (self._pan if self._actual_size else QPointF())
        return QRectF(
            centre.x() - size.width() / 2, centre.y() - size.height() / 2, *size.toTuple()
        )

    def _clamped(self, pan: QPointF) -> QPointF:
        """At most as far as the image's edge reaches the window's (either way round)."""
        size = self.painted_size()
        if size.isEmpty():
            return QPointF()
        room_x = abs(size.width() - self.width()) / 2
        room_y = abs(size.height() - self.height()) / 2
        return QPointF(max(-room_x, min(room_x, pan.x())), max(-room_y, min(room_y, pan.y())))

    # -- Qt's side ---------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        if self._pixmap.isNull():
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._text)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(self.painted_rect(), self._pixmap, QRectF(self._pixmap.rect()))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._actual_size and event.button() is Qt.MouseButton.LeftButton:
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is None:
            super().mouseMoveEvent(event)
            return
        moved = event.position() - self._drag_from
        self._drag_from = event.position()
        self._pan = self._clamped(self._pan + moved)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None:
            self._drag_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            return
        super().mouseReleaseEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._pan = self._clamped(self._pan)


class PreviewDialog(QDialog):
    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._image: Image | None = None
        self._wanted: list[str] = []
        self.showing_full = False
        """Whether the picture is the loupe-size image (not a smaller stand-in)."""
        self.review_text: Callable[[str], str] = lambda _image_id: ""
        """What the designer decided about an image (", your pick, 3 stars"); set by the owner."""
        self.setWindowTitle("Preview")
        self.resize(900, 820)
        self.picture = LoupeView()
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.caption)
        loader.ready.connect(self._on_ready)
        self.finished.connect(self._on_finished)

    @property
    def image(self) -> Image | None:
        return self._image

    def show_image(self, image: Image, neighbours: Sequence[Image] = ()) -> None:
        """Show `image`; `neighbours` (next, next but one, previous) are loaded after it."""
        if self._image is None or self._image.id != image.id:
            self.picture.reset_pan()
        self._image = image
        self.setWindowTitle(image.name or image.id)
        self.show_caption()
        wanted = [i.thumbnail for i in (image, *neighbours) if i.is_done and i.thumbnail]
        self._wanted = [url for url in wanted if url]
        self._loader.set_wanted("preview", self._wanted, self.loupe_size())
        self._paint()

    def show_caption(self) -> None:
        image = self._image
        if image is None:
            return
        self.caption.setText(
            f"{image.name}{self.review_text(image.id)}  ·  "
            f"{status_label(image.status, image.progress)}  ·  {image.id}    ({self.key_hint()})"
        )

    def key_hint(self) -> str:
        """The keys of the loupe's own actions: "Previous: Left, Next: Right, Close: Esc"."""
        keyed = [
            a
            for a in self.actions()
            if not a.shortcut().isEmpty() and a.data() != LOUPE_ACTION_DATA
        ]
        return ", ".join(f"{a.text()}: {key_text(a)}" for a in keyed)

    def toggle_zoom(self) -> None:
        """Fit <-> 100%."""
        self.picture.set_actual_size(not self.picture.actual_size)

    def loupe_size(self) -> int:
        """The device-pixel size to load: what the screen (or a larger window) can show, in
        steps of LOUPE_STEP, at most LOUPE_MAX."""
        sides = [self.width(), self.height()]
        screen = self.screen()
        if screen is not None:
            sides += [screen.size().width(), screen.size().height()]
        wanted = math.ceil(max(sides) * max(1.0, self.devicePixelRatioF()))
        return min(LOUPE_MAX, max(LOUPE_STEP, math.ceil(wanted / LOUPE_STEP) * LOUPE_STEP))

    def _paint(self) -> None:
        image = self._image
        if image is None:
            return
        if not image.is_done:
            self.showing_full = False
            self.picture.set_text("This image failed." if image.is_failed else "Still processing…")
            return
        size = self.loupe_size()
        pixmap = self._loader.pixmap(image.thumbnail, size)
        self.showing_full = pixmap is not None
        if pixmap is None:  # a smaller one meanwhile (the grid's), never a blank
            pixmap = self._loader.best_pixmap(image.thumbnail, size)
        if pixmap is None:
            failed = self._loader.state(image.thumbnail, size) == "failed"
            self.picture.set_text("This image could not be loaded." if failed else "Loading…")
            return
        self.picture.set_pixmap(pixmap)

    def _on_ready(self, urls: list[str]) -> None:
        if self._image is not None and self._image.thumbnail in urls:
            self._paint()

    def _on_finished(self, _result: int) -> None:
        self._wanted = []
        self._loader.set_wanted("preview", [], self.loupe_size())

    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        if self._image is not None and self.isVisible():
            self._loader.set_wanted("preview", self._wanted, self.loupe_size())
            self._paint()
