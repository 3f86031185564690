"""File → Contact sheet… in the real window over the sandbox: the PDF read back with pypdf (its
pages, their size, the text of the header and the captions, the images on each page), several
pages, an image that cannot be fetched, cancelling, and the keys."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from PySide6.QtCore import Qt

from qamera_desktop.api.records import Image
from qamera_desktop.core.contact_sheet_layout import PAGE_SIZES, SheetLayout
from qamera_desktop.core.export.image_choice import ImageChoice
from qamera_desktop.core.review import Flag, Label, with_flag, with_label_toggled, with_rating
from qamera_desktop.sandbox import SandboxHandle
from qamera_desktop.ui.actions import ActionId
from qamera_desktop.ui.contact_sheet_dialog import ContactSheetDialog
from tests.ui.desktop_urls import caught_urls
from tests.ui.helpers import App, MakeApp, open_by_key_in_grid

CTRL = Qt.KeyboardModifier.ControlModifier
JOB_TIMEOUT = 60_000


def open_sheet(app: App, qtbot: Any) -> ContactSheetDialog:
    """Ctrl+P in the grid of the active window."""
    dialog = open_by_key_in_grid(app, qtbot, Qt.Key.Key_P, lambda: app.window.exports.sheet_dialog)
    assert isinstance(dialog, ContactSheetDialog)
    return dialog


def create(app: App, qtbot: Any, dialog: ContactSheetDialog, path: Path) -> None:
    """Type the file's path, press Enter, wait until the sheet is done."""
    dialog.destination_edit.setText(str(path))
    dialog.start_button.setFocus()
    qtbot.keyClick(dialog.start_button, Qt.Key.Key_Return)
    assert dialog.running
    wait_idle(app, qtbot, dialog)


def wait_idle(app: App, qtbot: Any, dialog: ContactSheetDialog) -> None:
    qtbot.waitUntil(
        lambda: not app.window.exports.busy(dialog) and not dialog.running, timeout=JOB_TIMEOUT
    )


def page_texts(path: Path) -> list[str]:
    """Each page's text with runs of whitespace made one space (pypdf spaces with tabs)."""
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(path).pages]


def decide(app: App, images: list[Image], *changes: Any) -> None:
    """Decisions through the review controller's store, as the keys make them."""
    store = app.window.reviews.store
    assert store is not None
    for change in changes:
        store.decide([image.id for image in images], change)
    app.library.update_reviews({image.id: store.get(image.id) for image in images})


