"""The connect dialog against the real sandbox: a good key is tested, saved and handed over; a bad
key says 401 and keeps everything typed; the read-only key connects; the key and the address are
checked as they are typed; the test can be cancelled; where no keyring works, the designer
chooses where the key goes; and all of it by keyboard."""

from __future__ import annotations

import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit

from qamera_desktop.api import ApiKey
from qamera_desktop.api.base_url import DEFAULT_BASE_URL
from qamera_desktop.core.app_paths import AppPaths
from qamera_desktop.core.connection_check import Outcome
from qamera_desktop.core.key_store import KEY_FILE_NAME, SERVICE, KeyPlace, KeyStore
from qamera_desktop.core.profiles import DEMO_PROFILE, ProfileStore
from qamera_desktop.sandbox import READONLY_API_KEY, SandboxHandle
from qamera_desktop.ui.connect_dialog import ConnectDialog, ConnectedAccount
from qamera_desktop.ui.theme import error_colour
from tests.ui.helpers import active_window, focus_widget, press

BAD_SECRET = "definitely-not-valid-77"
BAD_KEY = f"mk_live_wrong.{BAD_SECRET}"
WAIT = 15_000
PRODUCTS = "/api/external/products"


@pytest.fixture
def app_paths(tmp_path: Path) -> AppPaths:
    return AppPaths.resolve(tmp_path / "data")


@pytest.fixture
def make_dialog(qtbot: Any, arun: Any, app_paths: AppPaths) -> Iterator[Any]:
    made: list[ConnectDialog] = []

    def make(**kwargs: Any) -> ConnectDialog:
        dialog = ConnectDialog(
            ProfileStore(app_paths), KeyStore(app_paths.data_dir, environ={}), **kwargs
        )
        qtbot.addWidget(dialog)
        dialog.open()
        qtbot.waitExposed(dialog)
        dialog.activateWindow()
        qtbot.waitUntil(lambda: active_window() is dialog)
        made.append(dialog)
        return dialog

    yield make
    for dialog in made:
        arun(dialog.aclose())


def type_into(qtbot: Any, edit: QLineEdit, text: str) -> None:
    """Replace the text of `edit` by typing, as a person does."""
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


def fill(qtbot: Any, dialog: ConnectDialog, key: str, url: str) -> None:
    type_into(qtbot, dialog.url_edit, url)
    type_into(qtbot, dialog.key_edit, key)


def test_a_good_key_is_tested_saved_in_the_keyring_and_handed_over(
    qtbot, make_dialog, sandbox: SandboxHandle, memory_keyring, app_paths
):
    dialog = make_dialog()
    fill(qtbot, dialog, sandbox.demo_key, sandbox.base_url)
    type_into(qtbot, dialog.name_edit, "Studio")
    assert dialog.test_button.isEnabled()
    assert not dialog.storage.isVisible()  # the keyring works: no question to ask
    assert "before keeping it in your system's keyring" in dialog.intro.text()
    with qtbot.waitSignal(dialog.connected, timeout=WAIT) as signal:
        press(qtbot, Qt.Key.Key_Return)  # Enter tests
    account = signal.args[0]
    assert isinstance(account, ConnectedAccount)
    assert account.check.outcome is Outcome.CONNECTED
    assert account.key == ApiKey(sandbox.demo_key)
    assert account.saved.place is KeyPlace.KEYRING
    assert (account.profile.name, account.profile.base_url) == ("Studio", sandbox.base_url)
    assert ProfileStore(app_paths).profiles == (DEMO_PROFILE, account.profile)
    assert memory_keyring.entries == {(SERVICE, account.profile.id): sandbox.demo_key}
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.isVisible()


def test_a_bad_key_says_401_and_keeps_everything_typed(
    qtbot, make_dialog, sandbox, memory_keyring, app_paths
):
    dialog = make_dialog()
    fill(qtbot, dialog, BAD_KEY, sandbox.base_url)
    type_into(qtbot, dialog.name_edit, "Studio")
    dialog.url_edit.setFocus()
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.last_result is not None and not dialog.testing, timeout=WAIT)
    text = dialog.result_label.text()
    assert dialog.last_result.outcome is Outcome.BAD_KEY
    assert "refused this key (401: “Invalid API key”)" in text
    assert error_colour(dialog.palette()) in dialog.result_label.styleSheet()  # as an error
    assert BAD_SECRET not in text
    assert dialog.key_edit.text() == BAD_KEY  # everything typed is still there
    assert dialog.url_edit.text() == sandbox.base_url
    assert dialog.name_edit.text() == "Studio"
    assert focus_widget() is dialog.key_edit  # where the fix is
    assert dialog.isVisible()
    assert dialog.test_button.isEnabled()  # ready to test again
    assert ProfileStore(app_paths).profiles == (DEMO_PROFILE,)  # nothing saved
    assert memory_keyring.entries == {}


