"""The injectable notions of time: tests pass fakes so that nothing really waits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

#: `asyncio.sleep`-like: wait this many seconds.
type Sleep = Callable[[float], Awaitable[object]]
#: `time.monotonic`-like: seconds, only differences matter.
type Clock = Callable[[], float]
#: `random.uniform`-like: a number between the two bounds.
type Jitter = Callable[[float, float], float]
