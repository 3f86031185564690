"""The kept listings: a round trip per (account, filter), 100,000 images, a database of the schema
before them migrated with its data, a damaged row read as none."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from qamera_desktop.api.records import Image
from qamera_desktop.core import database as database_module
from qamera_desktop.core.database import SCHEMA_VERSION, Database
from qamera_desktop.core.image_query import ServerFilter, StatusFilter
from qamera_desktop.core.listing_store import ListingStore, StoredListing, pack, unpack

T0 = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
ALL = ServerFilter()
APPROVED_MUG = ServerFilter("prod_mug", StatusFilter.APPROVED)


def images(count: int, prefix: str = "rec") -> list[Image]:
    return [
        Image(
            f"{prefix}{i:06d}",
            f"Shot {i}",
            f"https://cdn.example/{prefix}/{i}.jpg" if i % 7 else None,
            "DONE" if i % 5 else "PROCESSING",
            T0 - timedelta(minutes=i) if i % 3 else None,
            "up" if i % 11 == 0 else None,
        )
        for i in range(count)
    ]


AsyncRunner = Callable[[Awaitable[Any]], Any]


def with_store[T](
    arun: AsyncRunner, path: Path, account: str, use: Callable[[ListingStore], Awaitable[T]]
) -> T:
    """Run `use(store)` on the tests' event loop, the store closed afterwards (as the app does)."""

    async def run() -> T:
        store = ListingStore(path, account)
        try:
            return await use(store)
        finally:
            await store.aclose()

    result: T = arun(run())
    return result


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "library.sqlite3"
    Database(path).close()  # migrated by the app's Database, as in AppServices.connect
    return path


def test_pack_and_unpack_keep_every_field() -> None:
    shown = images(12_345)  # more than two slices, the last one partial
    assert unpack(pack(shown)) == shown
    assert unpack(pack([])) == []


def test_a_listing_round_trips_per_account_and_filter(arun: AsyncRunner, db_path: Path) -> None:
    async def save_both(store: ListingStore) -> None:
        store.save(ALL, images(30), T0)
        store.save(APPROVED_MUG, images(3, "mug"), T0 + timedelta(hours=1))
        await store.flush()

    with_store(arun, db_path, "acct-1", save_both)
    # a new store (the next start) reads them back
    everything = with_store(arun, db_path, "acct-1", lambda store: store.load(ALL))
    mugs = with_store(arun, db_path, "acct-1", lambda store: store.load(APPROVED_MUG))
    assert everything == StoredListing(images(30), T0)
    assert mugs == StoredListing(images(3, "mug"), T0 + timedelta(hours=1))
    # another account, or a filter never listed: nothing kept
    assert with_store(arun, db_path, "acct-2", lambda store: store.load(ALL)) is None
    assert with_store(arun, db_path, "acct-1", lambda store: store.load(ServerFilter("x"))) is None


def test_the_newest_listing_replaces_the_last_and_an_equal_one_only_moves_the_time(
    arun: AsyncRunner,
    db_path: Path,
) -> None:
    async def refreshes(store: ListingStore) -> StoredListing | None:
        store.save(ALL, images(10), T0)
        store.save(ALL, images(12), T0 + timedelta(seconds=3))
        store.save(ALL, images(12), T0 + timedelta(seconds=6))  # nothing changed
        await store.flush()
        return await store.load(ALL)

    assert with_store(arun, db_path, "acct-1", refreshes) == StoredListing(
        images(12), T0 + timedelta(seconds=6)
    )
    raw = sqlite3.connect(db_path)
    try:
        rows = raw.execute("SELECT account, server_filter, image_count FROM listings").fetchall()
    finally:
        raw.close()
    assert rows == [("acct-1", "all:", 12)]


def test_a_hundred_thousand_images_round_trip_in_a_small_row(
    arun: AsyncRunner, db_path: Path
) -> None:
    many = images(100_000)

    async def save(store: ListingStore) -> None:
        store.save(ALL, many, T0)  # returns at once: written on the store's thread
        await store.flush()

    with_store(arun, db_path, "acct-1", save)
    assert with_store(arun, db_path, "acct-1", lambda store: store.load(ALL)) == StoredListing(
        many, T0
    )
    raw = sqlite3.connect(db_path)
    try:
        (size,) = raw.execute("SELECT length(images) FROM listings").fetchone()
    finally:
        raw.close()
    assert size < 3_000_000  # ~110 bytes an image before compression


def test_a_damaged_row_reads_as_no_listing_and_is_replaced(
    arun: AsyncRunner, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = sqlite3.connect(db_path)
    raw.execute(
        "INSERT INTO listings VALUES ('acct-1', 'all:', ?, 3, ?)", (T0.isoformat(), b"garbage")
    )
    raw.commit()
    raw.close()

    async def load_then_save(store: ListingStore) -> tuple[StoredListing | None, object]:
        with caplog.at_level(logging.WARNING):
            damaged = await store.load(ALL)
        store.save(ALL, images(2), T0)
        await store.flush()
        return damaged, await store.load(ALL)

    damaged, repaired = with_store(arun, db_path, "acct-1", load_then_save)
    assert damaged is None
    assert "could not be read" in caplog.text
    assert repaired == StoredListing(images(2), T0)


def test_a_database_of_the_schema_before_is_migrated_with_its_data(
    arun: AsyncRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "library.sqlite3"
    before = SCHEMA_VERSION - 1
    with monkeypatch.context() as patch:
        patch.setattr(database_module, "MIGRATIONS", database_module.MIGRATIONS[:before])
        patch.setattr(database_module, "SCHEMA_VERSION", before)
        with Database(path) as old:
            old.execute(
                "INSERT INTO reviews VALUES ('acct-1', 'rec1', 'pick', 4, 'red', '', ?)",
                (T0.isoformat(),),
            )
            names = {r[0] for r in old.query("SELECT name FROM sqlite_master")}
            assert "listings" not in names
    with Database(path) as migrated:
        assert migrated.schema_version == SCHEMA_VERSION
        assert [tuple(r) for r in migrated.query("SELECT image_id, flag FROM reviews")] == [
            ("rec1", "pick")
        ]
    stored = with_store(arun, path, "acct-1", lambda store: _save_and_load(store, images(5)))
    assert stored == StoredListing(images(5), T0)


async def _save_and_load(store: ListingStore, shown: list[Image]) -> StoredListing | None:
    store.save(ALL, shown, T0)
    await store.flush()
    return await store.load(ALL)
