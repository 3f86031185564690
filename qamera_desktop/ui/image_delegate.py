"""Paints one grid cell: the thumbnail (or a placeholder / broken mark), a status badge when the
status says something (not for a done image), the voting badge (approved, rejected, or any other
value as text), the designer's own review along the bottom of the thumbnail (flag and label on the
left, stars on the right; a rejected image is dimmed) and the name. Painting never loads anything;
the view asks the loader for rows. Each badge explains itself in a tooltip.

While culling, the grid paints a screen of cells after every decision (a keypress must be decided
and shown within a frame), so a paint does no work that another paint did already: what every
cell shares (the palette's colours, the badge font, the size, the device pixel ratio) is worked out
once (`_Look`); the badges of each combination of status, voting and review are laid out once into
at most three sprites, the review's composed into one strip (`_overlay`); names are elided once;
tooltips are worked out only when one is asked for. A cell then paints with a few blits and one
drawText (~100 -> ~35 µs per decided cell, `tests/perf/bench_review.py`)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QHelpEvent, QPainter, QPalette, QPixmap
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
from qamera_desktop.ui.cell_sprites import (
    BADGE_MARGIN,
    CellSprites,
    Tile,
    badge_font,
    logical_size,
)
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
HIGHLIGHT_ALPHA = 70
OVERLAYS_KEPT = 1024  # looks of status, voting and review remembered per _Look

# looked up once: a Qt enum's attribute or operator costs about a microsecond in Python
_IMAGE_ROLE = ImageRole.IMAGE
_REVIEW_ROLE = ImageRole.REVIEW
_SELECTED = QStyle.StateFlag.State_Selected.value
_HAS_FOCUS = QStyle.StateFlag.State_HasFocus.value
_ANTIALIASING = QPainter.RenderHint.Antialiasing
_SMOOTH_PIXMAPS = QPainter.RenderHint.SmoothPixmapTransform
_NAME_ALIGNMENT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_FAILED_MARK = status_colour(Progress.FAILED)

type Overlay = tuple[tuple[int, int, QPixmap], ...]  # sprites, from the thumbnail's top left


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


class _Look:
    """What every cell of a paint shares, worked out once per palette (and its colour group),
    fonts, device pixel ratio and thumbnail size; with the overlays and elided names made for
    it."""

    __slots__ = (
        "backdrop",
        "badge_font",
        "box",
        "font",
        "key",
        "mark",
        "name_font",
        "names",
        "overlays",
        "ratio",
        "request",
        "ring",
        "side",
        "text",
        "tint",
    )

    def __init__(
        self,
        key: tuple[object, ...],
        palette: QPalette,
        font: QFont,
        name_font: QFont,
        ratio: float,
        side: int,
    ) -> None:
        # copies: what the option and the painter hand out lives only as long as they do
        self.key = key
        self.font = QFont(font)  # the item's font; the badges' is made from it
        self.name_font = QFont(name_font)  # the painter's, which draws the name
        self.badge_font = badge_font(font)
        self.ratio = ratio
        self.side = side
        self.request = request_size(side, ratio)
        self.box = cell_size(side)  # the highlight hugs the thumbnail and its name
        self.backdrop = QColor(palette.color(QPalette.ColorRole.AlternateBase))
        self.mark = QColor(palette.color(QPalette.ColorRole.PlaceholderText))
        self.text = QColor(palette.color(QPalette.ColorRole.Text))
        self.ring = QColor(palette.color(QPalette.ColorRole.Highlight))
        self.tint = QColor(self.ring)
        self.tint.setAlpha(HIGHLIGHT_ALPHA)
        self.overlays: dict[tuple[object, ...], Overlay] = {}
        self.names: dict[str, str] = {}


class ImageDelegate(QStyledItemDelegate):
    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._sprites = CellSprites()
        self._look: _Look | None = None
        self.thumb_size = 192
        # the width of the grid's cells (the view shares its spare width among them): the size
        # hint is the cell, so that what Qt asks of an item agrees with the view's arithmetic
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
        image = index.data(_IMAGE_ROLE)
        if not isinstance(image, Image):
            return
        review = index.data(_REVIEW_ROLE)
        if not isinstance(review, Review):
            review = BLANK
        look = self._look_of(painter, option)
        rect: QRect = option.rect
        state: int = option.state.value
        x, y, width = rect.x(), rect.y(), rect.width()
        side = look.side
        painter.save()
        # Sprites are blitted at whole pixels with no render hints: with Antialiasing or
        # SmoothPixmapTransform set, Qt draws a pixmap through its transform path, ~8x slower.
        painter.setRenderHint(_ANTIALIASING, False)
        painter.setRenderHint(_SMOOTH_PIXMAPS, False)

        if state & _SELECTED:
            self._paint_frame(painter, rect, self._sprites.highlight, look.tint, look)

        left = x + max(CELL_MARGIN, (width - side) // 2)
        top = y + CELL_MARGIN
        thumbnail = self._thumbnail(image, look)
        if review.flag is Flag.REJECT:  # rejected: dimmed, the badges stay clear
            painter.setOpacity(REJECTED_OPACITY)
            painter.drawPixmap(left, top, thumbnail)
            painter.setOpacity(1.0)
        else:
            painter.drawPixmap(left, top, thumbnail)
        for dx, dy, sprite in self._overlay(image, review, look):
            painter.drawPixmap(left + dx, top + dy, sprite)

        painter.setPen(look.text)
        painter.drawText(
            QRect(left, top + side + 2, side, TEXT_HEIGHT - 2),
            _NAME_ALIGNMENT,
            self._elided(image.name or image.id, look),
        )

        if state & _HAS_FOCUS:
            self._paint_frame(painter, rect, self._sprites.focus_ring, look.ring, look)
        painter.restore()

    @staticmethod
    def _paint_frame(
        painter: QPainter,
        cell: QRect,
        frame: Callable[[QSize, QColor, float], QPixmap],
        colour: QColor,
        look: _Look,
    ) -> None:
        """The selection's tint or the focus ring: they hug the thumbnail and its name, centred
        in a cell that may be wider."""
        box = QSize(look.box.width(), cell.height())
        x = cell.x() + max(0, (cell.width() - box.width()) // 2)
        painter.drawPixmap(x, cell.y(), frame(box, colour, look.ratio))

    def _look_of(self, painter: QPainter, option: QStyleOptionViewItem) -> _Look:
        """The shared look of this paint: the last one, unless something it depends on changed."""
        palette: QPalette = option.palette
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        key = (palette.cacheKey(), palette.currentColorGroup(), ratio, self.thumb_size)
        font: QFont = option.font
        name_font = painter.font()
        look = self._look
        if look is None or look.key != key or look.font != font or look.name_font != name_font:
            look = self._look = _Look(key, palette, font, name_font, ratio, self.thumb_size)
        return look

    def _thumbnail(self, image: Image, look: _Look) -> QPixmap:
        """The picture fitted to the thumbnail area, else the placeholder or the broken mark."""
        progress = image.progress
        kind, mark = Tile.PLACEHOLDER, look.mark
        if progress is Progress.FAILED:
            kind = Tile.BROKEN
        elif progress is Progress.DONE:
            pixmap = self._loader.pixmap(image.thumbnail, look.request)
            if pixmap is not None and not pixmap.isNull():
                return self._sprites.picture(pixmap, look.side, look.ratio, look.backdrop)
            if self._loader.state(image.thumbnail, look.request) == "failed":
                # a picture that could not be loaded: the mark in the failed status colour
                kind, mark = Tile.BROKEN, _FAILED_MARK
        return self._sprites.tile(kind, look.side, look.ratio, look.backdrop, mark)

    def _overlay(self, image: Image, review: Review, look: _Look) -> Overlay:
        """The badges of this status, voting and review, laid out once per look."""
        key = (image.status, image.voting, review.flag, review.rating, review.label)
        found = look.overlays.get(key)
        if found is None:
            if len(look.overlays) >= OVERLAYS_KEPT:
                look.overlays.clear()
            area = QRect(0, 0, look.side, look.side)
            pieces = [
                (b.rect.x(), b.rect.y(), b.pixmap)
                for b in self._top_badges(area, image, look.badge_font, look.ratio)
            ]
            strip = self._sprites.review_strip(
                review.flag, review.rating, review.label, look.side, look.badge_font, look.ratio
            )
            if strip is not None:
                where, sprite = strip
                pieces.append((where.x(), where.y(), sprite))
            found = look.overlays[key] = tuple(pieces)
        return found

    def _elided(self, text: str, look: _Look) -> str:
        found = look.names.get(text)
        if found is None:
            if len(look.names) > 4096:
                look.names.clear()
            metrics = self._sprites.metrics(look.name_font)
            found = look.names[text] = metrics.elidedText(
                text, Qt.TextElideMode.ElideRight, look.side
            )
        return found

    def _thumb_rect(self, cell: QRect) -> QRect:
        """Where the thumbnail goes in `cell`: centred across, at the top."""
        side = self.thumb_size
        left = cell.x() + max(CELL_MARGIN, (cell.width() - side) // 2)
        return QRect(left, cell.y() + CELL_MARGIN, side, side)

    # -- the badges one by one: for the overlays and the tooltips -------------------------------
    def _top_badges(self, area: QRect, image: Image, font: QFont, ratio: float) -> list[Badge]:
        """The status top left (only when it says something), the voting top right."""
        badges = []
        progress = image.progress
        top = area.top() + BADGE_MARGIN
        if shows_status_badge(progress):
            label = status_label(image.status, progress)
            pixmap = self._sprites.status_badge(label, status_colour(progress), font, ratio)
            rect = QRect(QPoint(area.left() + BADGE_MARGIN, top), logical_size(pixmap))
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
                size = logical_size(pixmap)
            right = area.left() + area.width() - BADGE_MARGIN
            rect = QRect(QPoint(right - size.width(), top), size)
            badges.append(Badge(rect, pixmap, voting_text(image.voting), "voting"))
        return badges

    def review_badges(self, area: QRect, review: Review, font: QFont, ratio: float) -> list[Badge]:
        """The designer's review over the thumbnail `area` (`CellSprites.review_places`), each
        badge with its tooltip."""
        tips = review_tips(review)
        places = self._sprites.review_places(
            review.flag, review.rating, review.label, area.width(), font, ratio
        )
        return [
            Badge(
                place.rect.translated(area.topLeft()),
                place.pixmap,
                tips["flag" if place.kind in (Flag.PICK.value, Flag.REJECT.value) else place.kind],
                place.kind,
            )
            for place in places
        ]

    def badge_tip(
        self, cell: QRect, image: Image, pos: QPoint, font: QFont, review: Review = BLANK
    ) -> str | None:
        """The tooltip of the badge under `pos` in `cell` (None: no badge there)."""
        area, badge_text_font = self._thumb_rect(cell), badge_font(font)
        badges = self._top_badges(area, image, badge_text_font, 1.0)
        badges += self.review_badges(area, review, badge_text_font, 1.0)
        for badge in badges:
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
