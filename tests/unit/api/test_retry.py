"""GETs are retried on 429 / 5xx / network failures with 1, 2, 4, 8 s + jitter; POSTs never."""

from __future__ import annotations

import random

import httpx
import pytest

from qamera_desktop.api import (
    AuthError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateBudget,
    RateLimitedError,
    ServerError,
    ShootRequest,
    ValidationError,
)
from qamera_desktop.api.retry import MAX_JITTER, RETRY_DELAYS, retry_delay

from .helpers import IMAGE_ITEM, RECEIPT, FakeTime, Recorder, fail, make_client, ok


class RecordingJitter:
    def __init__(self, value: float) -> None:
        self.value = value
        self.calls: list[tuple[float, float]] = []

    def __call__(self, low: float, high: float) -> float:
        self.calls.append((low, high))
        return self.value


def _list(server: Recorder, time: FakeTime, **kwargs):
    async def scenario():
        async with make_client(server, time=time, **kwargs) as client:
            return await client.list_images()

    return scenario()


def _register(server: Recorder, time: FakeTime, **kwargs):
    async def scenario():
        async with make_client(server, time=time, **kwargs) as client:
            return await client.register_ideas(ShootRequest("prod_1"))

    return scenario()


def test_get_is_retried_four_times_with_backoff_then_raises(arun):
    time = FakeTime()
    jitter = RecordingJitter(0.3)
    server = Recorder(fail(500, "boom", correlation_id="last"))
    with pytest.raises(ServerError) as caught:
        arun(_list(server, time, jitter=jitter))
    assert len(server.requests) == 5
    assert time.sleeps == pytest.approx([1.3, 2.3, 4.3, 8.3])
    assert jitter.calls == [(0.0, 0.5)] * 4
    assert caught.value.correlation_id == "last"


def test_the_last_error_is_raised(arun):
    time = FakeTime()
    server = Recorder(
        fail(503), fail(500), httpx.ConnectError("refused"), fail(502), fail(429, "slow down")
    )
    with pytest.raises(RateLimitedError, match="slow down"):
        arun(_list(server, time))
    assert len(server.requests) == 5


def test_success_after_two_failures(arun):
    time = FakeTime()
    server = Recorder(fail(503), httpx.ConnectError("refused"), ok({"images": [IMAGE_ITEM]}))
    images = arun(_list(server, time, jitter=RecordingJitter(0.1)))
    assert [image.id for image in images] == ["img_abc123"]
    assert len(server.requests) == 3
    assert time.sleeps == pytest.approx([1.1, 2.1])


def test_429_is_retried(arun):
    time = FakeTime()
    server = Recorder(fail(429), ok({"images": []}))
    assert arun(_list(server, time)) == []
    assert time.sleeps == [1.0]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (fail(400), ValidationError),
        (fail(401), AuthError),
        (fail(404), NotFoundError),
        (httpx.Response(200, content=b"{oops"), ProtocolError),
    ],
)
def test_other_failures_are_not_retried(arun, reply, error):
    time = FakeTime()
    server = Recorder(reply)
    with pytest.raises(error):
        arun(_list(server, time))
    assert len(server.requests) == 1
    assert time.sleeps == []


def test_default_jitter_stays_within_half_a_second(arun):
    time = FakeTime()
    server = Recorder(fail(500))
    with pytest.raises(ServerError):
        arun(_list(server, time, jitter=random.uniform))  # the production default
    assert len(time.sleeps) == 4
    for base, slept in zip(RETRY_DELAYS, time.sleeps, strict=True):
        assert base <= slept <= base + MAX_JITTER


@pytest.mark.parametrize(
    "reply",
    [
        fail(500),
        fail(503),
        fail(429),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("refused"),
    ],
    ids=["500", "503", "429", "read-timeout", "connect-error"],
)
def test_post_is_never_retried(arun, reply):
    time = FakeTime()
    server = Recorder(reply, ok(RECEIPT))
    with pytest.raises((ServerError, RateLimitedError, NetworkError)):
        arun(_register(server, time))
    assert len(server.requests) == 1
    assert time.sleeps == []


def test_every_attempt_takes_a_budget_slot(arun):
    time = FakeTime()
    budget = RateBudget(clock=time.clock, sleep=time.sleep)
    server = Recorder(fail(500))
    with pytest.raises(ServerError):
        arun(_list(server, time, budget=budget))
    assert budget.in_use() == 5


def test_retry_delay_clamps_a_misbehaving_jitter():
    assert retry_delay(1, lambda low, high: 7.0) == 1.5
    assert retry_delay(2, lambda low, high: -3.0) == 2.0
    assert retry_delay(4, lambda low, high: 0.25) == 8.25
