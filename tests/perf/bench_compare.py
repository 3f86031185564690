"""Compare benchmark: four panes at 100%, dragged, in the real main window.

Run: `.venv/bin/python -m tests.perf.bench_compare`.

The window is built as the app builds it (`build_services`, then `AppServices.connect` with a real
QameraClient and a SQLite file; helpers of bench_review.py) against a sandbox in a process of its
own. Four images are selected, C opens compare, Z puts every pane at 100%, and a drag in the first
pane moves FRAMES times (QTest mouse events, up and down and sideways within the images' reach).
Per move: the move handled (every pane panned to the same place), then each pane repainted
(`repaint()`) and the events processed, timed together: one frame. Printed as p50 / p95 / p99 /
max (target p95 < 16 ms), twice:
- with the sandbox's images (410x512, loaded at the loupe's size);
- with 2048x2560 stand-ins (the sandbox's images enlarged 5x before the drag), the size of a
  full-resolution generated image: a pane paints only the part of the pixmap it shows, unscaled,
  so the frame should not grow with the image.
The GUI thread's CPU time per frame is printed too (the wall clock's tail on a busy machine is
mostly waiting for a core), and the paints per frame (4: every pane repainted each move).
"""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QAMERA_NO_KEYRING", "1")

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, qInstallMessageHandler
from PySide6.QtGui import QMouseEvent, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from qamera_desktop.core.account import account_id
from qamera_desktop.ui.compare_dialog import CompareDialog
from qamera_desktop.ui.main_window import MainWindow
from qamera_desktop.ui.services import build_services
from tests.perf.bench_grid import run, until
from tests.perf.bench_review import _quiet, focus_grid, line, percentiles, settle
from tests.sandbox_fixtures import SandboxProcess

FRAMES = 300
PANES = 4
LARGE_SCALE = 5  # 410x512 -> 2050x2560
DIALOG_SIZE = (1280, 800)


class PaintCounter(QObject):
    """Counts the paint events of the widgets it watches."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


async def open_compare(window: MainWindow) -> CompareDialog:
    """Select the first PANES finished images, press C, wait for every pane's full-size image."""
    model = window.model
    rows = [r for r in range(model.rowCount()) if (i := model.image_at(r)) and i.is_done]
    await focus_grid(window, rows[0])
    selection = window.grid.selectionModel()
    for row in rows[:PANES]:
        selection.select(model.index(row), selection.SelectionFlag.Select)
    QTest.keyClick(window.grid, Qt.Key.Key_C)
    compare = window.compare
    await until(lambda: compare.isVisible() and QApplication.activeWindow() is compare, 10)
    compare.resize(*DIALOG_SIZE)
    shown = compare.panes[:PANES]
    await until(lambda: all(p.showing_full for p in shown), 60)
    QTest.keyClick(compare, Qt.Key.Key_Z)
    assert all(p.picture.actual_size for p in shown)
    return compare


def drag_frames(compare: CompareDialog) -> tuple[list[float], list[float], float]:
    """FRAMES mouse moves of a drag in the first pane; per move, the time to pan every pane and
    repaint them all (wall clock, and the GUI thread's CPU time: on a busy machine the wall
    clock's tail is mostly waiting for a core). Also the paints per frame."""
    panes = compare.panes[:PANES]
    picture = panes[0].picture
    counter = PaintCounter()
    for pane in panes:
        pane.picture.installEventFilter(counter)
    # within the reach of the smallest pan room, so that every move moves the image
    size = picture.painted_size()
    reach_x = max(2.0, min(40.0, abs(size.width() - picture.width()) / 2 - 2))
    reach_y = max(2.0, min(120.0, abs(size.height() - picture.height()) / 2 - 2))
    centre = QPointF(picture.rect().center())
    QTest.mousePress(picture, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.processEvents()
    times, cpu = [], []
    counter.paints = 0
    for n in range(FRAMES):
        angle = 2 * math.pi * n / 75  # four round trips
        point = centre + QPointF(reach_x * math.sin(angle), reach_y * math.sin(2 * angle) / 2)
        move = QMouseEvent(
            QEvent.Type.MouseMove,
            point,
            QPointF(picture.mapToGlobal(point)),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        t0, c0 = time.perf_counter(), time.thread_time()
        QApplication.sendEvent(picture, move)
        QApplication.processEvents()  # the window's update request: the dirty panes painted
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    QTest.mouseRelease(picture, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    for pane in panes:
        pane.picture.removeEventFilter(counter)
    centres = {
        (round(p.picture.view_centre().x(), 2), round(p.picture.view_centre().y(), 2))
        for p in panes
    }
    assert len(centres) == 1, f"the panes were not panned alike: {centres}"
    return times, cpu, counter.paints / FRAMES


def enlarge(compare: CompareDialog) -> str:
    """Every pane's pixmap replaced by one LARGE_SCALE times larger; its size as text."""
    for pane in compare.panes[:PANES]:
        small = pane.picture.pixmap()
        large = small.scaled(
            small.width() * LARGE_SCALE,
            small.height() * LARGE_SCALE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        assert isinstance(large, QPixmap)
        pane.picture.set_pixmap(large)
        pane.picture.reset_pan()
    pixmap = compare.panes[0].picture.pixmap()
    return f"{pixmap.width()}x{pixmap.height()}"


def report(size: str, times: list[float], cpu: list[float], paints: float) -> None:
    line(f"{size} images", percentiles(times), "(target p95 < 16)")
    line("  GUI thread's CPU", percentiles(cpu), f"({paints:.1f} paints per frame)")


async def measure(sandbox: SandboxProcess, work: Path) -> None:
    services = build_services(work / "settings.json", work / "thumbs")
    window = services.window
    window.resize(*DIALOG_SIZE)
    window.show()
    try:
        services.open_local(work / "qamera.sqlite3", account_id(sandbox.base_url, sandbox.demo_key))
        services.connect(
            sandbox.base_url,
            sandbox.demo_key,
            description="Demo sandbox",
            demo=True,
        )
        await until(lambda: window.model.rowCount() >= PANES, 60)
        await settle(services)
        compare = await open_compare(window)
        await asyncio.sleep(1.0)  # the grid's own thumbnails arrived meanwhile
        pane = compare.panes[0].picture
        pixmap = pane.pixmap()
        print(
            f"compare, {PANES} panes of {pane.width()}x{pane.height()} px at 100%, "
            f"a drag of {FRAMES} moves in the first (every pane panned and repainted per move):"
        )
        report(f"{pixmap.width()}x{pixmap.height()}", *drag_frames(compare))
        size = enlarge(compare)
        report(size, *drag_frames(compare))
        compare.reject()
    finally:
        await services.aclose()
        window.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="qamera-bench-") as tmp:
        work = Path(tmp)
        sandbox = SandboxProcess(work / "sb", "--fast", "--no-rate-limit")
        try:
            qInstallMessageHandler(_quiet)
            run(measure(sandbox, work))
        finally:
            sandbox.terminate()


if __name__ == "__main__":
    main()
