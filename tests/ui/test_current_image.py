"""The details show the grid's current image, and that image is the one highlighted: when a search
leaves the chosen image out, the image in its place is current and highlighted, and the chosen one
comes back when the search is cleared; with no image left the details say nothing is selected.
A new sort order keeps the selection; a relaunch makes the last chosen image current again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt

from qamera_desktop.api.records import Image
from qamera_desktop.core.image_library import ImageLibrary
from qamera_desktop.core.image_query import ServerFilter, SortOrder
from qamera_desktop.ui.image_browser import ImageBrowser
from qamera_desktop.ui.image_grid_model import ImageRole
from tests.ui.helpers import choose, click, press, settled, wait_listed

CTRL = Qt.KeyboardModifier.ControlModifier


def selected_ids(window) -> set[str]:
    return {i.data(ImageRole.ID) for i in window.grid.selectionModel().selectedIndexes()}


def current_id(window) -> str | None:
    index = window.grid.currentIndex()
    return index.data(ImageRole.ID) if index.isValid() else None


def shown_id(window) -> str | None:
    image = window.details.image
    return image.id if image is not None else None


def click_image(qtbot, window, image_id: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    grid, model = window.grid, window.model
    index = model.index(model.row_of(image_id))
    grid.scrollTo(index)
    click(qtbot, grid.viewport(), grid.visualRect(index).center(), modifier)


def search(qtbot, app, text: str) -> None:
    window = app.window
    press(qtbot, Qt.Key.Key_F, CTRL)
    window.search.selectAll()
    if text:
        qtbot.keyClicks(window.search, text)
    else:
        qtbot.keyClick(window.search, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: app.library.search == text)


def assert_details_match_the_highlight(window) -> None:
    current = current_id(window)
    assert shown_id(window) == current
    if current is None:
        assert window.details.empty.isVisible()
        assert window.details.empty.text().startswith("No image selected")
    else:
        assert current in selected_ids(window), "the image in the details is not highlighted"


def test_a_search_that_leaves_the_chosen_image_out_moves_the_details_with_the_highlight(
    qtbot, make_app
):
    app = make_app()
    window = app.window
    model = window.model
    assert current_id(window) == model.image_at(0).id  # from the start, and highlighted
    assert_details_match_the_highlight(window)
    chosen = next(i for i in model.images()[5:] if "mug" not in i.name.casefold())
    click_image(qtbot, window, chosen.id)
    assert current_id(window) == shown_id(window) == chosen.id

    search(qtbot, app, "mug")
    assert model.rowCount() == 6
    assert chosen.id not in {i.id for i in model.images()}
    assert current_id(window) is not None
    assert shown_id(window) != chosen.id
    assert_details_match_the_highlight(window)

    search(qtbot, app, "mug nothing-like-this")
    assert model.rowCount() == 0
    assert current_id(window) is None
    assert_details_match_the_highlight(window)
    assert window.details.image is None

    # the search is cleared: the chosen image is back, current and highlighted
    search(qtbot, app, "")
    assert model.rowCount() == 40
    assert current_id(window) == chosen.id
    assert selected_ids(window) == {chosen.id}
    assert_details_match_the_highlight(window)
    assert window.details.name.text() == chosen.name


def test_moving_in_the_narrowed_grid_makes_that_image_the_chosen_one(qtbot, make_app):
    app = make_app()
    window = app.window
    first = window.model.image_at(3)
    click_image(qtbot, window, first.id)
    search(qtbot, app, "vase")
    vases = list(window.model.images())
    click_image(qtbot, window, vases[-1].id)
    search(qtbot, app, "")
    assert current_id(window) == shown_id(window) == vases[-1].id
    assert selected_ids(window) == {vases[-1].id}


def test_a_new_sort_order_keeps_the_selection_and_the_current_image(qtbot, make_app):
    app = make_app()
    window = app.window
    model = window.model
    one, other = model.image_at(10), model.image_at(17)
    click_image(qtbot, window, one.id)
    click_image(qtbot, window, other.id, Qt.KeyboardModifier.ControlModifier)
    assert selected_ids(window) == {one.id, other.id}
    assert current_id(window) == other.id

    rows = set()
    for order in ("Name", "Oldest first", "Status"):
        choose(qtbot, window.sort_combo, order)
        rows.add(model.row_of(other.id))
        assert selected_ids(window) == {one.id, other.id}, order
        assert current_id(window) == shown_id(window) == other.id, order
        cell = window.grid.visualRect(model.index(model.row_of(other.id)))
        assert window.grid.viewport().rect().intersects(cell), "the current image is in view"
    assert len(rows) > 1  # the orders did move it


def test_a_relaunch_makes_the_last_chosen_image_current_again(qtbot, make_app, tmp_path):
    settings = tmp_path / "shared-settings.json"
    first = make_app(settings_path=settings)
    chosen = first.window.model.image_at(23)
    click_image(qtbot, first.window, chosen.id)
    qtbot.waitUntil(lambda: saved(first).get("selected_image_id") == chosen.id)
    first.window.close()

    second = make_app(settings_path=settings, wait_loaded=False)
    wait_listed(qtbot, second)
    window = second.window
    qtbot.waitUntil(lambda: current_id(window) == chosen.id)
    assert shown_id(window) == chosen.id
    assert selected_ids(window) == {chosen.id}
    cell = window.grid.visualRect(window.model.index(window.model.row_of(chosen.id)))
    assert window.grid.viewport().rect().intersects(cell), "scrolled to it"


def test_a_relaunch_whose_image_is_gone_starts_at_the_first_image(qtbot, make_app, tmp_path):
    settings = tmp_path / "shared-settings.json"
    settings.write_text(json.dumps({"selected_image_id": "img_that_is_gone"}))
    second = make_app(settings_path=settings)
    qtbot.waitUntil(lambda: settled(second) and current_id(second.window) is not None)
    assert window_row(second.window) == 0
    assert shown_id(second.window) == second.window.model.image_at(0).id


def saved(app) -> dict:
    """The settings file as saved so far (empty before the first save)."""
    return app.settings_json() if app.settings_store.path.exists() else {}


def window_row(window) -> int:
    return window.grid.currentIndex().row()


def test_the_chosen_image_stays_in_view_through_a_sort_of_a_large_listing(qtbot, loader):
    library = ImageLibrary()
    browser = ImageBrowser(library, loader)
    qtbot.addWidget(browser)
    browser.resize(1100, 700)
    browser.show()
    qtbot.waitExposed(browser)
    t0 = datetime(2026, 3, 20, tzinfo=UTC)
    names = [f"Shot {(i * 7919) % 3000:04d}" for i in range(3000)]  # name order != time order
    library.replace_listing(
        ServerFilter(),
        [
            Image(f"img_{i:05d}", names[i], None, "QUEUED", t0 + timedelta(minutes=i))
            for i in range(3000)
        ],
    )
    grid, model = browser.grid, browser.model
    qtbot.waitUntil(lambda: grid.visualRect(model.index(2999)).isValid(), timeout=10_000)
    chosen = model.image_at(2400)
    grid.setCurrentIndex(model.index(2400))  # as the keys do
    assert browser.chosen_id == chosen.id

    def chosen_in_view() -> None:
        row = model.row_of(chosen.id)
        assert grid.currentIndex().row() == row
        assert grid.viewport().rect().intersects(grid.visualRect(model.index(row)))

    qtbot.waitUntil(chosen_in_view)
    for order in (SortOrder.NAME, SortOrder.OLDEST, SortOrder.NEWEST):
        library.set_sort(order)
        qtbot.waitUntil(chosen_in_view, timeout=10_000)
        # and it stays there once the batched layout has finished
        qtbot.waitUntil(lambda: grid.visualRect(model.index(2999)).isValid(), timeout=10_000)
        qtbot.wait(500)  # the grid's settling window (400 ms)
        chosen_in_view()
        assert browser.details.image == chosen
