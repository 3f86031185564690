"""Cancelled timers are disarmed at once (qasync alone leaves them armed until they are due)."""

import asyncio


def armed(loop) -> int:
    return len(loop._timer._SimpleTimer__callbacks)


def test_cancelled_timers_are_disarmed(qt_loop, qtbot):
    before = armed(qt_loop)
    handles = [qt_loop.call_later(30, lambda: None) for _ in range(500)]
    assert armed(qt_loop) == before + 500
    for handle in handles:
        handle.cancel()
        handle.cancel()  # twice is harmless
    assert armed(qt_loop) == before


def test_timers_still_fire_and_cancel_after_firing_is_harmless(arun, qt_loop):
    fired = []

    async def go():
        done = asyncio.Event()
        handle = qt_loop.call_later(0.01, lambda: (fired.append(1), done.set()))
        at = qt_loop.call_at(qt_loop.time() + 0.02, fired.append, 2)
        await done.wait()
        await asyncio.sleep(0.05)
        handle.cancel()  # already ran: nothing to disarm, no Qt warning
        at.cancel()

    arun(go())
    assert fired == [1, 2]


def test_wait_for_timeouts_leave_no_armed_timers(arun, qt_loop):
    before = armed(qt_loop)

    async def quick():
        return 1

    async def go():
        for _ in range(200):
            await asyncio.wait_for(quick(), timeout=30)

    arun(go())
    assert armed(qt_loop) <= before + 2
