"""The session loop works: coroutines run, sleep and return, and leftovers get cancelled."""

import asyncio


def test_coroutine_runs_on_session_loop(arun):
    async def work() -> int:
        await asyncio.sleep(0.01)
        return 42

    assert arun(work()) == 42


def test_loop_still_alive_in_a_second_test(arun):
    async def work() -> str:
        await asyncio.sleep(0)
        return asyncio.get_running_loop().__class__.__name__

    assert "EventLoop" in arun(work())  # qasync.QSelectorEventLoop on POSIX
