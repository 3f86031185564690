"""The New shoot dialog against the sandbox: pickers, validation as you type, the exact JSON body,
the cost estimate, submitting, the designer-language errors, and "Run again"."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox

from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.shoots import ShootState
from qamera_desktop.sandbox import READONLY_API_KEY
from qamera_desktop.ui.catalogue_picker import NONE_LABEL, CataloguePicker
from qamera_desktop.ui.new_shoot_dialog import NewShootDialog
from qamera_desktop.ui.shoots_panel import STATE_TEXT
from tests.sandbox_fixtures import api_client
from tests.ui.helpers import (
    App,
    active_window,
    click,
    focus_widget,
    make_client,
    press,
    statuses_in_grid,
    wait_finished,
)

CTRL = Qt.KeyboardModifier.ControlModifier


# -- helpers ---------------------------------------------------------------------------------
def pickers(dialog: NewShootDialog) -> list[CataloguePicker]:
    return [dialog.product, dialog.model, dialog.scenery, dialog.preset]


def loaded(dialog: NewShootDialog) -> bool:
    return dialog.tasks.running == 0 and all(p.state.text() != "Loading…" for p in pickers(dialog))


def labels(picker: CataloguePicker) -> list[str]:
    return [picker.combo.itemText(i) for i in range(picker.combo.count())]


def sandbox_names(handle, kind: str, key: str | None = None, **params: str) -> list[str]:
    with api_client(handle.base_url, key or handle.demo_key) as http:
        response = http.get(f"/api/external/{kind}", params=params)
        response.raise_for_status()
        return [item["name"] for item in response.json()[kind]]


def type_text(qtbot, combo: QComboBox, text: str) -> None:
    """Replace the text of an editable combo box by typing, as a person does."""
    edit = combo.lineEdit()
    assert edit is not None
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, CTRL)
    if text:
        qtbot.keyClicks(edit, text)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Backspace)


def type_count(qtbot, dialog: NewShootDialog, digits: str) -> None:
    dialog.count.setFocus()
    qtbot.keyClick(dialog.count, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(dialog.count, digits)


def type_suggestions(qtbot, dialog: NewShootDialog, text: str) -> None:
    dialog.suggestions.setFocus()
    qtbot.keyClick(dialog.suggestions, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(dialog.suggestions, Qt.Key.Key_Backspace)
    qtbot.keyClicks(dialog.suggestions, text)


def shown_body(dialog: NewShootDialog) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(dialog.body.toPlainText())
    return body


@pytest.fixture
def new_dialog(qtbot, arun, client) -> Iterator[Callable[..., NewShootDialog]]:
    """NewShootDialog on a real client; `submitted` collects what its submit callback got."""
    made: list[NewShootDialog] = []

    def make(catalogue: Any = None, **kwargs: Any) -> NewShootDialog:
        submitted: list[tuple[ShootRequest, str | None]] = []

        async def submit(request: ShootRequest, product_name: str | None) -> None:
            submitted.append((request, product_name))

        dialog = NewShootDialog(catalogue or client, submit, **kwargs)
        dialog.submitted = submitted  # type: ignore[attr-defined]
        qtbot.addWidget(dialog)
        dialog.open()
        made.append(dialog)
        return dialog

    yield make
    for dialog in made:
        arun(dialog.aclose())


def open_from_window(qtbot, app: App) -> NewShootDialog:
    """Ctrl+N in the main window; wait until the dialog's pickers are filled."""
    app.window.activateWindow()
    qtbot.waitUntil(lambda: active_window() is app.window)
    app.window.grid.setFocus()
    press(qtbot, Qt.Key.Key_N, CTRL)
    dialog = app.window.new_shoot_dialog
    assert dialog is not None
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: loaded(dialog), timeout=10_000)
    return dialog


