"""`arrange` against a plain reference: every sort order, ties broken by id, undated images placed
where the docstring says (after the dated ones when newest first, before them when oldest first).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from qamera_desktop.api.records import Image, Progress, classify_status
from qamera_desktop.core.image_query import SortOrder, arrange

T0 = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Few distinct instants, so that ties are common. One of them is T0 written in another zone
# (the same instant: it ties with T0), two are a microsecond apart.
TIMES = [
    T0,
    T0.astimezone(timezone(timedelta(hours=2))),
    T0 + timedelta(microseconds=1),
    T0 + timedelta(minutes=5),
    T0 - timedelta(days=400),
]
STATUSES = [
    "DONE",
    " done ",
    "FAILED",
    "GENERATION_ERROR",
    "QUEUED",
    "PENDING",
    "",
    "PROCESSING",
    "SOMETHING_NEW",  # unknown: in progress
]
PROGRESS_RANK = {Progress.FAILED: 0, Progress.IN_PROGRESS: 1, Progress.QUEUED: 2, Progress.DONE: 3}


def image(
    image_id: str,
    created_at: datetime | None,
    *,
    name: str = "",
    status: str = "DONE",
) -> Image:
    return Image(
        id=image_id,
        name=name or image_id,
        thumbnail=None,
        status=status,
        created_at=created_at,
    )


# -- the reference: plain `sorted` with explicit keys ------------------------------------------
def matches(img: Image, search: str) -> bool:
    return all(
        w in img.name.casefold() or w in img.id.casefold() for w in search.casefold().split()
    )


def by_time_key(img: Image) -> tuple[bool, datetime, str]:
    # dated after undated in ascending order; reverse=True turns all of it round for newest first
    return (img.created_at is not None, img.created_at or EPOCH, img.id)


def reference(images: list[Image], search: str, order: SortOrder) -> list[Image]:
    shown = [i for i in images if matches(i, search)]
    if order is SortOrder.NEWEST:
        return sorted(shown, key=by_time_key, reverse=True)
    if order is SortOrder.OLDEST:
        return sorted(shown, key=by_time_key)
    if order is SortOrder.NAME:
        return sorted(shown, key=lambda i: (i.name.casefold(), i.id))

    def status_key(i: Image) -> tuple[int, bool, timedelta, str]:
        # newest first within a group (negated exact time, no floats), undated last, then id
        age = -(i.created_at - EPOCH) if i.created_at is not None else timedelta(0)
        return (PROGRESS_RANK[classify_status(i.status)], i.created_at is None, age, i.id)

    return sorted(shown, key=status_key)


@st.composite
def image_lists(draw: st.DrawFn) -> list[Image]:
    ids = draw(
        st.lists(st.text(alphabet="abcAB_0129", min_size=1, max_size=4), unique=True, max_size=30)
    )
    return [
        image(
            image_id,
            draw(st.sampled_from([None, *TIMES])),
            # "ß" casefolds to "ss": names that differ only by case or by that tie on the name
            name=draw(st.text(alphabet="aAbBsSß 1", min_size=1, max_size=4)),
            status=draw(st.sampled_from(STATUSES)),
        )
        for image_id in ids
    ]


searches = st.one_of(st.just(""), st.text(alphabet="aAbsß0_ ", max_size=4))


@settings(max_examples=300)
@given(image_lists(), searches, st.sampled_from(list(SortOrder)))
def test_arrange_agrees_with_the_reference(images, search, order):
    got = arrange(images, search, order)
    want = reference(images, search, order)
    assert [i.id for i in got] == [i.id for i in want]


@given(image_lists(), st.sampled_from(list(SortOrder)))
def test_arrange_does_not_change_its_input(images, order):
    before = list(images)
    arrange(images, "", order)
    assert images == before


# -- readable examples -----------------------------------------------------------------------
def ids(images: list[Image]) -> list[str]:
    return [i.id for i in images]


def test_ties_on_time_are_broken_by_id_descending_newest_first():
    images = [image("b", T0), image("c", T0), image("z", T0 - timedelta(1)), image("a", T0)]
    assert ids(arrange(images, "", SortOrder.NEWEST)) == ["c", "b", "a", "z"]


def test_ties_on_time_are_broken_by_id_ascending_oldest_first():
    images = [image("b", T0), image("c", T0), image("z", T0 - timedelta(1)), image("a", T0)]
    assert ids(arrange(images, "", SortOrder.OLDEST)) == ["z", "a", "b", "c"]


def test_the_same_instant_in_another_zone_is_a_tie():
    other_zone = T0.astimezone(timezone(timedelta(hours=-5)))
    images = [image("a", T0), image("b", other_zone)]
    assert ids(arrange(images, "", SortOrder.NEWEST)) == ["b", "a"]
    assert ids(arrange(images, "", SortOrder.OLDEST)) == ["a", "b"]


def test_undated_images_come_last_newest_first_and_first_oldest_first():
    images = [
        image("u1", None),
        image("d1", T0),
        image("u3", None),
        image("d2", T0 + timedelta(hours=1)),
        image("u2", None),
    ]
    assert ids(arrange(images, "", SortOrder.NEWEST)) == ["d2", "d1", "u3", "u2", "u1"]
    assert ids(arrange(images, "", SortOrder.OLDEST)) == ["u1", "u2", "u3", "d1", "d2"]


def test_only_undated_images_are_in_id_order():
    images = [image("b", None), image("a", None), image("c", None)]
    assert ids(arrange(images, "", SortOrder.NEWEST)) == ["c", "b", "a"]
    assert ids(arrange(images, "", SortOrder.OLDEST)) == ["a", "b", "c"]


def test_name_order_ignores_case_and_ties_by_id():
    images = [
        image("2", T0, name="beta"),
        image("3", T0, name="Alpha"),
        image("1", T0, name="ALPHA"),
        image("0", T0, name="Straße"),
        image("9", T0, name="STRASSE"),
    ]
    assert ids(arrange(images, "", SortOrder.NAME)) == ["1", "3", "2", "0", "9"]


def test_status_order_groups_then_newest_first_with_undated_last_then_id():
    later = T0 + timedelta(minutes=1)
    images = [
        image("done-old", T0, status="DONE"),
        image("queued", T0, status="PENDING"),
        image("failed-undated", None, status="FAILED"),
        image("done-new", later, status="DONE"),
        image("failed-b", T0, status="ERROR"),
        image("failed-a", T0, status="FAILED"),
        image("odd", T0, status="WHO_KNOWS"),  # unknown status: in progress
        image("done-undated", None, status="DONE"),
    ]
    assert ids(arrange(images, "", SortOrder.STATUS)) == [
        "failed-a",
        "failed-b",
        "failed-undated",
        "odd",
        "queued",
        "done-new",
        "done-old",
        "done-undated",
    ]


def test_search_keeps_images_matching_every_word_in_name_or_id():
    images = [
        image("img_1", T0, name="Red Tote"),
        image("img_2", T0, name="red shoe"),
        image("tote_3", T0, name="Blue"),
    ]
    assert ids(arrange(images, "RED tote", SortOrder.NAME)) == ["img_1"]
    assert ids(arrange(images, "tote", SortOrder.OLDEST)) == ["img_1", "tote_3"]
    assert ids(arrange(images, "   ", SortOrder.OLDEST)) == ["img_1", "img_2", "tote_3"]
