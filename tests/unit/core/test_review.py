"""Reviews: what each decision does, the filters, the count line, and the store with undo/redo
on a real SQLite file (including a process killed with SIGKILL in the middle of decisions)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from qamera_desktop.core.database import Database
from qamera_desktop.core.review import (
    BLANK,
    Flag,
    FlagFilter,
    Label,
    RejectReason,
    Review,
    ReviewCounts,
    ReviewFilter,
    with_flag,
    with_label_toggled,
    with_rating,
    with_reason_toggled,
)
from qamera_desktop.core.review_store import ReviewStore

ACCOUNT = "acct_test"


# -- decisions ---------------------------------------------------------------------------------
def test_flags_are_explicit_never_toggles() -> None:
    picked = with_flag(BLANK, Flag.PICK)
    assert with_flag(picked, Flag.PICK) == picked  # P again keeps the pick
    assert with_flag(picked, Flag.NONE) == BLANK


def test_flag_and_rating_are_separate_facts() -> None:
    review = with_rating(with_flag(BLANK, Flag.REJECT), 4)
    assert review == Review(Flag.REJECT, 4)
    assert with_flag(review, Flag.PICK) == Review(Flag.PICK, 4)
    assert with_rating(review, 0) == Review(Flag.REJECT, 0)


def test_the_same_label_again_clears_it() -> None:
    red = with_label_toggled(BLANK, Label.RED)
    assert red.label is Label.RED
    assert with_label_toggled(red, Label.BLUE).label is Label.BLUE
    assert with_label_toggled(red, Label.RED).label is Label.NONE


def test_reasons_belong_to_a_reject_only() -> None:
    assert with_reason_toggled(BLANK, RejectReason.ANATOMY) == BLANK
    rejected = with_flag(BLANK, Flag.REJECT)
    one = with_reason_toggled(rejected, RejectReason.GARBLED_TEXT)
    two = with_reason_toggled(one, RejectReason.WRONG_VIEW)
    assert two.reasons == (RejectReason.GARBLED_TEXT, RejectReason.WRONG_VIEW)
    assert with_reason_toggled(two, RejectReason.GARBLED_TEXT).reasons == (RejectReason.WRONG_VIEW,)
    assert with_flag(two, Flag.PICK).reasons == ()  # a pick has no reject reasons


def test_a_rating_is_zero_to_five() -> None:
    with pytest.raises(ValueError, match="0 to 5"):
        Review(rating=6)


# -- filters and counts ------------------------------------------------------------------------
def test_filters_combine_flag_rating_and_label() -> None:
    pick3red = Review(Flag.PICK, 3, Label.RED)
    reject5 = Review(Flag.REJECT, 5)
    unflagged1 = Review(rating=1, label=Label.RED)
    reviews = [pick3red, reject5, unflagged1, BLANK]

    def kept(f: ReviewFilter) -> list[Review]:
        return [r for r in reviews if f.keeps(r)]

    assert kept(ReviewFilter()) == reviews
    assert ReviewFilter().keeps_everything
    assert kept(ReviewFilter(FlagFilter.PICKS)) == [pick3red]
    assert kept(ReviewFilter(FlagFilter.REJECTS)) == [reject5]
    assert kept(ReviewFilter(FlagFilter.UNFLAGGED)) == [unflagged1, BLANK]
    assert kept(ReviewFilter(min_rating=3)) == [pick3red, reject5]
    assert kept(ReviewFilter(label=Label.RED)) == [pick3red, unflagged1]
    assert kept(ReviewFilter(FlagFilter.UNFLAGGED, 1, Label.RED)) == [unflagged1]


def test_the_count_line() -> None:
    reviews = [Review(Flag.PICK)] * 12 + [Review(Flag.REJECT)] * 30 + [BLANK] * 16
    counts = ReviewCounts.of(reviews)
    assert counts.to_review == 16
    assert counts.text() == "58 images · 12 picks · 30 rejects · 16 to review"
    assert (
        ReviewCounts.of([Review(Flag.PICK)]).text() == "1 image · 1 pick · 0 rejects · 0 to review"
    )


# -- the store ---------------------------------------------------------------------------------
def test_decisions_are_on_disk_when_decide_returns(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite3"
    with Database(path) as db:
        store = ReviewStore(db, ACCOUNT)
        step = store.decide(["a", "b"], lambda r: with_flag(r, Flag.PICK))
        assert step is not None
        assert step.image_ids == ["a", "b"]
        store.decide(["b"], lambda r: with_rating(r, 5))
        store.decide(["c"], lambda r: with_label_toggled(r, Label.GREEN))
        # read back by another connection while this one is still open
        with Database(path) as other:
            again = ReviewStore(other, ACCOUNT)
            assert again.get("a") == Review(Flag.PICK)
            assert again.get("b") == Review(Flag.PICK, 5)
            assert again.get("c") == Review(label=Label.GREEN)
            assert again.get("unknown") == BLANK
            assert ReviewStore(other, "another account").reviewed() == {}


def test_a_blank_review_keeps_no_row(tmp_path: Path) -> None:
    with Database(tmp_path / "app.sqlite3") as db:
        store = ReviewStore(db, ACCOUNT)
        store.decide(["a"], lambda r: with_flag(r, Flag.REJECT))
        store.decide(["a"], lambda r: with_flag(r, Flag.NONE))
        assert db.query("SELECT count(*) FROM reviews")[0][0] == 0
        assert store.reviewed() == {}


def test_nothing_changed_is_no_step(tmp_path: Path) -> None:
    with Database(tmp_path / "app.sqlite3") as db:
        store = ReviewStore(db, ACCOUNT)
        assert store.decide(["a"], lambda r: with_flag(r, Flag.NONE)) is None
        assert not store.can_undo


def test_undo_and_redo_batches_as_one_step(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite3"
    with Database(path) as db:
        store = ReviewStore(db, ACCOUNT)
        store.decide(["a"], lambda r: with_rating(r, 2))
        store.decide(["a", "b", "c"], lambda r: with_flag(r, Flag.REJECT))
        undone = store.undo()
        assert undone is not None
        assert undone.image_ids == ["a", "b", "c"]
        assert [store.get(i) for i in "abc"] == [Review(rating=2), BLANK, BLANK]
        assert store.can_redo
        redone = store.redo()
        assert redone is undone
        assert [store.get(i).flag for i in "abc"] == [Flag.REJECT] * 3
        store.undo()
        store.decide(["d"], lambda r: with_flag(r, Flag.PICK))  # a new decision drops the redo
        assert not store.can_redo
        assert store.redo() is None
    with Database(path) as db:  # what undo wrote is on disk too
        store = ReviewStore(db, ACCOUNT)
        assert store.get("a") == Review(rating=2)
        assert store.get("b") == BLANK
        assert store.get("d") == Review(Flag.PICK)


def test_a_failed_write_changes_nothing(tmp_path: Path) -> None:
    with Database(tmp_path / "app.sqlite3") as db:
        store = ReviewStore(db, ACCOUNT)
        store.decide(["a"], lambda r: with_flag(r, Flag.PICK))
        db.execute("DROP TABLE reviews")
        with pytest.raises(Exception, match="no such table"):
            store.decide(["a", "b"], lambda r: with_flag(r, Flag.REJECT))
        assert store.get("a") == Review(Flag.PICK)
        assert store.get("b") == BLANK
        assert store.can_undo  # the pick is still the last step
        assert not store.can_redo


_DECIDER = textwrap.dedent(
    """
    import sys
    from qamera_desktop.core.database import Database
    from qamera_desktop.core.review import Flag, with_flag, with_rating
    from qamera_desktop.core.review_store import ReviewStore

    store = ReviewStore(Database(sys.argv[1]), "acct_test")
    n = 0
    while True:
        image = f"img_{n}"
        flag = Flag.PICK if n % 2 else Flag.REJECT
        store.decide([image], lambda r: with_rating(with_flag(r, flag), n % 6))
        print(image, flush=True)  # what the window would show, once decide() returned
        n += 1
    """
)


def test_a_kill_during_rapid_decisions_loses_none_that_was_shown(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite3"
    Database(path).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", _DECIDER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])},
    )
    assert proc.stdout is not None
    shown: list[str] = []
    deadline = time.monotonic() + 30
    while len(shown) < 300 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        shown.append(line.strip())
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    shown.extend(line.strip() for line in proc.stdout.read().splitlines())  # printed before it died
    proc.stdout.close()
    assert len(shown) >= 300, "the decider did not get going"
    with Database(path) as db:
        store = ReviewStore(db, ACCOUNT)
        for image in shown:
            n = int(image.removeprefix("img_"))
            assert store.get(image) == Review(Flag.PICK if n % 2 else Flag.REJECT, n % 6), image
