"""Deciding inside a filtered view deep in a large grid never moves the view (issue 12).

In "Unflagged" each reject takes the image out of the view: the image after it takes its place
on screen and becomes current, and the scroll position stays where it was. The grid once laid
every image out again after each removal, in batches from the first one, and until the batches
reached the rows on screen the scroll bar was clamped to what was laid out: the top of the grid
was painted for up to a few hundred milliseconds after every decision.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QAbstractItemView

from qamera_desktop.core.review import Flag
from tests.ui.helpers import settled
from tests.ui.test_review import current_id, go_to, key, review, row_id, set_flag_filter

IMAGES = 3000  # more than one batch of the old layout (200) many times over
REJECTS = 5
CTRL = Qt.KeyboardModifier.ControlModifier


def test_rejects_deep_in_unflagged_keep_the_view_where_it_is(qtbot, make_app, sandbox_factory):
    app = make_app(handle=sandbox_factory(seed_images=IMAGES))
    window, grid, model = app.window, app.window.grid, app.window.model
    set_flag_filter(qtbot, window, "Unflagged")
    qtbot.waitUntil(lambda: settled(app) and not app.library.arranging)
    assert model.rowCount() > IMAGES
    bar = grid.verticalScrollBar()
    viewport = grid.viewport().rect()
    lines = -(-model.rowCount() // grid.columns())
    # the whole grid laid out: it scrolls as far as its last line
    qtbot.waitUntil(lambda: bar.maximum() == lines * grid.gridSize().height() - viewport.height())

    deep = model.rowCount() // 2
    go_to(qtbot, window, deep)
    grid.scrollTo(model.index(deep), QAbstractItemView.ScrollHint.PositionAtCenter)
    qtbot.waitUntil(lambda: viewport.contains(grid.visualRect(grid.currentIndex())))
    start = bar.value()
    assert start > 10 * viewport.height()  # far from the top

    values: list[int] = []  # every scroll position the grid took, painted or not
    bar.valueChanged.connect(values.append)

    def stayed(place: QRect) -> None:
        """The current image is on screen at `place`, and the view never scrolled away."""
        qtbot.waitUntil(lambda: on_screen(grid.visualRect(grid.currentIndex())))
        away = [v for v in values if abs(v - start) > viewport.height()]
        assert not away, f"the view left its place at {start}: scroll values {values}"
        assert grid.visualRect(grid.currentIndex()) == place

    def on_screen(rect: QRect) -> bool:
        return grid.viewport().rect().contains(rect)  # (the reason chips take some height)

    rejected: list[str] = []
    for _ in range(REJECTS):
        row = grid.currentIndex().row()
        place = grid.visualRect(grid.currentIndex())
        leaving, taking_its_place = row_id(window, row), row_id(window, row + 1)
        key(qtbot, window, Qt.Key.Key_X)
        rejected.append(leaving)
        assert review(app, leaving).flag is Flag.REJECT
        assert model.row_of(leaving) == -1  # it left the filter
        # the image after it is current, where the rejected one was on screen
        assert current_id(window) == taking_its_place
        stayed(place)
        assert grid.message_text() is None

    # undo brings the last rejected image back, current, in its old place
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert model.row_of(rejected[-1]) >= 0
    assert current_id(window) == rejected[-1]
    stayed(place)
    assert bar.value() == start
