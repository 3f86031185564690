"""The app's asyncio loop: qasync's Qt integration, with asyncio's own scheduling on one Qt timer.

qasync 0.28 backs every callback with a Qt timer of its own: `call_soon` is `call_later(0)`,
which starts a Qt timer, and a cancelled handle's timer stays armed until it is due. httpx and
anyio schedule ~30 callbacks and arm (then cancel) a timeout for every read and write of every
request, so a thumbnail cost ~30 startTimer/timerEvent/killTimer round trips, and filling 1,000
thumbnails left ~20,000 cancelled timers that fired together ~15 s later (the GUI thread then
stalled for up to a second).

Here the loop keeps what asyncio's BaseEventLoop keeps (`_ready`, a deque of callbacks, and
`_scheduled`, a heap of timer handles; a cancelled handle is dropped lazily and the heap is
compacted when more than half of it is cancelled) and asks Qt for one timer only: due now when
callbacks are ready, else at the earliest deadline. Each pass runs the callbacks that were ready
when it started, then returns to Qt, so paint and input events interleave with asyncio work.

Sockets are watched with QSocketNotifiers as in qasync, but one per file descriptor and kind,
kept across add/remove: asyncio transports pause and resume reading once or twice per response,
and qasync created, connected and dropped a QSocketNotifier each time. A ready socket runs its
callback at once (an asyncio.Handle, so errors reach the exception handler as usual).
"""

from __future__ import annotations

import asyncio
import heapq
import math
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import Context
from typing import Any

import qasync
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSocketNotifier, Qt, QTimerEvent
from PySide6.QtWidgets import QApplication

# as asyncio.base_events: compact the heap past this size when most of it is cancelled
_MIN_SCHEDULED_TO_COMPACT = 100
_MAX_TIMER_MS = 2**31 - 1
_MAX_CANCELLED_SHARE = 0.5


_WAKE = QEvent.Type(QEvent.registerEventType())


class _Pump(QObject):
    """The one Qt timer of the loop; it fires when the earliest pending work is due. Other
    threads wake it with one posted event per batch of callbacks (`call_soon_threadsafe`)."""

    def __init__(self, run: Callable[[], None]) -> None:
        super().__init__()
        self._run = run
        self._timer_id = 0
        self._due = math.inf  # loop time the armed timer fires at
        self.stopped = False

    def arm(self, now: float, due: float) -> None:
        """Make sure the timer fires by `due` (loop time); an earlier arming stands."""
        if self.stopped or due >= self._due:
            return
        if self._timer_id:
            self.killTimer(self._timer_id)
            self._timer_id, self._due = 0, math.inf
        # Qt timers take an int of milliseconds: a far deadline is re-armed when this one fires
        delay_ms = min(_MAX_TIMER_MS, max(0, math.ceil((due - now) * 1000)))
        self._timer_id = self.startTimer(delay_ms, Qt.TimerType.PreciseTimer)
        if self._timer_id:
            self._due = now + delay_ms / 1000 if delay_ms == _MAX_TIMER_MS else due

    def disarm(self) -> None:
        if self._timer_id:
            self.killTimer(self._timer_id)
        self._timer_id = 0
        self._due = math.inf

    def stop(self) -> None:
        self.disarm()
        self.stopped = True

    def event(self, event: QEvent) -> bool:
        if event.type() == _WAKE:
            if not self.stopped:
                self._run()
            return True
        return super().event(event)

    def timerEvent(self, event: QTimerEvent) -> None:
        if event.timerId() != self._timer_id:
            self.killTimer(event.timerId())  # a stale one (cannot happen, but never loops)
            return
        self.disarm()
        if not self.stopped:
            self._run()


class _Watch:
    """A QSocketNotifier for one file descriptor and kind, and the callback it currently runs."""

    __slots__ = ("handle", "notifier", "owner")

    def __init__(self, fileno: int, kind: QSocketNotifier.Type) -> None:
        self.handle: asyncio.Handle | None = None
        self.owner: Any = None  # the object registered (a socket can be closed before removal)
        self.notifier = QSocketNotifier(fileno, kind)
        self.notifier.setEnabled(False)
        self.notifier.activated.connect(self.fire)

    def fire(self) -> None:
        handle = self.handle
        if handle is not None:
            handle._run()

    def close(self) -> None:
        self.handle = None
        self.notifier.setEnabled(False)
        self.notifier.activated.disconnect(self.fire)


def _fileno(fd: Any) -> int:
    return fd if isinstance(fd, int) else int(fd.fileno())


class QameraEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    # BaseEventLoop's own state, which this class schedules with (typed here for mypy)
    _ready: Any
    _scheduled: list[asyncio.TimerHandle]
    _timer_cancelled_count: int
    _clock_resolution: float

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pump = _Pump(self._run_pass)  # first: qasync may schedule from its __init__
        self._readers: dict[int, _Watch] = {}
        self._writers: dict[int, _Watch] = {}
        self._from_threads: deque[asyncio.Handle] = deque()
        self._from_threads_lock = threading.Lock()
        self._wake_posted = False
        super().__init__(*args, **kwargs)

    # -- scheduling --------------------------------------------------------------------------
    def call_soon(
        self, callback: Callable[..., object], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        self._check_closed()
        self._check_callback(callback, "call_soon")
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        now = self.time()
        self._pump.arm(now, now)
        return handle

    def call_soon_threadsafe(
        self, callback: Callable[..., object], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        """From any thread. Callbacks queue up; the first of a batch posts one Qt event that
        wakes the loop (qasync emitted a queued Qt signal per callback)."""
        self._check_closed()
        self._check_callback(callback, "call_soon_threadsafe")
        handle = asyncio.Handle(callback, args, self, context)
        with self._from_threads_lock:
            self._from_threads.append(handle)
            wake, self._wake_posted = not self._wake_posted, True
        if wake:
            QCoreApplication.postEvent(self._pump, QEvent(_WAKE))
        return handle

    def call_later(
        self,
        delay: float,
        callback: Callable[..., object],
        *args: Any,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        return self.call_at(self.time() + delay, callback, *args, context=context)

    def call_at(
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        self._check_closed()
        self._check_callback(callback, "call_at")
        timer = asyncio.TimerHandle(when, callback, args, self, context)
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True  # type: ignore[attr-defined]
        self._pump.arm(self.time(), when)
        return timer

    @property
    def pending_timers(self) -> int:
        """Timer handles in the heap, cancelled ones included until they are dropped."""
        return len(self._scheduled)

    # -- sockets -----------------------------------------------------------------------------
    def _add_reader(self, fd: Any, callback: Callable[..., object], *args: Any) -> None:
        self._watch(self._readers, fd, QSocketNotifier.Type.Read, callback, args)

    def _remove_reader(self, fd: Any) -> bool:
        return self._unwatch(self._readers, fd)

    def _add_writer(self, fd: Any, callback: Callable[..., object], *args: Any) -> None:
        self._watch(self._writers, fd, QSocketNotifier.Type.Write, callback, args)

    def _remove_writer(self, fd: Any) -> bool:
        return self._unwatch(self._writers, fd)

    def _watch(
        self,
        watches: dict[int, _Watch],
        fd: Any,
        kind: QSocketNotifier.Type,
        callback: Callable[..., object],
        args: tuple[Any, ...],
    ) -> None:
        self._check_closed()
        fileno = _fileno(fd)
        watch = watches.get(fileno)
        if watch is None:
            watch = watches[fileno] = _Watch(fileno, kind)
        watch.handle = asyncio.Handle(callback, args, self, None)
        watch.owner = fd
        watch.notifier.setEnabled(True)

    def _unwatch(self, watches: dict[int, _Watch], fd: Any) -> bool:
        if self.is_closed():
            return False
        fileno = _fileno(fd)
        watch = watches.get(fileno)
        if fileno < 0:  # a socket object closed before it was unregistered: find it by owner
            watch = next((w for w in watches.values() if w.owner is fd), None)
        if watch is None or watch.handle is None:
            return False
        watch.handle = None
        watch.owner = None
        watch.notifier.setEnabled(False)
        return True

    # -- one pass ----------------------------------------------------------------------------
    def _run_pass(self) -> None:
        """Move due timers to the ready queue, run what was ready, arm the timer for the rest."""
        with self._from_threads_lock:
            self._ready.extend(self._from_threads)
            self._from_threads.clear()
            self._wake_posted = False
        scheduled = self._scheduled
        if (
            len(scheduled) > _MIN_SCHEDULED_TO_COMPACT
            and self._timer_cancelled_count / len(scheduled) > _MAX_CANCELLED_SHARE
        ):
            live = []
            for handle in scheduled:
                if handle._cancelled:
                    handle._scheduled = False  # type: ignore[attr-defined]
                else:
                    live.append(handle)
            heapq.heapify(live)
            self._scheduled = scheduled = live
            self._timer_cancelled_count = 0
        else:
            self._drop_cancelled_head()

        end = self.time() + self._clock_resolution
        while scheduled and scheduled[0].when() <= end:
            handle = heapq.heappop(scheduled)
            handle._scheduled = False  # type: ignore[attr-defined]
            self._ready.append(handle)

        ready = self._ready
        try:
            for _ in range(len(ready)):  # callbacks added meanwhile wait for the next pass
                if not ready:
                    break  # a nested Qt event loop in a callback ran a pass of its own
                handle = ready.popleft()
                if not handle._cancelled:
                    handle._run()
        finally:  # even when KeyboardInterrupt or SystemExit escapes a callback
            self._arm_for_rest()

    def _arm_for_rest(self) -> None:
        ready = self._ready
        now = self.time()
        if ready:
            self._pump.arm(now, now)
        else:
            self._drop_cancelled_head()
            if self._scheduled:
                self._pump.arm(now, self._scheduled[0].when())

    def _drop_cancelled_head(self) -> None:
        """Pop cancelled handles off the top of the heap (TimerHandle.cancel() counted them,
        through BaseEventLoop._timer_handle_cancelled)."""
        scheduled = self._scheduled
        while scheduled and scheduled[0]._cancelled:
            self._timer_cancelled_count -= 1
            heapq.heappop(scheduled)._scheduled = False  # type: ignore[attr-defined]

    def close(self) -> None:
        if not self.is_running():
            self._pump.stop()
            for watch in [*self._readers.values(), *self._writers.values()]:
                watch.close()
            self._readers.clear()
            self._writers.clear()
        super().close()


def make_event_loop(app: QApplication, *, already_running: bool = False) -> QameraEventLoop:
    """The app's loop, with `asyncio.to_thread` on plain threads (qasync's own QThreadExecutor
    is never shut down in a loop that is never closed, which aborts the interpreter at exit:
    "QThread: Destroyed while thread is still running")."""
    loop = QameraEventLoop(app, already_running=already_running)
    loop.set_default_executor(ThreadPoolExecutor(4, thread_name_prefix="qamera-io"))
    return loop
