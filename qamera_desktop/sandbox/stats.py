"""What the sandbox has received, for tests that assert on the client's behaviour
("the app stayed within 60 requests a minute", "the POST was sent once")."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SandboxStats:
    """A snapshot of the requests a sandbox received since it started (or since `reset_stats()`).

    Times are `time.monotonic()` values of the sandbox's process, taken when a request arrived
    (before any added latency)."""

    total: int = 0
    by_endpoint: Mapping[tuple[str, str], int] = field(default_factory=dict)
    """Requests per (method, URL path without the query), thumbnails included."""
    by_status: Mapping[int, int] = field(default_factory=dict)
    """Responses per status code."""
    key_timestamps: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    """Arrival times of the API requests (`/api/...`) per key as sent, valid or not."""

    def count(self, method: str, path: str) -> int:
        return self.by_endpoint.get((method.upper(), path), 0)

    def api_requests(self, key: str) -> int:
        return len(self.key_timestamps.get(key, ()))

    def max_in_window(self, key: str, window: float = 60.0) -> int:
        """The most API requests `key` sent within any `window` seconds."""
        times = self.key_timestamps.get(key, ())
        best = 0
        for i, t in enumerate(times):
            start = bisect_left(times, t - window + 1e-9, 0, i + 1)
            best = max(best, i + 1 - start)
        return best


class StatsRecorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._by_endpoint: Counter[tuple[str, str]] = Counter()
        self._by_status: Counter[int] = Counter()
        self._key_times: dict[str, list[float]] = {}

    def request(self, method: str, path: str, key: str | None, now: float) -> None:
        with self._lock:
            self._total += 1
            self._by_endpoint[(method, path)] += 1
            if key is not None:
                self._key_times.setdefault(key, []).append(now)

    def response(self, status: int) -> None:
        with self._lock:
            self._by_status[status] += 1

    def snapshot(self) -> SandboxStats:
        with self._lock:
            return SandboxStats(
                total=self._total,
                by_endpoint=dict(self._by_endpoint),
                by_status=dict(self._by_status),
                key_timestamps={k: tuple(sorted(v)) for k, v in self._key_times.items()},
            )

    def reset(self) -> None:
        with self._lock:
            self._total = 0
            self._by_endpoint.clear()
            self._by_status.clear()
            self._key_times.clear()
