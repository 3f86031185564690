"""The sliding window, on a fake clock."""

from __future__ import annotations

import pytest

from qamera_desktop.sandbox.ratelimit import SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sixty_a_minute_then_the_window_slides() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(60, 60.0, clock)
    for i in range(60):
        clock.now = 1000.0 + i * 0.5  # 60 requests over 29.5 s
        assert limiter.acquire("k")
    assert not limiter.acquire("k")  # the 61st inside the minute
    clock.now = 1059.9
    assert not limiter.acquire("k")
    clock.now = 1060.0  # the first request is exactly a minute old: it no longer counts
    assert limiter.acquire("k")
    assert not limiter.acquire("k")
    clock.now = 1060.5
    assert limiter.acquire("k")


def test_rejections_are_not_counted_and_keys_are_separate() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(2, 10.0, clock)
    assert limiter.acquire("a")
    assert limiter.acquire("a")
    for _ in range(50):
        assert not limiter.acquire("a")
    assert limiter.acquire("b")
    clock.now += 10.0
    assert limiter.acquire("a")
    assert limiter.acquire("a")
    limiter.reset()
    assert limiter.acquire("a")


def test_rejects_a_nonsense_budget() -> None:
    with pytest.raises(ValueError, match="positive"):
        SlidingWindowLimiter(0, 60.0)
