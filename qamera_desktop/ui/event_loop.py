"""The app's asyncio loop: stock `qasync.QEventLoop` on the Qt event loop of the GUI thread.

One change only: `asyncio.to_thread` runs on a plain ThreadPoolExecutor. qasync's own default,
a QThreadExecutor, is shut down only by `loop.close()`, and a loop that is never closed (the test
session's) leaves its QThreads running at exit, which aborts the interpreter ("QThread: Destroyed
while thread is still running"). Plain threads are joined by concurrent.futures at exit.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import qasync
from PySide6.QtWidgets import QApplication

IO_THREADS = 4
IO_THREAD_PREFIX = "qamera-io"


def make_event_loop(app: QApplication, already_running: bool = False) -> asyncio.AbstractEventLoop:
    """The loop of `app`; `already_running` when Qt's loop already runs (pytest-qt's sessions)."""
    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app, already_running=already_running)
    loop.set_default_executor(ThreadPoolExecutor(IO_THREADS, thread_name_prefix=IO_THREAD_PREFIX))
    return loop
