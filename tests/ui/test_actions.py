"""The table of keyboard actions (ui/actions.py): sound on its own (unique ids, no key serving two
actions at once, none taken from the grid's navigation), and in a shown window every key of the
table triggers its action, in the place the table says and not elsewhere."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from qamera_desktop.ui.actions import (
    ACTIONS,
    GRID_NAVIGATION,
    IN_REVIEW_WINDOWS,
    REVIEW_COPY_DATA,
    REVIEW_WINDOWS,
    ActionId,
    ActionSet,
    ActionSpec,
    Context,
    clashes,
    keys_text,
    spec_of,
)
from tests.ui.helpers import active_window, focus_widget

CTRL = Qt.KeyboardModifier.ControlModifier


def key_click_args(key: str) -> tuple[Qt.Key, Qt.KeyboardModifier]:
    """`key` ("Ctrl+Shift+S") as qtbot.keyClick's key and modifiers."""
    sequence = QKeySequence(key)
    assert sequence.count() == 1, f"{key} is not a single key press"
    combination = sequence[0]
    return combination.key(), combination.keyboardModifiers()


# -- the table alone ---------------------------------------------------------------------------
def test_every_action_id_has_exactly_one_row():
    ids = [spec.id for spec in ACTIONS]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(ActionId)
    assert len(ActionId.__members__) == len(ActionId)  # no id is an alias of another


def test_every_row_names_its_keys_and_says_what_it_does():
    for spec in ACTIONS:
        assert spec.text.strip(), spec
        assert spec.tip.strip(), spec
        assert spec.keys, f"{spec.id} has no default key"
        assert spec_of(spec.id) is spec


def test_no_key_serves_two_actions_at_once_and_none_moves_in_the_grid():
    assert clashes() == []


def test_the_check_finds_what_would_go_wrong():
    find = spec_of(ActionId.FIND)
    # the grid is inside the window: a grid key may not be a window key as well
    grid_ctrl_f = ActionSpec(ActionId.OPEN_PREVIEW, "Open", ("Ctrl+F",), Context.GRID, "Open")
    assert clashes([find, grid_ctrl_f]) == ["find and open_preview both use Ctrl+F"]
    # the preview is a window of its own: the same key there is no clash
    in_preview = replace(grid_ctrl_f, context=Context.PREVIEW)
    assert clashes([find, in_preview]) == []
    # one spelling of a key, whatever the case it was written in
    lower = replace(in_preview, context=Context.WINDOW, keys=("ctrl+f",))
    assert "find and open_preview both use Ctrl+F" in clashes([find, lower])
    assert any("portable text" in problem for problem in clashes([lower]))
    typo = replace(find, keys=("Ctrl+Shfit+F",))
    assert clashes([typo]) == ["find: 'Ctrl+Shfit+F' is not a key sequence in Qt's portable text"]
    takes_an_arrow = replace(find, keys=("Shift+Down",))
    assert clashes([takes_an_arrow]) == ["find: Shift+Down moves in the grid"]
    assert "Shift+Down" in GRID_NAVIGATION
    assert clashes([replace(takes_an_arrow, context=Context.PREVIEW)]) == []


def test_a_row_without_a_handler_is_refused(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    with pytest.raises(ValueError, match="no handler for zoom_out"):
        ActionSet(
            {Context.WINDOW: host},
            {ActionId.ZOOM_IN: lambda: None},
            table=[spec_of(ActionId.ZOOM_IN), spec_of(ActionId.ZOOM_OUT)],
        )


# -- the table in a shown window ---------------------------------------------------------------
def every_key() -> list[tuple[ActionId, str]]:
    return [(spec.id, key) for spec in ACTIONS for key in spec.keys]


def action_of(window, action_id: ActionId) -> QAction:
    action = window.keys[action_id]
    assert isinstance(action, QAction)
    return action


def focus_for(qtbot, window, context: Context) -> QWidget:
    """Put the keyboard where `context` applies; return the widget that has it."""
    if context is Context.COMPARE:
        window.grid.setFocus()
        window.grid.selectAll()
        assert window.browser.open_compare()
        qtbot.waitUntil(lambda: active_window() is window.compare)
        return window.compare
    if context is Context.PREVIEW:
        window.grid.setFocus()
        window.browser.open_current()
        qtbot.waitUntil(lambda: active_window() is window.preview)
        return window.preview
    if context is Context.GRID:
        window.grid.setFocus()
        assert focus_widget() is window.grid
        return window.grid
    # a window key works wherever the focus is in the window: here, not on the grid
    window.filters.sort_combo.setFocus()
    assert focus_widget() is window.filters.sort_combo
    return window.filters.sort_combo


def close_what_opened(qtbot, window) -> None:
    for review_window in (window.preview, window.compare):
        if review_window.isVisible():
            review_window.reject()
    dialog = window.new_shoot_dialog
    if dialog is not None and dialog.isVisible():
        with qtbot.waitSignal(dialog.finished):
            dialog.reject()
    preferences = window.preferences_dialog
    if preferences is not None and preferences.isVisible():
        preferences.reject()


@pytest.mark.parametrize(("action_id", "key"), every_key(), ids=lambda v: str(v))
def test_each_key_of_the_table_triggers_its_action_in_a_shown_window(
    qtbot, make_app, action_id, key
):
    app = make_app()
    window = app.window
    spec = spec_of(action_id)
    action = action_of(window, action_id)
    assert action.text() == spec.text
    assert [k.toString() for k in action.shortcuts()] == list(spec.keys)
    if action_id in (ActionId.UNDO, ActionId.REDO):  # greyed while there is nothing to do
        qtbot.waitUntil(lambda: window.model.rowCount() > 0)
        window.grid.setCurrentIndex(window.model.index(0))
        window.keys[ActionId.PICK].trigger()
        if action_id is ActionId.REDO:
            window.keys[ActionId.UNDO].trigger()
    target = focus_for(qtbot, window, spec.context)
    qt_key, modifiers = key_click_args(key)
    with qtbot.waitSignal(action.triggered, timeout=2_000):
        qtbot.keyClick(target, qt_key, modifiers)
    close_what_opened(qtbot, window)


def test_tooltips_show_the_keys(qtbot, make_app):
    window = make_app().window
    for spec in ACTIONS:
        action = action_of(window, spec.id)
        expected = keys_text([QKeySequence(k) for k in spec.keys])
        assert action.toolTip() == f"{spec.tip} ({expected})"
    assert window.keys[ActionId.REFRESH].toolTip().endswith("(F5 or Ctrl+R)")
    # the toolbar buttons and the details' Open button show them
    assert window.details.open_button.toolTip() == window.keys[ActionId.OPEN_PREVIEW].toolTip()
    assert "(Space or Return or Enter)" in window.details.open_button.toolTip()
    assert "(Ctrl+F)" in window.search.placeholderText()


def test_grid_keys_do_not_fire_outside_the_grid(qtbot, make_app):
    window = make_app().window
    open_preview = window.keys[ActionId.OPEN_PREVIEW].triggered
    window.sort_combo.setFocus()
    with qtbot.assertNotEmitted(open_preview):
        qtbot.keyClick(window.sort_combo, Qt.Key.Key_Return)
    window.search.setFocus()
    with qtbot.assertNotEmitted(open_preview):
        qtbot.keyClick(window.search, Qt.Key.Key_Space)
    assert window.search.text() == " "  # typed, as in any text field
    assert not window.preview.isVisible()


def test_the_preview_caption_names_the_preview_keys(qtbot, make_app):
    window = make_app().window
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: active_window() is window.preview)
    assert window.preview.caption.text().endswith(
        "(Previous: Left, Next: Right, Close: Esc, Fit or 100%: Z)"
    )
    window.preview.reject()


