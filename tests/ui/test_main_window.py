"""The main window on the real sandbox: filters, grid, thumbnails, count, settings, empty/error."""

from __future__ import annotations

import socket

from PySide6.QtCore import Qt

from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.image_library import LoadState
from qamera_desktop.core.refresh_backoff import RefreshBackoff
from qamera_desktop.core.settings import SettingsStore
from qamera_desktop.ui.image_grid_model import ImageRole
from tests.ui.helpers import (
    LISTING,
    choose,
    expected_listing,
    pixels,
    products_of,
    settled,
    thumb_rect,
    wait_listed,
)

NO_IMAGES = "No images for this filter yet."


def test_window_lists_products_and_fills_the_grid_with_real_thumbnails(
    qtbot, make_app, sandbox, qtmodeltester
):
    app = make_app()
    window = app.window
    window.resize(1280, 820)  # larger than the offscreen screen, where it opens smaller

    combo = window.product_combo
    names = [combo.itemText(i) for i in range(combo.count())]
    products = products_of(sandbox)
    assert names[0] == "All products"
    assert combo.itemData(0) is None
    assert names[1:] == sorted((p["name"] for p in products), key=str.casefold)
    assert {combo.itemData(i) for i in range(1, combo.count())} == {p["id"] for p in products}

    listing = expected_listing(sandbox)
    assert len(listing) == 40
    assert set(app.model_ids()) == {i["id"] for i in listing}
    assert window.count_label.text() == "40 images"
    assert window.grid.message_text() is None
    qtmodeltester.check(window.model)

    # the loader reports the first screen ready, and the visible cells paint a real picture
    qtbot.waitUntil(window.grid.first_screen_ready, timeout=15_000)
    size = window.grid.request_size()
    visible = window.grid.visible_rows()
    assert len(visible) >= 8
    done_rows = [r for r in visible if window.model.image_at(r).is_done]
    assert all(
        window.loader.state(window.model.image_at(r).thumbnail, size) == "ready" for r in done_rows
    )
    shot = window.grid.viewport().grab().toImage()
    for row in done_rows[:4]:
        cell = window.grid.visualRect(window.model.index(row))
        area = thumb_rect(cell, window.grid.thumb_size).adjusted(20, 40, -20, -20)
        assert len(pixels(shot, area)) > 300, f"row {row} does not show a picture"


def test_choosing_a_product_requeries_only_its_images(qtbot, make_app, sandbox):
    app = make_app()
    window = app.window
    before = sandbox.stats().count(*LISTING)

    choose(qtbot, window.product_combo, "Running Shoes")
    qtbot.waitUntil(lambda: settled(app) and app.library.server_filter.product_id is not None)
    assert sandbox.stats().count(*LISTING) == before + 1

    shoes = expected_listing(sandbox, productId="prod_run03")
    assert 0 < len(shoes) < 40
    assert set(app.model_ids()) == {i["id"] for i in shoes}
    assert all(name.endswith("Running Shoes") for name in app.model_names())
    assert window.count_label.text() == f"{len(shoes)} images"

    choose(qtbot, window.product_combo, "All products")
    qtbot.waitUntil(lambda: settled(app) and window.model.rowCount() == 40)
    assert window.count_label.text() == "40 images"


def test_status_filter_approved_shows_only_approved(qtbot, make_app, sandbox):
    app = make_app()
    window = app.window
    approved = expected_listing(sandbox, statusFilter="approved")
    assert 0 < len(approved) < 40

    choose(qtbot, window.status_combo, "Approved on Qamera")
    qtbot.waitUntil(lambda: settled(app) and window.model.rowCount() == len(approved))
    assert set(app.model_ids()) == {i["id"] for i in approved}
    model = window.model
    assert all(model.data(model.index(r), ImageRole.APPROVED) for r in range(model.rowCount()))
    assert window.count_label.text() == f"{len(approved)} images"


def test_search_narrows_rows_and_the_count_says_x_of_y(qtbot, make_app, sandbox):
    app = make_app()
    window = app.window

    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search.hasFocus()
    qtbot.keyClicks(window.search, "vase")
    vases = [i for i in expected_listing(sandbox) if "vase" in i["name"].casefold()]
    assert 0 < len(vases) < 40
    qtbot.waitUntil(lambda: window.model.rowCount() == len(vases))
    assert all("vase" in name.casefold() for name in app.model_names())
    assert window.count_label.text() == f"{len(vases)} of 40 images"

    qtbot.keyClicks(window.search, " nothing-like-this")
    qtbot.waitUntil(lambda: window.model.rowCount() == 0)
    assert window.count_label.text() == "0 of 40 images"
    assert window.grid.message_text() == "No image matches this search."

    window.search.selectAll()
    qtbot.keyClick(window.search, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: window.model.rowCount() == 40)
    assert window.count_label.text() == "40 images"
    assert window.grid.message_text() is None


