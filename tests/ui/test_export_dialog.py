"""File → Export… in the real window over the sandbox: the picks, the selection or the current view
into a folder, checked on disk (image files, XMP, manifests); cancel part-way then resume; the
window closed during an export; failures listed with their reason; the keyboard."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
from PIL import Image as PilImage
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from qamera_desktop.api.records import Image
from qamera_desktop.core.export.file_names import file_stem
from qamera_desktop.core.export.image_choice import ImageChoice
from qamera_desktop.core.review import Flag, with_flag
from qamera_desktop.sandbox import SandboxHandle
from qamera_desktop.ui.actions import ActionId
from qamera_desktop.ui.export_dialog import ExportDialog
from tests.ui.desktop_urls import caught_urls
from tests.ui.helpers import App, MakeApp, open_by_key_in_grid, press

CTRL = Qt.KeyboardModifier.ControlModifier
JOB_TIMEOUT = 30_000


def pick_rows(app: App, qtbot: Any, rows: list[int]) -> list[Image]:
    """Pick these rows with the P key, one at a time, as a designer does."""
    window = app.window
    images = [window.model.image_at(row) for row in rows]
    assert all(image is not None for image in images)
    window.grid.setFocus()
    for image in images:
        assert image is not None
        window.browser.choose(image.id)
        qtbot.keyClick(window.grid, Qt.Key.Key_P)
    store = window.reviews.store
    assert store is not None
    assert all(store.get(image.id).flag is Flag.PICK for image in images if image)
    return [image for image in images if image is not None]


def open_export(app: App, qtbot: Any) -> ExportDialog:
    """Ctrl+E in the grid of the active window."""
    dialog = open_by_key_in_grid(app, qtbot, Qt.Key.Key_E, lambda: app.window.exports.export_dialog)
    assert isinstance(dialog, ExportDialog)
    return dialog


def run_export(app: App, qtbot: Any, dialog: ExportDialog, folder: Path) -> None:
    """Type the folder, press Enter, wait until the export has ended."""
    dialog.destination_edit.setText(str(folder))
    start(qtbot, dialog)
    wait_idle(app, qtbot, dialog)


def start(qtbot: Any, dialog: ExportDialog) -> None:
    """Enter on the dialog's default button."""
    dialog.status_label.clear()
    dialog.start_button.setFocus()
    qtbot.keyClick(dialog.start_button, Qt.Key.Key_Return)
    assert dialog.running


def wait_idle(app: App, qtbot: Any, dialog: ExportDialog) -> None:
    """Until the job has ended and the dialog says how."""
    qtbot.waitUntil(
        lambda: not app.window.exports.busy(dialog) and not dialog.running, timeout=JOB_TIMEOUT
    )


def image_files(folder: Path) -> dict[str, Path]:
    """Exported image files by image id (from the `<name>__<id>.<ext>` name)."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        if path.suffix in (".jpg", ".png", ".webp") and "__" in path.stem:
            found[path.stem.rsplit("__", 1)[1]] = path
    return found


def manifest_ids(folder: Path) -> tuple[list[str], dict[str, Any]]:
    """The ids of the CSV manifest's rows, and the JSON manifest (which lists the same ids)."""
    with (folder / "manifest.csv").open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    document = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    ids = [row["id"] for row in rows]
    assert [row["id"] for row in document["images"]] == ids
    return ids, document


def cdn_bytes(image: Image) -> bytes:
    assert image.thumbnail
    response = httpx.get(image.thumbnail, timeout=15)
    response.raise_for_status()
    return response.content


