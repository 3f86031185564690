"""Thumbnail pipeline benchmark: fill rate against this machine's fetch and decode limits.

Run: `.venv/bin/python -m tests.perf.bench_thumbnails` (or `make bench` for every benchmark).

Generates ~200 photo-like JPEGs (1024 px, some 2048 px), serves them over loopback HTTP from a
separate process (HTTP/1.1, keep-alive, like a CDN), and prints, side by side in one run, each as
the median of a few repetitions:
- fetch-only throughput: the files downloaded with the pipeline's own httpx client settings;
- decode-only throughput: decode_thumbnail to 256 px on 1 and on 2 threads;
- the combined limit 1 / (1/fetch + 1/decode2): both share the same CPUs;
- the pipeline's end-to-end fill rate from a cold disk cache, and its ratio to that limit
  (target >= 0.8), plus the rate from a warm disk cache (no HTTP at all).

No Qt: the pipeline runs on a plain asyncio loop here (qasync's in the app).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from qamera_desktop.core.thumbnails.decode import decode_thumbnail
from qamera_desktop.core.thumbnails.fetch import fetch_bytes, make_client
from qamera_desktop.core.thumbnails.pipeline import ThumbnailPipeline
from qamera_desktop.core.thumbnails.records import DecodedThumbnail, ThumbnailKey

COUNT = 200
LARGE_EVERY = 7  # every 7th image is 2048 px wide (~29 of 200)
THUMB = 256
REPEATS = 5
CONNECTIONS = 6
WORKERS = 2
TARGET_RATIO = 0.8


# ------------------------------------------------------------------------------ images
@functools.cache
def _noise(width: int, height: int) -> Image.Image:
    return Image.effect_noise((width, height), 24).convert("RGB")


def photo_jpeg(width: int, height: int, seed: int) -> bytes:
    """Smooth gradients, soft shapes and a little sensor noise, JPEG quality 85."""
    rnd = random.Random(seed)
    small = (width // 4, height // 4)
    img = Image.linear_gradient("L").resize(small).convert("RGB")
    tint = Image.new("RGB", small, (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    img = Image.blend(img, tint, 0.5)
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = rnd.randrange(small[0]), rnd.randrange(small[1])
        r = rnd.randrange(4, small[0] // 5)
        colour = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(1.5)).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    noise = ImageChops.offset(_noise(width, height), rnd.randrange(width), rnd.randrange(height))
    img = Image.blend(img, noise, 0.06)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def generate(count: int) -> dict[str, bytes]:
    def one(i: int) -> tuple[str, bytes]:
        large = i % LARGE_EVERY == 0
        width = 2048 if large else 1024
        height = width * 3 // 4 if i % 5 else width * 4 // 3  # some portraits
        return f"/img/{i:04d}.jpg", photo_jpeg(width, height, seed=i)

    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(pool.map(one, range(count)))


def parallelism() -> float:
    """How much faster two threads hash than one (GIL released): ~2 on two idle cores."""
    data = bytes(8 * 2**20)

    def work(threads: int) -> float:
        with ThreadPoolExecutor(threads) as pool:
            start = time.perf_counter()
            list(pool.map(lambda _: hashlib.sha256(data).digest(), range(8)))
            return time.perf_counter() - start

    return statistics.median(work(1) for _ in range(3)) / statistics.median(
        work(2) for _ in range(3)
    )


# ------------------------------------------------------------------------------ server
def _serve(folder: str, conn: Connection) -> None:
    """Child process: serve every file of `folder` at /img/<name>, report the port, run."""
    files = {f"/img/{p.name}": p.read_bytes() for p in Path(folder).iterdir()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "public, max-age=31536000")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 64

    server = Server(("127.0.0.1", 0), Handler)
    conn.send(server.server_address[1])
    server.serve_forever()


class ServerProcess:
    def __init__(self, files: dict[str, bytes]) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-thumbs-srv-")
        for path, body in files.items():
            (Path(self._dir.name) / path.rsplit("/", 1)[1]).write_bytes(body)
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(self._dir.name, child), daemon=True)
        self._proc.start()
        if not parent.poll(30):
            raise RuntimeError("benchmark server did not start")
        self.base_url = f"http://127.0.0.1:{parent.recv()}"

    def close(self) -> None:
        self._proc.terminate()
        self._proc.join(10)
        self._dir.cleanup()


# ------------------------------------------------------------------------------ measurements
def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


async def fetch_all(urls: Sequence[str]) -> float:
    """Seconds to download every URL with the pipeline's client settings, 6 at a time."""
    client = make_client(max_connections=CONNECTIONS, timeout=15.0)
    gate = asyncio.Semaphore(CONNECTIONS)

    async def one(url: str) -> int:
        async with gate:
            return len(await fetch_bytes(client, url, max_bytes=20 * 2**20, time_limit=15.0))

    try:
        start = time.perf_counter()
        sizes = await asyncio.gather(*(one(u) for u in urls))
        elapsed = time.perf_counter() - start
    finally:
        await client.aclose()
    assert len(sizes) == len(urls)
    return elapsed


def decode_all(bodies: Sequence[bytes], threads: int) -> float:
    with ThreadPoolExecutor(threads) as pool:
        start = time.perf_counter()
        results = list(pool.map(lambda b: decode_thumbnail(b, THUMB), bodies))
        elapsed = time.perf_counter() - start
    assert all(r.width == THUMB or r.height == THUMB for r in results)
    return elapsed