def test_a_sheet_of_the_picks_names_each_image_its_decision_and_the_account(
    qtbot: Any, make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app()
    images = [image for row in (0, 1, 2) if (image := app.window.model.image_at(row)) is not None]
    decide(
        app,
        images,
        lambda r: with_flag(r, Flag.PICK),
        lambda r: with_rating(r, 4),
        lambda r: with_label_toggled(r, Label.BLUE),
    )
    dialog = open_sheet(app, qtbot)
    assert "(3)" in dialog.choice_buttons[ImageChoice.PICKS].text()
    assert dialog.choice_buttons[ImageChoice.PICKS].isChecked()
    dialog.page_combo.setCurrentText("Letter")
    dialog.columns_spin.setValue(3)
    path = tmp_path / "sign-off.pdf"

    create(app, qtbot, dialog, path)

    reader = PdfReader(path)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # Letter
    text = page_texts(path)[0]
    assert "Contact sheet: picks" in text
    assert "Demo sandbox · 3 images · 3 picks · 3 rated" in text
    assert "Page 1 of 1" in text
    names = {product.name for product in app.window.filters.products}
    for image in images:
        assert image.id in text
        assert image.name in text
    assert text.count("Pick ★★★★☆ Blue") == 3
    assert sum(text.count(name) for name in names) >= 3  # each caption names its product
    assert len(reader.pages[0].images) == 3
    assert app.key.encode() not in path.read_bytes()
    assert dialog.status_label.text().startswith("1 page, 3 images: sign-off.pdf")
    saved = app.settings_json()
    assert (saved["contact_sheet_page"], saved["contact_sheet_columns"]) == ("Letter", 3)

    with caught_urls() as urls:
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert [Path(url.toLocalFile()) for url in urls] == [path]


def test_the_selection_over_several_pages_in_grid_order(
    qtbot: Any, make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app()
    app.window.grid.selectAll()
    selected = [image for image in app.window.model.images() if image.is_done]
    dialog = open_sheet(app, qtbot)
    assert f"({len(selected)})" in dialog.choice_buttons[ImageChoice.SELECTION].text()
    dialog.choice_buttons[ImageChoice.SELECTION].setChecked(True)
    dialog.page_combo.setCurrentText("A4")
    dialog.columns_spin.setValue(6)
    layout = SheetLayout.create("A4", 6)
    assert layout.per_page < len(selected)  # more than one page
    path = tmp_path / "selection.pdf"

    create(app, qtbot, dialog, path)

    reader = PdfReader(path)
    expected_pages = layout.page_count(len(selected))
    assert len(reader.pages) == expected_pages
    width, height = PAGE_SIZES["A4"]
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (round(width), round(height))
    texts = page_texts(path)
    for number, page_images in enumerate(layout.pages(selected)):
        text = texts[number]
        assert f"Page {number + 1} of {expected_pages}" in text
        assert "Contact sheet: selected images" in text
        positions = [text.index(image.id) for image in page_images]
        assert positions == sorted(positions)  # row by row, in the grid's order
        assert len(reader.pages[number].images) == len(page_images)


def test_an_image_that_cannot_be_fetched_is_a_blank_box_that_says_why(
    qtbot: Any, make_app: MakeApp, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    app = make_app()
    good = app.window.model.image_at(0)
    assert good is not None
    broken = Image(
        "img_not_on_the_cdn",
        "Missing Shot",
        f"{sandbox.base_url}/cdn/images/img_not_on_the_cdn.jpg",
        "DONE",
        good.created_at,
    )
    app.library.upsert([broken])
    qtbot.waitUntil(lambda: app.window.model.row_of(broken.id) >= 0)
    decide(app, [good, broken], lambda r: with_flag(r, Flag.PICK))
    dialog = open_sheet(app, qtbot)
    path = tmp_path / "one-missing.pdf"

    create(app, qtbot, dialog, path)

    text = page_texts(path)[0]
    assert "Image not available HTTP 404" in text
    assert "Missing Shot" in text
    assert good.id in text
    assert len(PdfReader(path).pages[0].images) == 1
    assert "1 shown blank, not available: Missing Shot (HTTP 404)" in dialog.status_label.text()


def test_cancel_leaves_no_file_and_esc_then_closes(
    qtbot: Any, make_app: MakeApp, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    app = make_app()
    app.window.grid.selectAll()
    sandbox.reconfigure(cdn_latency_ms=400)
    dialog = open_sheet(app, qtbot)
    dialog.choice_buttons[ImageChoice.SELECTION].setChecked(True)
    dialog.columns_spin.setValue(2)  # small pages: the first ones are painted soon
    path = tmp_path / "cancelled.pdf"
    dialog.destination_edit.setText(str(path))
    progress: list[int] = []
    dialog.progress_bar.valueChanged.connect(progress.append)
    dialog.start_button.setFocus()
    qtbot.keyClick(dialog.start_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(value > 0 for value in progress), timeout=JOB_TIMEOUT)

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # cancels; the dialog stays
    wait_idle(app, qtbot, dialog)

    assert dialog.isVisible()
    assert dialog.status_label.text() == "Cancelled: no PDF was written."
    assert not path.exists()
    assert not list(tmp_path.glob("*.part"))
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # now it closes
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert app.window.keys[ActionId.CONTACT_SHEET].shortcut().toString() == "Ctrl+P"


def test_a_pdf_that_cannot_be_written_says_why(
    qtbot: Any, make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app()
    image = app.window.model.image_at(0)
    assert image is not None
    decide(app, [image], lambda r: with_flag(r, Flag.PICK))
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("")
    dialog = open_sheet(app, qtbot)

    create(app, qtbot, dialog, blocker / "sheet.pdf")

    text = dialog.status_label.text()
    assert text.startswith("Contact sheet failed: "), text
    assert str(blocker) in text
    assert dialog.start_button.isEnabled()  # the choices are back: another path can be tried
    assert dialog.destination_edit.isEnabled()
