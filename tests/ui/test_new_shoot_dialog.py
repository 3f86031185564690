"""The New shoot dialog against the sandbox: pickers, validation as you type, the exact JSON body,
the cost estimate, submitting, the designer-language errors, and "Run again"; then the designer's
findings: fields that never move, the count's range, the product from the list only, what is
remembered per product, the cost from stored receipts, the wording, and lists that reload by
themselves when the connection returns."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QComboBox

from qamera_desktop.api import QameraClient
from qamera_desktop.api.records import Product
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.account import account_id
from qamera_desktop.core.database import Database
from qamera_desktop.core.shoot_memory import ShootMemory
from qamera_desktop.core.shoot_service import ShootService
from qamera_desktop.core.shoots import ShootState
from qamera_desktop.sandbox import READONLY_API_KEY, SandboxHandle, start_sandbox
from qamera_desktop.ui import catalogue_picker
from qamera_desktop.ui.catalogue_picker import NONE_LABEL, CataloguePicker, LoadState, Tone
from qamera_desktop.ui.new_shoot_dialog import NewShootDialog
from qamera_desktop.ui.shoots_panel import STATE_TEXT
from tests.sandbox_fixtures import TEST_CONFIG, api_client
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
    """No list is loading (each one loaded or failed)."""
    return dialog.tasks.running == 0 and not any(p.loading for p in pickers(dialog))


def all_ready(dialog: NewShootDialog) -> bool:
    """Every list loaded."""
    return loaded(dialog) and all(p.load_state is LoadState.READY for p in pickers(dialog))


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
    """Replace the count by typing (nothing typed: the field is emptied)."""
    dialog.count.setFocus()
    qtbot.keyClick(dialog.count, Qt.Key.Key_A, CTRL)
    if digits:
        qtbot.keyClicks(dialog.count, digits)
    else:
        qtbot.keyClick(dialog.count, Qt.Key.Key_Backspace)


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

    def make(catalogue: Any = None, submit: Any = None, **kwargs: Any) -> NewShootDialog:
        submitted: list[tuple[ShootRequest, str | None]] = []

        async def record(request: ShootRequest, product_name: str | None) -> None:
            submitted.append((request, product_name))
            if submit is not None:
                await submit(request, product_name)

        dialog = NewShootDialog(catalogue or client, record, **kwargs)
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
    assert [p.state.text() for p in pickers(dialog)] == [
        "Required: choose a product from the list.",
        "",
        "",
        "",
    ]
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
            assert picker.state.text() == f"Could not load the {picker.plural}: Invalid API key."
            assert picker.state.tone is Tone.ERROR
            assert picker.retry.isVisible()  # a new key will not come by itself: no retrying
        assert not dialog.submit_button.isEnabled()
        assert sandbox.stats().by_status.get(401, 0) >= 4
    finally:
        arun(bad.aclose())


def test_retry_loads_the_list_once_the_server_works_again(qtbot, new_dialog, sandbox):
    sandbox.reconfigure(error_rate=1.0)
    dialog = new_dialog()
    qtbot.waitUntil(lambda: loaded(dialog), timeout=10_000)
    assert dialog.model.state.text().startswith(
        "Could not load the AI models: Internal server error. Retrying in "
    )
    assert dialog.model.retry.isVisible()
    assert labels(dialog.model) == []

    sandbox.reconfigure(error_rate=0.0)
    click(qtbot, dialog.model.retry)  # before its next try by itself
    qtbot.waitUntil(lambda: all_ready(dialog))  # the others follow as soon as one list works
    assert dialog.model.state.text() == ""
    assert not dialog.model.retry.isVisible()
    assert labels(dialog.model)[0] == NONE_LABEL
    assert len(labels(dialog.model)) == 3
    assert not dialog.scenery.retry.isVisible()
    assert len(labels(dialog.scenery)) > 1


# -- validation as you type --------------------------------------------------------------------
def test_without_a_product_submit_is_disabled_and_says_why(qtbot, new_dialog):
    dialog = new_dialog()
    qtbot.waitUntil(lambda: loaded(dialog))
    assert not dialog.submit_button.isEnabled()
    assert dialog.product.state.text() == "Required: choose a product from the list."
    assert dialog.body.toPlainText() == "(not valid yet)"

    type_text(qtbot, dialog.product.combo, "Running")  # completes to the product's name
    assert dialog.product.combo.currentText() == "Running Shoes"
    assert dialog.product.current_id() == "prod_run03"
    assert dialog.submit_button.isEnabled()
    assert dialog.product.state.text() == ""
    assert shown_body(dialog)["config"]["product"] == {"id": "prod_run03"}

    type_text(qtbot, dialog.product.combo, "   ")
    assert not dialog.submit_button.isEnabled()
    assert dialog.product.state.text() == "Required: choose a product from the list."

    # Ctrl+Return does nothing while the request is not valid
    press(qtbot, Qt.Key.Key_Return, CTRL)
    assert dialog.isVisible()
    assert dialog.submitted == []


def test_an_id_the_lists_do_not_hold_is_used_as_the_id_except_for_the_product(qtbot, new_dialog):
    dialog = new_dialog()
    qtbot.waitUntil(lambda: loaded(dialog))
    type_text(qtbot, dialog.product.combo, "prod_denim05")  # a product by its id
    assert dialog.product.current_id() == "prod_denim05"
    assert dialog.product_name() == "Denim Jacket"
    type_text(qtbot, dialog.model.combo, "model_custom")
    type_text(qtbot, dialog.scenery.combo, "scenery_custom")
    type_text(qtbot, dialog.preset.combo, "preset_custom")
    config = shown_body(dialog)["config"]
    assert config["product"] == {"id": "prod_denim05"}
    assert config["model"] == {"id": "model_custom"}
    assert config["scenery"] == {"id": "scenery_custom"}
    assert config["preset"] == {"id": "preset_custom"}
    assert dialog.model.state.text() == "Not in the list: sent as the id “model_custom”."
    assert dialog.model.state.tone is Tone.HINT
    assert dialog.submit_button.isEnabled()

    type_text(qtbot, dialog.product.combo, "prod_from_elsewhere")  # the list has every product
    assert dialog.product.current_id() is None
    assert dialog.product.state.text() == "No product “prod_from_elsewhere” in this account."
    assert not dialog.submit_button.isEnabled()


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
            "product": "prod_denim05",
            "model": "model_custom",
            "scenery": "scenery_custom",
            "preset": "preset_custom",
            "industry": "eyewear",
            "suggestions": "   ",
            "count": "20",
        },
        ShootRequest(
            "prod_denim05", "model_custom", "scenery_custom", "preset_custom", "eyewear", None, 20
        ),
    ),
    "spaces around text are trimmed, blank industry left out": (
        {"product": "White", "scenery": "Marble", "industry": "   ", "suggestions": "  soft  "},
        ShootRequest("prod_wtee01", scenery_id="scenery_loft", suggestions="soft", count=10),
    ),
    "the industry is left empty by default": (
        {"product": "Denim", "model": "Malik", "count": "1"},
        ShootRequest("prod_denim05", model_id="model_malik", count=1),
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
def test_in_the_window_the_estimate_comes_from_the_accounts_receipts(qtbot, make_app):
    app = make_app()
    dialog = open_from_window(qtbot, app)
    assert "earlier shoots" not in dialog.cost.text()

    type_text(qtbot, dialog.product.combo, "Stoneware")
    type_count(qtbot, dialog, "2")
    with qtbot.waitSignal(dialog.finished):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    shoot = app.service.shoots()[0]
    assert shoot.receipt is not None
    assert shoot.receipt.credits_reserved == 6

    dialog = open_from_window(qtbot, app)
    assert dialog.count.value() == 10
    assert dialog.cost.text() == (
        "About 30 credits, estimated from this account's earlier shoots (3 per image). "
        "Failed images are refunded."
    )
    type_count(qtbot, dialog, "4")
    assert dialog.cost.text().startswith("About 12 credits, estimated")


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
    assert shoot.request == ShootRequest("prod_vase04", scenery_id="scenery_loft", count=2)
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
        "Ava",
        "Outdoor",
        [
            "Not enough credits for this shoot.",
            "Insufficient credits. Required: 6, available: 5.",
            "Lower the image count or top up.",
        ],
    ),
    "404 unknown model": (
        {},
        None,
        "Running",
        "model_unknown",
        "Outdoor",
        ["Model not found.", "Check the product, model, scenery and preset you chose."],
    ),
    "403 read-only key": (
        {},
        READONLY_API_KEY,
        "Running",
        "Ava",
        "Outdoor",
        [
            "This API key may not start shoots: it lacks the 'content.register' scope",
            "(Missing required scope: 'content.register').",
            "Ask your Qamera admin for a key with that scope.",
        ],
    ),
    "400 suggestions too long": (
        {},
        None,
        "Running",
        "Ava",
        "x" * 2001,
        [
            "The server refused the request:",
            "Validation failed: 'config.suggestions' must be at most 2000 characters.",
        ],
    ),
}


@pytest.mark.parametrize(
    ("sandbox_options", "key", "product", "model", "suggestions", "phrases"),
    REFUSALS.values(),
    ids=REFUSALS.keys(),
)
def test_a_refused_shoot_keeps_everything_typed_and_says_why(
    qtbot,
    make_app,
    sandbox_factory,
    sandbox,
    sandbox_options,
    key,
    product,
    model,
    suggestions,
    phrases,
):
    handle = sandbox_factory(**sandbox_options) if sandbox_options else sandbox
    app = make_app(handle=handle, key=key)
    dialog = open_from_window(qtbot, app)
    type_text(qtbot, dialog.product.combo, product)
    type_text(qtbot, dialog.model.combo, model)
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
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=10_000)
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
    assert app.service.shoots() == []  # a refused shoot leaves no ghost row behind
    assert app.window.shoots_panel.shoot_ids() == []
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
    assert dialog.submitted == [(ShootRequest("prod_run03", count=4), "Running Shoes")]


# == the designer's findings ==================================================================


def field_widgets(dialog: NewShootDialog) -> dict[str, Any]:
    return {
        "product": dialog.product.combo,
        "model": dialog.model.combo,
        "scenery": dialog.scenery.combo,
        "preset": dialog.preset.combo,
        "industry": dialog.industry,
        "suggestions": dialog.suggestions,
        "count": dialog.count,
        "submit": dialog.submit_button,
    }


def geometry(dialog: NewShootDialog) -> dict[str, QRect]:
    """Where each field is inside the dialog, laid out as it would be painted now."""
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()
    return {
        name: QRect(w.mapTo(dialog, QPoint(0, 0)), w.size())
        for name, w in field_widgets(dialog).items()
    }


def posting(api: QameraClient) -> Callable[[ShootRequest, str | None], Any]:
    """A submit callback that really POSTs the shoot."""

    async def submit(request: ShootRequest, _name: str | None) -> None:
        await api.register_ideas(request)

    return submit


def test_fields_never_move_when_a_message_appears(qtbot, new_dialog, sandbox_factory, arun):
    handle = sandbox_factory(credits=5)
    api = make_client(handle.base_url, handle.demo_key)
    try:
        dialog = new_dialog(api, submit=posting(api))
        qtbot.waitUntil(lambda: loaded(dialog))
        type_text(qtbot, dialog.product.combo, "Running")
        type_count(qtbot, dialog, "2")
        before = geometry(dialog)
        size = dialog.size()

        def unmoved(what: str) -> None:
            assert geometry(dialog) == before, what
            assert dialog.size() == size, what

        type_text(qtbot, dialog.product.combo, "")
        unmoved("no product chosen")
        type_text(qtbot, dialog.product.combo, "zzz nonexistent")
        unmoved("a product that does not exist")
        type_text(qtbot, dialog.product.combo, "Running")
        type_count(qtbot, dialog, "25")
        unmoved("too many images")
        type_count(qtbot, dialog, "")
        unmoved("no count")
        type_count(qtbot, dialog, "2")
        unmoved("all corrected")

        handle.reconfigure(error_rate=1.0)
        click(qtbot, dialog.model.show_all)
        qtbot.waitUntil(lambda: dialog.model.retry.isVisible(), timeout=10_000)
        unmoved("the model list could not load")
        handle.reconfigure(error_rate=0.0)
        click(qtbot, dialog.model.retry)
        qtbot.waitUntil(lambda: loaded(dialog), timeout=10_000)
        unmoved("the model list loaded again")

        click(qtbot, dialog.submit_button)  # 6 credits needed, 5 available
        qtbot.waitUntil(lambda: "Not enough credits" in dialog.error.text(), timeout=10_000)
        unmoved("the shoot was refused")

        handle.stop()
        type_count(qtbot, dialog, "1")
        assert dialog.error.text() == ""
        click(qtbot, dialog.submit_button)
        qtbot.waitUntil(lambda: "Could not reach Qamera" in dialog.error.text(), timeout=10_000)
        unmoved("Qamera could not be reached")
    finally:
        arun(api.aclose())


def test_a_count_out_of_range_is_an_error_until_corrected(qtbot, new_dialog):
    dialog = new_dialog()
    qtbot.waitUntil(lambda: loaded(dialog))
    type_text(qtbot, dialog.product.combo, "Running")

    type_count(qtbot, dialog, "25")
    assert dialog.count.text() == "25 images"  # what was typed stays as typed
    assert dialog.count_message.text() == "A shoot has 1 to 20 images, not 25."
    assert not dialog.submit_button.isEnabled()
    assert dialog.body.toPlainText() == "(not valid yet)"
    dialog.suggestions.setFocus()  # leaving the field changes nothing
    assert dialog.count.text() == "25 images"
    assert "1 to 20" in dialog.count_message.text()
    press(qtbot, Qt.Key.Key_Return, CTRL)  # nor does trying to submit
    assert dialog.isVisible()
    assert dialog.submitted == []
    assert dialog.count.text() == "25 images"

    type_count(qtbot, dialog, "0")
    assert dialog.count.text() == "0 images"
    assert dialog.count_message.text() == "A shoot has 1 to 20 images, not 0."
    assert "30" not in dialog.cost.text()  # no estimate for a count that cannot be sent
    assert not dialog.submit_button.isEnabled()

    type_count(qtbot, dialog, "")
    assert dialog.count_message.text() == "Enter the number of images, from 1 to 20."
    assert not dialog.submit_button.isEnabled()

    type_count(qtbot, dialog, "20")
    assert dialog.count_message.text() == ""
    assert dialog.submit_button.isEnabled()
    qtbot.keyClick(dialog.count, Qt.Key.Key_Up)  # the arrows stay within the range
    assert dialog.count.value() == 20
    type_count(qtbot, dialog, "25")
    qtbot.keyClick(dialog.count, Qt.Key.Key_Down)  # and bring a count back into it
    assert dialog.count.value() == 20
    assert dialog.count_message.text() == ""
    type_count(qtbot, dialog, "1")
    qtbot.keyClick(dialog.count, Qt.Key.Key_Down)
    assert dialog.count.value() == 1
    assert dialog.count.text() == "1 image"
    assert shown_body(dialog)["count"] == 1
    with qtbot.waitSignal(dialog.submittedOk):
        press(qtbot, Qt.Key.Key_Return, CTRL)
    assert dialog.submitted[0][0].count == 1


# -- product: one of the list, one state at a time, its own icon ------------------------------
def test_the_product_is_one_of_the_list_and_only_its_icon_shows(qtbot, new_dialog, loader):
    dialog = new_dialog(loader=loader)
    qtbot.waitUntil(lambda: loaded(dialog))
    product = dialog.product
    assert product.state.text() == "Required: choose a product from the list."
    assert product.current_icon().isNull()

    type_text(qtbot, product.combo, "Running")
    assert product.current_id() == "prod_run03"
    qtbot.waitUntil(lambda: not product.current_icon().isNull(), timeout=10_000)
    assert product.state.text() == ""

    type_text(qtbot, product.combo, "zzz nonexistent")
    assert product.combo.currentText() == "zzz nonexistent"  # what was typed stays
    assert product.current_id() is None
    assert product.current_icon().isNull()  # not the Running Shoes' icon any more
    assert product.state.text() == "No product “zzz nonexistent” in this account."
    assert product.state.tone is Tone.ERROR
    assert not dialog.submit_button.isEnabled()
    assert dialog.body.toPlainText() == "(not valid yet)"

    type_text(qtbot, product.combo, "ceramic vase")  # a name, in any case
    assert product.current_id() == "prod_vase04"
    qtbot.waitUntil(lambda: not product.current_icon().isNull(), timeout=10_000)
    assert (
        product.current_icon().cacheKey()
        == product.combo.itemIcon(product.combo.findData("prod_vase04")).cacheKey()
    )
    assert product.state.text() == ""
    assert dialog.submit_button.isEnabled()

    type_text(qtbot, product.combo, "")
    assert product.current_icon().isNull()
    assert product.state.text() == "Required: choose a product from the list."


def test_a_refusal_goes_once_the_request_changes_one_message_at_a_time(qtbot, new_dialog, client):
    """The window's product list may be older than the account's: a product gone since."""
    gone = Product("prod_gone", "Discontinued Scarf", None, "UPLOADED", None)
    dialog = new_dialog(products=[gone], submit=posting(client))
    qtbot.waitUntil(lambda: loaded(dialog))
    type_text(qtbot, dialog.product.combo, "Discontinued")
    assert dialog.product.current_id() == "prod_gone"
    click(qtbot, dialog.submit_button)
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=10_000)
    assert dialog.error.text() == (
        "Product not found. Check the product, model, scenery and preset you chose."
    )

    type_text(qtbot, dialog.product.combo, "")
    shown = [m for m in (dialog.error.text(), dialog.product.state.text()) if m]
    assert shown == ["Required: choose a product from the list."]

    type_text(qtbot, dialog.product.combo, "Discontinued")  # the same request: still refused
    click(qtbot, dialog.submit_button)
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=10_000)
    type_count(qtbot, dialog, "3")  # any change makes the refusal old news
    assert dialog.error.text() == ""


# -- remembered per product ------------------------------------------------------------------
@pytest.fixture
def open_memory(tmp_path: Path, sandbox: SandboxHandle) -> Iterator[Callable[[], ShootMemory]]:
    """Opens the sandbox account's memory in one database file; each call is a restart."""
    path = tmp_path / "qamera.sqlite3"
    account = account_id(sandbox.base_url, sandbox.demo_key)
    opened: list[Database] = []

    def open_() -> ShootMemory:
        for database in opened:
            database.close()
        opened.append(Database(path))
        return ShootMemory(opened[-1], account)

    yield open_
    for database in opened:
        database.close()


