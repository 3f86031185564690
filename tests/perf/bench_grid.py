"""Main-window benchmarks, measured side by side in one run against sandboxes in processes of
their own.

Run: `make bench` (all benchmarks) or `.venv/bin/python -m tests.perf.bench_grid [fill] [cdn]
[listing] [cold]`.

Prints, each as a median of a few repetitions and as a ratio to its target:
- fill: thumbnail fill rate into the grid (ThumbnailLoader, cold caches) on loopback, against
  this machine's limit measured in the same run: fetch-only (the pipeline's client) and
  decode-only (Pillow draft, two threads) throughput of the same files, combined as
  1 / (1/fetch + 1/decode); and the longest gap of a 16 ms GUI timer meanwhile;
- cdn: the same over a CDN that answers in 60 ms (the sandbox's --cdn-latency-ms), as across the
  internet: one screen (40 thumbnails) and 1,000, against fetch-only with as many connections,
  for each connection count tried;
- listing: a 100,000-image listing from response received to grid painted, the longest GUI stall
  meanwhile, and resident memory after scrolling the grid from top to bottom;
- cold: a fresh process to window shown and to first thumbnails painted from a warm cache, as a
  ratio to a bare PySide6 window with the same heavy imports launched in the same run. With
  BENCH_BASELINE_DIR set to another checkout, its app is launched in the same run too.
"""

from __future__ import annotations

import asyncio
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
from qamera_desktop.core.thumbnails.decode import decode_thumbnail
from qamera_desktop.core.thumbnails.pipeline import DEFAULT_CONNECTIONS
from qamera_desktop.memory import tune_allocator
from qamera_desktop.ui.event_loop import make_event_loop
from qamera_desktop.ui.image_grid_model import ImageGridModel
from qamera_desktop.ui.image_grid_view import ImageGridView
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader
from tests.perf.fetch_only import fetch_all
from tests.sandbox_fixtures import SandboxProcess

FILL_COUNT = 1000
SCREEN = 40  # thumbnails on one screen of the grid at the default size
CDN_LATENCY_MS = 60
CDN_CONNECTIONS = (6, DEFAULT_CONNECTIONS) if DEFAULT_CONNECTIONS != 6 else (6, 16)
sys.setswitchinterval(float(os.environ.get("BENCH_SWITCH", "0.005")))
REPEATS = 3
COLD_REPEATS = 7  # launches are short and noisy: more of them for a steady median
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


