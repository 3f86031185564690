"""A designer's decision on one image: a flag, a rating, a colour label and reject reasons.

Flag and rating are separate facts (stars for quality, the flag for the decision). They are the
designer's own, kept in the local database (review_store.py); the server's `voting` is shown
beside them and never changed: the API has no endpoint to write it.

Qt-free values and pure functions only: what a key press does to a review (`with_flag`,
`with_rating`, `with_label_toggled`, `with_reason_toggled`), which reviews a filter keeps
(`ReviewFilter`) and the count line of a view (`ReviewCounts`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final


class Flag(StrEnum):
    NONE = "none"
    PICK = "pick"
    REJECT = "reject"


class Label(StrEnum):
    NONE = "none"
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    BLUE = "blue"
    PURPLE = "purple"


class RejectReason(StrEnum):
    """Why a generated image was rejected; the first two are the most common failures of
    generated product shots."""

    WRONG_VIEW = "wrong_view"
    GARBLED_TEXT = "garbled_text"
    PRODUCT_WRONG = "product_wrong"
    ANATOMY = "anatomy"
    LIGHTING = "lighting"
    OTHER = "other"


REASON_TEXT: Final[dict[RejectReason, str]] = {
    RejectReason.WRONG_VIEW: "wrong side or view",
    RejectReason.GARBLED_TEXT: "garbled text or logo on the product",
    RejectReason.PRODUCT_WRONG: "product shape or colour wrong",
    RejectReason.ANATOMY: "anatomy",
    RejectReason.LIGHTING: "lighting",
    RejectReason.OTHER: "other",
}

MAX_RATING: Final = 5


@dataclass(frozen=True, slots=True)
class Review:
    """The designer's decision on one image: pick or reject (with reasons), rating, label."""

    flag: Flag = Flag.NONE
    rating: int = 0
    label: Label = Label.NONE
    reasons: tuple[RejectReason, ...] = ()  # only while rejected, in the order picked

    def __post_init__(self) -> None:
        if not 0 <= self.rating <= MAX_RATING:
            raise ValueError(f"a rating is 0 to {MAX_RATING}, not {self.rating}")

    @property
    def is_blank(self) -> bool:
        """Nothing decided: no row is kept for it."""
        return self == BLANK


BLANK: Final = Review()


def with_flag(review: Review, flag: Flag) -> Review:
    """Pick, reject or clear: explicit, never a toggle. Leaving "reject" drops the reasons."""
    reasons = review.reasons if flag is Flag.REJECT else ()
    return replace(review, flag=flag, reasons=reasons)


def with_rating(review: Review, rating: int) -> Review:
    return replace(review, rating=rating)


def with_label_toggled(review: Review, label: Label) -> Review:
    """The label, or none when the image already has it (the same key again clears it)."""
    return replace(review, label=Label.NONE if review.label is label else label)


def with_reason_toggled(review: Review, reason: RejectReason) -> Review:
    """Add or remove a reject reason; only a rejected image has reasons."""
    if review.flag is not Flag.REJECT:
        return review
    if reason in review.reasons:
        return replace(review, reasons=tuple(r for r in review.reasons if r is not reason))
    return replace(review, reasons=(*review.reasons, reason))


class FlagFilter(StrEnum):
    ALL = "all"
    PICKS = "picks"
    REJECTS = "rejects"
    UNFLAGGED = "unflagged"


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    """Which reviews a view keeps; combined with the server filter and the search."""

    flag: FlagFilter = FlagFilter.ALL
    min_rating: int = 0
    label: Label | None = None  # None: any label

    @property
    def keeps_everything(self) -> bool:
        return self == ReviewFilter()

    def keeps(self, review: Review) -> bool:
        if self.flag is FlagFilter.PICKS and review.flag is not Flag.PICK:
            return False
        if self.flag is FlagFilter.REJECTS and review.flag is not Flag.REJECT:
            return False
        if self.flag is FlagFilter.UNFLAGGED and review.flag is not Flag.NONE:
            return False
        if review.rating < self.min_rating:
            return False
        return self.label is None or review.label is self.label


@dataclass(frozen=True, slots=True)
class ReviewCounts:
    """How many images are listed, picked and rejected."""

    images: int = 0
    picks: int = 0
    rejects: int = 0

    @property
    def to_review(self) -> int:
        return self.images - self.picks - self.rejects

    @classmethod
    def of(cls, reviews: Iterable[Review]) -> ReviewCounts:
        images = picks = rejects = 0
        for review in reviews:
            images += 1
            picks += review.flag is Flag.PICK
            rejects += review.flag is Flag.REJECT
        return cls(images, picks, rejects)

    def text(self) -> str:
        """The count line: "58 images · 12 picks · 30 rejects · 16 to review"."""

        def many(n: int, word: str) -> str:
            return f"{n:,} {word}" + ("" if n == 1 else "s")

        return " · ".join(
            (
                many(self.images, "image"),
                many(self.picks, "pick"),
                many(self.rejects, "reject"),
                f"{self.to_review:,} to review",
            )
        )
