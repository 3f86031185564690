"""One copy of the app per data folder: a second launch on a folder in use says so and ends
(two copies would write one settings file and one database at once); a lock left by a copy that
was killed is taken over. The real app, launched as a designer's double-click would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from qamera_desktop.app import LOCK_FILE_NAME

HOLD = """
import sys, time
from PySide6.QtCore import QLockFile
lock = QLockFile(sys.argv[1])
lock.setStaleLockTime(0)
assert lock.tryLock(1000)
print("held", flush=True)
time.sleep(120)
"""


def launch(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QAMERA_NO_KEYRING": "1"}
    env.pop("QAMERA_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "qamera_desktop", "--demo", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_second_copy_on_a_folder_in_use_says_so_and_a_killed_copys_lock_is_taken_over(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data / LOCK_FILE_NAME)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            second = launch(data)
            assert second.returncode == 1
            assert "already open for this folder" in second.stderr
        finally:
            holder.send_signal(signal.SIGKILL)  # as a crash leaves it: the lock file stays
            holder.wait()
    assert (data / LOCK_FILE_NAME).exists()

    after = launch(data, "--self-test")
    assert after.returncode == 0, after.stderr
    assert "already open" not in after.stderr
