"""Run coroutines in the background with strong references, and route every failure somewhere
visible instead of letting it vanish as "Task exception was never retrieved"."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

ErrorHandler = Callable[[str, BaseException], None]


class BackgroundTasks:
    def __init__(self, on_error: ErrorHandler) -> None:
        self._on_error = on_error
        self._tasks: set[asyncio.Task[Any]] = set()

    def start[T](self, coro: Coroutine[Any, Any, T], what: str) -> asyncio.Task[T]:
        """Schedule `coro`; `what` names it in an error message ("Loading images")."""
        task = asyncio.get_event_loop().create_task(coro, name=what)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("%s failed", task.get_name(), exc_info=exc)
            try:
                self._on_error(task.get_name(), exc)
            except Exception:
                log.exception("error handler failed")

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
