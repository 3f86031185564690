"""A photo shoot as this app knows it: the request, what the server answered, how far it got.

`Shoot` is an immutable snapshot; the shoot service makes a new one for every change, stores it and
hands it to listeners. The server's record statuses are free-form strings (`statuses`, last seen per
record id); they are classified with `api.records.classify_status`, and an id the listing has not
shown yet counts as queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from qamera_desktop.api.records import Image, Progress, ShootReceipt, classify_status
from qamera_desktop.api.shoot_request import ShootRequest

QUEUED_STATUS = "QUEUED"
"""The status given to freshly created records before the listing has shown them."""

SAFE_TO_RESUBMIT = "No new images were found for this product: it is safe to submit again."
"""The error of an UNCERTAIN shoot whose listing check found nothing (the UI looks for it)."""


class ShootState(StrEnum):
    SUBMITTING = "submitting"
    """Saved, POST not answered yet (after a crash in this state the POST may or may not have
    happened: UNCERTAIN on load)."""
    UNCERTAIN = "uncertain"
    """The POST may have created the job (timeout after sending): check the listing before any
    resubmission."""
    REJECTED = "rejected"
    """The server refused (4xx, 5xx): nothing was created; `error` says why. Only ever reported,
    never kept: the service forgets a refused shoot at once (the dialog that sent it says why),
    and drops any such row an older version left in the database."""
    TRACKING = "tracking"
    """Receipt stored (or the records were found in the listing), following the record ids."""
    FINISHED = "finished"
    """Every record is done or failed."""
    CANCELLED = "cancelled"
    """The user stopped tracking (the server job keeps running)."""


ADOPTION_LEAD = timedelta(seconds=60)
"""Records created this long before the shoot was saved may still be its own (clock skew)."""

TERMINAL_STATES = frozenset({ShootState.REJECTED, ShootState.FINISHED, ShootState.CANCELLED})

CLEARABLE_STATES = frozenset({ShootState.FINISHED, ShootState.CANCELLED})
"""Shoots that may be cleared from the history: nothing more happens to them here."""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True, slots=True)
class Shoot:
    """One shoot of one account. `statuses` maps record id -> last status the listing showed."""

    local_id: str
    account: str
    request: ShootRequest
    product_name: str | None
    state: ShootState
    created_at: datetime
    receipt: ShootReceipt | None = None
    statuses: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    finished_at: datetime | None = None
    submitted_at: datetime | None = None
    """When the receipt arrived (or the records were found in the listing)."""
    found_record_ids: tuple[str, ...] = ()
    """For an uncertain submission whose receipt was lost: the ids adopted from the listing."""

    def __post_init__(self) -> None:
        # A read-only copy: snapshots are shared with the UI and must not change under it.
        object.__setattr__(self, "statuses", MappingProxyType(dict(self.statuses)))
        object.__setattr__(self, "found_record_ids", tuple(self.found_record_ids))

    # -- identity ----------------------------------------------------------------------------
    @property
    def product_id(self) -> str:
        return self.request.product_id

    @property
    def record_ids(self) -> tuple[str, ...]:
        """The ids this shoot follows: the receipt's, or the ones adopted from the listing."""
        if self.receipt is not None:
            return self.receipt.created_record_ids
        return self.found_record_ids

    @property
    def receipt_lost(self) -> bool:
        """The records were adopted from the listing because the POST's answer never arrived."""
        return self.receipt is None and bool(self.found_record_ids)

    # -- progress ----------------------------------------------------------------------------
    def progress_of(self, record_id: str) -> Progress:
        return classify_status(self.statuses.get(record_id))

    def _count(self, *kinds: Progress) -> int:
        return sum(1 for record_id in self.record_ids if self.progress_of(record_id) in kinds)

    @property
    def total(self) -> int:
        return len(self.record_ids)

    @property
    def done(self) -> int:
        return self._count(Progress.DONE)

    @property
    def failed(self) -> int:
        return self._count(Progress.FAILED)

    @property
    def pending(self) -> int:
        """Queued or in progress."""
        return self.total - self.done - self.failed

    @property
    def all_finished(self) -> bool:
        """Every followed record is done or failed (vacuously true before any record is known)."""
        return self.pending == 0

    @property
    def is_active(self) -> bool:
        """Something may still happen to it here: being sent, being checked, being tracked."""
        return self.state not in TERMINAL_STATES

    @property
    def credits(self) -> CreditSettlement | None:
        """Where the credits the receipt reserved stand; None without a receipt that states them."""
        receipt = self.receipt
        if receipt is None or receipt.credits_reserved is None:
            return None
        per_image = self.credits_per_image
        if per_image is None:  # a receipt without records: nothing to consume or refund
            return CreditSettlement(receipt.credits_reserved, 0.0, 0.0, receipt.credits_reserved)
        return CreditSettlement(
            reserved=receipt.credits_reserved,
            consumed=per_image * self.done,
            refunded=per_image * self.failed,
            held=per_image * self.pending,
        )

    @property
    def credits_per_image(self) -> float | None:
        """Credits reserved per created image, from the receipt."""
        receipt = self.receipt
        if receipt is None or receipt.credits_reserved is None or not receipt.created_record_ids:
            return None
        return receipt.credits_reserved / len(receipt.created_record_ids)

    def summary(self) -> str:
        """One readable line, e.g. "10 images ready, 1 failed (credits refunded)"."""
        state = self.state
        if state is ShootState.SUBMITTING:
            return f"Sending a shoot of {_plural(self.request.count, 'image')}…"
        if state is ShootState.UNCERTAIN:
            return self.error or "The shoot may have been created: check the listing first."
        if state is ShootState.REJECTED:
            return f"Not started: {self.error}" if self.error else "Not started."
        lost = " (receipt lost: images found in the listing)" if self.receipt_lost else ""
        if state is ShootState.FINISHED:
            done, failed = self.done, self.failed
            ready = f"{_plural(done, 'image')} ready" if done else "No images ready"
            if failed:
                return f"{ready}, {failed} failed (credits refunded){lost}"
            return f"{ready}{lost}"
        progress = f"{self.done} of {self.total} done"
        if self.failed:
            progress += f", {self.failed} failed"
        if state is ShootState.CANCELLED:
            return f"Tracking stopped at {progress} (Qamera keeps processing){lost}"
        if self.pending:
            progress += f", {self.pending} in progress"
        return f"{progress}{lost}"


