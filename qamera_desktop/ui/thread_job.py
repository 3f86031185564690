"""A coroutine on a thread of its own, with its own asyncio loop, reporting to the GUI thread.

For work that must never run on the GUI thread's loop: downloading many image files (an export,
the images of a contact sheet or of a drag) and painting a PDF. On the GUI loop httpx and Pillow
would take turns with Qt on one GIL and stall the window (ARCHITECTURE.md, threads); on a thread
with `asyncio.run()` the window stays usable, and the work's own client and files are closed by
that loop before it ends.

The work gets a `JobContext`: a `threading.Event` that asks it to stop (the export engine and the
contact sheet poll it) and `report(value)`, callable from the work's thread. Everything the job
emits (`progressed`, `succeeded`, `failed`, `ended`) is emitted on the GUI thread: the worker
emits private signals that reach this object through queued connections, so no receiver, lambda
or not, ever runs on the worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtCore import Signal as QtSignal

log = logging.getLogger(__name__)

WAIT_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class JobContext:
    """What the work of a job gets: the request to stop, and a way to report progress."""

    cancel: threading.Event
    report: Callable[[object], None]

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()


Work = Callable[[JobContext], Coroutine[Any, Any, object]]


class ThreadJob(QObject):
    """One run of `work` on a thread named `name`; see the module docstring. Not restartable."""

    progressed = QtSignal(object)  # what the work reported
    succeeded = QtSignal(object)  # what the work returned
    failed = QtSignal(object)  # the exception it raised (BaseException)
    ended = QtSignal()  # after succeeded or failed: the thread is about to finish

    # emitted on the worker thread, delivered here (queued)
    _reported = QtSignal(object)
    _returned = QtSignal(object)
    _raised = QtSignal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._done = False
        queued = Qt.ConnectionType.QueuedConnection
        self._reported.connect(self._on_reported, queued)
        self._returned.connect(self._on_returned, queued)
        self._raised.connect(self._on_raised, queued)

    @property
    def running(self) -> bool:
        """Started and not ended yet (as the GUI thread has heard)."""
        return self._thread is not None and not self._done

    @property
    def cancelling(self) -> bool:
        return self._cancel.is_set() and self.running

    def start(self, work: Work) -> None:
        if self._thread is not None:
            raise RuntimeError("a ThreadJob runs once")
        context = JobContext(self._cancel, self._emit_report)
        self._thread = threading.Thread(target=self._run, args=(work, context), name=self._name)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the work to stop (it keeps what it completed); `ended` follows."""
        self._cancel.set()

    def join(self, timeout: float | None = None) -> bool:
        """Block until the thread ended (True) or `timeout` passed (False). For tests and
        shutdown; the GUI listens to `ended` instead."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    async def wait(self) -> None:
        """Wait on the GUI loop, without blocking it, until the thread ended (bound it with
        `asyncio.timeout`)."""
        while self._thread is not None and self._thread.is_alive():  # noqa: ASYNC110
            await asyncio.sleep(WAIT_POLL_SECONDS)

    # -- the worker thread -------------------------------------------------------------------
    def _run(self, work: Work, context: JobContext) -> None:
        try:
            result = asyncio.run(work(context))
        except BaseException as exc:  # reported to the GUI thread, never lost
            self._emit(self._raised, exc)
        else:
            self._emit(self._returned, result)

    def _emit_report(self, value: object) -> None:
        self._emit(self._reported, value)

    def _emit(self, signal: Any, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the GUI side is gone (the app is quitting): nobody to tell
            log.debug("%s: result dropped, its job object was deleted", self._name)

    # -- the GUI thread ----------------------------------------------------------------------
    def _on_reported(self, value: object) -> None:
        if not self._done:
            self.progressed.emit(value)

    def _on_returned(self, result: object) -> None:
        self._done = True
        self.succeeded.emit(result)
        self.ended.emit()

    def _on_raised(self, exc: object) -> None:
        self._done = True
        self.failed.emit(exc)
        self.ended.emit()
