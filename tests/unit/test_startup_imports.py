"""What the window's process imports until its window is built and shown.

- The heavy parts that only some actions need stay out: Pillow and the thumbnail pipeline, which
  run in the thumbnail worker; the export engine and the PDF writer, loaded by an export; the
  windows and dialogs that open on demand (the loupe, compare, New shoot, Preferences, the
  shortcuts, export, contact sheet); the HTTP client and httpx, loaded once the window is up; the
  demo sandbox's server and its configuration, of which the start reads only the demo key.
- The Qt-free modules come before PySide6 (app.py, `_import_before_qt`): PySide6 reads the source
  of every module imported after it.

A change that pulls one of them back into the start, or a new Qt-free module that the window needs
and the start imports after Qt, is seen here rather than in a slower cold start."""

from __future__ import annotations

import subprocess
import sys

import pytest

KEPT_OUT = (
    "PIL",
    "qamera_desktop.core.thumbnails.pipeline",
    "qamera_desktop.core.thumbnails.decode",
    "qamera_desktop.core.export.exporter",
    "qamera_desktop.core.contact_sheet_layout",
    "qamera_desktop.core.shoot_memory",
    "qamera_desktop.ui.compare_dialog",
    "qamera_desktop.ui.preview_dialog",
    "qamera_desktop.ui.contact_sheet",
    "qamera_desktop.ui.contact_sheet_dialog",
    "qamera_desktop.ui.export_dialog",
    "qamera_desktop.ui.new_shoot_dialog",
    "qamera_desktop.ui.catalogue_picker",
    "qamera_desktop.ui.preferences_dialog",
    "qamera_desktop.ui.shortcuts_dialog",
    "qamera_desktop.ui.originals_cache",
    "httpx",
    "msgspec",
    "keyring",
    "qamera_desktop.api.client",
    "qamera_desktop.sandbox.server",
    "qamera_desktop.sandbox.config",
    "uvicorn",
)

PROBE = f"""
import os, sys, tempfile
from pathlib import Path
import qamera_desktop.app, qamera_desktop.memory
import qamera_desktop.core.thumbnails.worker_process  # as run_app does: the spare worker first
qamera_desktop.app._import_before_qt()
before_qt = set(sys.modules)
assert "PySide6" not in before_qt
import qamera_desktop.ui.app_controller
from qamera_desktop.sandbox import DEMO_API_KEY  # what app.py reads of the sandbox at start
from PySide6.QtWidgets import QApplication
from qamera_desktop.ui.services import build_services
app = QApplication([])
folder = Path(tempfile.mkdtemp())
services = build_services(folder / "settings.json", folder / "thumbnails")  # the window, built
services.window.show()
app.processEvents()
print(",".join(m for m in {KEPT_OUT!r} if m in sys.modules))
late = (m for m in sys.modules if m.startswith("qamera_desktop.") and m not in before_qt)
print(",".join(sorted(m for m in late if m.split(".")[:2] != ["qamera_desktop", "ui"])), flush=True)
os._exit(0)  # the thumbnail worker ends with its pipe
"""


@pytest.fixture(scope="module")
def start() -> list[str]:
    """The probe's two lines: what was kept out but imported, and the Qt-free modules imported
    after PySide6."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""},
    ).stdout
    return out.splitlines()


def test_the_start_imports_none_of_what_only_some_actions_need(start: list[str]) -> None:
    assert start[0] == "", f"imported at start: {start[0]}"


def test_the_start_imports_its_qt_free_modules_before_qt(start: list[str]) -> None:
    assert start[1] == "", f"Qt-free, imported after PySide6 (add to _import_before_qt): {start[1]}"
