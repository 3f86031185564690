"""The designer's own account, connected from inside the app: the real app controller (profiles,
key store, one window per profile) on the demo sandbox it starts itself, and a second real
sandbox standing in for a Qamera account. The connect dialog is typed into; the key goes to an
in-memory keyring; each profile's decisions stay in its own database; a relaunch opens the last
account with its stored key; removing it deletes its key and, when asked, its data; Ctrl+Q
ends the app cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from qamera_desktop.api import ApiKey
from qamera_desktop.core.app_paths import AppPaths
from qamera_desktop.core.key_store import SERVICE, KeyStore
from qamera_desktop.core.profiles import DEMO_PROFILE, DEMO_PROFILE_ID, ProfileStore, profile_paths
from qamera_desktop.core.review import Flag, with_flag
from qamera_desktop.sandbox import SandboxHandle, start_sandbox
from qamera_desktop.ui.app_controller import AppController
from qamera_desktop.ui.main_window import DEMO_BANNER
from tests.sandbox_fixtures import TEST_CONFIG
from tests.ui.helpers import active_window, app_controller

WAIT = 30_000


@pytest.fixture
def launch(qtbot: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Callable]:
    """Run the app controller on `tmp_path/data` as `qamera-desktop` would (no --demo)."""
    running: list[tuple[AppController, asyncio.Task[int]]] = []
    demos: list[SandboxHandle] = []

    def start_demo(folder: Path, _fast: bool) -> SandboxHandle:
        demos.append(start_sandbox(folder, TEST_CONFIG))
        return demos[-1]

    def run() -> tuple[AppController, asyncio.Task[int]]:
        controller = app_controller(tmp_path / "data", start_demo)
        task = qt_loop.create_task(controller.run())
        running.append((controller, task))
        qtbot.waitUntil(lambda: controller.client is not None or task.done(), timeout=WAIT)
        return controller, task

    yield run
    for controller, task in running:
        if not task.done():
            if controller.services is not None:
                controller.services.window.close()
            qtbot.waitUntil(task.done, timeout=WAIT)
    for demo in demos:
        demo.stop()


def listed(qtbot: Any, controller: AppController) -> None:
    qtbot.waitUntil(
        lambda: controller.services is not None and controller.services.window.model.rowCount() > 0,
        timeout=WAIT,
    )


def connect_by_dialog(qtbot: Any, controller: AppController, server: SandboxHandle) -> None:
    assert controller.services is not None
    window = controller.services.window
    window.accounts.connect_action.trigger()
    dialog = window.accounts.dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    # as a window manager would: the dialog takes the keys (offscreen, the window behind it
    # stays active, and its grid's Return would open the loupe)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: active_window() is dialog)
    for edit, text in (
        (dialog.url_edit, server.base_url),
        (dialog.key_edit, server.demo_key),
        (dialog.name_edit, "Studio"),
    ):
        edit.setFocus()
        edit.selectAll()
        qtbot.keyClick(edit, Qt.Key.Key_Backspace)
        qtbot.keyClicks(edit, text)
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)  # Enter tests and saves
    qtbot.waitUntil(lambda: controller.profile.name == "Studio", timeout=WAIT)


def switch_to(
    qtbot: Any, controller: AppController, name: str, *, by_status_bar: bool = False
) -> None:
    """Choose `name` in File → Switch account (or in the menu of the status bar's account
    button), as a mouse user does."""
    assert controller.services is not None
    accounts = controller.services.window.accounts
    menu = accounts.status_menu if by_status_bar else accounts.switch_menu
    if by_status_bar:
        assert accounts.status_button.isVisible()
    menu.aboutToShow.emit()
    if by_status_bar:  # it also offers to connect another
        assert accounts.connect_action in menu.actions()
    (action,) = [a for a in menu.actions() if a.text().startswith(name)]
    action.trigger()
    qtbot.waitUntil(lambda: controller.profile.name == name, timeout=WAIT)
    listed(qtbot, controller)


def test_connect_switch_back_and_forth_and_remove_an_account(
    qtbot, launch, sandbox, memory_keyring, tmp_path
):
    controller, task = launch()
    listed(qtbot, controller)
    assert controller.profile == DEMO_PROFILE
    demo_window = controller.services.window
    assert demo_window.banner.isVisible()
    assert "Connect your Qamera account" in DEMO_BANNER
    assert not demo_window.accounts.remove_action.isEnabled()  # the demo cannot be removed

    connect_by_dialog(qtbot, controller, sandbox)
    listed(qtbot, controller)
    studio = controller.profile
    studio_window = controller.services.window
    assert studio_window is not demo_window
    assert controller.client is not None
    assert controller.client.base_url == sandbox.base_url
    assert not studio_window.banner.isVisible()
    assert studio.name in studio_window.connection_label.text()
    assert memory_keyring.entries == {(SERVICE, studio.id): sandbox.demo_key}
    assert controller.demo is None  # the demo sandbox stops once its window has gone
    # a decision in Studio lands in Studio's own database
    picked = studio_window.model.image_at(0).id
    controller.services.reviews.decide([picked], lambda r: with_flag(r, Flag.PICK))
    data = AppPaths.resolve(tmp_path / "data")
    assert profile_paths(data, studio.id).database_file.exists()

    switch_to(qtbot, controller, "Demo sandbox")
    assert controller.services.reviews.get(picked).flag is Flag.NONE  # not mixed
    assert controller.services.window.banner.isVisible()

    switch_to(qtbot, controller, "Studio", by_status_bar=True)  # its key from the keyring
    assert controller.services.reviews.get(picked).flag is Flag.PICK

    window = controller.services.window
    assert window.accounts.remove_action.isEnabled()
    window.accounts.removeRequested.emit(studio.id, True)  # "Remove and delete its data"
    qtbot.waitUntil(lambda: controller.profile == DEMO_PROFILE, timeout=WAIT)
    qtbot.waitUntil(
        lambda: (
            ProfileStore(data).profiles == (DEMO_PROFILE,)
            and not profile_paths(data, studio.id).data_dir.exists()
        ),
        timeout=WAIT,
    )
    assert memory_keyring.entries == {}

    window = controller.services.window
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)  # Quit
    qtbot.waitUntil(task.done, timeout=WAIT)
    assert task.result() == 0


def test_a_relaunch_opens_the_last_account_with_its_key_from_the_keyring(
    qtbot, launch, sandbox, memory_keyring, tmp_path
):
    data = AppPaths.resolve(tmp_path / "data")
    data.ensure()
    studio = ProfileStore(data).add("Studio", sandbox.base_url)
    KeyStore(data.data_dir, environ={}).save(studio.id, ApiKey(sandbox.demo_key))
    ProfileStore(data).set_last_used(studio.id)

    controller, _task = launch()
    listed(qtbot, controller)
    assert controller.profile == studio
    assert controller.demo is None  # no sandbox started for an account
    assert controller.client is not None
    assert controller.client.base_url == sandbox.base_url


def test_an_account_without_a_stored_key_opens_the_demo_and_asks_for_it(
    qtbot, launch, sandbox, memory_keyring, tmp_path
):
    data = AppPaths.resolve(tmp_path / "data")
    data.ensure()
    studio = ProfileStore(data).add("Studio", sandbox.base_url)
    ProfileStore(data).set_last_used(studio.id)  # its key was for one session only

    controller, _task = launch()
    qtbot.waitUntil(lambda: controller.profile == DEMO_PROFILE, timeout=WAIT)
    listed(qtbot, controller)
    window = controller.services.window
    qtbot.waitUntil(lambda: window.accounts.dialog is not None, timeout=WAIT)
    dialog = window.accounts.dialog
    assert dialog.url_edit.text() == sandbox.base_url  # the same profile, to connect again
    assert studio.id != DEMO_PROFILE_ID
    window.close()  # the app ends with its window, and so does the dialog it left open
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None, timeout=WAIT)
