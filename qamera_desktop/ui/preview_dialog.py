"""The image in full: opened with Space or Enter from the grid, closed with Esc;
Left / Right step through the grid without closing. Those keys are actions of the table in
ui/actions.py, which the main window puts on this dialog; the caption names them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import QDialog, QLabel, QSizePolicy, QVBoxLayout, QWidget

from qamera_desktop.api.records import Image
from qamera_desktop.ui.actions import key_text
from qamera_desktop.ui.grid_geometry import request_size
from qamera_desktop.ui.status_style import status_label
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

FULL_LOGICAL = 900


class PreviewDialog(QDialog):
    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._image: Image | None = None
        self.setWindowTitle("Preview")
        self.resize(900, 820)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.caption)
        loader.ready.connect(self._on_ready)

    def show_image(self, image: Image) -> None:
        self._image = image
        self.setWindowTitle(image.name or image.id)
        self.caption.setText(
            f"{image.name}  ·  {status_label(image.status, image.progress)}  ·  {image.id}"
            f"    ({self.key_hint()})"
        )
        self._loader.set_wanted("preview", [image.thumbnail] if image.is_done else [], self._size())
        self._paint()

    def key_hint(self) -> str:
        """The keys of this dialog's actions: "Previous: Left, Next: Right, Close: Esc"."""
        keyed = [a for a in self.actions() if not a.shortcut().isEmpty()]
        return ", ".join(f"{a.text()}: {key_text(a)}" for a in keyed)

    def _size(self) -> int:
        return request_size(FULL_LOGICAL, self.devicePixelRatioF())

    def _paint(self) -> None:
        if self._image is None:
            return
        if not self._image.is_done:
            self.picture.setPixmap(QPixmap())
            self.picture.setText(
                "This image failed." if self._image.is_failed else "Still processing…"
            )
            return
        pixmap = self._loader.pixmap(self._image.thumbnail, self._size())
        if pixmap is None:
            failed = self._loader.state(self._image.thumbnail, self._size()) == "failed"
            self.picture.setPixmap(QPixmap())
            self.picture.setText("This image could not be loaded." if failed else "Loading…")
            return
        scaled = pixmap.scaled(
            self.picture.size() * self.devicePixelRatioF(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        scaled.setDevicePixelRatio(self.devicePixelRatioF())
        self.picture.setPixmap(scaled)

    def _on_ready(self, urls: list[str]) -> None:
        if self._image is not None and self._image.thumbnail in urls:
            self._paint()

    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        self._paint()
