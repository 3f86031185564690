"""At most 60 requests per rolling 60 s per key, shared by every client of that key."""

from __future__ import annotations

import asyncio

import pytest

from qamera_desktop.api import QameraClient, RateBudget, shared_budget
from qamera_desktop.api import rate_budget as rate_budget_module

from .helpers import DOC_KEY, DOC_SECRET, TEST_KEY, FakeTime, Recorder, make_client, ok


def _budget(time: FakeTime, **kwargs) -> RateBudget:
    return RateBudget(clock=time.clock, sleep=time.sleep, **kwargs)


def test_sixty_first_request_waits_for_the_oldest_slot(arun):
    time = FakeTime(start=0.0)
    budget = _budget(time)

    async def scenario():
        for _ in range(30):
            await budget.acquire()
        time.now = 5.0
        for _ in range(30):
            await budget.acquire()
        assert time.sleeps == []
        assert budget.available() == 0
        time.now = 10.0
        await budget.acquire()  # the 61st within 60 s

    arun(scenario())
    assert time.sleeps == [50.0]  # until the oldest slot (t=0) is 60 s old
    assert time.now == 60.0


def test_slots_expire_after_the_window(arun):
    time = FakeTime(start=0.0)
    budget = _budget(time)

    async def scenario():
        for _ in range(60):
            await budget.acquire()
        time.now = 60.0
        assert budget.available() == 60  # all 60 expired exactly at 60 s
        await budget.acquire()

    arun(scenario())
    assert time.sleeps == []
    assert budget.in_use() == 1


def test_waiting_callers_are_served_in_order(arun):
    time = FakeTime(start=0.0)
    budget = _budget(time, limit=2, window=10.0)

    async def scenario():
        await budget.acquire()  # t=0
        time.now = 1.0
        await budget.acquire()  # t=1
        time.now = 2.0
        starts = [budget.book()[0] for _ in range(3)]
        return starts

    assert arun(scenario()) == [10.0, 11.0, 20.0]
    time.now = 10.5
    assert budget.available() == 0  # slots free up at 10.0, but callers already queued for them
    assert budget.in_use() == 4


def test_a_cancelled_waiter_gives_its_slot_back(arun):
    time = FakeTime(start=0.0)
    forever = asyncio.Event()

    async def blocked_sleep(seconds: float) -> None:
        await forever.wait()

    budget = RateBudget(limit=1, window=60.0, clock=time.clock, sleep=blocked_sleep)

    async def scenario():
        await budget.acquire()
        waiter = asyncio.ensure_future(budget.acquire())
        await asyncio.sleep(0)
        assert budget.in_use() == 2
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        return budget.in_use()

    assert arun(scenario()) == 1


def test_release_of_an_unknown_slot_is_harmless():
    budget = RateBudget()
    budget.release(123.0)
    assert budget.in_use() == 0


@pytest.mark.parametrize(("limit", "window"), [(0, 60.0), (True, 60.0), (1.5, 60.0), (60, 0.0)])
def test_budget_arguments_are_checked(limit, window):
    with pytest.raises(ValueError):  # noqa: PT011
        RateBudget(limit, window)


def test_clients_of_one_key_share_one_budget(arun):
    server = Recorder(ok({"products": []}))
    first = QameraClient("https://a.test", TEST_KEY, transport=server.transport)
    second = QameraClient("https://b.test", f"  {TEST_KEY}\n", transport=server.transport)
    other = QameraClient("https://a.test", "mk_live_other.secret", transport=server.transport)
    assert first.rate_budget is second.rate_budget
    assert first.rate_budget is shared_budget(TEST_KEY)
    assert other.rate_budget is not first.rate_budget

    async def scenario():
        async with first, second, other:
            await first.list_products()
            await second.list_products()
            await other.list_products()

    arun(scenario())
    assert first.rate_budget.in_use() == 2
    assert other.rate_budget.in_use() == 1


def test_an_injected_budget_is_shared_between_clients(arun):
    time = FakeTime(start=0.0)
    budget = _budget(time, limit=2)
    server = Recorder(ok({"products": []}))
    first = make_client(server, time=time, budget=budget)
    second = make_client(server, key="mk_live_other.secret", time=time, budget=budget)

    async def scenario():
        async with first, second:
            await first.list_products()
            await second.list_products()
            await first.list_products()  # the third request within 60 s waits

    arun(scenario())
    assert time.sleeps == [60.0]
    assert len(server.requests) == 3


def test_registry_is_not_keyed_by_the_key():
    shared_budget(DOC_KEY)
    keys = list(rate_budget_module._registry)
    assert len(keys) == 1
    assert DOC_KEY not in keys[0]
    assert DOC_SECRET not in keys[0]


def test_budget_repr():
    budget = RateBudget()
    assert repr(budget) == "RateBudget(limit=60, window=60, in_use=0)"
