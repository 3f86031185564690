"""Every image of the filter can be reached: the grid's rows hold as many cells as fit and fill the
width, the scroll bar is there exactly when the rows are taller than the viewport, and scrolling to
the last image shows it whole. For 1 to 20 images at several sizes, after a search, a product
filter, and in a second window started on the same settings (a relaunch).

The grid once sized its cells for the viewport's width while QListView lays its rows out as if the
vertical scroll bar were shown: a column fewer than the cells were fitted for, a row more, and Qt
cut the scroll bar's show/hide loop short with the bar hidden over a row nobody could reach."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QPoint, Qt

from qamera_desktop.api.records import Image
from qamera_desktop.core.image_library import ImageLibrary
from qamera_desktop.core.image_query import ServerFilter
from qamera_desktop.ui.grid_geometry import cell_size
from qamera_desktop.ui.image_grid_model import ImageGridModel
from qamera_desktop.ui.image_grid_view import ImageGridView
from tests.ui.helpers import choose, settled, wait_listed

T0 = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)


def img(i: int) -> Image:
    return Image(f"img_{i:05d}", f"Shot {i}", None, "QUEUED", T0 + timedelta(minutes=i))


def check_reachable(grid: ImageGridView) -> None:
    """Raise AssertionError (with what is wrong) unless every image of `grid` is reachable."""
    model = grid.model()
    count = model.rowCount()
    assert count > 0
    viewport = grid.viewport().rect()
    cell = grid.gridSize()
    rects = [grid.visualRect(model.index(row, 0)) for row in range(count)]
    assert all(r.isValid() for r in rects), "the layout has not placed every image yet"
    columns = len({r.x() for r in rects})
    rows = len({r.y() for r in rects})
    assert rows == math.ceil(count / columns), f"{count} images in {columns} columns, {rows} rows"
    assert columns * cell.width() <= viewport.width(), "the cells are wider than the viewport"
    if rows > 1:  # full rows: no room left for one more cell (no empty band on the right)
        spare = viewport.width() - columns * cell.width()
        assert spare < cell_size(grid.thumb_size).width(), f"{spare} px empty beside the rows"
    content = rows * cell.height()
    bar = grid.verticalScrollBar()
    assert bar.maximum() == max(0, content - viewport.height()), (
        f"scroll range {bar.maximum()} for {rows} rows of {cell.height()} in {viewport.height()}"
    )
    assert bar.isVisible() == (content > viewport.height()), (
        f"scroll bar shown: {bar.isVisible()}, rows {content} px, viewport {viewport.height()} px"
    )
    last = model.index(count - 1, 0)
    grid.scrollTo(last)
    assert viewport.contains(grid.visualRect(last)), (
        f"the last image at {grid.visualRect(last)} is outside the viewport {viewport}"
    )


def wait_reachable(qtbot, grid: ImageGridView, timeout: int = 3000) -> None:
    qtbot.waitUntil(lambda: check_reachable(grid), timeout=timeout)


@pytest.fixture
def view(qtbot, loader):
    library = ImageLibrary()
    grid = ImageGridView(ImageGridModel(library), loader)
    qtbot.addWidget(grid)
    grid.show()
    qtbot.waitExposed(grid)
    return library, grid


@pytest.mark.parametrize("width", [430, 509, 640, 805, 1101, 1249])
@pytest.mark.parametrize("height", [420, 600])
def test_one_to_twenty_images_are_all_reachable(qtbot, view, width, height):
    library, grid = view
    grid.resize(width, height)
    for count in range(1, 21):
        library.replace_listing(ServerFilter(), [img(i) for i in range(count)])
        wait_reachable(qtbot, grid)
        grid.scrollToTop()


@pytest.mark.parametrize("thumb", [96, 160, 288])
def test_reachable_at_every_thumbnail_size_while_the_width_changes(qtbot, view, thumb):
    library, grid = view
    grid.setThumbSize(thumb)
    grid.resize(500, 500)
    library.replace_listing(ServerFilter(), [img(i) for i in range(11)])
    for width in range(300, 1400, 61):
        grid.resize(width, 500)
        wait_reachable(qtbot, grid)


def test_reachable_while_a_search_narrows_the_images(qtbot, view):
    library, grid = view
    grid.resize(760, 560)
    library.replace_listing(ServerFilter(), [img(i) for i in range(20)])
    wait_reachable(qtbot, grid)
    for text, count in (("Shot 1", 11), ("Shot 2", 2), ("Shot 19", 1), ("", 20)):
        library.set_search(text)
        assert grid.model().rowCount() == count
        wait_reachable(qtbot, grid)


@pytest.mark.parametrize("width", [700, 1300, 1500])  # 3, 6 and 7 columns: 200 % columns != 0
def test_a_large_listing_fills_every_line(qtbot, view, width):
    """QListView lays a large listing out in batches of 200: no batch may start a line early."""
    library, grid = view
    grid.resize(width, 600)
    count = 1000
    library.replace_listing(ServerFilter(), [img(i) for i in range(count)])
    model = grid.model()
    qtbot.waitUntil(lambda: grid.visualRect(model.index(count - 1, 0)).isValid(), timeout=10_000)
    columns = grid.columns()
    assert 200 % columns != 0
    top = grid.visualRect(model.index(0, 0)).topLeft()
    cell = grid.gridSize()
    misplaced = [
        row
        for row in range(count)
        if grid.visualRect(model.index(row, 0)).topLeft() - top
        != QPoint((row % columns) * cell.width(), (row // columns) * cell.height())
    ]
    assert not misplaced, f"{len(misplaced)} images out of the grid, the first at {misplaced[0]}"
    assert grid.visible_rows() == range(0, grid.visible_rows().stop)
    wait_reachable(qtbot, grid)


# -- in the main window, on the sandbox ------------------------------------------------------
WINDOW_SIZES = [(800, 600), (1024, 700), (1280, 820), (1600, 1000)]


@pytest.mark.parametrize(("width", "height"), WINDOW_SIZES)
def test_searching_mug_shows_every_mug(qtbot, make_app, width, height):
    app = make_app()
    window = app.window
    window.resize(width, height)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.search, "mug")
    qtbot.waitUntil(lambda: window.model.rowCount() == 6)
    wait_reachable(qtbot, window.grid)
    # the Shoots panel takes height from the grid: still every mug
    window.shoots_dock.show()
    wait_reachable(qtbot, window.grid)
    window.shoots_dock.hide()
    wait_reachable(qtbot, window.grid)


@pytest.mark.parametrize(("width", "height"), WINDOW_SIZES[::2])
def test_every_product_filter_shows_every_image(qtbot, make_app, width, height):
    app = make_app()
    window = app.window
    window.resize(width, height)
    for i in range(1, window.product_combo.count()):
        name = window.product_combo.itemText(i)
        choose(qtbot, window.product_combo, name)
        qtbot.waitUntil(lambda: settled(app) and app.library.server_filter.product_id is not None)
        qtbot.waitUntil(lambda: window.model.rowCount() > 0)
        wait_reachable(qtbot, window.grid)


@pytest.mark.parametrize(("width", "height"), WINDOW_SIZES)
def test_a_relaunch_with_the_product_remembered_shows_every_image(
    qtbot, make_app, tmp_path, width, height
):
    settings = tmp_path / "shared-settings.json"
    first = make_app(settings_path=settings)
    first.window.resize(width, height)
    choose(qtbot, first.window.product_combo, "Stoneware Mug")
    qtbot.waitUntil(lambda: settled(first) and first.library.server_filter.product_id is not None)
    wait_reachable(qtbot, first.window.grid)
    first.window.close()

    second = make_app(settings_path=settings, wait_loaded=False)
    wait_listed(qtbot, second)
    window = second.window
    assert window.product_combo.currentText() == "Stoneware Mug"
    qtbot.waitUntil(lambda: window.model.rowCount() > 0)
    wait_reachable(qtbot, window.grid)
