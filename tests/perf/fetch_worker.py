"""One process of the benchmark's multi-process fetch-only measurement (bench_grid.py).

Reads a JSON list of URLs on its first stdin line, says "ready", waits for "go", downloads them
all with the thumbnail pipeline's own client (`connections` of them), then says "done".
"""

from __future__ import annotations

import asyncio
import json
import sys

from qamera_desktop.core.thumbnails.fetch import make_client


async def fetch(urls: list[str], connections: int) -> None:
    async with make_client(max_connections=connections, timeout=30) as client:
        sem = asyncio.Semaphore(connections)

        async def one(url: str) -> None:
            async with sem:
                (await client.get(url)).raise_for_status()

        print("ready", flush=True)
        sys.stdin.readline()  # "go"
        await asyncio.gather(*(one(u) for u in urls))
    print("done", flush=True)


if __name__ == "__main__":
    urls = json.loads(sys.stdin.readline())
    asyncio.run(fetch(urls, int(sys.argv[1])))
