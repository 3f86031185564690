"""`make bench-package`: the Linux packages' build time and sizes, and the frozen app's start
against the same app from source, side by side in one run.

- build: `make package` from no previous output (the PyInstaller folder, then the .tar.gz and
  the .deb), each step timed;
- sizes: the folder on disk, the .deb and the .tar.gz (targets: .deb < 70 MB);
- start: launch to window shown and to the first screen of thumbnails painted, for the frozen
  app (dist/qamera-desktop) and `python -m qamera_desktop`, launched in turn round after round on
  the demo sandbox (offscreen), median and best (target: frozen no slower than source). The marks
  come from the app's QAMERA_STARTUP_TRACE, read by tests/perf/bench_grid.py's `_trace_marks`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qamera_desktop import __version__  # noqa: E402
from tests.perf.bench_grid import _trace_marks  # noqa: E402

ONEDIR = ROOT / "dist" / "qamera-desktop"
MB = 1_000_000
# a cold start varies by half its time from one launch to the next on a busy 2-core machine:
# more rounds than bench_grid's 3, the two programs in turn, median and best
ROUNDS = 10
MARKS = ("window-shown", "thumbnails-painted")


def timed_make(target: str) -> float:
    began = time.perf_counter()
    subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, check=True)  # noqa: S603, S607
    return time.perf_counter() - began


def build() -> dict[str, float]:
    """Seconds of each step of `make package`, from no previous output."""
    shutil.rmtree(ONEDIR, ignore_errors=True)
    (ROOT / "dist" / ".linux-packages").unlink(missing_ok=True)
    folder = timed_make("dist/qamera-desktop/qamera-desktop")
    packages = timed_make("package")
    return {"folder": folder, "packages": packages, "total": folder + packages}


def folder_size(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir())


def cold_starts(work: Path) -> dict[str, dict[str, list[float]]]:
    """Seconds from launch to each trace mark, frozen and from source, launched in turn."""
    env = {**os.environ, "QAMERA_STARTUP_TRACE": "exit", "QAMERA_NO_KEYRING": "1"}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.pop("QAMERA_API_KEY", None)
    programs = {
        "frozen": [str(ONEDIR / "qamera-desktop")],
        "source": [sys.executable, "-m", "qamera_desktop"],
    }
    times: dict[str, dict[str, list[float]]] = {name: {m: [] for m in MARKS} for name in programs}
    for run in range(ROUNDS + 1):  # the first round fills the caches and is not counted
        for name, command in programs.items():
            data = work / name
            marks = _trace_marks([*command, "--demo", "--data-dir", str(data)], ROOT, env)
            if run:
                for mark in MARKS:
                    times[name][mark].append(marks[mark])
    return times


def main() -> int:
    steps = build()
    deb = next((ROOT / "dist").glob(f"qamera-desktop_{__version__}_*.deb"))
    tarball = next((ROOT / "dist").glob(f"qamera-desktop-{__version__}-linux-*.tar.gz"))
    with tempfile.TemporaryDirectory(prefix="qamera-measure-") as work:
        starts = cold_starts(Path(work))
    print(f"\nQamera Desktop {__version__}, Linux packages ({os.cpu_count()} cores)")
    print(f"  build: folder (PyInstaller)  {steps['folder']:7.1f} s")
    print(f"         .tar.gz + .deb        {steps['packages']:7.1f} s")
    print(f"         make package, total   {steps['total']:7.1f} s")
    print(f"  size:  folder on disk        {folder_size(ONEDIR) / MB:7.1f} MB")
    print(f"         .deb                  {deb.stat().st_size / MB:7.1f} MB  (target < 70)")
    print(f"         .tar.gz               {tarball.stat().st_size / MB:7.1f} MB")
    print(
        f"  start, launch to ({ROUNDS} in turn, offscreen)   frozen median/best  source median/best"
    )
    for mark in MARKS:
        cells = [
            f"{statistics.median(starts[name][mark]):5.2f} / {min(starts[name][mark]):4.2f} s"
            for name in ("frozen", "source")
        ]
        print(f"         {mark:<26}    {cells[0]}     {cells[1]}")
    frozen, source = (statistics.median(starts[n]["window-shown"]) for n in ("frozen", "source"))
    verdict = "yes" if frozen <= source else "NO"
    print(f"  frozen window shown no later than from source (medians): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