# -- pickers ---------------------------------------------------------------------------------
def test_pickers_load_from_the_sandbox_approved_first_then_all(qtbot, new_dialog, sandbox):
    sandbox.reconfigure(latency_ms=300)
    dialog = new_dialog()
    assert [p.state.text() for p in pickers(dialog)] == ["Loading…"] * 4
    qtbot.waitUntil(lambda: loaded(dialog), timeout=10_000)
    sandbox.reconfigure(latency_ms=0)
    assert [p.state.text() for p in pickers(dialog)] == [""] * 4
    assert not any(p.retry.isVisible() for p in pickers(dialog))

    assert sorted(labels(dialog.product)) == sorted(sandbox_names(sandbox, "products"))
    approved_models = sandbox_names(sandbox, "models", statusFilter="approved")
    assert labels(dialog.model) == [NONE_LABEL, *sorted(f"{n}  ★" for n in approved_models)]
    approved_sceneries = sandbox_names(sandbox, "sceneries", statusFilter="approved")
    assert labels(dialog.scenery) == [
        NONE_LABEL,
        *sorted((f"{n}  ★" for n in approved_sceneries), key=str.casefold),
    ]
    assert labels(dialog.preset)[0] == NONE_LABEL
    assert sorted(labels(dialog.preset)[1:]) == sorted(sandbox_names(sandbox, "presets"))
    # nothing chosen yet: no product, "(none)" for the rest
    assert dialog.product.current_id() is None
    assert [p.current_id() for p in pickers(dialog)[1:]] == [None, None, None]

    all_models = sandbox_names(sandbox, "models")
    assert len(all_models) > len(approved_models)
    click(qtbot, dialog.model.show_all)
    assert dialog.model.show_all.isChecked()
    qtbot.waitUntil(lambda: loaded(dialog))
    shown = labels(dialog.model)
    assert len(shown) == len(all_models) + 1
    assert shown[1 : 1 + len(approved_models)] == sorted(f"{n}  ★" for n in approved_models)
    assert {s.removesuffix("  ★") for s in shown[1:]} == set(all_models)

    click(qtbot, dialog.scenery.show_all)
    qtbot.waitUntil(lambda: loaded(dialog) and len(labels(dialog.scenery)) > 4)
    assert len(labels(dialog.scenery)) == len(sandbox_names(sandbox, "sceneries")) + 1
    assert not dialog.product.show_all.isVisibleTo(dialog)
    assert not dialog.preset.show_all.isVisibleTo(dialog)


def test_a_key_that_is_refused_shows_401_in_every_picker_with_retry(
    qtbot, new_dialog, sandbox, arun
):
    bad = make_client(sandbox.base_url, "mk_live_fake.notakey")
    try:
        dialog = new_dialog(bad)
        qtbot.waitUntil(lambda: loaded(dialog))
        for picker in pickers(dialog):
            assert picker.state.text().startswith("Could not load:")
            assert "Invalid API key." in picker.state.text()
            assert picker.retry.isVisible()
        assert not dialog.submit_button.isEnabled()
        assert sandbox.stats().by_status.get(401, 0) >= 4
    finally:
        arun(bad.aclose())


def test_retry_loads_the_list_once_the_server_works_again(qtbot, new_dialog, sandbox):
    sandbox.reconfigure(error_rate=1.0)
    dialog = new_dialog()
    qtbot.waitUntil(lambda: loaded(dialog), timeout=10_000)
    assert "Internal server error" in dialog.model.state.text()
    assert dialog.model.retry.isVisible()
    assert labels(dialog.model) == []

    sandbox.reconfigure(error_rate=0.0)
    click(qtbot, dialog.model.retry)
    qtbot.waitUntil(lambda: loaded(dialog))
    assert dialog.model.state.text() == ""
    assert not dialog.model.retry.isVisible()
    assert labels(dialog.model)[0] == NONE_LABEL
    assert len(labels(dialog.model)) == 3
    assert dialog.scenery.retry.isVisible()  # the others still offer theirs


