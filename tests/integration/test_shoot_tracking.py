"""Shoots against the real sandbox over loopback HTTP: submit, track to the end, faults, restarts.

Every test starts its own sandbox (fast processing unless it says otherwise) and its own database.
The service talks to the sandbox through the real `QameraClient`, wrapped in a `RecordingClient`
that notes when each listing was asked for and for which product. Waits are on events with
deadlines, never blind sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from qamera_desktop.api import (
    InsufficientCreditsError,
    NotFoundError,
    QameraClient,
    RateBudget,
    ShootReceipt,
    ShootRequest,
    ValidationError,
)
from qamera_desktop.api.records import Image
from qamera_desktop.core.account import account_id, sandbox_account_id
from qamera_desktop.core.database import Database
from qamera_desktop.core.shoot_service import ShootService
from qamera_desktop.core.shoot_store import ShootStore
from qamera_desktop.core.shoots import Shoot, ShootState
from qamera_desktop.sandbox import EXAMPLE_API_KEY, SandboxHandle
from tests.sandbox_fixtures import make_sandbox_fixtures

sandbox_factory, sandbox = make_sandbox_fixtures()

RunAsync = Callable[..., Any]
REGISTER = ("POST", "/api/external/image-picker/register-ideas")
LISTING = ("GET", "/api/external/image-picker")
TEE, TOTE = "prod_wtee01", "prod_tote02"  # products of the sandbox's demo account


class RecordingClient:
    """The service's client: listings from `client`, POSTs from `post_client` (default the same),
    each listing call noted as (monotonic time, product id)."""

    def __init__(self, client: QameraClient, post_client: QameraClient | None = None) -> None:
        self._client = client
        self._post_client = post_client or client
        self.listings: list[tuple[float, str]] = []

    async def list_images(
        self, status_filter: str = "all", product_id: str | None = None
    ) -> list[Image]:
        self.listings.append((time.monotonic(), product_id or ""))
        return await self._client.list_images(status_filter, product_id)

    async def register_ideas(self, request: ShootRequest) -> ShootReceipt:
        return await self._post_client.register_ideas(request)


@dataclass
class Events:
    changes: list[Shoot] = field(default_factory=list)
    images: list[tuple[str, list[Image]]] = field(default_factory=list)
    finished: list[Shoot] = field(default_factory=list)
    finished_at: dict[str, float] = field(default_factory=dict)
    _signal: asyncio.Event = field(default_factory=asyncio.Event)

    def on_change(self, shoot: Shoot) -> None:
        self.changes.append(shoot)
        self._signal.set()

    def on_images(self, product_id: str, images: list[Image]) -> None:
        self.images.append((product_id, images))

    def on_finished(self, shoot: Shoot) -> None:
        self.finished.append(shoot)
        self.finished_at[shoot.local_id] = time.monotonic()
        self._signal.set()

    async def until(self, predicate: Callable[[], bool], within: float, what: str) -> None:
        """Wait for `predicate` to hold, re-checked at every event, failing after `within` s."""
        deadline = time.monotonic() + within
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"timed out after {within} s waiting until {what}")
            self._signal.clear()
            try:
                await asyncio.wait_for(self._signal.wait(), remaining)
            except TimeoutError:
                continue

    def states(self, local_id: str) -> list[ShootState]:
        states = [s.state for s in self.changes if s.local_id == local_id]
        return [state for state, _ in itertools.groupby(states)]


def api_client(
    sandbox: SandboxHandle, key: str | None = None, timeout: float = 10.0
) -> QameraClient:
    """A real client with a budget of its own (60 a minute), so tests do not share one."""
    return QameraClient(
        sandbox.base_url, key or sandbox.demo_key, timeout=timeout, rate_budget=RateBudget()
    )


def service_for(
    client: Any, db: Database, events: Events, account: str = "acct-demo", **options: Any
) -> ShootService:
    settings: dict[str, Any] = {
        "min_interval": 0.2,
        "max_interval": 1.0,
        "requests_per_minute": 600.0,
    }
    settings.update(options)
    return ShootService(
        client,
        db,
        account,
        on_change=events.on_change,
        on_images=events.on_images,
        on_finished=events.on_finished,
        **settings,
    )


def run_scenario(
    arun: RunAsync, body: Callable[[], Coroutine[Any, Any, None]], timeout: float = 30
) -> None:
    arun(body(), timeout=timeout)


def file_bytes(path: Path) -> bytes:
    """The database and its WAL and shared-memory files, as they are on disk."""
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


# -- the happy path ----------------------------------------------------------------------------
def test_a_shoot_is_tracked_to_finished_and_the_grid_gets_queued_then_done_records(
    arun: RunAsync, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    async def body() -> None:
        events = Events()
        with Database(tmp_path / "app.sqlite3") as db:
            async with api_client(sandbox) as client:
                service = service_for(RecordingClient(client), db, events)
                service.start()
                try:
                    shoot = await service.submit(ShootRequest(TEE, count=3), "White T-Shirt")
                    assert shoot.state is ShootState.TRACKING
                    assert shoot.receipt is not None
                    assert shoot.receipt.credits_reserved == 9
                    ids = set(shoot.record_ids)
                    assert len(ids) == 3
                    await events.until(lambda: bool(events.finished), 15, "the shoot finished")
                finally:
                    await service.aclose()
                final = service.get(shoot.local_id)
                assert final is not None
                assert final.state is ShootState.FINISHED
                assert final.finished_at is not None
                assert (final.done, final.failed, final.pending) == (3, 0, 0)
                assert final.summary() == "3 images ready"
                assert events.finished == [final]
                assert events.states(shoot.local_id) == [
                    ShootState.SUBMITTING,
                    ShootState.TRACKING,
                    ShootState.FINISHED,
                ]
                # The grid: the queued records at once, then the product's listing with them done.
                product, first = events.images[0]
                assert product == TEE
                assert {i.id for i in first} == ids
                assert {i.status for i in first} == {"QUEUED"}
                product, last = events.images[-1]
                assert product == TEE
                done = {i.id: i for i in last if i.id in ids}
                assert set(done) == ids
                assert all(i.status == "DONE" and i.thumbnail for i in done.values())
                assert ShootStore(db).load("acct-demo") == [final]
                assert ShootStore(db).credits_per_image("acct-demo") == 3.0
        assert sandbox.stats().count(*REGISTER) == 1

    run_scenario(arun, body)


def test_failed_images_are_reported_with_their_refund(
    arun: RunAsync, sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    server = sandbox_factory(failure_rate=1.0)

    async def body() -> None:
        events = Events()
        with Database(tmp_path / "app.sqlite3") as db:
            async with api_client(server) as client:
                service = service_for(RecordingClient(client), db, events)
                service.start()
                try:
                    shoot = await service.submit(ShootRequest(TOTE, count=3))
                    await events.until(lambda: bool(events.finished), 15, "the shoot finished")
                finally:
                    await service.aclose()
        final = events.finished[0]
        assert (final.done, final.failed) == (0, 3)
        assert final.summary() == "No images ready, 3 failed (credits refunded)"
        assert shoot.receipt is not None
        (reservation,) = (
            r
            for r in server.ledger().reservations
            if r.reservation_id == shoot.receipt.reservation_id
        )
        assert reservation.refunded == reservation.reserved == 9  # the summary tells the truth

    run_scenario(arun, body)


# -- refusals ----------------------------------------------------------------------------------
def test_not_enough_credits_is_rejected_with_the_servers_numbers(
    arun: RunAsync, sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    server = sandbox_factory(credits=5)  # 3 credits an image: 1 fits, 2 do not

    async def body() -> None:
        events = Events()
        with Database(tmp_path / "app.sqlite3") as db:
            async with api_client(server) as client:
                recording = RecordingClient(client)
                service = service_for(recording, db, events)
                service.start()
                try:
                    with pytest.raises(InsufficientCreditsError) as raised:
                        await service.submit(ShootRequest(TEE, count=2))
                    error = raised.value
                    assert error.status == 402
                    assert "Required: 6, available: 5" in str(error)
                    # refused: reported once, then neither listed nor stored (no ghost row)
                    assert events.states(events.changes[0].local_id) == [
                        ShootState.SUBMITTING,
                        ShootState.REJECTED,
                    ]
                    assert events.changes[-1].error == str(error)
                    assert service.shoots() == []
                    assert ShootStore(db).load("acct-demo") == []
                    # One image still fits: the boundary is the server's, not ours.
                    ok = await service.submit(ShootRequest(TEE, count=1))
                    assert ok.state is ShootState.TRACKING
                    await events.until(lambda: bool(events.finished), 15, "the shoot finished")
                finally:
                    await service.aclose()
        assert server.stats().count(*REGISTER) == 2

    run_scenario(arun, body)


@pytest.mark.parametrize(
    ("request_", "error_type", "message"),
    [
        (ShootRequest("prod_nope", count=1), NotFoundError, "Product"),
        (ShootRequest(TEE, model_id="model_nope", count=1), NotFoundError, "Model"),
        (ShootRequest("prod_abc123", count=1), NotFoundError, "Product"),  # another account's
        (ShootRequest(TEE, suggestions="x" * 2001, count=1), ValidationError, "2000 characters"),
    ],
)
def test_bad_ids_and_bodies_are_rejected(
    arun: RunAsync,
    sandbox: SandboxHandle,
    tmp_path: Path,
    request_: ShootRequest,
    error_type: type[Exception],
    message: str,
) -> None:
    async def body() -> None:
        events = Events()
        with Database(tmp_path / "app.sqlite3") as db:
            async with api_client(sandbox) as client:
                recording = RecordingClient(client)
                service = service_for(recording, db, events)
                service.start()
                try:
                    with pytest.raises(error_type, match=message) as raised:
                        await service.submit(request_)
                    refused = events.changes[-1]
                    assert refused.state is ShootState.REJECTED
                    assert refused.error == str(raised.value)
                    assert not refused.is_active
                    assert service.shoots() == []
                    assert ShootStore(db).load("acct-demo") == []
                finally:
                    await service.aclose()
                assert recording.listings == []  # nothing to check, nothing to follow
        stats = sandbox.stats()
        assert stats.count(*REGISTER) == 1
        assert stats.by_status.get(400 if error_type is ValidationError else 404) == 1

    run_scenario(arun, body)


# -- the answer that never came ----------------------------------------------------------------
def test_a_post_that_times_out_after_sending_is_adopted_not_submitted_twice(
    arun: RunAsync, sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    """The sandbox waits 2 s before handling any request; the POST's client gives up after 0.8 s,
    but the handler still runs and registers the job. The listing check goes out at once (and is
    itself handled 2 s after it arrived, so after the POST): it finds the job and adopts it.
    Images take 1 s each, so the adopted job is still running and is tracked to its end."""
    server = sandbox_factory(latency_ms=2000, processing_seconds=1.0)

    async def body() -> None:
        events = Events()
        started = datetime.now(UTC)
        with Database(tmp_path / "app.sqlite3") as db:
            async with (
                api_client(server, timeout=10.0) as client,
                api_client(server, timeout=0.8) as impatient,
            ):
                service = service_for(RecordingClient(client, post_client=impatient), db, events)
                service.start()
                try:
                    shoot = await service.submit(ShootRequest(TEE, count=3), "White T-Shirt")
                    assert events.states(shoot.local_id) == [
                        ShootState.SUBMITTING,
                        ShootState.UNCERTAIN,
                        ShootState.TRACKING,
                    ]
                    uncertain = next(s for s in events.changes if s.state is ShootState.UNCERTAIN)
                    assert "may exist" in (uncertain.error or "")
                    assert shoot.state is ShootState.TRACKING
                    assert shoot.receipt_lost
                    assert "nothing was submitted twice" in (shoot.error or "")
                    server.reconfigure(latency_ms=0)
                    await events.until(lambda: bool(events.finished), 15, "the shoot finished")
                finally:
                    await service.aclose()
                # The adopted ids are exactly the records the one job created.
                listing = await client.list_images("all", TEE)
        new = {i.id for i in listing if i.created_at and i.created_at >= started}
        assert set(shoot.record_ids) == new
        assert len(new) == 3
        assert events.finished[0].summary().startswith("3 images ready")
        assert server.stats().count(*REGISTER) == 1  # no duplicate job

    run_scenario(arun, body, timeout=40)


def test_a_crash_between_post_and_receipt_is_resolved_on_the_next_start(
    arun: RunAsync, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The POST went out and the app died before storing the receipt: the row says SUBMITTING."""
    request = ShootRequest(TOTE, count=2)

    async def body() -> None:
        events = Events()
        with Database(tmp_path / "app.sqlite3") as db:
            crashed = Shoot(
                "c" * 32, "acct-demo", request, None, ShootState.SUBMITTING, datetime.now(UTC)
            )
            ShootStore(db).save(crashed)
            async with api_client(sandbox) as client:
                receipt = await client.register_ideas(request)  # what the dead app had sent
                service = service_for(RecordingClient(client), db, events)
                service.start()
                try:
                    loaded = service.get(crashed.local_id)
                    assert loaded is not None
                    assert loaded.state is ShootState.UNCERTAIN
                    await events.until(lambda: bool(events.finished), 15, "the shoot finished")
                finally:
                    await service.aclose()
        final = events.finished[0]
        assert final.local_id == crashed.local_id
        assert sorted(final.record_ids) == sorted(receipt.created_record_ids)
        assert sandbox.stats().count(*REGISTER) == 1

    run_scenario(arun, body)


