"""Local first: the real app controller shows the designer's own images before its server is up.

A first run on a data folder lists the demo sandbox, paints its thumbnails (into the disk cache)
and quits cleanly (its listing kept in the profile's database). The second run's sandbox start
is held (the app's own `_start_demo`, behind an Event): before the sandbox exists, the grid
already shows the kept images, the same as last time, with the first screen of thumbnails painted
from the disk cache (the port of last time is closed: a download could only fail). Released, the
sandbox starts on the port of last time, the app connects and the listing stays: the grid never
empties on the way. A first run with nothing kept says that the sandbox is starting instead."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from qamera_desktop.app import _start_demo
from qamera_desktop.core.image_library import LibraryState, LoadState
from qamera_desktop.sandbox import SandboxHandle
from qamera_desktop.ui.app_controller import AppController
from qamera_desktop.ui.filter_bar import LOADING_PRODUCTS
from qamera_desktop.ui.main_window import MainWindow
from tests.ui.helpers import app_controller, choose

WAIT_MS = 30_000
HOLD_LIMIT_S = 120.0  # a held start gives up after this long, so no thread outlives a test run


class DemoStarts:
    """The controller's `start_demo`: the app's own (`_start_demo`: the port of last time),
    held while `hold()` is in force, until `release()`."""

    def __init__(self) -> None:
        self.started: list[SandboxHandle] = []
        self.asked = threading.Event()  # the controller has asked for the sandbox
        self._gate = threading.Event()
        self._gate.set()

    def hold(self) -> None:
        self.asked.clear()
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def __call__(self, folder: Path, fast: bool) -> SandboxHandle:
        self.asked.set()
        self._gate.wait(HOLD_LIMIT_S)
        self.started.append(_start_demo(folder, fast))
        return self.started[-1]


Launch = Callable[..., tuple[AppController, "asyncio.Task[int]"]]


@pytest.fixture
def demo_starts() -> Iterator[DemoStarts]:
    starts = DemoStarts()
    yield starts
    starts.release()


@pytest.fixture
def launch(
    qtbot: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path, demo_starts: DemoStarts
) -> Iterator[Launch]:
    """Run the app controller on `tmp_path/data` as `qamera-desktop` would (no --demo), with the
    test's `demo_starts`; returns as soon as its window is there."""
    running: list[tuple[AppController, asyncio.Task[int]]] = []

    def run(painted: Callable[[], None] | None = None) -> tuple[AppController, asyncio.Task[int]]:
        controller = app_controller(tmp_path / "data", demo_starts, painted)
        task = qt_loop.create_task(controller.run())
        running.append((controller, task))
        qtbot.waitUntil(lambda: controller.services is not None or task.done(), timeout=WAIT_MS)
        return controller, task

    yield run
    demo_starts.release()  # a held start would keep a controller from ever quitting
    for controller, task in running:
        if not task.done():
            quit_app(qtbot, controller, task)
    for handle in demo_starts.started:
        handle.stop()


def window_of(controller: AppController) -> MainWindow:
    assert controller.services is not None
    return controller.services.window


def quit_app(qtbot: Any, controller: AppController, task: asyncio.Task[int]) -> None:
    """Close the window, as the designer does; the controller closes everything and ends."""
    window_of(controller).close()
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    assert task.result() == 0


def shown_ids(window: MainWindow) -> list[str]:
    images = (window.model.image_at(row) for row in range(window.model.rowCount()))
    return [image.id for image in images if image is not None]


def first_screen(window: MainWindow) -> list[str]:
    """The thumbnail URLs of the visible cells (the done images': the others have none)."""
    images = (window.model.image_at(row) for row in window.grid.visible_rows())
    return [i.thumbnail for i in images if i is not None and i.is_done and i.thumbnail]


def thumbnail_states(window: MainWindow) -> set[str]:
    size = window.grid.request_size()
    return {window.loader.state(url, size) for url in first_screen(window)}


def painted_from_the_cache(window: MainWindow) -> bool:
    """The first screen is painted, every cell with its picture (none loading, none broken)."""
    return (
        window.model.rowCount() > 0
        and window.grid.first_screen_ready()
        and thumbnail_states(window) == {"ready"}
    )


