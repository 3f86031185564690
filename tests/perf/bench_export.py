"""Export benchmark: 500 picks exported from the sandbox against the download-only throughput of
the same files, measured side by side in one run.

Run: `.venv/bin/python -m tests.perf.bench_export` (also part of `make bench`).

The sandbox runs as `python -m qamera_desktop.sandbox` in a child process (so it does not share
the exporter's GIL, as a real CDN would not), with 500 seeded images; its CDN renders each image
once, and a warm-up pass does that before anything is timed. Then, alternately, REPEATS times:
- download only: every URL fetched into memory with the export's own client and concurrency;
- export: `export_images` into a new folder (download, XMP into the JPEG, .part + fsync +
  rename, manifest).
Printed: the median of each (images/s and MB/s) and the ratio export / download-only (target
>= 0.8). Again with the CDN 50 ms away (`--cdn-latency-ms 50`), where the number of connections
decides. Figures only, no assertions.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from qamera_desktop.api import QameraClient, RateBudget
from qamera_desktop.core.export.download import DOWNLOAD_TIME_LIMIT, MAX_IMAGE_BYTES
from qamera_desktop.core.export.exporter import (
    DEFAULT_CONCURRENCY,
    ExportItem,
    ExportScope,
    export_images,
    export_items,
    make_export_client,
    select_images,
)
from qamera_desktop.core.http_download import stream_body
from qamera_desktop.core.review import Flag, Review
from tests.sandbox_fixtures import SandboxProcess

PICKS = 500
REPEATS = 5
TARGET_RATIO = 0.8
LATENCIES_MS = (0, 50)


async def picks(base_url: str, key: str) -> list[ExportItem]:
    """The first PICKS finished images of the sandbox, all picked with 4 stars."""
    async with QameraClient(base_url, key, rate_budget=RateBudget()) as client:
        images = await client.list_images()
    done = [image for image in images if image.is_done][:PICKS]
    reviews = {image.id: Review(Flag.PICK, rating=4) for image in done}
    return export_items(select_images(done, reviews, ExportScope.PICKS), reviews)


async def download_only(urls: Sequence[str], concurrency: int) -> tuple[float, int]:
    """Seconds and bytes to fetch every URL into memory, `concurrency` at a time, with the
    export's client: the limit the export is measured against."""
    gate = asyncio.Semaphore(concurrency)
    async with make_export_client(concurrency) as client:

        async def one(url: str) -> int:
            async with gate:
                chunks: list[bytes] = []
                served = await stream_body(
                    client,
                    url,
                    chunks.append,
                    max_bytes=MAX_IMAGE_BYTES,
                    time_limit=DOWNLOAD_TIME_LIMIT,
                )
                return served.size

        started = time.perf_counter()
        sizes = await asyncio.gather(*(one(url) for url in urls))
        return time.perf_counter() - started, sum(sizes)


async def export(items: Sequence[ExportItem], folder: Path, concurrency: int) -> tuple[float, int]:
    """Seconds and bytes written to export every item into a new folder."""
    started = time.perf_counter()
    result = await export_images(items, folder, concurrency=concurrency)
    elapsed = time.perf_counter() - started
    if not result.ok or len(result.written) != len(items):
        raise RuntimeError(f"the export did not write every image: {len(result.failures)} failed")
    return elapsed, sum(path.stat().st_size for path in result.written)


def _rates(runs: list[tuple[float, int]], count: int) -> tuple[float, float]:
    """Median images/s and MB/s."""
    seconds = statistics.median(s for s, _ in runs)
    size = statistics.median(b for _, b in runs)
    return count / seconds, size / seconds / 1e6


def measure(base_url: str, key: str, work: Path, latency_ms: int, concurrency: int) -> None:
    items = asyncio.run(picks(base_url, key))
    urls = [item.image.thumbnail for item in items if item.image.thumbnail]
    asyncio.run(download_only(urls, concurrency))  # warm-up: the CDN renders each image once
    fetched: list[tuple[float, int]] = []
    exported: list[tuple[float, int]] = []
    for n in range(REPEATS):
        fetched.append(asyncio.run(download_only(urls, concurrency)))
        exported.append(
            asyncio.run(export(items, work / f"run-{latency_ms}-{concurrency}-{n}", concurrency))
        )
    fetch_rate, fetch_mb = _rates(fetched, len(urls))
    export_rate, export_mb = _rates(exported, len(items))
    ratio = export_rate / fetch_rate
    verdict = "ok" if ratio >= TARGET_RATIO else f"BELOW the {TARGET_RATIO} target"
    print(
        f"CDN +{latency_ms} ms, {concurrency} connections, {len(items)} picks, "
        f"median of {REPEATS} alternate runs:\n"
        f"  download only  {fetch_rate:7.0f} images/s  {fetch_mb:6.1f} MB/s\n"
        f"  export         {export_rate:7.0f} images/s  {export_mb:6.1f} MB/s "
        f"(XMP, .part + fsync + rename, manifest)\n"
        f"  ratio export / download only: {ratio:.2f} ({verdict})",
        flush=True,
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        work = Path(tmp)
        for latency_ms in LATENCIES_MS:
            args = ["--seed-images", str(PICKS), "--no-rate-limit", "--fast"]
            if latency_ms:
                args += ["--cdn-latency-ms", str(latency_ms)]
            # the same data folder each time: the images are rendered (and cached) once
            with SandboxProcess(work / "sandbox", *args, startup_timeout=120) as proc:
                concurrencies = (
                    (DEFAULT_CONCURRENCY,) if not latency_ms else (DEFAULT_CONCURRENCY, 16)
                )
                for concurrency in concurrencies:
                    measure(proc.base_url, proc.demo_key, work / "out", latency_ms, concurrency)
                proc.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