# -- validation as you type --------------------------------------------------------------------
def test_without_a_product_submit_is_disabled_and_says_why(qtbot, new_dialog):
    dialog = new_dialog()
    qtbot.waitUntil(lambda: loaded(dialog))
    assert not dialog.submit_button.isEnabled()
    assert dialog.problems.isVisible()
    assert dialog.problems.text() == (
        "The shoot cannot be started: choose a product (its id is required)."
    )
    assert dialog.body.toPlainText() == "(not valid yet)"

    type_text(qtbot, dialog.product.combo, "Running")  # completes to the product's name
    assert dialog.product.combo.currentText() == "Running Shoes"
    assert dialog.product.current_id() == "prod_run03"
    assert dialog.submit_button.isEnabled()
    assert not dialog.problems.isVisible()
    assert shown_body(dialog)["config"]["product"] == {"id": "prod_run03"}

    type_text(qtbot, dialog.product.combo, "   ")
    assert not dialog.submit_button.isEnabled()
    assert "choose a product" in dialog.problems.text()

    # Ctrl+Return does nothing while the request is not valid
    press(qtbot, Qt.Key.Key_Return, CTRL)
    assert dialog.isVisible()
    assert dialog.submitted == []


def test_count_stays_within_1_to_20_as_you_type(qtbot, new_dialog):
    dialog = new_dialog()
    qtbot.waitUntil(lambda: loaded(dialog))
    type_text(qtbot, dialog.product.combo, "prod_run03")
    assert dialog.count.value() == 10
    assert shown_body(dialog)["count"] == 10

    type_count(qtbot, dialog, "7")
    assert dialog.count.value() == 7
    assert shown_body(dialog)["count"] == 7
    type_count(qtbot, dialog, "25")  # the 5 is refused: 25 is out of range
    assert dialog.count.value() == 2
    assert shown_body(dialog)["count"] == 2
    type_count(qtbot, dialog, "20")
    qtbot.keyClick(dialog.count, Qt.Key.Key_Up)
    assert dialog.count.value() == 20
    type_count(qtbot, dialog, "1")
    qtbot.keyClick(dialog.count, Qt.Key.Key_Down)
    assert dialog.count.value() == 1
    type_count(qtbot, dialog, "0")
    assert 1 <= dialog.count.value() <= 20
    assert shown_body(dialog)["count"] == dialog.count.value()
    assert dialog.submit_button.isEnabled()


def test_an_id_the_lists_do_not_hold_is_used_as_the_id(qtbot, new_dialog):
    dialog = new_dialog()
    qtbot.waitUntil(lambda: loaded(dialog))
    type_text(qtbot, dialog.product.combo, "prod_from_elsewhere")
    type_text(qtbot, dialog.model.combo, "model_custom")
    type_text(qtbot, dialog.scenery.combo, "scenery_custom")
    type_text(qtbot, dialog.preset.combo, "preset_custom")
    config = shown_body(dialog)["config"]
    assert config["product"] == {"id": "prod_from_elsewhere"}
    assert config["model"] == {"id": "model_custom"}
    assert config["scenery"] == {"id": "scenery_custom"}
    assert config["preset"] == {"id": "preset_custom"}
    assert dialog.product_name() is None  # no name known for a typed id
    assert dialog.submit_button.isEnabled()


CASES = {
    "product only, optional fields blank": (
        {"product": "Leather", "industry": "", "suggestions": "", "count": "10"},
        ShootRequest("prod_tote02", count=10),
    ),
    "everything chosen by name": (
        {
            "product": "Running",
            "model": "Ava",
            "scenery": "Studio",
            "preset": "Editorial",
            "industry": "footwear",
            "suggestions": "Outdoor urban setting, natural lighting",
            "count": "3",
        },
        ShootRequest(
            "prod_run03",
            "model_ava",
            "scenery_studio",
            "preset_editorial",
            "footwear",
            "Outdoor urban setting, natural lighting",
            3,
        ),
    ),
    "typed ids, a new industry, blank suggestions": (
        {
            "product": "prod_custom",
            "model": "model_custom",
            "scenery": "scenery_custom",
            "preset": "preset_custom",
            "industry": "eyewear",
            "suggestions": "   ",
            "count": "20",
        },
        ShootRequest(
            "prod_custom", "model_custom", "scenery_custom", "preset_custom", "eyewear", None, 20
        ),
    ),
    "spaces around text are trimmed, blank industry left out": (
        {"product": "White", "scenery": "Marble", "industry": "   ", "suggestions": "  soft  "},
        ShootRequest("prod_wtee01", scenery_id="scenery_loft", suggestions="soft", count=10),
    ),
    "default industry is fashion": (
        {"product": "Denim", "model": "Malik", "count": "1"},
        ShootRequest("prod_denim05", model_id="model_malik", industry="fashion", count=1),
    ),
}


