"""What the designer asked to see: the server-side filter and the local search and sort."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from qamera_desktop.api.records import Image, Progress


class StatusFilter(StrEnum):
    ALL = "all"
    APPROVED = "approved"


class SortOrder(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    NAME = "name"
    STATUS = "status"

    @property
    def label(self) -> str:
        return {
            SortOrder.NEWEST: "Newest first",
            SortOrder.OLDEST: "Oldest first",
            SortOrder.NAME: "Name",
            SortOrder.STATUS: "Status",
        }[self]


@dataclass(frozen=True, slots=True)
class ServerFilter:
    """The part of the query the server applies (one GET /image-picker)."""

    product_id: str | None = None
    status: StatusFilter = StatusFilter.ALL


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PROGRESS_ORDER = {
    Progress.FAILED: 0,
    Progress.IN_PROGRESS: 1,
    Progress.QUEUED: 2,
    Progress.DONE: 3,
}


def _time(image: Image) -> float:
    return (image.created_at or _EPOCH).timestamp()


def _sort_key(order: SortOrder) -> tuple[Callable[[Image], object], bool]:
    if order is SortOrder.NEWEST:
        return (lambda i: (_time(i), i.id)), True
    if order is SortOrder.OLDEST:
        return (lambda i: (_time(i), i.id)), False
    if order is SortOrder.NAME:
        return (lambda i: (i.name.casefold(), i.id)), False
    return (lambda i: (_PROGRESS_ORDER[i.progress], -_time(i), i.id)), False


def arrange(images: Iterable[Image], search: str, order: SortOrder) -> list[Image]:
    """The images to show: those whose name or id contains every word of `search`, sorted."""
    words = search.casefold().split()
    if words:
        images = [
            i for i in images if all(w in i.name.casefold() or w in i.id.casefold() for w in words)
        ]
    key, reverse = _sort_key(order)
    return sorted(images, key=key, reverse=reverse)  # type: ignore[arg-type]
