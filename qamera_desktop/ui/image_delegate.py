"""Paints one grid cell: the thumbnail (or a placeholder / broken mark), a status badge when the
status says something (not for a done image), the voting badge (approved, rejected, or any other
value as text), the designer's own review along the bottom of the thumbnail (flag and label on the
left, stars on the right; a rejected image is dimmed) and the name. Painting never loads anything;
the view asks the loader for rows. Each badge explains itself in a tooltip."""

from __future__ import annotations

import math

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QHelpEvent, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from qamera_desktop.api.records import Image, Progress
from qamera_desktop.core.review import BLANK, REASON_TEXT, Flag, Label, Review
from qamera_desktop.ui.cell_sprites import BADGE_MARGIN, CellSprites, Tile, badge_font
from qamera_desktop.ui.grid_geometry import CELL_MARGIN, TEXT_HEIGHT, cell_size, request_size
from qamera_desktop.ui.image_grid_model import ImageRole
from qamera_desktop.ui.status_style import (
    Vote,
    shows_status_badge,
    status_colour,
    status_label,
    status_tip,
    vote_of,
    voting_colour,
    voting_label,
    voting_text,
)
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

REJECTED_OPACITY = 0.35
STARS_BACKDROP = QColor(0, 0, 0, 150)


class Badge:
    """One badge over a thumbnail: where (logical pixels), its sprite and its tooltip."""

    __slots__ = ("kind", "pixmap", "rect", "tip")

    def __init__(self, rect: QRect, pixmap: QPixmap, tip: str, kind: str = "") -> None:
        self.rect = rect
        self.pixmap = pixmap
        self.tip = tip
        self.kind = kind  # "status", "voting", "pick", "reject", "stars", "label"


def review_tips(review: Review) -> dict[str, str]:
    """What each review badge says in its tooltip."""
    tips = {}
    if review.flag is Flag.PICK:
        tips["flag"] = "Your pick"
    elif review.flag is Flag.REJECT:
        reasons = ", ".join(REASON_TEXT[r] for r in review.reasons)
        tips["flag"] = f"Your reject: {reasons}" if reasons else "Your reject"
    if review.rating:
        tips["stars"] = f"{review.rating} of 5 stars"
    if review.label is not Label.NONE:
        tips["label"] = f"{review.label.value.capitalize()} label"
    return tips


def _logical_size(pixmap: QPixmap) -> QSize:
    """A sprite's size in logical pixels (its device pixels over its ratio)."""
    ratio = pixmap.devicePixelRatio()
    return QSize(
        math.ceil(pixmap.width() / ratio - 1e-6), math.ceil(pixmap.height() / ratio - 1e-6)
    )


