"""Download-only throughput with the thumbnail pipeline's own client, in this process or, run as
`python -m tests.perf.fetch_worker CONNECTIONS`, as one process of bench_grid's multi-process
measurement: it reads a JSON list of URLs on its first stdin line, says "ready", waits for "go",
downloads them, then says "done".
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable

from qamera_desktop.core.thumbnails.fetch import make_client


async def fetch_all(
    urls: list[str], connections: int = 6, before_start: Callable[[], None] | None = None
) -> tuple[float, list[bytes]]:
    """Download-only throughput, with the thumbnail pipeline's own client (same transport,
    `connections` of them): what this machine's network path can do at best.
    `before_start` runs once the client is built, just before the clock starts."""
    async with make_client(max_connections=connections, timeout=30) as client:
        sem = asyncio.Semaphore(connections)

        async def one(url: str) -> bytes:
            async with sem:
                r = await client.get(url)
                r.raise_for_status()
                return r.content

        if before_start is not None:
            before_start()
        t0 = time.perf_counter()
        bodies = await asyncio.gather(*(one(u) for u in urls))
        return len(urls) / (time.perf_counter() - t0), list(bodies)


def _ready_then_wait_for_go() -> None:
    print("ready", flush=True)
    sys.stdin.readline()  # "go"


if __name__ == "__main__":
    urls = json.loads(sys.stdin.readline())
    asyncio.run(fetch_all(urls, int(sys.argv[1]), _ready_then_wait_for_go))
    print("done", flush=True)
