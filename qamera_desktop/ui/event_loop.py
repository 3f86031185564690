"""The qasync event loop, with cancelled timers that really go away.

qasync 0.28 backs every `call_later` / `call_at` with a Qt timer, and cancelling the handle only
marks it: the Qt timer stays armed and fires at its original time. httpx/anyio arm a timeout for
every read and write and cancel it a moment later, so filling 1,000 thumbnails leaves ~20,000
cancelled timers that all fire about 15 s later (the timeout), in one burst: the GUI thread then
stalled for up to a second (tests/perf/bench_grid.py, fill followed by a 100k listing). Here a
cancelled handle kills its Qt timer at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import Context
from typing import Any

import qasync
from PySide6.QtCore import QTimerEvent
from PySide6.QtWidgets import QApplication


class _TimerHandle(asyncio.Handle):
    __slots__ = ("_qt_timer", "_qt_timer_id")
    _qt_timer: Any  # qasync's _SimpleTimer (a QObject), None once disarmed
    _qt_timer_id: int

    def cancel(self) -> None:
        if not self._cancelled:
            super().cancel()
            timer, timer_id = self._qt_timer, self._qt_timer_id
            self._qt_timer = None
            if timer is not None:
                callbacks: dict[int, asyncio.Handle] = timer._SimpleTimer__callbacks
                if callbacks.get(timer_id) is self:  # not fired yet (ids are reused after)
                    del callbacks[timer_id]
                    timer.killTimer(timer_id)


class _Timers(qasync._SimpleTimer):  # type: ignore[misc]
    """qasync's timer object, with a timer event that tolerates handles disarmed meanwhile and
    handles that cancel themselves while they run (anyio's deadlines do)."""

    def timerEvent(self, event: QTimerEvent) -> None:
        timer_id = event.timerId()
        handle = self._SimpleTimer__callbacks.pop(timer_id, None)
        if handle is None:
            return  # disarmed by cancel(), which killed the timer already
        self.killTimer(timer_id)
        if not handle._cancelled and not self._stopped:
            handle._run()


class QameraEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._qasync_timer: Any = self._timer  # kept alive: may hold callbacks from __init__
        self._timer: Any = _Timers()

    def call_later(
        self,
        delay: float,
        callback: Callable[..., object],
        *args: Any,
        context: Context | None = None,
    ) -> asyncio.Handle:
        if delay <= 0 or asyncio.iscoroutinefunction(callback) or not callable(callback):
            return super().call_later(delay, callback, *args, context=context)  # type: ignore[no-any-return]
        handle = _TimerHandle(callback, args, self, context=context)
        timer = self._timer
        handle._qt_timer = timer
        handle._qt_timer_id = timer.startTimer(int(delay * 1000))
        timer._SimpleTimer__callbacks[handle._qt_timer_id] = handle
        return handle


def make_event_loop(app: QApplication, *, already_running: bool = False) -> QameraEventLoop:
    """The app's loop: cancelled timers are disarmed, and `asyncio.to_thread` runs on plain
    threads (qasync's own QThreadExecutor is never shut down in a loop that is never closed,
    which aborts the interpreter at exit: "QThread: Destroyed while thread is still running")."""
    loop = QameraEventLoop(app, already_running=already_running)
    loop.set_default_executor(ThreadPoolExecutor(4, thread_name_prefix="qamera-io"))
    return loop
