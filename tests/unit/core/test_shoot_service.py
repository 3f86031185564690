"""`ShootService` and its `PollSchedule`, on a fake server and a hand-driven clock.

The fake clock only moves when a test advances it; every sleep of the service waits on it. Faults a
real server cannot produce on demand (a read timeout after the POST went out, a 200 that is not
JSON) go through the real `QameraClient` on an `httpx.MockTransport`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import sqlite3
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from qamera_desktop.api import (
    InsufficientCreditsError,
    NetworkError,
    NotFoundError,
    QameraClient,
    RateBudget,
    RateLimitedError,
    ServerError,
    ShootReceipt,
    ShootRequest,
    ValidationError,
)
from qamera_desktop.api.records import Image
from qamera_desktop.core.database import Database
from qamera_desktop.core.poll_schedule import PollSchedule
from qamera_desktop.core.shoot_service import ShootService
from qamera_desktop.core.shoot_store import ShootStore
from qamera_desktop.core.shoots import SAFE_TO_RESUBMIT, Shoot, ShootState

ACCOUNT = "account-1"
RunAsync = Callable[..., Any]


# -- fakes -------------------------------------------------------------------------------------
class ManualTime:
    """A monotonic clock and a sleep that only move when `advance()` is awaited."""

    def __init__(self) -> None:
        self.now = 100.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its own deadline and letting it run."""
        target = self.now + seconds
        await settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            if future.done():
                continue
            self.now = max(self.now, deadline)
            future.set_result(None)
            await settle()
        self.now = target
        await settle()


