"""A size-capped, least-recently-used cache of thumbnail files on disk.

Every method does blocking file I/O: call them from a worker thread, never on the GUI thread's
event loop (a thumbnail worker process's loop, which has nothing else to do, may: pipeline.py).
They are thread-safe (one lock guards the in-memory index; file I/O happens outside it).

Layout: `<cache_dir>/<h[:2]>/<h>.jpg` where h = sha256(f"{url}|{size}"). One level of 256
directories keeps each directory at a few hundred files for a 512 MB cache; a second level would
mostly create 65,536 directories of one file each, which makes the start-up scan slower.

Last use is the file's mtime (bumped with os.utime on each hit), so the LRU order survives a
restart. Writes go to a temporary file in the same directory and are renamed into place
(os.replace): a crash never leaves a half-written file under a final name.

Write-back: with `write_back_bytes`, `write()` only keeps the bytes in memory (an entry of the
index, readable at once) and `flush()` writes the files later, when the pipeline has nothing to
load. Creating a file costs 0.1 to 0.5 ms of CPU on an ext4 disk (tests/perf/bench_grid.py), a
fifth of a worker's time per thumbnail while the grid fills; the visible thumbnails come first.
When the buffer is full, `write()` writes the oldest entries itself. A crash loses what was not
flushed, which only costs downloading those thumbnails again.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Final

from .records import ThumbnailKey

log = logging.getLogger(__name__)

_SUFFIX: Final = ".jpg"
_TEMP_PREFIX: Final = ".tmp-"
_STALE_TEMP_SECONDS: Final = 3600.0
LOW_WATER: Final = 0.9  # eviction goes down to this fraction of the cap
_O_BINARY: Final = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def cache_name(key: ThumbnailKey) -> str:
    """The file name of a key: sha256 of "url|size" in hex, plus the suffix."""
    return hashlib.sha256(f"{key.url}|{key.size}".encode()).hexdigest() + _SUFFIX


def shard_of(key: ThumbnailKey, shards: int) -> int:
    """Which of `shards` disk cache shards holds the key: its subdirectory number modulo
    `shards`, so that a shard is a fixed set of subdirectories whatever the count was before."""
    return int(cache_name(key)[:2], 16) % shards


class DiskCache:
    """Thumbnail files under `root`, at most `max_bytes` in total (evicting least recently used).

    With `shard=(k, n)` it is shard k of n: it sees, scans and evicts only the subdirectories
    whose number is k modulo n (`shard_of`), so n caches (one per worker process) share one
    folder without touching each other's files.
    """

    def __init__(
        self,
        root: Path,
        max_bytes: int,
        *,
        shard: tuple[int, int] = (0, 1),
        write_back_bytes: int = 0,
    ) -> None:
        if not 0 <= shard[0] < shard[1]:
            raise ValueError(f"invalid disk cache shard {shard}")
        self.root = root
        self.max_bytes = max_bytes
        self.shard = shard
        self.write_back_bytes = write_back_bytes
        # Written to the index but not yet to a file, oldest first; an entry stays here until
        # its file is in place, so a read in between finds it. `_writing`: names whose file is
        # being written now, by a flush or a write-through (one writer per name at a time).
        self._pending: OrderedDict[str, bytes] = OrderedDict()
        self._pending_bytes = 0
        self._writing: set[str] = set()
        self._lock = threading.Lock()
        self._name_free = threading.Condition(self._lock)  # a name has left `_writing`
        # file name -> (bytes, last used), least recently used first. Keyed by the name, not the
        # Path: hashing a Path costs ~30 us, and contains() runs on the event loop thread.
        self._index: OrderedDict[str, tuple[int, float]] | None = None
        self._total = 0
        self._folders: set[str] = set()  # subdirectories known to exist
        self._serial = itertools.count()

    # ----------------------------------------------------------------------------- queries
    def path_for(self, key: ThumbnailKey) -> Path:
        return self._path(cache_name(key))

    def _path(self, name: str) -> Path:
        return self.root / name[:2] / name

    @property
    def total_bytes(self) -> int:
        return self._total

    @property
    def pending_bytes(self) -> int:
        """Bytes written to the cache but not yet to files (see `flush`)."""
        return self._pending_bytes

    def contains(self, key: ThumbnailKey) -> bool:
        """Whether the index lists the key's file (it may still have vanished since).

        Cheap (a hash and a dict lookup) once the index is loaded; it scans the directory first
        otherwise, so call `load_index()` in a worker thread before using this on the loop.
        """
        index = self._ensure_index()
        name = cache_name(key)
        with self._lock:
            return name in index

    def load_index(self) -> None:
        """Scan the directory into the in-memory index now (it is otherwise built on first use)."""
        self._ensure_index()

    # ----------------------------------------------------------------------------- reads
    def read(self, key: ThumbnailKey) -> bytes | None:
        """The stored bytes of `key`, or None. A hit becomes the most recently used file."""
        index = self._ensure_index()
        name = cache_name(key)
        with self._lock:
            data = self._pending.get(name)
            if data is not None:
                entry = index.pop(name, None)
                if entry is not None:
                    index[name] = (entry[0], time.time())
                    return data
        path = self._path(name)
        try:
            data = path.read_bytes()
        except OSError:
            self._forget(name)
            return None
        now = time.time()
        with contextlib.suppress(OSError):
            os.utime(path, (now, now))
        with self._lock:
            entry = index.pop(name, None)
            self._total += len(data) - (entry[0] if entry is not None else 0)
            index[name] = (len(data), now)
        return data

    # ----------------------------------------------------------------------------- writes
    def write(self, key: ThumbnailKey, data: bytes) -> None:
        """Store `data` for `key`, then evict down to the cap if it was exceeded.

        Without a write-back buffer (or for data larger than it) the file is written now,
        atomically. With one, the data waits in memory for `flush()`; when that makes the buffer
        overflow, the oldest waiting entries are written now, in the calling thread.
        """
        index = self._ensure_index()
        name = cache_name(key)
        if self.write_back_bytes <= 0 or len(data) > self.write_back_bytes:
            with self._lock:
                self._claim(name)
                waiting = self._pending.pop(name, None)  # older bytes: never written now
                if waiting is not None:
                    self._pending_bytes -= len(waiting)
            try:
                self._write_file(name, data)
            except BaseException:
                with self._lock:
                    self._drop_entry(name)
                    self._let_go(name)
                raise
            with self._lock:
                self._let_go(name)
            self._admit(index, name, data, pending=False)
            return
        self._admit(index, name, data, pending=True)
        if self._pending_bytes > self.write_back_bytes:
            self.flush(lambda: self._pending_bytes <= self.write_back_bytes)

    def flush(self, should_stop: Callable[[], bool] | None = None) -> int:
        """Write the waiting entries to files, oldest first, until none is left or
        `should_stop()` says so (asked after each file). Returns how many were written.

        Thread-safe: concurrent calls write different entries. An OSError (a full disk) drops
        the entry it was writing from the cache and is raised; the others keep waiting.
        """
        written = 0
        while should_stop is None or not should_stop():
            with self._lock:
                name = next((n for n in self._pending if n not in self._writing), None)
                if name is None:
                    break
                data = self._pending[name]
                self._writing.add(name)
            try:
                self._write_file(name, data)
            except BaseException:
                with self._lock:
                    if self._pending.get(name) is data:
                        self._drop_entry(name)
                    self._let_go(name)
                raise
            with self._lock:
                if self._pending.get(name) is data:
                    del self._pending[name]
                    self._pending_bytes -= len(data)
                # evicted or discarded while it was being written: the file must go as well
                orphan = self._index is None or name not in self._index
            if orphan:
                self._unlink([name])
            with self._lock:
                self._let_go(name)  # only now may another write of this name begin
            written += 1
        return written

    def _claim(self, name: str) -> None:
        """Under the lock: wait until no other thread writes `name`'s file, then claim it, so
        that the last bytes stored are the ones on disk (renames of one name never cross)."""
        while name in self._writing:
            self._name_free.wait()
        self._writing.add(name)

    def _let_go(self, name: str) -> None:
        """Under the lock: `name`'s file is no longer being written."""
        self._writing.discard(name)
        self._name_free.notify_all()

    def _admit(
        self, index: OrderedDict[str, tuple[int, float]], name: str, data: bytes, *, pending: bool
    ) -> None:
        """Enter a written (or waiting) entry as the most recently used one, then evict."""
        now = time.time()
        with self._lock:
            old = index.pop(name, None)
            self._total += len(data) - (old[0] if old is not None else 0)
            index[name] = (len(data), now)
            waiting = self._pending.pop(name, None)
            if waiting is not None:
                self._pending_bytes -= len(waiting)
            if pending:
                self._pending[name] = data
                self._pending_bytes += len(data)
            victims = self._pick_victims(keep=name)
        self._unlink(victims)

    def _write_file(self, name: str, data: bytes) -> None:
        """Write one cache file atomically (a temporary file renamed into place)."""
        folder = os.path.join(self.root, name[:2])
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        # A temporary name no other writer uses (process, thread, counter), created exclusively.
        # Cheaper than tempfile.mkstemp, and this runs once per thumbnail.
        temp_name = os.path.join(
            folder, f"{_TEMP_PREFIX}{os.getpid()}-{threading.get_ident()}-{next(self._serial)}.part"
        )
        try:
            fd = os.open(temp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(temp_name, os.path.join(folder, name))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            if not os.path.isdir(folder):  # removed behind our back: make it again next time
                self._folders.discard(folder)
            raise

    def discard(self, key: ThumbnailKey) -> None:
        """Delete the key's file (a corrupt one, say)."""
        name = cache_name(key)
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()
        self._forget(name)

    # ----------------------------------------------------------------------------- internals
    def _forget(self, name: str) -> None:
        with self._lock:
            self._drop_entry(name)

    def _drop_entry(self, name: str) -> None:
        """Under the lock: the entry leaves the index and the write-back buffer."""
        if self._index is not None:
            entry = self._index.pop(name, None)
            if entry is not None:
                self._total -= entry[0]
        waiting = self._pending.pop(name, None)
        if waiting is not None:
            self._pending_bytes -= len(waiting)

    def _pick_victims(self, keep: str) -> list[str]:
        """Under the lock: drop LRU entries from the index down to the low water mark."""
        assert self._index is not None
        if self._total <= self.max_bytes:
            return []
        target = int(self.max_bytes * LOW_WATER)
        victims: list[str] = []
        for name in list(self._index):
            if self._total <= target:
                break
            if name == keep:
                continue
            self._drop_entry(name)
            victims.append(name)
        return victims

    def _unlink(self, victims: list[str]) -> None:
        for name in victims:
            with contextlib.suppress(FileNotFoundError):
                self._path(name).unlink()
        if victims:
            log.debug("Thumbnail disk cache: evicted %d files", len(victims))

    def _is_mine(self, subdir: str) -> bool:
        index, shards = self.shard
        try:
            return len(subdir) == 2 and int(subdir, 16) % shards == index
        except ValueError:
            return False

    def _ensure_index(self) -> OrderedDict[str, tuple[int, float]]:
        index = self._index
        if index is not None:
            return index
        scanned, total = self._scan()
        with self._lock:
            if self._index is None:
                self._index, self._total = scanned, total
            victims = self._pick_victims(keep="")
            index = self._index
        self._unlink(victims)
        return index

    def _scan(self) -> tuple[OrderedDict[str, tuple[int, float]], int]:
        """Read the directory: every cache file with its size and last use, oldest first."""
        found: list[tuple[float, str, int]] = []
        now = time.time()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            subdirs = [
                entry
                for entry in os.scandir(self.root)
                if entry.is_dir() and self._is_mine(entry.name)
            ]
        except OSError as exc:
            log.warning("Thumbnail disk cache %s is not usable: %s", self.root, exc)
            return OrderedDict(), 0
        for subdir in subdirs:
            try:
                entries = list(os.scandir(subdir.path))
            except OSError:
                continue
            for entry in entries:
                try:
                    stat = entry.stat()
                except OSError:
                    continue
                if entry.name.startswith(_TEMP_PREFIX):
                    if now - stat.st_mtime > _STALE_TEMP_SECONDS:  # left by a crash
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)
                    continue
                if entry.name.endswith(_SUFFIX) and entry.name[:2] == subdir.name:
                    found.append((stat.st_mtime, entry.name, stat.st_size))
        found.sort()
        index = OrderedDict((name, (size, used)) for used, name, size in found)
        return index, sum(size for _, _, size in found)
