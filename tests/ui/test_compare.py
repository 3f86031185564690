"""Compare against the real sandbox: C with 2 to 4 selected images opens that many panes (more:
the first four, the rest stepped through with Right / Left; one: the status bar says what C
needs); the review keys decide the marked pane's image only and never move the panes; a click,
Tab and Shift+Tab mark another pane; Z and a drag act on every pane alike; Keep this one pins a
pane while the others step; Esc goes back to the grid with the marked image current; every
compare key is also an action (its tool bar, the Review menu). The reject reasons show in
compare."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QItemSelectionModel, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from qamera_desktop.core.compare_panes import PaneOrder, arrange
from qamera_desktop.core.review import BLANK, Flag, Label, RejectReason
from qamera_desktop.ui.actions import COMPARE_ACTIONS, ActionId
from qamera_desktop.ui.image_browser import COMPARE_NEEDS
from qamera_desktop.ui.menus import REVIEW_MENU
from tests.ui.helpers import active_window, choose, click, press
from tests.ui.test_review import on_disk

Select = QItemSelectionModel.SelectionFlag
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def row_id(window, row: int) -> str:
    image = window.model.image_at(row)
    assert image is not None
    return image.id


def select_rows(qtbot, window, rows: list[int], current: int | None = None) -> None:
    """Select `rows` in the grid as Ctrl+click would, `current` (else the first) current."""
    window.grid.setFocus()
    selection = window.grid.selectionModel()
    first = rows[0] if current is None else current
    selection.setCurrentIndex(window.model.index(first), Select.ClearAndSelect)
    for row in rows:
        selection.select(window.model.index(row), Select.Select)
    qtbot.waitUntil(lambda: len(selection.selectedIndexes()) == len(set(rows)))


def open_compare(qtbot, window):
    window.activateWindow()  # the offscreen platform has no window manager to do it
    qtbot.waitUntil(lambda: active_window() is window)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: active_window() is window.compare)
    return window.compare


def shown_ids(compare) -> list[str]:
    return [image.id for image in compare.shown_images()]


def visible_panes(compare):
    return [pane for pane in compare.panes if pane.isVisibleTo(compare)]


def marked_id(compare) -> str:
    image = compare.marked_image()
    assert image is not None
    return image.id


def review(app, image_id: str):
    assert app.services.reviews is not None
    return app.services.reviews.get(image_id)


# -- which images, which panes ------------------------------------------------------------------
def test_c_with_two_three_or_four_selected_shows_them_side_by_side(qtbot, make_app):
    app = make_app()
    window = app.window
    for count in (2, 3, 4):
        rows = list(range(3, 3 + count))
        select_rows(qtbot, window, rows, current=4)
        compare = open_compare(qtbot, window)
        assert shown_ids(compare) == [row_id(window, r) for r in rows]  # the grid's order
        panes = visible_panes(compare)
        assert len(panes) == count
        assert compare.marked_pane() == 1  # the grid's current image
        assert panes[1].marked
        assert not any(p.marked for p in panes if p is not panes[1])
        lines = {p.geometry().top() for p in panes}
        assert len(lines) == math.ceil(count / compare.columns)
        assert len({p.geometry().left() for p in panes}) == compare.columns
        for pane, row in zip(panes, rows, strict=True):
            image = window.model.image_at(row)
            assert image.name in pane.caption.text()
            assert "Not decided yet" in pane.caption.text()
        assert f"Comparing {count} images" in compare.hint.text()
        assert "no auto-advance" in compare.hint.text()
        assert compare.windowTitle() == f"Compare: {count} images"
        press(qtbot, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda c=compare: not c.isVisible())


def test_c_with_one_image_says_what_it_needs(qtbot, make_app):
    window = make_app().window
    select_rows(qtbot, window, [2])
    qtbot.keyClick(window.grid, Qt.Key.Key_C)
    assert not window.compare.isVisible()
    assert window.statusBar().currentMessage() == COMPARE_NEEDS
    assert "2 to 4 selected images" in COMPARE_NEEDS


def test_the_panes_load_the_images_at_the_loupes_size_with_the_thumbnail_meanwhile(qtbot, make_app):
    app = make_app()
    window, loader = app.window, app.services.loader
    window.resize(1400, 1000)  # larger than the screen: the size asked for follows the window
    grid_size = window.grid.request_size()
    for row in (0, 1):
        url = window.model.image_at(row).thumbnail
        qtbot.waitUntil(lambda u=url: loader.state(u, grid_size) == "ready", timeout=15_000)
    select_rows(qtbot, window, [0, 1])
    compare = open_compare(qtbot, window)
    assert compare.size() == window.size()  # over the main window, as large
    size = compare.loupe_size()
    assert size == 1536
    for pane in visible_panes(compare):
        assert not pane.picture.pixmap().isNull()  # the grid's thumbnail at once
    qtbot.waitUntil(lambda: all(p.showing_full for p in visible_panes(compare)), timeout=15_000)
    for pane in visible_panes(compare):
        assert (pane.picture.pixmap().width(), pane.picture.pixmap().height()) == (410, 512)
        assert loader.state(pane.image.thumbnail, size) == "ready"
    # the loupe asks for the same size: the marked image is there at once
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not compare.isVisible())
    window.activateWindow()
    qtbot.waitUntil(lambda: active_window() is window)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: active_window() is window.preview)
    assert window.preview.loupe_size() == size
    assert window.preview.showing_full
    window.preview.reject()


def test_the_panes_are_arranged_to_show_the_images_largest(qtbot, make_app):
    # four portrait images: side by side when wide, two by two when square, a column when tall
    frame = (10, 40)
    assert arrange(4, 1600, 600, 0.8, frame).columns == 4
    assert arrange(4, 900, 900, 0.8, frame).columns == 2
    assert arrange(4, 400, 1600, 0.8, frame).columns == 1
    assert arrange(4, 1200, 800, 1.5, frame).columns == 2  # landscape ones: two by two
    assert arrange(2, 1200, 800, 0.8, frame).columns == 2
    assert arrange(3, 1200, 800, 0.8, frame).columns == 3
    wide = arrange(4, 1600, 600, 0.8, frame)
    assert (wide.image_width, wide.image_height) == (390, 487.5)  # 1600 / 4 less the frame
    window = make_app().window
    select_rows(qtbot, window, [0, 1, 2, 3])
    compare = open_compare(qtbot, window)
    qtbot.waitUntil(lambda: all(not p.picture.pixmap().isNull() for p in compare.panes))
    for size, columns in (((1600, 600), 4), ((700, 760), 2)):
        compare.resize(*size)
        qtbot.waitUntil(lambda c=columns: compare.columns == c)
        panes = visible_panes(compare)
        qtbot.waitUntil(lambda c=columns, ps=panes: len({p.geometry().left() for p in ps}) == c)
        assert len({p.geometry().top() for p in panes}) == 4 // columns
    compare.reject()


# -- deciding ---------------------------------------------------------------------------------
def test_the_review_keys_decide_the_marked_pane_only_and_never_move_the_panes(qtbot, make_app):
    app = make_app()
    window = app.window
    assert window.auto_advance_action.isChecked()
    select_rows(qtbot, window, [5, 6, 7])
    compare = open_compare(qtbot, window)
    first, second, third = shown_ids(compare)
    press(qtbot, Qt.Key.Key_Tab)
    assert marked_id(compare) == second
    press(qtbot, Qt.Key.Key_P)
    assert review(app, second).flag is Flag.PICK
    assert review(app, first) == BLANK
    assert review(app, third) == BLANK
    assert shown_ids(compare) == [first, second, third]  # no auto-advance
    assert marked_id(compare) == second
    assert "Your pick" in compare.panes[1].caption.text()  # said at once
    press(qtbot, Qt.Key.Key_4)
    press(qtbot, Qt.Key.Key_8)
    assert review(app, second).rating == 4
    assert review(app, second).label is Label.GREEN
    assert "★★★★☆" in compare.panes[1].caption.text()
    assert "Green label" in compare.panes[1].caption.text()
    assert on_disk(app, second) == ("pick", 4, "green", "")  # in the SQLite file itself
    assert on_disk(app, first) is None
    # a reject, and its reason, on the third pane; the reason chips are in compare
    press(qtbot, Qt.Key.Key_Tab)
    press(qtbot, Qt.Key.Key_X)
    bar = window.reason_bar
    qtbot.waitUntil(bar.isVisible)
    assert bar.window() is compare
    press(qtbot, Qt.Key.Key_2, ALT)
    assert review(app, third).reasons == (RejectReason.GARBLED_TEXT,)
    click(qtbot, bar.chips[RejectReason.LIGHTING])
    assert review(app, third).reasons == (RejectReason.GARBLED_TEXT, RejectReason.LIGHTING)
    assert bar.chips[RejectReason.LIGHTING].isChecked()
    assert active_window() is compare  # the chips never take the keys
    # marking another pane is moving on: the chips go
    press(qtbot, Qt.Key.Key_Tab)
    assert not bar.isVisible()
    assert marked_id(compare) == first
    assert review(app, first) == BLANK
    # undo in compare: the decision undone, the pane of its image marked, nothing moved
    press(qtbot, Qt.Key.Key_Z, CTRL)
    assert review(app, third).reasons == (RejectReason.GARBLED_TEXT,)
    assert marked_id(compare) == third
    assert shown_ids(compare) == [first, second, third]
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not compare.isVisible())
    assert not bar.isVisible()


def test_a_decision_that_takes_the_image_out_of_the_filter_keeps_it_in_its_pane(qtbot, make_app):
    app = make_app()
    window = app.window
    choose(qtbot, window.filters.flag_combo, "Unflagged")
    qtbot.waitUntil(lambda: window.model.rowCount() == 40)
    select_rows(qtbot, window, [0, 1])
    compare = open_compare(qtbot, window)
    first, second = shown_ids(compare)
    press(qtbot, Qt.Key.Key_X)
    assert review(app, first).flag is Flag.REJECT
    assert window.model.row_of(first) < 0  # out of "Unflagged"
    assert shown_ids(compare) == [first, second]
    assert marked_id(compare) == first
    press(qtbot, Qt.Key.Key_U)  # still decided in its pane: back in the grid
    assert review(app, first) == BLANK
    assert window.model.row_of(first) >= 0
    compare.reject()


# -- marking a pane -----------------------------------------------------------------------------
def test_a_click_tab_or_shift_tab_marks_a_pane(qtbot, make_app):
    window = make_app().window
    select_rows(qtbot, window, [0, 1, 2, 3])
    compare = open_compare(qtbot, window)
    panes = compare.panes
    assert compare.marked_pane() == 0
    click(qtbot, panes[2].picture)
    assert compare.marked_pane() == 2
    assert panes[2].marked
    assert not panes[0].marked
    assert panes[2].hasFocus()
    assert "<b>" + compare.shown_images()[2].name in panes[2].caption.text()  # bold when marked
    press(qtbot, Qt.Key.Key_Tab)
    assert compare.marked_pane() == 3
    press(qtbot, Qt.Key.Key_Tab)
    assert compare.marked_pane() == 0  # round the end
    press(qtbot, Qt.Key.Key_Tab, SHIFT)
    assert compare.marked_pane() == 3
    press(qtbot, Qt.Key.Key_Backtab, SHIFT)  # what a keyboard sends for Shift+Tab
    assert compare.marked_pane() == 2
    compare.reject()


# -- zoom and pan -----------------------------------------------------------------------------
def drag(widget, start: QPoint, end: QPoint, steps: int = 4) -> None:
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for n in range(1, steps + 1):
        point = QPointF(start) + (QPointF(end) - QPointF(start)) * (n / steps)
        move = QMouseEvent(
            QEvent.Type.MouseMove,
            point,
            QPointF(widget.mapToGlobal(point)),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(widget, move)
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def test_z_and_a_drag_act_on_every_pane_alike(qtbot, make_app):
    window = make_app().window
    select_rows(qtbot, window, [0, 1, 2, 3])
    compare = open_compare(qtbot, window)
    panes = visible_panes(compare)
    qtbot.waitUntil(lambda: all(p.showing_full for p in panes), timeout=15_000)
    pictures = [pane.picture for pane in panes]
    assert not any(p.actual_size for p in pictures)
    press(qtbot, Qt.Key.Key_Z)
    assert all(p.actual_size for p in pictures)
    ratio = pictures[0].devicePixelRatioF()
    for picture in pictures:  # one image pixel per device pixel, in every pane
        size = picture.painted_size()
        assert (size.width(), size.height()) == (410 / ratio, 512 / ratio)
    # a drag in the third pane pans every pane to the same place
    centre = pictures[2].rect().center()
    drag(pictures[2], centre, centre + QPoint(0, -40))
    pans = [p.pan for p in pictures]
    assert pans[2].y() < 0
    for pan in pans:
        assert abs(pan.x() - pans[2].x()) <= 1
        assert abs(pan.y() - pans[2].y()) <= 1
    centres = [p.view_centre() for p in pictures]
    assert centres[0].y() > 0.5  # the lower part of each image is in view
    assert all(abs(c.y() - centres[2].y()) < 0.01 for c in centres)
    # a drag from another pane moves them all again; the marked pane is the one clicked
    drag(pictures[0], centre, centre + QPoint(0, 25))
    assert compare.marked_pane() == 0
    assert all(abs(p.pan.y() - pictures[0].pan.y()) <= 1 for p in pictures)
    assert pictures[0].pan.y() > pans[2].y()
    press(qtbot, Qt.Key.Key_Z)
    assert not any(p.actual_size for p in pictures)
    assert all(p.pan == QPointF(0, 0) for p in pictures)
    compare.reject()


# -- keeping one, stepping the others ---------------------------------------------------------
def test_pane_order_keeps_pinned_panes_and_pages_through_the_rest():
    order = PaneOrder(9)
    assert order.slots == [0, 1, 2, 3]
    assert order.span_text() == "1-4"
    assert order.step(+1)
    assert order.slots == [4, 5, 6, 7]
    assert order.step(+1)
    assert order.slots == [5, 6, 7, 8]  # the last page ends on the last image
    assert not order.step(+1)
    assert order.step(-1)
    assert order.slots == [1, 2, 3, 4]
    assert order.step(-1)
    assert order.slots == [0, 1, 2, 3]
    assert not order.step(-1)
    assert order.toggle_keep(1)
    assert order.step(+1)
    assert order.slots == [4, 1, 5, 6]  # the kept pane stays, the others show what is next
    assert order.span_text() == "2, 5-7"
    assert order.step(+1)
    assert order.slots == [6, 1, 7, 8]
    assert not order.step(+1)
    assert order.step(-1)
    assert order.slots == [3, 1, 4, 5]
    assert not order.toggle_keep(1)  # let go
    assert PaneOrder(3).slots == [0, 1, 2]
    assert not PaneOrder(3).step(+1)  # all shown: nothing to step to
    everything_kept = PaneOrder(6)
    for pane in range(4):
        everything_kept.toggle_keep(pane)
    assert not everything_kept.step(+1)


def test_keep_this_one_pins_a_pane_while_right_and_left_step_the_others(qtbot, make_app):
    app = make_app()
    window = app.window
    rows = list(range(10, 19))  # nine selected
    select_rows(qtbot, window, rows)
    ids = [row_id(window, r) for r in rows]
    compare = open_compare(qtbot, window)
    assert shown_ids(compare) == ids[:4]
    assert "Images 1-4 of the 9 selected" in compare.hint.text()
    press(qtbot, Qt.Key.Key_Right)
    assert shown_ids(compare) == ids[4:8]
    press(qtbot, Qt.Key.Key_Left)
    assert shown_ids(compare) == ids[:4]
    # keep the second pane (the best so far); the others step through the rest
    press(qtbot, Qt.Key.Key_Tab)
    press(qtbot, Qt.Key.Key_K)
    pane = compare.panes[1]
    assert pane.kept
    assert "KEPT" in pane.caption.text()
    press(qtbot, Qt.Key.Key_Right)
    assert shown_ids(compare) == [ids[4], ids[1], ids[5], ids[6]]
    assert compare.marked_pane() == 1  # still the kept one
    assert "Images 2, 5-7 of the 9 selected" in compare.hint.text()
    press(qtbot, Qt.Key.Key_Right)
    assert shown_ids(compare) == [ids[6], ids[1], ids[7], ids[8]]
    press(qtbot, Qt.Key.Key_Right)  # the end: nothing moves
    assert shown_ids(compare) == [ids[6], ids[1], ids[7], ids[8]]
    # the panes that stepped load their images too
    size = compare.loupe_size()
    loader = app.services.loader
    for image in compare.shown_images():
        qtbot.waitUntil(lambda i=image: loader.state(i.thumbnail, size) == "ready", timeout=15_000)
    qtbot.waitUntil(lambda: all(p.showing_full for p in visible_panes(compare)), timeout=15_000)
    # K again lets it go: every pane steps again, back to the first page
    press(qtbot, Qt.Key.Key_K)
    assert not pane.kept
    assert "KEPT" not in pane.caption.text()
    press(qtbot, Qt.Key.Key_Left)
    assert shown_ids(compare) == ids[:4]
    compare.reject()


# -- back to the grid -------------------------------------------------------------------------
def test_esc_or_c_go_back_to_the_grid_with_the_marked_image_current(qtbot, make_app):
    window = make_app().window
    rows = [2, 3, 4, 5]
    for close_key in (Qt.Key.Key_Escape, Qt.Key.Key_C):
        select_rows(qtbot, window, rows)
        compare = open_compare(qtbot, window)
        press(qtbot, Qt.Key.Key_Tab)
        press(qtbot, Qt.Key.Key_Tab)
        assert marked_id(compare) == row_id(window, 4)
        press(qtbot, close_key)
        qtbot.waitUntil(lambda c=compare: not c.isVisible())
        assert window.grid.currentIndex().row() == 4
        assert window.browser.chosen_id == row_id(window, 4)
        assert window.details.image is not None
        assert window.details.image.id == row_id(window, 4)
        # the selection stays, ready for another compare
        selected = sorted(i.row() for i in window.grid.selectionModel().selectedIndexes())
        assert selected == rows


# -- every key is an action ---------------------------------------------------------------------
def test_every_compare_key_is_an_action_in_the_menu_or_the_tool_bar(qtbot, make_app):
    app = make_app()
    window = app.window
    keys = window.keys
    compare_action = keys[ActionId.COMPARE]
    assert compare_action in window.review_menu.actions()
    assert ActionId.COMPARE in REVIEW_MENU
    assert compare_action.shortcut().toString() == "C"
    select_rows(qtbot, window, list(range(0, 6)))
    compare_action.trigger()  # as from the Review menu
    compare = window.compare
    qtbot.waitUntil(compare.isVisible)
    assert compare.toolbar.actions() == [keys[i] for i in COMPARE_ACTIONS]
    for action in compare.toolbar.actions():
        assert action.toolTip().endswith(")")  # with its keys
    ids = shown_ids(compare)
    keys[ActionId.COMPARE_NEXT].trigger()
    assert shown_ids(compare) != ids
    keys[ActionId.COMPARE_PREVIOUS].trigger()
    assert shown_ids(compare) == ids
    keys[ActionId.COMPARE_NEXT_PANE].trigger()
    assert compare.marked_pane() == 1
    keys[ActionId.COMPARE_PREVIOUS_PANE].trigger()
    assert compare.marked_pane() == 0
    keys[ActionId.COMPARE_KEEP].trigger()
    assert compare.panes[0].kept
    keys[ActionId.COMPARE_ZOOM].trigger()
    assert all(p.picture.actual_size for p in visible_panes(compare))
    keys[ActionId.PICK].trigger()  # a review row from the menu decides the marked pane
    assert review(app, ids[0]).flag is Flag.PICK
    keys[ActionId.COMPARE_CLOSE].trigger()
    qtbot.waitUntil(lambda: not compare.isVisible())
    # the cheat sheet lists the compare keys
    window.activateWindow()
    qtbot.waitUntil(lambda: active_window() is window)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Question)
    sheet = window.shortcuts_dialog
    assert sheet is not None
    text = sheet.text.text()
    assert "In compare" in text
    assert "Keep the marked pane" in text
    assert "Auto-advance never moves the panes" in text
    sheet.reject()
