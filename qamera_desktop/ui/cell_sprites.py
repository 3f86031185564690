"""Pre-rendered pieces of a grid cell: the thumbnail area's backdrop (plain, with the placeholder
glyph, or with the broken-image mark), the status badge and the voting badges (approved: a check,
rejected: a cross; any other voting value is a text badge like the status one), and the designer's
own review: the flag (pick: a white flag on green, reject: a white flag crossed out on red), the
stars and the colour label.

A screen of cells then paints with a few drawPixmap calls per cell instead of dozens of
antialiased path operations (a full 1280x800 grid: ~15 ms -> a few ms), which leaves the GUI
thread free while thumbnails stream in. Sprites are keyed by everything that changes their look
(size, device pixel ratio, colours, font, text) and kept in a small LRU.

While culling the screen fills up with decided cells: their review badges (flag, label, stars)
are composed once per look into one strip (`review_strip`), and the selected cell's tint and the
current cell's focus ring are sprites too (an antialiased rounded rectangle of a cell's size costs
~90 µs to fill, its sprite ~12 µs to blit).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from enum import StrEnum
from typing import NamedTuple

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPixmap

from qamera_desktop.core.byte_lru import ByteLRU
from qamera_desktop.core.review import Flag, Label
from qamera_desktop.ui.status_style import APPROVED_COLOUR, REJECTED_COLOUR

PICK_COLOUR = QColor("#2f9e44")
REJECT_COLOUR = QColor("#e03131")
STAR_COLOUR = QColor("#ffd43b")
STARS_BACKDROP = QColor(0, 0, 0, 150)
LABEL_COLOURS: dict[Label, QColor] = {
    Label.RED: QColor("#fa5252"),
    Label.YELLOW: QColor("#fcc419"),
    Label.GREEN: QColor("#40c057"),
    Label.BLUE: QColor("#339af0"),
    Label.PURPLE: QColor("#9c36b5"),
}

BADGE_PAD = 5
BADGE_MARGIN = 6
REVIEW_GAP = 3  # between the flag and the label
CELL_RADIUS = 8  # of the selected cell's tint and the focus ring
FOCUS_PEN = 2


class Tile(StrEnum):
    PLACEHOLDER = "placeholder"  # still loading, or not generated yet
    BROKEN = "broken"  # failed to generate, or the thumbnail could not be loaded


def _pixmap_bytes(pixmap: QPixmap) -> int:
    return max(1, pixmap.width() * pixmap.height() * 4)


def badge_font(base: QFont) -> QFont:
    font = QFont(base)
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
    font.setBold(True)
    return font


def logical_size(pixmap: QPixmap) -> QSize:
    """A sprite's size in logical pixels (its device pixels over its ratio)."""
    ratio = pixmap.devicePixelRatio()
    return QSize(
        math.ceil(pixmap.width() / ratio - 1e-6), math.ceil(pixmap.height() / ratio - 1e-6)
    )


class ReviewPlace(NamedTuple):
    """One of the review badges along the bottom of a thumbnail: what it is ("pick", "reject",
    "label" or "stars"), where (logical pixels, from the top left of the thumbnail) and its
    sprite."""

    kind: str
    rect: QRect
    pixmap: QPixmap