class ImageDelegate(QStyledItemDelegate):
    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._sprites = CellSprites()
        self._elisions: dict[tuple[str, int, str], str] = {}
        self.thumb_size = 192
        # the width of the grid's cells (the view shares its spare width among them); items are
        # exactly as wide: QListView's batched layout starts each batch of items after the last
        # item's x, and an item narrower than its cell (centred in it) shifted every batch that
        # far to the right, wrapping a line early: a short line every batch (200 items)
        self.cell_width: int | None = None

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = cell_size(self.thumb_size)
        if self.cell_width is not None:
            size.setWidth(max(size.width(), self.cell_width))
        return size

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        image = index.data(ImageRole.IMAGE)
        if not isinstance(image, Image):
            return
        review = index.data(ImageRole.REVIEW)
        if not isinstance(review, Review):
            review = BLANK
        rect: QRect = option.rect
        state: QStyle.StateFlag = option.state
        palette: QPalette = option.palette
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        painter.save()
        # Sprites are blitted at whole pixels with no render hints: with Antialiasing or
        # SmoothPixmapTransform set, Qt draws a pixmap through its transform path, ~8x slower.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)

        # the highlight hugs the thumbnail and its name, centred in a cell that may be wider
        width = cell_size(self.thumb_size).width()
        box = QRect(rect.x() + max(0, (rect.width() - width) // 2), rect.y(), width, rect.height())
        cell = QRectF(box).adjusted(2, 2, -2, -2)
        if state & QStyle.StateFlag.State_Selected:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(Qt.PenStyle.NoPen)
            highlight = QColor(palette.color(QPalette.ColorRole.Highlight))
            highlight.setAlpha(70)
            painter.setBrush(highlight)
            painter.drawRoundedRect(cell, 8, 8)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

        side = self.thumb_size
        thumb = self._thumb_rect(rect)
        left = thumb.left()
        if review.flag is Flag.REJECT:  # rejected: dimmed, the badges stay clear
            painter.setOpacity(REJECTED_OPACITY)
            self._paint_thumbnail(painter, thumb, image, palette, ratio)
            painter.setOpacity(1.0)
        else:
            self._paint_thumbnail(painter, thumb, image, palette, ratio)
        for badge in self._badges(thumb, image, badge_font(option.font), ratio, review):
            painter.drawPixmap(badge.rect.topLeft(), badge.pixmap)

        text_rect = QRect(left, thumb.top() + side + 2, side, TEXT_HEIGHT - 2)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(
            text_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self._elided(image.name or image.id, painter.font(), side),
        )

        if state & QStyle.StateFlag.State_HasFocus:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 2)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell, 8, 8)
        painter.restore()

    def _paint_thumbnail(
        self, painter: QPainter, area: QRect, image: Image, palette: QPalette, ratio: float
    ) -> None:
        side = self.thumb_size
        backdrop = palette.color(QPalette.ColorRole.AlternateBase)
        mark = palette.color(QPalette.ColorRole.PlaceholderText)
        kind = Tile.PLACEHOLDER
        if image.is_failed:
            kind = Tile.BROKEN
        elif image.is_done:
            size = request_size(side, ratio)
            pixmap = self._loader.pixmap(image.thumbnail, size)
            if pixmap is not None and not pixmap.isNull():
                picture = self._sprites.picture(pixmap, side, ratio, backdrop)
                painter.drawPixmap(area.topLeft(), picture)
                return
            if self._loader.state(image.thumbnail, size) == "failed":
                # a picture that could not be loaded: the mark in the failed status colour
                kind, mark = Tile.BROKEN, status_colour(Progress.FAILED)
        painter.drawPixmap(area.topLeft(), self._sprites.tile(kind, side, ratio, backdrop, mark))

    def _thumb_rect(self, cell: QRect) -> QRect:
        """Where the thumbnail goes in `cell`: centred across, at the top."""
        side = self.thumb_size
        left = cell.x() + max(CELL_MARGIN, (cell.width() - side) // 2)
        return QRect(left, cell.y() + CELL_MARGIN, side, side)

    def _badges(
        self, area: QRect, image: Image, font: QFont, ratio: float, review: Review = BLANK
    ) -> list[Badge]:
        """The badges over the thumbnail `area`: the status top left (only when it says
        something), the voting top right, the designer's review along the bottom."""
        badges = []
        progress = image.progress
        top = area.top() + BADGE_MARGIN
        if shows_status_badge(progress):
            label = status_label(image.status, progress)
            pixmap = self._sprites.status_badge(label, status_colour(progress), font, ratio)
            rect = QRect(QPoint(area.left() + BADGE_MARGIN, top), _logical_size(pixmap))
            badges.append(Badge(rect, pixmap, status_tip(image.status, progress), "status"))
        vote = vote_of(image.voting)
        if vote is not Vote.NONE:
            side = self._sprites.round_badge_side(font)
            size = QSize(side, side)
            if vote is Vote.APPROVED:
                pixmap = self._sprites.approved_badge(font, ratio)
            elif vote is Vote.REJECTED:
                pixmap = self._sprites.rejected_badge(font, ratio)
            else:  # a value the app does not know: as it comes, in words
                label = voting_label(image.voting)
                pixmap = self._sprites.status_badge(label, voting_colour(image.voting), font, ratio)
                size = _logical_size(pixmap)
            right = area.left() + area.width() - BADGE_MARGIN
            rect = QRect(QPoint(right - size.width(), top), size)
            badges.append(Badge(rect, pixmap, voting_text(image.voting), "voting"))
        if not review.is_blank:
            badges.extend(self.review_badges(area, review, font, ratio))
        return badges

    def review_badges(self, area: QRect, review: Review, font: QFont, ratio: float) -> list[Badge]:
        """The designer's review over the thumbnail `area`: the flag, then the label, bottom
        left; the stars bottom right. Each a cached sprite."""
        badges = []
        tips = review_tips(review)
        side = self._sprites.review_badge_side(font)
        bottom = area.top() + area.height() - BADGE_MARGIN - side
        x = area.left() + BADGE_MARGIN
        if review.flag is not Flag.NONE:
            pixmap = self._sprites.flag_badge(review.flag, font, ratio)
            rect = QRect(x, bottom, side, side)
            badges.append(Badge(rect, pixmap, tips["flag"], review.flag.value))
            x += side + 3
        if review.label is not Label.NONE:
            pixmap = self._sprites.label_badge(review.label, font, ratio)
            badges.append(Badge(QRect(x, bottom, side, side), pixmap, tips["label"], "label"))
            x += side + 3
        if review.rating:
            right = area.left() + area.width() - BADGE_MARGIN
            width = self._sprites.stars_badge_width(review.rating, font)
            if right - width >= x:
                pixmap = self._sprites.stars_badge(review.rating, font, ratio)
                rect = QRect(right - width, bottom, width, side)
            else:  # small thumbnails: "★ 4" rather than stars over the flag
                text = f"★ {review.rating}"
                pixmap = self._sprites.status_badge(text, STARS_BACKDROP, font, ratio)
                size = _logical_size(pixmap)
                rect = QRect(right - size.width(), bottom + side - size.height(), *size.toTuple())
            badges.append(Badge(rect, pixmap, tips["stars"], "stars"))
        return badges

    def badge_tip(
        self, cell: QRect, image: Image, pos: QPoint, font: QFont, review: Review = BLANK
    ) -> str | None:
        """The tooltip of the badge under `pos` in `cell` (None: no badge there)."""
        for badge in self._badges(self._thumb_rect(cell), image, badge_font(font), 1.0, review):
            if badge.rect.contains(pos):
                return badge.tip
        return None

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        """Over a badge, its tooltip says what it means; elsewhere the model's tooltip."""
        image = index.data(ImageRole.IMAGE)
        review = index.data(ImageRole.REVIEW)
        if not isinstance(review, Review):
            review = BLANK
        if event.type() == QEvent.Type.ToolTip and isinstance(image, Image):
            tip = self.badge_tip(option.rect, image, event.pos(), option.font, review)
            if tip is not None:
                QToolTip.showText(event.globalPos(), tip, view.viewport())
                return True
        return super().helpEvent(event, view, option, index)

    def _elided(self, text: str, font: QFont, width: int) -> str:
        key = (text, width, font.key())
        found = self._elisions.get(key)
        if found is None:
            if len(self._elisions) > 4096:
                self._elisions.clear()
            metrics = self._sprites.metrics(font)
            found = self._elisions[key] = metrics.elidedText(
                text, Qt.TextElideMode.ElideRight, width
            )
        return found