def test_the_read_only_key_connects_and_the_message_says_what_was_not_tested(
    qtbot, make_dialog, sandbox, memory_keyring
):
    dialog = make_dialog()
    fill(qtbot, dialog, READONLY_API_KEY, sandbox.base_url)
    with qtbot.waitSignal(dialog.connected, timeout=WAIT) as signal:
        press(qtbot, Qt.Key.Key_Return)
    account = signal.args[0]
    assert account.check.outcome is Outcome.CONNECTED
    assert "Whether it may start shoots shows at the first shoot" in account.check.message
    assert account.profile.name == "Qamera"  # the default name


def test_an_address_that_is_no_qamera_server_puts_the_focus_on_the_address(
    qtbot, make_dialog, sandbox, memory_keyring
):
    dialog = make_dialog()
    fill(qtbot, dialog, sandbox.demo_key, f"{sandbox.base_url}/not-here")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.last_result is not None and not dialog.testing, timeout=WAIT)
    assert dialog.last_result.outcome is Outcome.NOT_QAMERA
    assert "no Qamera API at this address" in dialog.result_label.text()
    assert focus_widget() is dialog.url_edit


def test_the_key_is_checked_as_it_is_typed_and_masked(qtbot, make_dialog, memory_keyring):
    dialog = make_dialog()
    assert dialog.url_edit.text() == DEFAULT_BASE_URL
    assert focus_widget() is dialog.key_edit
    assert dialog.key_edit.echoMode() is QLineEdit.EchoMode.Password
    assert not dialog.test_button.isEnabled()
    assert dialog.key_message.text() == "Paste your API key (mk_live_<id>.<secret>)."

    seen: dict[str, tuple[str, bool]] = {}
    for char in "mk_live_abc.secret9":
        qtbot.keyClicks(dialog.key_edit, char)
        seen[dialog.key_edit.text()] = (dialog.key_message.text(), dialog.test_button.isEnabled())
    assert seen["mk_"] == ("Keep typing: a key looks like mk_live_<id>.<secret>.", False)
    assert seen["mk_live_abc"][0].startswith("The key needs a dot between its id and its secret")
    assert seen["mk_live_abc."] == ("The secret after the dot is missing.", False)
    assert seen["mk_live_abc.s"] == ("✓ The key has the right form.", True)
    assert seen["mk_live_abc.secret9"][1]

    type_into(qtbot, dialog.key_edit, "sk_live_abc.secret")
    assert dialog.key_message.text() == "A Qamera API key starts with mk_live_."
    assert not dialog.test_button.isEnabled()


def test_show_and_hide_by_keyboard(qtbot, make_dialog, memory_keyring):
    dialog = make_dialog()
    qtbot.keyClicks(dialog.key_edit, "mk_live_abc.secret")
    press(qtbot, Qt.Key.Key_Tab)
    assert focus_widget() is dialog.show_key
    press(qtbot, Qt.Key.Key_Space)
    assert dialog.key_edit.echoMode() is QLineEdit.EchoMode.Normal
    assert dialog.show_key.text() == "&Hide"
    press(qtbot, Qt.Key.Key_Space)
    assert dialog.key_edit.echoMode() is QLineEdit.EchoMode.Password
    assert dialog.key_edit.text() == "mk_live_abc.secret"


@pytest.mark.parametrize(
    ("url", "message", "allowed"),
    [
        ("http://qamera.example.com", "must use https://", False),
        ("qamera.example.com", "must start with https://", False),
        ("", "The server address is empty.", False),
        ("https://qamera.example.com:8443/base", "https:// is required, except for a", True),
        ("http://localhost:8765", "https:// is required, except for a", True),
    ],
)
def test_the_address_is_checked_as_it_is_typed(
    qtbot, make_dialog, memory_keyring, url, message, allowed
):
    dialog = make_dialog()
    qtbot.keyClicks(dialog.key_edit, "mk_live_abc.secret")
    type_into(qtbot, dialog.url_edit, url)
    assert message in dialog.url_message.text()
    assert dialog.test_button.isEnabled() is allowed


def test_a_name_already_taken_is_refused(qtbot, make_dialog, memory_keyring, app_paths):
    ProfileStore(app_paths).add("Studio", "https://app.qamera.ai")
    dialog = make_dialog()
    assert dialog.name_edit.text() == "Qamera"
    qtbot.keyClicks(dialog.key_edit, "mk_live_abc.secret")
    type_into(qtbot, dialog.name_edit, "studio")
    assert dialog.name_message.text() == "There is already a profile named “studio”."
    assert not dialog.test_button.isEnabled()
    type_into(qtbot, dialog.name_edit, "")
    assert dialog.name_message.text() == "Give the profile a name."
    assert not dialog.test_button.isEnabled()