async def settle(rounds: int = 30) -> None:
    """Let every ready task run until things are quiet (the fakes never really wait)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


@dataclass
class FakeServer:
    """Just enough of the API: per-product listings, a scripted POST, a record of every call."""

    time: ManualTime
    listings: dict[str, dict[str, Image]] = field(default_factory=dict)
    calls: list[tuple[str, str, float]] = field(default_factory=list)  # (kind, product, time)
    post_reply: Callable[[ShootRequest], ShootReceipt] | Exception | None = None
    list_errors: list[BaseException] = field(default_factory=list)
    post_gate: asyncio.Event | None = None
    on_post: Callable[[ShootRequest], None] | None = None
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def create(self, product_id: str, count: int, when: datetime | None = None) -> list[str]:
        ids = [f"img_{next(self._ids):04d}" for _ in range(count)]
        listing = self.listings.setdefault(product_id, {})
        for record_id in ids:
            listing[record_id] = Image(record_id, "shot", None, "QUEUED", when or datetime.now(UTC))
        return ids

    def set_status(self, product_id: str, ids: list[str], status: str) -> None:
        for record_id in ids:
            old = self.listings[product_id][record_id]
            self.listings[product_id][record_id] = Image(
                old.id, old.name, old.thumbnail, status, old.created_at
            )

    def gets(self, product_id: str | None = None) -> list[float]:
        return [t for kind, p, t in self.calls if kind == "GET" and product_id in (None, p)]

    def posts(self) -> int:
        return sum(1 for kind, _, _ in self.calls if kind == "POST")

    async def list_images(
        self, status_filter: str = "all", product_id: str | None = None
    ) -> list[Image]:
        assert status_filter == "all"
        assert product_id is not None
        self.calls.append(("GET", product_id, self.time.now))
        if self.list_errors:
            raise self.list_errors.pop(0)
        return list(self.listings.get(product_id, {}).values())

    async def register_ideas(self, request: ShootRequest) -> ShootReceipt:
        self.calls.append(("POST", request.product_id, self.time.now))
        if self.on_post is not None:
            self.on_post(request)
        reply = self.post_reply or self.default_receipt
        result = reply if isinstance(reply, Exception) else reply(request)  # the job is created
        if self.post_gate is not None:
            await self.post_gate.wait()  # ... and its answer is slow
        if isinstance(result, Exception):
            raise result
        return result

    def default_receipt(self, request: ShootRequest) -> ShootReceipt:
        ids = self.create(request.product_id, request.count)
        return ShootReceipt(tuple(ids), "batch", "order", "res", 3.0 * request.count, "corr")


@dataclass
class Events:
    changes: list[Shoot] = field(default_factory=list)
    images: list[tuple[str, list[Image]]] = field(default_factory=list)
    finished: list[Shoot] = field(default_factory=list)

    def states(self, local_id: str) -> list[ShootState]:
        return [s.state for s in self.changes if s.local_id == local_id]


@dataclass
class Rig:
    time: ManualTime
    server: FakeServer
    db: Database
    events: Events
    service: ShootService


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = Database(tmp_path / "app.sqlite3")
    yield database
    database.close()


def make_service(
    client: Any,
    db: Database,
    time: ManualTime,
    events: Events,
    account: str = ACCOUNT,
    **options: Any,
) -> ShootService:
    return ShootService(
        client,
        db,
        account,
        on_change=events.changes.append,
        on_images=lambda product, images: events.images.append((product, images)),
        on_finished=events.finished.append,
        sleep=time.sleep,
        clock=time.clock,
        **options,
    )


def scenario(
    arun: RunAsync,
    db: Database,
    body: Callable[[Rig], Coroutine[Any, Any, None]],
    **kwargs: Any,
) -> None:
    """Run `body` with a started service; always close it."""

    async def run() -> None:
        time = ManualTime()
        server = FakeServer(time)
        events = Events()
        service = make_service(server, db, time, events, **kwargs)
        service.start()
        try:
            await body(Rig(time, server, db, events, service))
        finally:
            await service.aclose()

    arun(run(), timeout=10)


def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> QameraClient:
    async def no_wait(seconds: float) -> None:
        return None

    return QameraClient(
        "https://api.qamera.test",
        "mk_live_test.secret",
        transport=httpx.MockTransport(handler),
        rate_budget=RateBudget(limit=1000),
        sleep=no_wait,
    )


REQUEST = ShootRequest("prod_1", count=3)


# -- PollSchedule ------------------------------------------------------------------------------
def test_schedule_backs_off_resets_and_keeps_a_global_gap() -> None:
    time = ManualTime()
    s = PollSchedule(min_interval=2, max_interval=20, requests_per_minute=40, clock=time.clock)
    assert s.min_gap == 1.5
    assert s.next_poll() is None
    s.touch("p1")
    assert s.next_poll() == ("p1", 2.0)
    intervals = []
    for _ in range(8):
        s.started("p1")
        s.succeeded("p1", changed=False)
        intervals.append(s.interval("p1"))
    assert intervals == [3.0, 4.5, 6.75, 10.125, 15.1875, 20.0, 20.0, 20.0]
    s.succeeded("p1", changed=True)
    assert s.interval("p1") == 2.0
    s.failed("p1")
    s.failed("p1")
    assert s.interval("p1") == 8.0
    s.touch("p1")  # a new shoot of the product
    assert s.interval("p1") == 2.0
    # Two products due at once: the second waits for the global gap after the first.
    time.now += 10
    s.touch("p2", due_in=0)
    s.touch("p1", due_in=0)
    product, wait = s.next_poll() or ("", -1.0)
    assert (product, wait) == ("p1", 0.0)
    s.started("p1")
    s.succeeded("p1", changed=False)
    assert s.next_poll() == ("p2", 1.5)
    s.retain(["p2"])
    assert s.products == {"p2"}
    with pytest.raises(ValueError, match="min_interval"):
        PollSchedule(min_interval=5, max_interval=1, requests_per_minute=40, clock=time.clock)


# -- submitting --------------------------------------------------------------------------------
def test_submit_stores_before_the_post_then_tracks_with_queued_records(
    arun: RunAsync, db: Database
) -> None:
    async def body(rig: Rig) -> None:
        seen_in_db: list[ShootState] = []
        rig.server.on_post = lambda request: seen_in_db.extend(
            s.state for s in ShootStore(rig.db).load(ACCOUNT)
        )
        shoot = await rig.service.submit(ShootRequest(" prod_1 ", count=3), "White tee")
        assert seen_in_db == [ShootState.SUBMITTING]
        assert shoot.state is ShootState.TRACKING
        assert shoot.request.product_id == "prod_1"
        assert len(shoot.record_ids) == 3
        assert set(shoot.statuses.values()) == {"QUEUED"}
        assert shoot.submitted_at is not None
        assert rig.events.states(shoot.local_id) == [ShootState.SUBMITTING, ShootState.TRACKING]
        ((product, queued),) = rig.events.images
        assert product == "prod_1"
        assert [i.id for i in queued] == list(shoot.record_ids)
        assert all(i.status == "QUEUED" and i.name == "White tee" for i in queued)
        assert ShootStore(rig.db).load(ACCOUNT) == [shoot]
        assert rig.service.shoots() == [shoot]
        assert rig.service.get(shoot.local_id) == shoot
        assert rig.server.posts() == 1

    scenario(arun, db, body)


def test_an_invalid_request_is_refused_before_anything_is_stored(
    arun: RunAsync, db: Database
) -> None:
    async def body(rig: Rig) -> None:
        with pytest.raises(ValidationError, match="number of images"):
            await rig.service.submit(ShootRequest("prod_1", count=21))
        assert rig.server.calls == []
        assert rig.service.shoots() == []
        assert ShootStore(rig.db).load(ACCOUNT) == []

    scenario(arun, db, body)


@pytest.mark.parametrize(
    "error",
    [
        InsufficientCreditsError("Insufficient credits. Required: 9, available: 2.", status=402),
        NotFoundError("Product not found.", status=404),
        ValidationError("Validation failed.", status=400),
        ServerError("Internal error.", status=500),
        NetworkError("Could not reach the Qamera service.", request_sent=False),
    ],
)
def test_a_refused_post_is_reported_once_then_forgotten_and_raised(
    arun: RunAsync, db: Database, error: Exception
) -> None:
    async def body(rig: Rig) -> None:
        rig.server.post_reply = error
        with pytest.raises(type(error)) as raised:
            await rig.service.submit(REQUEST)
        assert raised.value is error
        submitting, rejected = rig.events.changes
        assert submitting.state is ShootState.SUBMITTING
        assert rejected.local_id == submitting.local_id
        assert rejected.state is ShootState.REJECTED  # for listeners to take it off their lists
        assert rejected.error == str(error)
        assert not rejected.is_active
        assert rig.service.shoots() == []  # no ghost: not listed ...
        assert rig.service.get(rejected.local_id) is None
        assert ShootStore(rig.db).load(ACCOUNT) == []  # ... nor stored
        assert rig.db.query("SELECT count(*) FROM shoots")[0][0] == 0
        await rig.time.advance(30)
        assert rig.server.gets() == []  # nothing to follow
        assert rig.server.posts() == 1
        assert rig.events.finished == []

    scenario(arun, db, body)


def test_refused_shoots_an_older_version_kept_are_dropped_at_start(
    arun: RunAsync, db: Database
) -> None:
    store = ShootStore(db)
    now = datetime.now(UTC)
    refused = Shoot("r" * 32, ACCOUNT, REQUEST, None, ShootState.REJECTED, now, error="404")
    finished = Shoot(
        "f" * 32,
        ACCOUNT,
        REQUEST,
        None,
        ShootState.FINISHED,
        now - timedelta(days=3),
        receipt=ShootReceipt(("x1",), "b", "o", "res", 3.0),
        statuses={"x1": "DONE"},
        finished_at=now - timedelta(days=3),
    )
    theirs = Shoot("o" * 32, "account-2", REQUEST, None, ShootState.REJECTED, now, error="404")
    for shoot in (refused, finished, theirs):
        store.save(shoot)

    async def body(rig: Rig) -> None:
        assert [s.local_id for s in rig.service.shoots()] == [finished.local_id]
        assert rig.service.get(refused.local_id) is None
        assert store.load(ACCOUNT) == [finished]  # removed from the database too
        assert [s.local_id for s in store.load("account-2")] == [theirs.local_id]  # not ours

    scenario(arun, db, body)


def test_a_refused_shoot_that_cannot_be_removed_is_kept_refused_until_the_next_start(
    arun: RunAsync, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Never left SUBMITTING, which would read "may exist" after a restart."""
    db.execute(
        "CREATE TRIGGER no_deletes BEFORE DELETE ON shoots "
        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    )

    async def body(rig: Rig) -> None:
        rig.server.post_reply = NotFoundError("Product not found.", status=404)
        with pytest.raises(NotFoundError):
            await rig.service.submit(REQUEST)
        assert rig.service.shoots() == []
        (kept,) = ShootStore(rig.db).load(ACCOUNT)
        assert kept.state is ShootState.REJECTED
        assert "Could not remove" in caplog.text

    scenario(arun, db, body)
    db.execute("DROP TRIGGER no_deletes")

    async def restarted(rig: Rig) -> None:
        assert rig.service.shoots() == []
        assert ShootStore(rig.db).load(ACCOUNT) == []

    scenario(arun, db, restarted)


