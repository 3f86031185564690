"""Preferences (Ctrl+,) in a real window on the real sandbox: each choice acts on the app at once,
is written to the settings file at once, and holds after a restart on the same file.

Theme, keyboard shortcuts (typed into the key editor as a designer does: a clash refused with the
name of the action that holds the key, Restore defaults), the thumbnail cache (its use measured,
its limit trimming it by the cache's own rule, Clear), notifications (the taskbar alert and the
tray message at the end of a real shoot) and the defaults of a new shoot.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from qamera_desktop.api.shoot_request import DEFAULT_COUNT, ShootRequest
from qamera_desktop.core.settings import Settings, SettingsStore, Theme
from qamera_desktop.core.thumbnails.disk_cache import LOW_WATER, DiskCache
from qamera_desktop.ui import preferences_dialog
from qamera_desktop.ui.actions import ACTIONS, ActionId, custom_keys, spec_of
from qamera_desktop.ui.preferences_dialog import MB, PreferencesDialog, folder_bytes
from qamera_desktop.ui.theme import apply_theme, banner_style, is_dark
from tests.ui.helpers import active_window, choose, click, focus_widget, wait_finished

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture(autouse=True)
def system_theme_after() -> Iterator[None]:
    """The theme is the whole application's: every test leaves it as the platform made it."""
    yield
    apply_theme(Theme.SYSTEM)


def open_preferences(qtbot, window) -> PreferencesDialog:
    """Ctrl+, from wherever the focus is in the window."""
    qtbot.keyClick(grid_of(qtbot, window), Qt.Key.Key_Comma, CTRL)
    dialog = window.preferences_dialog
    assert dialog is not None, "Ctrl+, opened no Preferences"
    qtbot.waitUntil(lambda: dialog.isVisible() and active_window() is dialog)
    return dialog


def close_preferences(qtbot, dialog: PreferencesDialog) -> None:
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)


