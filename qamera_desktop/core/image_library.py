"""The images of the active filter, kept in one list and merged by id on every refresh.

The library is the single owner of that list. Listeners (the grid model) receive either a reset
(the query changed) or a minimal `ListPatch` (a refresh or a background update), so that the
selection, the current item and the scroll position survive updates.

The designer's reviews (core/review.py) are mirrored here so that the view applies the review
filter beside the search. A decision (`update_reviews`) touches only the decided rows: each one
leaves, enters (found by its place in the searched and sorted list, a binary search) or is
announced as changed; nothing is sorted again, and the count line is adjusted, not recounted.
"""

from __future__ import annotations

import asyncio
import logging
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from operator import attrgetter
from typing import Protocol

from qamera_desktop.api.errors import ApiError
from qamera_desktop.api.records import Image
from qamera_desktop.core.image_query import ServerFilter, SortOrder, StatusFilter, arrange
from qamera_desktop.core.list_diff import ListPatch, diff_lists
from qamera_desktop.core.listing_store import StoredListing
from qamera_desktop.core.review import BLANK, Flag, Review, ReviewCounts, ReviewFilter

log = logging.getLogger(__name__)


class ImageSource(Protocol):
    async def list_images(
        self, status_filter: str = "all", product_id: str | None = None
    ) -> list[Image]: ...


class ListingCache(Protocol):
    """Where the last listing of each filter is kept (core/listing_store.py)."""

    async def load(self, server_filter: ServerFilter) -> StoredListing | None: ...
    def save(
        self, server_filter: ServerFilter, images: Sequence[Image], listed_at: datetime
    ) -> None: ...


class LoadState(StrEnum):
    IDLE = "idle"  # nothing asked yet
    LOADING = "loading"  # first load of this filter in flight
    READY = "ready"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class LibraryState:
    """Where the listing is: loading, loaded or failed (and why), and whether a refresh runs."""

    load: LoadState
    error: str | None = None
    refreshing: bool = False


@dataclass(frozen=True, slots=True)
class IdFilter:
    """Only these images (those of one shoot), named for the chip that clears it."""

    ids: frozenset[str]
    label: str


class LibraryListener(Protocol):
    def library_reset(self, images: Sequence[Image]) -> None: ...
    def library_patched(self, patch: ListPatch[Image], images: Sequence[Image]) -> None: ...
    def library_state_changed(self, state: LibraryState) -> None: ...


_image_id = attrgetter("id")
_status = attrgetter("status")


# From this many images on, sorting, searching and diffing run in a worker thread so that the GUI
# thread never stalls on a large listing (100,000 images take ~0.3 s); smaller ones run inline.
OFF_THREAD_FROM = 2_000


@dataclass(frozen=True, slots=True)
class Arranged:
    """The listing as the grid shows it, and the change from what it showed before."""

    view: list[Image]
    patch: ListPatch[Image] | None  # None: a reset
    unfinished: int
    searched: list[Image]  # searched and sorted, before the review filter
    counts: ReviewCounts


def _arrange_and_diff(
    images: list[Image],
    search: str,
    order: SortOrder,
    old_view: list[Image] | None,
    review_filter: ReviewFilter = ReviewFilter(),  # noqa: B008 (frozen)
    reviews: Mapping[str, Review] | None = None,
    only_ids: frozenset[str] | None = None,
) -> Arranged:
    """The new view, the patch from the old one (None: reset), how many are unfinished, the
    searched list before the review filter and the view's review counts. `only_ids` (a shoot's
    images) narrows the images like the search does."""
    kept = images if only_ids is None else [i for i in images if i.id in only_ids]
    searched = arrange(kept, search, order)
    reviews = reviews or {}
    if review_filter.keeps_everything:
        new_view = searched
    else:
        keeps = review_filter.keeps
        new_view = [i for i in searched if keeps(reviews.get(i.id, BLANK))]
    patch = None if old_view is None else diff_lists(old_view, new_view, _image_id)
    counts = _counts_of(new_view, reviews)
    return Arranged(new_view, patch, count_unfinished(images), searched, counts)