def chosen(dialog: NewShootDialog) -> tuple[str, str | None, str | None, str | None]:
    return (
        dialog.industry.currentText(),
        dialog.model.current_id(),
        dialog.scenery.current_id(),
        dialog.preset.current_id(),
    )


def test_industry_model_scenery_and_preset_are_remembered_per_product(
    qtbot, new_dialog, open_memory
):
    memory = open_memory()
    dialog = new_dialog(memory=memory)
    qtbot.waitUntil(lambda: all_ready(dialog))
    assert dialog.industry.currentText() == ""  # optional in the API: no made-up default
    type_text(qtbot, dialog.product.combo, "Ceramic")
    assert chosen(dialog) == ("", None, None, None)  # never shot
    assert "industry" not in shown_body(dialog)["config"]
    type_text(qtbot, dialog.industry, "home & living")
    type_text(qtbot, dialog.model.combo, "Ava")
    type_text(qtbot, dialog.scenery.combo, "Marble")
    type_text(qtbot, dialog.preset.combo, "Editorial")
    with qtbot.waitSignal(dialog.submittedOk):
        press(qtbot, Qt.Key.Key_Return, CTRL)

    shoes = new_dialog(memory=memory)
    qtbot.waitUntil(lambda: all_ready(shoes))
    type_text(qtbot, shoes.product.combo, "Running")
    assert chosen(shoes) == ("", None, None, None)  # the vase's choices are the vase's
    type_text(qtbot, shoes.industry, "footwear")
    with qtbot.waitSignal(shoes.submittedOk):
        press(qtbot, Qt.Key.Key_Return, CTRL)

    memory = open_memory()  # a restart
    dialog = new_dialog(memory=memory)
    qtbot.waitUntil(lambda: all_ready(dialog))
    type_text(qtbot, dialog.product.combo, "Ceramic")
    vase = ("home & living", "model_ava", "scenery_loft", "preset_editorial")
    assert chosen(dialog) == vase
    assert dialog.model.combo.currentText() == "Ava  ★"
    assert shown_body(dialog)["config"]["industry"] == "home & living"
    type_text(qtbot, dialog.product.combo, "Running")
    assert chosen(dialog) == ("footwear", None, None, None)
    type_text(qtbot, dialog.scenery.combo, "Urban")  # set by hand: stays whatever the product
    type_text(qtbot, dialog.product.combo, "Ceramic")
    assert chosen(dialog) == ("home & living", "model_ava", "scenery_urban", "preset_editorial")

    # chosen for the dialog (the window's product filter): preselected as the lists arrive
    preset = new_dialog(memory=memory, product_id="prod_vase04")
    qtbot.waitUntil(lambda: all_ready(preset))
    assert chosen(preset) == vase
    # "Run again" shows that shoot as it was, not the memory
    again = new_dialog(memory=memory, initial=ShootRequest("prod_vase04", count=3))
    qtbot.waitUntil(lambda: all_ready(again))
    assert chosen(again) == ("", None, None, None)
    assert dialog.submitted == []


