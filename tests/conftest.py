"""Session-wide test set-up: offscreen Qt, one qasync loop for the whole run, an `arun` helper.

Order matters: the environment is set before anything imports Qt, and PySide6 is imported before
qasync (ARCHITECTURE.md, tests and benchmarks).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterator
from typing import Any, Protocol, TypeVar

os.environ["QT_QPA_PLATFORM"] = os.environ.get("QAMERA_TEST_QPA", "offscreen")
os.environ["QT_API"] = "pyside6"
os.environ.setdefault("QAMERA_NO_KEYRING", "1")  # tests never touch the developer's keyring

import keyring.backends.fail
import PySide6.QtWidgets
import pytest
import qasync  # noqa: F401  (imported after PySide6, as the app does)

from qamera_desktop.ui.event_loop import make_event_loop
from tests.unit.core.memory_keyring import MemoryKeyring, use_keyring

T = TypeVar("T")


class AsyncRunner(Protocol):
    def __call__(self, coro: Coroutine[Any, Any, T], timeout: float = ...) -> T: ...


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """A working keyring, in memory (never the developer's), for the key store and the app."""
    monkeypatch.delenv("QAMERA_NO_KEYRING", raising=False)
    monkeypatch.delenv("QAMERA_API_KEY", raising=False)
    backend = MemoryKeyring()
    previous = use_keyring(backend)
    yield backend
    use_keyring(previous)


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No keyring backend works, as on a bare Linux session."""
    monkeypatch.delenv("QAMERA_NO_KEYRING", raising=False)
    previous = use_keyring(keyring.backends.fail.Keyring())
    yield
    use_keyring(previous)


@pytest.fixture(scope="session")
def qt_loop(qapp: PySide6.QtWidgets.QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """The one qasync loop of the session. Never stopped: stop() would quit the QApplication."""
    loop = make_event_loop(qapp, already_running=True)  # the app's loop, as the app makes it
    asyncio.set_event_loop(loop)
    return loop


@pytest.fixture
def arun(qt_loop: asyncio.AbstractEventLoop, qtbot: Any) -> Iterator[AsyncRunner]:
    """Run a coroutine on the session loop while Qt processes events; return its result."""

    def run(coro: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
        task = qt_loop.create_task(coro)
        qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        return task.result()

    yield run
    leftovers = [t for t in asyncio.all_tasks(qt_loop) if not t.done()]
    for task in leftovers:
        task.cancel()
    if leftovers:
        qtbot.waitUntil(lambda: all(t.done() for t in leftovers), timeout=5000)
