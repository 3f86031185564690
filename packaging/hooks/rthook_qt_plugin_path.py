"""Runtime hook, in place of PyInstaller's pyi_rth_pyside6 (the spec drops that one): point Qt at
the bundled plugins, without importing PySide6.QtCore when the process starts.

PyInstaller's hook imports QtCore in every process of the app to register a qt.conf; the PyPI
PySide6 wheels register their own when QtCore is first imported, so that buys nothing here, and
it loads Qt and ICU (~15 MB resident) into the thumbnail worker and the headless export, which
never use Qt. Its other duties do not apply to this app (QML paths; OpenSSL for QtNetwork).
"""

import os
import sys


def _point_qt_at_bundled_plugins() -> None:
    bundle = sys._MEIPASS  # type: ignore[attr-defined]  # set by PyInstaller's bootloader
    # the PyPI wheels keep Qt's files in PySide6/ on Windows and in PySide6/Qt/ elsewhere
    qt = os.path.join(bundle, "PySide6", *([] if sys.platform == "win32" else ["Qt"]))
    os.environ["QT_PLUGIN_PATH"] = os.path.join(qt, "plugins")


_point_qt_at_bundled_plugins()