def grid_of(qtbot, window) -> QWidget:
    """The keyboard back in the window, on the grid (as after a click on a thumbnail)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: active_window() is window)
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus)
    return window.grid


def saved(app) -> Settings:
    """The settings file as a restarted app would read it now (the window writes its changes
    with the next batch, ui/settings_writer.py, and at once when Preferences closes)."""
    return SettingsStore(app.settings_store.path).load()


def keys_of(window, action_id: ActionId) -> list[str]:
    return [
        k.toString(QKeySequence.SequenceFormat.PortableText)
        for k in window.keys[action_id].shortcuts()
    ]


def type_key(qtbot, dialog: PreferencesDialog, action_id: ActionId, key: str) -> str:
    """Choose `action_id` in the Keyboard tab and press `key` ("Ctrl+K") in the key editor, as a
    designer does; the message the dialog shows after."""
    dialog.tabs.setCurrentIndex(1)
    dialog.key_filter.clear()
    dialog.choose_action(action_id)
    assert dialog.chosen_action() is action_id
    click(qtbot, dialog.key_edit)
    qtbot.waitUntil(dialog.key_edit.hasFocus)
    combination = QKeySequence(key)[0]
    qtbot.keyClick(focus_widget(), combination.key(), combination.keyboardModifiers())
    return dialog.key_message.text()


# -- opening -----------------------------------------------------------------------------------
def test_ctrl_comma_opens_preferences_on_the_settings_in_use(qtbot, make_app):
    app = make_app()
    window = app.window
    dialog = open_preferences(qtbot, window)
    assert dialog.windowTitle() == "Preferences"
    assert dialog.theme.currentText() == "Follow the system"
    assert dialog.notifications.isChecked()
    assert dialog.cache_limit.value() == 512
    assert (dialog.industry.currentText(), dialog.count.value()) == ("", DEFAULT_COUNT)
    # every row of the table of actions, with the keys bound now
    table = dialog.key_table
    assert table.rowCount() == len(ACTIONS)
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == [s.text for s in ACTIONS]
    find_row = next(r for r, s in enumerate(ACTIONS) if s.id is ActionId.FIND)
    assert table.item(find_row, 2).text() == "Ctrl+F"

    close_preferences(qtbot, dialog)
    assert not dialog.isVisible()
    # Ctrl+, again: the same dialog, shown again
    assert open_preferences(qtbot, window) is dialog
    close_preferences(qtbot, dialog)


# -- theme -------------------------------------------------------------------------------------
def test_dark_theme_darkens_the_app_and_the_banner_and_system_brings_it_back(qtbot, make_app):
    app = make_app()
    window = app.window
    assert window.banner.isVisible()  # the demo banner
    assert not is_dark(QApplication.palette())
    light_banner = window.banner.styleSheet()
    assert light_banner == banner_style(window.palette())

    dialog = open_preferences(qtbot, window)
    choose(qtbot, dialog.theme, "Dark")
    assert is_dark(QApplication.palette())
    qtbot.waitUntil(lambda: is_dark(window.palette()))  # widgets follow with the next events
    assert is_dark(dialog.palette())
    qtbot.waitUntil(lambda: window.banner.styleSheet() != light_banner)
    assert window.banner.styleSheet() == banner_style(window.palette())
    assert "#3d3110" in window.banner.styleSheet()  # the banner's dark background
    qtbot.waitUntil(lambda: saved(app).theme == "dark")

    choose(qtbot, dialog.theme, "Follow the system")
    assert not is_dark(QApplication.palette())
    qtbot.waitUntil(lambda: not is_dark(window.palette()))
    qtbot.waitUntil(lambda: window.banner.styleSheet() == light_banner)
    qtbot.waitUntil(lambda: saved(app).theme == "system")
    close_preferences(qtbot, dialog)


def test_a_refused_key_message_is_red_that_reads_on_light_and_dark(qtbot, make_app):
    app = make_app()
    dialog = open_preferences(qtbot, app.window)
    message = type_key(qtbot, dialog, ActionId.FIND, "Ctrl+E")
    assert message.startswith("Not changed")
    assert "#c92a2a" in dialog.key_message.styleSheet()  # dark red on the light window
    dialog.tabs.setCurrentIndex(0)
    choose(qtbot, dialog.theme, "Dark")
    qtbot.waitUntil(lambda: "#ff8080" in dialog.key_message.styleSheet())  # light red on dark
    close_preferences(qtbot, dialog)


# -- keyboard shortcuts ------------------------------------------------------------------------
def test_a_key_typed_in_preferences_works_in_the_window_and_after_a_restart(
    qtbot, make_app, tmp_path
):
    settings_path = tmp_path / "shortcuts.json"
    first = make_app(settings_path=settings_path)
    window = first.window
    dialog = open_preferences(qtbot, window)

    message = type_key(qtbot, dialog, ActionId.FIND, "Ctrl+K")
    assert message == "“Find”: Ctrl+K."
    assert keys_of(window, ActionId.FIND) == ["Ctrl+K"]
    find_row = next(r for r, s in enumerate(ACTIONS) if s.id is ActionId.FIND)
    cell = dialog.key_table.item(find_row, 2)
    assert cell.text() == "Ctrl+K"
    assert cell.font().bold()  # not its default
    qtbot.waitUntil(lambda: saved(first).shortcuts == {"find": ("Ctrl+K",)})
    close_preferences(qtbot, dialog)

    # the new key does what Find does; the old one does nothing any more
    qtbot.keyClick(grid_of(qtbot, window), Qt.Key.Key_F, CTRL)
    assert not window.search.hasFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_K, CTRL)
    assert window.search.hasFocus()

    second = make_app(settings_path=settings_path)
    restarted = second.window
    assert keys_of(restarted, ActionId.FIND) == ["Ctrl+K"]
    qtbot.keyClick(grid_of(qtbot, restarted), Qt.Key.Key_K, CTRL)
    assert restarted.search.hasFocus()
    # the texts that name a key follow: the tooltip says the new key
    assert "Ctrl+K" in restarted.keys[ActionId.FIND].toolTip()


def test_a_key_another_action_holds_is_refused_with_its_name_and_nothing_changes(qtbot, make_app):
    app = make_app()
    window = app.window
    dialog = open_preferences(qtbot, window)
    before = window.keys.table()

    message = type_key(qtbot, dialog, ActionId.CONTACT_SHEET, "Ctrl+E")
    assert message == "Not changed: Ctrl+E is already the key of “Export”."
    assert window.keys.table() == before
    assert keys_of(window, ActionId.CONTACT_SHEET) == ["Ctrl+P"]
    assert keys_of(window, ActionId.EXPORT) == ["Ctrl+E"]
    assert window.keys.customized() == {}
    qtbot.waitUntil(lambda: saved(app).shortcuts == {})

    # a grid key the window's keys would shadow: refused with the grid action's name
    message = type_key(qtbot, dialog, ActionId.FIND, "Alt+1")
    assert message == (
        "Not changed: Alt+1 is already the key of “Reason: wrong side or view” in the grid."
    )
    # the grid's own navigation and a plain letter for a window action are refused too
    assert "moves in the grid" in type_key(qtbot, dialog, ActionId.FIND, "Ctrl+Home")
    assert "for typing in the search field" in type_key(qtbot, dialog, ActionId.FIND, "K")
    assert window.keys.table() == before
    qtbot.waitUntil(lambda: saved(app).shortcuts == {})
    close_preferences(qtbot, dialog)

    qtbot.keyClick(grid_of(qtbot, window), Qt.Key.Key_F, CTRL)  # Find still has its key
    assert window.search.hasFocus()


def test_restore_defaults_puts_every_default_key_back(qtbot, make_app):
    app = make_app()
    window = app.window
    dialog = open_preferences(qtbot, window)
    type_key(qtbot, dialog, ActionId.FIND, "Ctrl+K")
    type_key(qtbot, dialog, ActionId.PICK, "F7")
    type_key(qtbot, dialog, ActionId.EXPORT, "Ctrl+Shift+E")
    dialog.choose_action(ActionId.REFRESH)
    click(qtbot, dialog.no_key)
    assert keys_of(window, ActionId.REFRESH) == []
    qtbot.waitUntil(lambda: set(saved(app).shortcuts) == {"find", "pick", "export", "refresh"})
    qtbot.waitUntil(lambda: saved(app).shortcuts["refresh"] == ())

    click(qtbot, dialog.restore)
    assert dialog.key_message.text() == "Every action has its default keys again."
    for spec in ACTIONS:
        assert keys_of(window, spec.id) == [QKeySequence(k).toString() for k in spec.keys], spec
    assert window.keys.customized() == {}
    qtbot.waitUntil(lambda: saved(app).shortcuts == {})
    rows = range(dialog.key_table.rowCount())
    assert not any(dialog.key_table.item(r, 2).font().bold() for r in rows)
    close_preferences(qtbot, dialog)

    qtbot.keyClick(grid_of(qtbot, window), Qt.Key.Key_F, CTRL)
    assert window.search.hasFocus()


def test_a_saved_key_that_clashes_with_this_versions_table_is_skipped(
    qtbot, make_app, tmp_path, caplog
):
    """A settings file from another version: one key now taken by another action, one action that
    does not exist any more, one key that still fits."""
    path = tmp_path / "older.json"
    path.write_text(
        json.dumps({"shortcuts": {"find": ["Ctrl+E"], "gone": ["Ctrl+J"], "refresh": ["F6"]}})
    )
    usable, skipped = custom_keys(SettingsStore(path).load().shortcuts)
    assert usable == {ActionId.REFRESH: ("F6",)}
    assert len(skipped) == 2

    with caplog.at_level(logging.WARNING, logger="qamera_desktop.ui.main_window"):
        app = make_app(settings_path=path)
    window = app.window
    assert keys_of(window, ActionId.FIND) == list(spec_of(ActionId.FIND).keys)  # its default
    assert keys_of(window, ActionId.EXPORT) == ["Ctrl+E"]  # the holder keeps it
    assert keys_of(window, ActionId.REFRESH) == ["F6"]
    warnings = [r.getMessage() for r in caplog.records if "shortcut is not used" in r.getMessage()]
    assert len(warnings) == 2
    assert any("gone: no such action" in w for w in warnings)
    assert any("find" in w and "export" in w for w in warnings)

    qtbot.keyClick(grid_of(qtbot, window), Qt.Key.Key_F, CTRL)
    assert window.search.hasFocus()


# -- the thumbnail cache -----------------------------------------------------------------------
def fill_cache(folder: Path, count: int, size: int) -> list[Path]:
    """`count` thumbnail files of `size` bytes in the cache's own layout, the first the least
    recently used (sparse files: the size is what counts, not the blocks)."""
    files = []
    for n in range(count):
        name = f"{n:064x}.jpg"
        file = folder / name[:2] / name
        file.parent.mkdir(parents=True, exist_ok=True)
        with file.open("wb") as out:
            out.truncate(size)
        os.utime(file, (1_700_000_000 + n, 1_700_000_000 + n))
        files.append(file)
    return files


def cache_dialog(qtbot, window, folder: Path) -> PreferencesDialog:
    """Preferences on a cache folder of the test's own (the window's own one fills as the
    grid loads), otherwise the window's: its settings, keys and tasks."""
    dialog = PreferencesDialog(
        window.settings, window._save, window.keys, folder, window.tasks, parent=window
    )
    dialog.open()
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_the_cache_shows_its_use_a_lower_limit_trims_it_and_clear_empties_it(
    qtbot, make_app, tmp_path
):
    app = make_app()
    window = app.window
    folder = tmp_path / "cache"
    files = fill_cache(folder, 100, MB)  # 100 MB, the oldest first
    (folder / "readme.txt").write_bytes(b"x" * 1000)  # not a thumbnail: never the cache's to delete

    dialog = cache_dialog(qtbot, window, folder)
    qtbot.waitUntil(lambda: dialog.cache_usage.text() == "100 MB of 512 MB")

    # the limit typed lower: the least recently used files go, down to 90% of it
    dialog.cache_limit.setFocus()
    dialog.cache_limit.selectAll()
    qtbot.keyClicks(dialog.cache_limit, "64")
    qtbot.keyClick(dialog.cache_limit, Qt.Key.Key_Return)
    kept = int(64 * LOW_WATER)  # 57 files of 1 MB
    qtbot.waitUntil(lambda: dialog.cache_usage.text() == f"{kept} MB of 64 MB")
    assert [f.exists() for f in files] == [False] * (100 - kept) + [True] * kept
    assert (folder / "readme.txt").exists()
    qtbot.waitUntil(lambda: saved(app).thumbnail_cache_mb == 64)
    assert window.settings.thumbnail_cache_mb == 64
    # Return applied the limit and closed Preferences (Close is its default button); it never
    # clicks Clear (it once did: the first push button was the dialog's default)
    assert not dialog.isVisible()

    dialog.open()
    qtbot.waitUntil(lambda: dialog.cache_usage.text() == f"{kept} MB of 64 MB")
    assert sum(f.exists() for f in files) == kept

    click(qtbot, dialog.clear_button)
    qtbot.waitUntil(lambda: dialog.cache_usage.text() == "less than 1 MB of 64 MB")
    assert not any(f.exists() for f in files)
    assert (folder / "readme.txt").read_bytes() == b"x" * 1000
    assert dialog.clear_button.isEnabled()


