"""The current image in detail: a large preview, its facts, and actions (open, copy id/URL).

Two decisions are shown side by side and never mixed up: the designer's own (pick or reject with
its reasons, stars, label; kept on this computer) and the server's voting on Qamera, which the
API offers no way to change: the panel says so.

The preview is as tall as the picture at the panel's width, with the name right below it; in a
short window it shrinks, down to its minimum, and then the panel scrolls (everything sits in a
scroll area): the preview never overlaps the name below it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from qamera_desktop.api.records import Image
from qamera_desktop.core.review import BLANK, MAX_RATING, REASON_TEXT, Flag, Label, Review
from qamera_desktop.ui.grid_geometry import request_size
from qamera_desktop.ui.status_style import status_label, voting_text
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

PREVIEW_LOGICAL = 320
PREVIEW_MIN = 120
NOTHING_SELECTED = "No image selected.\nSelect an image in the grid to see its details."


VOTING_NOTE = "Qamera's voting cannot be changed from here: your decisions stay on this computer."


def decision_text(review: Review) -> str:
    """The designer's decision in words: "Your pick · ★★★☆☆ · Red label"."""
    parts = []
    if review.flag is Flag.PICK:
        parts.append("Your pick")
    elif review.flag is Flag.REJECT:
        reasons = ", ".join(REASON_TEXT[r] for r in review.reasons)
        parts.append(f"Your reject ({reasons})" if reasons else "Your reject")
    else:
        parts.append("Not decided yet")
    if review.rating:
        parts.append("★" * review.rating + "☆" * (MAX_RATING - review.rating))
    if review.label is not Label.NONE:
        parts.append(f"{review.label.value.capitalize()} label")
    return " · ".join(parts)


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return "unknown"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


class DetailsPanel(QWidget):
    openRequested = QtSignal()
    moreLikeThisRequested = QtSignal()

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._image: Image | None = None
        self.review_of: Callable[[str], Review] = lambda _image_id: BLANK
        # the configuration of the shoot that made an image (None: not a shoot of this app); it
        # calls the function given when it knows more (the catalogue's names have arrived)
        self.shoot_text_of: Callable[[str, Callable[[], None]], str | None] = (
            lambda _image_id, _refresh: None
        )
        self._aspect = 1.0  # height / width of the picture shown
        self.setMinimumWidth(260)
        self.setAccessibleName("Image details")

        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom)
        self.preview.setMinimumSize(PREVIEW_MIN, PREVIEW_MIN)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setObjectName("detailsPreview")
        self.preview.installEventFilter(self)

        self.name = QLabel()
        self.name.setWordWrap(True)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.name.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.name.setFont(font)
        self.image_id = QLabel()
        self.status = QLabel()
        self.decision = QLabel()
        self.decision.setWordWrap(True)
        self.decision.setAccessibleName("Your decision")
        self.voting = QLabel()
        self.voting.setToolTip(VOTING_NOTE)
        self.voting_note = QLabel(VOTING_NOTE)
        self.voting_note.setWordWrap(True)
        self.voting_note.setStyleSheet("color: palette(placeholder-text);")
        self.created = QLabel()
        self.shoot = QLabel()
        self.shoot.setWordWrap(True)
        self.shoot.setAccessibleName("Shoot")
        for label in (
            self.image_id,
            self.status,
            self.decision,
            self.voting,
            self.created,
            self.shoot,
        ):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.facts = QWidget()
        form = QFormLayout(self.facts)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("ID", self.image_id)
        form.addRow("Status", self.status)
        form.addRow("You", self.decision)
        form.addRow("Qamera", self.voting)
        form.addRow("", self.voting_note)
        form.addRow("Created", self.created)
        form.addRow("Made by", self.shoot)
        self._form = form

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
        self.more_like_this_button = QPushButton("More like this…")
        self.more_like_this_button.setToolTip(
            "A new shoot with the configuration that made this image"
        )
        self.more_like_this_button.clicked.connect(self.moreLikeThisRequested)

        self.empty = QLabel(NOTHING_SELECTED)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)

        self.content = QWidget()
        layout = QVBoxLayout(self.content)
        layout.addWidget(self.preview, 100)  # all the height it can use, before the spacer
        layout.addWidget(self.name)
        layout.addWidget(self.facts)
        layout.addLayout(buttons)
        layout.addWidget(self.more_like_this_button)
        layout.addWidget(self.empty, 100)
        layout.addStretch(1)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setWidget(self.content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroller)
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
            self.more_like_this_button.setVisible(False)
            self._loader.set_wanted("details", [], self._size())
            return
        self.name.setText(image.name or "(no name)")
        self.image_id.setText(image.id)
        label = status_label(image.status, image.progress)
        raw = image.status.strip()
        self.status.setText(label if raw.upper() == label.upper() else f"{label} ({raw})")
        self.voting.setText(voting_text(image.voting))
        self.show_review()
        self.created.setText(local_time(image.created_at))
        self.show_shoot()
        self.copy_url_button.setEnabled(bool(image.thumbnail))
        wanted = [image.thumbnail] if image.is_done else []
        self._loader.set_wanted("details", wanted, self._size())
        self._paint_preview()

    def show_review(self) -> None:
        """The designer's decision on the image shown, as it is now."""
        if self._image is not None:
            self.decision.setText(decision_text(self.review_of(self._image.id)))

    def show_shoot(self) -> None:
        """The configuration of the image's shoot, when this app made it (hidden otherwise);
        shown again when its source knows more."""
        image = self._image
        text = self.shoot_text_of(image.id, self.show_shoot) if image is not None else None
        self.shoot.setText(text or "")
        self._form.setRowVisible(self.shoot, bool(text))
        self.more_like_this_button.setVisible(bool(text))

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
        aspect = pixmap.height() / max(1, pixmap.width())
        if aspect != self._aspect:
            self._aspect = aspect
            self._fit_preview_height()
        target = self.preview.size() * self.devicePixelRatioF()
        scaled = pixmap.scaled(
            target, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        scaled.setDevicePixelRatio(self.devicePixelRatioF())
        self.preview.setPixmap(scaled)

    def _on_ready(self, urls: list[str]) -> None:
        if self._image is not None and self._image.thumbnail in urls:
            self._paint_preview()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # the preview's own size changes too when the name below it takes another line
        if watched is self.preview and event.type() == QEvent.Type.Resize:
            self._fit_preview_height()
            self._paint_preview()
        return super().eventFilter(watched, event)

    def _fit_preview_height(self) -> None:
        """No taller than the picture at the preview's width, so that the name follows the
        picture closely (the spare height goes below the buttons)."""
        height = max(PREVIEW_MIN, round(self.preview.width() * self._aspect))
        if self.preview.maximumHeight() != height:
            self.preview.setMaximumHeight(height)

    def _copy_id(self) -> None:
        if self._image is not None:
            QGuiApplication.clipboard().setText(self._image.id)

    def _copy_url(self) -> None:
        if self._image is not None and self._image.thumbnail:
            QGuiApplication.clipboard().setText(self._image.thumbnail)
