"""The window's settings in memory, written to disk at most every `WRITE_EVERY_MS` and at close.

The window changes a setting on every step of the thumbnail slider, every filter chosen, every
image made current; writing the file each time (a temporary file, an fsync, a rename) would put
a disk flush on the GUI thread for each of them. Changes are collected instead: the first one
after a write starts a timer, and when it fires everything changed meanwhile is written at once.
A steady stream of changes is thus written every `WRITE_EVERY_MS` (never postponed for as long
as the stream lasts), and a kill loses at most the changes of that last interval. `flush()`
writes at once: at close, and after a choice in Preferences (read by the next window opened).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from PySide6.QtCore import QObject, QTimer

from qamera_desktop.core.settings import Settings, SettingsStore

log = logging.getLogger(__name__)

WRITE_EVERY_MS: Final = 400


class SettingsWriter(QObject):
    def __init__(
        self,
        store: SettingsStore,
        *,
        failed: Callable[[OSError], None],
        interval_ms: int = WRITE_EVERY_MS,
        parent: QObject | None = None,
    ) -> None:
        """`failed` hears of a write the disk refused (the changes stay, for the next try)."""
        super().__init__(parent)
        self._store = store
        self._failed = failed
        self.settings: Settings = store.load()
        self.writes = 0  # files written: what the debounce saved is visible in the tests
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)

    @property
    def pending(self) -> bool:
        """Whether changes wait to be written."""
        return self._dirty

    def change(self, **changes: object) -> None:
        """Apply `changes` now (the window reads `settings`); write them with the next batch."""
        self.settings = self.settings.with_changes(**changes)
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Write what changed, now (nothing when nothing did)."""
        self._timer.stop()
        if not self._dirty:
            return
        try:
            self._store.save(self.settings)
        except OSError as exc:
            log.warning("Could not save the settings to %s: %s", self._store.path, exc)
            self._failed(exc)
            return
        self._dirty = False
        self.writes += 1
