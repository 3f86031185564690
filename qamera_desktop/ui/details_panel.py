"""The current image in detail: a large preview, its facts, and actions (open, copy id/URL)."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QGuiApplication, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from qamera_desktop.api.records import Image
from qamera_desktop.ui.grid_geometry import request_size
from qamera_desktop.ui.status_style import status_label
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

PREVIEW_LOGICAL = 320


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return "unknown"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


class DetailsPanel(QWidget):
    openRequested = QtSignal()

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._image: Image | None = None
        self.setMinimumWidth(260)
        self.setAccessibleName("Image details")

        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(200, 200)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setObjectName("detailsPreview")

        self.name = QLabel()
        self.name.setWordWrap(True)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.name.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.name.setFont(font)
        self.image_id = QLabel()
        self.status = QLabel()
        self.voting = QLabel()
        self.created = QLabel()
        for label in (self.image_id, self.status, self.voting, self.created):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.facts = QWidget()
        form = QFormLayout(self.facts)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("ID", self.image_id)
        form.addRow("Status", self.status)
        form.addRow("Voting", self.voting)
        form.addRow("Created", self.created)

        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open the image large (Space)")
        self.copy_id_button = QPushButton("Copy ID")
        self.copy_url_button = QPushButton("Copy URL")
        self.open_button.clicked.connect(self.openRequested)
        self.copy_id_button.clicked.connect(self._copy_id)
        self.copy_url_button.clicked.connect(self._copy_url)
        buttons = QHBoxLayout()
        for b in (self.open_button, self.copy_id_button, self.copy_url_button):
            buttons.addWidget(b)

        self.empty = QLabel("Select an image to see its details.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.name)
        layout.addWidget(self.facts)
        layout.addLayout(buttons)
        layout.addWidget(self.empty)
        loader.ready.connect(self._on_ready)
        self.show_image(None)

    @property
    def image(self) -> Image | None:
        return self._image

    def show_image(self, image: Image | None) -> None:
        self._image = image
        has = image is not None
        for w in (self.preview, self.name, self.facts, self.open_button, self.copy_id_button):
            w.setVisible(has)
        self.copy_url_button.setVisible(has)
        self.empty.setVisible(not has)
        if image is None:
            self._loader.set_wanted("details", [], self._size())
            return
        self.name.setText(image.name or "(no name)")
        self.image_id.setText(image.id)
        self.status.setText(f"{status_label(image.status, image.progress)} ({image.status})")
        self.voting.setText(image.voting.capitalize() if image.voting else "Not voted")
        self.created.setText(local_time(image.created_at))
        self.copy_url_button.setEnabled(bool(image.thumbnail))
        wanted = [image.thumbnail] if image.is_done else []
        self._loader.set_wanted("details", wanted, self._size())
        self._paint_preview()

    def _size(self) -> int:
        return request_size(PREVIEW_LOGICAL, self.devicePixelRatioF())

    def _paint_preview(self) -> None:
        image = self._image
        if image is None:
            return
        if not image.is_done:
            self.preview.setPixmap(QPixmap())
            self.preview.setText(
                "This image failed: Qamera refunds its credits."
                if image.is_failed
                else "Still processing: the picture appears when it is done."
            )
            return
        pixmap = self._loader.pixmap(image.thumbnail, self._size())
        if pixmap is None:
            failed = self._loader.state(image.thumbnail, self._size()) == "failed"
            self.preview.setPixmap(QPixmap())
            self.preview.setText("Image unavailable" if failed else "Loading preview…")
            return
        target = self.preview.size() * self.devicePixelRatioF()
        scaled = pixmap.scaled(
            target, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        scaled.setDevicePixelRatio(self.devicePixelRatioF())
        self.preview.setPixmap(scaled)

    def _on_ready(self, urls: list[str]) -> None:
        if self._image is not None and self._image.thumbnail in urls:
            self._paint_preview()

    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        self._paint_preview()

    def _copy_id(self) -> None:
        if self._image is not None:
            QGuiApplication.clipboard().setText(self._image.id)

    def _copy_url(self) -> None:
        if self._image is not None and self._image.thumbnail:
            QGuiApplication.clipboard().setText(self._image.thumbnail)
