"""The review filter in the image library: combined with the search, and a decision touches only
the decided rows (a removal, an insertion at the image's sorted place, or a changed row), with the
count line adjusted rather than recounted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qamera_desktop.api.records import Image
from qamera_desktop.core.image_library import ImageLibrary
from qamera_desktop.core.image_query import ServerFilter, SortOrder
from qamera_desktop.core.list_diff import apply_patch
from qamera_desktop.core.review import (
    BLANK,
    Flag,
    FlagFilter,
    Label,
    Review,
    ReviewCounts,
    ReviewFilter,
)

T0 = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
PICK = Review(Flag.PICK)
REJECT = Review(Flag.REJECT)


def img(i: int, name: str | None = None) -> Image:
    return Image(
        id=f"img_{i:03d}",
        name=name or f"Shot {i}",
        thumbnail=f"http://127.0.0.1/t/{i}.jpg",
        status="DONE",
        created_at=T0 + timedelta(minutes=i),
    )


def img_of(image_id: str) -> Image:
    return img(int(image_id.removeprefix("img_")))


class Mirror:
    """A listener that applies each patch to its own list, as the grid model does."""

    def __init__(self, library: ImageLibrary) -> None:
        self.rows = [i.id for i in library.images]
        self.patches: list = []
        library.add_listener(self)

    def library_reset(self, images) -> None:
        self.rows = [i.id for i in images]
        self.patches.append(None)

    def library_patched(self, patch, images) -> None:
        rows: list[Image] = [img_of(i) for i in self.rows]
        apply_patch(rows, patch, images)
        self.rows = [i.id for i in rows]
        self.patches.append(patch)

    def library_state_changed(self, state) -> None:
        pass


def library_of(n: int = 10) -> tuple[ImageLibrary, Mirror]:
    library = ImageLibrary()
    library.set_sort(SortOrder.OLDEST)
    library.replace_listing(ServerFilter(), [img(i) for i in range(n)])
    return library, Mirror(library)


def ids(library: ImageLibrary) -> list[str]:
    return [i.id for i in library.images]


def test_the_review_filter_keeps_what_it_says_and_combines_with_the_search() -> None:
    library, _ = library_of(12)
    library.set_reviews({"img_001": PICK, "img_002": REJECT, "img_011": PICK, "img_003": BLANK})
    assert library.counts == ReviewCounts(12, 2, 1)
    library.set_review_filter(ReviewFilter(FlagFilter.PICKS))
    assert ids(library) == ["img_001", "img_011"]
    assert library.counts.text() == "2 images · 2 picks · 0 rejects · 0 to review"
    library.set_search("Shot 1")  # "Shot 1", "Shot 10", "Shot 11"
    assert ids(library) == ["img_001", "img_011"]
    library.set_search("Shot 11")
    assert ids(library) == ["img_011"]
    library.set_search("")
    library.set_review_filter(ReviewFilter(FlagFilter.UNFLAGGED))
    assert len(library.images) == 9
    assert "img_003" in ids(library)  # a blank review is no review
    assert library.counts.text() == "9 images · 0 picks · 0 rejects · 9 to review"


def test_a_decision_that_leaves_the_filter_removes_only_its_row() -> None:
    library, mirror = library_of()
    library.set_reviews({})
    library.set_review_filter(ReviewFilter(FlagFilter.UNFLAGGED))
    before = len(mirror.patches)
    library.update_reviews({"img_004": REJECT})
    (patch,) = mirror.patches[before:]
    assert patch.removals == [(4, 4)]
    assert patch.insertions == []
    assert patch.changed == []
    assert mirror.rows == ids(library)
    assert "img_004" not in ids(library)
    assert library.counts == ReviewCounts(9, 0, 0)


def test_undoing_it_inserts_the_image_at_its_sorted_place() -> None:
    library, mirror = library_of()
    library.set_review_filter(ReviewFilter(FlagFilter.UNFLAGGED))
    library.update_reviews({"img_004": REJECT, "img_007": REJECT, "img_000": REJECT})
    assert mirror.rows == ids(library) == [f"img_{i:03d}" for i in (1, 2, 3, 5, 6, 8, 9)]
    before = len(mirror.patches)
    library.update_reviews({"img_007": BLANK, "img_000": BLANK})
    (patch,) = mirror.patches[before:]
    assert [(row, [i.id for i in items]) for row, items in patch.insertions] == [
        (0, ["img_000"]),
        (6, ["img_007"]),
    ]
    assert patch.removals == []
    assert mirror.rows == ids(library)
    assert ids(library) == [f"img_{i:03d}" for i in (0, 1, 2, 3, 5, 6, 7, 8, 9)]
    assert library.counts == ReviewCounts(9, 0, 0)


def test_a_decision_that_stays_in_view_is_one_changed_row_and_counted() -> None:
    library, mirror = library_of()
    before = len(mirror.patches)
    library.update_reviews({"img_003": PICK, "img_008": Review(Flag.REJECT, 2, Label.RED)})
    (patch,) = mirror.patches[before:]
    assert patch.changed == [3, 8]
    assert patch.removals == patch.insertions == []
    assert library.review("img_008").label is Label.RED
    assert library.counts.text() == "10 images · 1 pick · 1 reject · 8 to review"
    library.update_reviews({"img_003": BLANK})
    assert library.counts == ReviewCounts(10, 0, 1)
    assert library.review("img_003") == BLANK


def test_stars_and_label_filters_follow_decisions() -> None:
    library, mirror = library_of()
    library.set_review_filter(ReviewFilter(min_rating=3))
    assert ids(library) == []
    library.update_reviews({"img_005": Review(rating=4), "img_002": Review(rating=2)})
    assert ids(library) == mirror.rows == ["img_005"]
    library.set_review_filter(ReviewFilter(label=Label.BLUE))
    library.update_reviews({"img_009": Review(label=Label.BLUE)})
    assert ids(library) == mirror.rows == ["img_009"]


def test_an_image_outside_the_search_is_decided_without_a_row() -> None:
    library, mirror = library_of()
    library.set_search("Shot 1")
    library.set_review_filter(ReviewFilter(FlagFilter.PICKS))
    before = len(mirror.patches)
    library.update_reviews({"img_005": PICK})
    assert mirror.patches[before:] == []
    assert library.review("img_005") == PICK
    library.set_search("")
    assert ids(library) == ["img_005"]


def test_row_of_finds_each_shown_image_by_a_binary_search() -> None:
    library, _ = library_of(30)
    library.set_review_filter(ReviewFilter(FlagFilter.UNFLAGGED))
    library.update_reviews({f"img_{i:03d}": REJECT for i in range(0, 30, 3)})
    shown = ids(library)
    assert [library.row_of(i) for i in shown] == list(range(len(shown)))
    assert library.row_of("img_003") == -1  # rejected: not shown
    assert library.row_of("img_999") == -1  # not in the listing
    library.set_sort(SortOrder.NEWEST)
    assert library.row_of(ids(library)[0]) == 0
