"""Typed, immutable records of what the Qamera API returns.

Parsing (JSON -> records) lives in `parsing.py`; these classes only hold data and classify it.
Unknown `status` / `voting` values are kept verbatim as strings: the API has undocumented values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Progress(StrEnum):
    """Where an image is in its life, derived from the server's free-form `status`."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"


def classify_status(status: str | None) -> Progress:
    """DONE is done; anything mentioning FAIL or ERROR is failed; QUEUED/PENDING/None is queued;
    anything else (PROCESSING, unknown values) is still in progress."""
    if status is None:
        return Progress.QUEUED
    s = status.strip().upper()
    if s == "DONE":
        return Progress.DONE
    if "FAIL" in s or "ERROR" in s:
        return Progress.FAILED
    if s in {"", "QUEUED", "PENDING", "NEW", "CREATED", "WAITING"}:
        return Progress.QUEUED
    return Progress.IN_PROGRESS


@dataclass(frozen=True, slots=True)
class Image:
    """One generated photo-shoot image (an item of `GET /image-picker`)."""

    id: str
    name: str
    thumbnail: str | None
    status: str
    created_at: datetime | None
    voting: str | None = None

    @property
    def progress(self) -> Progress:
        return classify_status(self.status)

    @property
    def is_finished(self) -> bool:
        """Done or failed: nothing more will happen to this image."""
        return self.status_is_final(self.status)

    @staticmethod
    def status_is_final(status: str | None) -> bool:
        """A status after which nothing more happens to an image (done or failed)."""
        return classify_status(status) in (Progress.DONE, Progress.FAILED)

    @property
    def is_done(self) -> bool:
        return self.progress is Progress.DONE

    @property
    def is_failed(self) -> bool:
        return self.progress is Progress.FAILED

    @property
    def is_approved(self) -> bool:
        return (self.voting or "").upper() == "APPROVED"


@dataclass(frozen=True, slots=True)
class Product:
    """A product of the account's catalogue, as the API lists it."""

    id: str
    name: str
    thumbnail: str | None
    status: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class AiModel:
    """An AI model (mannequin) of the account."""

    id: str
    name: str
    thumbnail: str | None
    status: str
    created_at: datetime | None
    voting: str | None = None


@dataclass(frozen=True, slots=True)
class Scenery:
    """A scenery of the account's catalogue, as the API lists it."""

    id: str
    name: str
    thumbnail: str | None
    status: str
    created_at: datetime | None
    voting: str | None = None


@dataclass(frozen=True, slots=True)
class Preset:
    """A preset of the account's catalogue: the guidelines a shoot can start from."""

    id: str
    name: str
    guidelines: str | None = None
    quantity_guidelines: str | None = None
    quality_guidelines: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ShootReceipt:
    """The answer to `POST /image-picker/register-ideas`."""

    created_record_ids: tuple[str, ...]
    batch_id: str | None
    order_id: str | None
    reservation_id: str | None
    credits_reserved: float | None
    correlation_id: str | None = field(default=None, compare=False)