# -- the cost --------------------------------------------------------------------------------
def test_before_any_receipt_the_cost_is_estimated_on_the_sandbox_and_shown_on_submit_for_real(
    qtbot, new_dialog, open_memory
):
    memory = open_memory()
    on_sandbox = new_dialog(memory=memory, sandbox_price_per_image=3)
    qtbot.waitUntil(lambda: loaded(on_sandbox))
    assert on_sandbox.cost.text() == (
        "About 30 credits, estimated from the demo sandbox's rate (3 per image). "
        "Failed images are refunded."
    )
    type_count(qtbot, on_sandbox, "4")
    assert on_sandbox.cost.text().startswith("About 12 credits, estimated")
    type_count(qtbot, on_sandbox, "0")
    assert on_sandbox.cost.text() == (
        "The cost is estimated once the number of images is from 1 to 20."
    )

    real = new_dialog(memory=memory)
    qtbot.waitUntil(lambda: loaded(real))
    assert real.cost.text() == (
        "The cost is shown when you submit: Qamera reserves the credits then, and refunds the "
        "images that fail."
    )


def test_the_estimate_from_receipts_survives_a_restart(
    qtbot, new_dialog, client, sandbox, arun, tmp_path
):
    path = tmp_path / "qamera.sqlite3"
    account = account_id(sandbox.base_url, sandbox.demo_key)
    database = Database(path)
    service = ShootService(client, database, account)  # stores the shoots and their receipts
    service.start()

    async def submit(request: ShootRequest, name: str | None) -> None:
        await service.submit(request, name)

    try:
        memory = ShootMemory(database, account)
        dialog = new_dialog(memory=memory, submit=submit, sandbox_price_per_image=2)
        qtbot.waitUntil(lambda: loaded(dialog))
        assert dialog.cost.text().startswith("About 20 credits, estimated from the demo sandbox")
        type_text(qtbot, dialog.product.combo, "Stoneware")
        type_count(qtbot, dialog, "2")
        with qtbot.waitSignal(dialog.submittedOk, timeout=10_000):
            press(qtbot, Qt.Key.Key_Return, CTRL)
        assert service.shoots()[0].receipt.credits_reserved == 6  # the sandbox's 3 per image
        arun(dialog.aclose())
    finally:
        arun(service.aclose())
        database.close()

    with Database(path) as database:  # a restart: only the database remembers
        dialog = new_dialog(memory=ShootMemory(database, account), sandbox_price_per_image=2)
        qtbot.waitUntil(lambda: loaded(dialog))
        assert dialog.cost.text() == (
            "About 30 credits, estimated from this account's earlier shoots (3 per image). "
            "Failed images are refunded."
        )
        arun(dialog.aclose())