def test_a_timeout_after_sending_checks_the_listing_and_adopts_the_job(
    arun: RunAsync, db: Database
) -> None:
    """Real client, mock transport: the server creates the job, then the answer is lost."""
    server = FakeServer(ManualTime())
    earlier = server.create("prod_1", 2, datetime.now(UTC) - timedelta(minutes=5))

    def handler(request: httpx.Request) -> httpx.Response:
        server.calls.append((request.method, request.url.params.get("productId", ""), 0))
        if request.method == "POST":
            server.create("prod_1", 3)
            raise httpx.ReadTimeout("timed out", request=request)
        items = [
            {"id": i.id, "name": i.name, "status": i.status, "createdAt": i.created_at.isoformat()}
            for i in server.listings["prod_1"].values()
            if i.created_at
        ]
        return httpx.Response(200, json={"images": items, "count": len(items)})

    async def run() -> None:
        time, events = ManualTime(), Events()
        async with mock_client(handler) as client:
            service = make_service(client, db, time, events)
            service.start()
            try:
                shoot = await service.submit(REQUEST, "White tee")
            finally:
                await service.aclose()
        assert shoot.state is ShootState.TRACKING
        assert shoot.receipt is None
        assert shoot.receipt_lost
        assert set(shoot.record_ids).isdisjoint(earlier)
        assert len(shoot.record_ids) == 3
        assert "nothing was submitted twice" in (shoot.error or "")
        assert events.states(shoot.local_id) == [
            ShootState.SUBMITTING,
            ShootState.UNCERTAIN,
            ShootState.TRACKING,
        ]
        assert "may exist" in (events.changes[1].error or "")
        assert [kind for kind, _, _ in server.calls] == ["POST", "GET"]

    arun(run(), timeout=10)


