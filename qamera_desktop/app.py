"""Bootstrap: the QApplication and its asyncio loop (ui/event_loop.py), then the AppController.

The services and the window are built in ui/services.py; the window is shown first and everything
slow (sandbox start, keyring, first listing) happens after the first paint, on the event loop.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from qamera_desktop.launch_options import DEFAULT_API_URL, LaunchOptions

if TYPE_CHECKING:
    from PySide6.QtCore import QLockFile

    from qamera_desktop.sandbox import SandboxHandle as DemoServerHandle

log = logging.getLogger(__name__)

LOCK_FILE_NAME = "qamera-desktop.lock"
DEMO_PORT_FILE_NAME = "last-port"


def _prepare_platform(options: LaunchOptions) -> None:
    if options.self_test and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _start_demo(data_dir: Path, fast: bool) -> DemoServerHandle:
    """The demo sandbox, on the port it had the last time when that port is free. Its images'
    URLs name the port: on the same port, the thumbnails and files cached under those URLs are
    found again instead of downloaded again at every start."""
    from qamera_desktop.sandbox import SandboxConfig, start_sandbox

    config = SandboxConfig(fast=fast)
    port_file = data_dir / DEMO_PORT_FILE_NAME
    try:
        last_port = int(port_file.read_text(encoding="ascii"))
    except (OSError, ValueError):
        last_port = 0
    if not 0 < last_port < 2**16:  # not a port: any port
        last_port = 0
    try:
        sandbox = start_sandbox(data_dir, config, port=last_port)
    except OSError:  # another program has the port now
        sandbox = start_sandbox(data_dir, config)
    if sandbox.port != last_port:
        try:
            port_file.write_text(str(sandbox.port), encoding="ascii")
        except OSError as exc:  # a read-only folder: the caches are only missed next time
            log.warning("Could not remember the demo's port: %s", exc)
    return sandbox


def _import_before_qt() -> None:
    """The Qt-free modules that the window and the controller use, imported before PySide6.

    From its import on, PySide6 runs a hook on every module imported after it: its `__feature__`
    support reads the module's source, looking for "PySide6" (PYSIDE-2029). Over the ~40 Qt-free
    modules of the start that was ~15 ms. The ui/ modules import PySide6 themselves and come after
    it. tests/unit/test_startup_imports.py fails when the window needs a Qt-free module that is not
    imported here first."""
    import qamera_desktop.api.base_url
    import qamera_desktop.api.retry
    import qamera_desktop.core.account
    import qamera_desktop.core.app_paths
    import qamera_desktop.core.background_tasks
    import qamera_desktop.core.byte_lru
    import qamera_desktop.core.compare_panes
    import qamera_desktop.core.export.image_choice
    import qamera_desktop.core.image_library
    import qamera_desktop.core.log_setup
    import qamera_desktop.core.profiles
    import qamera_desktop.core.refresh_backoff
    import qamera_desktop.core.review_store
    import qamera_desktop.core.settings
    import qamera_desktop.core.shoot_defaults
    import qamera_desktop.core.shoot_service
    import qamera_desktop.resources
    import qamera_desktop.sandbox  # noqa: F401


def run_app(options: LaunchOptions) -> int:
    from qamera_desktop.core.thumbnails.worker_process import start_spare_worker
    from qamera_desktop.memory import tune_allocator

    # the thumbnail worker starts (~0.2 s, on another core) while this process imports Qt
    start_spare_worker()
    tune_allocator()  # before the big allocations start (see memory.py)
    _prepare_platform(options)
    _import_before_qt()
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from qamera_desktop import __version__
    from qamera_desktop.resources import resource_path

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Qamera Desktop")
    app.setOrganizationName("Qamera")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("qamera-desktop")
    # the controller ends the loop itself once its clean-up has run (client, database, sandbox):
    # Qt quitting on the last window would stop the loop in the middle of that clean-up
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(QIcon(str(resource_path("icons", "app.svg"))))

    from qamera_desktop.ui.event_loop import make_event_loop

    loop = make_event_loop(app)
    asyncio.set_event_loop(loop)
    from qamera_desktop.sandbox import DEMO_API_KEY
    from qamera_desktop.ui.app_controller import AppController

    temp: tempfile.TemporaryDirectory[str] | None = None
    data_dir = options.data_dir
    if options.self_test and data_dir is None:
        temp = tempfile.TemporaryDirectory(prefix="qamera-selftest-")
        data_dir = Path(temp.name)
    from qamera_desktop.core.app_paths import AppPaths
    from qamera_desktop.core.settings import SettingsStore
    from qamera_desktop.ui.theme import apply_theme

    paths = AppPaths.resolve(data_dir)
    lock = _one_window_per_folder(paths.data_dir)
    if lock is None:
        return 1
    # light or dark as chosen in Preferences, before the first window paints
    apply_theme(SettingsStore(paths.settings_file).load().theme_choice, app)
    from qamera_desktop.core.log_setup import configure_logging, log_folder

    # a rotating file (under --data-dir when given) and stderr, every record redacted
    logs = configure_logging(log_folder(data_dir))
    # what the start has made so far (modules, classes, the application) lives as long as the
    # process: the collector, off since cli.main, never scans it again once it is back on (the
    # window and its services, made next, are not frozen: an account switch frees them)
    gc.freeze()
    controller = AppController(
        options,
        data_dir=data_dir,
        default_api_url=DEFAULT_API_URL,
        start_demo=_start_demo,
        demo_key=DEMO_API_KEY,
        logging_setup=logs,
        painted=gc.enable,
    )
    try:
        code: int = loop.run_until_complete(controller.run())
        return code
    finally:
        loop.close()
        logs.close()
        lock.unlock()
        if temp is not None:
            temp.cleanup()


ALREADY_OPEN = (
    "Qamera Desktop is already open for this folder ({folder}): its window may be on another "
    "desktop or minimised."
)


def _one_window_per_folder(data_dir: Path) -> QLockFile | None:
    """The app's lock on its data folder (None: another copy of the app holds it, and the
    designer was told). Two copies would write one settings file and one database at once; a
    lock left by a copy that was killed is taken over (QLockFile checks its process)."""
    from PySide6.QtCore import QLockFile
    from PySide6.QtWidgets import QApplication, QMessageBox

    data_dir.mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(data_dir / LOCK_FILE_NAME))
    lock.setStaleLockTime(0)  # never stale by age: only when its process is gone
    if lock.tryLock(500):
        return lock
    message = ALREADY_OPEN.format(folder=data_dir)
    print(message, file=sys.stderr)
    if QApplication.platformName() not in ("offscreen", "minimal"):
        QMessageBox.information(None, "Qamera Desktop", message)
    return None
