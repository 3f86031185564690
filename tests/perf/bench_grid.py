"""Main-window benchmarks, measured side by side in one run against the sandbox on loopback.

Run: `make bench` (all benchmarks) or `.venv/bin/python -m tests.perf.bench_grid`.

Prints, each as a median of a few repetitions and as a ratio to its target:
- thumbnail fill rate into the grid (ThumbnailLoader, cold caches) against this machine's limit
  measured in the same run: fetch-only and decode-only (Pillow draft, two threads) throughput of
  the same files, combined as 1 / (1/fetch + 1/decode). Fetch-only is measured twice: on one
  event loop (six connections), and in two processes of three connections each, as the app's
  thumbnail workers download; the second is the like-for-like limit of the process pipeline;
- the longest gap of a 16 ms GUI timer while filling 1,000 thumbnails and while loading a
  100,000-image listing;
- 100,000-image listing: response received to grid painted, and resident memory after scrolling
  the grid from top to bottom;
- cold start (a fresh process) to window shown and to first thumbnails painted from a warm cache.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QAMERA_NO_KEYRING", "1")

import httpx
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from qamera_desktop.api import QameraClient
from qamera_desktop.api.parsing import parse_body, parse_images
from qamera_desktop.core.image_library import ImageLibrary
from qamera_desktop.core.image_query import ServerFilter
from qamera_desktop.core.thumbnails import decode_thumbnail
from qamera_desktop.memory import APP, WORKER, AllocatorSettings, tune_allocator
from qamera_desktop.ui.event_loop import make_event_loop
from qamera_desktop.ui.image_grid_model import ImageGridModel
from qamera_desktop.ui.image_grid_view import ImageGridView
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader
from tests.perf.fetch_worker import fetch_all
from tests.sandbox_fixtures import SandboxProcess

FILL_COUNT = 1000
sys.setswitchinterval(float(os.environ.get("BENCH_SWITCH", "0.005")))
REPEATS = 3
THUMB = 256


class StallMeter:
    """A 16 ms timer on the GUI thread; the largest gap between its ticks is the longest stall."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(16)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.worst = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def __enter__(self) -> StallMeter:
        self.last = time.perf_counter()
        self.worst = 0.0
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._tick()
        self.timer.stop()


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fetch_in_processes(urls: list[str], processes: int = 2, connections: int = 3) -> float:
    """Download-only throughput of `processes` processes with `connections` each, as the app's
    thumbnail workers download (each its share of the URLs): this machine's fetch limit for a
    pipeline that downloads in more than one process."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.perf.fetch_worker", str(connections)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        for n, worker in enumerate(workers):
            assert worker.stdin is not None
            assert worker.stdout is not None
            worker.stdin.write(json.dumps(urls[n::processes]) + "\n")
            worker.stdin.flush()
            assert worker.stdout.readline().strip() == "ready"
        t0 = time.perf_counter()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "done"
        return len(urls) / (time.perf_counter() - t0)
    finally:
        for worker in workers:
            worker.wait(timeout=30)


def decode_rate(bodies: list[bytes], workers: int, allocator: AllocatorSettings = APP) -> float:
    """Decode-only throughput of `workers` threads, with the allocator set up as in the app or
    as in a thumbnail worker (memory.py)."""
    tune_allocator(allocator)
    try:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda b: decode_thumbnail(b, THUMB), bodies))
        return len(bodies) / (time.perf_counter() - t0)
    finally:
        tune_allocator()  # as app.py does


async def until(predicate: Callable[[], bool], limit_s: float = 120.0) -> None:
    deadline = time.perf_counter() + limit_s
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(0.002)


async def fill_rate(urls: list[str], cache_dir: Path) -> tuple[float, float]:
    loader = ThumbnailLoader(cache_dir)
    done: set[str] = set()
    all_done = asyncio.Event()  # not a polling loop: the benchmark takes no CPU from the fill

    def arrived(got: list[str]) -> None:
        done.update(got)
        if len(done) >= len(urls):
            all_done.set()

    loader.ready.connect(arrived)
    try:
        # The app makes its loader at start, so its worker processes are up by the time the grid
        # fills; their start-up is in the cold-start figures, not in the fill rate.
        await loader.wait_started()
        with StallMeter() as stall:
            t0 = time.perf_counter()
            loader.set_wanted("grid", urls, THUMB)
            await asyncio.wait_for(all_done.wait(), 120)
            elapsed = time.perf_counter() - t0
        return len(urls) / elapsed, stall.worst
    finally:
        await loader.aclose()


async def bench_fill(sandbox: SandboxProcess, work: Path) -> dict[str, float]:
    async with QameraClient(sandbox.base_url, sandbox.demo_key) as client:
        images = await client.list_images()
    urls = [i.thumbnail for i in images if i.thumbnail][:FILL_COUNT]
    await fetch_all(urls)  # the sandbox renders lazily: warm its disk cache first
    fetch, fetch2, decode1, decode2, fill, stall, in_process = [], [], [], [], [], [], []
    decode2w: list[float] = []
    for run in range(REPEATS):
        f, bodies = await fetch_all(urls)
        fetch.append(f)
        fetch2.append(fetch_in_processes(urls))
        decode1.append(decode_rate(bodies, 1))
        decode2.append(decode_rate(bodies, 2))
        decode2w.append(decode_rate(bodies, 2, WORKER))
        rate, worst = await fill_rate(urls, work / f"fill-{run}")
        fill.append(rate)
        stall.append(worst)
        # the same, with the pipeline in this process (no worker processes), for comparison
        os.environ["QAMERA_THUMBNAIL_PROCESSES"] = "0"
        try:
            in_process.append((await fill_rate(urls, work / f"fill-{run}-in-process"))[0])
        finally:
            del os.environ["QAMERA_THUMBNAIL_PROCESSES"]
    # the faster decode of the two allocator settings: the stricter limit
    f, d = statistics.median(fetch), max(statistics.median(decode2), statistics.median(decode2w))
    limit = 1 / (1 / f + 1 / d)
    f2 = statistics.median(fetch2)
    return {
        "count": len(urls),
        "fetch": f,
        "decode1": statistics.median(decode1),
        "decode2": statistics.median(decode2),
        "decode2w": statistics.median(decode2w),
        "limit": limit,
        "fetch2": f2,
        "limit2": 1 / (1 / f2 + 1 / d),
        "fill": statistics.median(fill),
        "fill_in_process": statistics.median(in_process),
        "stall_ms": statistics.median(stall) * 1000,
    }


class ReceivedListing:
    """An image source whose answer has already arrived: its body is parsed in a worker thread,
    as QameraClient does, so `refresh()` measures from response received to grid painted."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.count = 0
        self.parse_s = 0.0

    async def list_images(self, status_filter: str = "all", product_id: str | None = None) -> list:
        t0 = time.perf_counter()
        images = await asyncio.to_thread(parse_body, self.body, parse_images)
        self.parse_s = time.perf_counter() - t0
        self.count = len(images)
        return images