def test_cancel_stops_the_test_and_a_second_escape_closes(
    qtbot, make_dialog, sandbox, memory_keyring, app_paths
):
    sandbox.reconfigure(latency_ms=30_000)  # a server that takes its time
    dialog = make_dialog()
    fill(qtbot, dialog, sandbox.demo_key, sandbox.base_url)
    press(qtbot, Qt.Key.Key_Return)
    assert dialog.testing
    assert dialog.test_button.text() == "Testing…"
    assert not dialog.test_button.isEnabled()
    assert dialog.key_edit.isReadOnly()
    qtbot.waitUntil(lambda: sandbox.stats().count("GET", PRODUCTS) == 1, timeout=WAIT)
    press(qtbot, Qt.Key.Key_Escape)  # the request is at the server, waiting
    qtbot.waitUntil(lambda: not dialog.testing, timeout=WAIT)
    assert dialog.result_label.text() == "Test cancelled. Nothing was saved."
    assert dialog.isVisible()
    assert dialog.key_edit.text() == sandbox.demo_key
    assert not dialog.key_edit.isReadOnly()
    assert dialog.test_button.isEnabled()

    dialog.result_label.clear()
    press(qtbot, Qt.Key.Key_Return)
    press(qtbot, Qt.Key.Key_Escape)  # at once: before the test even started running
    qtbot.waitUntil(lambda: not dialog.testing, timeout=WAIT)
    assert dialog.result_label.text() == "Test cancelled. Nothing was saved."
    assert ProfileStore(app_paths).profiles == (DEMO_PROFILE,)
    assert memory_keyring.entries == {}
    with qtbot.waitSignal(dialog.rejected, timeout=WAIT):
        press(qtbot, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_tab_reaches_every_control_in_order(qtbot, make_dialog, no_keyring):
    dialog = make_dialog()
    qtbot.keyClicks(dialog.key_edit, "mk_live_abc.secret")
    reached = [focus_widget()]
    for _ in range(8):
        press(qtbot, Qt.Key.Key_Tab)
        reached.append(focus_widget())
    assert reached == [
        dialog.key_edit,
        dialog.show_key,
        dialog.url_edit,
        dialog.name_edit,
        dialog.session_only,  # the checked one of the storage choice (arrows move inside)
        dialog.test_button,
        dialog.cancel_button,
        dialog.key_edit,
        dialog.show_key,
    ]


def test_without_a_keyring_the_key_is_kept_for_this_session_unless_the_file_is_chosen(
    qtbot, make_dialog, sandbox, no_keyring, app_paths
):
    dialog = make_dialog()
    assert dialog.storage.isVisible()
    assert dialog.storage_note.text() == (
        "This computer has no working keyring (no password store found). Where should the key "
        "be kept?"
    )
    assert "keyring" not in dialog.intro.text()
    assert dialog.session_only.isChecked()
    assert not dialog.file_store.isChecked()
    fill(qtbot, dialog, sandbox.demo_key, sandbox.base_url)
    with qtbot.waitSignal(dialog.connected, timeout=WAIT) as signal:
        press(qtbot, Qt.Key.Key_Return)
    saved = signal.args[0].saved
    assert saved.place is KeyPlace.SESSION
    assert not (app_paths.data_dir / KEY_FILE_NAME).exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_the_file_store_is_used_only_when_chosen(
    qtbot, make_dialog, sandbox, no_keyring, app_paths
):
    dialog = make_dialog()
    fill(qtbot, dialog, sandbox.demo_key, sandbox.base_url)
    dialog.session_only.setFocus()
    press(qtbot, Qt.Key.Key_Down)  # the radio buttons move with the arrows
    assert dialog.file_store.isChecked()
    with qtbot.waitSignal(dialog.connected, timeout=WAIT) as signal:
        dialog.test_button.click()
    account = signal.args[0]
    assert account.saved.place is KeyPlace.FILE
    key_file = app_paths.data_dir / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    loaded = KeyStore(app_paths.data_dir, environ={}).load(account.profile.id)
    assert loaded is not None
    assert loaded.key == ApiKey(sandbox.demo_key)


def test_reconnecting_a_profile_keeps_its_id(
    qtbot, make_dialog, sandbox, memory_keyring, app_paths
):
    profile = ProfileStore(app_paths).add("Studio", "https://app.qamera.ai")
    dialog = make_dialog(profile=profile)
    assert dialog.name_edit.text() == "Studio"  # its own name is not "taken"
    assert dialog.url_edit.text() == "https://app.qamera.ai"
    fill(qtbot, dialog, sandbox.demo_key, sandbox.base_url)
    with qtbot.waitSignal(dialog.connected, timeout=WAIT) as signal:
        press(qtbot, Qt.Key.Key_Return)
    account = signal.args[0]
    assert account.profile.id == profile.id
    assert account.profile.base_url == sandbox.base_url
    assert ProfileStore(app_paths).get(profile.id) == account.profile
    assert memory_keyring.entries == {(SERVICE, profile.id): sandbox.demo_key}
