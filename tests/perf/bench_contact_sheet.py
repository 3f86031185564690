"""Contact sheet benchmark: a PDF of 500 picks, its time and its extra resident memory.

Run: `.venv/bin/python -m tests.perf.bench_contact_sheet`.

The sandbox runs in a child process with 500 seeded images (`--seed-images`), and every image is
fetched once before measuring, so that its lazy first render (a real CDN serves files it already
has) is not counted. Each run writes the sheet as the app does: `write_contact_sheet` under
`asyncio.run()` on a thread of its own (ThreadJob's way), with the items the export room makes.

Prints, as medians of 3 runs (target: under 10 s and under 150 MB of extra resident memory), and
the longest the GUI thread's event loop was held up meanwhile (a 10 ms timer's worst lateness;
first measured beside an idle thread, for the machine's own noise):
- cold: the originals cache empty, every image downloaded, decoded at print size and painted;
- warm: the same sheet again, the images taken from the cache (a second sheet, a new layout);
for A4 with 4 images a row (the default) and 6 a row. Extra memory is the peak resident set
(VmHWM, reset before each run through /proc/self/clear_refs) minus the resident set before it.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from qamera_desktop.api import QameraClient
from qamera_desktop.core.contact_sheet_layout import SheetLayout
from qamera_desktop.core.export.exporter import ExportItem, product_index
from qamera_desktop.core.review import Flag, Label, Review
from qamera_desktop.ui.contact_sheet import (
    SheetHeader,
    SheetResult,
    counts_text,
    write_contact_sheet,
)
from tests.sandbox_fixtures import SandboxProcess

PICKS = 500
RUNS = 3
TARGET_SECONDS = 10.0
TARGET_MB = 150.0
TICK_MS = 10


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+); False when the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


async def _items(base_url: str, key: str) -> list[ExportItem]:
    """500 done images as picks with stars and labels, each with its product."""
    async with QameraClient(base_url, key) as client:
        images = [image for image in await client.list_images() if image.is_done][:PICKS]
        products = await product_index(client)
    labels = list(Label)
    return [
        ExportItem(image, Review(Flag.PICK, n % 6, labels[n % len(labels)]), products.get(image.id))
        for n, image in enumerate(images)
    ]


def _warm_cdn(items: list[ExportItem]) -> None:
    """Fetch every image once: the sandbox renders seeded images on their first request."""
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=8)) as http:
        for item in items:
            assert item.image.thumbnail
            http.get(item.image.thumbnail).raise_for_status()


def _gui_stall_while(thread: threading.Thread) -> float:
    """Run the GUI thread's event loop with a timer every `TICK_MS` until `thread` ends; the
    longest a tick came late, in seconds (how long the window would have stalled)."""
    loop = QEventLoop()
    last = time.perf_counter()
    worst = 0.0

    def tick() -> None:
        nonlocal last, worst
        now = time.perf_counter()
        worst = max(worst, now - last - TICK_MS / 1000)
        last = now
        if not thread.is_alive():
            loop.quit()

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    loop.exec()
    timer.stop()
    thread.join()
    return worst


def _run(
    items: list[ExportItem], layout: SheetLayout, out: Path, originals: Path
) -> tuple[float, float, float, SheetResult]:
    """One sheet on a thread of its own: (seconds, extra MB at the peak, the GUI thread's
    longest stall meanwhile, result)."""
    header = SheetHeader("Contact sheet: picks", "Benchmark", datetime.now(), counts_text(items))
    outcome: list[SheetResult] = []
    peak_reset = _reset_peak()
    before = _status_kb("VmRSS")

    def work() -> None:
        outcome.append(
            asyncio.run(write_contact_sheet(items, out, layout, header, originals=originals))
        )

    started = time.perf_counter()
    thread = threading.Thread(target=work, name="bench-contact-sheet")
    thread.start()
    stall = _gui_stall_while(thread)
    seconds = time.perf_counter() - started
    peak = _status_kb("VmHWM")
    if not peak_reset:
        print("  (VmHWM could not be reset: the peak is the process's since it started)")
    return seconds, (peak - before) / 1024, stall, outcome[0]


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-sheet-") as tmp:
        work = Path(tmp)
        with SandboxProcess(
            work / "sandbox", "--seed-images", str(PICKS), "--no-rate-limit", "--fast"
        ) as sandbox:
            items = asyncio.run(_items(sandbox.base_url, sandbox.demo_key))
            if len(items) < PICKS:
                print(f"only {len(items)} finished images in the sandbox")
                return 1
            _warm_cdn(items)
            idle = threading.Thread(target=time.sleep, args=(5.0,), name="bench-idle")
            idle.start()
            print(
                "GUI thread's longest stall beside an idle thread (the machine's own noise): "
                f"{_gui_stall_while(idle) * 1000:.0f} ms"
            )
            for columns in (4, 6):
                layout = SheetLayout.create("A4", columns)
                cold: list[tuple[float, float, float]] = []
                warm: list[tuple[float, float, float]] = []
                result = None
                for run in range(RUNS):
                    originals = work / f"originals-{columns}-{run}"
                    *figures, result = _run(items, layout, work / "sheet.pdf", originals)
                    cold.append((figures[0], figures[1], figures[2]))
                    *figures, result = _run(items, layout, work / "sheet.pdf", originals)
                    warm.append((figures[0], figures[1], figures[2]))
                    shutil.rmtree(originals)
                assert result is not None
                size = (work / "sheet.pdf").stat().st_size / 2**20
                print(
                    f"A4, {columns} a row: {len(items)} images on {result.pages} pages, "
                    f"{size:.1f} MB PDF, {len(result.missing)} missing"
                )
                for name, runs in (("cold (downloads)", cold), ("warm (cached)", warm)):
                    seconds = statistics.median(r[0] for r in runs)
                    mb = statistics.median(r[1] for r in runs)
                    stall = max(r[2] for r in runs)
                    verdict = "ok" if seconds < TARGET_SECONDS and mb < TARGET_MB else "OVER"
                    ok = ok and verdict == "ok"
                    print(
                        f"  {name}: median {seconds:.2f} s (runs "
                        + ", ".join(f"{r[0]:.2f}" for r in runs)
                        + f"), extra RSS median {mb:.0f} MB (peak {max(r[1] for r in runs):.0f}),"
                        + f" GUI thread's longest stall {stall * 1000:.0f} ms"
                        + f" [{verdict}: < {TARGET_SECONDS:.0f} s, < {TARGET_MB:.0f} MB]"
                    )
    del app
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
