"""A refresh while a shoot adds images keeps the designer's place: selection, current, scroll.

New images arrive at the top (newest first); the grid keeps the image at the top of the screen
where it was (it anchors the scroll position on it), so the check is on that image's position.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.ui.image_grid_model import ImageRole
from tests.ui.helpers import click, settled, statuses_in_grid, wait_finished


def test_selection_current_and_scroll_survive_refreshes_while_a_shoot_adds_images(
    qtbot, make_app, arun, qtmodeltester
):
    app = make_app()
    window, grid, model = app.window, app.window.grid, app.window.model
    scroll = grid.verticalScrollBar()
    qtbot.waitUntil(lambda: scroll.maximum() > 0)

    # a person pages down, clicks one image and Ctrl+clicks another
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_PageDown)
    qtbot.keyClick(grid, Qt.Key.Key_PageDown)
    assert scroll.value() > 0
    # two images of the first whole line on screen, so that they stay in view when images
    # are added above (Qt would otherwise scroll to the current image by itself)
    rows = grid.visible_rows()
    first = next(r for r in rows if grid.visualRect(model.index(r)).top() >= 0)
    second = first + 1
    click(qtbot, grid.viewport(), grid.visualRect(model.index(first)).center())
    click(
        qtbot,
        grid.viewport(),
        grid.visualRect(model.index(second)).center(),
        modifier=Qt.KeyboardModifier.ControlModifier,
    )
    current_id = model.image_at(second).id
    selected = {model.image_at(first).id, current_id}
    assert grid.currentIndex().data(ImageRole.ID) == current_id
    assert {i.data(ImageRole.ID) for i in grid.selectionModel().selectedIndexes()} == selected
    assert window.details.image is not None
    assert window.details.image.id == current_id
    assert scroll.value() > 0
    # the first image on screen, and where it is: what must not move under the designer's eyes
    top_id = model.image_at(grid.visible_rows().start).id
    top_y = grid.visualRect(model.index(model.row_of(top_id))).top()

    def top_image_y() -> int:
        return grid.visualRect(model.index(model.row_of(top_id))).top()

    def place_kept() -> None:
        assert grid.currentIndex().data(ImageRole.ID) == current_id
        assert {i.data(ImageRole.ID) for i in grid.selectionModel().selectedIndexes()} == selected
        assert window.details.image is not None
        assert window.details.image.id == current_id
        # the scroll position follows the content: the top image stays where it was on screen
        qtbot.waitUntil(lambda: top_image_y() == top_y)
        assert scroll.value() > 0

    with qtbot.assertNotEmitted(model.modelReset):
        shoot = arun(app.service.submit(ShootRequest("prod_vase04", count=5), "Ceramic Vase"))
        new_ids = shoot.record_ids
        assert len(new_ids) == 5  # more than a line of the grid: the rows below move down
        # the queued images of the receipt are in the grid at once
        assert set(new_ids) <= set(app.model_ids())
        assert model.rowCount() == 45
        place_kept()

        qtbot.keyClick(grid, Qt.Key.Key_F5)
        qtbot.waitUntil(lambda: settled(app))
        place_kept()

        wait_finished(qtbot, app, shoot.local_id)
        qtbot.keyClick(grid, Qt.Key.Key_F5)
        qtbot.waitUntil(lambda: settled(app) and statuses_in_grid(app, new_ids) == ["DONE"] * 5)
        place_kept()
    assert model.rowCount() == 45
    assert window.count_label.text() == "45 images"
    qtmodeltester.check(model)
