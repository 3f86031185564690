"""The loupe: one image as large as the window allows, opened with Space or Enter from the grid,
closed with Esc; Left / Right step through the grid's current (filtered) order without closing,
and the review keys (P, X, U, 0-5, 6-9, reasons, undo, redo) decide the image shown. Those keys are
actions of the table in ui/actions.py, which the main window puts on this dialog; the caption
names the loupe's own.

The image is asked for at the size the screen can show (`loupe_size`, on the loader's "preview"
channel), with the next two images and the previous one after it, so that stepping is instant.
Until it arrives the best smaller thumbnail in memory (the grid's) is shown, never a blank.
Z toggles fit and 100% (one image pixel per device pixel); at 100% a drag pans.

What compare (ui/compare_dialog.py) shares with it lives here too: the picture (`LoupeView`),
showing an image from the loader (`show_from_loader`), the size to ask for (`loupe_size`) and the
window where review keys act (`ReviewWindow`: the reason chips' place, the caption's key hint).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, QSizeF, Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import (
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QDialog, QLabel, QSizePolicy, QVBoxLayout, QWidget

from qamera_desktop.api.records import Image
from qamera_desktop.ui.actions import REVIEW_COPY_DATA, key_text
from qamera_desktop.ui.status_style import status_label
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

LOUPE_STEP = 512  # loupe sizes are multiples of this, so a resize reuses the cache
LOUPE_MAX = 4096  # a 4096 px pixmap is 64 MB: no more, whatever the screen
REVIEW_WINDOW_SIZE = QSize(900, 820)  # the loupe's and compare's size without a main window


def loupe_size(window: QWidget) -> int:
    """The device-pixel size to load an image at for `window`: what its screen (or the window, if
    larger) can show, in steps of LOUPE_STEP, at most LOUPE_MAX. The loupe and compare ask for the
    same size, so an image seen in one is in memory for the other."""
    sides = [window.width(), window.height()]
    screen = window.screen()
    if screen is not None:
        sides += [screen.size().width(), screen.size().height()]
    wanted = math.ceil(max(sides) * max(1.0, window.devicePixelRatioF()))
    return min(LOUPE_MAX, max(LOUPE_STEP, math.ceil(wanted / LOUPE_STEP) * LOUPE_STEP))


class LoupeView(QWidget):
    """The picture: fitted to the widget (enlarged too), or at 100%, where a drag pans it.

    Cheap to repaint while dragging: it paints its whole rect itself (nothing under it is
    repainted), and at 100% only the part of the pixmap in view, unscaled, at whole pixels (a
    blit). Compare repaints four of these per mouse move."""

    panned = QtSignal()  # a drag moved the image (at 100%)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap = QPixmap()
        self._text = ""
        self._actual_size = False
        self._pan = QPointF(0.0, 0.0)
        self._drag_from: QPointF | None = None
        self.full_key: tuple[str, int] | None = None
        """(url, size) of the pixmap shown when it is the full-size one (`show_from_loader`)."""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
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
        self._pixmap, self._text, self.full_key = QPixmap(), text, None
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

    def view_centre(self) -> QPointF:
        """The point of the image at the widget's centre, as fractions of the image's width and
        height ((0.5, 0.5): centred). Compare pans every pane to the same one."""
        size = self.painted_size()
        if size.isEmpty() or not self._actual_size:
            return QPointF(0.5, 0.5)
        return QPointF(0.5 - self._pan.x() / size.width(), 0.5 - self._pan.y() / size.height())

    def centre_on(self, point: QPointF) -> None:
        """Pan so that `point` (fractions of the image, as `view_centre`) is at the centre, as
        near as the image's edges allow."""
        size = self.painted_size()
        if size.isEmpty() or not self._actual_size:
            return
        pan = QPointF((0.5 - point.x()) * size.width(), (0.5 - point.y()) * size.height())
        self._pan = self._clamped(pan)
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
        rect = QRectF(
            centre.x() - size.width() / 2, centre.y() - size.height() / 2, *size.toTuple()
        )
        if self._actual_size:  # at whole pixels: a blit, never an interpolation
            rect.moveTopLeft(QPointF(round(rect.left()), round(rect.top())))
        return rect

    def _clamped(self, pan: QPointF) -> QPointF:
        """At most as far as the image's edge reaches the window's (either way round)."""
        size = self.painted_size()
        if size.isEmpty():
            return QPointF()
        room_x = abs(size.width() - self.width()) / 2
        room_y = abs(size.height() - self.height()) / 2
        return QPointF(max(-room_x, min(room_x, pan.x())), max(-room_y, min(room_y, pan.y())))

    # -- Qt's side ---------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().window())
        if self._pixmap.isNull():
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._text)
            return
        target = self.painted_rect()
        shown = target.intersected(QRectF(self.rect()))
        if shown.isEmpty():
            return
        # the part of the pixmap in view, in its own pixels
        scale = self._pixmap.width() / target.width()
        source = QRectF(
            (shown.left() - target.left()) * scale,
            (shown.top() - target.top()) * scale,
            shown.width() * scale,
            shown.height() * scale,
        )
        if not self._actual_size:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(shown, self._pixmap, source)

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
        pan = self._clamped(self._pan + moved)
        if pan != self._pan:
            self._pan = pan
            self.update()
            self.panned.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None:
            self._drag_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            return
        super().mouseReleaseEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._pan = self._clamped(self._pan)