class CountingTransport(httpx.AsyncHTTPTransport):
    """The transport the pipeline's client would make itself, counting requests and bytes."""

    def __init__(self) -> None:
        super().__init__(limits=httpx.Limits(max_connections=CONNECTIONS))
        self.requests = 0
        self.bytes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        self.requests += 1
        self.bytes += int(response.headers.get("content-length", 0))
        return response


async def fill(urls: Sequence[str], cache_dir: Path) -> tuple[float, CountingTransport]:
    """Seconds from want() to the last on_ready for every URL; and what went over the network."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    ready: set[ThumbnailKey] = set()
    keys = [ThumbnailKey(u, THUMB) for u in urls]

    def on_ready(key: ThumbnailKey, thumb: DecodedThumbnail) -> None:
        ready.add(key)
        if len(ready) == len(keys) and not done.done():
            done.set_result(None)

    def on_failed(key: ThumbnailKey, reason: str) -> None:
        if not done.done():
            done.set_exception(RuntimeError(f"{key.url}: {reason}"))

    network = CountingTransport()
    pipeline = ThumbnailPipeline(
        cache_dir,
        on_ready=on_ready,
        on_failed=on_failed,
        max_connections=CONNECTIONS,
        decode_workers=WORKERS,
        transport=network,
    )
    try:
        start = time.perf_counter()
        pipeline.want(keys)
        await asyncio.wait_for(done, 300)
        elapsed = time.perf_counter() - start
    finally:
        await pipeline.aclose()
    return elapsed, network


def one_round(urls: Sequence[str], bodies: Sequence[bytes]) -> dict[str, float]:
    """Every measurement once, back to back, so that they share the machine's current load."""
    fetch = rate(COUNT, asyncio.run(fetch_all(urls)))
    decode1 = rate(COUNT, decode_all(bodies, 1))
    decode2 = rate(COUNT, decode_all(bodies, 2))
    with tempfile.TemporaryDirectory(prefix="bench-thumbs-cache-") as cache:
        cold, cold_network = asyncio.run(fill(urls, Path(cache)))
        warm, warm_network = asyncio.run(fill(urls, Path(cache)))
    assert cold_network.requests == COUNT
    assert warm_network.requests == 0  # every thumbnail from the disk cache
    limit = 1 / (1 / fetch + 1 / decode2)
    return {
        "fetch": fetch,
        "decode1": decode1,
        "decode2": decode2,
        "limit": limit,
        "cold": rate(COUNT, cold),
        "ratio": rate(COUNT, cold) / limit,
        "warm": rate(COUNT, warm),
        "spare": parallelism(),
        "mb": cold_network.bytes / 2**20,
    }


def main() -> None:
    print(f"Generating {COUNT} JPEGs ...", flush=True)
    t0 = time.perf_counter()
    files = generate(COUNT)
    sizes = sorted(len(b) for b in files.values())
    print(
        f"  {len(files)} files in {time.perf_counter() - t0:.1f} s, "
        f"{sum(sizes) / 2**20:.1f} MB, median {sizes[len(sizes) // 2] // 1024} KB, "
        f"{sum(1 for i in range(COUNT) if i % LARGE_EVERY == 0)} at 2048 px",
        flush=True,
    )
    server = ServerProcess(files)
    try:
        urls = [server.base_url + path for path in files]
        bodies = list(files.values())
        asyncio.run(fetch_all(urls[:20]))  # warm-up: connections, imports, page cache
        decode_all(bodies[:20], 2)
        rounds = [one_round(urls, bodies) for _ in range(REPEATS)]
    finally:
        server.close()

    def med(name: str) -> float:
        return statistics.median(r[name] for r in rounds)

    def spread(name: str) -> str:
        return "/".join(f"{r[name]:.0f}" for r in rounds)

    ratio = med("ratio")
    ratios = "/".join(f"{r['ratio']:.2f}" for r in rounds)
    verdict = "OK" if ratio >= TARGET_RATIO else "LOW"
    rows = [
        (f"fetch only ({CONNECTIONS} connections)", "fetch", ""),
        ("decode only, 1 thread", "decode1", ""),
        ("decode only, 2 threads", "decode2", f", x{med('decode2') / med('decode1'):.2f}"),
        ("combined limit 1/(1/f+1/d2)", "limit", ""),
        ("pipeline, cold disk cache", "cold", ""),
        ("pipeline, warm disk cache", "warm", ", no HTTP"),
    ]
    print(f"\nThumbnails to {THUMB} px, {COUNT} files: median of {REPEATS} rounds (each round)")
    for label, name, note in rows:
        print(f"  {label:<30} {med(name):7.1f} files/s  ({spread(name)}){note}")
    print(f"  {'ratio cold / limit':<30} {ratio:7.2f}          ({ratios}), ", end="")
    print(f"target >= {TARGET_RATIO}: {verdict}")
    print(f"  {'downloaded per cold fill':<30} {med('mb'):7.1f} MB")
    print(
        f"  machine: {os.cpu_count()} CPUs; two threads hash x{med('spare'):.2f} faster than one "
        f"(~2 when both cores are free), python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
