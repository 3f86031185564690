"""The whole app under a real X server: `--self-test` lists, paints thumbnails, runs a 3-image
shoot, writes a screenshot, and exits 0 (it fails when the garbage collector, off for the start, is
not back on). The screenshot must be a non-blank window."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageStat

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def app_env(display: str, tmp_path: Path) -> dict[str, str]:
    """The app's environment on the test X server: no keyring, no API key (the demo sandbox)."""
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "QAMERA_NO_KEYRING": "1",
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    env.pop("QAMERA_API_KEY", None)
    return env


def test_self_test_under_xvfb(xvfb_display, tmp_path):
    shot = tmp_path / "window.png"
    env = app_env(xvfb_display, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "qamera_desktop", "--self-test", "--screenshot", str(shot)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("self-test ok:"), summary
    assert "3-image shoot finished" in summary

    with Image.open(shot) as png:
        assert png.size == (1280, 820)
        rgb = png.convert("RGB")
        stat = ImageStat.Stat(rgb)
        assert max(stat.stddev) > 20, "the screenshot is (nearly) one flat colour"
        colours = rgb.resize((160, 100)).getcolors(maxcolors=160 * 100)
        assert colours is None or len(colours) > 200, "too few colours for a grid of photos"


def test_help_and_version_do_not_need_a_display():
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    out = subprocess.run(
        [sys.executable, "-m", "qamera_desktop", "--help"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0
    assert "--self-test" in out.stdout
    assert "QAMERA_API_KEY" in out.stdout
    ver = subprocess.run(
        [sys.executable, "-m", "qamera_desktop", "--version"], capture_output=True, text=True
    )
    from qamera_desktop import __version__

    assert ver.stdout.strip() == f"qamera-desktop {__version__}"


def test_closing_the_window_shuts_down_cleanly(xvfb_display, tmp_path):
    """The normal way out: the window closes (here once the first thumbnails are painted), the
    controller closes the client, the database and the sandbox, and the process exits 0 with
    nothing on stderr about a stopped loop or a crashed task."""
    env = {**app_env(xvfb_display, tmp_path), "QAMERA_STARTUP_TRACE": "exit"}
    result = subprocess.run(
        [sys.executable, "-m", "qamera_desktop", "--demo", "--data-dir", str(tmp_path / "d")],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trace thumbnails-painted" in result.stdout
    for bad in ("Traceback", "RuntimeError", "Task was destroyed", "QThread: Destroyed"):
        assert bad not in result.stderr, result.stderr[-3000:]
    assert (tmp_path / "d" / "library.sqlite3").exists()


def test_the_demo_sandbox_keeps_one_history_across_restarts(xvfb_display, tmp_path):
    """The embedded sandbox listens on a new port every run; its shoots must still belong to one
    account in the local database, or the Shoots panel forgets them at every restart."""
    env = app_env(xvfb_display, tmp_path)
    data = tmp_path / "d"
    for _ in range(2):  # two runs of the app, each running a 3-image shoot on the sandbox
        result = subprocess.run(
            [sys.executable, "-m", "qamera_desktop", "--self-test", "--data-dir", str(data)],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    with contextlib.closing(sqlite3.connect(data / "library.sqlite3")) as db:
        accounts = db.execute("SELECT account, count(*) FROM shoots GROUP BY account").fetchall()
    assert len(accounts) == 1, accounts
    assert accounts[0][1] == 2