def decode_rate(bodies: list[bytes], workers: int) -> float:
    """Decode-only throughput of `workers` threads (Pillow draft, as the pipeline decodes)."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda b: decode_thumbnail(b, THUMB), bodies))
    return len(bodies) / (time.perf_counter() - t0)


async def until(predicate: Callable[[], bool], limit_s: float = 120.0) -> None:
    deadline = time.perf_counter() + limit_s
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(0.002)


async def fill_rate(urls: list[str], cache_dir: Path, **options: Any) -> tuple[float, float]:
    """Thumbnails per second into a fresh ThumbnailLoader, and the longest GUI stall meanwhile."""
    loader = ThumbnailLoader(cache_dir, **options)
    done: set[str] = set()
    all_done = asyncio.Event()  # not a polling loop: the benchmark takes no CPU from the fill

    def arrived(got: list[str]) -> None:
        done.update(got)
        if len(done) >= len(urls):
            all_done.set()

    try:
        # The app makes its loader at start, so its worker is up by the time the grid fills:
        # one small thumbnail first, then the clock starts.
        loader.set_wanted("icons", [urls[0]], 32)
        await until(lambda: loader.state(urls[0], 32) == "ready")
        loader.set_wanted("icons", [], 32)
        loader.ready.connect(arrived)
        with StallMeter() as stall:
            t0 = time.perf_counter()
            loader.set_wanted("grid", urls, THUMB)
            await asyncio.wait_for(all_done.wait(), 120)
            elapsed = time.perf_counter() - t0
        return len(urls) / elapsed, stall.worst
    finally:
        await loader.aclose()


async def thumbnail_urls(sandbox: SandboxProcess) -> list[str]:
    async with QameraClient(sandbox.base_url, sandbox.demo_key) as client:
        images = await client.list_images()
    urls = [i.thumbnail for i in images if i.thumbnail][:FILL_COUNT]
    await fetch_all(urls, 16)  # the sandbox renders lazily: warm its disk cache first
    return urls


async def bench_fill(sandbox: SandboxProcess, work: Path) -> dict[str, float]:
    urls = await thumbnail_urls(sandbox)
    fetch, decode1, decode2, fill, stall = [], [], [], [], []
    for run in range(REPEATS):
        f, bodies = await fetch_all(urls, DEFAULT_CONNECTIONS)
        fetch.append(f)
        decode1.append(decode_rate(bodies, 1))
        decode2.append(decode_rate(bodies, 2))
        rate, worst = await fill_rate(urls, work / f"fill-{run}")
        fill.append(rate)
        stall.append(worst)
    f, d = statistics.median(fetch), statistics.median(decode2)
    return {
        "count": len(urls),
        "fetch": f,
        "decode1": statistics.median(decode1),
        "decode2": d,
        "limit": 1 / (1 / f + 1 / d),
        "fill": statistics.median(fill),
        "stall_ms": statistics.median(stall) * 1000,
    }


async def bench_cdn(sandbox: SandboxProcess, work: Path) -> dict[int, dict[str, float]]:
    """Fill over a CDN with CDN_LATENCY_MS per request, per connection count."""
    urls = await thumbnail_urls(sandbox)
    results: dict[int, dict[str, float]] = {}
    for connections in CDN_CONNECTIONS:
        fetch, screen, fill, stall = [], [], [], []
        for run in range(REPEATS):
            fetch.append((await fetch_all(urls, connections))[0])
            rate, _ = await fill_rate(
                urls[:SCREEN], work / f"cdn-screen-{connections}-{run}", max_connections=connections
            )
            screen.append(SCREEN / rate)
            rate, worst = await fill_rate(
                urls, work / f"cdn-fill-{connections}-{run}", max_connections=connections
            )
            fill.append(rate)
            stall.append(worst)
        results[connections] = {
            "fetch": statistics.median(fetch),
            "ideal": connections / (CDN_LATENCY_MS / 1000),
            "screen_s": statistics.median(screen),
            "fill": statistics.median(fill),
            "stall_ms": statistics.median(stall) * 1000,
        }
    return results


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
        # the app makes its loader at start: its worker (~0.5 s of CPU to import httpx and
        # Pillow) is up long before a 100k listing arrives, so that start-up is not measured here
        await asyncio.sleep(2.0)
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
        worker = loader.worker_pid
        worker_rss = rss_mb(worker) if worker is not None else 0.0
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
        "rss_mb": rss + worker_rss,
        "worker_rss_mb": worker_rss,
        "body_mb": len(body) / 2**20,
    }


def _trace_marks(command: list[str], cwd: Path | None, env: dict[str, str]) -> dict[str, float]:
    """Run a program that prints `trace NAME UNIX_TIME` lines; their times, from its launch."""
    t0 = time.time()
    out = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    marks = {
        parts[1]: float(parts[2]) - t0
        for line in out.stdout.splitlines()
        if (parts := line.split()) and parts[0] == "trace" and len(parts) == 3
    }
    if "window-shown" not in marks:
        raise RuntimeError(f"cold start trace missing: {out.stdout}\n{out.stderr[-2000:]}")
    return marks


def bench_cold_start(work: Path) -> dict[str, dict[str, float]]:
    """Each program launched in turn, round after round: they share the machine's moments."""
    env = {**os.environ, "QAMERA_STARTUP_TRACE": "exit", "QAMERA_NO_KEYRING": "1"}
    env.pop("QAMERA_API_KEY", None)
    # an installed app starts from compiled bytecode (pip and the frozen app both have it); a
    # shell with PYTHONDONTWRITEBYTECODE would have every launch compile the app's sources
    # (~170 ms here), which no designer pays. The uncounted first round writes the .pyc files.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    app = [sys.executable, "-m", "qamera_desktop", "--demo"]
    programs: dict[str, tuple[list[str], Path | None]] = {
        "bare window": ([sys.executable, "-m", "tests.perf.bare_window"], None),
        "app": ([*app, "--data-dir", str(work / "coldstart")], None),
    }
    baseline = os.environ.get("BENCH_BASELINE_DIR")
    if baseline:
        programs["baseline app"] = (
            [*app, "--data-dir", str(work / "coldstart-base")],
            Path(baseline),
        )
    times: dict[str, dict[str, list[float]]] = {name: {} for name in programs}
    # The first two rounds are not counted: the first fills the caches (and keeps the listing),
    # and saves the window's size, which the second restores: its first screen may show images
    # the first did not, whose thumbnails the second loads. From the third, the caches are warm.
    for run in range(COLD_REPEATS + 2):
        for name, (command, cwd) in programs.items():
            marks = _trace_marks(command, cwd, env)
            if run >= 2:
                for mark, seconds in marks.items():
                    times[name].setdefault(mark, []).append(seconds)
    return {
        name: {mark: statistics.median(values) for mark, values in marks.items()}
        for name, marks in times.items()
    }


def report_fill(fill: dict[str, float]) -> None:
    print(f"thumbnail fill on loopback ({fill['count']:.0f} at {THUMB} px, median of {REPEATS}):")
    print(f"  fetch only             {fill['fetch']:8.0f} /s  ({DEFAULT_CONNECTIONS} connections)")
    print(f"  decode only, 1 thread  {fill['decode1']:8.0f} /s")
    print(f"  decode only, 2 threads {fill['decode2']:8.0f} /s")
    print(f"  limit 1/(1/f+1/d)      {fill['limit']:8.0f} /s")
    print(
        f"  grid fill rate         {fill['fill']:8.0f} /s  = {fill['fill'] / fill['limit']:.2f} "
        "of the limit (target >= 0.80)"
    )
    print(f"  longest GUI stall      {fill['stall_ms']:8.1f} ms (target < 34)")