def test_export_picks_writes_the_files_and_the_manifest(
    qtbot: Any, make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app()
    picked = pick_rows(app, qtbot, [0, 2, 5])
    dialog = open_export(app, qtbot)
    assert dialog.choice_buttons[ImageChoice.PICKS].isChecked()  # the default
    assert "(3)" in dialog.choice_buttons[ImageChoice.PICKS].text()
    assert f"({len([i for i in app.library.images if i.is_done])})" in (
        dialog.choice_buttons[ImageChoice.FILTER].text()
    )
    folder = tmp_path / "out"

    run_export(app, qtbot, dialog, folder)

    files = image_files(folder)
    assert set(files) == {image.id for image in picked}
    for image in picked:
        path = files[image.id]
        assert path.name == file_stem(image.name, image.id) + ".jpg"
        with (
            PilImage.open(path) as written,
            PilImage.open(io.BytesIO(cdn_bytes(image))) as served,
        ):  # a whole JPEG with the CDN's pixels
            assert written.tobytes() == served.tobytes()
        header = path.read_bytes()[:8192]
        assert b"http://ns.adobe.com/xap/1.0/" in header  # XMP inside, naming the image
        assert image.id.encode() in header
    ids, document = manifest_ids(folder)
    assert sorted(ids) == sorted(image.id for image in picked)
    assert "3 written." in dialog.status_label.text()
    assert dialog.failures_list.isHidden()
    assert not list(folder.glob("*.part"))
    saved = app.settings_json()
    assert saved["export_folder"] == str(folder)
    assert saved["export_scope"] == "picks"
    # "All products": each image's product found by the products' listings
    names = {product.name for product in app.window.filters.products}
    assert all(row["productName"] in names for row in document["images"])
    assert all(row["flag"] == "pick" and row["outcome"] == "written" for row in document["images"])


def test_export_the_selection_then_the_current_view(
    qtbot: Any, make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app()
    window = app.window
    window.grid.setFocus()
    selected = [image for row in (1, 3, 4) if (image := window.model.image_at(row)) is not None]
    window.browser.choose(selected[0].id)
    selection = window.grid.selectionModel()
    for row in (3, 4):
        selection.select(window.model.index(row), selection.SelectionFlag.Select)
    dialog = open_export(app, qtbot)
    assert "(3)" in dialog.choice_buttons[ImageChoice.SELECTION].text()
    dialog.choice_buttons[ImageChoice.SELECTION].setChecked(True)
    run_export(app, qtbot, dialog, tmp_path / "selection")
    assert set(image_files(tmp_path / "selection")) == {i.id for i in selected}
    assert app.settings_json()["export_scope"] == "selection"

    # the current view: a search narrows the grid, the export follows it
    dialog.close()
    everything = [i for i in window.model.images() if i.is_done]
    word = selected[0].name.split()[0]  # "Fashion", "Footwear"...
    window.filters.search.setText(word)
    qtbot.waitUntil(lambda: all(word.lower() in i.name.lower() for i in window.model.images()))
    shown = [i for i in window.model.images() if i.is_done]
    assert 0 < len(shown) < len(everything)
    dialog = open_export(app, qtbot)
    assert dialog.choice_buttons[ImageChoice.SELECTION].isChecked()  # remembered
    dialog.choice_buttons[ImageChoice.FILTER].setChecked(True)
    assert f"({len(shown)})" in dialog.choice_buttons[ImageChoice.FILTER].text()
    run_export(app, qtbot, dialog, tmp_path / "view")
    assert set(image_files(tmp_path / "view")) == {i.id for i in shown}
    ids, _ = manifest_ids(tmp_path / "view")
    assert sorted(ids) == sorted(i.id for i in shown)


def test_cancel_part_way_keeps_whole_files_and_exporting_again_resumes(
    qtbot: Any, make_app: MakeApp, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    app = make_app()
    everything = [i for i in app.library.images if i.is_done]
    sandbox.reconfigure(cdn_latency_ms=400)  # slow enough to cancel in the middle
    dialog = open_export(app, qtbot)
    dialog.choice_buttons[ImageChoice.FILTER].setChecked(True)
    folder = tmp_path / "resumed"
    dialog.destination_edit.setText(str(folder))
    start(qtbot, dialog)
    qtbot.waitUntil(lambda: len(image_files(folder)) >= 2, timeout=JOB_TIMEOUT)
    assert dialog.running
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Esc cancels; the dialog stays
    wait_idle(app, qtbot, dialog)
    assert dialog.isVisible()
    text = dialog.status_label.text()
    assert text.startswith("Cancelled:"), text
    kept = image_files(folder)
    assert 2 <= len(kept) < len(everything)
    assert not list(folder.glob("*.part"))
    for path in kept.values():  # each file that is there is whole
        with PilImage.open(path) as image:
            image.load()
    assert f"{len(kept)} written" in text

    sandbox.reconfigure(cdn_latency_ms=0)
    start(qtbot, dialog)
    wait_idle(app, qtbot, dialog)
    assert set(image_files(folder)) == {i.id for i in everything}
    assert dialog.status_label.text() == (
        f"{len(everything) - len(kept)} written, {len(kept)} already there."
    )
    ids, _ = manifest_ids(folder)
    assert sorted(ids) == sorted(i.id for i in everything)


def test_closing_the_window_during_an_export_cancels_it_cleanly(
    qtbot: Any, make_app: MakeApp, sandbox: SandboxHandle, tmp_path: Path, arun: Any
) -> None:
    app = make_app()
    sandbox.reconfigure(cdn_latency_ms=400)
    dialog = open_export(app, qtbot)
    dialog.choice_buttons[ImageChoice.FILTER].setChecked(True)
    folder = tmp_path / "closed"
    dialog.destination_edit.setText(str(folder))
    start(qtbot, dialog)
    qtbot.waitUntil(lambda: len(image_files(folder)) >= 1, timeout=JOB_TIMEOUT)
    jobs = list(app.window.exports.jobs.values())
    assert jobs

    app.window.close()
    arun(app.window.exports.aclose())  # what the app's shutdown awaits

    assert all(not job.running or job.join(0) for job in jobs)
    assert not list(folder.glob("*.part"))
    for path in image_files(folder).values():
        with PilImage.open(path) as image:
            image.load()
    document = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "cancel" in json.dumps(document).lower()


def test_a_failed_image_is_listed_with_its_reason_and_the_folder_opens(
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
    store = app.window.reviews.store
    assert store is not None
    store.decide([good.id, broken.id], lambda r: with_flag(r, Flag.PICK))
    dialog = open_export(app, qtbot)
    assert "(2)" in dialog.choice_buttons[ImageChoice.PICKS].text()
    folder = tmp_path / "failed"

    run_export(app, qtbot, dialog, folder)

    assert dialog.status_label.text() == "1 written, 1 failed."
    assert dialog.failures_list.isVisible()
    assert dialog.failures_list.count() == 1
    line = dialog.failures_list.item(0).text()
    assert line.startswith("Missing Shot: ")
    assert "404" in line
    assert set(image_files(folder)) == {good.id}

    with caught_urls() as urls:
        assert dialog.open_button.isVisible()
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert [Path(url.toLocalFile()) for url in urls] == [folder]


def tab_chain(start: QWidget, limit: int = 20) -> list[QWidget]:
    chain: list[QWidget] = []
    widget: QWidget | None = start
    for _ in range(limit):
        widget = widget.nextInFocusChain() if widget is not None else None
        if widget is None or widget is start:
            break
        chain.append(widget)
    return chain


def test_keyboard_tab_reaches_every_control_enter_starts_esc_closes(
    qtbot: Any, make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app()
    pick_rows(app, qtbot, [0])
    dialog = open_export(app, qtbot)
    dialog.destination_edit.setText(str(tmp_path / "keys"))
    focusable = {
        w
        for w in tab_chain(dialog.choice_buttons[ImageChoice.PICKS], 40)
        if w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.isVisibleTo(dialog)
    }
    for control in (
        dialog.choice_buttons[ImageChoice.PICKS],
        dialog.destination_edit,
        dialog.choose_button,
        dialog.start_button,
        dialog.close_button,
    ):
        assert control in focusable or control is dialog.choice_buttons[ImageChoice.PICKS]
    # arrows move between the choices (one stop of the Tab chain, as radio buttons are)
    dialog.choice_buttons[ImageChoice.PICKS].setFocus()
    press(qtbot, Qt.Key.Key_Down)
    assert dialog.choice_buttons[ImageChoice.SELECTION].isChecked()
    press(qtbot, Qt.Key.Key_Up)
    assert dialog.choice_buttons[ImageChoice.PICKS].isChecked()

    dialog.destination_edit.setFocus()
    press(qtbot, Qt.Key.Key_Return)  # Enter anywhere in the dialog starts (the default button)
    qtbot.waitUntil(lambda: (tmp_path / "keys" / "manifest.csv").exists(), timeout=JOB_TIMEOUT)
    wait_idle(app, qtbot, dialog)
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert app.window.keys[ActionId.EXPORT].shortcut().toString() == "Ctrl+E"