# -- restarts ----------------------------------------------------------------------------------
def test_a_second_service_on_the_same_database_resumes_tracking(
    arun: RunAsync, sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    server = sandbox_factory(processing_seconds=0.5)  # 4 images, 2 at a time: about 1 s
    path = tmp_path / "app.sqlite3"

    async def body() -> None:
        first_events, second_events = Events(), Events()
        async with api_client(server) as client:
            with Database(path) as db:
                first = service_for(RecordingClient(client), db, first_events)
                first.start()
                shoot = await first.submit(ShootRequest(TEE, count=4))
                await first.aclose()  # the app quits mid-shoot
            with Database(path) as db:
                stored = ShootStore(db).load("acct-demo")
            assert [s.state for s in stored] == [ShootState.TRACKING]
            assert stored[0].pending > 0
            with Database(path) as db:
                recording = RecordingClient(client)
                second = service_for(recording, db, second_events)
                second.start()
                try:
                    resumed = second.get(shoot.local_id)
                    assert resumed is not None
                    assert resumed.state is ShootState.TRACKING
                    assert resumed.receipt == shoot.receipt
                    await second_events.until(
                        lambda: bool(second_events.finished), 15, "the shoot finished"
                    )
                finally:
                    await second.aclose()
                assert recording.listings  # it polled by itself
                assert ShootStore(db).load("acct-demo")[0].state is ShootState.FINISHED
        assert second_events.finished[0].done + second_events.finished[0].failed == 4
        assert first_events.finished == []
        assert server.stats().count(*REGISTER) == 1

    run_scenario(arun, body)


def test_history_survives_a_sandbox_restart_on_another_port(
    arun: RunAsync, sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    """The demo sandbox picks a free port at every start. Its account is known by its data
    folder, so the next run lists the shoots of the last one (and never a refused one)."""
    data_dir = tmp_path / "sandbox"
    path = tmp_path / "app.sqlite3"
    first = sandbox_factory(data_dir=data_dir, credits=14)  # 3 an image: 2 + 2 fit, 3 more not
    account = sandbox_account_id(data_dir, first.demo_key)

    async def last_run() -> list[Shoot]:
        events = Events()
        async with api_client(first) as client:
            with Database(path) as db:
                service = service_for(RecordingClient(client), db, events, account)
                service.start()
                try:
                    done = await service.submit(ShootRequest(TEE, count=2), "White T-Shirt")
                    await events.until(lambda: bool(events.finished), 15, "the shoot finished")
                    with pytest.raises(NotFoundError):
                        await service.submit(ShootRequest("prod_nope", count=1))
                    with pytest.raises(InsufficientCreditsError):
                        await service.submit(ShootRequest(TOTE, count=3), "Tote")
                    return [s for s in service.shoots() if s.local_id == done.local_id]
                finally:
                    await service.aclose()

    (finished,) = arun(last_run(), timeout=30)
    assert finished.state is ShootState.FINISHED

    second = sandbox_factory(data_dir=data_dir, credits=14)  # the next run: another port
    first.stop()
    assert second.base_url != first.base_url
    # what lost the history: the id made of the URL changes with the port
    assert account_id(first.base_url, first.demo_key) != account_id(second.base_url, first.demo_key)
    assert sandbox_account_id(data_dir, second.demo_key) == account

    async def next_run() -> None:
        events = Events()
        async with api_client(second) as client:
            with Database(path) as db:
                recording = RecordingClient(client)
                service = service_for(recording, db, events, account)
                service.start()
                try:
                    assert service.shoots() == [finished]  # listed, refusals not
                    again = await service.submit(finished.request, "White T-Shirt")  # run again
                    await events.until(lambda: bool(events.finished), 15, "the rerun finished")
                    assert [s.local_id for s in service.shoots()] == [
                        again.local_id,
                        finished.local_id,
                    ]
                finally:
                    await service.aclose()
                assert {p for _, p in recording.listings} == {TEE}  # the rerun only
                assert len(ShootStore(db).load(account)) == 2

    arun(next_run(), timeout=30)


# -- many at once ------------------------------------------------------------------------------
def test_three_shoots_on_two_products_share_one_paced_poll_per_product(
    arun: RunAsync, sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    """The tracker is set to 60 requests a minute (one poll a second) with product intervals
    shorter than that, so the pace alone decides: the polls must alternate between the products
    while both have work, never poll a product once per shoot, and the sandbox (enforcing its
    limit of 60 a minute) must never answer 429."""
    server = sandbox_factory(processing_seconds=0.8, rate_limit=True)
    measured: dict[str, float] = {}

    async def body() -> None:
        events = Events()
        with Database(tmp_path / "app.sqlite3") as db:
            async with api_client(server) as client:
                recording = RecordingClient(client)
                service = service_for(
                    recording,
                    db,
                    events,
                    min_interval=0.05,
                    max_interval=0.5,
                    requests_per_minute=60.0,
                )
                service.start()
                try:
                    shoots = await asyncio.gather(
                        service.submit(ShootRequest(TEE, count=3)),
                        service.submit(ShootRequest(TOTE, count=4)),
                        service.submit(ShootRequest(TEE, count=3)),
                    )
                    await events.until(
                        lambda: len(events.finished) == 3, 30, "all three shoots finished"
                    )
                finally:
                    await service.aclose()
        assert {s.state for s in service.shoots()} == {ShootState.FINISHED}
        assert sorted(s.total for s in service.shoots()) == [3, 3, 4]

        polls = recording.listings
        gaps = [b - a for (a, _), (b, _) in itertools.pairwise(polls)]
        assert min(gaps) >= 0.95  # 60 a minute: a second apart, whatever the number of products
        # While both products had work, each cycle polled each product once.
        first_product_done = min(
            max(events.finished_at[s.local_id] for s in shoots if s.product_id == product)
            for product in (TEE, TOTE)
        )
        both_active = [product for t, product in polls if t < first_product_done]
        assert len(both_active) >= 2
        assert all(a != b for a, b in itertools.pairwise(both_active)), both_active
        stats = server.stats()
        assert stats.max_in_window(server.demo_key, 60.0) <= 60
        assert 429 not in stats.by_status
        assert stats.count(*LISTING) == len(polls)
        assert stats.count(*REGISTER) == 3
        span = polls[-1][0] - polls[0][0]
        measured.update(
            polls=len(polls),
            tee=sum(p == TEE for _, p in polls),
            tote=sum(p == TOTE for _, p in polls),
            span_s=span,
            per_minute=60.0 * (len(polls) - 1) / span if span else 0.0,
            min_gap_s=min(gaps),
            alternating=len(both_active),
            max_in_60s=stats.max_in_window(server.demo_key, 60.0),
        )

    run_scenario(arun, body, timeout=45)
    print(f"three-shoot tracking: {measured}")


# -- accounts and secrets ----------------------------------------------------------------------
def test_accounts_are_kept_apart_and_the_database_never_holds_a_key(
    arun: RunAsync, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    path = tmp_path / "app.sqlite3"

    async def body() -> None:
        demo_events, example_events = Events(), Events()
        with Database(path) as db:
            async with (
                api_client(sandbox) as demo_client,
                api_client(sandbox, EXAMPLE_API_KEY) as example_client,
            ):
                demo = service_for(RecordingClient(demo_client), db, demo_events, "acct-demo")
                example = service_for(
                    RecordingClient(example_client), db, example_events, "acct-example"
                )
                demo.start()
                example.start()
                try:
                    mine = await demo.submit(ShootRequest(TEE, count=2))
                    theirs = await example.submit(ShootRequest("prod_abc123", count=3))
                    await demo_events.until(lambda: bool(demo_events.finished), 15, "demo done")
                    await example_events.until(
                        lambda: bool(example_events.finished), 15, "example done"
                    )
                finally:
                    await demo.aclose()
                    await example.aclose()
                assert [s.local_id for s in demo.shoots()] == [mine.local_id]
                assert [s.local_id for s in example.shoots()] == [theirs.local_id]
                assert ShootStore(db).credits_per_image("acct-demo") == 3.0
            reloaded = service_for(RecordingClient(demo_client), db, Events(), "acct-demo")
            reloaded.start()
            try:
                assert [s.local_id for s in reloaded.shoots()] == [mine.local_id]
            finally:
                await reloaded.aclose()
        content = file_bytes(path)
        assert b"acct-demo" in content  # the check looks at the right bytes
        for secret in (sandbox.demo_key, EXAMPLE_API_KEY, "secret456", "mk_live_"):
            assert secret.encode() not in content

    run_scenario(arun, body)
