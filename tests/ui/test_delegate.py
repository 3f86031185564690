"""The grid delegate paints into a QImage: placeholder, real picture, broken mark, badges."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PySide6.QtCore import QEvent, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QImage, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem, QToolTip

from qamera_desktop.api.records import Image
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.image_library import ImageLibrary
from qamera_desktop.core.image_query import ServerFilter
from qamera_desktop.ui.grid_geometry import cell_size
from qamera_desktop.ui.image_delegate import ImageDelegate
from qamera_desktop.ui.image_grid_model import ImageGridModel
from qamera_desktop.ui.image_grid_view import ImageGridView
from qamera_desktop.ui.status_style import APPROVED_COLOUR, OTHER_VOTE_COLOUR, REJECTED_COLOUR
from tests.ui.helpers import count_near, make_client, pixels, thumb_rect

SIDE = 192
RED = "#e03131"  # failed badge, broken thumbnail mark
GREEN = "#2f9e44"  # done badge
GREY = "#6c757d"  # queued badge
BLUE = "#1c7ed6"  # in-progress badge
ORANGE = APPROVED_COLOUR.name()
SLATE = REJECTED_COLOUR.name()  # rejected mark
VIOLET = OTHER_VOTE_COLOUR.name()  # a voting value the app does not know


class Cells:
    """A model over real records and a delegate that paints them, one cell at a time."""

    def __init__(self, loader) -> None:
        self.loader = loader
        self.library = ImageLibrary()
        self.model = ImageGridModel(self.library)
        self.delegate = ImageDelegate(loader)
        self.delegate.thumb_size = SIDE

    def show(self, images: list[Image]) -> None:
        self.library.replace_listing(ServerFilter(), images)

    def render(
        self,
        image_id: str,
        *,
        selected: bool = False,
        palette: QPalette | None = None,
        font: QFont | None = None,
    ) -> QImage:
        row = self.model.row_of(image_id)
        assert row >= 0
        size = cell_size(SIDE)
        option = QStyleOptionViewItem()
        option.rect = QRect(QPoint(0, 0), size)
        option.palette = palette or QApplication.palette()
        option.font = font or QApplication.font()
        option.state = QStyle.StateFlag.State_Enabled
        if selected:
            option.state |= QStyle.StateFlag.State_Selected
        canvas = QImage(size, QImage.Format.Format_ARGB32)
        canvas.fill(Qt.GlobalColor.white)
        painter = QPainter(canvas)
        painter.setFont(option.font)  # as a view's painter has its font
        self.delegate.paint(painter, option, self.model.index(row))
        painter.end()
        return canvas

    def load(self, qtbot, image: Image) -> str:
        """Ask for the thumbnail the way the grid does; wait for the loader's verdict."""
        assert image.thumbnail is not None
        with qtbot.waitSignal(self.loader.ready, timeout=15_000):
            self.loader.set_wanted("grid", [image.thumbnail], SIDE)
        qtbot.waitUntil(lambda: self.loader.state(image.thumbnail, SIDE) in ("ready", "failed"))
        return self.loader.state(image.thumbnail, SIDE)


AREA = thumb_rect(QRect(QPoint(0, 0), cell_size(SIDE)), SIDE)
CENTRE = AREA.adjusted(50, 50, -50, -50)  # where the placeholder / broken marks are drawn
PICTURE = AREA.adjusted(30, 40, -30, -20)  # inside the picture, clear of the badges


def is_glyph(found: Counter[int]) -> bool:
    """A flat backdrop with a line drawing on it (and its antialiasing), not a photo."""
    total = sum(found.values())
    backdrop_share = found.most_common(1)[0][1] / total
    return backdrop_share > 0.85 and 1 < len(found) < 200


def badge_rect() -> QRect:
    font = QFont(QApplication.font())
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
    font.setBold(True)
    height = QFontMetrics(font).height() + 2
    return QRect(AREA.left() + 6, AREA.top() + 6, 3 * height, height)


def approved_rect() -> QRect:
    return QRect(AREA.right() - 40, AREA.top() + 4, 36, 36)


@pytest.fixture
def cells(loader) -> Cells:
    return Cells(loader)


@pytest.fixture
def listing(client, arun) -> list[Image]:
    return arun(client.list_images())