def test_sort_by_name_orders_the_rows(qtbot, make_app):
    app = make_app()
    window = app.window
    newest = [i.created_at for i in window.model.images()]
    assert newest == sorted(newest, reverse=True)

    choose(qtbot, window.sort_combo, "Name")
    keys = [(i.name.casefold(), i.id) for i in window.model.images()]
    assert len(keys) == 40
    assert keys == sorted(keys)
    assert window.model.image_at(0).name.startswith("Accessories")


def test_size_slider_changes_the_grid(qtbot, make_app):
    app = make_app()
    window = app.window
    slider = window.size_slider
    assert slider.value() == window.grid.thumb_size == 192
    cell_before = window.grid.gridSize()

    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_PageUp)  # one page step: 32
    assert slider.value() == 224
    assert window.grid.thumb_size == 224
    assert window.grid.gridSize().height() == cell_before.height() + 32
    assert window.grid.request_size() == 256

    qtbot.keyClick(slider, Qt.Key.Key_Home)
    assert window.grid.thumb_size == slider.minimum() == 96
    assert window.grid.gridSize().height() < cell_before.height()
    assert app.settings_json()["thumb_size"] == 96


def test_filter_choices_are_saved_and_restored_by_a_new_window(qtbot, make_app, sandbox, tmp_path):
    settings_path = tmp_path / "shared-settings.json"
    first = make_app(settings_path=settings_path)
    window = first.window
    choose(qtbot, window.product_combo, "White T-Shirt")
    qtbot.waitUntil(lambda: settled(first) and first.library.server_filter.product_id is not None)
    choose(qtbot, window.status_combo, "Approved on Qamera")
    qtbot.waitUntil(lambda: settled(first) and first.library.server_filter.status == "approved")
    choose(qtbot, window.sort_combo, "Oldest first")
    window.size_slider.setFocus()
    qtbot.keyClick(window.size_slider, Qt.Key.Key_PageDown)

    saved = first.settings_json()
    assert saved["product_id"] == "prod_wtee01"
    assert saved["status_filter"] == "approved"
    assert saved["sort"] == "oldest"
    assert saved["thumb_size"] == 160
    shown = set(first.model_ids())
    expected = expected_listing(sandbox, productId="prod_wtee01", statusFilter="approved")
    assert shown == {i["id"] for i in expected}
    assert len(shown) >= 2

    second = make_app(settings_path=settings_path)
    restored = second.window
    qtbot.waitUntil(lambda: settled(second) and second.library.server_filter.product_id is not None)
    assert restored.product_combo.currentText() == "White T-Shirt"
    assert restored.status_combo.currentText() == "Approved on Qamera"
    assert restored.sort_combo.currentText() == "Oldest first"
    assert restored.size_slider.value() == restored.grid.thumb_size == 160
    # the restored filter is the query too, not only the combo's text
    assert set(second.model_ids()) == shown
    oldest = [i.created_at for i in restored.model.images()]
    assert oldest == sorted(oldest)


def test_empty_filter_says_so_and_what_to_do(qtbot, make_app, sandbox):
    assert not expected_listing(sandbox, productId="prod_run03", statusFilter="approved")
    app = make_app()
    window = app.window
    choose(qtbot, window.product_combo, "Running Shoes")
    qtbot.waitUntil(lambda: settled(app) and app.library.server_filter.product_id is not None)
    choose(qtbot, window.status_combo, "Approved on Qamera")
    qtbot.waitUntil(lambda: settled(app) and window.model.rowCount() == 0)
    message = window.grid.message_text()
    assert message is not None
    assert message.startswith(NO_IMAGES)
    assert "start a new shoot" in message
    assert window.count_label.text() == "0 images"