def test_a_402_gives_the_last_known_balance_kept_across_restarts(
    qtbot, new_dialog, sandbox_factory, tmp_path, arun
):
    handle = sandbox_factory(credits=11)
    api = make_client(handle.base_url, handle.demo_key)
    path = tmp_path / "qamera.sqlite3"
    account = account_id(handle.base_url, handle.demo_key)
    try:
        with Database(path) as database:
            memory = ShootMemory(database, account)
            dialog = new_dialog(api, submit=posting(api), memory=memory, sandbox_price_per_image=3)
            qtbot.waitUntil(lambda: loaded(dialog))
            type_text(qtbot, dialog.product.combo, "Running")
            type_count(qtbot, dialog, "5")
            assert "balance" not in dialog.cost.text()
            click(qtbot, dialog.submit_button)
            qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=10_000)
            assert "Insufficient credits. Required: 15, available: 11." in dialog.error.text()
            assert dialog.cost.text().startswith("About 15 credits, estimated")
            assert "That is more than the last known balance: 11 credits available (today " in (
                dialog.cost.text()
            )
            type_count(qtbot, dialog, "3")
            assert "Last known balance: 11 credits available (today " in dialog.cost.text()
            arun(dialog.aclose())
        with Database(path) as database:  # a restart
            dialog = new_dialog(api, memory=ShootMemory(database, account))
            qtbot.waitUntil(lambda: loaded(dialog))
            assert "Last known balance: 11 credits available (today " in dialog.cost.text()
            arun(dialog.aclose())
    finally:
        arun(api.aclose())