def _credits(value: float) -> str:
    return f"{round(value, 2):g}"


@dataclass(frozen=True, slots=True)
class CreditSettlement:
    """A shoot's credits: `reserved` is the receipt's (Qamera's own figure); how much of it was
    `consumed` (done images), `refunded` (failed images) or is still `held` (images in progress)
    is estimated here, at the receipt's price per image, from the statuses the listing showed.
    Qamera consumes an image's credits when it is done and refunds them when it fails, but its
    API does not report a shoot's settlement."""

    reserved: float
    consumed: float
    refunded: float
    held: float

    @property
    def estimated(self) -> bool:
        """Some of it settled: the split is this app's estimate, not a figure from the server."""
        return self.consumed > 0 or self.refunded > 0

    def text(self) -> str:
        """ "9 reserved" until an image settles, then e.g. "6 used, 3 refunded (estimated)"."""
        if not self.estimated:
            return f"{_credits(self.reserved)} reserved"
        parts = [f"{_credits(self.consumed)} used"]
        if self.refunded:
            parts.append(f"{_credits(self.refunded)} refunded")
        if self.held:
            parts.append(f"{_credits(self.held)} reserved")
        return ", ".join(parts) + " (estimated)"

    def explanation(self) -> str:
        """The figures and where each comes from, for a tooltip."""
        text = f"Qamera reserved {_credits(self.reserved)} credits for this shoot (its receipt)."
        if not self.estimated:
            return text + " Done images use their credits; failed images are refunded."
        return (
            f"{text} Estimated from the images' states at the receipt's price per image: "
            f"{_credits(self.consumed)} used by the done images, {_credits(self.refunded)} "
            f"refunded for the failed ones, {_credits(self.held)} still reserved. Qamera's API "
            "does not report a shoot's settlement."
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def adoption_candidates(
    shoot: Shoot, listing: Iterable[Image], owned_ids: Iterable[str], window: timedelta
) -> list[Image]:
    """The records of the product's listing that an uncertain submission may have created.

    Those created from `ADOPTION_LEAD` before the shoot was saved to `window` after it, that no
    other shoot of the account owns, oldest first, at most as many as the shoot asked for. A record
    without a creation time cannot be placed in time and is never adopted.
    """
    owned = set(owned_ids)
    start = _aware(shoot.created_at) - ADOPTION_LEAD
    end = _aware(shoot.created_at) + window
    unique = {image.id: image for image in listing}
    found = [
        image
        for image in unique.values()
        if image.id not in owned
        and image.created_at is not None
        and start <= _aware(image.created_at) <= end
    ]
    found.sort(key=lambda image: (_aware(image.created_at or start), image.id))
    return found[: shoot.request.count]
