"""The image library: merging by id, filters, stale answers, listeners; the listing kept for the
filter shown at start before any server (`show_kept`), and what a source change keeps of it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from qamera_desktop.api.errors import ServerError
from qamera_desktop.api.records import Image
from qamera_desktop.core.image_library import ImageLibrary, LibraryState, LoadState
from qamera_desktop.core.image_query import ServerFilter, SortOrder, StatusFilter, arrange
from qamera_desktop.core.list_diff import ListPatch
from qamera_desktop.core.listing_store import StoredListing

T0 = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)


def img(i: int, status: str = "DONE", name: str | None = None, voting: str | None = None) -> Image:
    return Image(
        id=f"img_{i:03d}",
        name=name or f"Shot {i}",
        thumbnail=f"http://127.0.0.1/t/{i}.jpg",
        status=status,
        created_at=T0 + timedelta(minutes=i),
        voting=voting,
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.states: list[LibraryState] = []

    def library_reset(self, images: Sequence[Image]) -> None:
        self.events.append(("reset", [i.id for i in images]))

    def library_patched(self, patch: ListPatch[Image], images: Sequence[Image]) -> None:
        self.events.append(("patch", patch))

    def library_state_changed(self, state: LibraryState) -> None:
        self.events.append(("state", state.load))
        self.states.append(state)


class FakeSource:
    """Answers list_images from a dict; raises when told to."""

    def __init__(self, images: list[Image]) -> None:
        self.images = images
        self.calls: list[tuple[str, str | None]] = []
        self.error: Exception | None = None

    async def list_images(
        self, status_filter: str = "all", product_id: str | None = None
    ) -> list[Image]:
        self.calls.append((status_filter, product_id))
        if self.error:
            raise self.error
        return list(self.images)


def test_arrange_sorts_and_searches() -> None:
    images = [img(1, name="Red Tote"), img(2, name="blue tee"), img(3, "FAILED", "Red shoe")]
    assert [i.id for i in arrange(images, "", SortOrder.NEWEST)] == [
        "img_003",
        "img_002",
        "img_001",
    ]
    assert next(i.id for i in arrange(images, "", SortOrder.OLDEST)) == "img_001"
    assert [i.name for i in arrange(images, "", SortOrder.NAME)] == [
        "blue tee",
        "Red shoe",
        "Red Tote",
    ]
    assert next(i.id for i in arrange(images, "", SortOrder.STATUS)) == "img_003"  # failed first
    assert [i.id for i in arrange(images, "RED", SortOrder.NEWEST)] == ["img_003", "img_001"]
    assert [i.id for i in arrange(images, "red tote", SortOrder.NEWEST)] == ["img_001"]


def test_refresh_merges_by_id_and_patches_only_changes(arun: Any) -> None:
    source = FakeSource([img(1), img(2, "PROCESSING"), img(3)])
    library = ImageLibrary(source)
    rec = Recorder()
    library.add_listener(rec)
    arun(library.refresh())
    assert [i.id for i in library.images] == ["img_003", "img_002", "img_001"]
    assert library.state.load is LoadState.READY
    unfinished_before = library.has_unfinished

    rec.events.clear()
    source.images = [img(1), img(2, "DONE"), img(4)]  # 3 removed, 2 finished, 4 added
    arun(library.refresh())
    patches = [e[1] for e in rec.events if e[0] == "patch"]
    assert len(patches) == 1
    patch = patches[0]
    assert patch.removals == [(0, 0)]  # img_003 was row 0
    assert patch.insertions[0][0] == 0  # img_004 newest, row 0
    assert patch.changed == [1]  # img_002 in the new list
    assert unfinished_before
    assert not library.has_unfinished
    assert not [e for e in rec.events if e[0] == "reset"]


def test_filter_change_resets_and_ignores_stale_answers(arun: Any) -> None:
    source = FakeSource([img(1)])
    library = ImageLibrary(source)
    rec = Recorder()
    library.add_listener(rec)
    assert library.set_filter(ServerFilter("prod_1", StatusFilter.APPROVED))
    assert not library.set_filter(ServerFilter("prod_1", StatusFilter.APPROVED))
    assert rec.events[0] == ("reset", [])
    arun(library.refresh())
    assert source.calls == [("approved", "prod_1")]
    # a listing for another filter (arrived late) is ignored
    library.replace_listing(ServerFilter(None), [img(9)])
    assert [i.id for i in library.images] == ["img_001"]


def test_error_keeps_images_and_reports(arun: Any) -> None:
    source = FakeSource([img(1)])
    library = ImageLibrary(source)
    arun(library.refresh())
    source.error = ServerError("Internal server error.", status=500)
    arun(library.refresh())
    assert library.state.load is LoadState.ERROR
    assert "Internal server error" in (library.state.error or "")
    assert [i.id for i in library.images] == ["img_001"]


def test_upsert_respects_filters() -> None:
    library = ImageLibrary()
    library.set_filter(ServerFilter("prod_a", StatusFilter.APPROVED))
    library.upsert_for_product("prod_b", [img(1, voting="APPROVED")])
    assert list(library.images) == []
    library.upsert_for_product("prod_a", [img(1), img(2, voting="APPROVED")])
    assert [i.id for i in library.images] == ["img_002"]


def test_a_broken_listener_does_not_break_the_library() -> None:
    class Broken(Recorder):
        def library_reset(self, images: Sequence[Image]) -> None:
            raise RuntimeError("bug")

    library = ImageLibrary()
    library.add_listener(Broken())
    good = Recorder()
    library.add_listener(good)
    library.set_sort(SortOrder.NAME)
    assert good.events
    assert good.events[0][0] == "reset"


class GatedSource:
    """Each list_images call waits for its own gate, so answers can arrive out of order."""

    def __init__(self) -> None:
        self.gates: list[asyncio.Event] = []
        self.answers: list[list[Image]] = []

    async def list_images(
        self, status_filter: str = "all", product_id: str | None = None
    ) -> list[Image]:
        gate = asyncio.Event()
        index = len(self.gates)
        self.gates.append(gate)
        await gate.wait()
        return self.answers[index]


def test_an_older_answer_never_overwrites_a_newer_one(
    arun: Any, qt_loop: asyncio.AbstractEventLoop, qtbot: Any
) -> None:
    source = GatedSource()
    source.answers = [[img(1, "PROCESSING")], [img(1, "DONE")]]
    library = ImageLibrary(source)
    older = qt_loop.create_task(library.refresh())
    newer = qt_loop.create_task(library.refresh())
    qtbot.waitUntil(lambda: len(source.gates) == 2)
    source.gates[1].set()
    qtbot.waitUntil(newer.done)
    source.gates[0].set()
    qtbot.waitUntil(older.done)
    assert (first := library.get("img_001")) is not None
    assert first.status == "DONE"
    assert library.state.load is LoadState.READY


def test_tracking_updates_newer_than_a_request_survive_its_answer(
    qt_loop: asyncio.AbstractEventLoop, qtbot: Any
) -> None:
    source = GatedSource()
    source.answers = [[img(1, "PROCESSING"), img(2)]]
    library = ImageLibrary(source)
    task = qt_loop.create_task(library.refresh())
    qtbot.waitUntil(lambda: len(source.gates) == 1)
    library.upsert([img(1, "DONE")])  # tracking saw it finish while the listing was in flight
    source.gates[0].set()
    qtbot.waitUntil(task.done)
    assert (first := library.get("img_001")) is not None
    assert first.status == "DONE"
    assert library.get("img_002") is not None
    assert not library.has_unfinished


# -- the listing kept from last time, shown before any server (`show_kept`) --------------------
class KeptListings:
    """A ListingCache in memory: the listing kept per filter. Loads wait for `gate` when one is
    set (a slow disk), so that a refresh or its answer can come in between."""

    def __init__(self, *images: Image) -> None:
        self.kept = {ServerFilter(): StoredListing(list(images), T0)} if images else {}
        self.loads: list[ServerFilter] = []
        self.gate: asyncio.Event | None = None

    async def load(self, server_filter: ServerFilter) -> StoredListing | None:
        self.loads.append(server_filter)
        if self.gate is not None:
            await self.gate.wait()
        return self.kept.get(server_filter)

    def save(
        self, server_filter: ServerFilter, images: Sequence[Image], listed_at: datetime
    ) -> None:
        self.kept[server_filter] = StoredListing(list(images), listed_at)


def with_kept(
    listings: KeptListings, source: FakeSource | None = None
) -> tuple[ImageLibrary, Recorder]:
    """A library keeping its listings in `listings`, and a Recorder of what its listeners hear."""
    library = ImageLibrary(source)
    library.set_listing_cache(listings)
    recorder = Recorder()
    library.add_listener(recorder)
    return library, recorder


def ids(library: ImageLibrary) -> list[str]:
    return [i.id for i in library.images]


def test_show_kept_shows_the_kept_listing_before_any_source(arun: Any) -> None:
    library, recorder = with_kept(KeptListings(img(1), img(2), img(3)))
    arun(library.show_kept())
    assert ids(library) == ["img_003", "img_002", "img_001"]
    assert library.state == LibraryState(LoadState.READY)  # no request is on its way
    assert library.listed_at == T0  # "the listing of 16:00"
    assert ("state", LoadState.READY) in recorder.events


def test_show_kept_does_nothing_when_nothing_is_kept(arun: Any) -> None:
    listings = KeptListings()
    library, recorder = with_kept(listings)
    arun(library.show_kept())
    assert listings.loads == [ServerFilter()]  # asked, for the filter shown
    assert ids(library) == []
    assert library.state == LibraryState(LoadState.IDLE)
    assert library.listed_at is None
    assert recorder.events == []


def test_show_kept_does_nothing_when_images_are_shown(arun: Any) -> None:
    listings = KeptListings(img(1), img(2))
    library, recorder = with_kept(listings)
    library.upsert([img(7)])  # learned elsewhere first (a shoot's receipt)
    recorder.events.clear()
    arun(library.show_kept())
    assert ids(library) == ["img_007"]
    assert listings.loads == []
    assert library.listed_at is None
    assert recorder.events == []


def test_the_first_source_keeps_the_kept_listing_a_second_forgets_it(arun: Any) -> None:
    library, recorder = with_kept(KeptListings(img(1), img(2)))
    arun(library.show_kept())
    recorder.events.clear()
    library.set_source(FakeSource([img(1), img(2)]))  # the account's server, reached
    assert ids(library) == ["img_002", "img_001"]
    assert (library.state, library.listed_at) == (LibraryState(LoadState.READY), T0)
    assert recorder.events == []  # nothing reset, nothing removed

    library.set_source(FakeSource([img(9)]))  # another account: nothing of this one stays
    assert ids(library) == []
    assert (library.state, library.listed_at) == (LibraryState(LoadState.IDLE), None)
    assert recorder.events == [("reset", []), ("state", LoadState.IDLE)]


def test_a_refresh_after_show_kept_merges_the_servers_answer_over_it(arun: Any) -> None:
    listings = KeptListings(img(1), img(2), img(3))
    library, recorder = with_kept(listings)
    arun(library.show_kept())
    library.set_source(FakeSource([img(2), img(3, name="Renamed"), img(4)]))
    recorder.events.clear()
    recorder.states.clear()
    arun(library.refresh())
    assert ids(library) == ["img_004", "img_003", "img_002"]
    assert (renamed := library.get("img_003")) is not None
    assert renamed.name == "Renamed"
    assert library.state == LibraryState(LoadState.READY)  # not "refreshing" any more
    # images were shown all along: a refresh of them, never a first load from nothing
    assert recorder.states == [
        LibraryState(LoadState.READY, refreshing=True),
        LibraryState(LoadState.READY),
    ]
    (patch,) = [event for kind, event in recorder.events if kind == "patch"]
    assert patch.removals == [(2, 2)]  # img_001, the last row
    assert [(row, [i.id for i in added]) for row, added in patch.insertions] == [(0, ["img_004"])]
    assert not [kind for kind, _ in recorder.events if kind == "reset"]
    assert library.listed_at is not None
    assert library.listed_at > T0
    assert [i.id for i in listings.kept[ServerFilter()].images] == ["img_002", "img_003", "img_004"]


def test_the_kept_listing_is_refreshing_when_a_refresh_was_sent_while_it_loaded(
    qt_loop: asyncio.AbstractEventLoop, qtbot: Any
) -> None:
    listings = KeptListings(img(1), img(2))
    listings.gate = asyncio.Event()
    source = GatedSource()
    source.answers = [[img(2), img(3)]]
    library = ImageLibrary(source)
    library.set_listing_cache(listings)
    shown = qt_loop.create_task(library.show_kept())
    qtbot.waitUntil(lambda: len(listings.loads) == 1)
    refresh = qt_loop.create_task(library.refresh())  # the server reached meanwhile
    qtbot.waitUntil(lambda: len(source.gates) == 1)
    listings.gate.set()
    qtbot.waitUntil(shown.done)
    assert ids(library) == ["img_002", "img_001"]
    assert library.state == LibraryState(LoadState.READY, refreshing=True)
    source.gates[0].set()
    qtbot.waitUntil(refresh.done)
    assert ids(library) == ["img_003", "img_002"]
    assert library.state == LibraryState(LoadState.READY)


def test_the_kept_listing_never_covers_an_answer_that_came_first(
    qt_loop: asyncio.AbstractEventLoop, qtbot: Any, arun: Any
) -> None:
    listings = KeptListings(img(1), img(2))
    listings.gate = asyncio.Event()
    library = ImageLibrary(FakeSource([img(5)]))
    library.set_listing_cache(listings)
    shown = qt_loop.create_task(library.show_kept())
    qtbot.waitUntil(lambda: len(listings.loads) == 1)
    arun(library.refresh())  # answered before the kept listing was read
    listings.gate.set()
    qtbot.waitUntil(shown.done)
    assert ids(library) == ["img_005"]
    assert library.state == LibraryState(LoadState.READY)
