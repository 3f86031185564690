"""What the app's loop adds to stock qasync, and what the app relies on from it
(qamera_desktop/ui/event_loop.py): `asyncio.to_thread` on plain threads, callbacks from other
threads, and asyncio tasks interleaved with Qt's own timers on the GUI thread."""

from __future__ import annotations

import asyncio
import itertools
import threading
from typing import Any

from PySide6.QtCore import QTimer

from qamera_desktop.ui.event_loop import IO_THREAD_PREFIX


def test_to_thread_runs_on_the_plain_executors_threads(arun: Any) -> None:
    gui_thread = threading.current_thread()

    def where() -> tuple[str, bool]:
        here = threading.current_thread()
        return here.name, here is not gui_thread

    async def go() -> list[tuple[str, bool]]:
        return list(await asyncio.gather(*(asyncio.to_thread(where) for _ in range(8))))

    seen = arun(go())
    assert len(seen) == 8
    for name, off_the_gui_thread in seen:
        assert name.startswith(f"{IO_THREAD_PREFIX}_"), name  # not a qasync QThread worker
        assert off_the_gui_thread


def test_call_soon_threadsafe_from_another_thread_reaches_the_loop(arun: Any) -> None:
    ran: list[tuple[threading.Thread, int]] = []

    async def go() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()

        def on_the_loop(value: int) -> None:
            ran.append((threading.current_thread(), value))
            done.set()

        thread = threading.Thread(target=loop.call_soon_threadsafe, args=(on_the_loop, 42))
        thread.start()
        await asyncio.wait_for(done.wait(), 5)
        await asyncio.to_thread(thread.join, 5)

    arun(go())
    assert ran == [(threading.current_thread(), 42)]  # once, on the GUI thread (the loop's)


def test_a_task_and_a_qt_timer_interleave(arun: Any) -> None:
    order: list[str] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: order.append("qt"))

    async def go() -> None:
        timer.start()
        try:
            for _ in range(4):
                order.append("task")
                await asyncio.sleep(0.02)  # Qt's timer fires while the task waits
        finally:
            timer.stop()

    arun(go())
    assert order[0] == "task"
    task_turns = [i for i, who in enumerate(order) if who == "task"]
    assert len(task_turns) == 4
    # a Qt tick between every two turns of the task: neither starves the other
    for before, after in itertools.pairwise(task_turns):
        assert "qt" in order[before + 1 : after], order