def _counts_of(view: Sequence[Image], reviews: Mapping[str, Review]) -> ReviewCounts:
    picks = rejects = 0
    if reviews:
        for image in view:
            review = reviews.get(image.id)
            if review is not None:
                picks += review.flag is Flag.PICK
                rejects += review.flag is Flag.REJECT
    return ReviewCounts(len(view), picks, rejects)


async def _index_by_id(images: list[Image]) -> dict[str, Image]:
    """id -> image; in a worker thread for a large listing (100,000 take ~15 ms)."""
    if len(images) < OFF_THREAD_FROM:
        return {i.id: i for i in images}
    return await asyncio.get_running_loop().run_in_executor(None, lambda: {i.id: i for i in images})


def count_unfinished(images: Sequence[Image]) -> int:
    """Images still queued or in progress (one classification per distinct status string).

    Counted in slices so that a worker thread gives the GIL back every few milliseconds."""
    by_status: Counter[str] = Counter()
    for start in range(0, len(images), _SLICE):
        by_status.update(map(_status, images[start : start + _SLICE]))
    return sum(n for status, n in by_status.items() if not Image.status_is_final(status))


_SLICE = 10_000


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class ImageLibrary:
    def __init__(self, source: ImageSource | None = None) -> None:
        self._source = source
        self._filter = ServerFilter()
        self._search = ""
        self._sort = SortOrder.NEWEST
        self._by_id: dict[str, Image] = {}
        self._view: list[Image] = []
        self._listeners: list[LibraryListener] = []
        self._state = LibraryState(LoadState.IDLE)
        self._generation = 0  # bumps whenever the server filter changes
        self._arrange_version = 0  # bumps whenever the view must be recomputed
        self._requests = 0  # numbers each listing request: an older answer never wins
        self._applied_request = 0
        self._upserted: dict[str, int] = {}  # image id -> request count when tracking updated it
        self._unfinished = 0  # images not done or failed, counted where the view is arranged
        self.revision = 0  # bumps whenever the shown images change
        self._reset_pending = False
        self._ready_pending: LibraryState | None = None  # the state once the new view is shown
        self._arranging: asyncio.Future[Arranged] | None = None
        self._reviews: dict[str, Review] = {}  # the designer's reviews that are not blank
        self._review_filter = ReviewFilter()
        self._searched: list[Image] = []  # searched and sorted, before the review filter
        self._rank: dict[str, int] | None = None  # id -> place in _searched, made when needed
        self._counts = ReviewCounts()
        self._id_filter: IdFilter | None = None
        self._listed_at: datetime | None = None
        self._listings: ListingCache | None = None

    def set_listing_cache(self, listings: ListingCache | None) -> None:
        """Keep each listing there, and show the one kept while the first of a filter loads."""
        self._listings = listings

    # -- reading -----------------------------------------------------------------------------
    @property
    def images(self) -> Sequence[Image]:
        """The images shown, searched and sorted."""
        return self._view

    @property
    def listed_at(self) -> datetime | None:
        """When the server sent the listing shown (UTC; None: none of this filter arrived yet),
        for "showing the listing of 14:02" while the server cannot be reached."""
        return self._listed_at

    @property
    def total(self) -> int:
        """Images of the server filter, before the local search."""
        return len(self._by_id)

    @property
    def server_filter(self) -> ServerFilter:
        return self._filter

    @property
    def search(self) -> str:
        return self._search

    @property
    def review_filter(self) -> ReviewFilter:
        return self._review_filter

    @property
    def id_filter(self) -> IdFilter | None:
        """The images of one shoot only (None: no such filter)."""
        return self._id_filter

    @property
    def counts(self) -> ReviewCounts:
        """Images shown, and how many of them are picks, rejects, still to review."""
        return self._counts

    def review(self, image_id: str) -> Review:
        return self._reviews.get(image_id, BLANK)

    @property
    def sort(self) -> SortOrder:
        return self._sort

    @property
    def state(self) -> LibraryState:
        return self._state

    @property
    def has_unfinished(self) -> bool:
        """Some shown-or-filtered-out image is still queued or processing (counted off-thread
        when the view is arranged, so asking is free)."""
        return self._unfinished > 0

    def get(self, image_id: str) -> Image | None:
        return self._by_id.get(image_id)

    def add_listener(self, listener: LibraryListener) -> None:
        self._listeners.append(listener)

    def set_source(self, source: ImageSource | None) -> None:
        """Where the listings come from: the account's server. The first source keeps what is
        shown (the account's kept listing, shown before its server was reached); replacing a
        source switches account: everything of the old one is forgotten."""
        replacing, self._source = self._source is not None, source
        if not replacing:
            return
        self._by_id.clear()
        self._listed_at = None
        self._id_filter = None  # another account's shoot
        self._ready_pending = None
        self._generation += 1
        self._rearrange(reset=True)
        self._set_state(LibraryState(LoadState.IDLE))

    # -- changing the query ------------------------------------------------------------------
    def set_filter(self, server_filter: ServerFilter) -> bool:
        """Change the server filter. Returns True when it changed (a refresh is then needed)."""
        if server_filter == self._filter:
            return False
        self._filter = server_filter
        self._generation += 1
        self._by_id.clear()
        self._listed_at = None
        self._ready_pending = None
        self._rearrange(reset=True)
        self._set_state(LibraryState(LoadState.IDLE))
        return True

    def set_search(self, text: str) -> None:
        if text != self._search:
            self._search = text
            self._rearrange(reset=False)

    def set_sort(self, order: SortOrder) -> None:
        if order != self._sort:
            self._sort = order
            self._rearrange(reset=True)

    def set_review_filter(self, review_filter: ReviewFilter) -> None:
        if review_filter != self._review_filter:
            self._review_filter = review_filter
            self._rearrange(reset=False)

    def set_id_filter(self, id_filter: IdFilter | None) -> None:
        """Show only these images (a shoot's), beside the search and the review filter; None
        shows every image again."""
        if id_filter != self._id_filter:
            self._id_filter = id_filter
            self._rearrange(reset=False)

    # -- reviews -----------------------------------------------------------------------------
    def set_reviews(self, reviews: Mapping[str, Review]) -> None:
        """All the designer's reviews (another account's, or the first ones)."""
        self._reviews = {i: r for i, r in reviews.items() if not r.is_blank}
        self._rearrange(reset=False)

    def update_reviews(self, changes: Mapping[str, Review]) -> None:
        """Some images were decided: only their rows leave, enter or change."""
        old = {image_id: self.review(image_id) for image_id in changes}
        for image_id, review in changes.items():
            if review.is_blank:
                self._reviews.pop(image_id, None)
            else:
                self._reviews[image_id] = review
        if self._arranging is not None or self._reset_pending:
            self._rearrange(reset=False)  # the view on its way is recomputed with them
            return
        rank = self._ranks()
        keeps = self._review_filter.keeps
        view = list(self._view)

        def row_in(images: list[Image], image_id: str) -> int:
            return bisect_left(images, rank[image_id], key=lambda i: rank[i.id])

        leaving, entering, staying = [], [], []
        images, picks, rejects = self._counts.images, self._counts.picks, self._counts.rejects
        for image_id, review in changes.items():
            if image_id not in rank:
                continue  # not in this filter or search
            was, now = keeps(old[image_id]), keeps(review)
            if was:
                images -= 1
                picks -= old[image_id].flag is Flag.PICK
                rejects -= old[image_id].flag is Flag.REJECT
            if now:
                images += 1
                picks += review.flag is Flag.PICK
                rejects += review.flag is Flag.REJECT
            if was and now:
                staying.append(image_id)
            elif was:
                leaving.append(row_in(view, image_id))
            elif now:
                entering.append(image_id)
        self._counts = ReviewCounts(images, picks, rejects)
        patch: ListPatch[Image] = ListPatch()
        for row in sorted(leaving, reverse=True):
            del view[row]
            patch.removals.append((row, row))
        for image_id in sorted(entering, key=rank.__getitem__):
            image = self._searched[rank[image_id]]
            row = row_in(view, image_id)
            view.insert(row, image)
            patch.insertions.append((row, [image]))
        patch.changed.extend(sorted(row_in(view, image_id) for image_id in staying))
        self._view = view
        if not patch.is_empty:
            for listener in self._listeners:
                self._notify(lambda lst: lst.library_patched(patch, view), listener)

    def row_of(self, image_id: str) -> int:
        """The row of `image_id` in the view (-1: not shown): a binary search on its place in
        the searched and sorted list, so no index of the view is rebuilt after each change."""
        rank = self._ranks()
        place = rank.get(image_id)
        if place is None:
            return -1
        view = self._view
        row = bisect_left(view, place, key=lambda i: rank[i.id])
        return row if row < len(view) and view[row].id == image_id else -1

    def _ranks(self) -> dict[str, int]:
        if self._rank is None:
            self._rank = {image.id: row for row, image in enumerate(self._searched)}
        return self._rank

    # -- data in -----------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Fetch the listing of the active filter and merge it. Errors become the ERROR state
        (or stay beside the images already shown); nothing escapes."""
        if self._source is None:
            return
        generation = self._generation
        wanted = self._filter
        self._requests += 1
        request = self._requests
        first_load = self._state.load in (LoadState.IDLE, LoadState.ERROR) and not self._by_id
        self._set_state(
            LibraryState(LoadState.LOADING)
            if first_load
            else LibraryState(self._state.load, self._state.error, refreshing=True)
        )
        stored: asyncio.Future[None] | None = None
        if first_load and self._listings is not None:
            stored = asyncio.ensure_future(self._show_stored(self._listings, request))
        try:
            images = await self._source.list_images(
                status_filter=wanted.status.value, product_id=wanted.product_id
            )
        except ApiError as exc:
            if stored is not None:
                await stored  # the kept listing is shown before the failure is said
            if generation == self._generation and request > self._applied_request:
                self._ready_pending = None  # the kept listing's view, still arranging: ERROR
                self._set_state(LibraryState(LoadState.ERROR, str(exc)))
            return
        finally:
            # the server answered first, or this refresh was cancelled (a switch, a close):
            # the kept listing is not shown after it
            if stored is not None and not stored.done():
                stored.cancel()
        if generation != self._generation or request < self._applied_request:
            return  # the filter changed meanwhile, or a newer answer was applied already
        by_id = await _index_by_id(images)
        if generation != self._generation or request < self._applied_request:
            return
        self._applied_request = request
        self._listed_at = datetime.now(UTC)
        # a record that shoot tracking delivered after this request went out is newer: keep it
        fresher = [
            current
            for image_id, seen in self._upserted.items()
            if seen >= request and (current := self._by_id.get(image_id)) is not None
        ]
        self._upserted.clear()
        by_id.update((i.id, i) for i in fresher)
        self._replace(by_id)
        if self._listings is not None:
            self._listings.save(wanted, images, self._listed_at)

    async def show_kept(self) -> None:
        """Show the listing kept for the filter now, before any server answers: at start, the
        grid of last time (its thumbnails from the disk cache) while the server is reached.
        Nothing when images are shown already or none are kept."""
        if self._listings is not None and not self._by_id:
            await self._show_stored(self._listings, self._requests + 1)

    async def _show_stored(self, listings: ListingCache, request: int) -> None:
        """Show the listing kept for the filter until the answer to `request` is applied (if
        that request runs, the state stays "refreshing")."""
        generation, wanted = self._generation, self._filter
        try:
            stored = await listings.load(wanted)
            if stored is None or generation != self._generation or self._by_id:
                return
            if self._applied_request >= request:
                return  # the server answered meanwhile
            by_id = await _index_by_id(stored.images)
            if generation != self._generation or self._by_id or self._applied_request >= request:
                return
            self._listed_at = stored.listed_at
            running = self._requests >= request  # the request was sent, its answer is awaited
            self._replace(by_id, then=LibraryState(LoadState.READY, refreshing=running))
        except Exception:  # never out of refresh(), which says nothing escapes
            log.exception("Showing the kept listing failed")

    def replace_listing(self, server_filter: ServerFilter, images: Iterable[Image]) -> None:
        """A complete listing for `server_filter` arrived: it becomes the truth."""
        if server_filter == self._filter:
            self._replace({i.id: i for i in images})

    def _replace(
        self, by_id: dict[str, Image], then: LibraryState = LibraryState(LoadState.READY)
    ) -> None:
        self._by_id = by_id
        self._ready_pending = then  # once the new view is in place
        self._rearrange(reset=False)

    def upsert(self, images: Iterable[Image]) -> None:
        """Merge records learned elsewhere (shoot tracking, a receipt) that match the filter."""
        changed = False
        for image in images:
            if self._matches_filter(image) and self._by_id.get(image.id) != image:
                self._by_id[image.id] = image
                self._upserted[image.id] = self._requests
                changed = True
        if changed:
            self._rearrange(reset=False)

    def upsert_for_product(self, product_id: str, images: Iterable[Image]) -> None:
        """Merge a product's listing (from shoot tracking) when the filter shows that product."""
        if self._filter.product_id in (None, product_id):
            self.upsert(images)

    def _matches_filter(self, image: Image) -> bool:
        return self._filter.status is StatusFilter.ALL or image.is_approved

    # -- internals ---------------------------------------------------------------------------
    async def settled(self) -> None:
        """Wait until the view shows everything the library knows (no arranging in flight)."""
        while self._arranging is not None:
            await asyncio.wait({self._arranging})

    @property
    def arranging(self) -> bool:
        """A new view is being computed in a worker thread."""
        return self._arranging is not None

    def _rearrange(self, *, reset: bool) -> None:
        self._arrange_version += 1
        self._reset_pending = self._reset_pending or reset
        images = list(self._by_id.values())
        loop = _running_loop()
        review_filter, reviews = self._review_filter, dict(self._reviews)
        only = self._id_filter.ids if self._id_filter is not None else None
        if len(images) < OFF_THREAD_FROM or loop is None:
            self._arranging = None
            old = None if self._reset_pending else self._view
            self._show(
                _arrange_and_diff(
                    images, self._search, self._sort, old, review_filter, reviews, only
                )
            )
            return
        version = self._arrange_version
        old = None if self._reset_pending else self._view
        future = loop.run_in_executor(
            None,
            _arrange_and_diff,
            images,
            self._search,
            self._sort,
            old,
            review_filter,
            reviews,
            only,
        )
        self._arranging = future
        future.add_done_callback(lambda f: self._arranged(version, f))

    def _arranged(
        self,
        version: int,
        future: asyncio.Future[Arranged],
    ) -> None:
        if version != self._arrange_version or future.cancelled():
            return  # a newer arrangement is on its way
        self._arranging = None
        if (exc := future.exception()) is not None:
            log.error("arranging the images failed", exc_info=exc)
            self._set_state(LibraryState(LoadState.ERROR, "Could not sort the images."))
            return
        self._show(future.result())

    def _show(self, arranged: Arranged) -> None:
        new_view, patch = arranged.view, arranged.patch
        self._unfinished = arranged.unfinished
        self._searched, self._rank, self._counts = arranged.searched, None, arranged.counts
        if patch is None or not patch.is_empty:
            self.revision += 1
        if patch is None:
            self._reset_pending = False
            self._view = new_view
            for listener in self._listeners:
                self._notify(lambda lst: lst.library_reset(new_view), listener)
        else:
            self._view = new_view
            if not patch.is_empty:
                for listener in self._listeners:
                    self._notify(lambda lst: lst.library_patched(patch, new_view), listener)
        if self._ready_pending is not None:
            state, self._ready_pending = self._ready_pending, None
            self._set_state(state)

    def _set_state(self, state: LibraryState) -> None:
        if state != self._state:
            self._state = state
            for listener in self._listeners:
                self._notify(lambda lst: lst.library_state_changed(state), listener)

    @staticmethod
    def _notify(call: Callable[[LibraryListener], None], listener: LibraryListener) -> None:
        try:
            call(listener)
        except Exception:  # a listener bug must not break the library
            log.exception("library listener failed")
