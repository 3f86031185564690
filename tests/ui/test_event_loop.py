"""The app's loop schedules as asyncio does, on one Qt timer (qamera_desktop/ui/event_loop.py)."""

import asyncio
import threading

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
