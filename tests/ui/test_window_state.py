"""The window's own state and how settings reach the disk (ui/main_window.py,
ui/settings_writer.py), through restarts on one settings file as the app makes them.

- The grid/details splitter, the Shoots dock (shown, hidden, moved to another side) and the size
  are saved as they change, so a second window started on the file (the first still running, as
  after a kill) opens as the first was left.
- Writes are debounced: a burst of changes (30 steps of the thumbnail slider) is a handful of
  writes, never more than one per interval, and the last value is on disk once the interval has
  passed; closing the window writes what is pending at once.
- A write the disk refuses is said, and the changes stay for the next write.
"""

from __future__ import annotations

import json
import math
import threading
import time

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from qamera_desktop.core.settings import Settings, SettingsStore
from qamera_desktop.ui.settings_writer import WRITE_EVERY_MS, SettingsWriter
from tests.ui.helpers import active_window

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def written(path) -> Settings:
    """What a restarted app would read."""
    return SettingsStore(path).load()


def wait_written(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.settings_writer.pending)


def toggle_shoots(qtbot, window) -> None:
    """Ctrl+Shift+S, the Shoots panel's key, pressed in the window."""
    window.activateWindow()
    qtbot.waitUntil(lambda: active_window() is window)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_S, CTRL_SHIFT)


