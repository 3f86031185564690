"""The designer's reviews of one account, in the local database, with undo and redo.

`ReviewStore.decide()` writes a decision for one or many images in one transaction and only then
updates what the window reads (`get`): when the window shows a decision, it is on disk, so a kill
of the app loses none (the database is in WAL mode; a committed transaction survives the process).
A blank review (no flag, no stars, no label) keeps no row.

Undo and redo work on steps: one step is one decision, however many images it touched. Undoing a
step writes the reviews back as they were before it. A new decision clears the redo steps.

Keyed by the account id (`core.account`: a hash, never the API key) and the image id. Qt-free.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from qamera_desktop.core.database import Database
from qamera_desktop.core.review import BLANK, Flag, Label, RejectReason, Review
from qamera_desktop.core.shoot_store import utc_now

log = logging.getLogger(__name__)

MAX_UNDO_STEPS: Final = 1000

ReviewChange = Callable[[Review], Review]


@dataclass(frozen=True, slots=True)
class Step:
    """One decision: the reviews of its images before and after, in the order decided."""

    before: Mapping[str, Review]
    after: Mapping[str, Review]

    @property
    def image_ids(self) -> list[str]:
        return list(self.after)


class ReviewStore:
    """Every review of one account, loaded once, written through on each change."""

    def __init__(self, database: Database, account: str) -> None:
        self._db = database
        self.account = account
        self._reviews: dict[str, Review] = {}
        self._undo: list[Step] = []
        self._redo: list[Step] = []
        for row in database.query(
            "SELECT image_id, flag, rating, label, reasons FROM reviews WHERE account = ?",
            (account,),
        ):
            try:
                self._reviews[row["image_id"]] = _review_of(row)
            except ValueError:  # a value this version does not know: shown as undecided
                log.warning("Ignoring an unreadable review of %s", row["image_id"])

    # -- reading -----------------------------------------------------------------------------
    def get(self, image_id: str) -> Review:
        return self._reviews.get(image_id, BLANK)

    def reviewed(self) -> dict[str, Review]:
        """The images with a review that is not blank."""
        return dict(self._reviews)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    # -- deciding ----------------------------------------------------------------------------
    def decide(self, image_ids: Iterable[str], change: ReviewChange) -> Step | None:
        """Apply `change` to each image's review, as one undo step. None when nothing changed.
        Raises the database's error when it cannot be written (then nothing changed)."""
        before: dict[str, Review] = {}
        after: dict[str, Review] = {}
        for image_id in dict.fromkeys(image_ids):
            old = self.get(image_id)
            new = change(old)
            if new != old:
                before[image_id], after[image_id] = old, new
        if not after:
            return None
        step = Step(before, after)
        self._write(after)
        self._undo.append(step)
        del self._undo[:-MAX_UNDO_STEPS]
        self._redo.clear()
        return step

    def undo(self) -> Step | None:
        """Put the images of the last step back as they were; that step, or None."""
        if not self._undo:
            return None
        step = self._undo[-1]
        self._write(step.before)
        self._undo.pop()
        self._redo.append(step)
        return step

    def redo(self) -> Step | None:
        if not self._redo:
            return None
        step = self._redo[-1]
        self._write(step.after)
        self._redo.pop()
        self._undo.append(step)
        return step

    # -- writing -----------------------------------------------------------------------------
    def _write(self, reviews: Mapping[str, Review]) -> None:
        now = utc_now().isoformat()
        with self._db.transaction():
            for image_id, review in reviews.items():
                if review.is_blank:
                    self._db.execute(
                        "DELETE FROM reviews WHERE account = ? AND image_id = ?",
                        (self.account, image_id),
                    )
                else:
                    self._db.execute(
                        "INSERT INTO reviews (account, image_id, flag, rating, label, reasons,"
                        " changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (account, image_id) DO UPDATE SET flag = excluded.flag,"
                        " rating = excluded.rating, label = excluded.label,"
                        " reasons = excluded.reasons, changed_at = excluded.changed_at",
                        (
                            self.account,
                            image_id,
                            review.flag.value,
                            review.rating,
                            review.label.value,
                            ",".join(r.value for r in review.reasons),
                            now,
                        ),
                    )
        for image_id, review in reviews.items():  # on disk: now the window may show it
            if review.is_blank:
                self._reviews.pop(image_id, None)
            else:
                self._reviews[image_id] = review


def _review_of(row: sqlite3.Row) -> Review:
    reasons = str(row["reasons"] or "")
    return Review(
        flag=Flag(str(row["flag"])),
        rating=int(str(row["rating"])),
        label=Label(str(row["label"])),
        reasons=tuple(RejectReason(r) for r in reasons.split(",") if r),
    )
