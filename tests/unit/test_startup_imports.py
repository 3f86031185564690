"""What the window's process imports until its window is built and shown: the heavy parts
that only some actions need (Pillow and the thumbnail pipeline, which run in the thumbnail worker;
the export engine and the PDF writer, loaded by an export; the HTTP client and httpx, loaded once
the window is up; the demo sandbox's server, of which the start reads only the demo key) stay out,
so that a change that pulls one of them back into the start is seen here rather than in a slower
cold start."""

from __future__ import annotations

import subprocess
import sys

KEPT_OUT = (
    "PIL",
    "qamera_desktop.core.thumbnails.pipeline",
    "qamera_desktop.core.thumbnails.decode",
    "qamera_desktop.core.export.exporter",
    "qamera_desktop.ui.contact_sheet",
    "qamera_desktop.ui.originals_cache",
    "httpx",
    "msgspec",
    "keyring",
    "qamera_desktop.api.client",
    "qamera_desktop.sandbox.server",
    "uvicorn",
)

PROBE = f"""
import os, sys, tempfile
from pathlib import Path
import qamera_desktop.app, qamera_desktop.ui.app_controller
from qamera_desktop.sandbox import DEMO_API_KEY  # what app.py reads of the sandbox at start
from PySide6.QtWidgets import QApplication
from qamera_desktop.ui.services import build_services
app = QApplication([])
folder = Path(tempfile.mkdtemp())
services = build_services(folder / "settings.json", folder / "thumbnails")  # the window, built
services.window.show()
app.processEvents()
print(",".join(m for m in {KEPT_OUT!r} if m in sys.modules), flush=True)
os._exit(0)  # the thumbnail worker ends with its pipe
"""


def test_the_start_imports_none_of_what_only_some_actions_need() -> None:
    found = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""},
    ).stdout.strip()
    assert found == "", f"imported at start: {found}"
