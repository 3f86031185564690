"""At most 60 requests per rolling 60 seconds per API key, for the whole process.

A `RateBudget` hands out slots in order: `await budget.acquire()` books the earliest moment at which
one more request keeps every window of `window` seconds at or below `limit` requests, then sleeps
until that moment. Booking happens before the sleep, so waiting callers are served first come,
first served and a newcomer never jumps the queue. A caller cancelled while waiting gives its slot
back. The clock and the sleep are injectable, so tests run without waiting.

`shared_budget(key)` is the one budget of a key in this process: every `QameraClient` of that key
uses it unless it is given another one. The registry is keyed by the key's per-process
fingerprint, never by the key.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time

from .api_key import ApiKey
from .timing import Clock, Sleep

DEFAULT_LIMIT = 60
DEFAULT_WINDOW = 60.0


class RateBudget:
    """A sliding-window request budget. Safe to share between tasks, loops and threads."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError("limit must be a positive integer")
        if not window > 0:
            raise ValueError("window must be positive")
        self.limit = limit
        self.window = float(window)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots: list[float] = []  # start times of booked requests, ascending

    def _forget_expired(self, now: float) -> None:
        cutoff = now - self.window
        expired = bisect.bisect_right(self._slots, cutoff)
        del self._slots[:expired]

    def book(self) -> tuple[float, float]:
        """Book the next slot now: (its start time, seconds to wait before it)."""
        with self._lock:
            now = self._clock()
            self._forget_expired(now)
            start = now
            if self._slots:
                start = max(start, self._slots[-1])
            if len(self._slots) >= self.limit:
                start = max(start, self._slots[-self.limit] + self.window)
            self._slots.append(start)
            return start, start - now

    def release(self, start: float) -> None:
        """Give back a booked slot that was not used (its caller was cancelled, or its request
        never reached the server)."""
        with self._lock:
            index = bisect.bisect_left(self._slots, start)
            if index < len(self._slots) and self._slots[index] == start:
                del self._slots[index]

    async def acquire(self) -> float:
        """Wait until one more request fits in the budget, and count it. Returns its slot, for
        `release` when the request never reached the server."""
        start, wait = self.book()
        if wait <= 0:
            return start
        try:
            await self._sleep(wait)
        except asyncio.CancelledError:
            self.release(start)
            raise
        return start

    def in_use(self) -> int:
        """Slots booked within the current window (including ones booked for later)."""
        with self._lock:
            self._forget_expired(self._clock())
            return len(self._slots)

    def available(self) -> int:
        """Requests that may start right now without waiting."""
        with self._lock:
            now = self._clock()
            self._forget_expired(now)
            if self._slots and self._slots[-1] > now:
                return 0  # callers are already queued
            return max(0, self.limit - len(self._slots))

    def __repr__(self) -> str:
        return f"RateBudget(limit={self.limit}, window={self.window:g}, in_use={self.in_use()})"


_registry: dict[str, RateBudget] = {}
_registry_lock = threading.Lock()


def shared_budget(api_key: ApiKey | str) -> RateBudget:
    """The process-wide budget of an API key (created on first use)."""
    key = api_key if isinstance(api_key, ApiKey) else ApiKey(api_key)
    with _registry_lock:
        budget = _registry.get(key.fingerprint)
        if budget is None:
            budget = _registry[key.fingerprint] = RateBudget()
        return budget


def forget_shared_budgets() -> None:
    """Drop every shared budget (for tests, and for the app when it signs out of every account)."""
    with _registry_lock:
        _registry.clear()
