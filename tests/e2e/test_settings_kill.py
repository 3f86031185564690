"""Settings changed the way a designer changes them survive a kill -9 of the app.

The real app runs on the demo sandbox under Xvfb. xdotool presses the zoom keys (Ctrl+= three
times, Ctrl+- once: thumbnails from 192 to 256 px) in its window; the test polls the settings file
from outside until the debounced write (ui/settings_writer.py) has put 256 there, and kills the
app with SIGKILL at once: no close, no flush. The file must be whole JSON holding 256. The app
started again on the same data folder must be at 256: one Ctrl+- there writes 224 (from the
default 192 it would be 160). Then that app is killed in the middle of a burst of zoom keys: the
file is still whole JSON (written atomically: core/settings.py), with one of the sizes the burst
went through.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qamera_desktop.core.app_paths import AppPaths
from qamera_desktop.core.settings import THUMB_SIZE_DEFAULT, THUMB_SIZE_MAX, THUMB_SIZE_MIN
from tests.e2e.test_review_kill import _kill, _wait, _xdotool
from tests.e2e.test_self_test import app_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ZOOM = 32  # ui/image_grid_view.py's ZOOM_STEP: one press of Ctrl+= or Ctrl+-
APP = [sys.executable, "-m", "qamera_desktop", "--demo", "--sandbox-fast"]
BURST = ["ctrl+equal", "ctrl+minus", "ctrl+minus", "ctrl+equal"] * 25


def _settings(path: Path) -> dict[str, Any] | None:
    """The settings file as another process reads it (None: not written yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    data: dict[str, Any] = json.loads(text)  # never half a file: a kill leaves the last whole one
    return data


class RunningApp:
    """`python -m qamera_desktop --demo` on `data`, its own process group, its window found."""

    def __init__(self, env: dict[str, str], data: Path, logs: Path, xdotool: str) -> None:
        self.env = env
        self.xdotool = xdotool
        self.out = logs.with_suffix(".out")
        with self.out.open("w") as stdout, logs.with_suffix(".err").open("w") as stderr:
            self.proc = subprocess.Popen(
                [*APP, "--data-dir", str(data)],
                env=env,
                stdout=stdout,
                stderr=stderr,
                text=True,
                start_new_session=True,
            )
        _wait(
            lambda: "trace thumbnails-painted" in self.out.read_text(),
            45,
            "the first thumbnails were painted",
            self.proc,
        )
        windows: list[str] = []

        def found() -> bool:
            windows[:] = self.xdo("search", "--onlyvisible", "--name", "^Qamera Desktop$").split()
            return bool(windows)

        _wait(found, 10, "the main window was found by xdotool", self.proc)
        assert len(windows) == 1, f"more than one Qamera window: {windows}"
        self.window = windows[0]
        # a click on the first thumbnail gives the window (its grid) the keyboard focus
        self.xdo("mousemove", "--window", self.window, "115", "220", "click", "1")

    def xdo(self, *args: str) -> str:
        return subprocess.run(
            [self.xdotool, *args], env=self.env, capture_output=True, text=True, timeout=10
        ).stdout

    def keys(self, *keys: str, delay_ms: int = 40) -> None:
        self.xdo("key", "--window", self.window, "--delay", str(delay_ms), *keys)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        assert self.proc.returncode == -signal.SIGKILL


def test_zoom_keys_survive_a_kill_and_a_kill_mid_burst_leaves_whole_json(xvfb_display, tmp_path):
    xdotool = _xdotool()
    env = {**app_env(xvfb_display, tmp_path), "QAMERA_STARTUP_TRACE": "1"}
    data = tmp_path / "d"
    settings = AppPaths.resolve(data).settings_file
    apps: list[RunningApp] = []
    typing: subprocess.Popen[str] | None = None
    try:
        first = RunningApp(env, data, tmp_path / "first", xdotool)
        apps.append(first)
        before = _settings(settings)
        assert before is None or before["thumb_size"] == THUMB_SIZE_DEFAULT

        first.keys("ctrl+equal", "ctrl+equal", "ctrl+equal", "ctrl+minus")
        wanted = THUMB_SIZE_DEFAULT + 2 * ZOOM
        _wait(
            lambda: (_settings(settings) or {}).get("thumb_size") == wanted,
            10,
            f"the settings file said thumb_size {wanted} (the debounced write)",
            first.proc,
        )
        first.kill()  # at once: nothing more is written after the value was seen
        after_kill = _settings(settings)
        assert after_kill is not None
        assert after_kill["thumb_size"] == wanted

        # started again: the grid is at 256, so Ctrl+- makes it 224
        second = RunningApp(env, data, tmp_path / "second", xdotool)
        apps.append(second)
        second.keys("ctrl+minus")
        _wait(
            lambda: (_settings(settings) or {}).get("thumb_size") == wanted - ZOOM,
            10,
            f"Ctrl+- after the restart wrote {wanted - ZOOM} (restored at {wanted})",
            second.proc,
        )

        # killed while a burst of zoom keys is still coming: the file stays whole
        written_before = settings.stat().st_mtime_ns
        typing = subprocess.Popen(
            [xdotool, "key", "--window", second.window, "--delay", "15", *BURST],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait(
            lambda: settings.stat().st_mtime_ns != written_before,
            10,
            "a write during the burst",
            second.proc,
        )
        still_typing = typing.poll() is None
        second.kill()
        assert still_typing, "the burst was over before the kill: not killed mid-burst"
        final = _settings(settings)
        assert final is not None
        assert THUMB_SIZE_MIN <= final["thumb_size"] <= THUMB_SIZE_MAX
        assert (final["thumb_size"] - THUMB_SIZE_DEFAULT) % ZOOM == 0
        leftovers = [p.name for p in settings.parent.iterdir() if p.name.endswith(".part")]
        assert leftovers in ([], ["settings.json.part"])  # at worst a part file, never read
    finally:
        if typing is not None and typing.poll() is None:
            typing.kill()
            typing.wait(10)
        for app in apps:
            _kill(app.proc)