# -- wording ---------------------------------------------------------------------------------
def test_each_kind_of_picker_reads_with_its_own_article_and_plural(qtbot, new_dialog):
    dialog = new_dialog()
    qtbot.waitUntil(lambda: loaded(dialog))
    placeholders = [p.combo.lineEdit().placeholderText() for p in pickers(dialog)]
    assert placeholders == [
        "Choose a product (type to search)",
        "Choose an AI model (or type its id)",
        "Choose a scenery (or type its id)",
        "Choose a preset (or type its id)",
    ]
    assert dialog.model.show_all.toolTip() == "List every AI model, not only the approved ones"
    assert [p.retry.toolTip() for p in pickers(dialog)] == [
        "Load the products again now",
        "Load the AI models again now",
        "Load the sceneries again now",
        "Load the presets again now",
    ]


def test_a_network_failure_reads_plainly_and_its_detail_goes_to_the_log(
    qtbot, new_dialog, sandbox_factory, arun, caplog
):
    handle = sandbox_factory()
    api = make_client(handle.base_url, handle.demo_key)
    try:
        dialog = new_dialog(api, submit=posting(api))
        qtbot.waitUntil(lambda: all_ready(dialog))
        type_text(qtbot, dialog.product.combo, "Running")
        handle.stop()
        with caplog.at_level(logging.WARNING):
            click(qtbot, dialog.submit_button)
            qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=10_000)
        assert dialog.error.text() == (
            "Could not reach Qamera (connection refused). Nothing was submitted."
        )
        logged = [r for r in caplog.records if r.name.startswith("qamera_desktop.ui")]
        assert [r.levelno for r in logged] == [logging.WARNING]
        assert "ConnectError: All connection attempts failed" in logged[0].getMessage()
        assert handle.demo_key not in caplog.text
    finally:
        arun(api.aclose())