class RowCounts:
    """The model's row count after every reset and every removal of rows: a grid that empties
    on the way shows a 0 here, however briefly."""

    def __init__(self, window: MainWindow) -> None:
        self.seen: list[int] = []
        model = window.model
        model.modelReset.connect(lambda: self.seen.append(model.rowCount()))
        model.rowsRemoved.connect(lambda *_: self.seen.append(model.rowCount()))


@dataclass(frozen=True)
class LastRun:
    """What the first run showed when it was quit."""

    product_id: str
    listed: list[str]
    screen: list[str]
    port: int


def run_and_quit(qtbot: Any, launch: Launch, demo_starts: DemoStarts) -> LastRun:
    """A first run: the designer chooses a product, its images and thumbnails come, Ctrl+Q."""
    controller, task = launch()
    window = window_of(controller)
    qtbot.waitUntil(lambda: bool(window.filters.products), timeout=WAIT_MS)
    choose(qtbot, window.product_combo, window.product_combo.itemText(1))
    product_id = window.filters.product_id()
    assert product_id is not None
    qtbot.waitUntil(
        lambda: (
            window.library.server_filter.product_id == product_id
            and window.library.state == LibraryState(LoadState.READY)
            and window.model.rowCount() > 0
            and window.grid.first_screen_ready()
        ),
        timeout=WAIT_MS,
    )
    assert thumbnail_states(window) == {"ready"}
    last = LastRun(
        product_id, shown_ids(window), first_screen(window), demo_starts.started[-1].port
    )
    assert last.screen
    quit_app(qtbot, controller, task)
    return last


def held_run(qtbot: Any, launch: Launch, demo_starts: DemoStarts) -> AppController:
    """A run whose sandbox start is held: returned once the app is at that start and the grid
    shows what it shows before the sandbox, its first screen painted."""
    demo_starts.hold()
    controller, _ = launch()
    window = window_of(controller)
    qtbot.waitUntil(demo_starts.asked.is_set, timeout=WAIT_MS)
    qtbot.waitUntil(window.grid.first_screen_ready, timeout=WAIT_MS)
    assert controller.client is None
    return controller


def test_the_kept_images_show_from_the_cache_before_the_sandbox_then_stay(
    qtbot: Any, launch: Launch, demo_starts: DemoStarts
) -> None:
    last = run_and_quit(qtbot, launch, demo_starts)

    controller = held_run(qtbot, launch, demo_starts)
    window = window_of(controller)
    assert len(demo_starts.started) == 1  # no sandbox of this run yet: the last one is stopped
    assert window.library.server_filter.product_id == last.product_id  # remembered
    assert window.filters.product_id() == last.product_id  # and said so, not "All products"
    assert window.product_combo.currentText() == LOADING_PRODUCTS
    assert window.connection_label.text() == "Connecting…"
    banner_at = window.banner.geometry()  # the demo's banner from the start: no jump later
    assert window.banner.isVisible()
    assert shown_ids(window) == last.listed  # the kept listing, in its order
    assert first_screen(window) == last.screen
    assert thumbnail_states(window) == {"ready"}  # from the disk cache: no server to ask
    assert window.library.state == LibraryState(LoadState.READY)  # nothing is asked yet
    kept_at = window.library.listed_at
    assert kept_at is not None

    rows = RowCounts(window)
    demo_starts.release()
    qtbot.waitUntil(
        lambda: (
            controller.client is not None
            and window.library.listed_at != kept_at  # the server's answer is applied
            and window.library.state == LibraryState(LoadState.READY)
        ),
        timeout=WAIT_MS,
    )
    assert demo_starts.started[-1].port == last.port  # the port of last time: the same URLs
    assert shown_ids(window) == last.listed
    assert first_screen(window) == last.screen
    assert thumbnail_states(window) == {"ready"}  # the same pictures, nothing loaded again
    assert 0 not in rows.seen, rows.seen  # the grid never emptied on the way
    assert window.banner.geometry() == banner_at
    assert window.connection_label.text().startswith("Connected")


def test_the_kept_images_are_not_covered_by_the_sandbox_start_message(
    qtbot: Any, launch: Launch, demo_starts: DemoStarts
) -> None:
    run_and_quit(qtbot, launch, demo_starts)
    controller = held_run(qtbot, launch, demo_starts)
    window = window_of(controller)
    assert window.model.rowCount() > 0
    assert window.grid.message_text() is None


