"""The app's loop schedules as asyncio does, on one Qt timer (qamera_desktop/ui/event_loop.py)."""

import asyncio
import threading

import pytest
from PySide6.QtCore import QCoreApplication, QTimer


def test_call_soon_runs_in_order_and_qt_events_run_between_passes(arun, qt_loop):
    order: list[str] = []

    async def go():
        done = asyncio.Event()

        def first():
            order.append("a")
            QTimer.singleShot(0, lambda: order.append("qt"))  # a Qt event due now
            qt_loop.call_soon(lambda: (order.append("c"), done.set()))  # the next pass

        qt_loop.call_soon(first)
        qt_loop.call_soon(order.append, "b")
        await done.wait()

    arun(go())
    assert order == ["a", "b", "qt", "c"]


def test_timers_fire_in_deadline_order_and_cancelled_ones_never(arun, qt_loop):
    fired: list[int] = []

    async def go():
        done = asyncio.Event()
        qt_loop.call_later(0.03, lambda: (fired.append(3), done.set()))
        qt_loop.call_later(0.01, fired.append, 1)
        cancelled = qt_loop.call_later(0.02, fired.append, 99)
        qt_loop.call_at(qt_loop.time() + 0.02, fired.append, 2)
        cancelled.cancel()
        await done.wait()
        cancelled.cancel()  # twice, and after the others ran: harmless

    arun(go())
    assert fired == [1, 2, 3]


def test_cancelled_timers_do_not_pile_up(arun, qt_loop):
    before = qt_loop.pending_timers
    handles = [qt_loop.call_later(30, lambda: None) for _ in range(5000)]
    assert qt_loop.pending_timers == before + 5000
    for handle in handles:
        handle.cancel()
    arun(asyncio.sleep(0))  # one pass compacts a heap that is mostly cancelled
    assert qt_loop.pending_timers <= before + 1


def test_wait_for_timeouts_leave_no_timers_behind(arun, qt_loop):
    async def quick():
        return 1

    async def go():
        for _ in range(300):
            await asyncio.wait_for(quick(), timeout=30)
        await asyncio.sleep(0)

    before = qt_loop.pending_timers
    arun(go())
    assert qt_loop.pending_timers <= max(before, 100)  # compacted, not 300 dead deadlines


def test_callbacks_from_other_threads_and_executors(arun, qt_loop):
    got: list[str] = []

    async def go():
        done = asyncio.Event()
        thread = threading.Thread(
            target=lambda: qt_loop.call_soon_threadsafe(lambda: (got.append("thread"), done.set()))
        )
        thread.start()
        await done.wait()
        thread.join()
        got.append(await asyncio.to_thread(lambda: "executor"))

    arun(go())
    assert got == ["thread", "executor"]


def test_a_failing_callback_goes_to_the_exception_handler_and_the_loop_goes_on(arun, qt_loop):
    seen: list[object] = []
    previous = qt_loop.get_exception_handler()
    qt_loop.set_exception_handler(lambda loop, context: seen.append(context.get("exception")))
    try:

        async def go():
            qt_loop.call_soon(lambda: 1 / 0)
            await asyncio.sleep(0.01)
            return "still running"

        assert arun(go()) == "still running"
    finally:
        qt_loop.set_exception_handler(previous)
    assert len(seen) == 1
    assert isinstance(seen[0], ZeroDivisionError)


def test_a_closed_loop_runs_nothing_more(qapp):
    from qamera_desktop.ui.event_loop import QameraEventLoop

    loop = QameraEventLoop(qapp)
    ran: list[int] = []
    loop.call_soon(ran.append, 1)
    loop.call_later(0.001, ran.append, 2)
    loop.close()
    for _ in range(5):
        QCoreApplication.processEvents()
    assert ran == []


def test_an_escaping_keyboard_interrupt_does_not_stall_the_loop(arun, qt_loop):
    ran: list[str] = []

    def interrupt():
        raise KeyboardInterrupt

    qt_loop.call_soon(interrupt)
    qt_loop.call_soon(ran.append, "next")
    with pytest.raises(KeyboardInterrupt):
        qt_loop._run_pass()  # the pass the pump's timer would run; Handle._run re-raises it

    async def go():
        done = asyncio.Event()
        qt_loop.call_later(0.01, lambda: (ran.append("timer"), done.set()))
        await done.wait()

    arun(go())  # the rest still runs: the pass armed the timer again on its way out
    assert ran == ["next", "timer"]


def test_a_nested_event_loop_inside_a_callback_is_harmless(arun, qt_loop):
    ran: list[str] = []

    def nested():
        ran.append("outer")
        QCoreApplication.processEvents()  # as a modal dialog's exec() would

    async def go():
        done = asyncio.Event()
        qt_loop.call_soon(nested)
        qt_loop.call_soon(ran.append, "second")
        qt_loop.call_soon(lambda: (ran.append("third"), done.set()))
        await done.wait()

    arun(go())
    assert ran == ["outer", "second", "third"]


def test_a_far_deadline_neither_overflows_nor_blocks_nearer_ones(arun, qt_loop):
    fired: list[str] = []
    far = qt_loop.call_later(40 * 24 * 3600, fired.append, "far")  # past Qt's int milliseconds

    async def go():
        done = asyncio.Event()
        qt_loop.call_later(0.01, lambda: (fired.append("near"), done.set()))
        await done.wait()

    arun(go())
    far.cancel()
    assert fired == ["near"]


def test_a_socket_closed_before_it_is_unregistered_is_still_unregistered(qt_loop):
    import socket

    left, right = socket.socketpair()
    try:
        fd = left.fileno()
        qt_loop.add_reader(left, lambda: None)
        left.close()  # as anyio does: close first, then remove the reader
        assert qt_loop.remove_reader(left) is True
        assert qt_loop._readers[fd].handle is None
        assert not qt_loop._readers[fd].notifier.isEnabled()
    finally:
        right.close()
