"""Getting approved images out of the window: Export… (files, manifest, XMP), the contact sheet,
and Copy ID / Copy URL of the selected images. The export itself is core/export (Qt-free, also
run headless by `qamera-desktop export`); this room only asks what and where, shows progress,
and keeps the GUI thread free while files download."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QStatusBar

from qamera_desktop.core.image_library import ImageLibrary
from qamera_desktop.ui.image_browser import ImageBrowser


class ExportController(QObject):
    def __init__(
        self,
        library: ImageLibrary,
        browser: ImageBrowser,
        status_bar: QStatusBar,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._browser = browser
        self._status = status_bar

    # -- File menu ---------------------------------------------------------------------------
    def export(self) -> None:
        """File → Export…"""
        self._status.showMessage("Export is not available yet.", 5_000)

    def contact_sheet(self) -> None:
        """File → Contact sheet…"""
        self._status.showMessage("The contact sheet is not available yet.", 5_000)

    # -- Edit menu ---------------------------------------------------------------------------
    def copy_ids(self) -> None:
        """The ids of the selected images (or the current one), one per line."""
        self._copy("ID", [image_id for image_id in self._browser.targets()])

    def copy_urls(self) -> None:
        """The URLs of the selected images (or the current one), one per line."""
        urls = [
            image.thumbnail
            for image_id in self._browser.targets()
            if (image := self._library.get(image_id)) is not None and image.thumbnail
        ]
        self._copy("URL", urls)

    def _copy(self, what: str, lines: list[str]) -> None:
        if not lines:
            self._status.showMessage(f"No image to copy the {what} of.", 5_000)
            return
        QGuiApplication.clipboard().setText("\n".join(lines))
        many = f"{len(lines)} {what}s" if len(lines) > 1 else f"the {what}"
        self._status.showMessage(f"Copied {many}.", 5_000)
