"""Paints one grid cell: the thumbnail (or a placeholder / broken mark), a status badge, an
approved badge and the name. Painting never loads anything; the view asks the loader for rows."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from qamera_desktop.api.records import Image, Progress
from qamera_desktop.ui.cell_sprites import BADGE_MARGIN, CellSprites, Tile, badge_font
from qamera_desktop.ui.grid_geometry import CELL_MARGIN, TEXT_HEIGHT, cell_size, request_size
from qamera_desktop.ui.image_grid_model import ImageRole
from qamera_desktop.ui.status_style import status_colour, status_label
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader


class ImageDelegate(QStyledItemDelegate):
    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._sprites = CellSprites()
        self._elisions: dict[tuple[str, int, str], str] = {}
        self.thumb_size = 192

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return cell_size(self.thumb_size)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        image = index.data(ImageRole.IMAGE)
        if not isinstance(image, Image):
            return
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

        cell = QRectF(rect).adjusted(2, 2, -2, -2)
        if state & QStyle.StateFlag.State_Selected:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(Qt.PenStyle.NoPen)
            highlight = QColor(palette.color(QPalette.ColorRole.Highlight))
            highlight.setAlpha(70)
            painter.setBrush(highlight)
            painter.drawRoundedRect(cell, 8, 8)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

        side = self.thumb_size
        left = rect.x() + max(CELL_MARGIN, (rect.width() - side) // 2)
        thumb = QRect(left, rect.y() + CELL_MARGIN, side, side)
        self._paint_thumbnail(painter, thumb, image, palette, ratio)
        self._paint_badges(painter, thumb, image, ratio)

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

    def _paint_badges(self, painter: QPainter, area: QRect, image: Image, ratio: float) -> None:
        font = badge_font(painter.font())
        progress = image.progress
        badge = self._sprites.status_badge(
            status_label(image.status, progress), status_colour(progress), font, ratio
        )
        painter.drawPixmap(QPoint(area.left() + BADGE_MARGIN, area.top() + BADGE_MARGIN), badge)
        if image.is_approved:
            star = self._sprites.approved_badge(font, ratio)
            d = self._sprites.metrics(font).height() + 4  # the badge's logical size
            painter.drawPixmap(
                QPoint(area.left() + area.width() - BADGE_MARGIN - d, area.top() + BADGE_MARGIN),
                star,
            )

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
