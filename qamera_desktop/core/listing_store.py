"""The last listing of each server filter, kept in the profile's database: the grid fills from it at
once at start (before the server has answered), and shows it while the server cannot be reached.

One row per (account, filter): the images as one blob and when the server sent them. A blob, not a
row per image: a listing is only ever written and read whole, and 100,000 images make ~0.8 MB
(msgpack, then zlib at its fastest level), written in ~0.2 s and read back in ~0.3 s.

Everything runs on one thread of the store's own, with a `Database` of its own (a `Database` is used
from one thread only; WAL lets both connections share the file), so the GUI thread never waits for
SQLite. The images are encoded and decoded in slices, so that thread gives the GIL back every few
milliseconds (msgspec keeps it for a whole call). A listing equal to the one stored last is not
written again: refreshes repeat every few seconds while images are unfinished. A store that fails
(a full disk, a damaged row) logs it and goes on: it is a cache, the server has the truth.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from qamera_desktop.api.records import Image
from qamera_desktop.core.database import Database
from qamera_desktop.core.image_query import ServerFilter

if TYPE_CHECKING:
    import msgspec

log = logging.getLogger(__name__)

SLICE = 5_000
"""Images encoded or decoded per call (~5 ms): the GIL is given back between slices."""


@dataclass(frozen=True, slots=True)
class _Codecs:
    """The msgpack encoder and decoders of kept listings (made once, on their thread)."""

    slices_encoder: msgspec.msgpack.Encoder
    images_decoder: msgspec.msgpack.Decoder[list[Image]]
    slices_decoder: msgspec.msgpack.Decoder[list[bytes]]


@functools.cache
def _codecs() -> _Codecs:
    """Made on the store's thread at its first use: msgspec and the decoder of the records
    (~15 ms) stay out of the window's start."""
    import msgspec

    return _Codecs(
        msgspec.msgpack.Encoder(),
        msgspec.msgpack.Decoder(list[Image]),
        msgspec.msgpack.Decoder(list[bytes]),
    )


@dataclass(frozen=True, slots=True)
class StoredListing:
    """A listing kept on this computer, shown at the next start before the server answers."""

    images: list[Image]
    listed_at: datetime
    """When the server sent it (UTC)."""


def filter_key(server_filter: ServerFilter) -> str:
    """The filter as the table's key: "all:" (every product), "approved:prod_1"."""
    return f"{server_filter.status.value}:{server_filter.product_id or ''}"


def pack(images: Sequence[Image]) -> bytes:
    """The images as bytes: msgpack slices of SLICE images, in a msgpack list, zlib'd."""
    encoder = _codecs().slices_encoder
    slices = [
        encoder.encode(images[start : start + SLICE]) for start in range(0, len(images), SLICE)
    ]
    return zlib.compress(encoder.encode(slices), 1)


def unpack(blob: bytes) -> list[Image]:
    codecs = _codecs()
    images: list[Image] = []
    for part in codecs.slices_decoder.decode(zlib.decompress(blob)):
        images.extend(codecs.images_decoder.decode(part))
    return images


class ListingStore:
    """The stored listings of one account in the database file at `path` (already migrated by the
    app's `Database`)."""

    def __init__(self, path: Path, account: str) -> None:
        self._path = path
        self._account = account
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qamera-listings")
        self._database: Database | None = None  # opened on the store's thread
        self._stored: dict[str, bytes] = {}  # filter key -> digest of the blob stored (thread)
        self._writes: set[asyncio.Future[None]] = set()

    async def load(self, server_filter: ServerFilter) -> StoredListing | None:
        """The listing stored for this filter (None: none, or unreadable)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._load, filter_key(server_filter))

    def save(
        self, server_filter: ServerFilter, images: Sequence[Image], listed_at: datetime
    ) -> None:
        """Store this listing (on the store's thread; returns at once). `images` must not change
        afterwards (the library's lists never do: each refresh makes a new one)."""
        loop = asyncio.get_running_loop()
        key = filter_key(server_filter)
        write = loop.run_in_executor(self._thread, self._save, key, images, listed_at)
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)

    async def flush(self) -> None:
        """Wait until the listings given so far are written."""
        if self._writes:
            await asyncio.wait(set(self._writes))

    async def aclose(self) -> None:
        """Finish the writes, then close the store's connection and thread."""
        await self.flush()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=False)

    # -- on the store's thread ---------------------------------------------------------------
    def _db(self) -> Database:
        if self._database is None:
            self._database = Database(self._path)
        return self._database

    def _load(self, key: str) -> StoredListing | None:
        try:
            rows = self._db().query(
                "SELECT listed_at, images FROM listings WHERE account = ? AND server_filter = ?",
                (self._account, key),
            )
            if not rows:
                return None
            blob = bytes(rows[0]["images"])
            listing = StoredListing(unpack(blob), datetime.fromisoformat(rows[0]["listed_at"]))
        except Exception as exc:
            log.warning("The stored listing %s could not be read: %s", key, exc)
            return None
        self._stored[key] = _digest(blob)
        return listing

    def _save(self, key: str, images: Sequence[Image], listed_at: datetime) -> None:
        try:
            blob = pack(images)
            digest = _digest(blob)
            if self._stored.get(key) == digest:  # the same listing: only its time changes
                self._db().execute(
                    "UPDATE listings SET listed_at = ? WHERE account = ? AND server_filter = ?",
                    (listed_at.isoformat(), self._account, key),
                )
                return
            self._db().execute(
                "INSERT INTO listings (account, server_filter, listed_at, image_count, images)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, server_filter) DO UPDATE SET"
                " listed_at = excluded.listed_at, image_count = excluded.image_count,"
                " images = excluded.images",
                (self._account, key, listed_at.isoformat(), len(images), blob),
            )
            self._stored[key] = digest
        except Exception as exc:
            log.warning("The listing %s could not be stored: %s", key, exc)

    def _close(self) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None


def _digest(blob: bytes) -> bytes:
    return hashlib.blake2b(blob, digest_size=16).digest()
