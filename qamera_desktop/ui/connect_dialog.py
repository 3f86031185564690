"""Connect a Qamera account: the API key (masked, with show/hide), the server address and a
profile name, each checked as it is typed; "Test and save" lists the account's products once
(`core/connection_check.py`) and only then saves the profile and stores the key.

- The button is enabled only while the key has the `mk_live_<id>.<secret>` form, the address is
  allowed (https, or http on this computer) and the name is free.
- The test runs on the app's asyncio loop; Cancel (or Esc) stops it at once and keeps the dialog.
  A failure says exactly what failed, keeps everything typed, and puts the focus where the fix is
  (the key for 401/403, the address for TLS, DNS, refused, timeout, not a Qamera server).
- Where the key goes: the OS keyring. Where none works, the dialog says so and offers "this
  session only" (chosen by default) or "a file only you can read", which the designer must pick.
- On success `connected` carries a `ConnectedAccount` (the saved profile, the key, where it was
  stored, the check's result), then the dialog accepts. open() it; never exec().

Keyboard: Tab reaches every control (key, Show, address, name, the storage choice, the buttons),
Enter tests, Esc cancels the test or, when none runs, closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum, auto

from PySide6.QtCore import Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from qamera_desktop.api.api_key import KEY_PREFIX, ApiKey
from qamera_desktop.api.base_url import DEFAULT_BASE_URL
from qamera_desktop.core.background_tasks import BackgroundTasks
from qamera_desktop.core.connection_check import (
    CheckResult,
    Outcome,
    check_connection,
    key_problem,
    url_problem,
)
from qamera_desktop.core.key_store import KeyPlace, KeyringState, KeyStore, SavedKey
from qamera_desktop.core.profiles import Profile, ProfileStore
from qamera_desktop.ui.catalogue_picker import MessageLine, Tone
from qamera_desktop.ui.theme import error_colour

log = logging.getLogger(__name__)

Checker = Callable[[str, ApiKey], Awaitable[CheckResult]]
TEST_TEXT = "&Test and save"
TESTING_TEXT = "Testing…"
RESULT_LINES = 4
DEFAULT_NAME = "Qamera"
NAME_HINT = "Its name in the app's list of accounts."

# where the focus goes after each failure: the field that holds the fix
_KEY_FAILURES = {Outcome.BAD_KEY, Outcome.MISSING_SCOPE}
_ADDRESS_FAILURES = {
    Outcome.INVALID_INPUT,
    Outcome.TLS,
    Outcome.UNKNOWN_HOST,
    Outcome.REFUSED,
    Outcome.NOT_QAMERA,
    Outcome.TIMEOUT,
}


@dataclass(frozen=True, slots=True)
class ConnectedAccount:
    """What the dialog made: the saved profile, its key, where the key went, the check."""

    profile: Profile
    key: ApiKey
    saved: SavedKey
    check: CheckResult


class _Phase(Enum):
    IDLE = auto()
    TESTING = auto()
    SAVING = auto()  # the check passed: the profile and the key are being written


def _unique_name(profiles: ProfileStore, base: str) -> str:
    taken = {p.name.casefold() for p in profiles.profiles}
    if base.casefold() not in taken:
        return base
    n = 2
    while f"{base} {n}".casefold() in taken:
        n += 1
    return f"{base} {n}"


class ConnectDialog(QDialog):
    """Connect an account (a new profile, or `profile` again with a new key or address)."""

    connected = QtSignal(object)  # ConnectedAccount

    def __init__(
        self,
        profiles: ProfileStore,
        keys: KeyStore,
        *,
        profile: Profile | None = None,
        check: Checker = check_connection,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect your Qamera account")
        self.setMinimumWidth(560)
        self._profiles = profiles
        self._keys = keys
        self._profile = profile
        self._check = check
        self._phase = _Phase.IDLE
        self._test: asyncio.Task[None] | None = None
        self.tasks = BackgroundTasks(self._task_failed)
        self.last_result: CheckResult | None = None

        self.intro = QLabel()
        self.intro.setWordWrap(True)

        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("mk_live_…")
        self.key_edit.setAccessibleName("API key")
        self.show_key = QToolButton()
        self.show_key.setCheckable(True)
        self.show_key.setText("&Show")
        self.show_key.setToolTip("Show or hide the key")
        self.show_key.setAccessibleName("Show the key")
        self.show_key.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # reached by Tab too
        self.show_key.toggled.connect(self._toggle_shown)
        key_row = QHBoxLayout()
        key_row.setContentsMargins(0, 0, 0, 0)
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.show_key)
        self.key_message = MessageLine()

        self.url_edit = QLineEdit(profile.base_url if profile and profile.base_url else "")
        if not self.url_edit.text():
            self.url_edit.setText(DEFAULT_BASE_URL)
        self.url_edit.setAccessibleName("Server address")
        self.url_message = MessageLine()

        name = profile.name if profile is not None else _unique_name(profiles, DEFAULT_NAME)
        self.name_edit = QLineEdit(name)
        self.name_edit.setAccessibleName("Profile name")
        self.name_message = MessageLine()

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("API &key", key_row)
        form.addRow("", self.key_message)
        form.addRow("Se&rver", self.url_edit)
        form.addRow("", self.url_message)
        form.addRow("Profile &name", self.name_edit)
        form.addRow("", self.name_message)
        key_label = form.labelForField(key_row)
        if isinstance(key_label, QLabel):
            key_label.setBuddy(self.key_edit)

        self.storage_note = QLabel()
        self.storage_note.setWordWrap(True)
        self.session_only = QRadioButton("This session &only: type the key again next time")
        self.file_store = QRadioButton(
            "A &file only you can read, in the app's data folder (owner-only permissions)"
        )
        self.session_only.setChecked(True)  # the file is never chosen for the designer
        self._storage_group = QButtonGroup(self)
        self._storage_group.addButton(self.session_only)
        self._storage_group.addButton(self.file_store)
        storage = QVBoxLayout()
        storage.setContentsMargins(0, 4, 0, 4)
        storage.addWidget(self.storage_note)
        storage.addWidget(self.session_only)
        storage.addWidget(self.file_store)
        self.storage = QWidget()
        self.storage.setLayout(storage)

        self.result_label = QLabel()
        self.result_label.setObjectName("result")
        self.result_label.setWordWrap(True)
        self.result_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.result_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.result_label.setFixedHeight(
            self.result_label.fontMetrics().lineSpacing() * RESULT_LINES + 4
        )
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setAccessibleName("Connection test result")

        self.test_button = QPushButton(TEST_TEXT)
        self.test_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.buttons = QDialogButtonBox()
        self.buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.test_button.clicked.connect(self.start_test)
        self.cancel_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addWidget(self.storage)
        layout.addWidget(self.result_label)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self.setTabOrder(self.key_edit, self.show_key)
        self.setTabOrder(self.show_key, self.url_edit)
        self.setTabOrder(self.url_edit, self.name_edit)
        self.setTabOrder(self.name_edit, self.session_only)
        self.setTabOrder(self.session_only, self.file_store)
        self.setTabOrder(self.file_store, self.test_button)

        for edit in (self.key_edit, self.url_edit, self.name_edit):
            edit.textChanged.connect(self.revalidate)
        self.show_keyring_state(keys.keyring_state())
        self.revalidate()
        self.key_edit.setFocus()

    # -- the fields ---------------------------------------------------------------------------
    @property
    def testing(self) -> bool:
        return self._phase is not _Phase.IDLE

    @property
    def fallback(self) -> KeyPlace:
        """Where the key goes if the keyring does not work: what the designer chose."""
        return KeyPlace.FILE if self.file_store.isChecked() else KeyPlace.SESSION

    def show_keyring_state(self, state: KeyringState) -> None:
        """The storage choice appears only where no keyring works, saying why."""
        self.storage.setVisible(not state.works)
        where = " in your system's keyring" if state.works else ""
        self.intro.setText(
            f"Paste an API key of your Qamera account. The app tests it before keeping it{where}."
        )
        if not state.works:
            self.storage_note.setText(
                f"{state.problem or 'No keyring works here.'} Where should the key be kept?"
            )

    def _toggle_shown(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.key_edit.setEchoMode(mode)
        self.show_key.setText("&Hide" if shown else "&Show")

    def revalidate(self) -> bool:
        """Check the three fields as typed; enable the button when all are good."""
        typed = self.key_edit.text()
        key = key_problem(typed)
        if key is None:
            self.key_message.show_message("✓ The key has the right form.", Tone.HINT)
        elif KEY_PREFIX.startswith(typed.strip()):  # empty, or the prefix still being typed
            self.key_message.show_message(key, Tone.HINT)
        else:
            self.key_message.show_message(key, Tone.ERROR)
        url = url_problem(self.url_edit.text())
        if url is None:
            self.url_message.show_message(
                "https:// is required, except for a server on this computer.", Tone.HINT
            )
        else:
            self.url_message.show_message(url, Tone.ERROR)
        own = self._profile.id if self._profile is not None else None
        name = self._profiles.name_problem(self.name_edit.text(), but=own)
        self.name_message.show_message(name or NAME_HINT, Tone.ERROR if name else Tone.HINT)
        ready = key is None and url is None and name is None
        self.test_button.setEnabled(ready and not self.testing)
        return ready

    # -- the test ------------------------------------------------------------------------------
    def start_test(self) -> None:
        if self.testing or not self.revalidate():
            return
        key = ApiKey(self.key_edit.text())
        self._set_phase(_Phase.TESTING)
        self._show_result("Testing the connection…", error=False)
        self._test = self.tasks.start(
            self._run(self.url_edit.text().strip(), key), "Testing the connection"
        )
        self._test.add_done_callback(self._test_ended)

    async def _run(self, base_url: str, key: ApiKey) -> None:
        account: ConnectedAccount | None = None
        try:
            result = await self._check(base_url, key)
            self.last_result = result
            if result.ok:
                self._set_phase(_Phase.SAVING)
                self._show_result(f"{result.message} Saving…", error=False)
                account = await self._save(base_url, key, result)
            else:
                self._failed(result)
        finally:
            self._set_phase(_Phase.IDLE)
        if account is not None:
            self.connected.emit(account)
            self.accept()

    def _test_ended(self, task: asyncio.Task[None]) -> None:
        """Also for a test cancelled before it even started (its `finally` never ran)."""
        self._test = None
        if task.cancelled():
            self._set_phase(_Phase.IDLE)
            self._show_result("Test cancelled. Nothing was saved.", error=False)

    async def _save(
        self, base_url: str, key: ApiKey, result: CheckResult
    ) -> ConnectedAccount | None:
        """Write the profile, then store its key (off the GUI thread: the keyring may block);
        a key that cannot be stored takes the new profile back out."""
        name = self.name_edit.text()
        try:
            if self._profile is None:
                profile = self._profiles.add(name, base_url)
            else:
                profile = self._profiles.update(self._profile.id, name=name, base_url=base_url)
        except ValueError as exc:
            self._show_result(str(exc), error=True)
            self.name_edit.setFocus()
            return None
        try:
            saved = await asyncio.shield(
                asyncio.to_thread(self._keys.save, profile.id, key, fallback=self.fallback)
            )
        except OSError as exc:
            log.warning("the key could not be stored (%s)", type(exc).__name__)
            if self._profile is None:
                self._profiles.remove(profile.id, keys=self._keys, delete_data=False)
            self._show_result(f"The key could not be stored: {exc.strerror or exc}.", error=True)
            return None
        return ConnectedAccount(profile, key, saved, result)

    def _failed(self, result: CheckResult) -> None:
        self._show_result(result.message, error=True)
        if result.outcome in _KEY_FAILURES:
            self.key_edit.setFocus()
        elif result.outcome in _ADDRESS_FAILURES:
            self.url_edit.setFocus()

    def cancel_test(self) -> None:
        """Stop a running test (not a save under way: it is quick and must not be cut)."""
        if self._phase is _Phase.TESTING and self._test is not None:
            self._test.cancel()

    def reject(self) -> None:
        """Cancel / Esc: stop the test when one runs (the dialog stays), else close."""
        if self._phase is _Phase.TESTING:
            self.cancel_test()
            return
        if self._phase is _Phase.SAVING:
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        """The window's close button closes, stopping a test on the way."""
        if self._phase is _Phase.SAVING:
            event.ignore()
            return
        self.cancel_test()
        self._phase = _Phase.IDLE
        super().closeEvent(event)

    def _set_phase(self, phase: _Phase) -> None:
        self._phase = phase
        busy = phase is not _Phase.IDLE
        self.test_button.setText(TESTING_TEXT if busy else TEST_TEXT)
        for edit in (self.key_edit, self.url_edit, self.name_edit):
            edit.setReadOnly(busy)
        for control in (self.show_key, self.session_only, self.file_store):
            control.setEnabled(not busy)
        self.cancel_button.setEnabled(phase is not _Phase.SAVING)
        self.revalidate()

    def _show_result(self, text: str, *, error: bool) -> None:
        colour = error_colour(self.palette())
        self.result_label.setStyleSheet(f"color: {colour}" if error else "")
        self.result_label.setText(text)
        self.result_label.setToolTip(text)

    def _task_failed(self, what: str, _exc: BaseException) -> None:
        self._show_result(f"{what} failed unexpectedly (details in the log).", error=True)

    async def aclose(self) -> None:
        await self.tasks.cancel_all()
