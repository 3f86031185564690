"""`QameraEventLoop.call_soon_threadsafe`: callbacks from other threads queue up in a deque and
one posted Qt event per batch wakes the loop (qamera_desktop/ui/event_loop.py).

The GUI thread only ever joins threads that do not need the loop (scheduling a callback never
waits for the loop to run it), and waits for callbacks through `arun`, which processes Qt events.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from qamera_desktop.ui.event_loop import QameraEventLoop

THREADS = 4
CALLS = 500


def in_thread(target: Callable[[], Any]) -> Any:
    """Run `target` in a new thread and return its result (the thread must not need the loop)."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(target()))
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert len(result) == 1
    return result[0]


@pytest.fixture
def loop_errors(qt_loop: QameraEventLoop) -> Iterator[list[dict[str, Any]]]:
    """What reaches the loop's exception handler during the test."""
    seen: list[dict[str, Any]] = []
    previous = qt_loop.get_exception_handler()
    qt_loop.set_exception_handler(lambda loop, context: seen.append(context))
    yield seen
    qt_loop.set_exception_handler(previous)


def settle(qt_loop: QameraEventLoop, arun: Any) -> None:
    """Wait until everything other threads scheduled so far has run: a marker scheduled from a
    thread now runs after them (one FIFO queue)."""

    async def go() -> None:
        done = asyncio.Event()
        in_thread(lambda: qt_loop.call_soon_threadsafe(done.set))
        await done.wait()

    arun(go())


def test_many_callbacks_from_many_threads_run_once_each_in_each_threads_order(
    qt_loop: QameraEventLoop, arun: Any, loop_errors: list[dict[str, Any]]
) -> None:
    ran: list[tuple[int, int]] = []  # appended on the loop thread only
    loop_threads: set[int] = set()

    def record(worker: int, n: int) -> None:
        loop_threads.add(threading.get_ident())
        ran.append((worker, n))

    async def go() -> None:
        all_ran = asyncio.Event()
        barrier = threading.Barrier(THREADS)

        def check_done() -> None:
            if len(ran) >= THREADS * CALLS:
                all_ran.set()

        def work(worker: int) -> None:
            barrier.wait(30)  # all threads schedule at once
            for n in range(CALLS):
                qt_loop.call_soon_threadsafe(record, worker, n)
                qt_loop.call_soon_threadsafe(check_done)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(THREADS)]
        for thread in threads:
            thread.start()
        await all_ran.wait()
        for thread in threads:
            await asyncio.to_thread(thread.join, 30)
            assert not thread.is_alive()

    arun(go())
    settle(qt_loop, arun)  # anything run twice would show up by now

    assert len(ran) == THREADS * CALLS
    assert Counter(ran) == Counter((w, n) for w in range(THREADS) for n in range(CALLS))
    for worker in range(THREADS):
        assert [n for w, n in ran if w == worker] == list(range(CALLS))
    assert loop_threads == {threading.get_ident()}  # the test runs on the loop's thread
    assert loop_errors == []


def test_a_handle_cancelled_before_the_loop_runs_it_never_runs(
    qt_loop: QameraEventLoop, arun: Any, loop_errors: list[dict[str, Any]]
) -> None:
    ran: list[str] = []
    # The loop runs on this thread, so it cannot run anything before the handles are cancelled.
    handles = in_thread(
        lambda: [qt_loop.call_soon_threadsafe(ran.append, name) for name in ("a", "b", "c")]
    )
    assert all(isinstance(handle, asyncio.Handle) for handle in handles)
    handles[1].cancel()
    assert handles[1].cancelled()

    settle(qt_loop, arun)

    assert ran == ["a", "c"]
    assert not handles[0].cancelled()
    assert loop_errors == []  # skipped, not run (a cancelled handle has no callback left)


def test_a_handle_cancelled_from_its_own_thread_never_runs(
    qt_loop: QameraEventLoop, arun: Any, loop_errors: list[dict[str, Any]]
) -> None:
    ran: list[str] = []

    def schedule_and_cancel() -> None:
        qt_loop.call_soon_threadsafe(ran.append, "kept")
        qt_loop.call_soon_threadsafe(ran.append, "cancelled").cancel()

    in_thread(schedule_and_cancel)
    settle(qt_loop, arun)

    assert ran == ["kept"]
    assert loop_errors == []


