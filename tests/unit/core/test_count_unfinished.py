"""`count_unfinished`: images whose status is not final (queued, in progress, unknown), counted in
slices of 10,000."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from qamera_desktop.api.records import Image
from qamera_desktop.core.image_library import count_unfinished

FINAL = ["DONE", "done", " Done ", "FAILED", "GENERATION_ERROR", "error", "failure"]
UNFINISHED = ["QUEUED", "PENDING", "NEW", "CREATED", "WAITING", "", "  ", "PROCESSING"]
UNKNOWN = ["RENDERING", "UPSCALING", "SOMETHING_NEW", "donee", "DONE!"]


def image(i: int, status: str) -> Image:
    return Image(id=f"img_{i}", name=f"Shot {i}", thumbnail=None, status=status, created_at=None)


def images_with(statuses: list[str]) -> list[Image]:
    return [image(i, s) for i, s in enumerate(statuses)]


def test_empty_listing_has_nothing_unfinished():
    assert count_unfinished([]) == 0


def test_done_and_failed_are_final():
    assert count_unfinished(images_with(FINAL)) == 0


def test_queued_and_in_progress_are_unfinished():
    assert count_unfinished(images_with(UNFINISHED)) == len(UNFINISHED)


def test_unknown_statuses_count_as_unfinished():
    # classify_status puts anything it does not know in progress: not final
    assert count_unfinished(images_with(UNKNOWN)) == len(UNKNOWN)


def test_a_missing_status_counts_as_queued():
    assert count_unfinished([image(0, None), image(1, "DONE")]) == 1  # type: ignore[arg-type]


def test_mixed_listing():
    statuses = ["DONE", "QUEUED", "FAILED", "PROCESSING", "WEIRD", "DONE", "PENDING"]
    assert count_unfinished(images_with(statuses)) == 4


def test_more_than_one_slice_counts_every_image():
    # 25,003 images: three slices of 10,000 (the last one partial)
    statuses = ["DONE", "PROCESSING", "FAILED", "QUEUED", "MYSTERY"] * 5000 + ["NEW"] * 3
    images = images_with(statuses)
    assert len(images) == 25_003
    assert count_unfinished(images) == 3 * 5000 + 3


def test_unfinished_images_only_in_later_slices_are_counted():
    images = images_with(["DONE"] * 10_000 + ["QUEUED"] + ["DONE"] * 9_999 + ["PROCESSING"] * 7)
    assert count_unfinished(images) == 8


def test_slice_boundaries():
    for n in (9_999, 10_000, 10_001, 20_000, 20_001):
        assert count_unfinished(images_with(["PENDING"] * n)) == n
        assert count_unfinished(images_with(["DONE"] * n)) == 0


def test_a_tuple_is_counted_like_a_list():
    images = tuple(images_with(["QUEUED", "DONE"] * 6_000))
    assert count_unfinished(images) == 6_000


@given(st.lists(st.sampled_from(FINAL + UNFINISHED + UNKNOWN) | st.text(max_size=6), max_size=60))
def test_agrees_with_counting_one_image_at_a_time(statuses):
    images = images_with(statuses)
    assert count_unfinished(images) == sum(not i.is_finished for i in images)


def test_large_shuffled_listing_agrees_with_counting_one_image_at_a_time():
    rng = random.Random(20260320)
    statuses = [rng.choice(FINAL + UNFINISHED + UNKNOWN) for _ in range(34_567)]
    images = images_with(statuses)
    want = sum(not i.is_finished for i in images)
    assert 0 < want < len(images)
    assert count_unfinished(images) == want
