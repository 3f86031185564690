"""A kill of the app during rapid decisions loses none that the window had shown.

The real app runs on the demo sandbox under Xvfb. The test clicks the first thumbnail (the grid
gets the keyboard focus; the fixture's X server has no window manager) and types review keys into
the window with xdotool, one every few milliseconds, while it reads the database from outside
(a read-only connection: WAL readers see every committed decision). `ReviewStore.decide()`
commits a decision before the window shows it, so what the window has shown is at most what the
reader sees. Once the reader sees enough decisions, the app is killed with SIGKILL while the keys
are still coming. Then every row read just before the kill must still be in the database with the
same values, the database must pass an integrity check, and the app must start again on it and
leave those rows as they are.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_self_test import app_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# a burst of review keys: each decision moves on to the next image (auto-advance), "Right" skips
# one; 30 decisions on 40 demo images, so no image is decided twice
KEYS = ["p", "x", "3", "p", "5", "Right", "x", "1", "2", "p", "4", "u", "x", "5"] * 3
KEY_DELAY_MS = 25
KILL_AFTER = 10  # decisions the reader must see before the kill
Row = tuple[str, str, str, int, str, str, str]


def _xdotool() -> str:
    found = shutil.which("xdotool")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "xdotool"], env=env, capture_output=True)
        found = shutil.which("xdotool")
    if not found:
        pytest.skip("xdotool is missing (apt-get install xdotool): it types the review keys")
    return found


def _rows(database: Path) -> dict[tuple[str, str], Row]:
    """The reviews committed so far, read as another process would (read-only)."""
    if not database.exists():
        return {}
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=2)
        ) as db:
            rows = db.execute(
                "SELECT account, image_id, flag, rating, label, reasons, changed_at FROM reviews"
            ).fetchall()
    except sqlite3.OperationalError:  # the table is not there yet
        return {}
    return {(r[0], r[1]): tuple(r) for r in rows}


def _wait(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    app: subprocess.Popen[str] | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if app is not None and app.poll() is not None:
            pytest.fail(f"the app exited ({app.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.02)


def _kill(proc: subprocess.Popen[str] | None) -> None:
    if proc is not None and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_a_kill_during_rapid_decisions_loses_none_shown(xvfb_display, tmp_path):
    xdotool = _xdotool()
    env = {**app_env(xvfb_display, tmp_path), "QAMERA_STARTUP_TRACE": "1"}
    data = tmp_path / "d"
    database = data / "library.sqlite3"
    out = tmp_path / "app.out"
    err = tmp_path / "app.err"
    command = [sys.executable, "-m", "qamera_desktop", "--demo", "--sandbox-fast"]
    app: subprocess.Popen[str] | None = None
    typing: subprocess.Popen[str] | None = None
    try:
        with out.open("w") as stdout, err.open("w") as stderr:
            app = subprocess.Popen(
                [*command, "--data-dir", str(data)],
                env=env,
                stdout=stdout,
                stderr=stderr,
                text=True,
                start_new_session=True,  # its own process group: the kill reaches everything
            )
        _wait(
            lambda: "trace thumbnails-painted" in out.read_text(),
            45,
            "the first thumbnails were painted",
            app,
        )

        def xdo(*args: str) -> str:
            return subprocess.run(
                [xdotool, *args], env=env, capture_output=True, text=True, timeout=10
            ).stdout

        windows: list[str] = []

        def window_found() -> bool:
            windows[:] = xdo("search", "--onlyvisible", "--name", "^Qamera Desktop$").split()
            return bool(windows)

        _wait(window_found, 10, "the main window was found by xdotool", app)
        assert len(windows) == 1, f"more than one Qamera window on {xvfb_display}: {windows}"
        window = windows[0]
        # a click on the first thumbnail (current already) gives the grid the keyboard focus
        xdo("mousemove", "--window", window, "115", "220", "click", "1")
        assert _rows(database) == {}, "a fresh data folder has no review"

        typing = subprocess.Popen(
            [xdotool, "key", "--window", window, "--delay", str(KEY_DELAY_MS), *KEYS],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        _wait(
            lambda: len(_rows(database)) >= KILL_AFTER,
            20,
            f"{KILL_AFTER} decisions were committed",
            app,
        )
        seen = _rows(database)  # the last read before the kill: what the window may have shown
        still_typing = typing.poll() is None
        os.killpg(app.pid, signal.SIGKILL)
        app.wait(10)
        assert app.returncode == -signal.SIGKILL
        assert still_typing, "the keys were all sent before the kill: not killed mid-burst"
        _kill(typing)

        assert len(seen) >= KILL_AFTER
        after_kill = _rows(database)
        lost = {k: v for k, v in seen.items() if after_kill.get(k) != v}
        assert not lost, f"decisions seen before the kill, lost or changed by it: {lost}"
        with contextlib.closing(sqlite3.connect(database)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        # the app starts again on the same data folder and paints its first thumbnails
        restart = subprocess.run(
            [*command, "--data-dir", str(data)],
            env={**env, "QAMERA_STARTUP_TRACE": "exit"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert restart.returncode == 0, restart.stderr[-3000:]
        assert "trace thumbnails-painted" in restart.stdout
        assert "Traceback" not in restart.stderr, restart.stderr[-3000:]
        assert _rows(database) == after_kill, "the restarted app changed the reviews"
    finally:
        _kill(typing)
        _kill(app)
