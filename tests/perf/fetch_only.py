"""Download-only throughput with the thumbnail pipeline's own client: the fetch limit that the
benchmarks compare the grid's fill against."""

from __future__ import annotations

import asyncio
import time

from qamera_desktop.core.thumbnails.fetch import make_client


async def fetch_all(urls: list[str], connections: int = 6) -> tuple[float, list[bytes]]:
    """Download-only throughput with the pipeline's own client settings and `connections`
    connections: what this machine's network path can do at best. Returns (per second, bodies)."""
    async with make_client(max_connections=connections, timeout=30) as client:
        sem = asyncio.Semaphore(connections)

        async def one(url: str) -> bytes:
            async with sem:
                r = await client.get(url)
                r.raise_for_status()
                return r.content

        t0 = time.perf_counter()
        bodies = await asyncio.gather(*(one(u) for u in urls))
        return len(urls) / (time.perf_counter() - t0), list(bodies)
