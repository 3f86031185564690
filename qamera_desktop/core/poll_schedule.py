"""When to poll which product's listing: per-product backoff under one global request pace.

Each product has an interval that starts at `min_interval`, grows x1.5 (up to `max_interval`) after
a poll that changed nothing, doubles after a failed poll, and snaps back to `min_interval` when
something changed or a new shoot of that product arrived. Whatever the number of products, two polls
are never closer than `60 / requests_per_minute` seconds, so the tracker alone stays within that
many requests a minute. The most overdue product goes first.

Pure bookkeeping over an injected monotonic clock: no I/O, no waiting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qamera_desktop.api.timing import Clock

GROWTH_WHEN_IDLE = 1.5
GROWTH_WHEN_FAILING = 2.0


@dataclass(slots=True)
class _Timer:
    """One poll's interval and when it is due next."""

    interval: float
    next_due: float


class PollSchedule:
    def __init__(
        self,
        *,
        min_interval: float,
        max_interval: float,
        requests_per_minute: float,
        clock: Clock,
    ) -> None:
        if not 0 < min_interval <= max_interval:
            raise ValueError("need 0 < min_interval <= max_interval")
        if not requests_per_minute > 0:
            raise ValueError("requests_per_minute must be positive")
        self.min_interval = float(min_interval)
        self.max_interval = float(max_interval)
        self.min_gap = 60.0 / requests_per_minute
        self._clock = clock
        self._timers: dict[str, _Timer] = {}
        self._last_start: float | None = None

    @property
    def products(self) -> frozenset[str]:
        return frozenset(self._timers)

    def interval(self, product_id: str) -> float | None:
        timer = self._timers.get(product_id)
        return None if timer is None else timer.interval

    def due_in(self, product_id: str) -> float | None:
        """Seconds until the product's own timer is due (ignoring the global gap)."""
        timer = self._timers.get(product_id)
        return None if timer is None else timer.next_due - self._clock()

    def touch(self, product_id: str, *, due_in: float | None = None) -> None:
        """A new shoot of this product (or a resumed one): back to the shortest interval, and
        due no later than `due_in` seconds from now (default: `min_interval`)."""
        now = self._clock()
        due = now + (self.min_interval if due_in is None else max(0.0, due_in))
        timer = self._timers.get(product_id)
        if timer is None:
            self._timers[product_id] = _Timer(self.min_interval, due)
        else:
            timer.interval = self.min_interval
            timer.next_due = min(timer.next_due, due)

    def retain(self, product_ids: Iterable[str]) -> None:
        """Forget every product not in `product_ids`; add the missing ones, due at once."""
        wanted = set(product_ids)
        for product_id in set(self._timers) - wanted:
            del self._timers[product_id]
        for product_id in wanted - set(self._timers):
            self.touch(product_id, due_in=0.0)

    def next_poll(self) -> tuple[str, float] | None:
        """(the product to poll next, seconds to wait before polling it), None when idle."""
        if not self._timers:
            return None
        product_id, timer = min(self._timers.items(), key=lambda item: (item[1].next_due, item[0]))
        start = timer.next_due
        if self._last_start is not None:
            start = max(start, self._last_start + self.min_gap)
        return product_id, max(0.0, start - self._clock())

    def started(self, product_id: str) -> None:
        """A poll of this product is going out now."""
        self._last_start = self._clock()

    def succeeded(self, product_id: str, *, changed: bool) -> None:
        timer = self._timers.get(product_id)
        if timer is None:
            return
        if changed:
            timer.interval = self.min_interval
        else:
            timer.interval = min(timer.interval * GROWTH_WHEN_IDLE, self.max_interval)
        timer.next_due = self._clock() + timer.interval

    def failed(self, product_id: str) -> None:
        timer = self._timers.get(product_id)
        if timer is None:
            return
        timer.interval = min(timer.interval * GROWTH_WHEN_FAILING, self.max_interval)
        timer.next_due = self._clock() + timer.interval