def test_a_success_whose_body_cannot_be_read_is_uncertain_not_rejected(
    arun: RunAsync, db: Database
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, content=b"<html>proxy page</html>")
        return httpx.Response(200, json={"images": [], "count": 0})

    async def run() -> None:
        time, events = ManualTime(), Events()
        async with mock_client(handler) as client:
            service = make_service(client, db, time, events)
            service.start()
            try:
                shoot = await service.submit(REQUEST)
            finally:
                await service.aclose()
        assert shoot.state is ShootState.UNCERTAIN
        assert shoot.error == SAFE_TO_RESUBMIT

    arun(run(), timeout=10)


def test_uncertain_with_nothing_found_is_safe_to_resubmit_and_a_failed_check_is_not(
    arun: RunAsync, db: Database
) -> None:
    async def body(rig: Rig) -> None:
        rig.server.create("prod_1", 2, datetime.now(UTC) - timedelta(minutes=3))  # older job
        rig.server.post_reply = NetworkError("read timeout", request_sent=True)
        rig.server.list_errors = [ServerError("Internal error.", status=500)]
        shoot = await rig.service.submit(REQUEST)
        assert shoot.state is ShootState.UNCERTAIN
        assert "checking the product's images failed" in (shoot.error or "")
        assert "safe" not in (shoot.error or "")
        shoot = await rig.service.check_uncertain(shoot.local_id)
        assert shoot.state is ShootState.UNCERTAIN
        assert shoot.error == SAFE_TO_RESUBMIT
        assert rig.server.posts() == 1

    scenario(arun, db, body)


def test_a_late_job_is_adopted_by_the_poller_while_the_window_is_open(
    arun: RunAsync, db: Database
) -> None:
    async def body(rig: Rig) -> None:
        rig.server.post_reply = NetworkError("read timeout", request_sent=True)
        shoot = await rig.service.submit(REQUEST)
        assert shoot.error == SAFE_TO_RESUBMIT
        ids = rig.server.create("prod_1", 3)  # the server gets round to it after all
        await rig.time.advance(2.0)
        shoot = rig.service.get(shoot.local_id) or shoot
        assert shoot.state is ShootState.TRACKING
        assert sorted(shoot.record_ids) == ids
        rig.server.set_status("prod_1", ids, "DONE")
        await rig.time.advance(2.0)
        assert rig.events.finished[-1].local_id == shoot.local_id

    scenario(arun, db, body)


def test_adoption_waits_while_another_post_of_the_product_is_in_flight(
    arun: RunAsync, db: Database
) -> None:
    async def body(rig: Rig) -> None:
        rig.server.post_reply = NetworkError("read timeout", request_sent=True)
        uncertain = await rig.service.submit(REQUEST)
        assert uncertain.error == SAFE_TO_RESUBMIT
        # A second shoot of the product: its POST creates records, its answer is slow.
        rig.server.post_reply = None
        rig.server.post_gate = asyncio.Event()
        second = asyncio.ensure_future(rig.service.submit(REQUEST))
        await settle()
        assert len(rig.server.listings["prod_1"]) == 3
        checked = await rig.service.check_uncertain(uncertain.local_id)
        assert checked.state is ShootState.UNCERTAIN  # those records may be the second's
        await rig.time.advance(2.0)  # a poll sees them too, and leaves them alone
        assert rig.service.get(uncertain.local_id) == checked
        rig.server.post_gate.set()
        tracked = await second
        assert tracked.state is ShootState.TRACKING
        await rig.time.advance(10.0)
        assert rig.service.get(uncertain.local_id) == checked  # owned by the second shoot

    scenario(arun, db, body)


