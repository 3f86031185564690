"""Edit → Copy ID and Copy URL (Ctrl+C, Ctrl+Shift+C on the grid): the current image, or every
selected image in grid order, one per line, in the real window over the sandbox."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication

from qamera_desktop.ui.actions import EDIT_ACTIONS, ActionId

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
Select = QItemSelectionModel.SelectionFlag


def only(window, row: int) -> None:
    """Make `row` current and the only one selected."""
    window.grid.selectionModel().setCurrentIndex(window.model.index(row), Select.ClearAndSelect)


def test_copy_id_and_url_of_the_current_image_by_key(qtbot, make_app):
    window = make_app().window
    window.grid.setFocus()
    only(window, 1)
    image = window.model.image_at(1)
    assert image is not None
    assert image.thumbnail
    QGuiApplication.clipboard().clear()

    qtbot.keyClick(window.grid, Qt.Key.Key_C, CTRL)
    assert QGuiApplication.clipboard().text() == image.id
    assert "Copied the ID" in window.statusBar().currentMessage()

    qtbot.keyClick(window.grid, Qt.Key.Key_C, CTRL | SHIFT)
    assert QGuiApplication.clipboard().text() == image.thumbnail


def test_copy_of_several_selected_images_from_the_edit_menu(qtbot, make_app):
    window = make_app().window
    rows = [0, 2, 3]
    only(window, rows[0])
    selection = window.grid.selectionModel()
    for row in rows[1:]:
        selection.select(window.model.index(row), Select.Select)
    images = [window.model.image_at(row) for row in rows]
    assert all(image is not None for image in images)

    assert [a.text() for a in window.edit_menu.actions() if not a.isSeparator()] == [
        window.keys[action_id].text() for action_id in EDIT_ACTIONS
    ]
    window.keys[ActionId.COPY_IDS].trigger()
    assert QGuiApplication.clipboard().text().splitlines() == [i.id for i in images]
    assert "Copied 3 IDs" in window.statusBar().currentMessage()
    window.keys[ActionId.COPY_URLS].trigger()
    assert QGuiApplication.clipboard().text().splitlines() == [i.thumbnail for i in images]


def test_nothing_to_copy_says_so_and_leaves_the_clipboard_alone(qtbot, make_app):
    window = make_app().window
    window.filters.search.setText("no image has this name")
    qtbot.waitUntil(lambda: window.model.rowCount() == 0)
    QGuiApplication.clipboard().setText("before")
    window.keys[ActionId.COPY_IDS].trigger()
    assert QGuiApplication.clipboard().text() == "before"
    assert "No image to copy" in window.statusBar().currentMessage()
