"""CellSprites: pre-rendered tiles, badges and fitted pictures, cached by everything that changes
their look; the review's badges composed into one strip that looks exactly like them one by one;
the selection's tint and the focus ring; the small sprite LRU drops its oldest entry past
`limit`, the picture cache stays within its byte cap."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPoint, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from qamera_desktop.core.review import Flag, Label
from qamera_desktop.core.settings import THUMB_SIZE_MIN
from qamera_desktop.ui.cell_sprites import BADGE_MARGIN, CellSprites, Tile, badge_font
from qamera_desktop.ui.status_style import REJECTED_COLOUR

BACKDROP = QColor("#20324a")
MARK = QColor("#c0c8d0")
RED = QColor("#e03131")
GREEN = QColor("#2f9e44")


@pytest.fixture
def sprites(qapp: QApplication) -> CellSprites:
    return CellSprites()


@pytest.fixture
def font(qapp: QApplication) -> QFont:
    return badge_font(QApplication.font())


def solid(width: int, height: int, colour: QColor) -> QPixmap:
    pixmap = QPixmap(width, height)
    pixmap.fill(colour)
    return pixmap


def colour_at(pixmap: QPixmap, x: int, y: int) -> QColor:
    """The colour of device pixel (x, y)."""
    return pixmap.toImage().pixelColor(x, y)


def close(found: QColor, want: QColor, tolerance: int = 3) -> bool:
    return found.alpha() == 255 and all(
        abs(a - b) <= tolerance
        for a, b in zip(
            (found.red(), found.green(), found.blue()),
            (want.red(), want.green(), want.blue()),
            strict=True,
        )
    )


def same(a: QPixmap, b: QPixmap) -> bool:
    return a is b and a.cacheKey() == b.cacheKey()


# -- caching of tiles and badges ---------------------------------------------------------------
@pytest.mark.parametrize("kind", list(Tile))
def test_same_tile_arguments_give_the_cached_sprite(sprites, kind):
    first = sprites.tile(kind, 64, 1.0, QColor(BACKDROP), QColor(MARK))
    again = sprites.tile(kind, 64, 1.0, QColor(BACKDROP.name()), QColor(MARK.name()))
    assert same(first, again)
    assert len(sprites) == 1


def test_tiles_differ_by_kind_size_ratio_and_colours(sprites):
    base = sprites.tile(Tile.PLACEHOLDER, 64, 1.0, BACKDROP, MARK)
    variants = [
        sprites.tile(Tile.BROKEN, 64, 1.0, BACKDROP, MARK),
        sprites.tile(Tile.PLACEHOLDER, 65, 1.0, BACKDROP, MARK),
        sprites.tile(Tile.PLACEHOLDER, 64, 2.0, BACKDROP, MARK),
        sprites.tile(Tile.PLACEHOLDER, 64, 1.0, QColor("#ffffff"), MARK),
        sprites.tile(Tile.PLACEHOLDER, 64, 1.0, BACKDROP, QColor("#000000")),
        sprites.tile(Tile.PLACEHOLDER, 64, 1.0, BACKDROP, QColor(192, 200, 208, 10)),  # alpha
    ]
    keys = {base.cacheKey(), *(v.cacheKey() for v in variants)}
    assert len(keys) == 1 + len(variants)
    assert len(sprites) == 1 + len(variants)


def test_tile_looks_follow_the_kind_and_colours(sprites):
    placeholder = sprites.tile(Tile.PLACEHOLDER, 64, 1.0, BACKDROP, MARK).toImage()
    broken = sprites.tile(Tile.BROKEN, 64, 1.0, BACKDROP, MARK).toImage()
    other = sprites.tile(Tile.PLACEHOLDER, 64, 1.0, GREEN, MARK).toImage()
    assert placeholder != broken
    assert close(placeholder.pixelColor(32, 4), BACKDROP)  # on the backdrop, off the glyph
    assert close(other.pixelColor(32, 4), GREEN)
    assert placeholder.pixelColor(0, 0).alpha() == 0  # rounded corner


def test_status_badges_differ_by_label_colour_font_and_ratio(sprites, font):
    base = sprites.status_badge("Done", GREEN, font, 1.0)
    assert same(base, sprites.status_badge("Done", QColor(GREEN.name()), QFont(font), 1.0))
    bigger = QFont(font)
    bigger.setPointSizeF(font.pointSizeF() * 2)
    variants = [
        sprites.status_badge("Failed", GREEN, font, 1.0),
        sprites.status_badge("Done", RED, font, 1.0),
        sprites.status_badge("Done", GREEN, bigger, 1.0),
        sprites.status_badge("Done", GREEN, font, 2.0),
    ]
    keys = {base.cacheKey(), *(v.cacheKey() for v in variants)}
    assert len(keys) == 1 + len(variants)


def test_approved_badge_is_cached_per_font_and_ratio(sprites, font):
    one = sprites.approved_badge(font, 1.0)
    assert same(one, sprites.approved_badge(QFont(font), 1.0))
    assert not same(one, sprites.approved_badge(font, 2.0))
    bigger = QFont(font)
    bigger.setPointSizeF(font.pointSizeF() * 2)
    assert not same(one, sprites.approved_badge(bigger, 1.0))
    assert len(sprites) == 3


def test_rejected_badge_is_its_own_sprite_cached_per_font_and_ratio(sprites, font):
    rejected = sprites.rejected_badge(font, 1.0)
    assert same(rejected, sprites.rejected_badge(QFont(font), 1.0))
    assert not same(rejected, sprites.rejected_badge(font, 2.0))
    assert not same(rejected, sprites.approved_badge(font, 1.0))
    assert len(sprites) == 3


# -- size and device pixel ratio ---------------------------------------------------------------
def assert_sized(pixmap: QPixmap, width: float, height: float, ratio: float) -> None:
    assert pixmap.devicePixelRatio() == ratio
    assert (pixmap.width(), pixmap.height()) == (
        math.ceil(width * ratio),
        math.ceil(height * ratio),
    )


@pytest.mark.parametrize("ratio", [1.0, 2.0, 1.25])
@pytest.mark.parametrize("kind", list(Tile))
def test_tile_size_follows_the_ratio(sprites, ratio, kind):
    for side in (64, 33):
        assert_sized(sprites.tile(kind, side, ratio, BACKDROP, MARK), side, side, ratio)


@pytest.mark.parametrize("ratio", [1.0, 2.0, 1.25])
def test_status_badge_size_follows_the_text_and_ratio(sprites, font, ratio):
    metrics = sprites.metrics(font)
    label = "In progress"
    width = metrics.horizontalAdvance(label) + 2 * 5  # BADGE_PAD each side
    height = metrics.height() + 2
    assert_sized(sprites.status_badge(label, GREEN, font, ratio), width, height, ratio)
    short = sprites.status_badge("Done", GREEN, font, ratio)
    assert short.width() < sprites.status_badge(label, GREEN, font, ratio).width()


@pytest.mark.parametrize("ratio", [1.0, 2.0, 1.25])
def test_approved_badge_size_follows_the_font_and_ratio(sprites, font, ratio):
    d = sprites.metrics(font).height() + 4
    badge = sprites.approved_badge(font, ratio)
    assert_sized(badge, d, d, ratio)
    centre = colour_at(badge, badge.width() // 2, badge.height() // 2 + badge.height() // 4)
    assert centre.alpha() == 255  # a filled disc
    assert colour_at(badge, 0, 0).alpha() == 0  # round


@pytest.mark.parametrize("ratio", [1.0, 2.0, 1.25])
def test_rejected_badge_is_a_grey_disc_as_large_as_the_approved_one(sprites, font, ratio):
    d = sprites.round_badge_side(font)
    assert d == sprites.metrics(font).height() + 4
    badge = sprites.rejected_badge(font, ratio)
    assert_sized(badge, d, d, ratio)
    # the disc's colour left of the cross, the white cross in the middle, transparent corners
    assert close(colour_at(badge, badge.width() // 6, badge.height() // 2), REJECTED_COLOUR)
    assert colour_at(badge, badge.width() // 2, badge.height() // 2).lightness() > 200
    assert colour_at(badge, 0, 0).alpha() == 0


# -- the review strip, the selection's tint, the focus ring -----------------------------------
def drawn(ratio: float, side: int, sprites: list[tuple[QPoint, QPixmap]]) -> QImage:
    """`sprites` blitted at their logical places on a white `side` square, as a cell does."""
    canvas = QImage(round(side * ratio), round(side * ratio), QImage.Format.Format_ARGB32)
    canvas.setDevicePixelRatio(ratio)
    canvas.fill(Qt.GlobalColor.white)
    painter = QPainter(canvas)
    for where, pixmap in sprites:
        painter.drawPixmap(where, pixmap)
    painter.end()
    return canvas


LOOKS = [
    (Flag.PICK, 3, Label.RED),
    (Flag.REJECT, 0, Label.NONE),
    (Flag.NONE, 5, Label.NONE),
    (Flag.NONE, 0, Label.BLUE),
    (Flag.REJECT, 5, Label.GREEN),
]


@pytest.mark.parametrize("ratio", [1.0, 2.0])
@pytest.mark.parametrize("side", [96, 192])
@pytest.mark.parametrize("look", LOOKS)
def test_the_review_strip_looks_like_its_badges_one_by_one(sprites, font, ratio, side, look):
    places = sprites.review_places(*look, side, font, ratio)
    strip = sprites.review_strip(*look, side, font, ratio)
    assert strip is not None
    where, pixmap = strip
    one_by_one = drawn(ratio, side, [(p.rect.topLeft(), p.pixmap) for p in places])
    assert drawn(ratio, side, [(where, pixmap)]) == one_by_one
    # as small as the badges: from the first one's left to the last one's right
    assert where == QPoint(places[0].rect.left(), min(p.rect.top() for p in places))
    assert where.x() + pixmap.width() / ratio == places[-1].rect.right() + 1


def test_review_places_put_the_flag_and_label_left_and_the_stars_right(sprites, font):
    places = sprites.review_places(Flag.PICK, 4, Label.RED, 192, font, 1.0)
    assert [p.kind for p in places] == ["pick", "label", "stars"]
    flag, label, stars = (p.rect for p in places)
    assert flag.left() == BADGE_MARGIN < label.left() < stars.left()
    assert stars.right() + 1 == 192 - BADGE_MARGIN
    assert flag.bottom() + 1 == label.bottom() + 1 == stars.bottom() + 1 == 192 - BADGE_MARGIN
    assert same(places[0].pixmap, sprites.flag_badge(Flag.PICK, font, 1.0))
    # the smallest thumbnails are too narrow for the stars beside the flag and the label:
    # "★ 4", still clear of them
    narrow = sprites.review_places(Flag.PICK, 4, Label.RED, THUMB_SIZE_MIN, font, 1.0)
    assert narrow[2].rect.width() < stars.width()
    assert not narrow[2].rect.intersects(narrow[1].rect)


def test_the_review_strip_is_cached_per_look_side_font_and_ratio(sprites, font):
    strip = sprites.review_strip(Flag.PICK, 3, Label.RED, 192, font, 1.0)
    assert strip is not None
    again = sprites.review_strip(Flag.PICK, 3, Label.RED, 192, QFont(font), 1.0)
    assert again is not None
    assert same(strip[1], again[1])
    others = [
        sprites.review_strip(Flag.REJECT, 3, Label.RED, 192, font, 1.0),
        sprites.review_strip(Flag.PICK, 4, Label.RED, 192, font, 1.0),
        sprites.review_strip(Flag.PICK, 3, Label.BLUE, 192, font, 1.0),
        sprites.review_strip(Flag.PICK, 3, Label.RED, 160, font, 1.0),
        sprites.review_strip(Flag.PICK, 3, Label.RED, 192, font, 2.0),
    ]
    keys = {strip[1].cacheKey(), *(o[1].cacheKey() for o in others if o is not None)}
    assert len(keys) == 6
    assert sprites.review_strip(Flag.NONE, 0, Label.NONE, 192, font, 1.0) is None  # nothing


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_the_tint_and_the_focus_ring_are_rounded_sprites_of_a_cells_size(sprites, ratio):
    size = QSize(204, 226)
    tint = sprites.highlight(size, QColor(48, 140, 198, 70), ratio)
    ring = sprites.focus_ring(size, QColor(48, 140, 198), ratio)
    for frame in (tint, ring):
        assert_sized(frame, 204, 226, ratio)
        assert colour_at(frame, 0, 0).alpha() == 0  # 2 px in, rounded
    middle = (round(102 * ratio), round(113 * ratio))
    assert colour_at(tint, *middle).alpha() == 70  # the tint fills the cell
    assert colour_at(ring, *middle).alpha() == 0  # the ring is only an outline
    assert colour_at(ring, round(102 * ratio), round(2 * ratio)).alpha() > 0
    assert same(tint, sprites.highlight(QSize(size), QColor(48, 140, 198, 70), ratio))
    assert not same(tint, sprites.highlight(QSize(204, 227), QColor(48, 140, 198, 70), ratio))
    assert not same(ring, sprites.focus_ring(size, QColor("red"), ratio))


def test_metrics_are_cached_per_font(sprites, font):
    assert sprites.metrics(font) is sprites.metrics(QFont(font))


# -- the small LRU -----------------------------------------------------------------------------
def test_lru_drops_the_oldest_sprite_past_its_limit(qapp):
    cache = CellSprites(limit=3)
    a, b, c = (cache.tile(Tile.PLACEHOLDER, side, 1.0, BACKDROP, MARK) for side in (10, 11, 12))
    assert len(cache) == 3
    d = cache.tile(Tile.PLACEHOLDER, 13, 1.0, BACKDROP, MARK)
    assert len(cache) == 3
    # b, c and d are still cached; a was dropped and is rendered anew
    assert same(cache.tile(Tile.PLACEHOLDER, 11, 1.0, BACKDROP, MARK), b)
    assert same(cache.tile(Tile.PLACEHOLDER, 12, 1.0, BACKDROP, MARK), c)
    assert same(cache.tile(Tile.PLACEHOLDER, 13, 1.0, BACKDROP, MARK), d)
    again = cache.tile(Tile.PLACEHOLDER, 10, 1.0, BACKDROP, MARK)
    assert again is not a
    assert again.cacheKey() != a.cacheKey()
    assert again.toImage() == a.toImage()  # the same look, rendered again
    assert len(cache) == 3


def test_lru_keeps_a_sprite_that_was_used_recently(qapp):
    cache = CellSprites(limit=2)
    a = cache.tile(Tile.BROKEN, 10, 1.0, BACKDROP, MARK)
    b = cache.tile(Tile.BROKEN, 11, 1.0, BACKDROP, MARK)
    assert same(cache.tile(Tile.BROKEN, 10, 1.0, BACKDROP, MARK), a)  # a is now the newest
    cache.tile(Tile.BROKEN, 12, 1.0, BACKDROP, MARK)  # drops b, the oldest
    assert same(cache.tile(Tile.BROKEN, 10, 1.0, BACKDROP, MARK), a)
    assert cache.tile(Tile.BROKEN, 11, 1.0, BACKDROP, MARK) is not b


def test_badges_and_tiles_share_the_limit(qapp, font):
    cache = CellSprites(limit=2)
    tile = cache.tile(Tile.PLACEHOLDER, 10, 1.0, BACKDROP, MARK)
    cache.status_badge("Done", GREEN, font, 1.0)
    cache.approved_badge(font, 1.0)
    assert len(cache) == 2
    assert cache.tile(Tile.PLACEHOLDER, 10, 1.0, BACKDROP, MARK) is not tile


# -- fitted pictures ---------------------------------------------------------------------------
@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_picture_is_letterboxed_on_the_backdrop_with_rounded_corners(sprites, ratio):
    side = 64
    thumb = solid(256, 128, RED)  # 2:1, fitted to 64 x 32 logical, rows 16..48
    picture = sprites.picture(thumb, side, ratio, BACKDROP)
    assert picture.devicePixelRatio() == ratio
    assert picture.deviceIndependentSize() == QSizeF(side, side)
    assert (picture.width(), picture.height()) == (math.ceil(side * ratio),) * 2

    image = picture.toImage()

    def at(x: float, y: float) -> QColor:  # logical coordinates
        return image.pixelColor(int(x * ratio), int(y * ratio))

    assert at(0, 0).alpha() == 0  # the tile's rounded corner is transparent
    assert at(side - 0.5, side - 0.5).alpha() == 0
    assert close(at(side / 2, side / 2), RED)  # centre: the thumbnail
    assert close(at(4, side / 2), RED)  # the picture spans the full width
    assert close(at(side / 2, 8), BACKDROP)  # above the fitted picture: the backdrop
    assert close(at(side / 2, side - 8), BACKDROP)  # below it
    assert close(at(side / 2, 18), RED)  # just inside the top edge of the picture
    assert close(at(side / 2, side - 18), RED)


def test_tall_picture_is_pillarboxed(sprites):
    picture = sprites.picture(solid(50, 100, GREEN), 40, 1.0, BACKDROP)  # fitted to 20 x 40
    image = picture.toImage()
    assert close(image.pixelColor(20, 20), GREEN)
    assert close(image.pixelColor(5, 20), BACKDROP)
    assert close(image.pixelColor(35, 20), BACKDROP)


def test_small_thumbnail_is_scaled_up_to_the_side(sprites):
    picture = sprites.picture(solid(8, 8, RED), 48, 1.0, BACKDROP)
    image = picture.toImage()
    assert (image.width(), image.height()) == (48, 48)
    for x, y in ((24, 24), (24, 3), (3, 24), (44, 24), (24, 44)):
        assert close(image.pixelColor(x, y), RED), (x, y)
    assert image.pixelColor(0, 0).alpha() == 0


def test_same_picture_arguments_give_the_cached_pixmap(sprites):
    thumb = solid(256, 128, RED)
    first = sprites.picture(thumb, 64, 1.0, BACKDROP)
    assert same(first, sprites.picture(thumb, 64, 1.0, QColor(BACKDROP.name())))
    assert same(first, sprites.picture(QPixmap(thumb), 64, 1.0, BACKDROP))  # shared copy
    assert len(sprites) == 0  # pictures live in their own cache, not the sprite LRU


def test_pictures_differ_by_thumbnail_side_ratio_and_backdrop(sprites):
    thumb = solid(256, 128, RED)
    base = sprites.picture(thumb, 64, 1.0, BACKDROP)
    variants = [
        sprites.picture(solid(256, 128, RED), 64, 1.0, BACKDROP),  # another thumbnail
        sprites.picture(thumb, 65, 1.0, BACKDROP),
        sprites.picture(thumb, 64, 2.0, BACKDROP),
        sprites.picture(thumb, 64, 1.0, GREEN),
    ]
    keys = {base.cacheKey(), *(v.cacheKey() for v in variants)}
    assert len(keys) == 1 + len(variants)
    assert close(variants[3].toImage().pixelColor(32, 8), GREEN)


def test_a_changed_thumbnail_is_rendered_again(sprites):
    thumb = solid(32, 32, RED)
    first = sprites.picture(thumb, 32, 1.0, BACKDROP)
    thumb.fill(GREEN)  # a modified pixmap gets a new cacheKey
    second = sprites.picture(thumb, 32, 1.0, BACKDROP)
    assert second is not first
    assert close(second.toImage().pixelColor(16, 16), GREEN)
    assert close(first.toImage().pixelColor(16, 16), RED)


def test_picture_cache_stays_within_its_byte_cap(qapp):
    side = 32
    one = side * side * 4  # bytes of a 32 x 32 picture at ratio 1
    cache = CellSprites(picture_bytes=3 * one)
    thumbs = [solid(64, 64, QColor(40 * n, 0, 0)) for n in range(6)]
    pictures = [cache.picture(t, side, 1.0, BACKDROP) for t in thumbs]
    assert cache._pictures.total_bytes <= 3 * one  # internal, but it is what the cap bounds
    assert len(cache._pictures) == 3
    # the three newest are still cached, the three oldest were dropped
    for thumb, picture in zip(thumbs[3:], pictures[3:], strict=True):
        assert same(cache.picture(thumb, side, 1.0, BACKDROP), picture)
    for thumb, picture in zip(thumbs[:3], pictures[:3], strict=True):
        again = cache.picture(thumb, side, 1.0, BACKDROP)
        assert again is not picture
        assert again.toImage() == picture.toImage()


def test_picture_cache_budget_scales_with_the_pixel_ratio(qapp):
    """The byte budget is for ratio 1; at ratio 2 a picture has four times the pixels and the
    budget grows with it, so a HiDPI screen keeps as many pictures (and never re-renders the
    visible ones on every paint)."""
    side = 32
    cache = CellSprites(picture_bytes=2 * side * side * 4)  # two pictures at ratio 1
    thumbs = [solid(64, 64, QColor(60 * n, 0, 0)) for n in range(3)]
    at_2x = [cache.picture(t, side, 2.0, BACKDROP) for t in thumbs[:2]]  # 64 x 64 device px each
    assert at_2x[0].width() == 64
    assert len(cache._pictures) == 2  # both kept: the budget is four times larger at ratio 2
    for thumb, picture in zip(thumbs[:2], at_2x, strict=True):
        assert same(cache.picture(thumb, side, 2.0, BACKDROP), picture)
    cache.picture(thumbs[2], side, 2.0, BACKDROP)
    assert len(cache._pictures) == 2  # a third does not fit: the oldest went
    again = cache.picture(thumbs[0], side, 2.0, BACKDROP)
    assert again is not at_2x[0]
    assert close(again.toImage().pixelColor(side, side), QColor(0, 0, 0))


def test_sprites_paint_on_a_transparent_canvas(sprites, font):
    badge = sprites.status_badge("Done", GREEN, font, 1.0).toImage()
    assert badge.hasAlphaChannel()
    assert badge.pixelColor(0, 0).alpha() == 0  # pill ends are round
    mid = badge.pixelColor(badge.width() // 2, 1)
    assert mid.alpha() > 0