def test_cancelling_during_the_post_leaves_it_uncertain(arun: RunAsync, db: Database) -> None:
    async def body(rig: Rig) -> None:
        rig.server.post_gate = asyncio.Event()
        task = asyncio.ensure_future(rig.service.submit(REQUEST))
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        (shoot,) = ShootStore(rig.db).load(ACCOUNT)
        # the listing is checked at once: the job the cut-off POST created is found and adopted
        # (or, had it not shown up yet, the shoot would still say it may exist)
        if shoot.state is ShootState.UNCERTAIN:
            assert "may exist" in (shoot.error or "")
        else:
            assert shoot.state is ShootState.TRACKING
            assert shoot.found_record_ids
        assert rig.server.posts() == 1  # never sent again

    scenario(arun, db, body)


# -- tracking ----------------------------------------------------------------------------------
def test_tracking_reports_progress_and_finishes_once(arun: RunAsync, db: Database) -> None:
    async def body(rig: Rig) -> None:
        shoot = await rig.service.submit(REQUEST, "White tee")
        ids = list(shoot.record_ids)
        rig.server.listings["prod_1"].pop(ids[2])  # not listed yet: still queued
        rig.server.set_status("prod_1", ids[:1], "PROCESSING")
        await rig.time.advance(1.9)
        assert rig.server.gets() == []  # not before min_interval
        await rig.time.advance(0.1)
        assert rig.server.gets() == [102.0]
        now = rig.service.get(shoot.local_id)
        assert now is not None
        assert (now.done, now.failed, now.pending) == (0, 0, 3)
        assert now.statuses[ids[0]] == "PROCESSING"
        assert ids[2] not in {i.id for i in rig.events.images[-1][1]}
        rig.server.set_status("prod_1", ids[:2], "DONE")
        await rig.time.advance(2.0)
        now = rig.service.get(shoot.local_id)
        assert now is not None
        assert now.summary() == "2 of 3 done, 1 in progress"
        assert ShootStore(rig.db).load(ACCOUNT)[0].statuses == now.statuses
        rig.server.listings["prod_1"][ids[2]] = Image(ids[2], "shot", None, "FAILED", None)
        await rig.time.advance(2.0)
        done = rig.service.get(shoot.local_id)
        assert done is not None
        assert done.state is ShootState.FINISHED
        assert done.finished_at is not None
        assert done.summary() == "2 images ready, 1 failed (credits refunded)"
        assert rig.events.finished == [done]
        assert ShootStore(rig.db).load(ACCOUNT) == [done]
        polls = len(rig.server.gets())
        await rig.time.advance(60.0)
        assert len(rig.server.gets()) == polls  # nothing left to follow
        assert rig.events.finished == [done]

    scenario(arun, db, body)


def test_one_poll_per_product_serves_all_its_shoots_and_backs_off(
    arun: RunAsync, db: Database
) -> None:
    async def body(rig: Rig) -> None:
        a = await rig.service.submit(REQUEST)
        b = await rig.service.submit(REQUEST)
        await rig.time.advance(2.0)
        assert rig.server.gets("prod_1") == [102.0]  # one GET for both shoots
        # Nothing changes: 3, 4.5, 6.75 ... seconds apart.
        await rig.time.advance(3.0 + 4.5 + 6.75)
        gets = rig.server.gets("prod_1")
        assert [round(y - x, 3) for x, y in itertools.pairwise(gets)] == [3.0, 4.5, 6.75]
        # A change resets the interval.
        ids = list(a.record_ids) + list(b.record_ids)
        rig.server.set_status("prod_1", ids, "PROCESSING")
        await rig.time.advance(10.125)
        rig.server.set_status("prod_1", ids[:1], "DONE")
        await rig.time.advance(2.0)
        gets = rig.server.gets("prod_1")
        assert [round(y - x, 3) for x, y in itertools.pairwise(gets)][-2:] == [10.125, 2.0]
        # ... and so does a new shoot of the product.
        await rig.time.advance(2.0 + 3.0 + 4.5)
        before = len(rig.server.gets("prod_1"))
        await rig.service.submit(REQUEST)
        await rig.time.advance(2.0)
        assert len(rig.server.gets("prod_1")) == before + 1

    scenario(arun, db, body)