def test_the_limit_is_the_loaders_from_the_next_start(qtbot, make_app, tmp_path):
    path = tmp_path / "limit.json"
    first = make_app(settings_path=path)
    dialog = open_preferences(qtbot, first.window)
    dialog.cache_limit.setFocus()
    for _ in range(3):  # 512 -> 320 MB, one step of 64 MB each
        qtbot.keyClick(dialog.cache_limit, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: saved(first).thumbnail_cache_mb == 320)  # once the arrows stop
    # the window's own cache folder is measured
    qtbot.waitUntil(lambda: dialog.cache_usage.text().endswith(" of 320 MB"))
    close_preferences(qtbot, dialog)

    second = make_app(settings_path=path)
    assert second.window.settings.thumbnail_cache_mb == 320
    assert open_preferences(qtbot, second.window).cache_limit.value() == 320


# -- notifications -----------------------------------------------------------------------------
class RecordingTray(QSystemTrayIcon):
    """A tray that records its messages (the offscreen platform has no system tray)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.messages: list[tuple[str, str]] = []

    def supportsMessages(self) -> bool:
        return True

    def showMessage(self, title: str, text: str, *args: object) -> None:
        self.messages.append((title, text))


def finish_a_shoot_elsewhere(qtbot, app, arun) -> None:
    """A real 2-image shoot, finished while another window of the desktop is the active one."""
    elsewhere = QWidget()
    qtbot.addWidget(elsewhere)
    elsewhere.setWindowTitle("Another app")
    elsewhere.show()
    elsewhere.activateWindow()
    qtbot.waitUntil(lambda: active_window() is elsewhere)
    assert not app.window.isActiveWindow()
    before = len(app.finished)
    arun(app.window.submit_shoot(ShootRequest("prod_mug06", count=2), "Stoneware Mug"))
    wait_finished(qtbot, app, app.service.shoots()[0].local_id)
    qtbot.waitUntil(lambda: len(app.finished) > before)
    elsewhere.close()


@pytest.fixture
def alerts(monkeypatch) -> list[QWidget]:
    """Every QApplication.alert() (the taskbar flash, the Dock's bounce), recorded."""
    calls: list[QWidget] = []
    monkeypatch.setattr(QApplication, "alert", lambda widget, msec=0: calls.append(widget))
    return calls


def test_a_finished_shoot_alerts_with_notifications_on(qtbot, make_app, arun, alerts):
    app = make_app()
    tray = app.window.shoots.tray = RecordingTray(app.window)
    finish_a_shoot_elsewhere(qtbot, app, arun)
    assert alerts == [app.window]
    assert [title for title, _text in tray.messages] == ["Shoot finished: Stoneware Mug"]
    assert "Shoot finished: Stoneware Mug" in app.window.statusBar().currentMessage()


def test_notifications_off_a_finished_shoot_gives_no_tray_message_and_no_alert(
    qtbot, make_app, arun, alerts, tmp_path
):
    path = tmp_path / "quiet.json"
    first = make_app(settings_path=path)
    dialog = open_preferences(qtbot, first.window)
    click(qtbot, dialog.notifications)
    assert not dialog.notifications.isChecked()
    qtbot.waitUntil(lambda: saved(first).notifications is False)
    close_preferences(qtbot, dialog)

    # after a restart on that file, as the designer will meet it
    second = make_app(settings_path=path)
    assert second.window.settings.notifications is False
    tray = second.window.shoots.tray = RecordingTray(second.window)
    finish_a_shoot_elsewhere(qtbot, second, arun)
    assert alerts == []
    assert tray.messages == []
    # the window itself still says so
    assert "Shoot finished: Stoneware Mug" in second.window.statusBar().currentMessage()


# -- the defaults of a new shoot ---------------------------------------------------------------
def test_new_shoots_start_with_the_industry_and_count_chosen(qtbot, make_app, tmp_path):
    path = tmp_path / "defaults.json"
    first = make_app(settings_path=path)
    window = first.window
    dialog = open_preferences(qtbot, window)
    writes = window.settings_writer.writes
    dialog.industry.setFocus()
    qtbot.keyClicks(dialog.industry, "footwear")
    dialog.count.setFocus()
    dialog.count.selectAll()
    qtbot.keyClicks(dialog.count, "4")
    close_preferences(qtbot, dialog)  # written at once when Preferences closes
    assert saved(first).new_shoot_industry == "footwear"
    assert saved(first).new_shoot_count == 4
    # a keystroke is not a write: the 9 keys went to the file in a batch or two
    assert window.settings_writer.writes - writes <= 2

    def new_shoot_of(app):
        qtbot.waitUntil(app.window.new_shoot_action.isEnabled)
        qtbot.keyClick(grid_of(qtbot, app.window), Qt.Key.Key_N, CTRL)
        shoot = app.window.new_shoot_dialog
        assert shoot is not None
        qtbot.waitUntil(shoot.isVisible)
        return shoot

    shoot = new_shoot_of(first)
    assert (shoot.industry.currentText(), shoot.count.value()) == ("footwear", 4)
    assert (shoot.request().industry, shoot.request().count) == ("footwear", 4)
    with qtbot.waitSignal(shoot.finished):
        shoot.reject()

    second = make_app(settings_path=path)
    again = new_shoot_of(second)
    assert (again.industry.currentText(), again.count.value()) == ("footwear", 4)
    with qtbot.waitSignal(again.finished):
        again.reject()


def test_the_use_shown_is_the_last_jobs_a_slow_measure_never_shows_stale_bytes(
    qtbot, make_app, tmp_path, monkeypatch
):
    """A measure still counting when Clear is clicked (a big cache on a slow disk): its bytes
    are from before the Clear, and must not be the last word."""
    app = make_app()
    folder = tmp_path / "cache"
    fill_cache(folder, 20, MB)
    steps: list[str] = []
    cleared = threading.Event()

    def slow_measure(path: Path) -> int:
        steps.append("measure")
        counted = folder_bytes(path)
        cleared.wait(1.0)  # the Clear ends meanwhile, unless it waits for this measure
        steps.append("measured")
        return counted

    def clear(path: Path) -> int:
        steps.append("clear")
        DiskCache(path, 0).trim()  # clear_cache's own work, without the measure patched here
        left = folder_bytes(path)
        steps.append("cleared")
        cleared.set()
        return left

    monkeypatch.setattr(preferences_dialog, "folder_bytes", slow_measure)
    monkeypatch.setattr(preferences_dialog, "clear_cache", clear)
    dialog = cache_dialog(qtbot, app.window, folder)  # its showEvent measures
    qtbot.waitUntil(lambda: steps == ["measure"])
    click(qtbot, dialog.clear_button)
    qtbot.waitUntil(lambda: steps[-1:] == ["cleared"], timeout=10_000)
    qtbot.waitUntil(dialog.clear_button.isEnabled)
    assert steps == ["measure", "measured", "clear", "cleared"]  # one at a time, as asked
    assert dialog.cache_usage.text() == "0 MB of 512 MB"


def test_the_help_names_the_keys_bound_now(qtbot, make_app):
    """F1's few lines on the job follow a rebinding, as the sheet of keys below them does."""
    window = make_app().window
    window.keys.set_keys(ActionId.PICK, [QKeySequence("Ctrl+K")])
    window.keys[ActionId.HELP].trigger()
    dialog = window.shortcuts_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert "press Ctrl+K to pick" in dialog.text.text()
    reject = window.keys.key_text(ActionId.REJECT)
    assert f"{reject} to reject" in dialog.text.text()
    dialog.reject()
