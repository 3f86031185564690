"""Composition root: QApplication + qasync loop, services, main window. (Being built in issue 4.)"""

from __future__ import annotations

from qamera_desktop.cli import LaunchOptions


def run_app(options: LaunchOptions) -> int:
    raise SystemExit("The main window is not built yet.")
