"""The library and its kept listings (a real ListingStore on a SQLite file): each listing is kept;
the kept one shows while the first listing of a filter is on its way (still "refreshing"), stays
beside the error when that fails, and the server's answer is merged by id over it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from qamera_desktop.api.errors import NetworkError
from qamera_desktop.api.records import Image
from qamera_desktop.core.database import Database
from qamera_desktop.core.image_library import ImageLibrary, LibraryState, LoadState
from qamera_desktop.core.image_query import ServerFilter, StatusFilter
from qamera_desktop.core.listing_store import ListingStore

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def img(i: int) -> Image:
    return Image(f"img_{i:03d}", f"Shot {i}", None, "DONE", T0 + timedelta(minutes=i))


class GatedSource:
    """Answers each listing when the test says so (the network, slow or down)."""

    def __init__(self) -> None:
        self.pending: list[asyncio.Future[list[Image]]] = []

    async def list_images(
        self, status_filter: str = "all", product_id: str | None = None
    ) -> list[Image]:
        answer: asyncio.Future[list[Image]] = asyncio.get_running_loop().create_future()
        self.pending.append(answer)
        return await answer


def kept_store(tmp_path: Path, arun: Any, listing: list[Image], at: datetime) -> ListingStore:
    path = tmp_path / "library.sqlite3"
    Database(path).close()
    store = ListingStore(path, "acct-1")

    async def keep() -> None:
        store.save(ServerFilter(), listing, at)
        await store.flush()

    arun(keep())
    return store


def states(library: ImageLibrary) -> list[LibraryState]:
    seen: list[LibraryState] = []

    class Recorder:
        def library_reset(self, images: object) -> None: ...
        def library_patched(self, patch: object, images: object) -> None: ...
        def library_state_changed(self, state: LibraryState) -> None:
            seen.append(state)

    library.add_listener(Recorder())
    return seen


def test_the_kept_listing_shows_while_the_server_has_not_answered_then_merges(
    tmp_path: Path, arun: Any, qtbot: Any
) -> None:
    store = kept_store(tmp_path, arun, [img(1), img(2), img(3)], T0)
    source = GatedSource()
    library = ImageLibrary(source)
    library.set_listing_cache(store)
    seen = states(library)
    refresh = asyncio.ensure_future(library.refresh())
    qtbot.waitUntil(lambda: library.total == 3)  # before any answer
    assert [i.id for i in library.images] == ["img_003", "img_002", "img_001"]
    assert library.listed_at == T0
    assert library.state == LibraryState(LoadState.READY, refreshing=True)  # still on its way
    assert not refresh.done()

    source.pending[0].set_result([img(2), img(3), img(4)])
    qtbot.waitUntil(refresh.done)
    refresh.result()
    arun(library.settled())
    assert [i.id for i in library.images] == ["img_004", "img_003", "img_002"]
    assert library.state == LibraryState(LoadState.READY)
    assert library.listed_at is not None
    assert library.listed_at > T0
    assert [s.load for s in seen] == [LoadState.LOADING, LoadState.READY, LoadState.READY]
    # the server's listing is the one kept now
    kept = arun(store.load(ServerFilter()))
    assert kept is not None
    assert [i.id for i in kept.images] == ["img_002", "img_003", "img_004"]
    arun(store.aclose())


def test_offline_the_kept_listing_stays_beside_the_error(
    tmp_path: Path, arun: Any, qtbot: Any
) -> None:
    store = kept_store(tmp_path, arun, [img(1), img(2)], T0)
    source = GatedSource()
    library = ImageLibrary(source)
    library.set_listing_cache(store)
    refresh = asyncio.ensure_future(library.refresh())
    qtbot.waitUntil(lambda: bool(source.pending))
    source.pending[0].set_exception(NetworkError("Could not reach the Qamera service (x)."))
    qtbot.waitUntil(refresh.done)
    refresh.result()
    arun(library.settled())
    assert library.total == 2  # shown, though the server could not be reached
    assert library.state.load is LoadState.ERROR
    assert library.listed_at == T0
    arun(store.aclose())


def test_another_filter_shows_its_own_kept_listing_or_none(
    tmp_path: Path, arun: Any, qtbot: Any
) -> None:
    store = kept_store(tmp_path, arun, [img(1), img(2)], T0)
    source = GatedSource()
    library = ImageLibrary(source)
    library.set_listing_cache(store)
    library.set_filter(ServerFilter("prod_x", StatusFilter.APPROVED))
    refresh = asyncio.ensure_future(library.refresh())
    qtbot.waitUntil(lambda: bool(source.pending))
    source.pending[0].set_exception(NetworkError("Could not reach the Qamera service (x)."))
    qtbot.waitUntil(refresh.done)
    refresh.result()
    assert library.total == 0  # nothing kept for that filter: nothing shown, no time
    assert library.listed_at is None
    arun(store.aclose())
