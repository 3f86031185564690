"""The loupe against the real sandbox: Space or Enter opens the image as large as the window allows,
a smaller thumbnail at once and the full-size one loaded from the CDN on the preview channel; the
review keys decide the image shown and auto-advance; Left / Right follow the grid's filtered order;
Z toggles fit and 100% and a drag pans at 100%; the neighbours are loaded ahead; the reason chips
after a reject show in the loupe."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from qamera_desktop.core.review import Flag, RejectReason
from tests.ui.helpers import active_window, choose, click

Select = QItemSelectionModel.SelectionFlag
CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier


def row_id(window, row: int) -> str:
    image = window.model.image_at(row)
    assert image is not None
    return image.id


def url_of(window, row: int) -> str:
    image = window.model.image_at(row)
    assert image is not None
    assert image.thumbnail
    return image.thumbnail


def go_to(qtbot, window, row: int) -> None:
    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(row))
    qtbot.waitUntil(lambda: window.grid.currentIndex().row() == row)


def open_loupe(qtbot, window, key=Qt.Key.Key_Space):
    window.grid.setFocus()
    qtbot.keyClick(window.grid, key)
    qtbot.waitUntil(lambda: active_window() is window.preview)
    return window.preview


def shown_id(window) -> str:
    image = window.preview.image
    assert image is not None
    return image.id


def test_space_and_enter_open_the_loupe_at_once_then_at_full_size(qtbot, make_app):
    app = make_app()
    window, loader = app.window, app.services.loader
    grid_size = window.grid.request_size()
    for row, key in ((0, Qt.Key.Key_Space), (1, Qt.Key.Key_Return)):
        go_to(qtbot, window, row)
        url = url_of(window, row)
        qtbot.waitUntil(lambda u=url: loader.state(u, grid_size) == "ready", timeout=15_000)
        loupe = open_loupe(qtbot, window, key)
        size = loupe.loupe_size()
        assert size > grid_size
        # a picture at once: the grid's thumbnail, while the full-size one loads
        assert not loupe.picture.pixmap().isNull()
        qtbot.waitUntil(lambda u=url, s=size: loader.state(u, s) == "ready", timeout=15_000)
        qtbot.waitUntil(lambda: window.preview.showing_full)
        full = loupe.picture.pixmap()
        grid_thumb = loader.pixmap(url, grid_size)
        assert grid_thumb is not None
        assert full.height() > grid_thumb.height()  # the image at its own size (410x512)
        assert (full.width(), full.height()) == (410, 512)
        # fitted: as large as the window allows
        painted = loupe.picture.painted_size()
        area = loupe.picture.size()
        assert painted.height() == area.height() or painted.width() == area.width()
        loupe.reject()
        window.activateWindow()
        qtbot.waitUntil(lambda: active_window() is window)


def test_review_keys_in_the_loupe_decide_the_image_shown_and_advance(qtbot, make_app):
    app = make_app()
    window, store = app.window, app.services.reviews
    assert store is not None
    go_to(qtbot, window, 3)
    for row in (4, 5):  # several selected in the grid: the loupe still decides the one shown
        window.grid.selectionModel().select(window.model.index(row), Select.Select)
    loupe = open_loupe(qtbot, window)
    third, fourth, fifth = row_id(window, 3), row_id(window, 4), row_id(window, 5)
    assert shown_id(window) == third
    qtbot.keyClick(loupe, Qt.Key.Key_P)
    assert store.get(third).flag is Flag.PICK
    assert store.get(fourth).flag is Flag.NONE
    assert shown_id(window) == fourth  # auto-advance, in the loupe
    assert loupe.isVisible()
    qtbot.keyClick(loupe, Qt.Key.Key_3)
    assert store.get(fourth).rating == 3
    assert shown_id(window) == fifth
    assert "3 stars" not in loupe.caption.text()
    qtbot.keyClick(loupe, Qt.Key.Key_X)
    assert store.get(fifth).flag is Flag.REJECT
    qtbot.keyClick(loupe, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)  # a reason
    assert store.get(fifth).reasons
    qtbot.keyClick(loupe, Qt.Key.Key_Z, CTRL)  # undo the reason
    qtbot.keyClick(loupe, Qt.Key.Key_Z, CTRL)  # undo the reject: it is shown again
    assert store.get(fifth).flag is Flag.NONE
    assert shown_id(window) == fifth
    qtbot.keyClick(loupe, Qt.Key.Key_Y, CTRL)  # redo
    assert store.get(fifth).flag is Flag.REJECT
    # auto-advance off: the decision stays on the image shown, the caption says it
    window.auto_advance_action.setChecked(False)
    shown = shown_id(window)
    qtbot.keyClick(loupe, Qt.Key.Key_9)
    assert shown_id(window) == shown
    assert "blue label" in loupe.caption.text()
    loupe.reject()


def test_left_and_right_step_through_the_filtered_order(qtbot, make_app):
    app = make_app()
    window = app.window
    picked = [row_id(window, row) for row in (0, 2, 4, 6)]
    go_to(qtbot, window, 0)
    for row in (2, 4, 6):
        window.grid.selectionModel().select(window.model.index(row), Select.Select)
    qtbot.keyClick(window.grid, Qt.Key.Key_P)
    choose(qtbot, window.filters.flag_combo, "Picks")
    qtbot.waitUntil(lambda: window.model.rowCount() == 4)
    go_to(qtbot, window, 0)
    loupe = open_loupe(qtbot, window)
    assert shown_id(window) == picked[0]
    qtbot.keyClick(loupe, Qt.Key.Key_Right)
    assert shown_id(window) == picked[1]
    qtbot.keyClick(loupe, Qt.Key.Key_Right)
    assert shown_id(window) == picked[2]
    qtbot.keyClick(loupe, Qt.Key.Key_Left)
    assert shown_id(window) == picked[1]
    # a decision that takes the image out of the filter goes on to the next one in it
    qtbot.keyClick(loupe, Qt.Key.Key_U)
    assert window.model.rowCount() == 3
    assert shown_id(window) == picked[2]
    loupe.reject()


def drag(widget, start: QPoint, end: QPoint) -> None:
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for t in (0.5, 1.0):
        point = QPointF(start) + (QPointF(end) - QPointF(start)) * t
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


def test_z_toggles_fit_and_100_percent_and_a_drag_pans(qtbot, make_app):
    app = make_app()
    window = app.window
    go_to(qtbot, window, 0)
    loupe = open_loupe(qtbot, window)
    qtbot.waitUntil(lambda: loupe.showing_full, timeout=15_000)
    picture = loupe.picture
    ratio = picture.devicePixelRatioF()
    fitted = picture.painted_size()
    assert not picture.actual_size
    assert fitted.height() == picture.height()  # the 410x512 image is enlarged to the window
    qtbot.keyClick(loupe, Qt.Key.Key_Z)
    assert picture.actual_size
    actual = picture.painted_size()
    assert (actual.width(), actual.height()) == (410 / ratio, 512 / ratio)
    assert actual.height() < fitted.height()
    # a drag moves the image; the first, a drag in fit mode, does not
    centre = picture.rect().center()
    drag(picture, centre, centre + QPoint(40, 30))
    assert picture.pan != QPointF(0, 0)
    assert picture.pan.x() > 0
    assert picture.pan.y() > 0
    # the arrows still step at 100%
    qtbot.keyClick(loupe, Qt.Key.Key_Right)
    assert shown_id(window) == row_id(window, 1)
    assert picture.actual_size
    qtbot.keyClick(loupe, Qt.Key.Key_Z)
    assert not picture.actual_size
    assert picture.pan == QPointF(0, 0)
    drag(picture, centre, centre + QPoint(40, 30))
    assert picture.pan == QPointF(0, 0)
    loupe.reject()


def test_the_next_two_and_the_previous_image_are_loaded_ahead(qtbot, make_app):
    app = make_app()
    window, loader = app.window, app.services.loader
    go_to(qtbot, window, 2)
    loupe = open_loupe(qtbot, window)
    size = loupe.loupe_size()
    qtbot.keyClick(loupe, Qt.Key.Key_Right)
    assert shown_id(window) == row_id(window, 3)
    for row in (3, 4, 5, 2):
        url = url_of(window, row)
        qtbot.waitUntil(lambda u=url: loader.state(u, size) == "ready", timeout=15_000)
    assert loader.state(url_of(window, 6), size) == "none"  # not further
    # stepping on is instant: the full-size image is there at once
    qtbot.keyClick(loupe, Qt.Key.Key_Right)
    assert loupe.showing_full
    loupe.reject()


def test_the_reason_chips_show_in_the_loupe_and_leave_with_it(qtbot, make_app):
    app = make_app()
    window, store = app.window, app.services.reviews
    assert store is not None
    bar = window.reason_bar
    go_to(qtbot, window, 1)
    loupe = open_loupe(qtbot, window)
    rejected = shown_id(window)
    qtbot.keyClick(loupe, Qt.Key.Key_X)
    qtbot.waitUntil(bar.isVisible)
    assert bar.window() is loupe  # not behind it, under the grid
    assert bar.geometry().top() >= loupe.caption.geometry().bottom()  # at the bottom
    assert shown_id(window) == row_id(window, 2)  # auto-advanced; the chips name the reject
    assert window.model.image_at(1).name in bar.title.text()
    qtbot.keyClick(loupe, Qt.Key.Key_3, ALT)
    assert store.get(rejected).reasons == (RejectReason.PRODUCT_WRONG,)
    assert bar.chips[RejectReason.PRODUCT_WRONG].isChecked()
    click(qtbot, bar.chips[RejectReason.OTHER])
    assert store.get(rejected).reasons == (RejectReason.PRODUCT_WRONG, RejectReason.OTHER)
    assert active_window() is loupe  # the chips never take the keys
    # stepping by hand skips them, as in the grid
    qtbot.keyClick(loupe, Qt.Key.Key_Right)
    assert not bar.isVisible()
    # closing the loupe takes them away too
    qtbot.keyClick(loupe, Qt.Key.Key_X)
    qtbot.waitUntil(bar.isVisible)
    qtbot.keyClick(loupe, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not loupe.isVisible())
    assert not bar.isVisible()
    # in the grid they are under the grid again
    window.activateWindow()
    qtbot.waitUntil(lambda: active_window() is window)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_X)
    qtbot.waitUntil(bar.isVisible)
    assert bar.window() is window
    assert bar.geometry().top() >= window.browser.geometry().bottom()
