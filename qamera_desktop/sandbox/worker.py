"""The queue consumer: takes QUEUED images in registration order, "generates" them, settles credits.

Each image: QUEUED -> PROCESSING (claimed in a transaction) -> wait the processing time -> render
the JPEG into the CDN cache (thread pool) -> DONE + CONSUME, or FAILED + REFUND for the configured
fraction (one transaction). A crash between the steps leaves the image PROCESSING with its credits
still reserved; the next start resumes it from the beginning, and the ledger balances throughout.

Runs as `worker_concurrency` asyncio tasks in the server's event loop; blocking work (SQLite,
Pillow) goes to threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from concurrent.futures import Executor

from starlette.concurrency import run_in_threadpool

from qamera_desktop.sandbox.cdn import ThumbnailCache
from qamera_desktop.sandbox.config import ConfigHolder
from qamera_desktop.sandbox.store import Store

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 1.0
"""How often an idle worker looks at the queue without being woken (jobs from another process)."""


class Worker:
    def __init__(
        self, store: Store, config: ConfigHolder, thumbnails: ThumbnailCache, executor: Executor
    ) -> None:
        self._store = store
        self._config = config
        self._thumbnails = thumbnails
        self._executor = executor
        self._wakeup: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._resume: list[str] = []
        self._random = random.Random()  # not the process-wide generator
        self.done = 0
        self.failed = 0

    def wake(self) -> None:
        """A job was queued: stop waiting. Call from the event loop's thread."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def start(self) -> None:
        self._wakeup = asyncio.Event()
        self._resume = await run_in_threadpool(self._store.interrupted_images)
        if self._resume:
            log.info("resuming %d image(s) interrupted by the last shutdown", len(self._resume))
        for n in range(self._config.current.worker_concurrency):
            self._tasks.append(asyncio.create_task(self._run(), name=f"sandbox-worker-{n}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _next(self) -> str | None:
        if self._resume:
            return self._resume.pop(0)
        return await run_in_threadpool(self._store.claim_next_image)

    async def _run(self) -> None:
        assert self._wakeup is not None
        while True:
            try:
                image_id = await self._next()
            except Exception:
                log.exception("the sandbox worker could not read its queue")
                image_id = None
            if image_id is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), IDLE_POLL_SECONDS)
                self._wakeup.clear()
                continue
            await self._process(image_id)

    async def _process(self, image_id: str) -> None:
        config = self._config.current
        delay = config.effective_processing_seconds
        if delay > 0:
            await asyncio.sleep(delay)
        succeeded = self._random.random() >= config.failure_rate
        if succeeded:
            try:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(
                    self._executor, self._thumbnails.render_to_cache, "images", image_id
                )
            except Exception:
                log.exception(
                    "rendering %s failed; the image fails and its credits are refunded", image_id
                )
                succeeded = False
        while True:
            try:
                await run_in_threadpool(self._store.finish_image, image_id, succeeded)
                break
            except Exception:  # e.g. the disk is full: keep the credits reserved and retry
                log.exception("could not settle %s; retrying", image_id)
                await asyncio.sleep(1.0)
        if succeeded:
            self.done += 1
        else:
            self.failed += 1
