"""A least-recently-used map bounded by the total cost (bytes) of its values."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable


class ByteLRU[K: Hashable, V]:
    def __init__(self, max_bytes: int, cost: Callable[[V], int]) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self._cost = cost
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.total_bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: K) -> bool:
        return key in self._items

    def get(self, key: K) -> V | None:
        entry = self._items.get(key)
        if entry is None:
            return None
        self._items.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V) -> None:
        cost = self._cost(value)
        old = self._items.pop(key, None)
        if old is not None:
            self.total_bytes -= old[1]
        if cost > self.max_bytes:
            return  # would evict everything and still not fit
        self._items[key] = (value, cost)
        self.total_bytes += cost
        while self.total_bytes > self.max_bytes:
            _, (_, evicted_cost) = self._items.popitem(last=False)
            self.total_bytes -= evicted_cost

    def clear(self) -> None:
        self._items.clear()
        self.total_bytes = 0
