"""The window's settings in memory, written to disk at most every `WRITE_EVERY_MS` and at close.

The window changes a setting on every step of the thumbnail slider, every filter chosen, every
image made current, every move of the window; writing the file each time (a temporary file, an
fsync, a rename) would cost a disk flush for each of them. Changes are collected instead: the
first one after a write starts a timer, and when it fires everything changed meanwhile is written
at once, on a thread of its own (the fsync never holds up the GUI thread). A steady stream of
changes is thus written every `WRITE_EVERY_MS` (never postponed for as long as the stream lasts),
and a kill loses at most the changes of that last interval. `flush()` writes at once and waits:
at close, and when Preferences closes (a window opened next, for another account, reads the
file).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Final

from PySide6.QtCore import QObject, QTimer
from PySide6.QtCore import Signal as QtSignal

from qamera_desktop.core.settings import Settings, SettingsStore

log = logging.getLogger(__name__)

WRITE_EVERY_MS: Final = 400


class SettingsWriter(QObject):
    _written = QtSignal(object)  # the Future of a write, from the writing thread (queued)

    def __init__(
        self,
        store: SettingsStore,
        *,
        failed: Callable[[OSError], None],
        interval_ms: int = WRITE_EVERY_MS,
        initial: Settings | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`failed` hears of a write the disk refused (the changes stay, for the next try);
        `initial`: the settings as just read from `store` (else read here)."""
        super().__init__(parent)
        self._store = store
        self._failed = failed
        self.settings: Settings = initial if initial is not None else store.load()
        self.writes = 0  # files written: what the debounce saved is visible in the tests
        self._dirty = False
        self._writing: Future[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="settings")
        self._written.connect(self._on_written)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._write_in_thread)
        self.destroyed.connect(lambda _obj=None, pool=self._thread: pool.shutdown(wait=False))

    @property
    def pending(self) -> bool:
        """Whether changes wait to be written, or are being written."""
        return self._dirty or self._writing is not None

    def change(self, **changes: object) -> None:
        """Apply `changes` now (the window reads `settings`); write them with the next batch."""
        self.settings = self.settings.with_changes(**changes)
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def _write_in_thread(self) -> None:
        if not self._dirty:
            return
        if self._writing is not None:  # one write at a time: the next batch after this one
            self._timer.start()
            return
        snapshot, self._dirty = self.settings, False
        writing = self._writing = self._thread.submit(self._store.save, snapshot)
        writing.add_done_callback(self._written.emit)

    def _on_written(self, writing: Future[None]) -> None:
        if writing is not self._writing:
            return  # flush() has dealt with it
        self._writing = None
        self._account_for(writing)

    def _account_for(self, writing: Future[None]) -> None:
        exc = writing.exception()
        if exc is None:
            self.writes += 1
            return
        self._dirty = True  # the changes wait for the next write
        if isinstance(exc, OSError):
            log.warning("Could not save the settings to %s: %s", self._store.path, exc)
            self._failed(exc)
        else:
            log.error("Saving the settings failed", exc_info=exc)

    def flush(self) -> None:
        """Write what changed, now, and return once it is on disk (nothing when nothing did)."""
        self._timer.stop()
        writing, self._writing = self._writing, None
        if writing is not None:
            wait([writing])  # its failure is accounted for just below: the changes wait again
            self._account_for(writing)
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
