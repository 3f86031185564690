"""Paints one grid cell: the thumbnail (or a placeholder / broken mark), a status badge, an
approved badge and the name. Painting never loads anything; the view asks the loader for rows."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from qamera_desktop.api.records import Image
from qamera_desktop.ui.grid_geometry import CELL_MARGIN, TEXT_HEIGHT, cell_size, request_size
from qamera_desktop.ui.image_grid_model import ImageRole
from qamera_desktop.ui.status_style import APPROVED_COLOUR, status_colour, status_label
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader


class ImageDelegate(QStyledItemDelegate):
    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
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
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)

        cell = QRectF(rect).adjusted(2, 2, -2, -2)
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            highlight = QColor(palette.color(QPalette.ColorRole.Highlight))
            highlight.setAlpha(70)
            painter.setBrush(highlight)
            painter.drawRoundedRect(cell, 8, 8)

        side = self.thumb_size
        left = rect.x() + max(CELL_MARGIN, (rect.width() - side) // 2)
        thumb = QRectF(left, rect.y() + CELL_MARGIN, side, side)
        self._paint_thumbnail(painter, thumb, image, palette)
        self._paint_badges(painter, thumb, image)

        text_rect = QRect(int(left), int(thumb.bottom()) + 2, side, TEXT_HEIGHT - 2)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        metrics = QFontMetrics(painter.font())
        name = metrics.elidedText(image.name or image.id, Qt.TextElideMode.ElideRight, side)
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name
        )

        if state & QStyle.StateFlag.State_HasFocus:
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 2)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell, 8, 8)
        painter.restore()

    def _paint_thumbnail(
        self, painter: QPainter, area: QRectF, image: Image, palette: QPalette
    ) -> None:
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        size = request_size(self.thumb_size, ratio)
        backdrop = QColor(palette.color(QPalette.ColorRole.AlternateBase))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(backdrop)
        painter.drawRoundedRect(area, 6, 6)
        mark = QColor(palette.color(QPalette.ColorRole.PlaceholderText))
        if image.is_failed:
            self._paint_broken(painter, area, mark)
            return
        if not image.is_done:
            self._paint_placeholder(painter, area, mark)
            return
        pixmap = self._loader.pixmap(image.thumbnail, size)
        if pixmap is not None and not pixmap.isNull():
            w, h = pixmap.width(), pixmap.height()
            scale = min(area.width() / w, area.height() / h)
            target = QRectF(0, 0, w * scale, h * scale)
            target.moveCenter(area.center())
            clip = QPainterPath()
            clip.addRoundedRect(target, 6, 6)
            painter.save()
            painter.setClipPath(clip)
            painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
            painter.restore()
            return
        if self._loader.state(image.thumbnail, size) == "failed":
            self._paint_broken(painter, area, QColor("#e03131"))
        else:
            self._paint_placeholder(painter, area, mark)

    @staticmethod
    def _paint_placeholder(painter: QPainter, area: QRectF, colour: QColor) -> None:
        """A quiet picture glyph: a frame, a sun and a hill."""
        s = min(area.width(), area.height()) * 0.28
        box = QRectF(0, 0, s, s * 0.8)
        box.moveCenter(area.center())
        colour.setAlpha(140)
        painter.setPen(QPen(colour, max(1.5, s / 20)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, s / 10, s / 10)
        painter.drawEllipse(QPointF(box.left() + s * 0.3, box.top() + s * 0.28), s * 0.09, s * 0.09)
        hill = QPainterPath(QPointF(box.left() + s * 0.1, box.bottom() - s * 0.1))
        hill.lineTo(box.left() + s * 0.45, box.top() + s * 0.4)
        hill.lineTo(box.left() + s * 0.65, box.top() + s * 0.55)
        hill.lineTo(box.right() - s * 0.1, box.bottom() - s * 0.1)
        painter.drawPath(hill)

    @staticmethod
    def _paint_broken(painter: QPainter, area: QRectF, colour: QColor) -> None:
        """The broken-image mark: a torn frame with a cross."""
        s = min(area.width(), area.height()) * 0.28
        box = QRectF(0, 0, s, s * 0.8)
        box.moveCenter(area.center())
        painter.setPen(QPen(colour, max(1.5, s / 18)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, s / 10, s / 10)
        inset = s * 0.25
        painter.drawLine(
            QPointF(box.left() + inset, box.top() + inset),
            QPointF(box.right() - inset, box.bottom() - inset),
        )
        painter.drawLine(
            QPointF(box.right() - inset, box.top() + inset),
            QPointF(box.left() + inset, box.bottom() - inset),
        )

    def _paint_badges(self, painter: QPainter, area: QRectF, image: Image) -> None:
        painter.save()
        font = QFont(painter.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        label = status_label(image.status, image.progress)
        pad = 5
        badge = QRectF(
            area.left() + 6,
            area.top() + 6,
            metrics.horizontalAdvance(label) + 2 * pad,
            metrics.height() + 2,
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(status_colour(image.progress))
        painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
        if image.is_approved:
            d = metrics.height() + 4
            star = QRectF(area.right() - 6 - d, area.top() + 6, d, d)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(APPROVED_COLOUR)
            painter.drawEllipse(star)
            painter.setPen(QPen(QColor("white"), 2))
            painter.drawLine(
                QPointF(star.left() + d * 0.28, star.top() + d * 0.52),
                QPointF(star.left() + d * 0.44, star.top() + d * 0.68),
            )
            painter.drawLine(
                QPointF(star.left() + d * 0.44, star.top() + d * 0.68),
                QPointF(star.left() + d * 0.74, star.top() + d * 0.34),
            )
        painter.restore()