@pytest.mark.parametrize(("typed", "expected"), CASES.values(), ids=CASES.keys())
def test_the_json_preview_is_exactly_the_body_that_will_be_sent(qtbot, new_dialog, typed, expected):
    dialog = new_dialog()
    qtbot.waitUntil(lambda: loaded(dialog))
    click(qtbot, dialog.body_toggle)
    assert dialog.body.isVisible()
    for field in ("product", "model", "scenery", "preset", "industry"):
        if field in typed:
            combo = getattr(dialog, field)
            type_text(qtbot, combo if isinstance(combo, QComboBox) else combo.combo, typed[field])
    if "suggestions" in typed:
        type_suggestions(qtbot, dialog, typed["suggestions"])
    if "count" in typed:
        type_count(qtbot, dialog, typed["count"])

    body = shown_body(dialog)
    assert body == expected.to_body()
    assert body == dialog.request().to_body()
    assert dialog.request().validate() == expected.validate()
    fields = {"model": "model_id", "scenery": "scenery_id", "preset": "preset_id"}
    fields |= {"industry": "industry", "suggestions": "suggestions"}
    for key, attribute in fields.items():  # blank optional fields are absent, never null or ""
        if getattr(expected.validate(), attribute) is None:
            assert key not in body["config"]
        else:
            assert body["config"][key]
    assert dialog.submit_button.isEnabled()

    with qtbot.waitSignal(dialog.submittedOk):
        click(qtbot, dialog.submit_button)
    assert dialog.submitted == [(expected.validate(), dialog.product_name())]
    assert dialog.submitted[0][0].to_body() == body


# -- with the window and the shoot service -----------------------------------------------------
def test_cost_estimate_appears_only_once_the_account_has_receipts(qtbot, make_app):
    app = make_app()
    dialog = open_from_window(qtbot, app)
    assert "Estimated" not in dialog.cost.text()
    assert dialog.cost.text().startswith("Credits are reserved by Qamera when you submit")

    type_text(qtbot, dialog.product.combo, "Stoneware")
    type_count(qtbot, dialog, "2")
    with qtbot.waitSignal(dialog.finished):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    shoot = app.service.shoots()[0]
    assert shoot.receipt is not None
    assert shoot.receipt.credits_reserved == 6

    dialog = open_from_window(qtbot, app)
    assert dialog.count.value() == 10
    assert dialog.cost.text().startswith("Estimated cost: about 30 credits (3 per image")
    assert "refunded" in dialog.cost.text()
    type_count(qtbot, dialog, "4")
    assert dialog.cost.text().startswith("Estimated cost: about 12 credits")