def test_many_products_share_one_request_pace(arun: RunAsync, db: Database) -> None:
    async def body(rig: Rig) -> None:
        for n in range(6):
            await rig.service.submit(ShootRequest(f"prod_{n}", count=1))
        await rig.time.advance(120.0)
        gets = rig.server.gets()
        gaps = [y - x for x, y in itertools.pairwise(gets)]
        assert min(gaps) >= 2.0 - 1e-9  # 30 requests a minute at most
        per_minute = max(sum(1 for t in gets if s <= t < s + 60) for s in gets)
        assert per_minute <= 30
        products = {p for kind, p, _ in rig.server.calls if kind == "GET"}
        assert products == {f"prod_{n}" for n in range(6)}  # nobody starves

    scenario(arun, db, body, min_interval=0.5, requests_per_minute=30)


@pytest.mark.parametrize(
    "error",
    [
        RateLimitedError("Too many requests.", status=429),
        ServerError("Internal error.", status=500),
        NetworkError("connection reset", request_sent=True),
        RuntimeError("a bug in a fake"),
    ],
)
def test_a_failing_poll_backs_off_and_tracking_goes_on(
    arun: RunAsync, db: Database, error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(rig: Rig) -> None:
        shoot = await rig.service.submit(REQUEST)
        rig.server.list_errors = [error, error]
        await rig.time.advance(2.0 + 4.0 + 8.0)  # fails at +2, fails at +6, succeeds at +14
        gets = rig.server.gets()
        assert [round(y - x, 3) for x, y in itertools.pairwise(gets)] == [4.0, 8.0]
        assert rig.service.polling
        rig.server.set_status("prod_1", list(shoot.record_ids), "DONE")
        await rig.time.advance(12.0)  # the interval grew to 8 x 1.5 after the quiet success
        assert rig.service.get(shoot.local_id).state is ShootState.FINISHED  # type: ignore[union-attr]
        assert "failed" in caplog.text

    with caplog.at_level(logging.WARNING):
        scenario(arun, db, body)


def test_listener_errors_are_logged_and_change_nothing(
    arun: RunAsync, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: object) -> None:
        raise RuntimeError("listener bug")

    async def run() -> None:
        time = ManualTime()
        server = FakeServer(time)
        service = ShootService(
            server,
            db,
            ACCOUNT,
            on_change=explode,
            on_images=explode,
            on_finished=explode,
            sleep=time.sleep,
            clock=time.clock,
        )
        service.start()
        try:
            shoot = await service.submit(REQUEST)
            server.set_status("prod_1", list(shoot.record_ids), "DONE")
            await time.advance(2.0)
            assert service.get(shoot.local_id).state is ShootState.FINISHED  # type: ignore[union-attr]
            assert service.polling
        finally:
            await service.aclose()

    arun(run(), timeout=10)
    assert caplog.text.count("A shoot listener failed") >= 4


def test_cancel_stops_following_the_shoot(arun: RunAsync, db: Database) -> None:
    async def body(rig: Rig) -> None:
        shoot = await rig.service.submit(REQUEST)
        await rig.time.advance(2.0)
        rig.service.cancel(shoot.local_id)
        cancelled = rig.service.get(shoot.local_id)
        assert cancelled is not None
        assert cancelled.state is ShootState.CANCELLED
        assert not cancelled.is_active
        assert ShootStore(rig.db).load(ACCOUNT)[0].state is ShootState.CANCELLED
        polls = len(rig.server.gets())
        rig.server.set_status("prod_1", list(shoot.record_ids), "DONE")
        await rig.time.advance(60.0)
        assert len(rig.server.gets()) == polls
        assert rig.service.get(shoot.local_id) == cancelled
        rig.service.cancel(shoot.local_id)  # again: nothing happens
        with pytest.raises(KeyError):
            rig.service.cancel("no-such-shoot")

    scenario(arun, db, body)


def test_aclose_stops_polling(arun: RunAsync, db: Database) -> None:
    async def run() -> None:
        time, events = ManualTime(), Events()
        server = FakeServer(time)
        service = make_service(server, db, time, events)
        service.start()
        await service.submit(REQUEST)
        was_polling = service.polling
        await service.aclose()
        assert was_polling
        assert not service.polling
        await time.advance(60.0)
        assert server.gets() == []
        await service.aclose()  # twice is fine

    arun(run(), timeout=10)


# -- restarting --------------------------------------------------------------------------------
def test_start_turns_submitting_into_uncertain_and_resumes_tracking(
    arun: RunAsync, db: Database
) -> None:
    store = ShootStore(db)
    now = datetime.now(UTC)
    crashed = Shoot("c" * 32, ACCOUNT, REQUEST, None, ShootState.SUBMITTING, now)
    tracking = Shoot(
        "t" * 32,
        ACCOUNT,
        ShootRequest("prod_2", count=2),
        None,
        ShootState.TRACKING,
        now - timedelta(minutes=1),
        receipt=ShootReceipt(("r1", "r2"), "b", "o", "res", 6.0),
        statuses={"r1": "DONE", "r2": "QUEUED"},
    )
    # Crashed the day before, long outside the watch window: still checked once on start.
    yesterday = now - timedelta(days=1)
    crashed_long_ago = Shoot(
        "y" * 32, ACCOUNT, ShootRequest("prod_3", count=2), None, ShootState.SUBMITTING, yesterday
    )
    other_account = Shoot("o" * 32, "account-2", REQUEST, None, ShootState.SUBMITTING, now)
    for shoot in (crashed, tracking, crashed_long_ago, other_account):
        store.save(shoot)

    async def run() -> None:
        time, events = ManualTime(), Events()
        server = FakeServer(time)
        server.listings["prod_2"] = {
            "r1": Image("r1", "shot", None, "DONE", now),
            "r2": Image("r2", "shot", None, "DONE", now),
        }
        made = yesterday + timedelta(seconds=5)
        server.listings["prod_3"] = {
            "y1": Image("y1", "shot", None, "DONE", made),
            "y2": Image("y2", "shot", None, "FAILED", made),
        }
        service = make_service(server, db, time, events)
        service.start()
        try:
            loaded = service.get(crashed.local_id)
            assert loaded is not None
            assert loaded.state is ShootState.UNCERTAIN
            assert "may exist" in (loaded.error or "")
            assert store.load(ACCOUNT)[0].state is ShootState.UNCERTAIN
            assert [s.local_id for s in service.shoots()] == [
                crashed.local_id,
                tracking.local_id,
                crashed_long_ago.local_id,
            ]
            await time.advance(3.0)  # resumed at once, one poll per product, 1.5 s apart
            assert sorted(p for kind, p, _ in server.calls) == ["prod_1", "prod_2", "prod_3"]
            adopted = service.get(crashed_long_ago.local_id)
            assert adopted is not None
            assert adopted.state is ShootState.FINISHED
            assert adopted.record_ids == ("y1", "y2")
            assert adopted.summary().startswith("1 image ready, 1 failed (credits refunded)")
            finished = service.get(tracking.local_id)
            assert finished is not None
            assert finished.state is ShootState.FINISHED
            assert service.get(crashed.local_id).error == SAFE_TO_RESUBMIT  # type: ignore[union-attr]
        finally:
            await service.aclose()
        # the other account's shoot was not touched
        assert store.load("account-2")[0].state is ShootState.SUBMITTING

    arun(run(), timeout=10)


def test_a_failing_database_write_does_not_stop_tracking(
    arun: RunAsync, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(rig: Rig) -> None:
        shoot = await rig.service.submit(REQUEST)
        rig.db.execute(
            "CREATE TRIGGER no_updates BEFORE UPDATE ON shoots "
            "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
        rig.server.set_status("prod_1", list(shoot.record_ids), "DONE")
        await rig.time.advance(2.0)
        assert rig.service.get(shoot.local_id).state is ShootState.FINISHED  # type: ignore[union-attr]
        assert "Could not store shoot" in caplog.text
        with pytest.raises(sqlite3.IntegrityError):
            ShootStore(rig.db).save(shoot)

    scenario(arun, db, body)


def test_start_may_be_called_from_plain_code_on_the_apps_loop(
    qt_loop: asyncio.AbstractEventLoop, arun: RunAsync, db: Database
) -> None:
    """The app builds its services outside any coroutine: start() uses the loop that is set."""
    time, events = ManualTime(), Events()
    server = FakeServer(time)
    service = make_service(server, db, time, events)
    service.start()
    service.start()  # once is enough; a second call does nothing

    async def run() -> None:
        shoot = await service.submit(REQUEST)
        server.set_status("prod_1", list(shoot.record_ids), "DONE")
        await time.advance(2.0)
        assert events.finished[0].local_id == shoot.local_id
        assert len(server.gets()) == 1
        await service.aclose()

    arun(run(), timeout=10)


# -- history -----------------------------------------------------------------------------------
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def ended(
    name: str, days_ago: float, product: str = "prod_1", state: ShootState = ShootState.FINISHED
) -> Shoot:
    when = NOW - timedelta(days=days_ago)
    ids = (f"{name}_1", f"{name}_2")
    return Shoot(
        name.ljust(32, "0"),
        ACCOUNT,
        ShootRequest(product, count=2),
        None,
        state,
        when - timedelta(minutes=5),
        receipt=ShootReceipt(ids, "b", "o", "res", 6.0),
        statuses=dict.fromkeys(ids, "DONE"),
        finished_at=when,
    )


def test_only_ended_shoots_are_cleared_by_age_and_never_one_in_flight(
    arun: RunAsync, db: Database
) -> None:
    store = ShootStore(db)
    old = ended("old", 40)
    recent = ended("recent", 2)
    cancelled = ended("cancelled", 35, state=ShootState.CANCELLED)
    # tracked for 50 days and counting: in flight, whatever its age
    tracking = replace(ended("tracking", 50, state=ShootState.TRACKING), finished_at=None)
    tracking = replace(tracking, statuses={"tracking_1": "PROCESSING"})
    # a product with a shoot that may exist: its ended shoots keep their images owned
    unsure = Shoot(
        "u" * 32, ACCOUNT, ShootRequest("prod_2", count=1), None, ShootState.UNCERTAIN, NOW
    )
    same_product = ended("sameproduct", 60, product="prod_2")
    theirs = replace(ended("theirs", 90), account="account-2")
    for shoot in (old, recent, cancelled, tracking, unsure, same_product, theirs):
        store.save(shoot)

    def ids(shoots: list[Shoot]) -> list[str]:
        return [s.local_id for s in shoots]

    async def body(rig: Rig) -> None:
        service = rig.service
        month = timedelta(days=30)
        assert ids(service.clearable(month)) == [cancelled.local_id, old.local_id]
        assert ids(service.clearable(timedelta(days=1))) == ids(
            [recent, cancelled, old]
        )  # newest first
        assert ids(service.clearable()) == ids([recent, cancelled, old])
        asked = [old.local_id, tracking.local_id, unsure.local_id, same_product.local_id]
        asked += [theirs.local_id, "no-such-shoot", old.local_id]
        assert service.forget(asked) == [old.local_id]  # the rest is not the history's to lose
        assert service.get(old.local_id) is None
        assert service.get(tracking.local_id) is not None
        assert service.forget([]) == []
        assert ids(service.clearable(month)) == [cancelled.local_id]

    scenario(arun, db, body, wall_clock=lambda: NOW)
    assert sorted(s.local_id for s in store.load(ACCOUNT)) == sorted(
        ids([recent, cancelled, tracking, unsure, same_product])
    )
    assert ids(store.load("account-2")) == [theirs.local_id]


def test_clearing_is_all_or_nothing_when_the_database_refuses(arun: RunAsync, db: Database) -> None:
    store = ShootStore(db)
    first, second = ended("first", 40), ended("second", 45)
    for shoot in (first, second):
        store.save(shoot)
    db.execute(
        "CREATE TRIGGER keep_second BEFORE DELETE ON shoots WHEN old.local_id LIKE 'second%' "
        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    )

    async def body(rig: Rig) -> None:
        with pytest.raises(sqlite3.IntegrityError):
            rig.service.forget([first.local_id, second.local_id])
        assert len(rig.service.shoots()) == 2  # the list still matches the database

    scenario(arun, db, body, wall_clock=lambda: NOW)
    assert len(store.load(ACCOUNT)) == 2


def test_the_service_hands_out_its_database(arun: RunAsync, db: Database) -> None:
    async def body(rig: Rig) -> None:
        assert rig.service.database is rig.db

    scenario(arun, db, body)


def test_shoot_of_finds_the_shoot_of_each_created_image_and_follows_changes(
    arun: RunAsync, db: Database
) -> None:
    async def body(rig: Rig) -> None:
        assert rig.service.shoot_of("anything") is None
        first = await rig.service.submit(REQUEST, "White tee")
        second = await rig.service.submit(ShootRequest("prod_1", count=2), "White tee")
        for image_id in first.record_ids:
            found = rig.service.shoot_of(image_id)
            assert found is not None
            assert found.local_id == first.local_id
        for image_id in second.record_ids:
            found = rig.service.shoot_of(image_id)
            assert found is not None
            assert found.local_id == second.local_id
        rig.service.cancel(first.local_id)
        later = rig.service.shoot_of(first.record_ids[0])
        assert later is not None
        assert later.state is ShootState.CANCELLED  # the latest snapshot
        rig.service.forget([first.local_id])
        assert rig.service.shoot_of(first.record_ids[0]) is None

    scenario(arun, db, body)
