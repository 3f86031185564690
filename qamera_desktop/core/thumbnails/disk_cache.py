"""A size-capped, least-recently-used cache of thumbnail files on disk.

Every method does blocking file I/O: call them from the thumbnail thread's decode pool, never on
the GUI thread. They are thread-safe (one lock guards the in-memory index; file I/O happens
outside it).

Layout: `<cache_dir>/<h[:2]>/<h>.jpg` where h = sha256(f"{url}|{size}"). One level of 256
directories keeps each directory at a few hundred files for a 512 MB cache; a second level would
mostly create 65,536 directories of one file each, which makes the start-up scan slower.

Last use is the file's mtime (bumped with os.utime on each hit), so the LRU order survives a
restart. Writes go to a temporary file in the same directory and are renamed into place
(os.replace): a crash never leaves a half-written file under a final name.
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


class DiskCache:
    """Thumbnail files under `root`, at most `max_bytes` in total (evicting least recently used)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        # file name -> (bytes, last used), least recently used first
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

    def contains(self, key: ThumbnailKey) -> bool:
        """Whether the index lists the key's file (it may still have vanished since).

        Cheap (a hash and a dict lookup) once the index is loaded; it scans the directory first
        otherwise, so call `load_index()` in a worker thread before using this on a loop.
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
        """Store `data` for `key` atomically, then evict down to the cap if it was exceeded."""
        index = self._ensure_index()
        name = cache_name(key)
        self._write_file(name, data)
        now = time.time()
        with self._lock:
            old = index.pop(name, None)
            self._total += len(data) - (old[0] if old is not None else 0)
            index[name] = (len(data), now)
            victims = self._pick_victims(keep=name)
        self._unlink(victims)

    def _write_file(self, name: str, data: bytes) -> None:
        """Write one cache file atomically (a temporary file renamed into place)."""
        folder = os.path.join(self.root, name[:2])
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        # A temporary name no other writer uses (process, thread, counter), created exclusively.
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
        """Under the lock: the entry leaves the index."""
        if self._index is not None:
            entry = self._index.pop(name, None)
            if entry is not None:
                self._total -= entry[0]

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
                entry for entry in os.scandir(self.root) if entry.is_dir() and len(entry.name) == 2
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
