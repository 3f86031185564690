"""Shared helpers of the API client tests: fake time, a recording mock transport, client factory."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpx

from qamera_desktop.api import QameraClient, RateBudget

DOC_KEY = "mk_live_abc123.secret456"  # the documentation's example key
DOC_SECRET = "secret456"
TEST_KEY = "mk_live_test.secret"
BASE_URL = "https://api.qamera.test"

IMAGE_ITEM = {
    "id": "img_abc123",
    "name": "Fashion Shoot - White T-Shirt",
    "thumbnail": "https://cdn.example.com/images/thumb_abc123.jpg",
    "status": "DONE",
    "voting": "APPROVED",
    "createdAt": "2026-03-20T16:00:00.000Z",
}
RECEIPT = {
    "createdRecordIds": ["img_001", "img_002", "img_003"],
    "batchId": "batch_abc123",
    "orderId": "order_xyz789",
    "reservationId": "res_def456",
    "creditsReserved": 30,
}

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeTime:
    """A clock that only moves when the fake sleep is awaited; every sleep is recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Recorder:
    """A mock server: answers with the queued replies in order (the last one repeats)."""

    def __init__(self, *replies: Reply) -> None:
        assert replies
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        index = min(len(self.requests), len(self.replies)) - 1
        reply = self.replies[index]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def ok(data: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(200, json=data, headers=headers)


def fail(status: int, text: str | None = None, correlation_id: str | None = None) -> httpx.Response:
    headers = {"X-Correlation-Id": correlation_id} if correlation_id else None
    return httpx.Response(status, json={"error": text} if text else {}, headers=headers)


def make_client(
    replies: Recorder,
    *,
    key: str = TEST_KEY,
    base_url: str = BASE_URL,
    time: FakeTime | None = None,
    jitter: Callable[[float, float], float] = lambda low, high: 0.0,
    budget: RateBudget | None = None,
    **kwargs: Any,
) -> QameraClient:
    """A client on the mock transport, with fake time and its own fresh rate budget."""
    time = time or FakeTime()
    return QameraClient(
        base_url,
        key,
        transport=replies.transport,
        sleep=time.sleep,
        clock=time.clock,
        jitter=jitter,
        rate_budget=budget or RateBudget(clock=time.clock, sleep=time.sleep),
        **kwargs,
    )


class TrackedStream:
    """An async body that counts how many chunks were pulled from it."""

    def __init__(self, chunks: Iterable[bytes], error: Exception | None = None) -> None:
        self.chunks = list(chunks)
        self.error = error
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.pulled += 1
            yield chunk
        if self.error is not None:
            raise self.error