def test_the_painted_call_comes_once_the_window_is_shown_before_the_server(
    qtbot: Any, launch: Launch, demo_starts: DemoStarts
) -> None:
    """app.py turns the garbage collector back on with it: it must come, once, and early."""
    calls: list[tuple[bool, bool]] = []  # (a window shown, the sandbox asked for) at the call

    def painted() -> None:
        shown = any(
            isinstance(w, MainWindow) and w.isVisible() for w in QApplication.topLevelWidgets()
        )
        calls.append((shown, demo_starts.asked.is_set()))

    demo_starts.hold()
    controller, _task = launch(painted)
    qtbot.waitUntil(demo_starts.asked.is_set, timeout=WAIT_MS)
    assert calls == [(True, False)]
    demo_starts.release()
    qtbot.waitUntil(lambda: window_of(controller).model.rowCount() > 0, timeout=WAIT_MS)
    assert len(calls) == 1


def test_a_first_start_with_nothing_kept_says_the_sandbox_is_starting(
    qtbot: Any, launch: Launch, demo_starts: DemoStarts
) -> None:
    controller = held_run(qtbot, launch, demo_starts)
    window = window_of(controller)
    assert window.grid.message_text() == "Starting the demo sandbox…"
    assert window.model.rowCount() == 0

    demo_starts.release()
    qtbot.waitUntil(lambda: window.model.rowCount() > 0, timeout=WAIT_MS)
    assert window.grid.message_text() is None


def test_a_thumbnail_not_in_the_cache_fails_until_the_sandbox_is_up_then_loads(
    qtbot: Any, launch: Launch, demo_starts: DemoStarts, tmp_path: Path
) -> None:
    """A kept image whose thumbnail left the disk cache cannot load while the sandbox (its CDN)
    is still starting: it is broken for that moment, and loads once the app is connected,
    without a refresh from the designer."""
    last = run_and_quit(qtbot, launch, demo_starts)
    gone = last.screen[0]
    removed = [p for p in (tmp_path / "data").rglob("*.jpg") if _is_thumbnail_of(p, gone)]
    assert removed
    for path in removed:
        path.unlink()

    controller = held_run(qtbot, launch, demo_starts)
    window = window_of(controller)
    size = window.grid.request_size()
    assert window.loader.state(gone, size) == "failed"  # the port of last time is closed
    assert thumbnail_states(window) == {"ready", "failed"}

    demo_starts.release()
    qtbot.waitUntil(lambda: window.loader.state(gone, size) == "ready", timeout=WAIT_MS)
    assert thumbnail_states(window) == {"ready"}


def test_the_details_picture_not_in_the_cache_loads_once_connected(
    qtbot: Any, launch: Launch, demo_starts: DemoStarts, tmp_path: Path
) -> None:
    """Every view showing a thumbnail that failed before the server was reached gets it once
    connected, not only the grid: here the details panel of the remembered image."""
    last = run_and_quit(qtbot, launch, demo_starts)
    chosen = last.listed[0]
    for path in (tmp_path / "data").rglob("*.jpg"):
        path.unlink()  # no picture of last time left: the details' one cannot load while held

    controller = held_run(qtbot, launch, demo_starts)
    window = window_of(controller)
    details = window.browser.details
    qtbot.waitUntil(lambda: details.image is not None and details.image.id == chosen)
    qtbot.waitUntil(lambda: details.preview.text() == "Image unavailable", timeout=WAIT_MS)

    demo_starts.release()
    qtbot.waitUntil(lambda: not details.preview.pixmap().isNull(), timeout=WAIT_MS)
    assert details.image is not None
    assert details.image.id == chosen


def _is_thumbnail_of(path: Path, url: str) -> bool:
    """Whether `path` is the disk cache's file of `url` at any size the grid asks for."""
    from qamera_desktop.core.thumbnails.disk_cache import cache_name
    from qamera_desktop.core.thumbnails.records import ThumbnailKey

    return any(path.name == cache_name(ThumbnailKey(url, size)) for size in range(64, 1025, 64))