# -- lists that could not load ---------------------------------------------------------------
def test_the_lists_reload_by_themselves_when_the_connection_returns(
    qtbot, new_dialog, sandbox_factory, arun, caplog
):
    handle = sandbox_factory()
    port = urlsplit(handle.base_url).port
    api = make_client(handle.base_url, handle.demo_key)
    handle.stop()
    again: SandboxHandle | None = None
    try:
        with caplog.at_level(logging.WARNING):
            dialog = new_dialog(api)
            qtbot.waitUntil(lambda: all(p.retry.isVisible() for p in pickers(dialog)))
        for picker in pickers(dialog):
            assert picker.state.text().startswith(
                "Could not reach Qamera (connection refused). Retrying in "
            )
            assert picker.state.tone is Tone.ERROR
        assert "ConnectError" in caplog.text  # the detail is in the log, at WARNING
        assert handle.demo_key not in caplog.text
        assert not dialog.submit_button.isEnabled()

        again = start_sandbox(handle.data_dir, TEST_CONFIG, port=port)  # the connection is back
        qtbot.waitUntil(lambda: all_ready(dialog), timeout=15_000)  # nothing clicked
        assert not any(p.retry.isVisible() for p in pickers(dialog))
        assert labels(dialog.model)[0] == NONE_LABEL
        assert len(labels(dialog.model)) > 1
        assert sorted(labels(dialog.product)) == sorted(sandbox_names(again, "products"))
    finally:
        if again is not None:
            again.stop()
        arun(api.aclose())


