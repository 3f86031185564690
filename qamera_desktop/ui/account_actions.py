"""The account's place in the window: File → "Connect your Qamera account…", "Switch account" and
"Remove this account…", an "Accounts" button in the status bar (the same switch and connect, for
the mouse), and Help → About, "Open log folder" and "Copy diagnostics".

The window does not switch accounts itself: it asks (`switchRequested(profile id)`,
`connected(ConnectedAccount)`, `removeRequested(profile id, delete data)`) and the app controller
(ui/app_controller.py) closes this account's services and opens the other's. Until the controller
has told this room the profiles, the keys and the log (`set_context`), the account items are
disabled: the window is on screen before any of that is read.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import PySide6
from PySide6.QtCore import QObject, Qt, QUrl, qVersion
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMenu, QMessageBox, QStatusBar, QToolButton, QWidget

from qamera_desktop import __version__

if TYPE_CHECKING:
    from qamera_desktop.core.key_store import KeyStore
    from qamera_desktop.core.log_setup import LoggingSetup
    from qamera_desktop.core.profiles import Profile, ProfileStore

CONNECT_TEXT = "Connect your Qamera account…"


@dataclass(frozen=True, slots=True)
class AccountContext:
    """What the controller knows once the window is up: the profiles, the keys, the one open."""

    profiles: ProfileStore
    keys: KeyStore
    current: Profile
    base_url: str | None  # where the open profile is connected (the demo: its loopback port)


class AccountActions(QObject):
    switchRequested = QtSignal(str)  # a profile id
    connected = QtSignal(object)  # a ConnectedAccount from the connect dialog
    removeRequested = QtSignal(str, bool)  # a profile id, and whether to delete its local data

    def __init__(self, window: QWidget, status_bar: QStatusBar) -> None:
        super().__init__(window)
        self._window = window
        self._status = status_bar
        self._context: AccountContext | None = None
        self._logging: LoggingSetup | None = None
        self.connect_action = QAction(CONNECT_TEXT, self)
        self.connect_action.setToolTip(
            "Use your own Qamera account (the key stays in your keyring)"
        )
        self.connect_action.triggered.connect(lambda: self.open_connect_dialog())
        self.switch_menu = QMenu("Switch account")
        self.switch_menu.aboutToShow.connect(lambda: self._fill_switch_menu(self.switch_menu))
        # the status bar's "Accounts ▾", beside the connection's state (which names the account)
        self.status_button = QToolButton()
        self.status_button.setText("Accounts")
        self.status_button.setObjectName("accountButton")
        self.status_button.setAutoRaise(True)
        self.status_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys: File, Switch account
        self.status_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.status_button.setToolTip("Switch to another account, or connect one")
        self.status_menu = QMenu(self.status_button)
        self.status_menu.aboutToShow.connect(
            lambda: self._fill_switch_menu(self.status_menu, offer_connect=True)
        )
        self.status_button.setMenu(self.status_menu)
        self.status_button.hide()  # until the controller says which profile is open
        self.remove_action = QAction("Remove this account…", self)
        self.remove_action.triggered.connect(self._ask_remove)
        self.about_action = QAction("About Qamera Desktop", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self._about)
        self.open_logs_action = QAction("Open log folder", self)
        self.open_logs_action.triggered.connect(self._open_logs)
        self.diagnostics_action = QAction("Copy diagnostics", self)
        self.diagnostics_action.setToolTip(
            "Versions, the server and the last errors (never your key), for a support request"
        )
        self.diagnostics_action.triggered.connect(self.copy_diagnostics)
        self.dialog: QWidget | None = None
        self._enable()

    def install(self, file_menu: QMenu, help_menu: QMenu, quit_action: QAction) -> None:
        """The account items at the end of File (then Quit), the rest at the end of Help."""
        file_menu.addSeparator()
        file_menu.addAction(self.connect_action)
        file_menu.addMenu(self.switch_menu)
        file_menu.addAction(self.remove_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        help_menu.addSeparator()
        help_menu.addAction(self.open_logs_action)
        help_menu.addAction(self.diagnostics_action)
        help_menu.addAction(self.about_action)

    def set_context(self, context: AccountContext) -> None:
        self._context = context
        self.status_button.show()
        self._enable()

    def set_logging(self, setup: LoggingSetup | None) -> None:
        self._logging = setup
        self._enable()

    def _enable(self) -> None:
        context = self._context
        self.connect_action.setEnabled(context is not None)
        self.switch_menu.setEnabled(context is not None and len(context.profiles.profiles) > 1)
        self.remove_action.setEnabled(context is not None and not context.current.is_demo)
        self.open_logs_action.setEnabled(self._logging is not None)

    # -- accounts ----------------------------------------------------------------------------
    def open_connect_dialog(self, profile: Profile | None = None) -> None:
        """The connect dialog (opened, never exec'd); `profile`: connect that one again."""
        context = self._context
        if context is None:
            return
        from qamera_desktop.ui.connect_dialog import ConnectDialog  # only when asked for

        dialog = ConnectDialog(context.profiles, context.keys, profile=profile, parent=self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.connected.connect(self.connected.emit)
        self.dialog = dialog
        dialog.open()

    def _fill_switch_menu(self, menu: QMenu, *, offer_connect: bool = False) -> None:
        """Every profile, the open one checked; `offer_connect`: then "Connect…" below them."""
        menu.clear()
        for old in menu.findChildren(QActionGroup):  # clear() leaves the last filling's group
            old.deleteLater()
        context = self._context
        if context is None:
            return
        group = QActionGroup(menu)
        for profile in context.profiles.profiles:
            where = "this computer" if profile.is_demo else profile.base_url
            action = menu.addAction(f"{profile.name}  ({where})")
            action.setCheckable(True)
            action.setChecked(profile.id == context.current.id)
            action.setActionGroup(group)
            action.triggered.connect(lambda _checked=False, pid=profile.id: self._switch_to(pid))
        if offer_connect:
            menu.addSeparator()
            menu.addAction(self.connect_action)

    def _switch_to(self, profile_id: str) -> None:
        context = self._context
        if context is not None and profile_id != context.current.id:
            self.switchRequested.emit(profile_id)

    def _ask_remove(self) -> None:
        context = self._context
        if context is None or context.current.is_demo:
            return
        name = context.current.name
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove account",
            f"Remove “{name}” from this computer? Its key is deleted from the keyring.",
            parent=self._window,
        )
        box.setInformativeText(
            "Its review decisions, shoot history and cached images can be kept (to connect it "
            "again later) or deleted now."
        )
        keep = box.addButton("Remove, keep its data", QMessageBox.ButtonRole.AcceptRole)
        delete = box.addButton("Remove and delete its data", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        profile_id = context.current.id

        def answered() -> None:
            clicked = box.clickedButton()
            if clicked in (keep, delete):
                self.removeRequested.emit(profile_id, clicked is delete)

        box.finished.connect(answered)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # -- help --------------------------------------------------------------------------------
    def versions(self) -> dict[str, str]:
        return {
            "Qamera Desktop": __version__,
            "Qt": qVersion(),
            "PySide6": PySide6.__version__,
            "Python": platform.python_version(),
            "OS": f"{platform.system()} {platform.release()} ({sys.platform})",
        }

    def _about(self) -> None:
        rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in self.versions().items())
        QMessageBox.about(
            self._window,
            "About Qamera Desktop",
            "<p><b>Qamera Desktop</b>: pick and approve your Qamera AI photo shoots.</p>"
            f"<table cellspacing='4'>{rows}</table>",
        )

    def log_folder(self) -> Path | None:
        return self._logging.folder if self._logging is not None else None

    def _open_logs(self) -> None:
        folder = self.log_folder()
        if folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def diagnostics(self) -> str:
        from qamera_desktop.core.log_setup import diagnostics_text

        context = self._context
        setup = self._logging
        return diagnostics_text(
            toolkit={"Qt": qVersion(), "PySide6": PySide6.__version__},
            profile_name=context.current.name if context is not None else None,
            base_url=context.base_url if context is not None else None,
            errors=setup.recent.entries() if setup is not None else (),
            log_file=setup.file if setup is not None else None,
        )

    def copy_diagnostics(self) -> None:
        QGuiApplication.clipboard().setText(self.diagnostics())
        self._status.showMessage("Diagnostics copied: paste them into your support request.", 8_000)