def test_submitting_creates_a_shoot_whose_images_appear_queued_then_done(
    qtbot, make_app, sandbox_factory
):
    slow = sandbox_factory(processing_seconds=0.6)
    app = make_app(handle=slow)
    window = app.window
    dialog = open_from_window(qtbot, app)
    assert dialog.product.current_id() is None  # "All products" in the window: none preset
    type_text(qtbot, dialog.product.combo, "Ceramic")
    type_text(qtbot, dialog.scenery.combo, "Marble")
    type_count(qtbot, dialog, "2")

    at_close: dict[str, str] = {}

    def note_statuses(_result: int) -> None:
        for image in window.model.images():
            at_close[image.id] = image.status

    dialog.finished.connect(note_statuses)
    with qtbot.waitSignal(dialog.finished, timeout=10_000):
        click(qtbot, dialog.submit_button)
    assert not dialog.isVisible()

    shoot = app.service.shoots()[0]
    assert shoot.request == ShootRequest(
        "prod_vase04", scenery_id="scenery_loft", industry="fashion", count=2
    )
    ids = shoot.record_ids
    assert len(ids) == 2
    assert all(at_close[i] == "QUEUED" for i in ids)  # in the grid before the dialog closed
    assert window.shoots_dock.isVisible()
    panel = window.shoots_panel
    assert panel.shoot_ids() == [shoot.local_id]
    item = panel.tree.topLevelItem(0)
    assert item.text(0) == "Ceramic Vase"
    assert item.text(3) == "6 reserved"
    assert "Shoot submitted: 2 images, 6 credits reserved." in window.statusBar().currentMessage()

    qtbot.waitUntil(lambda: statuses_in_grid(app, ids) == ["DONE"] * 2, timeout=15_000)
    qtbot.waitUntil(lambda: item.text(6) == STATE_TEXT[ShootState.FINISHED], timeout=10_000)
    assert window.count_label.text() == "42 images"


REFUSALS = {
    "402 not enough credits": (
        {"credits": 5},
        None,
        "Running",
        "Outdoor",
        [
            "Not enough credits for this shoot.",
            "Insufficient credits. Required: 6, available: 5.",
            "Lower the image count or top up.",
        ],
    ),
    "404 unknown product": (
        {},
        None,
        "prod_unknown",
        "Outdoor",
        ["Product not found.", "Check the product, model, scenery and preset you chose."],
    ),
    "403 read-only key": (
        {},
        READONLY_API_KEY,
        "Running",
        "Outdoor",
        [
            "This API key may not start shoots: it lacks the 'content.register' scope",
            "Missing required scope: 'content.register'.",
            "Ask your Qamera admin for a key with that scope.",
        ],
    ),
    "400 suggestions too long": (
        {},
        None,
        "Running",
        "x" * 2001,
        [
            "The server refused the request:",
            "Validation failed: 'config.suggestions' must be at most 2000 characters.",
        ],
    ),
}


@pytest.mark.parametrize(
    ("sandbox_options", "key", "product", "suggestions", "phrases"),
    REFUSALS.values(),
    ids=REFUSALS.keys(),
)
def test_a_refused_shoot_keeps_everything_typed_and_says_why(
    qtbot, make_app, sandbox_factory, sandbox, sandbox_options, key, product, suggestions, phrases
):
    handle = sandbox_factory(**sandbox_options) if sandbox_options else sandbox
    app = make_app(handle=handle, key=key)
    dialog = open_from_window(qtbot, app)
    type_text(qtbot, dialog.product.combo, product)
    type_text(qtbot, dialog.model.combo, "Ava")
    type_text(qtbot, dialog.industry, "footwear")
    if len(suggestions) > 100:  # pasted, as a person would
        QApplication.clipboard().setText(suggestions)
        dialog.suggestions.setFocus()
        press(qtbot, Qt.Key.Key_V, CTRL)
    else:
        type_suggestions(qtbot, dialog, suggestions)
    type_count(qtbot, dialog, "2")
    typed = dialog.request()
    body = dialog.body.toPlainText()
    shown = [p.combo.currentText() for p in pickers(dialog)]
    assert dialog.submit_button.isEnabled()

    click(qtbot, dialog.submit_button)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: dialog.submit_button.text() == "Submit shoot")

    text = dialog.error.text()
    for phrase in phrases:
        assert phrase in text
    assert dialog.isVisible()
    assert dialog.request() == typed
    assert dialog.body.toPlainText() == body
    assert [p.combo.currentText() for p in pickers(dialog)] == shown
    assert dialog.submit_button.isEnabled()
    assert dialog.product.isEnabled()
    assert not dialog.suggestions.isReadOnly()
    shoot = app.service.shoots()[0]
    assert shoot.state is ShootState.REJECTED
    assert app.window.shoots_panel.tree.topLevelItem(0).text(6) == "Not submitted"
    assert handle.stats().count("POST", "/api/external/image-picker/register-ideas") == 1


