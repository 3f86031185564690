"""What the app asks the desktop to open (a folder, a PDF), caught instead of opened.

`QDesktopServices.setUrlHandler` is Qt's own hook for a URL scheme: while `caught_urls()` is
active, `QDesktopServices.openUrl` hands file URLs to it and no file manager or viewer starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices


class UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@contextmanager
def caught_urls(scheme: str = "file") -> Iterator[list[QUrl]]:
    catcher = UrlCatcher()
    # the stubs say bytes; PySide6 6.12 takes the slot's name as str (bytes raise ValueError)
    QDesktopServices.setUrlHandler(scheme, catcher, "open")  # type: ignore[arg-type]
    try:
        yield catcher.urls
    finally:
        QDesktopServices.unsetUrlHandler(scheme)
