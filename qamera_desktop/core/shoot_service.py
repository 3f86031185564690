"""Run photo shoots and follow them until every image is done or failed.

`ShootService` owns one account's shoots. A shoot is written to the database before its POST and
again with the receipt; the POST is sent once and never retried. A failure after the request was
sent leaves the shoot UNCERTAIN: the product's listing is checked for records the job may have
created, and they are adopted rather than submitted twice.

One polling task follows every TRACKING shoot: one GET of image-picker per product serves all of
that product's shoots, paced by a `PollSchedule` (per-product backoff, global request gap). Products
with an UNCERTAIN shoot are polled too while the job could still appear (`uncertain_window` after
the shoot was saved) and once after a restart, so a late job is adopted by itself.

A shoot the server refused is not kept: it is reported once (REJECTED) and removed, so that it
never lingers in the Shoots panel, this run or the next. Finished and cancelled shoots stay in the
database as the account's history until they are cleared (`clearable`, `forget`); a shoot still in
flight is never cleared.

Everything runs on the event-loop thread. Every change is stored and then reported with
`on_change`; no exception escapes the polling task or a callback (both are logged).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from qamera_desktop.api.errors import ApiError, NetworkError, ProtocolError, ServerError
from qamera_desktop.api.records import Image, ShootReceipt
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.api.timing import Clock, Sleep
from qamera_desktop.core.database import Database
from qamera_desktop.core.poll_schedule import PollSchedule
from qamera_desktop.core.shoot_lineage import shoot_index
from qamera_desktop.core.shoot_store import ShootStore, utc_now
from qamera_desktop.core.shoots import (
    CLEARABLE_STATES,
    QUEUED_STATUS,
    SAFE_TO_RESUBMIT,
    Shoot,
    ShootState,
    adoption_candidates,
)

log = logging.getLogger(__name__)

#: Gateway answers that may hide a job the backend created (the proxy gave up, not the backend).
MAY_HAVE_CREATED_STATUSES = frozenset({502, 504})
DEFAULT_UNCERTAIN_WINDOW = 600.0

SENT_BUT_UNANSWERED = (
    "The shoot was sent but its answer never arrived, so the job may exist ({cause}). "
    "Checking the product's images before anything is submitted again."
)
CRASHED_WHILE_SENDING = (
    "The app stopped while this shoot was being sent, so the job may exist. "
    "The product's images are checked before anything is submitted again."
)
CHECK_FAILED = (
    "The shoot may exist, and checking the product's images failed ({cause}). "
    "Do not submit it again until a check succeeds."
)
ADOPTED = (
    "The server's answer to this shoot was lost, but {count} new images of this product were "
    "found in the listing: they are followed as this shoot, nothing was submitted twice."
)


class ShootClient(Protocol):
    """What the service needs of `api.QameraClient`."""

    async def list_images(
        self, status_filter: str = "all", product_id: str | None = None
    ) -> list[Image]: ...

    async def register_ideas(self, request: ShootRequest) -> ShootReceipt: ...


def _ignore_shoot(shoot: Shoot) -> None:
    pass


def _ignore_images(product_id: str, images: list[Image]) -> None:
    pass


def _may_have_created(error: ApiError) -> bool:
    """An answer to the POST that does not prove nothing was created."""
    if isinstance(error, NetworkError):
        return error.request_sent
    if isinstance(error, ProtocolError):
        # A success whose body could not be read: the job exists, the receipt is lost.
        return error.status is None or 200 <= error.status < 300
    return isinstance(error, ServerError) and error.status in MAY_HAVE_CREATED_STATUSES


class ShootService:
    def __init__(
        self,
        client: ShootClient,
        database: Database,
        account: str,
        *,
        on_change: Callable[[Shoot], None] = _ignore_shoot,
        on_images: Callable[[str, list[Image]], None] = _ignore_images,
        on_finished: Callable[[Shoot], None] = _ignore_shoot,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        min_interval: float = 2.0,
        max_interval: float = 20.0,
        requests_per_minute: float = 40.0,
        uncertain_window: float = DEFAULT_UNCERTAIN_WINDOW,
        wall_clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not account:
            raise ValueError("account must be a non-empty string")
        self._client = client
        self._store = ShootStore(database)
        self._account = account
        self._on_change = on_change
        self._on_images = on_images
        self._on_finished = on_finished
        self._sleep = sleep
        self._schedule = PollSchedule(
            min_interval=min_interval,
            max_interval=max_interval,
            requests_per_minute=requests_per_minute,
            clock=clock,
        )
        self._uncertain_window = timedelta(seconds=uncertain_window)
        self._now = wall_clock
        self._shoots: dict[str, Shoot] = {}
        self._by_image: dict[str, Shoot] | None = None  # image id -> shoot, made when asked
        self._sending: Counter[str] = Counter()  # product id -> POSTs in flight
        self._unchecked: set[str] = set()  # uncertain shoots not checked since start
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started = False

    @property
    def account(self) -> str:
        return self._account

    @property
    def database(self) -> Database:
        """The local database the shoots are kept in (the New shoot dialog's memory is too)."""
        return self._store.database

    @property
    def polling(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- lifetime ----------------------------------------------------------------------------
    def start(self) -> None:
        """Load the account's shoots, resume tracking, start polling. Call once, on the loop."""
        if self._started:
            return
        self._started = True
        refused = []
        for shoot in reversed(self._store.load(self._account)):
            if shoot.state is ShootState.REJECTED:  # left by an older version: not history
                refused.append(shoot.local_id)
                continue
            self._shoots[shoot.local_id] = shoot
            self._by_image = None
            if shoot.state is ShootState.SUBMITTING:
                self._commit(
                    replace(shoot, state=ShootState.UNCERTAIN, error=CRASHED_WHILE_SENDING)
                )
            if shoot.state in (ShootState.SUBMITTING, ShootState.UNCERTAIN):
                self._unchecked.add(shoot.local_id)
                self._schedule.touch(shoot.product_id, due_in=0.0)
            elif shoot.state is ShootState.TRACKING:
                if shoot.all_finished:
                    self._finish(shoot)
                else:
                    self._schedule.touch(shoot.product_id, due_in=0.0)
        if refused:
            self._delete(refused)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = asyncio.get_event_loop()
        self._task = loop.create_task(self._run(), name=f"shoot tracking ({self._account})")

    async def aclose(self) -> None:
        """Stop polling (a request in flight is abandoned). Shoots stay in the database."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    # -- reading -----------------------------------------------------------------------------
    def shoots(self) -> list[Shoot]:
        """This account's shoots, newest first."""
        return sorted(self._shoots.values(), key=lambda s: s.created_at, reverse=True)

    def get(self, local_id: str) -> Shoot | None:
        return self._shoots.get(local_id)

    def shoot_of(self, image_id: str) -> Shoot | None:
        """The shoot that created `image_id` (None: not one of this app's shoots). A dict
        lookup: the index is rebuilt only after the shoots changed."""
        if self._by_image is None:
            self._by_image = shoot_index(self._shoots.values())
        return self._by_image.get(image_id)

    def clearable(self, older_than: timedelta | None = None) -> list[Shoot]:
        """The shoots `forget` would clear, newest first: finished or cancelled (nothing more
        happens to them here) that ended more than `older_than` ago (None: whenever).

        Kept whatever their age: every shoot in flight (sending, maybe created, tracked), and the
        ended shoots of a product that has a shoot which may exist: that shoot's listing check must
        still know their images as someone else's, or it could take them for its own.
        """
        unsure = {
            shoot.product_id
            for shoot in self._shoots.values()
            if shoot.state in (ShootState.SUBMITTING, ShootState.UNCERTAIN)
        }
        cutoff = None if older_than is None else self._now() - older_than
        return [
            shoot
            for shoot in self.shoots()
            if shoot.state in CLEARABLE_STATES
            and shoot.product_id not in unsure
            and (cutoff is None or (shoot.finished_at or shoot.created_at) < cutoff)
        ]

    def forget(self, local_ids: Iterable[str]) -> list[str]:
        """Clear these shoots from the history (this list and the database), the ones that are
        still `clearable()`; the others, unknown ids too, are left alone. The ids cleared.

        Their images stay where they are (in Qamera, and in the grid). Raises sqlite3.Error when
        the database refused (then nothing was cleared).
        """
        allowed = {shoot.local_id for shoot in self.clearable()}
        ids = [local_id for local_id in dict.fromkeys(local_ids) if local_id in allowed]
        if not ids:
            return []
        self._store.delete(ids)
        for local_id in ids:
            del self._shoots[local_id]
        self._by_image = None
        log.info("Cleared %d ended shoots from the history", len(ids))
        return ids

    # -- actions -----------------------------------------------------------------------------
    async def submit(self, request: ShootRequest, product_name: str | None = None) -> Shoot:
        """Register a shoot: stored before the POST, POSTed once.

        Raises `ValidationError` (nothing stored) for an invalid request, and the server's
        `ApiError` when it refused: the shoot is then reported REJECTED once and forgotten (not
        listed, not stored: the caller says why). A shoot that may have been created (timeout
        after sending) is returned UNCERTAIN after a listing check, not raised.
        """
        request = request.validate()
        shoot = Shoot(
            local_id=uuid.uuid4().hex,
            account=self._account,
            request=request,
            product_name=product_name,
            state=ShootState.SUBMITTING,
            created_at=self._now(),
        )
        self._store.save(shoot)  # before the POST; a failure here means nothing is sent
        self._shoots[shoot.local_id] = shoot
        self._by_image = None
        self._call(self._on_change, shoot)

        outcome = await self._post(shoot)
        current = self._shoots[shoot.local_id]
        if isinstance(outcome, ShootReceipt):
            return self._start_tracking(current, outcome)
        if not isinstance(outcome, ApiError) or _may_have_created(outcome):
            self._commit(
                replace(
                    current,
                    state=ShootState.UNCERTAIN,
                    error=SENT_BUT_UNANSWERED.format(cause=outcome),
                )
            )
            self._unchecked.add(shoot.local_id)
            self._schedule.touch(shoot.product_id)
            self._wake.set()
            return await self.check_uncertain(shoot.local_id)
        self._refused(current, outcome)
        raise outcome

    async def check_uncertain(self, local_id: str) -> Shoot:
        """Look in the product's listing for records an UNCERTAIN shoot may have created.

        Found: they are adopted (TRACKING). None: the shoot stays UNCERTAIN with an error saying it
        is safe to submit again. A failed check leaves it UNCERTAIN with the reason. Shoots in
        other states are returned unchanged. Raises KeyError for an unknown id.
        """
        shoot = self._shoots[local_id]
        if shoot.state is not ShootState.UNCERTAIN:
            return shoot
        product_id = shoot.product_id
        try:
            images = await self._client.list_images("all", product_id)
        except ApiError as exc:
            log.warning("Checking uncertain shoot %s failed: %s", local_id, exc)
            current = self._shoots[local_id]
            if current.state is ShootState.UNCERTAIN:
                self._commit(replace(current, error=CHECK_FAILED.format(cause=exc)))
            return self._shoots[local_id]
        self._call(self._on_images, product_id, images)
        if self._apply_listing(product_id, images, check=local_id):
            self._schedule.touch(product_id)
            self._wake.set()
        return self._shoots[local_id]

    def cancel(self, local_id: str) -> None:
        """Stop following a TRACKING or UNCERTAIN shoot (the server's job keeps running).

        Other states are left as they are. Raises KeyError for an unknown id.
        """
        shoot = self._shoots[local_id]
        if shoot.state not in (ShootState.TRACKING, ShootState.UNCERTAIN):
            log.info("Not cancelling shoot %s in state %s", local_id, shoot.state)
            return
        self._unchecked.discard(local_id)
        self._commit(replace(shoot, state=ShootState.CANCELLED, finished_at=self._now()))
        self._wake.set()

    # -- submitting --------------------------------------------------------------------------
    async def _post(self, shoot: Shoot) -> ShootReceipt | Exception:
        """The POST's receipt or its error. Cancelled while sending: UNCERTAIN, re-raised."""
        product_id = shoot.product_id
        self._sending[product_id] += 1
        try:
            return await self._client.register_ideas(shoot.request)
        except ApiError as exc:
            return exc
        except asyncio.CancelledError:
            current = self._shoots[shoot.local_id]
            self._commit(
                replace(
                    current,
                    state=ShootState.UNCERTAIN,
                    error=SENT_BUT_UNANSWERED.format(cause="sending was interrupted"),
                )
            )
            self._unchecked.add(shoot.local_id)
            self._schedule.touch(product_id, due_in=0.0)  # look in the listing soon
            self._wake.set()
            raise
        except Exception as exc:
            log.exception("Unexpected failure while sending shoot %s", shoot.local_id)
            return exc
        finally:
            self._sending[product_id] -= 1
            if self._sending[product_id] <= 0:
                del self._sending[product_id]

    def _start_tracking(self, shoot: Shoot, receipt: ShootReceipt) -> Shoot:
        ids = receipt.created_record_ids
        now = self._now()
        tracking = replace(
            shoot,
            state=ShootState.TRACKING,
            receipt=receipt,
            statuses=dict.fromkeys(ids, QUEUED_STATUS),
            submitted_at=now,
            error=None,
        )
        self._commit(tracking)
        name = shoot.product_name or shoot.product_id
        queued = [
            Image(id=i, name=name, thumbnail=None, status=QUEUED_STATUS, created_at=now)
            for i in ids
        ]
        self._call(self._on_images, shoot.product_id, queued)
        if tracking.all_finished:
            self._finish(tracking)
        else:
            self._schedule.touch(shoot.product_id)
            self._wake.set()
        return self._shoots[shoot.local_id]

    # -- polling -----------------------------------------------------------------------------
    def _is_watched(self, shoot: Shoot) -> bool:
        """An UNCERTAIN shoot whose job could still show up, or not checked since start."""
        if shoot.state is not ShootState.UNCERTAIN:
            return False
        if shoot.local_id in self._unchecked:
            return True
        return self._now() <= shoot.created_at + self._uncertain_window

    def _polled_products(self) -> set[str]:
        return {
            shoot.product_id
            for shoot in self._shoots.values()
            if shoot.state is ShootState.TRACKING or self._is_watched(shoot)
        }

    async def _run(self) -> None:
        while True:
            try:
                self._wake.clear()
                self._schedule.retain(self._polled_products())
                upcoming = self._schedule.next_poll()
                if upcoming is None:
                    await self._wake.wait()
                    continue
                product_id, wait = upcoming
                if wait > 0:
                    await self._sleep_unless_woken(wait)
                    continue
                await self._poll(product_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Shoot tracking hit an unexpected error; it keeps going")
                await self._sleep(self._schedule.min_interval)

    async def _sleep_unless_woken(self, seconds: float) -> None:
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def _poll(self, product_id: str) -> None:
        self._schedule.started(product_id)
        try:
            images = await self._client.list_images("all", product_id)
        except ApiError as exc:
            log.warning("Polling the images of product %s failed: %s", product_id, exc)
            self._schedule.failed(product_id)
            return
        except Exception:
            log.exception("Polling the images of product %s failed", product_id)
            self._schedule.failed(product_id)
            return
        self._call(self._on_images, product_id, images)
        changed = self._apply_listing(product_id, images)
        self._schedule.succeeded(product_id, changed=changed)

    def _apply_listing(
        self, product_id: str, images: list[Image], *, check: str | None = None
    ) -> bool:
        """Merge a fresh listing of a product into its shoots. True when any shoot progressed.

        UNCERTAIN shoots that are watched (or `check`) look for their records in it, unless a
        POST of the same product is in flight (its records could not be told apart).
        """
        by_id = {image.id: image for image in images}
        changed = False
        for shoot in self._product_shoots(product_id, ShootState.TRACKING):
            changed |= self._merge_statuses(shoot, by_id)
        if self._sending[product_id] > 0:
            return changed
        for shoot in self._product_shoots(product_id, ShootState.UNCERTAIN):
            if shoot.local_id == check or self._is_watched(shoot):
                self._unchecked.discard(shoot.local_id)
                changed |= self._adopt(self._shoots[shoot.local_id], images)
        return changed

    def _product_shoots(self, product_id: str, state: ShootState) -> list[Shoot]:
        return sorted(
            (s for s in self._shoots.values() if s.product_id == product_id and s.state is state),
            key=lambda s: s.created_at,
        )

    def _merge_statuses(self, shoot: Shoot, by_id: dict[str, Image]) -> bool:
        statuses = dict(shoot.statuses)
        for record_id in shoot.record_ids:
            image = by_id.get(record_id)
            if image is not None:
                statuses[record_id] = image.status
        if statuses == shoot.statuses:
            return False
        updated = replace(shoot, statuses=statuses)
        if updated.all_finished:
            self._finish(updated)
        else:
            self._commit(updated)
        return True

    def _adopt(self, shoot: Shoot, images: Iterable[Image]) -> bool:
        """Adopt the records an uncertain shoot's job created; True when some were found."""
        owned = (
            record_id
            for other in self._shoots.values()
            if other.local_id != shoot.local_id
            for record_id in other.record_ids
        )
        found = adoption_candidates(shoot, images, owned, self._uncertain_window)
        if not found:
            if shoot.error != SAFE_TO_RESUBMIT:
                self._commit(replace(shoot, error=SAFE_TO_RESUBMIT))
            return False
        log.info("Shoot %s: adopted %d records from the listing", shoot.local_id, len(found))
        adopted = replace(
            shoot,
            state=ShootState.TRACKING,
            found_record_ids=tuple(image.id for image in found),
            statuses={image.id: image.status for image in found},
            submitted_at=self._now(),
            error=ADOPTED.format(count=len(found)),
        )
        if adopted.all_finished:
            self._finish(adopted)
        else:
            self._commit(adopted)
        return True

    def _refused(self, shoot: Shoot, error: Exception) -> None:
        """Forget a shoot the server refused, then report it REJECTED (for listeners to drop)."""
        self._shoots.pop(shoot.local_id, None)
        self._by_image = None
        self._unchecked.discard(shoot.local_id)
        rejected = replace(
            shoot, state=ShootState.REJECTED, error=str(error), finished_at=self._now()
        )
        if not self._delete([shoot.local_id]):
            # Kept as REJECTED rather than SUBMITTING (which would read "may exist" after a
            # restart): the next start() removes it.
            try:
                self._store.save(rejected)
            except sqlite3.Error:
                log.exception("Could not store refused shoot %s", shoot.local_id)
        self._call(self._on_change, rejected)

    def _delete(self, local_ids: list[str]) -> bool:
        try:
            self._store.delete(local_ids)
        except sqlite3.Error:
            log.exception("Could not remove %d refused shoots", len(local_ids))
            return False
        return True

    def _finish(self, shoot: Shoot) -> None:
        finished = replace(shoot, state=ShootState.FINISHED, finished_at=self._now())
        self._commit(finished)
        self._call(self._on_finished, finished)

    # -- plumbing ----------------------------------------------------------------------------
    def _commit(self, shoot: Shoot) -> None:
        """Keep, store and report a new snapshot. A failed write is logged (the app goes on)."""
        self._shoots[shoot.local_id] = shoot
        self._by_image = None
        try:
            self._store.save(shoot)
        except sqlite3.Error:
            log.exception("Could not store shoot %s", shoot.local_id)
        self._call(self._on_change, shoot)

    def _call[*Ts](self, callback: Callable[[*Ts], None], *args: *Ts) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("A shoot listener failed")