def test_a_batch_of_cancelled_handles_does_not_stop_later_wake_ups(
    qt_loop: QameraEventLoop, arun: Any, loop_errors: list[dict[str, Any]]
) -> None:
    ran: list[int] = []
    handles = in_thread(lambda: [qt_loop.call_soon_threadsafe(ran.append, n) for n in range(10)])
    for handle in handles:
        handle.cancel()

    settle(qt_loop, arun)  # the batch's wake-up ran nothing; the next batch still wakes the loop
    settle(qt_loop, arun)

    assert ran == []
    assert loop_errors == []


def test_a_callback_from_a_thread_wakes_an_idle_loop(qt_loop: QameraEventLoop, arun: Any) -> None:
    got: list[tuple[str, int]] = []

    async def go() -> None:
        done = asyncio.Event()
        loop_is_idle = threading.Event()

        def woken() -> None:
            got.append(("woken", 1))
            done.set()

        def worker() -> None:
            if loop_is_idle.wait(30):
                qt_loop.call_soon_threadsafe(woken)

        thread = threading.Thread(target=worker)
        thread.start()
        # A plain Qt call, run by Qt between loop passes, while the coroutine below waits and
        # nothing else of asyncio's is due: only the posted event can wake the loop.
        QTimer.singleShot(0, loop_is_idle.set)
        try:
            await done.wait()
        finally:
            loop_is_idle.set()
            await asyncio.to_thread(thread.join, 30)

    arun(go())
    assert got == [("woken", 1)]


def test_a_callback_scheduled_threadsafe_from_a_callback_runs_in_a_later_pass(
    qt_loop: QameraEventLoop, arun: Any
) -> None:
    order: list[str] = []

    async def go() -> None:
        done = asyncio.Event()

        def second() -> None:
            order.append("from the loop thread")
            done.set()

        def first() -> None:
            order.append("first")
            qt_loop.call_soon_threadsafe(second)
            order.append("first returns")

        in_thread(lambda: qt_loop.call_soon_threadsafe(first))
        await done.wait()

    arun(go())
    assert order == ["first", "first returns", "from the loop thread"]


def test_arguments_and_context_reach_the_callback(qt_loop: QameraEventLoop, arun: Any) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    got: list[tuple[Any, ...]] = []

    async def go() -> None:
        done = asyncio.Event()

        def callback(a: int, b: str) -> None:
            got.append((a, b, var.get()))
            done.set()

        def schedule() -> None:
            context = contextvars.copy_context()
            context.run(var.set, "from the thread")
            qt_loop.call_soon_threadsafe(callback, 1, "two", context=context)

        in_thread(schedule)
        await done.wait()

    arun(go())
    assert got == [(1, "two", "from the thread")]


def test_a_failing_callback_from_a_thread_goes_to_the_handler_and_the_rest_run(
    qt_loop: QameraEventLoop, arun: Any, loop_errors: list[dict[str, Any]]
) -> None:
    ran: list[int] = []

    def schedule() -> None:
        qt_loop.call_soon_threadsafe(ran.append, 1)
        qt_loop.call_soon_threadsafe(lambda: 1 / 0)
        qt_loop.call_soon_threadsafe(ran.append, 2)

    in_thread(schedule)
    settle(qt_loop, arun)

    assert ran == [1, 2]
    assert [type(context.get("exception")) for context in loop_errors] == [ZeroDivisionError]


def test_a_closed_loop_refuses_callbacks_from_threads(qapp: Any) -> None:
    loop = QameraEventLoop(qapp)
    loop.close()
    errors: list[BaseException] = []

    def schedule() -> None:
        try:
            loop.call_soon_threadsafe(print, "never")
        except RuntimeError as exc:
            errors.append(exc)

    in_thread(schedule)
    assert len(errors) == 1
    assert "closed" in str(errors[0])


def test_a_non_callable_is_refused(qt_loop: QameraEventLoop) -> None:
    with pytest.raises(TypeError):
        qt_loop.call_soon_threadsafe("not callable")  # type: ignore[arg-type]