def test_server_errors_on_refresh_are_shown_with_what_to_do(qtbot, make_app, sandbox):
    app = make_app()
    window = app.window
    assert window.model.rowCount() == 40
    sandbox.reconfigure(error_rate=1.0)
    before = sandbox.stats().count(*LISTING)

    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: app.library.state.load is LoadState.ERROR, timeout=10_000)
    assert sandbox.stats().count(*LISTING) == before + 5  # the first try and 4 retries
    # the images already shown stay; the status bar says what happened and what to do
    assert window.model.rowCount() == 40
    assert window.grid.message_text() is None
    status = window.statusBar().currentMessage()
    assert "Internal server error" in status
    assert "F5" in status

    sandbox.reconfigure(error_rate=0.0)
    qtbot.keyClick(window.grid, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: app.library.state.load is LoadState.READY)
    assert window.model.rowCount() == 40


def test_first_load_error_fills_the_grid_with_the_reason_until_f5_works(qtbot, make_app, sandbox):
    sandbox.reconfigure(error_rate=1.0)
    app = make_app(wait_loaded=False)
    window = app.window
    qtbot.waitUntil(lambda: app.library.state.load is LoadState.ERROR, timeout=10_000)
    message = window.grid.message_text()
    assert message is not None
    assert message.startswith("Could not load images.")
    assert "Internal server error" in message
    assert "Press F5 to try again." in message
    assert window.model.rowCount() == 0

    sandbox.reconfigure(error_rate=0.0)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: settled(app) and window.model.rowCount() == 40)
    assert window.grid.message_text() is None
    assert window.count_label.text() == "40 images"


def test_unreachable_server_says_it_could_not_connect(qtbot, make_app):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = unused.getsockname()[1]
        app = make_app(base_url=f"http://127.0.0.1:{port}", wait_loaded=False)
        wait_listed(qtbot, app, products=False)
    window = app.window
    assert app.library.state.load is LoadState.ERROR
    message = window.grid.message_text()
    assert message is not None
    assert "Could not load images." in message
    assert "Could not reach the Qamera service" in message
    assert "Press F5 to try again." in message
    assert window.product_combo.count() == 1  # only "All products"


def test_the_grid_refreshes_by_itself_only_while_images_are_unfinished(
    qtbot, make_app, sandbox_factory, arun
):
    slow = sandbox_factory(processing_seconds=60.0)
    app = make_app(handle=slow)
    window = app.window
    window.backoff = RefreshBackoff(first=0.05, maximum=0.2)  # the app's 3 s to 30 s, shorter
    assert not app.library.has_unfinished
    assert not window.auto_refresh.isActive()  # every image is done: nothing to follow
    refreshes: list[LoadState] = []
    window.model.stateChanged.connect(
        lambda state: refreshes.append(state.load) if state.refreshing else None
    )

    arun(window.submit_shoot(ShootRequest("prod_mug06", count=2), "Stoneware Mug"))
    assert app.library.has_unfinished  # the receipt's queued images are in the grid
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_F5)
    # F5, then at least three more that nobody asked for
    qtbot.waitUntil(lambda: len(refreshes) >= 4, timeout=10_000)
    # nothing changes in the listing meanwhile: the waits have grown to the longest
    qtbot.waitUntil(lambda: window.auto_refresh.interval() == 200, timeout=10_000)

    # a filter without unfinished images: the refreshes stop once it is listed
    choose(qtbot, window.status_combo, "Approved on Qamera")
    qtbot.waitUntil(lambda: settled(app) and window.tasks.running == 0, timeout=10_000)
    assert not app.library.has_unfinished
    assert not window.auto_refresh.isActive()


def test_the_review_filter_chosen_in_the_window_is_there_after_a_restart(qtbot, make_app, tmp_path):
    settings = tmp_path / "review-filter.json"
    first = make_app(settings_path=settings)
    choose(qtbot, first.window.filters.flag_combo, "Rejects")
    first.window.filters.rating_combo.setCurrentIndex(2)  # 2 stars or more
    first.window.filters.label_combo.setCurrentIndex(first.window.filters.label_combo.count() - 1)
    chosen = first.window.filters.review_filter()
    assert chosen.flag.value == "rejects"
    assert chosen.min_rating == 2
    assert chosen.label is not None
    qtbot.waitUntil(lambda: not first.window.settings_writer.pending)  # written, debounced
    saved = SettingsStore(settings).load()
    assert (saved.review_flag, saved.review_min_rating, saved.review_label) == (
        "rejects",
        2,
        chosen.label.value,
    )

    second = make_app(settings_path=settings)
    assert second.window.filters.review_filter() == chosen
    assert second.library.review_filter == chosen
