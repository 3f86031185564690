"""Every failed request is logged at WARNING with its correlation id, so that it reaches the log
file (INFO and up) for a support request; requests that went through only at DEBUG.

Against the real sandbox for what a server answers (a 500, a 401, and the 200 after a retry);
a mock transport only for a body of the wrong shape, which the sandbox never sends."""

from __future__ import annotations

import logging

import httpx
import pytest

from qamera_desktop.api import (
    AuthError,
    NetworkError,
    ProtocolError,
    QameraClient,
    RateBudget,
    ServerError,
)
from qamera_desktop.sandbox import SandboxHandle
from tests.conftest import AsyncRunner
from tests.sandbox_fixtures import make_sandbox_fixtures

from .helpers import FakeTime, Recorder, make_client, ok

sandbox_factory, sandbox = make_sandbox_fixtures()

PRODUCTS = "GET /api/external/products"


class CorrelationIds(httpx.AsyncHTTPTransport):
    """The real HTTP transport, noting each answer's status and correlation id as it arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[int, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        self.answers.append((response.status_code, response.headers["x-correlation-id"]))
        return response


def sandbox_client(handle: SandboxHandle, key: str, ids: CorrelationIds) -> QameraClient:
    time = FakeTime()  # the retries' backoff takes no real time
    return QameraClient(
        handle.base_url,
        key,
        transport=ids,
        sleep=time.sleep,
        clock=time.clock,
        jitter=lambda low, high: 0.0,
        rate_budget=RateBudget(clock=time.clock, sleep=time.sleep),
    )


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "qamera_desktop.api" and r.levelno == level
    ]


def test_failed_answers_are_warnings_with_the_servers_correlation_ids(
    arun: AsyncRunner, sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="qamera_desktop.api")
    ids = CorrelationIds()

    async def scenario() -> None:
        async with sandbox_client(sandbox, sandbox.demo_key, ids) as client:
            sandbox.reconfigure(error_rate=1.0)
            with pytest.raises(ServerError):
                await client.list_products()  # every retry answered with a 500 too
            sandbox.reconfigure(error_rate=0.0)
            await client.list_products()
        async with sandbox_client(sandbox, "mk_live_demo.not-the-key", ids) as client:
            with pytest.raises(AuthError):
                await client.list_products()

    arun(scenario())
    failed = [(status, cid) for status, cid in ids.answers if status >= 400]
    went_through = [cid for status, cid in ids.answers if status == 200]
    assert [status for status, _ in failed] == [500] * 5 + [401]  # the first try and 4 retries
    assert len(went_through) == 1
    assert lines(caplog, logging.WARNING) == [
        f"{PRODUCTS} -> {status} in 0 ms, correlation id {cid}" for status, cid in failed
    ]
    assert lines(caplog, logging.DEBUG) == [
        f"{PRODUCTS} -> 200 in 0 ms, correlation id {went_through[0]}"
    ]
    assert "not-the-key" not in caplog.text


def test_a_body_of_the_wrong_shape_is_a_warning_with_its_correlation_id(
    arun: AsyncRunner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="qamera_desktop.api")
    server = Recorder(ok({"products": "not a list"}, headers={"X-Correlation-Id": "cid-shape"}))

    async def scenario() -> None:
        async with make_client(server) as client:
            await client.list_products()

    with pytest.raises(ProtocolError):
        arun(scenario())
    [warning] = lines(caplog, logging.WARNING)
    assert warning.startswith(f"{PRODUCTS} -> 200, not the documented shape (")
    assert warning.endswith("), correlation id cid-shape")


def test_a_request_that_reached_no_server_is_a_warning(
    arun: AsyncRunner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="qamera_desktop.api")
    server = Recorder(httpx.ConnectError("connection refused"))

    async def scenario() -> None:
        async with make_client(server) as client:
            await client.list_products()

    with pytest.raises(NetworkError):
        arun(scenario())
    warnings = lines(caplog, logging.WARNING)
    assert len(warnings) == 5  # the first try and 4 retries, each its own line
    assert all(w.startswith(f"{PRODUCTS} failed after 0 ms (Could not reach") for w in warnings)


def test_a_request_that_reached_no_server_gives_its_rate_budget_slot_back(
    arun: AsyncRunner,
) -> None:
    """Offline, the retries of every listing and picker would otherwise fill the minute's budget,
    and the requests after the server's return would wait for slots the server never counted."""
    time = FakeTime()
    budget = RateBudget(clock=time.clock, sleep=time.sleep)
    refused = Recorder(httpx.ConnectError("connection refused"))
    answered = Recorder(ok({"products": []}))

    async def scenario() -> None:
        async with make_client(refused, time=time, budget=budget) as client:
            with pytest.raises(NetworkError):
                await client.list_products()
        assert budget.in_use() == 0  # 5 attempts, none counted
        async with make_client(answered, time=time, budget=budget) as client:
            await client.list_products()
        assert budget.in_use() == 1  # one that reached the server is

    arun(scenario())
