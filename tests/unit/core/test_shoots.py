"""`Shoot` snapshots: counts, summaries, and which listing records an uncertain shoot may adopt."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from qamera_desktop.api.records import Image, ShootReceipt
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.shoots import (
    CLEARABLE_STATES,
    SAFE_TO_RESUBMIT,
    CreditSettlement,
    Shoot,
    ShootState,
    adoption_candidates,
)

T0 = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
IDS = tuple(f"img_{i:02d}" for i in range(10))


def receipt(ids: tuple[str, ...] = IDS, credits: float | None = 30) -> ShootReceipt:
    return ShootReceipt(ids, "batch_1", "order_1", "res_1", credits)


def shoot(state: ShootState = ShootState.TRACKING, **changes: object) -> Shoot:
    base = Shoot(
        local_id="a" * 32,
        account="acct",
        request=ShootRequest("prod_1", count=len(IDS)),
        product_name="White tee",
        state=state,
        created_at=T0,
        receipt=receipt(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def image(record_id: str, created_at: datetime | None, status: str = "QUEUED") -> Image:
    return Image(record_id, "shot", None, status, created_at)


def test_counts_classify_statuses_and_missing_ids_are_queued() -> None:
    statuses = {
        "img_00": "DONE",
        "img_01": "DONE",
        "img_02": "FAILED",
        "img_03": "PROCESSING",
        "img_04": "RENDER_ERROR",  # undocumented, plainly a failure
        "img_05": "SOMETHING_NEW",  # unknown: not finished yet
        "img_06": "QUEUED",
        "not_ours": "DONE",  # ignored: not a record of this shoot
    }
    s = shoot(statuses=statuses)
    assert (s.total, s.done, s.failed, s.pending) == (10, 2, 2, 6)
    assert not s.all_finished
    assert s.summary() == "2 of 10 done, 2 failed, 6 in progress"


def test_finished_summaries_report_failures_and_refunds() -> None:
    all_done = shoot(ShootState.FINISHED, statuses=dict.fromkeys(IDS, "DONE"))
    assert all_done.all_finished
    assert all_done.summary() == "10 images ready"
    some_failed = shoot(
        ShootState.FINISHED, statuses={**dict.fromkeys(IDS, "DONE"), "img_09": "FAILED"}
    )
    assert some_failed.summary() == "9 images ready, 1 failed (credits refunded)"
    one = shoot(ShootState.FINISHED, receipt=receipt(("x",)), statuses={"x": "DONE"})
    assert one.summary() == "1 image ready"
    none_done = shoot(ShootState.FINISHED, statuses=dict.fromkeys(IDS, "FAILED"))
    assert none_done.summary() == "No images ready, 10 failed (credits refunded)"


def test_summaries_of_the_other_states() -> None:
    assert shoot(ShootState.SUBMITTING, receipt=None).summary() == "Sending a shoot of 10 images…"
    assert shoot(ShootState.TRACKING).summary() == "0 of 10 done, 10 in progress"
    rejected = shoot(ShootState.REJECTED, receipt=None, error="Insufficient credits.")
    assert rejected.summary() == "Not started: Insufficient credits."
    uncertain = shoot(ShootState.UNCERTAIN, receipt=None, error=SAFE_TO_RESUBMIT)
    assert uncertain.summary() == SAFE_TO_RESUBMIT
    cancelled = shoot(ShootState.CANCELLED, statuses={"img_00": "DONE"})
    assert cancelled.summary() == "Tracking stopped at 1 of 10 done (Qamera keeps processing)"


def test_adopted_records_replace_the_lost_receipt() -> None:
    s = shoot(receipt=None, found_record_ids=("r1", "r2"), statuses={"r1": "DONE"})
    assert s.receipt_lost
    assert s.record_ids == ("r1", "r2")
    assert s.summary() == "1 of 2 done, 1 in progress (receipt lost: images found in the listing)"
    assert not shoot().receipt_lost


def test_is_active_only_until_a_terminal_state() -> None:
    active = {state for state in ShootState if shoot(state).is_active}
    assert active == {ShootState.SUBMITTING, ShootState.UNCERTAIN, ShootState.TRACKING}


def test_statuses_are_a_read_only_copy() -> None:
    source = {"img_00": "DONE"}
    s = shoot(statuses=source)
    source["img_01"] = "DONE"
    assert s.done == 1
    with pytest.raises(TypeError):
        s.statuses["img_02"] = "DONE"  # type: ignore[index]
    assert s == shoot(statuses={"img_00": "DONE"})


def test_credits_per_image_from_the_receipt() -> None:
    assert shoot().credits_per_image == 3.0
    assert shoot(receipt=receipt(credits=None)).credits_per_image is None
    assert shoot(receipt=None).credits_per_image is None


def test_credits_settle_as_images_end_and_say_when_it_is_an_estimate() -> None:
    queued = shoot().credits  # 30 credits reserved for 10 images, none ended
    assert queued == CreditSettlement(reserved=30, consumed=0, refunded=0, held=30)
    assert not queued.estimated
    assert queued.text() == "30 reserved"  # the receipt's own figure
    assert "Qamera reserved 30 credits" in queued.explanation()

    partly = shoot(statuses={"img_00": "DONE", "img_01": "DONE", "img_02": "FAILED"}).credits
    assert partly == CreditSettlement(reserved=30, consumed=6, refunded=3, held=21)
    assert partly.estimated
    assert partly.text() == "6 used, 3 refunded, 21 reserved (estimated)"
    assert "does not report" in partly.explanation()

    ended = shoot(
        ShootState.FINISHED, statuses={**dict.fromkeys(IDS, "DONE"), "img_09": "FAILED"}
    ).credits
    assert ended is not None
    assert ended.text() == "27 used, 3 refunded (estimated)"  # not "30 reserved" any more
    all_failed = shoot(ShootState.FINISHED, statuses=dict.fromkeys(IDS, "FAILED")).credits
    assert all_failed is not None
    assert all_failed.text() == "0 used, 30 refunded (estimated)"

    odd = shoot(receipt=receipt(IDS[:3], credits=10), statuses={"img_00": "DONE"}).credits
    assert odd is not None
    assert odd.text() == "3.33 used, 6.67 reserved (estimated)"

    assert shoot(receipt=None).credits is None
    assert shoot(receipt=receipt(credits=None)).credits is None
    empty = shoot(receipt=receipt((), credits=0)).credits
    assert empty is not None
    assert empty.text() == "0 reserved"


def test_only_ended_shoots_can_be_cleared() -> None:
    assert {ShootState.FINISHED, ShootState.CANCELLED} == CLEARABLE_STATES
    assert not any(shoot(state).is_active for state in CLEARABLE_STATES)


def test_adoption_takes_new_unowned_records_oldest_first_up_to_the_count() -> None:
    s = shoot(ShootState.UNCERTAIN, receipt=None, request=ShootRequest("prod_1", count=3))
    listing = [
        image("old", T0 - timedelta(seconds=61)),  # before the lead: an earlier job
        image("skew", T0 - timedelta(seconds=30)),  # within the lead (server clock behind)
        image("owned", T0 + timedelta(seconds=1)),  # another shoot's record
        image("n1", T0 + timedelta(seconds=2)),
        image("n2", T0 + timedelta(seconds=2)),
        image("n3", T0 + timedelta(seconds=3)),  # beyond the count
        image("undated", None),
        image("late", T0 + timedelta(minutes=11)),  # after the window
    ]
    found = adoption_candidates(s, listing, ["owned"], timedelta(minutes=10))
    assert [i.id for i in found] == ["skew", "n1", "n2"]
    assert adoption_candidates(s, listing[:1], [], timedelta(minutes=10)) == []