def test_run_again_reopens_the_dialog_filled_with_that_shoots_request(qtbot, make_app):
    app = make_app()
    window = app.window
    dialog = open_from_window(qtbot, app)
    type_text(qtbot, dialog.product.combo, "Denim")
    click(qtbot, dialog.model.show_all)
    qtbot.waitUntil(lambda: loaded(dialog) and len(labels(dialog.model)) > 3)
    type_text(qtbot, dialog.model.combo, "Sofia")  # not approved: only listed with "Show all"
    type_text(qtbot, dialog.scenery.combo, "Urban")
    type_text(qtbot, dialog.preset.combo, "Lifestyle")
    type_text(qtbot, dialog.industry, "outerwear")
    type_suggestions(qtbot, dialog, "Rainy street, reflections")
    type_count(qtbot, dialog, "2")
    sent = dialog.request().validate()
    assert sent == ShootRequest(
        "prod_denim05",
        "model_sofia",
        "scenery_urban",
        "preset_lifestyle",
        "outerwear",
        "Rainy street, reflections",
        2,
    )
    with qtbot.waitSignal(dialog.finished):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    shoot = app.service.shoots()[0]
    wait_finished(qtbot, app, shoot.local_id)

    panel = window.shoots_panel
    item = panel.tree.topLevelItem(0)
    click(qtbot, panel.tree.viewport(), panel.tree.visualItemRect(item).center())
    assert panel.current_shoot().local_id == shoot.local_id
    assert panel.run_again.isEnabled()
    click(qtbot, panel.run_again)

    again = window.new_shoot_dialog
    assert again is not None
    assert again is not dialog
    assert again.isVisible()
    qtbot.waitUntil(lambda: loaded(again))
    assert again.request().validate() == sent
    assert shown_body(again) == sent.to_body()
    assert again.product.combo.currentText() == "Denim Jacket"
    assert again.scenery.combo.currentText() == "Urban Street at Dusk  ★"
    assert again.preset.combo.currentText() == "Lifestyle Warm"
    # Sofia is not approved, so the approved list does not hold her: her id is kept as typed
    assert again.model.current_id() == "model_sofia"
    assert again.submit_button.isEnabled()


def test_every_field_is_reachable_from_the_keyboard(qtbot, new_dialog):
    dialog = new_dialog()
    qtbot.waitUntil(lambda: loaded(dialog))
    qtbot.waitUntil(lambda: active_window() is dialog)
    alt = Qt.KeyboardModifier.AltModifier
    mnemonics = {
        Qt.Key.Key_P: dialog.product.combo,
        Qt.Key.Key_M: dialog.model.combo,
        Qt.Key.Key_S: dialog.scenery.combo,
        Qt.Key.Key_R: dialog.preset.combo,
        Qt.Key.Key_I: dialog.industry,
        Qt.Key.Key_G: dialog.suggestions,
        Qt.Key.Key_C: dialog.count,
    }
    for key, field in mnemonics.items():
        press(qtbot, key, alt)
        focused = focus_widget()
        assert focused is field or (focused is not None and focused.parent() is field), key

    # type a shoot without touching the mouse, and send it with Ctrl+Return
    press(qtbot, Qt.Key.Key_P, alt)
    qtbot.keyClicks(focus_widget(), "prod_run03")
    press(qtbot, Qt.Key.Key_C, alt)
    press(qtbot, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(focus_widget(), "4")
    with qtbot.waitSignal(dialog.submittedOk):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    assert dialog.submitted == [(ShootRequest("prod_run03", industry="fashion", count=4), None)]