def show_from_loader(view: LoupeView, loader: ThumbnailLoader, image: Image, size: int) -> bool:
    """Show `image` in `view` from the loader's memory: at `size` when it is there (True), else
    the largest smaller one (the grid's thumbnail; False), else a word on why there is none. A
    full-size pixmap already shown stays, even when the memory cache has let it go since."""
    if not image.is_done:
        view.set_text("This image failed." if image.is_failed else "Still processing…")
        return False
    url = image.thumbnail
    pixmap = loader.pixmap(url, size)
    if pixmap is None and url and view.full_key == (url, size):
        return True
    if pixmap is not None:
        view.set_pixmap(pixmap)
        view.full_key = (url, size) if url else None
        return True
    pixmap = loader.best_pixmap(url, size)  # a smaller one meanwhile, never a blank
    if pixmap is None:
        failed = loader.state(url, size) == "failed"
        view.set_text("This image could not be loaded." if failed else "Loading…")
        return False
    view.set_pixmap(pixmap)
    view.full_key = None
    return False


class ReviewWindow(QDialog):
    """A window of its own where the review keys act (the loupe, compare): the table's review
    rows get a copy on it (ui/actions.py), the reason chips move to its `reason_slot` while it is
    the window decided in (ui/review_controller.py), and `key_hint()` names its own keys. It
    first opens over the main window, as large (so it fits the screen as the main window does);
    after that, where the designer put it. Subclasses put their content in `content`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.resize(REVIEW_WINDOW_SIZE)
        self._placed = False
        self.content = QVBoxLayout()
        self.reason_slot = QVBoxLayout()
        self.reason_slot.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.addLayout(self.content, 1)
        layout.addLayout(self.reason_slot)

    def place_once(self) -> None:
        """The first time it is about to show: over the main window, as large. (Before the
        images are asked for: their size follows the window's.)"""
        owner = self.parentWidget()
        if not self._placed and owner is not None and owner.window().isVisible():
            self.setGeometry(owner.window().geometry())
            self._placed = True

    def key_hint(self) -> str:
        """The keys of the window's own actions: "Previous: Left, Next: Right, Close: Esc"."""
        keyed = [
            a for a in self.actions() if not a.shortcut().isEmpty() and a.data() != REVIEW_COPY_DATA
        ]
        return ", ".join(f"{a.text()}: {key_text(a)}" for a in keyed)


class PreviewDialog(ReviewWindow):
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
        self.picture = LoupeView()
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        self.content.addWidget(self.picture, 1)
        self.content.addWidget(self.caption)
        loader.ready.connect(self._on_ready)
        self.finished.connect(self._on_finished)

    @property
    def image(self) -> Image | None:
        return self._image

    def show_image(self, image: Image, neighbours: Sequence[Image] = ()) -> None:
        """Show `image`; `neighbours` (next, next but one, previous) are loaded after it."""
        self.place_once()
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

    def toggle_zoom(self) -> None:
        """Fit <-> 100%."""
        self.picture.set_actual_size(not self.picture.actual_size)

    def loupe_size(self) -> int:
        return loupe_size(self)

    def _paint(self) -> None:
        if self._image is not None:
            self.showing_full = show_from_loader(
                self.picture, self._loader, self._image, self.loupe_size()
            )

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