def drag_splitter(qtbot, window, dx: int) -> None:
    """Drag the handle between the grid and the details `dx` pixels, with the mouse."""
    handle = window.browser.handle(1)
    start = handle.rect().center()
    end = start + QPoint(dx, 0)
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(handle, start + QPoint(dx // 2, 0))
    QTest.mouseMove(handle, end)
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=end)


# -- the window's state through a restart ------------------------------------------------------
def test_the_splitter_and_size_are_restored_as_they_were_left(qtbot, make_app, tmp_path):
    path = tmp_path / "state.json"
    first = make_app(settings_path=path)
    window = first.window
    window.resize(760, 540)
    before = window.browser.sizes()
    assert before[1] > 0  # the details are shown
    drag_splitter(qtbot, window, -150)
    dragged = window.browser.sizes()
    assert dragged[1] >= before[1] + 100, (before, dragged)

    # saved as it changed, with no close: the next window reads it from the file
    wait_written(qtbot, window)
    assert written(path).splitter_state
    second = make_app(settings_path=path)
    restored = second.window
    assert (restored.width(), restored.height()) == (760, 540)
    assert restored.browser.sizes() == dragged


def test_the_shoots_dock_is_restored_shown_moved_and_hidden(qtbot, make_app, tmp_path):
    path = tmp_path / "dock.json"
    first = make_app(settings_path=path)
    dock = first.window.shoots_dock
    assert not dock.isVisible()  # hidden at first, with no shoot in flight
    toggle_shoots(qtbot, first.window)
    qtbot.waitUntil(dock.isVisible)
    assert first.window.dockWidgetArea(dock) is Qt.DockWidgetArea.BottomDockWidgetArea
    # moved to the right side of the window (as a drag of its title bar ends)
    first.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    qtbot.waitUntil(dock.isVisible)
    wait_written(qtbot, first.window)

    second = make_app(settings_path=path)
    moved = second.window.shoots_dock
    assert moved.isVisible()
    assert second.window.dockWidgetArea(moved) is Qt.DockWidgetArea.RightDockWidgetArea

    toggle_shoots(qtbot, second.window)
    qtbot.waitUntil(lambda: not moved.isVisible())
    wait_written(qtbot, second.window)

    third = make_app(settings_path=path)
    assert not third.window.shoots_dock.isVisible()
    toggle_shoots(qtbot, third.window)  # shown again: still on the side it was moved to
    qtbot.waitUntil(third.window.shoots_dock.isVisible)
    area = third.window.dockWidgetArea(third.window.shoots_dock)
    assert area is Qt.DockWidgetArea.RightDockWidgetArea


def test_closing_the_window_saves_its_state_and_hiding_with_it_does_not_count(
    qtbot, make_app, tmp_path
):
    """The dock hides with its closing window: that is not the designer hiding it."""
    path = tmp_path / "close.json"
    first = make_app(settings_path=path)
    toggle_shoots(qtbot, first.window)
    qtbot.waitUntil(first.window.shoots_dock.isVisible)
    first.window.browser.setSizes([500, 260])  # no signal: only the close saves it
    sizes = first.window.browser.sizes()
    first.window.close()
    assert not first.window.settings_writer.pending  # written at close, not later

    second = make_app(settings_path=path)
    assert second.window.shoots_dock.isVisible()
    assert second.window.browser.sizes() == sizes


# -- debounced writes --------------------------------------------------------------------------
def test_thirty_slider_steps_are_a_handful_of_writes_and_the_last_one_is_on_disk(
    qtbot, make_app, tmp_path
):
    path = tmp_path / "slider.json"
    app = make_app(settings_path=path)
    window = app.window
    writer = window.settings_writer
    wait_written(qtbot, window)
    writes_before = writer.writes
    slider = window.size_slider
    slider.setFocus()
    assert slider.value() == 192
    steps = [Qt.Key.Key_Right] * 12 + [Qt.Key.Key_Left] * 18  # up to 384, down to 96
    seen = []
    started = time.monotonic()
    for key in steps:
        qtbot.keyClick(slider, key)
        seen.append(slider.value())
        qtbot.wait(15)  # a designer's hand: steps ~15 ms apart, events handled between them
    elapsed_ms = (time.monotonic() - started) * 1000
    assert all(a != b for a, b in zip([192, *seen[:-1]], seen, strict=True))  # each step a change
    assert seen[-1] == 96
    assert window.settings.thumb_size == 96  # the window knows at once

    wait_written(qtbot, window)
    writes = writer.writes - writes_before
    # at most one write per interval while the steps lasted, plus the one after the last step
    assert 1 <= writes <= math.ceil(elapsed_ms / WRITE_EVERY_MS) + 1, (writes, elapsed_ms)
    assert writes < len(steps) // 3
    assert written(path).thumb_size == 96
    assert json.loads(path.read_text())["thumb_size"] == 96


def test_closing_writes_what_is_pending_at_once(qtbot, make_app, tmp_path):
    path = tmp_path / "pending.json"
    app = make_app(settings_path=path)
    window = app.window
    wait_written(qtbot, window)
    writes = window.settings_writer.writes
    window.size_slider.setFocus()
    qtbot.keyClick(window.size_slider, Qt.Key.Key_PageUp)
    assert window.settings_writer.pending
    assert written(path).thumb_size == 192  # not yet on disk

    window.close()
    assert not window.settings_writer.pending
    assert written(path).thumb_size == 224
    assert window.settings_writer.writes == writes + 1  # one write, with everything pending


def test_a_refused_write_is_said_and_its_changes_wait_for_the_next(qtbot, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the settings' folder should be")
    failures: list[OSError] = []
    writer = SettingsWriter(
        SettingsStore(blocker / "settings.json"), failed=failures.append, interval_ms=20
    )
    writer.change(thumb_size=128)
    writer.change(sort="name")
    qtbot.waitUntil(lambda: len(failures) == 1)
    assert writer.pending
    assert writer.writes == 0

    blocker.unlink()
    writer.flush()
    assert not writer.pending
    assert writer.writes == 1
    saved = written(blocker / "settings.json")
    assert (saved.thumb_size, saved.sort) == (128, "name")
    writer.flush()  # nothing changed since: nothing written
    assert writer.writes == 1


def test_the_batched_write_is_done_off_the_gui_thread_and_flush_waits_for_it(qtbot, tmp_path):
    """The fsync of a batch never holds up the window; a flush (at close) is on disk when it
    returns, after any write still under way."""
    threads: list[str] = []

    class Recording(SettingsStore):
        def save(self, settings: Settings) -> None:
            threads.append(threading.current_thread().name)
            super().save(settings)

    path = tmp_path / "settings.json"
    writer = SettingsWriter(Recording(path), failed=lambda exc: None, interval_ms=20)
    writer.change(thumb_size=128)
    qtbot.waitUntil(lambda: not writer.pending)
    assert len(threads) == 1
    assert threads[0] != threading.main_thread().name
    assert written(path).thumb_size == 128
    writer.change(thumb_size=160)
    writer.flush()
    assert threads[1] == threading.main_thread().name
    assert written(path).thumb_size == 160
    assert writer.writes == 2
