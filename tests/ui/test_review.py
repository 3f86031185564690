"""Picking and approving in a real window against the sandbox, with a real SQLite file: every
review key on the grid and the same actions from the Review menu, batches, undo and redo,
auto-advance inside each flag filter, reject reasons, the grid's review sprites, the review filters
and the count line, the details panel, and the decisions after a restart."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import QItemSelectionModel, QRect, Qt
from PySide6.QtGui import QColor, QPalette

from qamera_desktop.core.review import (
    BLANK,
    Flag,
    FlagFilter,
    Label,
    RejectReason,
    Review,
    ReviewFilter,
)
from qamera_desktop.ui.actions import REVIEW_ACTIONS, SHOOT_ACTIONS, ActionId, spec_of
from qamera_desktop.ui.cell_sprites import PICK_COLOUR, REJECT_COLOUR, badge_font
from qamera_desktop.ui.details_panel import VOTING_NOTE
from qamera_desktop.ui.image_grid_model import ImageRole
from qamera_desktop.ui.menus import REVIEW_MENU
from tests.ui.helpers import active_window, choose, click, count_near, pixels, thumb_rect

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier
Select = QItemSelectionModel.SelectionFlag


def current_id(window) -> str:
    image = window.browser.current_image()
    assert image is not None
    return image.id


def row_id(window, row: int) -> str:
    image = window.model.image_at(row)
    assert image is not None
    return image.id


def review(app, image_id: str) -> Review:
    assert app.services.reviews is not None
    return app.services.reviews.get(image_id)


def on_disk(app, image_id: str) -> tuple | None:
    """The review row in the SQLite file itself, read with a connection of its own."""
    with sqlite3.connect(app.database._path) as db:
        return db.execute(
            "SELECT flag, rating, label, reasons FROM reviews WHERE image_id = ?", (image_id,)
        ).fetchone()


def scaled(rect: QRect, ratio: float) -> QRect:
    """`rect` in device pixels."""
    return QRect(
        round(rect.x() * ratio),
        round(rect.y() * ratio),
        round(rect.width() * ratio),
        round(rect.height() * ratio),
    )


def go_to(qtbot, window, row: int) -> None:
    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(row))
    qtbot.waitUntil(lambda: window.grid.currentIndex().row() == row)


def key(qtbot, window, qt_key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    window.grid.setFocus()
    qtbot.keyClick(window.grid, qt_key, modifier)


def set_flag_filter(qtbot, window, text: str) -> None:
    choose(qtbot, window.filters.flag_combo, text)
    window.grid.setFocus()


# -- wiring ------------------------------------------------------------------------------------
def test_connect_makes_the_review_store_of_the_shoot_services_account(qtbot, make_app):
    app = make_app()
    store = app.services.reviews
    assert store is not None
    assert store.account == app.service._account
    assert app.window.reviews.store is store
    assert app.window.review_line.text() == "40 images · 0 picks · 0 rejects · 40 to review"


# -- every key, and the menu -------------------------------------------------------------------
def test_every_review_key_decides_the_current_image_and_is_written(qtbot, make_app):
    app = make_app()
    window = app.window
    window.auto_advance_action.setChecked(False)
    go_to(qtbot, window, 2)
    image_id = current_id(window)

    key(qtbot, window, Qt.Key.Key_P)
    assert review(app, image_id).flag is Flag.PICK
    assert on_disk(app, image_id) == ("pick", 0, "none", "")
    key(qtbot, window, Qt.Key.Key_X)
    assert review(app, image_id).flag is Flag.REJECT
    key(qtbot, window, Qt.Key.Key_U)
    assert review(app, image_id) == BLANK
    assert on_disk(app, image_id) is None  # a blank review keeps no row
    for stars, qt_key in enumerate(
        (Qt.Key.Key_0, Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5)
    ):
        key(qtbot, window, Qt.Key.Key_5 if stars == 0 else Qt.Key.Key_0)  # from another value
        key(qtbot, window, qt_key)
        assert review(app, image_id).rating == stars
    key(qtbot, window, Qt.Key.Key_3)
    for label, qt_key in (
        (Label.RED, Qt.Key.Key_6),
        (Label.YELLOW, Qt.Key.Key_7),
        (Label.GREEN, Qt.Key.Key_8),
        (Label.BLUE, Qt.Key.Key_9),
    ):
        key(qtbot, window, qt_key)
        assert review(app, image_id).label is label
        key(qtbot, window, qt_key)  # the same key again clears it
        assert review(app, image_id).label is Label.NONE
        key(qtbot, window, qt_key)
        assert review(app, image_id).label is label
    assert review(app, image_id) == Review(rating=3, label=Label.BLUE)
    assert on_disk(app, image_id) == ("none", 3, "blue", "")
    # flags are explicit: P twice is still a pick
    key(qtbot, window, Qt.Key.Key_P)
    key(qtbot, window, Qt.Key.Key_P)
    assert review(app, image_id).flag is Flag.PICK
    assert current_id(window) == image_id  # auto-advance is off
    # the model's role and the grid's tooltip say it too
    index = window.model.index(2)
    assert index.data(ImageRole.REVIEW) == review(app, image_id)
    spoken = index.data(Qt.ItemDataRole.AccessibleTextRole)
    assert spoken.endswith(", your pick, 3 stars, blue label")


def test_the_review_menu_lists_every_review_action_with_its_keys_and_triggers_it(qtbot, make_app):
    app = make_app()
    window = app.window
    window.auto_advance_action.setChecked(False)
    menu = window.review_menu
    in_menu = [a for a in menu.actions() if not a.isSeparator()]
    in_order = (*REVIEW_ACTIONS, ActionId.COMPARE)
    assert in_order == REVIEW_MENU
    # an image's shoot is in the Shoot menu, after New shoot
    shoot_menu = [a for a in window.shoot_menu.actions() if not a.isSeparator()]
    assert shoot_menu == [window.keys[i] for i in (ActionId.NEW_SHOOT, *SHOOT_ACTIONS)]
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&Review", "&View", "&Shoot", "&Help"]
    assert [a.text() for a in in_menu] == [spec_of(i).text for i in in_order]
    for action, action_id in zip(in_menu, in_order, strict=True):
        assert action is window.keys[action_id]
        assert action.shortcut().toString() == spec_of(action_id).keys[0]
    go_to(qtbot, window, 1)
    image_id = current_id(window)
    by_id = dict(zip(in_order, in_menu, strict=True))
    by_id[ActionId.PICK].trigger()
    assert review(app, image_id).flag is Flag.PICK
    by_id[ActionId.RATE_4].trigger()
    by_id[ActionId.LABEL_GREEN].trigger()
    assert review(app, image_id) == Review(Flag.PICK, 4, Label.GREEN)
    by_id[ActionId.REJECT].trigger()
    by_id[ActionId.REASON_5].trigger()
    assert review(app, image_id).reasons == (RejectReason.LIGHTING,)
    by_id[ActionId.CLEAR_FLAG].trigger()
    assert review(app, image_id) == Review(Flag.NONE, 4, Label.GREEN)
    by_id[ActionId.UNDO].trigger()
    assert review(app, image_id).flag is Flag.REJECT
    by_id[ActionId.REDO].trigger()
    assert review(app, image_id).flag is Flag.NONE
    # the View menu holds auto-advance, the Help menu the cheat sheet
    assert window.auto_advance_action in window.view_menu.actions()
    assert window.keys[ActionId.SHORTCUTS] in window.help_menu.actions()


def test_question_mark_opens_the_cheat_sheet_of_every_key(qtbot, make_app):
    window = make_app().window
    key(qtbot, window, Qt.Key.Key_Question)
    dialog = window.shortcuts_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.isModal()
    text = dialog.text.text()
    for needle in ("Ctrl+Z", "Ctrl+Shift+Z", "Alt+1", "Flag the selected images as picks", "F5"):
        assert needle in text
    dialog.reject()
    qtbot.waitUntil(lambda: not dialog.isVisible())


# -- batches, undo, redo -----------------------------------------------------------------------
def test_a_decision_on_a_selection_is_one_step_undone_and_redone_at_once(qtbot, make_app):
    app = make_app()
    window = app.window
    go_to(qtbot, window, 0)
    selection = window.grid.selectionModel()
    for row in (1, 2, 3):
        selection.select(window.model.index(row), Select.Select)
    chosen = [row_id(window, r) for r in range(4)]
    key(qtbot, window, Qt.Key.Key_X)
    assert [review(app, i).flag for i in chosen] == [Flag.REJECT] * 4
    assert current_id(window) == chosen[0]  # no auto-advance after a batch
    key(qtbot, window, Qt.Key.Key_4)
    assert [review(app, i).rating for i in chosen] == [4] * 4
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert [review(app, i) for i in chosen] == [Review(Flag.REJECT)] * 4
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert [review(app, i) for i in chosen] == [BLANK] * 4
    assert [on_disk(app, i) for i in chosen] == [None] * 4
    key(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)
    assert [review(app, i).flag for i in chosen] == [Flag.REJECT] * 4
    key(qtbot, window, Qt.Key.Key_Y, CTRL)
    assert [review(app, i) for i in chosen] == [Review(Flag.REJECT, 4)] * 4
    # the step's images are selected again, the first current
    selected = {i.data(ImageRole.ID) for i in selection.selectedIndexes()}
    assert selected == set(chosen)
    assert current_id(window) == chosen[0]


def test_undo_and_redo_are_greyed_when_there_is_nothing_to_undo_or_redo(qtbot, make_app):
    window = make_app().window
    undo, redo = window.keys[ActionId.UNDO], window.keys[ActionId.REDO]
    assert (undo.isEnabled(), redo.isEnabled()) == (False, False)
    go_to(qtbot, window, 0)
    key(qtbot, window, Qt.Key.Key_P)
    assert (undo.isEnabled(), redo.isEnabled()) == (True, False)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert (undo.isEnabled(), redo.isEnabled()) == (False, True)
    key(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)
    assert (undo.isEnabled(), redo.isEnabled()) == (True, False)


def test_undo_brings_the_image_back_into_a_filtered_view_and_makes_it_current(qtbot, make_app):
    app = make_app()
    window = app.window
    set_flag_filter(qtbot, window, "Unflagged")
    go_to(qtbot, window, 5)
    rejected = current_id(window)
    key(qtbot, window, Qt.Key.Key_X)
    assert window.model.row_of(rejected) == -1
    go_to(qtbot, window, 20)  # the designer went on elsewhere
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert window.model.row_of(rejected) == 5
    assert current_id(window) == rejected
    assert window.details.image is not None
    assert window.details.image.id == rejected
    assert review(app, rejected) == BLANK
    key(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)  # redo: it leaves again
    assert window.model.row_of(rejected) == -1


# -- auto-advance ------------------------------------------------------------------------------
def test_auto_advance_goes_to_the_next_image_in_all(qtbot, make_app):
    app = make_app()
    window = app.window
    assert window.auto_advance_action.isChecked()  # on by default
    go_to(qtbot, window, 3)
    key(qtbot, window, Qt.Key.Key_P)
    assert window.grid.currentIndex().row() == 4
    key(qtbot, window, Qt.Key.Key_3)
    assert window.grid.currentIndex().row() == 5
    key(qtbot, window, Qt.Key.Key_8)
    assert window.grid.currentIndex().row() == 6
    assert review(app, row_id(window, 3)).flag is Flag.PICK
    assert review(app, row_id(window, 4)).rating == 3
    assert review(app, row_id(window, 5)).label is Label.GREEN
    # the current image is the only one selected, and shown in the details
    selected = window.grid.selectionModel().selectedIndexes()
    assert [i.row() for i in selected] == [6]
    assert window.details.image is not None
    assert window.details.image.id == row_id(window, 6)


@pytest.mark.parametrize(
    ("filter_text", "setup_key", "leave_key"),
    [
        ("Unflagged", None, Qt.Key.Key_X),
        ("Picks", Qt.Key.Key_P, Qt.Key.Key_U),
        ("Rejects", Qt.Key.Key_X, Qt.Key.Key_P),
    ],
)
def test_auto_advance_inside_a_flag_filter_when_the_image_leaves_it(
    qtbot, make_app, filter_text, setup_key, leave_key
):
    app = make_app()
    window = app.window
    if setup_key is not None:  # ten images in the filter first (a batch, no advance)
        go_to(qtbot, window, 10)
        for row in range(11, 20):
            window.grid.selectionModel().select(window.model.index(row), Select.Select)
        key(qtbot, window, setup_key)
    set_flag_filter(qtbot, window, filter_text)
    count = window.model.rowCount()
    assert count >= 10
    go_to(qtbot, window, 2)
    leaving, taking_its_place = row_id(window, 2), row_id(window, 3)
    key(qtbot, window, leave_key)
    assert window.model.rowCount() == count - 1
    assert window.model.row_of(leaving) == -1
    assert current_id(window) == taking_its_place
    assert window.grid.currentIndex().row() == 2
    # again, at once: the keys keep deciding down the filter
    key(qtbot, window, leave_key)
    assert window.model.rowCount() == count - 2
    assert window.grid.currentIndex().row() == 2
    # the last image: the one before it takes over; the view stays at the bottom
    last = window.model.rowCount() - 1
    go_to(qtbot, window, last)
    before_last = row_id(window, last - 1)
    bar = window.grid.verticalScrollBar()
    scrolled = bar.value()
    key(qtbot, window, leave_key)
    assert current_id(window) == before_last
    # the view did not jump: the new current image is on screen, and not scrolled to the top
    viewport = window.grid.viewport().rect()
    qtbot.waitUntil(lambda: viewport.intersects(window.grid.visualRect(window.grid.currentIndex())))
    assert bar.value() >= min(scrolled, bar.maximum()) - window.grid.gridSize().height()
    assert window.grid.message_text() is None


def test_a_decision_that_keeps_the_image_in_the_filter_advances_past_it(qtbot, make_app):
    app = make_app()
    window = app.window
    go_to(qtbot, window, 0)
    for row in range(1, 6):
        window.grid.selectionModel().select(window.model.index(row), Select.Select)
    key(qtbot, window, Qt.Key.Key_P)
    set_flag_filter(qtbot, window, "Picks")
    go_to(qtbot, window, 1)
    key(qtbot, window, Qt.Key.Key_4)  # stars: still a pick, stays
    assert window.model.rowCount() == 6
    assert window.grid.currentIndex().row() == 2


def test_auto_advance_off_is_remembered(qtbot, make_app, tmp_path):
    settings = tmp_path / "shared-settings.json"
    app = make_app(settings_path=settings)
    window = app.window
    window.auto_advance_action.trigger()  # as from the View menu
    assert not window.auto_advance_action.isChecked()
    assert app.settings_json()["auto_advance"] is False
    go_to(qtbot, window, 3)
    key(qtbot, window, Qt.Key.Key_P)
    assert window.grid.currentIndex().row() == 3
    second = make_app(settings_path=settings)
    assert not second.window.auto_advance_action.isChecked()


# -- reject reasons ----------------------------------------------------------------------------
def test_reasons_after_a_reject_apply_to_the_image_just_rejected(qtbot, make_app):
    app = make_app()
    window = app.window
    bar = window.reason_bar
    go_to(qtbot, window, 4)
    rejected = current_id(window)
    size = window.size()
    key(qtbot, window, Qt.Key.Key_X)
    qtbot.waitUntil(bar.isVisible)
    assert window.size() == size  # the chips wrap rather than widen the window
    assert window.grid.currentIndex().row() == 5  # auto-advanced
    key(qtbot, window, Qt.Key.Key_2, ALT)
    assert review(app, rejected).reasons == (RejectReason.GARBLED_TEXT,)
    assert review(app, row_id(window, 5)) == BLANK  # not the image now current
    click(qtbot, bar.chips[RejectReason.WRONG_VIEW])
    assert review(app, rejected).reasons == (RejectReason.GARBLED_TEXT, RejectReason.WRONG_VIEW)
    assert bar.chips[RejectReason.WRONG_VIEW].isChecked()
    assert window.grid.hasFocus()  # the chips never take the keys
    assert on_disk(app, rejected) == ("reject", 0, "none", "garbled_text,wrong_view")
    key(qtbot, window, Qt.Key.Key_2, ALT)  # again: not that reason
    assert review(app, rejected).reasons == (RejectReason.WRONG_VIEW,)
    # going on skips them; plain digits stay ratings
    key(qtbot, window, Qt.Key.Key_2)
    assert not bar.isVisible()
    assert review(app, row_id(window, 5)).rating == 2
    # the details of the rejected image name the reasons
    go_to(qtbot, window, 4)
    assert window.details.decision.text() == "Your reject (wrong side or view)"
    # moving on by hand skips them too
    key(qtbot, window, Qt.Key.Key_X)
    assert bar.isVisible()
    key(qtbot, window, Qt.Key.Key_Right)
    assert not bar.isVisible()


# -- failures ----------------------------------------------------------------------------------
def test_a_failed_write_changes_nothing_and_says_so(qtbot, make_app, monkeypatch):
    app = make_app()
    window = app.window
    store = app.services.reviews
    assert store is not None

    def disk_full(_reviews):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store, "_write", disk_full)
    go_to(qtbot, window, 2)
    image_id = current_id(window)
    key(qtbot, window, Qt.Key.Key_P)
    assert review(app, image_id) == BLANK
    assert window.model.index(2).data(ImageRole.REVIEW) == BLANK
    assert current_id(window) == image_id  # nothing happened, not even the advance
    assert "database or disk is full" in window.statusBar().currentMessage()
    assert not store.can_undo


# -- the grid ----------------------------------------------------------------------------------
def test_the_grid_draws_the_flag_stars_and_label_as_sprites(qtbot, make_app):
    app = make_app()
    window = app.window
    window.auto_advance_action.setChecked(False)
    delegate = window.grid.itemDelegate()
    go_to(qtbot, window, 0)
    key(qtbot, window, Qt.Key.Key_P)
    key(qtbot, window, Qt.Key.Key_4)
    key(qtbot, window, Qt.Key.Key_6)
    go_to(qtbot, window, 1)
    key(qtbot, window, Qt.Key.Key_X)
    font = badge_font(window.grid.font())
    area = thumb_rect(window.grid.visualRect(window.model.index(0)), delegate.thumb_size)
    picked = delegate.review_badges(area, review(app, row_id(window, 0)), font, 1.0)
    assert [b.kind for b in picked] == ["pick", "label", "stars"]
    assert [b.tip for b in picked] == ["Your pick", "Red label", "4 of 5 stars"]
    rejected = delegate.review_badges(area, review(app, row_id(window, 1)), font, 1.0)
    assert [b.kind for b in rejected] == ["reject"]
    # the same sprite object each time: cached, not drawn again
    again = delegate.review_badges(area, review(app, row_id(window, 0)), font, 1.0)
    assert [b.pixmap.cacheKey() for b in again] == [b.pixmap.cacheKey() for b in picked]
    # on the smallest thumbnails the badges still fit side by side (the stars as "★ 5")
    for side in (96, 192, 384):
        small = QRect(0, 0, side, side)
        rects = [
            b.rect for b in delegate.review_badges(small, Review(Flag.PICK, 5, Label.RED), font, 1)
        ]
        assert len(rects) == 3
        assert all(small.contains(r) for r in rects)
        assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1 :])
    # and on screen: the pick's green in cell 0's flag badge, the reject's red in cell 1's
    go_to(qtbot, window, 2)  # nothing decided is highlighted (and rows 0 and 1 stay in view)
    shot = window.grid.viewport().grab().toImage()
    ratio = shot.devicePixelRatio()

    def badge_pixels(row: int, kind: str):
        cell = window.grid.visualRect(window.model.index(row))
        thumb = thumb_rect(cell, delegate.thumb_size)
        badges = delegate.review_badges(thumb, review(app, row_id(window, row)), font, ratio)
        (badge,) = [b for b in badges if b.kind == kind]
        return pixels(shot, scaled(badge.rect, ratio))

    assert count_near(badge_pixels(0, "pick"), PICK_COLOUR.name(), 30) > 20
    assert count_near(badge_pixels(1, "reject"), REJECT_COLOUR.name(), 30) > 20


def test_rejected_images_are_dimmed(qtbot, make_app):
    app = make_app()
    window = app.window
    grid = window.grid
    qtbot.waitUntil(grid.first_screen_ready, timeout=15_000)
    assert grid.currentIndex().row() == 0
    # an image on the first line that is not current (so not highlighted), with its picture
    row = next(r for r in range(1, grid.columns()) if window.model.image_at(r).is_done)
    delegate = grid.itemDelegate()
    image_id = row_id(window, row)
    base = QColor(grid.palette().color(QPalette.ColorRole.Base)).rgb() & 0xFFFFFF

    def contrast() -> float:
        shot = grid.viewport().grab().toImage()
        ratio = shot.devicePixelRatio()
        thumb = thumb_rect(grid.visualRect(window.model.index(row)), delegate.thumb_size)
        middle = thumb.adjusted(thumb.width() // 4, 8, -thumb.width() // 4, -thumb.height() // 3)
        found = pixels(shot, scaled(middle, ratio))
        total = sum(found.values())
        return (
            sum(
                n * sum(abs(((c >> s) & 0xFF) - ((base >> s) & 0xFF)) for s in (0, 8, 16))
                for c, n in found.items()
            )
            / total
        )

    before = contrast()
    assert before > 10
    store = app.services.reviews
    assert store is not None
    step = store.decide([image_id], lambda r: Review(Flag.REJECT))
    assert step is not None
    with qtbot.waitSignal(window.model.dataChanged):
        app.library.update_reviews(step.after)
    qtbot.waitUntil(lambda: contrast() < before * 0.6)


def test_only_the_decided_rows_are_announced(qtbot, make_app):
    app = make_app()
    window = app.window
    go_to(qtbot, window, 7)
    changed: list[tuple[int, int]] = []

    def on_changed(first, last, roles=()) -> None:
        if Qt.ItemDataRole.DecorationRole not in roles:  # not a thumbnail that arrived
            changed.append((first.row(), last.row()))

    window.model.dataChanged.connect(on_changed)
    key(qtbot, window, Qt.Key.Key_P)
    assert changed == [(7, 7)]
    assert window.grid.currentIndex().row() == 8


# -- filters and the count line ----------------------------------------------------------------
def test_review_filters_and_the_count_line(qtbot, make_app):
    app = make_app()
    window = app.window
    line = window.review_line
    assert line.text() == "40 images · 0 picks · 0 rejects · 40 to review"
    window.auto_advance_action.setChecked(False)
    picks = [row_id(window, r) for r in (0, 1)]
    rejects = [row_id(window, r) for r in (2, 3, 4)]
    for image_id in picks:
        go_to(qtbot, window, window.model.row_of(image_id))
        key(qtbot, window, Qt.Key.Key_P)
    go_to(qtbot, window, 0)
    key(qtbot, window, Qt.Key.Key_5)
    key(qtbot, window, Qt.Key.Key_9)
    for image_id in rejects:
        go_to(qtbot, window, window.model.row_of(image_id))
        key(qtbot, window, Qt.Key.Key_X)
    assert line.text() == "40 images · 2 picks · 3 rejects · 35 to review"

    set_flag_filter(qtbot, window, "Picks")
    assert app.model_ids() == picks
    assert line.text() == "2 images · 2 picks · 0 rejects · 0 to review"
    set_flag_filter(qtbot, window, "Rejects")
    assert app.model_ids() == rejects
    assert line.text() == "3 images · 0 picks · 3 rejects · 0 to review"
    set_flag_filter(qtbot, window, "Unflagged")
    assert window.model.rowCount() == 35
    assert line.text() == "35 images · 0 picks · 0 rejects · 35 to review"
    set_flag_filter(qtbot, window, "All")
    window.filters.rating_combo.setCurrentIndex(5)  # ★★★★★
    assert app.model_ids() == [picks[0]]
    assert window.library.review_filter == ReviewFilter(min_rating=5)
    window.filters.rating_combo.setCurrentIndex(0)  # Any stars
    choose(qtbot, window.filters.label_combo, "Blue")
    assert app.model_ids() == [picks[0]]
    assert window.library.review_filter == ReviewFilter(label=Label.BLUE)
    choose(qtbot, window.filters.label_combo, "Any label")
    # with the search: the count line counts what is shown
    window.search.setText(rejects[0])
    qtbot.waitUntil(lambda: app.model_ids() == [rejects[0]])
    assert line.text() == "1 image · 0 picks · 1 reject · 0 to review"
    assert window.count_label.isVisibleTo(window)
    assert window.count_label.text() == "1 of 40 images"
    # with the server's voting filter
    window.search.setText("")
    qtbot.waitUntil(lambda: window.model.rowCount() == 40)
    set_flag_filter(qtbot, window, "Picks")
    choose(qtbot, window.status_combo, "Approved on Qamera")
    qtbot.waitUntil(lambda: window.library.server_filter.status.value == "approved")
    qtbot.waitUntil(lambda: window.library.state.load.value == "ready")
    approved_picks = [i for i in picks if window.library.get(i) is not None]
    assert app.model_ids() == approved_picks
    assert window.library.review_filter.flag is FlagFilter.PICKS


# -- details -----------------------------------------------------------------------------------
def test_the_details_show_the_designers_decision_beside_the_servers_voting(qtbot, make_app):
    app = make_app()
    window = app.window
    details = window.details
    window.auto_advance_action.setChecked(False)
    go_to(qtbot, window, 0)
    assert details.decision.text() == "Not decided yet"
    assert details.voting.text().endswith("on Qamera")
    assert details.voting_note.text() == VOTING_NOTE
    assert "cannot be changed from here" in VOTING_NOTE
    key(qtbot, window, Qt.Key.Key_P)
    assert details.decision.text() == "Your pick"
    key(qtbot, window, Qt.Key.Key_3)
    key(qtbot, window, Qt.Key.Key_7)
    assert details.decision.text() == "Your pick · ★★★☆☆ · Yellow label"
    key(qtbot, window, Qt.Key.Key_X)
    key(qtbot, window, Qt.Key.Key_4, ALT)
    assert details.decision.text() == "Your reject (anatomy) · ★★★☆☆ · Yellow label"


# -- a restart ---------------------------------------------------------------------------------
def test_decisions_survive_a_restart(qtbot, make_app, tmp_path):
    database = tmp_path / "shared.sqlite3"
    first = make_app(database_path=database)
    window = first.window
    go_to(qtbot, window, 0)
    key(qtbot, window, Qt.Key.Key_P)  # row 0 picked, row 1 current
    key(qtbot, window, Qt.Key.Key_X)  # row 1 rejected
    key(qtbot, window, Qt.Key.Key_4, ALT)
    key(qtbot, window, Qt.Key.Key_3)  # row 2: 3 stars
    decided = {row_id(window, r): review(first, row_id(window, r)) for r in range(3)}
    assert [r.flag for r in decided.values()] == [Flag.PICK, Flag.REJECT, Flag.NONE]

    second = make_app(database_path=database)
    assert second.window is not window
    for image_id, expected in decided.items():
        row = second.window.model.row_of(image_id)
        assert second.window.model.index(row).data(ImageRole.REVIEW) == expected
    assert second.window.review_line.text() == "40 images · 1 pick · 1 reject · 38 to review"
    assert active_window() is not None
