"""Export test set-up: the real sandbox (a fresh one per test), its demo listing as the app reads
it, and a runner that does what the window does: the export on `asyncio.run()` in a worker
thread, never on the test's (Qt) loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from qamera_desktop.api import Image, Product, QameraClient, RateBudget
from qamera_desktop.core.export.exporter import product_index
from qamera_desktop.sandbox import SandboxHandle
from tests.sandbox_fixtures import make_sandbox_fixtures

sandbox_factory, sandbox = make_sandbox_fixtures()

RUN_LIMIT_S = 60.0


def run_in_thread[T](coro: Coroutine[Any, Any, T], limit: float = RUN_LIMIT_S) -> T:
    """`asyncio.run(coro)` on a thread of its own, as the window runs an export."""
    with ThreadPoolExecutor(1, thread_name_prefix="export-test") as pool:
        return pool.submit(asyncio.run, coro).result(limit)


@dataclass(frozen=True)
class Listing:
    images: list[Image]
    products: dict[str, Product]  # image id -> product

    @property
    def done(self) -> list[Image]:
        return [image for image in self.images if image.is_done]


def demo_listing(sandbox: SandboxHandle) -> Listing:
    """The sandbox's demo images and their products, read with the app's own client."""

    async def read() -> Listing:
        # a budget of its own: the process-wide one of the demo key would make later tests wait
        budget = RateBudget()
        async with QameraClient(sandbox.base_url, sandbox.demo_key, rate_budget=budget) as client:
            return Listing(await client.list_images(), await product_index(client))

    return run_in_thread(read())