def test_the_lists_retry_by_themselves_after_server_errors(qtbot, new_dialog, sandbox):
    sandbox.reconfigure(error_rate=1.0)
    dialog = new_dialog()
    qtbot.waitUntil(lambda: all(p.retry.isVisible() for p in pickers(dialog)), timeout=10_000)
    failed = dialog.preset.state.text()
    sandbox.reconfigure(error_rate=0.0)
    qtbot.waitUntil(
        lambda: (
            all(len(labels(p)) > 1 for p in pickers(dialog))
            and not any(p.retry.isVisible() for p in pickers(dialog))
        ),
        timeout=15_000,
    )
    assert dialog.preset.state.text() == ""
    assert failed.startswith("Could not load the presets: Internal server error. Retrying in ")


def test_a_slow_list_says_qamera_has_not_answered_yet(qtbot, new_dialog, sandbox, monkeypatch):
    monkeypatch.setattr(catalogue_picker, "SLOW_AFTER_MS", 200)
    sandbox.reconfigure(latency_ms=1500)
    dialog = new_dialog()
    qtbot.waitUntil(lambda: dialog.model.state.text() == "Loading… Qamera has not answered yet.")
    assert dialog.model.loading
    sandbox.reconfigure(latency_ms=0)
    qtbot.waitUntil(lambda: all_ready(dialog), timeout=10_000)
    assert dialog.model.state.text() == ""


def test_the_dialog_stops_retrying_once_closed(qtbot, new_dialog, sandbox, arun):
    sandbox.reconfigure(error_rate=1.0)
    dialog = new_dialog()
    qtbot.waitUntil(lambda: all(p.retry.isVisible() for p in pickers(dialog)), timeout=10_000)
    dialog.reject()
    arun(dialog.aclose())
    sandbox.reconfigure(error_rate=0.0)
    requests = sandbox.stats().total
    qtbot.wait(2500)  # longer than the first retry's delay: nothing may happen in it
    assert sandbox.stats().total == requests
    assert dialog.tasks.running == 0
