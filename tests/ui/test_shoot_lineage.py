"""Made for AI shoots, in a real window against the sandbox with a real SQLite file: the details
show the configuration of an image's shoot (with the names of its model, scenery and preset, the
catalogue loaded once per account), a click (or Enter) on a shoot in the Shoots panel
filters the grid to its images (the chip or Esc clears it), More like this opens New shoot with
the request that made the image, and Regenerate rejects asks for as many images as were rejected,
told to avoid their reasons."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Qt

from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.review import Flag
from qamera_desktop.core.shoots import Shoot
from qamera_desktop.ui import shoots_controller
from qamera_desktop.ui.actions import ActionId
from tests.ui.helpers import active_window, click, wait_finished

ALT = Qt.KeyboardModifier.AltModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def run_shoot(qtbot, app, arun, count: int = 3, preset_id: str | None = None) -> Shoot:
    """A finished shoot of the Stoneware Mug with a model, a scenery, an industry and a
    direction (and the preset given), its images in the grid."""
    model = arun(app.client.list_models())[0]
    scenery = arun(app.client.list_sceneries())[0]
    request = ShootRequest(
        "prod_mug06",
        model_id=model.id,
        scenery_id=scenery.id,
        preset_id=preset_id,
        industry="Homeware",
        suggestions="on a wooden table",
        count=count,
    )
    arun(app.window.submit_shoot(request, "Stoneware Mug"))
    local_id = app.service.shoots()[0].local_id
    wait_finished(qtbot, app, local_id)
    shoot = app.service.get(local_id)
    assert shoot is not None
    assert len(shoot.record_ids) == count
    qtbot.waitUntil(lambda: all(app.window.model.row_of(i) >= 0 for i in shoot.record_ids))
    return shoot


def make_current(qtbot, window, image_id: str) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: active_window() is window)
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus)
    window.grid.setCurrentIndex(window.model.index(window.model.row_of(image_id)))
    qtbot.waitUntil(
        lambda: window.details.image is not None and window.details.image.id == image_id
    )


def close_dialog(qtbot, window) -> None:
    dialog = window.new_shoot_dialog
    assert dialog is not None
    with qtbot.waitSignal(dialog.finished):
        dialog.reject()
    qtbot.waitUntil(lambda: window.new_shoot_dialog is None)


def opened_request(qtbot, window) -> ShootRequest:
    dialog = window.new_shoot_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    qtbot.waitUntil(lambda: dialog.tasks.running == 0, timeout=10_000)
    return dialog.request().validate()


def test_the_details_show_the_configuration_of_an_image_of_a_shoot(qtbot, make_app, arun, sandbox):
    app = make_app()
    window, details = app.window, app.window.details
    preset = arun(app.client.list_presets())[0]
    shoot = run_shoot(qtbot, app, arun, preset_id=preset.id)
    model = next(m for m in arun(app.client.list_models()) if m.id == shoot.request.model_id)
    scenery = next(s for s in arun(app.client.list_sceneries()) if s.id == shoot.request.scenery_id)
    sandbox.reset_stats()
    sandbox.reconfigure(latency_ms=500)  # the catalogue's answer comes after the first showing
    make_current(qtbot, window, shoot.record_ids[1])
    date = shoot.created_at.astimezone().strftime("%Y-%m-%d")
    assert details.shoot.text() == (
        f"Shoot: Stoneware Mug, 3 images, {date}; model {model.id}; scenery {scenery.id}; "
        f"preset {preset.id}; industry Homeware; direction: on a wooden table"
    )
    # the names, as soon as the catalogue has arrived
    named = (
        f"Shoot: Stoneware Mug, 3 images, {date}; model {model.name}; scenery {scenery.name}; "
        f"preset {preset.name}; industry Homeware; direction: on a wooden table"
    )
    qtbot.waitUntil(lambda: details.shoot.text() == named)
    sandbox.reconfigure(latency_ms=0)
    assert all(record.name != record.id for record in (model, scenery, preset))
    assert details.shoot.isVisibleTo(details)
    assert details.more_like_this_button.isVisibleTo(details)
    # loaded once for the account: the shoot's other images are named without asking again
    make_current(qtbot, window, shoot.record_ids[2])
    assert details.shoot.text() == named
    stats = sandbox.stats()
    catalogue = ("models", "sceneries", "presets")
    assert [stats.count("GET", f"/api/external/{kind}") for kind in catalogue] == [1, 1, 1]

    # an image this app did not make has no shoot to show
    other = next(i for i in window.model.images() if i.id not in shoot.record_ids)
    make_current(qtbot, window, other.id)
    assert not details.shoot.isVisibleTo(details)
    assert not details.more_like_this_button.isVisibleTo(details)


def test_without_the_catalogue_the_details_show_ids_and_try_again_later(
    qtbot, make_app, arun, sandbox, monkeypatch, caplog
):
    monkeypatch.setattr(shoots_controller, "NAMES_RETRY_AFTER_S", 3.0)  # a minute in the app
    app = make_app()
    window, details = app.window, app.window.details
    shoot = run_shoot(qtbot, app, arun)
    model_id = shoot.request.model_id
    model = next(m for m in arun(app.client.list_models()) if m.id == model_id)
    catalogue = [f"/api/external/{kind}" for kind in ("models", "sceneries", "presets")]

    def asked() -> list[int]:
        stats = sandbox.stats()
        return [stats.count("GET", path) for path in catalogue]

    sandbox.reconfigure(error_rate=1.0)  # every request fails: retried 4 times, then given up
    sandbox.reset_stats()
    make_current(qtbot, window, shoot.record_ids[0])
    qtbot.waitUntil(lambda: asked() == [5, 5, 5])
    # given up (the wait before asking again runs from here, not from the server's last answer)
    qtbot.waitUntil(lambda: "Could not load the catalogue's names" in caplog.text)
    assert f"model {model_id};" in details.shoot.text()
    assert "names" not in window.statusBar().currentMessage()  # no alarm: ids are enough
    # not asked again at once (the rate budget is shared with the listing)
    make_current(qtbot, window, shoot.record_ids[1])
    assert asked() == [5, 5, 5]
    assert f"model {model_id};" in details.shoot.text()

    # a while later, it is asked again and the details are named
    sandbox.reconfigure(error_rate=0.0)
    qtbot.wait(3_100)

    def named() -> bool:
        return f"model {model.name};" in details.shoot.text()

    # the next image looked at asks again; under a loaded machine the listing's own recovery
    # (a refresh after the failures) can redraw the details meanwhile, so look at one more
    for record in (shoot.record_ids[2], shoot.record_ids[0]):
        make_current(qtbot, window, record)
        with contextlib.suppress(qtbot.TimeoutError):
            qtbot.waitUntil(named, timeout=5_000)
        if named():
            break
    assert named()
    assert asked() == [6, 6, 6]  # once more, not once per image


def test_a_click_or_enter_on_a_shoot_filters_the_grid_to_its_images(qtbot, make_app, arun):
    app = make_app()
    window, panel = app.window, app.window.shoots_panel
    shoot = run_shoot(qtbot, app, arun)
    everything = app.model_ids()
    assert len(everything) > len(shoot.record_ids)
    chip = window.shoots.shoot_chip
    assert not chip.isVisible()

    item = panel.item_of(shoot.local_id)
    assert item is not None
    rect = panel.tree.visualItemRect(item)
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: sorted(app.model_ids()) == sorted(shoot.record_ids))
    assert chip.isVisible()
    assert chip.text().startswith("Shoot: Stoneware Mug, 3 images")
    assert window.review_line.text().startswith("3 images")

    # Esc in the grid clears it
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: app.model_ids() == everything)
    assert not chip.isVisible()

    # Enter on the shoot, then the chip clears it
    panel.tree.setFocus()
    panel.tree.setCurrentItem(item)
    qtbot.keyClick(panel.tree, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: sorted(app.model_ids()) == sorted(shoot.record_ids))
    click(qtbot, chip)
    qtbot.waitUntil(lambda: app.model_ids() == everything)
    assert not chip.isVisible()


def test_more_like_this_opens_new_shoot_with_the_request_that_made_the_image(qtbot, make_app, arun):
    app = make_app()
    window = app.window
    shoot = run_shoot(qtbot, app, arun, count=2)
    make_current(qtbot, window, shoot.record_ids[0])
    assert window.keys[ActionId.MORE_LIKE_THIS] in window.shoot_menu.actions()
    qtbot.keyClick(window.grid, Qt.Key.Key_M)
    assert opened_request(qtbot, window) == shoot.request
    close_dialog(qtbot, window)

    # the details' button does the same
    click(qtbot, window.details.more_like_this_button)
    assert opened_request(qtbot, window) == shoot.request
    close_dialog(qtbot, window)

    # an image of no shoot of this app: nothing opens, the window says why
    other = next(i for i in window.model.images() if i.id not in shoot.record_ids)
    make_current(qtbot, window, other.id)
    qtbot.keyClick(window.grid, Qt.Key.Key_M)
    assert window.new_shoot_dialog is None
    assert "not made by a shoot of this app" in window.statusBar().currentMessage()


def test_regenerate_rejects_asks_for_the_rejects_and_to_avoid_their_reasons(qtbot, make_app, arun):
    app = make_app()
    window, panel = app.window, app.window.shoots_panel
    window.auto_advance_action.setChecked(False)
    shoot = run_shoot(qtbot, app, arun, count=4)
    a, b, c, d = shoot.record_ids
    # rejected with reasons by the keys: X, then Alt+1 (wrong view) / Alt+2 (garbled text)
    for image_id, reasons in ((a, (Qt.Key.Key_2,)), (b, (Qt.Key.Key_1, Qt.Key.Key_2)), (c, ())):
        make_current(qtbot, window, image_id)
        qtbot.keyClick(window.grid, Qt.Key.Key_X)
        for reason in reasons:
            qtbot.keyClick(window.grid, reason, ALT)
    make_current(qtbot, window, d)
    qtbot.keyClick(window.grid, Qt.Key.Key_P)
    assert [app.library.review(i).flag for i in shoot.record_ids] == [
        Flag.REJECT,
        Flag.REJECT,
        Flag.REJECT,
        Flag.PICK,
    ]
    expected = ShootRequest(
        "prod_mug06",
        model_id=shoot.request.model_id,
        scenery_id=shoot.request.scenery_id,
        industry="Homeware",
        suggestions=(
            "on a wooden table\nAvoid: garbled text or logo on the product; wrong side or view."
        ),
        count=3,
    )

    # from the Shoots panel
    panel.tree.setCurrentItem(panel.item_of(shoot.local_id))
    assert panel.regenerate.isEnabled()
    click(qtbot, panel.regenerate)
    assert opened_request(qtbot, window) == expected
    close_dialog(qtbot, window)

    # from an image of the shoot: Shift+M
    make_current(qtbot, window, d)
    qtbot.keyClick(window.grid, Qt.Key.Key_M, SHIFT)
    assert opened_request(qtbot, window) == expected
    close_dialog(qtbot, window)