class CellSprites:
    def __init__(self, limit: int = 256, picture_bytes: int = 16 * 2**20) -> None:
        self._cache: OrderedDict[Hashable, QPixmap] = OrderedDict()
        self._limit = limit
        self._metrics: dict[str, QFontMetrics] = {}
        # composed review strips; a dict, not the LRU: tiles and badges are asked for on every
        # paint, strips on every decided cell's, and one must not push the other out
        self._strips: dict[Hashable, tuple[QPoint, QPixmap]] = {}
        # thumbnails fitted to their cell with rounded corners (~4 screens at 192 px)
        self._picture_bytes = picture_bytes
        self._pictures: ByteLRU[tuple[int, int, float, int], QPixmap] = ByteLRU(
            picture_bytes, _pixmap_bytes
        )

    def __len__(self) -> int:
        return len(self._cache)

    def picture(self, thumbnail: QPixmap, side: int, ratio: float, backdrop: QColor) -> QPixmap:
        """`thumbnail` scaled to fit a `side` square on the backdrop tile, centred, with rounded
        corners. Scaled and rounded once per thumbnail and size, then one blit per paint."""
        key = (thumbnail.cacheKey(), side, ratio, backdrop.rgba())
        # the budget is for ratio 1: four times the bytes at ratio 2 hold as many pictures
        self._pictures.max_bytes = max(self._picture_bytes, int(self._picture_bytes * ratio**2))
        found = self._pictures.get(key)
        if found is None:
            found = self._render_picture(thumbnail, side, ratio, backdrop)
            self._pictures.put(key, found)
        return found

    def tile(self, kind: Tile, side: int, ratio: float, backdrop: QColor, mark: QColor) -> QPixmap:
        key = ("tile", kind, side, ratio, backdrop.rgba(), mark.rgba())
        return self._get(key, lambda: self._render_tile(kind, side, ratio, backdrop, mark))

    def status_badge(self, label: str, colour: QColor, font: QFont, ratio: float) -> QPixmap:
        key = ("status", label, colour.rgba(), font.key(), ratio)
        return self._get(key, lambda: self._render_status(label, colour, font, ratio))

    def approved_badge(self, font: QFont, ratio: float) -> QPixmap:
        """A check in an orange disc, `round_badge_side(font)` across."""
        key = ("approved", font.key(), ratio)
        return self._get(key, lambda: self._render_approved(font, ratio))

    def rejected_badge(self, font: QFont, ratio: float) -> QPixmap:
        """A cross in a grey disc, as large as the approved badge."""
        key = ("rejected", font.key(), ratio)
        return self._get(key, lambda: self._render_rejected(font, ratio))

    def flag_badge(self, flag: Flag, font: QFont, ratio: float) -> QPixmap:
        """The designer's pick (a flag on green) or reject (the flag crossed out on red),
        `review_badge_side(font)` across."""
        key = ("flag", flag.value, font.key(), ratio)
        return self._get(key, lambda: self._render_flag(flag, font, ratio))

    def stars_badge(self, rating: int, font: QFont, ratio: float) -> QPixmap:
        """`rating` stars on a dark pill, `review_badge_side(font)` tall."""
        key = ("stars", rating, font.key(), ratio)
        return self._get(key, lambda: self._render_stars(rating, font, ratio))

    def label_badge(self, label: Label, font: QFont, ratio: float) -> QPixmap:
        """A disc of the label's colour with a white rim."""
        key = ("label", label.value, font.key(), ratio)
        return self._get(key, lambda: self._render_label(label, font, ratio))

    def review_places(
        self, flag: Flag, rating: int, label: Label, side: int, font: QFont, ratio: float
    ) -> list[ReviewPlace]:
        """The designer's review over a thumbnail `side` wide: the flag, then the label, bottom
        left; the stars bottom right, or "★ 4" where the stars would run into the flag (small
        thumbnails). Each a cached sprite."""
        places = []
        height = self.review_badge_side(font)
        bottom = side - BADGE_MARGIN - height
        x = BADGE_MARGIN
        if flag is not Flag.NONE:
            pixmap = self.flag_badge(flag, font, ratio)
            places.append(ReviewPlace(flag.value, QRect(x, bottom, height, height), pixmap))
            x += height + REVIEW_GAP
        if label is not Label.NONE:
            pixmap = self.label_badge(label, font, ratio)
            places.append(ReviewPlace("label", QRect(x, bottom, height, height), pixmap))
            x += height + REVIEW_GAP
        if rating:
            right = side - BADGE_MARGIN
            width = self.stars_badge_width(rating, font)
            if right - width >= x:
                pixmap = self.stars_badge(rating, font, ratio)
                rect = QRect(right - width, bottom, width, height)
            else:
                pixmap = self.status_badge(f"★ {rating}", STARS_BACKDROP, font, ratio)
                size = logical_size(pixmap)
                rect = QRect(QPoint(right - size.width(), bottom + height - size.height()), size)
            places.append(ReviewPlace("stars", rect, pixmap))
        return places

    def review_strip(
        self, flag: Flag, rating: int, label: Label, side: int, font: QFont, ratio: float
    ) -> tuple[QPoint, QPixmap] | None:
        """The badges of `review_places` composed into one sprite, and where it goes (from the
        top left of the thumbnail): a decided cell paints its review with one blit. None for a
        review that shows nothing."""
        key = ("strip", flag.value, rating, label.value, side, font.key(), ratio)
        found = self._strips.get(key)
        if found is None:
            places = self.review_places(flag, rating, label, side, font, ratio)
            if not places:
                return None
            found = self._strips[key] = self._render_strip(places, ratio)
            if len(self._strips) > self._limit:
                self._strips.pop(next(iter(self._strips)))
        return found

    def highlight(self, size: QSize, colour: QColor, ratio: float) -> QPixmap:
        """The selected cell's tint: a rounded rectangle of `colour`, 2 px inside `size`."""
        key = ("highlight", size.width(), size.height(), colour.rgba(), ratio)
        return self._get(
            key, lambda: self._render_frame(size, ratio, QPen(Qt.PenStyle.NoPen), colour)
        )

    def focus_ring(self, size: QSize, colour: QColor, ratio: float) -> QPixmap:
        """The current cell's ring: a rounded outline of `colour`, 2 px inside `size`."""
        key = ("focus", size.width(), size.height(), colour.rgba(), ratio)
        return self._get(
            key, lambda: self._render_frame(size, ratio, QPen(colour, FOCUS_PEN), None)
        )

    def review_badge_side(self, font: QFont) -> int:
        """The logical height of the review badges: a little larger than the voting badges,
        being what the designer looks for while culling."""
        return round(self.round_badge_side(font) * 1.25)

    def stars_badge_width(self, rating: int, font: QFont) -> int:
        side = self.review_badge_side(font)
        return round(rating * side * 0.8 + side * 0.4)

    def round_badge_side(self, font: QFont) -> int:
        """The logical size of the approved and rejected badges."""
        return self.metrics(font).height() + 4

    def status_badge_size(self, label: str, font: QFont) -> tuple[float, float]:
        """The logical width and height of `status_badge(label, ...)`."""
        metrics = self.metrics(font)
        return metrics.horizontalAdvance(label) + 2 * BADGE_PAD, metrics.height() + 2

    def metrics(self, font: QFont) -> QFontMetrics:
        found = self._metrics.get(font.key())
        if found is None:
            found = self._metrics[font.key()] = QFontMetrics(font)
        return found

    # -- internals ---------------------------------------------------------------------------
    def _get(self, key: Hashable, render: Callable[[], QPixmap]) -> QPixmap:
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        pixmap = render()
        self._cache[key] = pixmap
        if len(self._cache) > self._limit:
            self._cache.popitem(last=False)
        return pixmap

    @staticmethod
    def _canvas(width: float, height: float, ratio: float) -> tuple[QPixmap, QPainter]:
        pixmap = QPixmap(math.ceil(width * ratio), math.ceil(height * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        return pixmap, painter

    def _render_tile(
        self, kind: Tile, side: int, ratio: float, backdrop: QColor, mark: QColor
    ) -> QPixmap:
        pixmap, painter = self._canvas(side, side, ratio)
        area = QRectF(0, 0, side, side)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(backdrop)
        painter.drawRoundedRect(area, 6, 6)
        if kind is Tile.PLACEHOLDER:
            _placeholder_glyph(painter, area, QColor(mark))
        elif kind is Tile.BROKEN:
            _broken_glyph(painter, area, mark)
        painter.end()
        return pixmap

    def _render_strip(self, places: Sequence[ReviewPlace], ratio: float) -> tuple[QPoint, QPixmap]:
        bounds = QRect()
        for place in places:
            bounds = bounds.united(place.rect)
        pixmap = QPixmap(math.ceil(bounds.width() * ratio), math.ceil(bounds.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)  # no render hints: each badge is blitted as it would be alone
        for place in places:
            painter.drawPixmap(place.rect.topLeft() - bounds.topLeft(), place.pixmap)
        painter.end()
        return bounds.topLeft(), pixmap

    def _render_frame(self, size: QSize, ratio: float, pen: QPen, fill: QColor | None) -> QPixmap:
        pixmap, painter = self._canvas(size.width(), size.height(), ratio)
        painter.setPen(pen)
        painter.setBrush(fill if fill is not None else Qt.BrushStyle.NoBrush)
        area = QRectF(0, 0, size.width(), size.height()).adjusted(2, 2, -2, -2)
        painter.drawRoundedRect(area, CELL_RADIUS, CELL_RADIUS)
        painter.end()
        return pixmap

    def _render_picture(
        self, thumbnail: QPixmap, side: int, ratio: float, backdrop: QColor
    ) -> QPixmap:
        pixmap, painter = self._canvas(side, side, ratio)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(backdrop)
        painter.drawRoundedRect(QRectF(0, 0, side, side), 6, 6)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        w, h = thumbnail.width(), thumbnail.height()
        scale = min(side / w, side / h)
        target = QRectF(0, 0, w * scale, h * scale)
        target.moveCenter(QPointF(side / 2, side / 2))
        clip = QPainterPath()
        clip.addRoundedRect(target, 6, 6)
        painter.setClipPath(clip)
        painter.drawPixmap(target, thumbnail, QRectF(thumbnail.rect()))
        painter.end()
        return pixmap

    def _render_status(self, label: str, colour: QColor, font: QFont, ratio: float) -> QPixmap:
        badge = QRectF(0, 0, *self.status_badge_size(label, font))
        pixmap, painter = self._canvas(badge.width(), badge.height(), ratio)
        painter.setFont(font)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
        painter.end()
        return pixmap

    def _render_approved(self, font: QFont, ratio: float) -> QPixmap:
        tick = ((0.28, 0.52), (0.44, 0.68), (0.74, 0.34))
        return self._render_mark(APPROVED_COLOUR, [tick[0:2], tick[1:3]], font, ratio)

    def _render_rejected(self, font: QFont, ratio: float) -> QPixmap:
        cross = [((0.33, 0.33), (0.67, 0.67)), ((0.67, 0.33), (0.33, 0.67))]
        return self._render_mark(REJECTED_COLOUR, cross, font, ratio)

    def _render_mark(
        self,
        colour: QColor,
        strokes: Sequence[Sequence[tuple[float, float]]],
        font: QFont,
        ratio: float,
    ) -> QPixmap:
        """A round badge with white strokes, given as pairs of points in fractions of its side."""
        d = self.round_badge_side(font)
        pixmap, painter = self._canvas(d, d, ratio)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(QRectF(0, 0, d, d))
        painter.setPen(QPen(QColor("white"), 2))
        for (x1, y1), (x2, y2) in strokes:
            painter.drawLine(QPointF(d * x1, d * y1), QPointF(d * x2, d * y2))
        painter.end()
        return pixmap

    def _render_flag(self, flag: Flag, font: QFont, ratio: float) -> QPixmap:
        d = self.review_badge_side(font)
        pixmap, painter = self._canvas(d, d, ratio)
        painter.setPen(QPen(QColor(255, 255, 255, 200), 1.2))
        painter.setBrush(PICK_COLOUR if flag is Flag.PICK else REJECT_COLOUR)
        painter.drawEllipse(QRectF(0.6, 0.6, d - 1.2, d - 1.2))
        white = QColor("white")
        painter.setPen(QPen(white, 1.6))
        pole_x = d * 0.34
        painter.drawLine(QPointF(pole_x, d * 0.24), QPointF(pole_x, d * 0.78))
        cloth = QPainterPath(QPointF(pole_x, d * 0.25))
        cloth.lineTo(d * 0.72, d * 0.36)
        cloth.lineTo(pole_x, d * 0.5)
        cloth.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(white)
        painter.drawPath(cloth)
        if flag is Flag.REJECT:
            painter.setPen(QPen(white, 2))
            painter.drawLine(QPointF(d * 0.2, d * 0.8), QPointF(d * 0.8, d * 0.2))
        painter.end()
        return pixmap

    def _render_stars(self, rating: int, font: QFont, ratio: float) -> QPixmap:
        h = self.review_badge_side(font)
        w = self.stars_badge_width(rating, font)
        pixmap, painter = self._canvas(w, h, ratio)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(QRectF(0, 0, w, h), h / 2, h / 2)
        painter.setBrush(STAR_COLOUR)
        step = h * 0.8
        for n in range(rating):
            centre = QPointF(h * 0.2 + step * (n + 0.5), h / 2)
            painter.drawPath(_star(centre, step * 0.46))
        painter.end()
        return pixmap

    def _render_label(self, label: Label, font: QFont, ratio: float) -> QPixmap:
        d = self.review_badge_side(font)
        pixmap, painter = self._canvas(d, d, ratio)
        painter.setPen(QPen(QColor("white"), 1.5))
        painter.setBrush(LABEL_COLOURS.get(label, QColor("#868e96")))
        inset = 1.0
        painter.drawEllipse(QRectF(inset, inset, d - 2 * inset, d - 2 * inset))
        painter.end()
        return pixmap


def _star(centre: QPointF, radius: float) -> QPainterPath:
    """A five-pointed star around `centre`."""
    path = QPainterPath()
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.45
        angle = math.pi * (-0.5 + k / 5)
        point = QPointF(centre.x() + r * math.cos(angle), centre.y() + r * math.sin(angle))
        if k == 0:
            path.moveTo(point)
        else:
            path.lineTo(point)
    path.closeSubpath()
    return path


def _placeholder_glyph(painter: QPainter, area: QRectF, colour: QColor) -> None:
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


def _broken_glyph(painter: QPainter, area: QRectF, colour: QColor) -> None:
    """The broken-image mark: a frame with a cross."""
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
