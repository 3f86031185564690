"""The window is usable from 800x600 up: every control of the filter bar is on screen (the bar
takes a second line rather than hiding controls behind "»"), the details never overlap, and the
window never opens larger than the screen's available area."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QToolButton, QWidget

from qamera_desktop.ui import shortcuts_dialog
from qamera_desktop.ui.actions import ActionId
from qamera_desktop.ui.screen_fit import fit_size_to_screen, fit_to_screen

SIZES = [(800, 600), (900, 640), (1024, 700), (1600, 1000)]


def rect_in_window(widget: QWidget, window: QWidget) -> QRect:
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())


def bar_controls(window) -> dict[str, QWidget]:
    controls: dict[str, QWidget] = {
        "product": window.product_combo,
        "voting": window.status_combo,
        "search": window.search,
        "sort": window.sort_combo,
        "size": window.size_slider,
    }
    for action_id in (ActionId.REFRESH, ActionId.NEW_SHOOT, ActionId.TOGGLE_SHOOTS):
        action = window.keys[action_id]
        buttons = [b for b in window.findChildren(QToolButton) if b.defaultAction() is action]
        visible = [b for b in buttons if b.isVisible()]
        assert visible, f"no visible button for {action.text()}"
        controls[action.text()] = visible[0]
    return controls


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_control_of_the_filter_bar_is_on_screen(qtbot, make_app, width, height):
    window = make_app().window
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width)
    controls = bar_controls(window)
    inside = window.rect()
    placed = {}
    for name, widget in controls.items():
        assert widget.isVisible(), name
        rect = rect_in_window(widget, window)
        assert inside.contains(rect), f"{name} at {rect} is outside {inside}"
        assert widget.width() >= min(widget.sizeHint().width(), 100), f"{name} is squeezed"
        placed[name] = rect
    names = list(placed)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not placed[a].intersects(placed[b]), f"{a} overlaps {b}"
    # the bar is one line when there is room, and never more than two
    lines = window.filters.lines()
    assert lines == 1 if width >= 1600 else 1 <= lines <= 2
    # the grid starts below the bar
    grid_top = rect_in_window(window.grid, window).top()
    assert all(rect.bottom() < grid_top for rect in placed.values())


def assert_details_do_not_overlap(details) -> None:
    parts = {
        "preview": details.preview,
        "name": details.name,
        "facts": details.facts,
        "buttons": details.open_button,
    }
    rects = {name: rect_in_window(w, details) for name, w in parts.items()}
    names = list(rects)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not rects[a].intersects(rects[b]), f"{a} {rects[a]} overlaps {b} {rects[b]}"
    pixmap = details.preview.pixmap()
    if not pixmap.isNull():
        shown = pixmap.deviceIndependentSize()
        assert shown.width() <= details.preview.width() + 1
        assert shown.height() <= details.preview.height() + 1


@pytest.mark.parametrize(("width", "height"), [(800, 600), (800, 520), (1024, 700)])
def test_the_details_never_overlap_even_with_the_shoots_panel_open(qtbot, make_app, width, height):
    window = make_app().window
    window.resize(width, height)
    details = window.details
    qtbot.waitUntil(lambda: details.image is not None)
    qtbot.waitUntil(lambda: not details.preview.pixmap().isNull(), timeout=15_000)
    assert_details_do_not_overlap(details)
    window.shoots_dock.show()
    qtbot.waitUntil(lambda: window.shoots_dock.height() > 50)
    qtbot.waitUntil(lambda: details.preview.pixmap().height() <= details.preview.height() + 1)
    assert_details_do_not_overlap(details)
    # the parts of the details can all be reached (the panel scrolls when it is that short)
    for part in (details.name, details.facts, details.open_button, details.copy_url_button):
        assert part.isVisible()
        details.scroller.ensureWidgetVisible(part, 0, 0)
        viewport = details.scroller.viewport()
        assert viewport.rect().contains(rect_in_window(part, viewport))


def test_the_window_never_opens_larger_than_the_screen(qtbot, make_app, tmp_path):
    first = make_app(settings_path=tmp_path / "settings.json")
    window = first.window
    available = window.screen().availableGeometry()
    assert available.contains(window.frameGeometry()), (window.frameGeometry(), available)

    # a size saved on a larger screen (or at another scale factor) is fitted to this one
    window.resize(available.width() + 600, available.height() + 400)
    window.close()
    second = make_app(settings_path=tmp_path / "settings.json")
    assert available.contains(second.window.frameGeometry()), second.window.frameGeometry()
    assert second.window.width() >= 600


def test_the_shortcuts_sheet_keeps_its_close_button_on_a_small_screen(qtbot, make_app, monkeypatch):
    """The sheet's own size (560x640) is larger than an 800x600 screen: it is fitted to the
    screen, or its bottom and its Close button are out of reach."""
    window = make_app().window
    available = window.screen().availableGeometry()
    too_big = QSize(available.width() + 200, available.height() + 300)
    monkeypatch.setattr(shortcuts_dialog, "SIZE", too_big)
    window.show_shortcuts()
    dialog = window.shortcuts_dialog
    qtbot.waitUntil(dialog.isVisible)
    close = dialog.findChild(QDialogButtonBox)
    assert close is not None
    assert close.isVisible()
    bottom_right = close.mapToGlobal(close.rect().bottomRight())
    assert available.contains(bottom_right), (bottom_right, available)
    assert available.contains(dialog.frameGeometry()), (dialog.frameGeometry(), available)
    # Qt still places it (over the window, on its screen): a move of its own would stop that,
    # which on a screen whose usable area starts past (0, 0) put it in that area's corner
    assert not dialog.testAttribute(Qt.WidgetAttribute.WA_Moved)


def test_a_dialog_is_only_sized_to_the_screen_never_moved(qtbot, make_app):
    """Its place is Qt's (over its parent, on the screen): fitting a dialog keeps its position,
    while the main window is moved inside the screen."""
    window = make_app().window
    available = window.screen().availableGeometry()
    dialog = QDialog(window)
    qtbot.addWidget(dialog)
    dialog.resize(available.width() + 100, available.height() + 100)
    dialog.move(available.right() - 50, available.bottom() - 50)
    placed = dialog.pos()
    fit_size_to_screen(dialog)
    assert dialog.pos() == placed
    assert dialog.width() < available.width()
    assert dialog.height() < available.height()
    fit_to_screen(dialog)
    assert available.contains(dialog.geometry()), (dialog.geometry(), available)


def test_the_name_follows_the_picture_in_a_tall_window(qtbot, make_app):
    window = make_app().window
    window.resize(1400, 1000)
    details = window.details
    qtbot.waitUntil(lambda: not details.preview.pixmap().isNull(), timeout=15_000)

    def picture_fills_the_preview() -> None:
        # the picture takes the preview's width, and the preview is no taller than the picture
        picture = details.preview.pixmap().deviceIndependentSize()
        assert picture.width() >= details.preview.width() - 2
        assert details.preview.height() - picture.height() <= 2

    qtbot.waitUntil(picture_fills_the_preview)
    # no blank band between the picture and the name below it
    name_top = rect_in_window(details.name, details).top()
    gap = name_top - rect_in_window(details.preview, details).bottom()
    assert 0 < gap < 16
    assert_details_do_not_overlap(details)
