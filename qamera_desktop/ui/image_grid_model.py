"""A thin QAbstractListModel over the core ImageLibrary's list.

It never owns the data: it mirrors `ImageLibrary.images` and turns each library patch into the
matching begin/end row calls, so views keep their selection, current index and scroll position.
Thumbnails come from the ThumbnailLoader; when one arrives, only that row is announced (batched).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtCore import Signal as QtSignal

from qamera_desktop.api.records import Image
from qamera_desktop.core.image_library import ImageLibrary, LibraryState
from qamera_desktop.core.list_diff import ListPatch
from qamera_desktop.core.review import Flag, Label, Review
from qamera_desktop.ui.status_style import (
    Vote,
    shows_status_badge,
    status_tip,
    vote_of,
    voting_text,
)

type AnyIndex = QModelIndex | QPersistentModelIndex


class ImageRole(IntEnum):
    IMAGE = Qt.ItemDataRole.UserRole + 1  # the Image record
    ID = Qt.ItemDataRole.UserRole + 2
    STATUS = Qt.ItemDataRole.UserRole + 3  # the server's status string
    PROGRESS = Qt.ItemDataRole.UserRole + 4  # core Progress value
    APPROVED = Qt.ItemDataRole.UserRole + 5  # bool
    THUMBNAIL_URL = Qt.ItemDataRole.UserRole + 6
    VOTING = Qt.ItemDataRole.UserRole + 7  # the server's voting string, or None
    REVIEW = Qt.ItemDataRole.UserRole + 8  # the designer's own Review (core/review.py)


def tile_tip(image: Image) -> str:
    """A tile's tooltip: its name, the Qamera voting when there is one, the status unless done."""
    lines = [image.name or image.id]
    if vote_of(image.voting) is not Vote.NONE:
        lines.append(voting_text(image.voting))
    if shows_status_badge(image.progress):
        lines.append(status_tip(image.status, image.progress))
    return "\n".join(lines)


class ImageGridModel(QAbstractListModel):
    stateChanged = QtSignal(object)  # LibraryState
    countChanged = QtSignal(int)
    patchStarted = QtSignal()  # around the row removals and insertions of one library patch
    patchFinished = QtSignal()

    def __init__(self, library: ImageLibrary, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._images: list[Image] = list(library.images)
        self._row_by_id: dict[str, int] | None = None
        self.patching = False
        library.add_listener(self)

    # -- Qt model interface ------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._images)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._images):
            return None
        image = self._images[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return image.name or image.id
            case Qt.ItemDataRole.ToolTipRole:
                return tile_tip(image)
            case Qt.ItemDataRole.AccessibleTextRole:
                voted = (
                    "" if vote_of(image.voting) is Vote.NONE else f", {voting_text(image.voting)}"
                )
                decided = review_words(self._library.review(image.id))
                return f"{image.name or image.id}, {image.status}{voted}{decided}"
            case ImageRole.IMAGE:
                return image
            case ImageRole.ID:
                return image.id
            case ImageRole.STATUS:
                return image.status
            case ImageRole.PROGRESS:
                return image.progress.value
            case ImageRole.APPROVED:
                return image.is_approved
            case ImageRole.VOTING:
                return image.voting
            case ImageRole.THUMBNAIL_URL:
                return image.thumbnail
            case ImageRole.REVIEW:
                return self._library.review(image.id)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        names.update({int(r): QByteArray(r.name.lower().encode()) for r in ImageRole})
        return names

    # -- lookups -----------------------------------------------------------------------------
    def image_at(self, row: int) -> Image | None:
        return self._images[row] if 0 <= row < len(self._images) else None

    def row_of(self, image_id: str) -> int:
        if not self.patching and len(self._images) == len(self._library.images):
            return self._library.row_of(image_id)  # the same list: a binary search there
        if self._row_by_id is None:
            self._row_by_id = {image.id: row for row, image in enumerate(self._images)}
        return self._row_by_id.get(image_id, -1)

    def images(self) -> Sequence[Image]:
        return self._images

    def announce_rows(self, rows: Sequence[int]) -> None:
        """Thumbnails of these rows changed: emit one dataChanged over their span."""
        valid = [r for r in rows if 0 <= r < len(self._images)]
        if valid:
            self.dataChanged.emit(
                self.index(min(valid)), self.index(max(valid)), [Qt.ItemDataRole.DecorationRole]
            )

    # -- library listener --------------------------------------------------------------------
    def library_reset(self, images: Sequence[Image]) -> None:
        self.beginResetModel()
        self._images = list(images)
        self._row_by_id = None
        self.endResetModel()
        self.countChanged.emit(len(self._images))

    def library_patched(self, patch: ListPatch[Image], images: Sequence[Image]) -> None:
        moving = bool(patch.removals or patch.insertions)
        if moving:
            self.patching = True
            self.patchStarted.emit()
        for first, last in patch.removals:
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._images[first : last + 1]
            self.endRemoveRows()
        for row, inserted in patch.insertions:
            self.beginInsertRows(QModelIndex(), row, row + len(inserted) - 1)
            self._images[row:row] = inserted
            self.endInsertRows()
        for row in patch.changed:
            self._images[row] = images[row]
        if moving:  # rows that only changed keep their place (a decision, most often)
            self._row_by_id = None
            self.patching = False
            self.patchFinished.emit()
        for first, last in _spans(patch.changed):
            self.dataChanged.emit(self.index(first), self.index(last))
        if patch.removals or patch.insertions:
            self.countChanged.emit(len(self._images))

    def library_state_changed(self, state: LibraryState) -> None:
        self.stateChanged.emit(state)


def review_words(review: Review) -> str:
    """The designer's review for a screen reader: ", your pick, 3 stars, red label"."""
    words = []
    if review.flag is not Flag.NONE:
        words.append(f"your {review.flag.value}")
    if review.rating:
        words.append(f"{review.rating} star" + ("" if review.rating == 1 else "s"))
    if review.label is not Label.NONE:
        words.append(f"{review.label.value} label")
    return "".join(f", {w}" for w in words)


def _spans(rows: Sequence[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for row in rows:
        if spans and spans[-1][1] == row - 1:
            spans[-1] = (spans[-1][0], row)
        else:
            spans.append((row, row))
    return spans