def test_rebinding_a_key_moves_the_shortcut_and_the_tooltip(qtbot, make_app):
    window = make_app().window
    find = window.keys[ActionId.FIND]
    window.keys.set_keys(ActionId.FIND, [QKeySequence("Ctrl+K")])
    assert find.toolTip() == "Search image names (Ctrl+K)"
    window.grid.setFocus()
    with qtbot.assertNotEmitted(find.triggered):
        qtbot.keyClick(window.grid, Qt.Key.Key_F, CTRL)
    assert focus_widget() is window.grid
    qtbot.keyClick(window.grid, Qt.Key.Key_K, CTRL)
    assert focus_widget() is window.search
    window.keys.set_keys(ActionId.FIND, [])
    assert find.toolTip() == "Search image names"
    assert window.keys.key_text(ActionId.FIND) == ""


def test_keys_rebound_before_a_review_window_is_built_are_its_keys(qtbot, make_app):
    """The loupe and compare are built when first opened: their own rows and their copies of the
    review rows come with them, bound to the keys of now, not the table's defaults."""
    window = make_app().window
    window.keys.set_keys(ActionId.PICK, [QKeySequence("Ctrl+Shift+P")])
    window.keys.set_keys(ActionId.LOUPE_ZOOM, [QKeySequence("Ctrl+Shift+Z")])
    loupe = window.preview  # built here
    pick = window.keys.copy_in(Context.PREVIEW, ActionId.PICK)
    assert pick is not None
    assert pick in loupe.actions()
    assert [k.toString() for k in pick.shortcuts()] == ["Ctrl+Shift+P"]
    assert pick.toolTip() == window.keys[ActionId.PICK].toolTip()
    zoom = window.keys[ActionId.LOUPE_ZOOM]
    assert zoom in loupe.actions()
    assert [k.toString() for k in zoom.shortcuts()] == ["Ctrl+Shift+Z"]
    assert window.keys.copy_in(Context.COMPARE, ActionId.PICK) is None  # compare: not built yet
    window.compare  # noqa: B018  (built here)
    copy = window.keys.copy_in(Context.COMPARE, ActionId.PICK)
    assert copy is not None
    assert [k.toString() for k in copy.shortcuts()] == ["Ctrl+Shift+P"]


def test_the_review_keys_have_a_copy_on_each_review_window_that_triggers_the_same_action(
    qtbot, make_app
):
    window = make_app().window
    for context, host in ((Context.PREVIEW, window.preview), (Context.COMPARE, window.compare)):
        for action_id in IN_REVIEW_WINDOWS:
            copy = window.keys.copy_in(context, action_id)
            assert copy is not None, (context, action_id)
            assert copy in host.actions()
            assert copy.shortcuts() == window.keys[action_id].shortcuts()
            assert copy.data() == REVIEW_COPY_DATA
            with qtbot.waitSignal(window.keys[action_id].triggered, timeout=1_000):
                copy.trigger()
        # the window's own keys are not copies, and no other row is copied there
        assert window.keys.copy_in(context, ActionId.FIND) is None
    # a rebound review key moves on every window at once
    window.keys.set_keys(ActionId.PICK, [QKeySequence("Ctrl+Shift+P")])
    for context in REVIEW_WINDOWS:
        copy = window.keys.copy_in(context, ActionId.PICK)
        assert copy is not None
        assert [k.toString() for k in copy.shortcuts()] == ["Ctrl+Shift+P"]