def report_cdn(cdn: dict[int, dict[str, float]]) -> None:
    print(f"thumbnail fill over a CDN at {CDN_LATENCY_MS} ms a request (median of {REPEATS}):")
    for connections, r in cdn.items():
        default = " (the app's)" if connections == DEFAULT_CONNECTIONS else ""
        print(f"  {connections} connections{default}:")
        print(
            f"    fetch only           {r['fetch']:8.0f} /s  "
            f"(ideal {connections}/{CDN_LATENCY_MS} ms = {r['ideal']:.0f} /s)"
        )
        print(
            f"    one screen ({SCREEN})      {r['screen_s']:8.2f} s   "
            f"(fetch-only pace {SCREEN / r['fetch']:.2f} s)"
        )
        print(
            f"    {FILL_COUNT} thumbnails      {r['fill']:8.0f} /s  = "
            f"{r['fill'] / r['fetch']:.2f} of fetch only"
        )
        print(f"    longest GUI stall    {r['stall_ms']:8.1f} ms")


def report_listing(listing: dict[str, float]) -> None:
    print(f"listing of {listing['count']:,.0f} images ({listing['body_mb']:.1f} MB of JSON):")
    print(
        f"  response to painted    {listing['to_paint_ms']:8.0f} ms (target < 300) "
        f"= {listing['to_paint_ms'] / 300:.2f} of target"
    )
    print(f"    of which JSON+records{listing['parse_ms']:7.0f} ms (worker thread)")
    print(f"  whole refresh (GET+)   {listing['refresh_ms']:8.0f} ms")
    print(f"  longest GUI stall      {listing['stall_ms']:8.1f} ms (< 34), parse to paint")
    print(f"  longest GUI stall      {listing['refresh_stall_ms']:8.1f} ms (< 34), whole refresh")
    print(
        f"  RSS after scrolling    {listing['rss_mb']:8.0f} MB (target < 400) "
        f"= {listing['rss_mb'] / 400:.2f} of target\n"
        f"    of which the thumbnail worker {listing['worker_rss_mb']:4.0f} MB (summed)"
    )


def report_cold(cold: dict[str, dict[str, float]]) -> None:
    bare = cold["bare window"]["window-shown"]
    print(f"cold start, warm caches (median of {COLD_REPEATS}; launched in turn, in one run):")
    print(f"  bare PySide6 window    {bare:8.2f} s   (same heavy imports, a list view)")
    for name, marks in cold.items():
        if name == "bare window":
            continue
        shown, painted = marks["window-shown"], marks.get("thumbnails-painted", float("nan"))
        print(f"  {name + ' window':22} {shown:8.2f} s = {shown / bare:.2f}x bare (target <= 1.3)")
        print(
            f"  {name + ' thumbnails':22} {painted:8.2f} s = {painted / bare:.2f}x bare "
            "(target <= 2.0)"
        )


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    app = QApplication.instance() or QApplication([])
    tune_allocator()  # as app.py does
    loop = make_event_loop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(coro)


def main() -> None:
    parts = set(sys.argv[1:]) or {"fill", "cdn", "listing", "cold"}
    with tempfile.TemporaryDirectory(prefix="qamera-bench-") as tmp:
        work = Path(tmp)
        args = ("--fast", "--no-rate-limit")
        sandboxes: dict[str, SandboxProcess] = {}
        print("seeding sandboxes in their own processes…", flush=True)
        try:
            if "fill" in parts:
                sandboxes["fill"] = SandboxProcess(
                    work / "sb-small", *args, "--seed-images", str(FILL_COUNT)
                )
            if "cdn" in parts:
                sandboxes["cdn"] = SandboxProcess(
                    work / "sb-cdn",
                    *args,
                    "--seed-images",
                    str(FILL_COUNT),
                    "--cdn-latency-ms",
                    str(CDN_LATENCY_MS),
                )
            if "listing" in parts:
                sandboxes["listing"] = SandboxProcess(
                    work / "sb-big", *args, "--seed-images", "100000"
                )

            async def measure() -> None:
                if "fill" in parts:
                    report_fill(await bench_fill(sandboxes["fill"], work))
                if "cdn" in parts:
                    report_cdn(await bench_cdn(sandboxes["cdn"], work))
                if "listing" in parts:
                    report_listing(await bench_listing(sandboxes["listing"], work))

            if sandboxes:
                run(measure())
        finally:
            for sandbox in sandboxes.values():
                sandbox.terminate()
        if "cold" in parts:
            report_cold(bench_cold_start(work))


if __name__ == "__main__":
    main()