@pytest.fixture
def bad_jpeg_server() -> Iterator[str]:
    """A tiny HTTP server whose every answer is a 200 image/jpeg that is not a JPEG."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"\xff\xd8\xff\xe0 definitely not the rest of a JPEG " * 20
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_model_over_real_records_passes_the_model_tester(cells, listing, qtmodeltester):
    cells.show(listing)
    qtmodeltester.check(cells.model)
    assert cells.model.rowCount() == len(listing) == 40


def test_done_image_is_a_placeholder_until_its_thumbnail_arrives_then_a_real_picture(
    qtbot, cells, listing
):
    done = next(i for i in listing if i.is_done and not i.is_approved)
    cells.show(listing)

    assert is_glyph(pixels(cells.render(done.id), PICTURE))
    assert cells.loader.state(done.thumbnail, SIDE) == "none"  # painting loads nothing

    assert cells.load(qtbot, done) == "ready"
    after = cells.render(done.id)
    assert len(pixels(after, PICTURE)) > 500  # a rendered product shot, not a glyph
    assert count_near(pixels(after, badge_rect()), GREEN) == 0  # no "Done" badge: it is no news
    assert count_near(pixels(after, approved_rect()), ORANGE) == 0


def test_processing_image_paints_a_placeholder_and_an_in_progress_badge(
    qtbot, sandbox_factory, arun, cells
):
    slow = sandbox_factory(processing_seconds=60.0)
    api = make_client(slow.base_url, slow.demo_key)
    try:
        receipt = arun(api.register_ideas(ShootRequest("prod_mug06", count=2)))
        images = arun(api.list_images(product_id="prod_mug06"))
    finally:
        arun(api.aclose())
    mine = [i for i in images if i.id in receipt.created_record_ids]
    assert len(mine) == 2
    assert all(not i.is_finished and i.thumbnail for i in mine)
    cells.show(images)

    for image in mine:
        canvas = cells.render(image.id)
        centre = pixels(canvas, CENTRE)
        backdrop = QColor(QApplication.palette().color(QPalette.ColorRole.AlternateBase))
        assert centre.most_common(1)[0][0] == backdrop.rgb() & 0xFFFFFF
        assert is_glyph(centre)
        assert count_near(centre, RED, 40) == 0
        badge = pixels(canvas, badge_rect())
        colour = GREY if image.status.upper() == "QUEUED" else BLUE
        assert count_near(badge, colour) > 20, image.status
    # nothing was asked for: unfinished images have no picture yet
    assert all(cells.loader.state(i.thumbnail, SIDE) == "none" for i in mine)


def test_thumbnail_missing_on_the_server_paints_the_broken_mark(qtbot, cells, listing, sandbox):
    real = next(i for i in listing if i.is_done)
    missing = Image(
        id="img_missing",
        name="Missing thumbnail",
        thumbnail=f"{sandbox.base_url}/cdn/images/does-not-exist.jpg",
        status="DONE",
        created_at=real.created_at,
    )
    cells.show([*listing, missing])
    assert count_near(pixels(cells.render(missing.id), CENTRE), RED, 40) == 0  # not yet

    assert cells.load(qtbot, missing) == "failed"
    assert "404" in (cells.loader.failure(missing.thumbnail, SIDE) or "")
    centre = pixels(cells.render(missing.id), CENTRE)
    assert count_near(centre, RED, 40) > 30
    assert is_glyph(centre)


def test_thumbnail_that_is_not_an_image_paints_the_broken_mark(
    qtbot, cells, listing, bad_jpeg_server
):
    corrupt = Image(
        id="img_corrupt",
        name="Corrupt thumbnail",
        thumbnail=f"{bad_jpeg_server}/cdn/images/corrupt.jpg",
        status="DONE",
        created_at=listing[0].created_at,
    )
    cells.show([*listing, corrupt])
    assert cells.load(qtbot, corrupt) == "failed"
    centre = pixels(cells.render(corrupt.id), CENTRE)
    assert count_near(centre, RED, 40) > 30


def test_failed_image_has_a_red_badge_and_no_picture(cells, listing):
    failed = [i for i in listing if i.is_failed]
    assert failed
    cells.show(listing)
    for image in failed:
        canvas = cells.render(image.id)
        assert count_near(pixels(canvas, badge_rect()), RED) > 20
        assert is_glyph(pixels(canvas, PICTURE))
    done = next(i for i in listing if i.is_done)
    assert count_near(pixels(cells.render(done.id), badge_rect()), RED) == 0


def test_approved_image_has_the_approved_badge(cells, listing):
    approved = [i for i in listing if i.is_approved]
    others = [i for i in listing if i.is_done and not i.is_approved]
    assert approved
    assert others
    cells.show(listing)
    for image in approved:
        assert count_near(pixels(cells.render(image.id), approved_rect()), ORANGE) > 40
    for image in others[:3]:
        assert count_near(pixels(cells.render(image.id), approved_rect()), ORANGE) == 0


def test_selected_cell_is_tinted(cells, listing):
    image = listing[0]
    cells.show(listing)
    corner = QRect(3, 100, 3, 20)  # left of the thumbnail, inside the rounded cell
    plain = pixels(cells.render(image.id), corner)
    selected = pixels(cells.render(image.id, selected=True), corner)
    assert plain.keys() == {0xFFFFFF}
    assert 0xFFFFFF not in selected


def record(image_id: str, status: str = "DONE", voting: str | None = None) -> Image:
    return Image(image_id, f"Tile {image_id}", None, status, T0, voting)


T0 = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)


def test_a_new_palette_colour_group_or_font_is_painted_at_once(cells, loader):
    """What the cells share is worked out once per paint's palette and fonts, never left stale:
    each cell is painted as by a delegate that never painted another."""
    long_name = "long " * 12
    cells.show([record("queued", "QUEUED"), record(long_name)])
    backdrop = QRect(AREA.right() - 30, AREA.bottom() - 30, 10, 10)  # off the glyph and badges

    def painted(image_id: str, palette: QPalette, font: QFont) -> QImage:
        shown = cells.render(image_id, palette=palette, font=font)
        fresh = Cells(loader)
        fresh.show(cells.model.images())
        assert shown == fresh.render(image_id, palette=palette, font=font)
        return shown

    red_blue = QPalette(QApplication.palette())
    red_blue.setColor(QPalette.ColorGroup.Active, QPalette.ColorRole.AlternateBase, QColor(RED))
    red_blue.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.AlternateBase, QColor(BLUE))
    inactive = QPalette(red_blue)
    inactive.setCurrentColorGroup(QPalette.ColorGroup.Inactive)  # an inactive window's cells
    small, large = QFont(QApplication.font()), QFont(QApplication.font())
    small.setPointSizeF(7)
    large.setPointSizeF(13)
    for palette, font, colour in (
        (red_blue, small, RED),
        (inactive, small, BLUE),
        (inactive, large, BLUE),
        (red_blue, large, RED),
    ):
        cell = painted("queued", palette, font)
        assert set(pixels(cell, backdrop)) == {QColor(colour).rgb() & 0xFFFFFF}
        painted(long_name, palette, font)  # the name elided in this font


def test_the_status_badge_shows_only_when_it_says_something(cells):
    statuses = {"DONE": None, "QUEUED": GREY, "PROCESSING": BLUE, "FAILED": RED, "UPSCALING": BLUE}
    cells.show([record(status, status) for status in statuses])
    for status, colour in statuses.items():
        badge = pixels(cells.render(status), badge_rect())
        if colour is None:
            assert not any(count_near(badge, c) for c in (GREEN, GREY, BLUE, RED)), status
        else:
            assert count_near(badge, colour) > 20, status
    assert count_near(pixels(cells.render("DONE"), badge_rect()), GREEN) == 0


def test_rejected_image_has_the_rejected_mark(cells, listing):
    rejected = [i for i in listing if i.voting == "REJECTED"]
    approved = [i for i in listing if i.is_approved]
    assert rejected
    cells.show(listing)
    for image in rejected:
        corner = pixels(cells.render(image.id), approved_rect())
        assert count_near(corner, SLATE) > 40
        assert count_near(corner, ORANGE) == 0
    for image in approved:
        assert count_near(pixels(cells.render(image.id), approved_rect()), SLATE) == 0


def test_a_voting_value_the_app_does_not_know_is_shown_in_words(cells):
    cells.show([record("odd", voting="NEEDS_REVIEW"), record("plain")])
    top_right = QRect(AREA.center().x(), AREA.top() + 4, AREA.width() // 2 - 4, 30)
    assert count_near(pixels(cells.render("odd"), top_right), VIOLET) > 40
    assert count_near(pixels(cells.render("plain"), top_right), VIOLET) == 0


def tooltip_at(qtbot, view: ImageGridView, pos: QPoint) -> str:
    QToolTip.hideText()
    qtbot.waitUntil(lambda: not QToolTip.isVisible())
    viewport = view.viewport()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, viewport.mapToGlobal(pos))
    QApplication.sendEvent(viewport, event)
    return QToolTip.text() if QToolTip.isVisible() else ""


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the offscreen tooltip
def test_each_badge_explains_itself_in_a_tooltip(qtbot, cells):
    images = [
        record("approved", voting="APPROVED"),
        record("rejected", voting="REJECTED"),
        record("odd", "QUEUED", voting="NEEDS_REVIEW"),
        record("busy", "PROCESSING"),
        record("plain"),
    ]
    cells.show(images)
    view = ImageGridView(cells.model, cells.loader)
    qtbot.addWidget(view)
    view.resize(1400, 700)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.visualRect(cells.model.index(4)).isValid())
    side = view.thumb_size

    def corner(image_id: str, *, right: bool) -> QPoint:
        cell = view.visualRect(cells.model.index(cells.model.row_of(image_id)))
        thumb = thumb_rect(cell, side)
        x = thumb.right() - 14 if right else thumb.left() + 14
        return QPoint(x, thumb.top() + 14)

    assert tooltip_at(qtbot, view, corner("approved", right=True)) == "Approved on Qamera"
    assert tooltip_at(qtbot, view, corner("rejected", right=True)) == "Rejected on Qamera"
    assert tooltip_at(qtbot, view, corner("odd", right=True)) == "Voting on Qamera: Needs review"
    assert tooltip_at(qtbot, view, corner("odd", right=False)) == "Status: Queued"
    assert (
        tooltip_at(qtbot, view, corner("busy", right=False)) == "Status: In progress (PROCESSING)"
    )
    # elsewhere on the tile: its name, and its voting and status when they say something
    middle = thumb_rect(view.visualRect(cells.model.index(cells.model.row_of("rejected"))), side)
    assert tooltip_at(qtbot, view, middle.center()) == "Tile rejected\nRejected on Qamera"
    middle = thumb_rect(view.visualRect(cells.model.index(cells.model.row_of("plain"))), side)
    assert tooltip_at(qtbot, view, middle.center()) == "Tile plain"