async def bench_listing(sandbox: SandboxProcess, work: Path) -> dict[str, float]:
    headers = {"X-Api-Key": sandbox.demo_key}
    url = f"{sandbox.base_url}/api/external/image-picker"
    async with httpx.AsyncClient(timeout=120) as raw:
        body = (await raw.get(url, headers=headers)).content
    to_paint, parsed, stalls, gets, refresh_stalls = [], [], [], [], []
    loader = ThumbnailLoader(work / "listing-thumbs")
    library = ImageLibrary()
    model = ImageGridModel(library)
    view = ImageGridView(model, loader)
    view.resize(1280, 800)
    view.show()
    try:
        await loader.wait_started()  # as in the app, which makes its loader at start
        for _ in range(REPEATS):
            library.set_filter(ServerFilter(product_id="none"))  # empty the grid
            library.set_filter(ServerFilter())
            await asyncio.sleep(0.05)
            received = ReceivedListing(body)
            library.set_source(received)
            with StallMeter() as stall:
                t0 = time.perf_counter()
                await library.refresh()  # as the app applies an answer: parse, index, arrange
                await until(lambda: model.rowCount() == received.count)  # noqa: B023
                view.viewport().repaint()
                to_paint.append(time.perf_counter() - t0)
                parsed.append(received.parse_s)
            async with QameraClient(sandbox.base_url, sandbox.demo_key) as client:
                library.set_source(client)
                with StallMeter() as whole:
                    t1 = time.perf_counter()
                    await library.refresh()
                    await until(lambda: not library.arranging)
                    view.viewport().repaint()
                    gets.append(time.perf_counter() - t1)
                stalls.append(stall.worst)
                refresh_stalls.append(whole.worst)
        count = model.rowCount()
        # scroll from top to bottom, letting the loader request and cancel as a person would
        bar = view.verticalScrollBar()
        await until(lambda: bar.maximum() > 0)
        steps = 200
        for i in range(steps + 1):
            bar.setValue(bar.maximum() * i // steps)
            await asyncio.sleep(0.03)
        await asyncio.sleep(0.5)
        rss = rss_mb()
        workers_rss = sum(rss_mb(pid) for pid in loader.worker_pids)
    finally:
        await loader.aclose()
        view.close()
    return {
        "count": count,
        "to_paint_ms": statistics.median(to_paint) * 1000,
        "parse_ms": statistics.median(parsed) * 1000,
        "refresh_ms": statistics.median(gets) * 1000,
        "stall_ms": statistics.median(stalls) * 1000,
        "refresh_stall_ms": statistics.median(refresh_stalls) * 1000,
        "rss_mb": rss + workers_rss,
        "workers_rss_mb": workers_rss,
        "body_mb": len(body) / 2**20,
    }


def bench_cold_start(work: Path) -> dict[str, float]:
    data = work / "coldstart"
    env = {**os.environ, "QAMERA_STARTUP_TRACE": "exit", "QAMERA_NO_KEYRING": "1"}
    env.pop("QAMERA_API_KEY", None)
    shown, painted = [], []
    for run in range(REPEATS + 1):  # the first run fills the caches and is not counted
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, "-m", "qamera_desktop", "--demo", "--data-dir", str(data)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        marks = dict(
            (parts[1], float(parts[2]))
            for line in out.stdout.splitlines()
            if (parts := line.split()) and parts[0] == "trace" and len(parts) == 3
        )
        if "thumbnails-painted" not in marks:
            raise RuntimeError(f"cold start trace missing: {out.stdout}\n{out.stderr[-2000:]}")
        if run:
            shown.append(marks["window-shown"] - t0)
            painted.append(marks["thumbnails-painted"] - t0)
    return {"shown_s": statistics.median(shown), "painted_s": statistics.median(painted)}


def report(
    fill: dict[str, float] | None, listing: dict[str, float] | None, cold: dict[str, float] | None
) -> None:
    if fill is not None:
        report_fill(fill)
    if listing is not None:
        report_listing(listing)
    if cold is not None:
        report_cold(cold)


def report_fill(fill: dict[str, float]) -> None:
    print(f"thumbnail fill ({fill['count']:.0f} thumbnails at {THUMB} px, median of {REPEATS}):")
    print(f"  fetch only, 1 process {fill['fetch']:8.0f} /s  (6 connections)")
    print(f"  fetch only, 2 procs.  {fill['fetch2']:8.0f} /s  (3 + 3, as the thumbnail workers)")
    print(f"  decode only, 1 thread {fill['decode1']:8.0f} /s")
    print(f"  decode only, 2 threads{fill['decode2']:8.0f} /s  (the app's allocator settings)")
    print(f"    with a worker's     {fill['decode2w']:8.0f} /s  (allocator: memory.WORKER)")
    print(f"  limit 1/(1/f+1/d)     {fill['limit']:8.0f} /s  (f in one process, d the faster)")
    print(f"  limit 1/(1/f2+1/d)    {fill['limit2']:8.0f} /s  (f in two processes)")
    print(
        f"  grid fill rate        {fill['fill']:8.0f} /s  = {fill['fill'] / fill['limit']:.2f} "
        f"/ {fill['fill'] / fill['limit2']:.2f} of the two limits (target >= 0.80)"
    )
    print(
        f"    in one process        {fill['fill_in_process']:8.0f} /s  = "
        f"{fill['fill_in_process'] / fill['limit']:.2f} / "
        f"{fill['fill_in_process'] / fill['limit2']:.2f} (QAMERA_THUMBNAIL_PROCESSES=0)"
    )
    print(f"  longest GUI stall     {fill['stall_ms']:8.1f} ms (target < 34)")


def report_listing(listing: dict[str, float]) -> None:
    print(f"listing of {listing['count']:,.0f} images ({listing['body_mb']:.1f} MB of JSON):")
    print(
        f"  response to painted   {listing['to_paint_ms']:8.0f} ms (target < 300) "
        f"= {listing['to_paint_ms'] / 300:.2f} of target"
    )
    print(f"    of which JSON+records{listing['parse_ms']:7.0f} ms (worker thread)")
    print(f"  whole refresh (GET+)  {listing['refresh_ms']:8.0f} ms")
    print(f"  longest GUI stall     {listing['stall_ms']:8.1f} ms (< 34), parse to paint")
    print(f"  longest GUI stall     {listing['refresh_stall_ms']:8.1f} ms (< 34), whole refresh")
    print(
        f"  RSS after scrolling   {listing['rss_mb']:8.0f} MB (target < 400) "
        f"= {listing['rss_mb'] / 400:.2f} of target\n"
        f"    of which thumbnail workers{listing['workers_rss_mb']:5.0f} MB (app + workers summed)"
    )


def report_cold(cold: dict[str, float]) -> None:
    print(f"cold start (median of {REPEATS}, warm caches):")
    print(f"  window shown          {cold['shown_s']:8.2f} s (target 1.0)")
    print(f"  thumbnails painted    {cold['painted_s']:8.2f} s (target 1.5)")


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    app = QApplication.instance() or QApplication([])
    tune_allocator()  # as app.py does
    loop = make_event_loop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(coro)


def main() -> None:
    parts = set(sys.argv[1:]) or {"fill", "listing", "cold"}  # e.g. `... bench_grid listing`
    with tempfile.TemporaryDirectory(prefix="qamera-bench-") as tmp:
        work = Path(tmp)
        fill = listing = cold = None
        if parts & {"fill", "listing"}:
            print("seeding sandboxes in their own processes…", flush=True)
            args = ("--fast", "--no-rate-limit")
            small = SandboxProcess(work / "sb-small", *args, "--seed-images", str(FILL_COUNT))
            big = SandboxProcess(work / "sb-big", *args, "--seed-images", "100000")
            try:

                async def measure() -> tuple[dict[str, float] | None, dict[str, float] | None]:
                    f = await bench_fill(small, work) if "fill" in parts else None
                    lst = await bench_listing(big, work) if "listing" in parts else None
                    return f, lst

                fill, listing = run(measure())
            finally:
                small.terminate()
                big.terminate()
        if "cold" in parts:
            cold = bench_cold_start(work)
        report(fill, listing, cold)


if __name__ == "__main__":
    main()
