"""Dragging images out of the grid drops real files: the drag's mime data (built by the method the
drag itself calls; an OS drag cannot be driven offscreen) carries file URLs of complete files,
named as the export names them, downloaded once into the originals cache, with a progress dialog
and Cancel when that takes more than a moment."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from PySide6.QtCore import QItemSelectionModel, QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton

from qamera_desktop.api.records import Image
from qamera_desktop.core.export.file_names import file_stem
from qamera_desktop.sandbox import SandboxHandle
from tests.ui.helpers import App, MakeApp

Select = QItemSelectionModel.SelectionFlag


def select_rows(app: App, rows: list[int]) -> list[Image]:
    window = app.window
    selection = window.grid.selectionModel()
    selection.setCurrentIndex(window.model.index(rows[0]), Select.ClearAndSelect)
    for row in rows[1:]:
        selection.select(window.model.index(row), Select.Select)
    return [image for row in rows if (image := window.model.image_at(row)) is not None]


def dropped_files(app: App) -> list[Path] | None:
    mime = app.window.grid.drag_mime_data()
    if mime is None:
        return None
    assert mime.hasUrls()
    urls = mime.urls()
    assert all(url.isLocalFile() for url in urls)
    return [Path(url.toLocalFile()) for url in urls]


def cdn_path(image: Image) -> str:
    assert image.thumbnail
    return urlsplit(image.thumbnail).path


def test_the_drag_carries_the_complete_files_of_the_selected_images(
    qtbot: Any, make_app: MakeApp, sandbox: SandboxHandle
) -> None:
    app = make_app()
    images = select_rows(app, [0, 2, 3])

    files = dropped_files(app)

    assert files is not None
    assert [path.name for path in files] == [file_stem(i.name, i.id) + ".jpg" for i in images]
    for image, path in zip(images, files, strict=True):
        assert image.thumbnail
        assert path.read_bytes() == httpx.get(image.thumbnail, timeout=15).content
    originals = app.window.exports.originals
    assert originals is not None
    assert {path.parent for path in files} == {originals}
    assert sorted(p.name for p in originals.iterdir()) == sorted(p.name for p in files)

    # a second drag takes the files from the cache: nothing is downloaded again (the grid's
    # and the details' thumbnails, from the same URLs, have all arrived before counting)
    window = app.window
    qtbot.waitUntil(
        lambda: window.grid.first_screen_ready() and not window.details.preview.pixmap().isNull(),
        timeout=15_000,
    )
    sandbox.reset_stats()
    assert dropped_files(app) == files
    stats = sandbox.stats()
    assert all(stats.count("GET", cdn_path(image)) == 0 for image in images)


def test_a_slow_download_shows_progress_and_cancel_drops_nothing(
    qtbot: Any, make_app: MakeApp, sandbox: SandboxHandle
) -> None:
    app = make_app()
    select_rows(app, [4, 5])
    sandbox.reconfigure(cdn_latency_ms=3_000)
    seen: list[QProgressDialog] = []

    def cancel_when_shown() -> None:
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, QProgressDialog)]
        visible = [w for w in shown if w.isVisible()]
        if not visible:
            QTimer.singleShot(50, cancel_when_shown)
            return
        seen.extend(visible)
        button = visible[0].findChild(QPushButton)
        assert button is not None
        assert button.text() == "Cancel"
        button.click()  # as a person does

    QTimer.singleShot(50, cancel_when_shown)
    files = dropped_files(app)  # waits, painting, until the downloads end or are cancelled

    assert files is None
    assert seen
    assert "Getting 2 images ready to drop" in seen[0].labelText()
    assert "Drag cancelled." in app.window.statusBar().currentMessage()
    originals = app.window.exports.originals
    assert originals is not None
    assert not originals.exists() or not list(originals.iterdir())  # nothing, not even a part


def test_unfinished_images_are_not_dragged(qtbot: Any, make_app: MakeApp) -> None:
    app = make_app()
    failed = [row for row, image in enumerate(app.window.model.images()) if not image.is_done]
    assert failed  # the demo history has failed images
    select_rows(app, failed[:1])

    assert dropped_files(app) is None
    assert "Only finished images" in app.window.statusBar().currentMessage()
