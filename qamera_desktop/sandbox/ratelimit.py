"""A sliding-window rate limit per API key: at most `limit` accepted requests in any `window` s.

A sliding log: each key keeps the times of its accepted requests within the window. A rejected
request is not recorded, so a client that backs off regains its budget exactly `window` seconds
after the requests it spent.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs a positive limit and window")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._log: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _expire(self, log: deque[float], now: float) -> None:
        horizon = now - self.window
        while log and log[0] <= horizon:
            log.popleft()

    def acquire(self, key: str) -> bool:
        """Record a request for `key` and return True, or return False if it is over the limit."""
        now = self._clock()
        with self._lock:
            log = self._log.setdefault(key, deque())
            self._expire(log, now)
            if len(log) >= self.limit:
                return False
            log.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
