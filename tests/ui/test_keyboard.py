"""Everything in the main window is reachable without the mouse: keys go where the focus is."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.helpers import LISTING, active_window, focus_widget, press, settled

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def reactivate(qtbot, window) -> None:
    """The offscreen platform has no window manager to give the window back its activation."""
    window.activateWindow()
    qtbot.waitUntil(lambda: active_window() is window)


def current_row(window) -> int:
    return window.grid.currentIndex().row()


def test_arrows_home_end_and_page_down_move_the_current_image(qtbot, make_app):
    app = make_app()
    window = app.window
    grid = window.grid
    reactivate(qtbot, window)
    assert focus_widget() is grid  # from the start: no click or Tab needed to review
    assert current_row(window) == 0  # a current item from the start, so the arrows work at once

    def cell(row: int):
        return grid.visualRect(window.model.index(row))

    def moved(key: Qt.Key) -> tuple[int, int]:
        """Press `key`; return how far the current cell moved (columns, lines) on screen."""
        before = cell(current_row(window))
        press(qtbot, key)
        after = cell(current_row(window))
        step = grid.gridSize()
        return (
            (after.left() - before.left()) // step.width(),
            (after.top() - before.top()) // step.height(),
        )

    assert moved(Qt.Key.Key_Right) == (1, 0)
    assert current_row(window) == 1
    assert moved(Qt.Key.Key_Down) == (0, 1)
    assert current_row(window) > 2
    assert moved(Qt.Key.Key_Left) == (-1, 0)
    assert moved(Qt.Key.Key_Up) == (0, -1)
    assert current_row(window) == 0
    press(qtbot, Qt.Key.Key_End)
    assert current_row(window) == 39
    assert grid.verticalScrollBar().value() == grid.verticalScrollBar().maximum()
    press(qtbot, Qt.Key.Key_Home)
    assert current_row(window) == 0
    assert grid.verticalScrollBar().value() == 0
    columns, lines = moved(Qt.Key.Key_PageDown)
    assert columns == 0
    assert lines >= 1
    paged = current_row(window)
    # the details panel follows the current image
    assert window.details.image is not None
    assert window.details.image.id == window.model.image_at(paged).id
    assert window.details.name.text() == window.model.image_at(paged).name


def test_space_and_enter_open_the_preview_esc_closes_left_right_step(qtbot, make_app):
    app = make_app()
    window = app.window
    preview = window.preview
    model = window.model
    window.grid.setFocus()

    press(qtbot, Qt.Key.Key_Space)
    assert preview.isVisible()
    first = model.image_at(0)
    assert preview.windowTitle() == first.name
    assert first.id in preview.caption.text()
    qtbot.waitUntil(lambda: not preview.picture.pixmap().isNull(), timeout=15_000)
    qtbot.waitUntil(lambda: active_window() is preview)
    press(qtbot, Qt.Key.Key_Escape)
    assert not preview.isVisible()
    reactivate(qtbot, window)  # what the window manager does when a dialog closes
    assert focus_widget() is window.grid  # the focus comes back where it was

    press(qtbot, Qt.Key.Key_Return)
    assert preview.isVisible()
    qtbot.waitUntil(lambda: active_window() is preview)
    press(qtbot, Qt.Key.Key_Right)
    assert current_row(window) == 1
    assert preview.isVisible()
    assert model.image_at(1).id in preview.caption.text()
    press(qtbot, Qt.Key.Key_Right)
    press(qtbot, Qt.Key.Key_Left)
    assert current_row(window) == 1
    assert model.image_at(1).id in preview.caption.text()
    press(qtbot, Qt.Key.Key_Left)
    press(qtbot, Qt.Key.Key_Left)  # already the first: stays
    assert current_row(window) == 0
    assert model.image_at(0).id in preview.caption.text()
    press(qtbot, Qt.Key.Key_Escape)
    assert not preview.isVisible()

    reactivate(qtbot, window)
    press(qtbot, Qt.Key.Key_Enter)  # the keypad's Enter too
    assert preview.isVisible()
    qtbot.waitUntil(lambda: active_window() is preview)
    press(qtbot, Qt.Key.Key_Escape)
    assert not preview.isVisible()


def test_ctrl_f_focuses_search_and_ctrl_g_returns_to_the_grid(qtbot, make_app):
    app = make_app()
    window = app.window
    window.grid.setFocus()
    press(qtbot, Qt.Key.Key_F, CTRL)
    assert focus_widget() is window.search
    press(qtbot, Qt.Key.Key_M)
    press(qtbot, Qt.Key.Key_U)
    press(qtbot, Qt.Key.Key_G)
    assert window.search.text() == "mug"
    qtbot.waitUntil(lambda: 0 < window.model.rowCount() < 40)
    press(qtbot, Qt.Key.Key_G, CTRL)
    assert focus_widget() is window.grid
    press(qtbot, Qt.Key.Key_F, CTRL)  # again: the text is selected, typing replaces it
    assert window.search.selectedText() == "mug"


def test_ctrl_plus_and_minus_change_the_thumbnail_size(qtbot, make_app):
    app = make_app()
    window = app.window
    window.grid.setFocus()
    start = window.size_slider.value()
    press(qtbot, Qt.Key.Key_Equal, CTRL)
    assert window.size_slider.value() == start + 32
    assert window.grid.thumb_size == start + 32
    press(qtbot, Qt.Key.Key_Minus, CTRL)
    press(qtbot, Qt.Key.Key_Minus, CTRL)
    assert window.size_slider.value() == window.grid.thumb_size == start - 32
    assert app.settings_json()["thumb_size"] == start - 32


def test_f5_and_ctrl_r_refresh(qtbot, make_app, sandbox):
    app = make_app()
    window = app.window
    window.grid.setFocus()
    before = sandbox.stats().count(*LISTING)
    press(qtbot, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: sandbox.stats().count(*LISTING) == before + 1)
    qtbot.waitUntil(lambda: settled(app))
    press(qtbot, Qt.Key.Key_R, CTRL)
    qtbot.waitUntil(lambda: sandbox.stats().count(*LISTING) == before + 2)
    qtbot.waitUntil(lambda: settled(app))
    assert window.model.rowCount() == 40


def test_ctrl_n_opens_the_new_shoot_dialog_and_esc_closes_it(qtbot, make_app):
    app = make_app()
    window = app.window
    window.grid.setFocus()
    press(qtbot, Qt.Key.Key_N, CTRL)
    dialog = window.new_shoot_dialog
    assert dialog is not None
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: active_window() is dialog)
    with qtbot.waitSignal(dialog.finished):
        press(qtbot, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_ctrl_shift_s_toggles_the_shoots_panel(qtbot, make_app):
    app = make_app()
    window = app.window
    window.grid.setFocus()
    assert not window.shoots_dock.isVisible()
    press(qtbot, Qt.Key.Key_S, CTRL | SHIFT)
    assert window.shoots_dock.isVisible()
    window.grid.setFocus()
    press(qtbot, Qt.Key.Key_S, CTRL | SHIFT)
    assert not window.shoots_dock.isVisible()


def test_tab_reaches_every_control(qtbot, make_app):
    app = make_app()
    window = app.window
    window.grid.setFocus()
    reached = []
    for _ in range(30):
        press(qtbot, Qt.Key.Key_Tab)
        reached.append(focus_widget())
        if focus_widget() is window.grid:
            break
    wanted = {
        "product filter": window.product_combo,
        "status filter": window.status_combo,
        "search": window.search,
        "sort": window.sort_combo,
        "size": window.size_slider,
        "grid": window.grid,
        "open": window.details.open_button,
        "copy id": window.details.copy_id_button,
    }
    missing = [name for name, widget in wanted.items() if widget not in reached]
    assert not missing, f"Tab never reaches {missing}"

    # and Shift+Tab goes back the same way
    window.grid.setFocus()
    press(qtbot, Qt.Key.Key_Backtab, SHIFT)
    assert focus_widget() is reached[-2]


def test_the_open_button_of_the_details_works_from_the_keyboard(qtbot, make_app):
    app = make_app()
    window = app.window
    window.details.open_button.setFocus()
    press(qtbot, Qt.Key.Key_Space)
    assert window.preview.isVisible()
    qtbot.waitUntil(lambda: active_window() is window.preview)
    assert window.model.image_at(0).id in window.preview.caption.text()
    press(qtbot, Qt.Key.Key_Escape)
    assert not window.preview.isVisible()
    assert QApplication.activeModalWidget() is None
