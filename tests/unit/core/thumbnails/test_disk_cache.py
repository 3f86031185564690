"""DiskCache: file layout, LRU order across restarts, the byte cap, atomic writes, clean-up."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from qamera_desktop.core.thumbnails import ThumbnailKey
from qamera_desktop.core.thumbnails.disk_cache import DiskCache, cache_name


def key(n: int) -> ThumbnailKey:
    return ThumbnailKey(f"https://cdn.test/{n}.jpg", 256)


def test_file_name_is_the_sha256_of_url_and_size(tmp_path: Path) -> None:
    k = ThumbnailKey("https://cdn.test/a.jpg?sig=1", 512)
    digest = hashlib.sha256(b"https://cdn.test/a.jpg?sig=1|512").hexdigest()
    cache = DiskCache(tmp_path, 10_000)
    assert cache.path_for(k) == tmp_path / digest[:2] / f"{digest}.jpg"
    assert cache_name(k) == f"{digest}.jpg"
    assert cache_name(ThumbnailKey(k.url, 256)) != cache_name(k)


def test_write_then_read(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "new", 10_000)
    assert cache.read(key(1)) is None
    cache.write(key(1), b"abc")
    assert cache.read(key(1)) == b"abc"
    assert cache.contains(key(1))
    assert cache.total_bytes == 3
    cache.write(key(1), b"abcdef")  # replacing counts the new size only
    assert cache.total_bytes == 6
    assert [p.name for p in (tmp_path / "new").rglob("*")] == [
        cache.path_for(key(1)).parent.name,
        cache_name(key(1)),
    ]  # no temporary file left behind


def test_lru_eviction_down_to_ninety_percent(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 350)
    for n in (1, 2, 3):
        cache.write(key(n), b"x" * 100)
    assert cache.read(key(1)) is not None  # 1 is now the most recently used
    cache.write(key(4), b"x" * 100)  # 400 > 350: evict down to 315

    assert cache.read(key(2)) is None
    assert all(cache.path_for(key(n)).exists() for n in (1, 3, 4))
    assert cache.total_bytes == 300


def test_eviction_order_survives_a_restart(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10_000)
    for n in (1, 2, 3, 4):
        cache.write(key(n), b"x" * 100)
    now = time.time()
    for age, n in ((400, 3), (300, 1), (200, 4), (100, 2)):  # use order: 3, 1, 4, 2
        os.utime(cache.path_for(key(n)), (now - age, now - age))

    reopened = DiskCache(tmp_path, 250)  # the scan at first use finds 400 bytes: too many
    reopened.load_index()
    assert reopened.total_bytes == 200
    assert not reopened.path_for(key(3)).exists()
    assert not reopened.path_for(key(1)).exists()
    assert reopened.read(key(4)) == reopened.read(key(2)) == b"x" * 100


def test_hit_bumps_the_mtime(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10_000)
    cache.write(key(1), b"data")
    path = cache.path_for(key(1))
    os.utime(path, (1_000_000, 1_000_000))
    cache.read(key(1))
    assert path.stat().st_mtime > time.time() - 60


def test_files_written_by_someone_else_are_read_and_counted(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10_000)
    cache.load_index()
    other = DiskCache(tmp_path, 10_000)
    other.write(key(7), b"hello")
    assert not cache.contains(key(7))  # not in our index (scanned before)
    assert cache.read(key(7)) == b"hello"
    assert cache.contains(key(7))
    assert cache.total_bytes == 5


def test_vanished_file_is_forgotten(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10_000)
    cache.write(key(1), b"abc")
    cache.path_for(key(1)).unlink()
    assert cache.read(key(1)) is None
    assert not cache.contains(key(1))
    assert cache.total_bytes == 0


def test_discard(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10_000)
    cache.write(key(1), b"abc")
    cache.discard(key(1))
    cache.discard(key(2))  # absent: nothing to do
    assert not cache.path_for(key(1)).exists()
    assert cache.total_bytes == 0


def test_scan_removes_stale_temp_files_and_ignores_strangers(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10_000)
    cache.write(key(1), b"abc")
    folder = cache.path_for(key(1)).parent
    stale = folder / ".tmp-crashed.part"
    fresh = folder / ".tmp-writing.part"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    (folder / "notes.txt").write_text("not ours")
    (tmp_path / "stray-file").write_bytes(b"top level file")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))

    reopened = DiskCache(tmp_path, 10_000)
    reopened.load_index()
    assert not stale.exists()  # left by a crash: removed
    assert fresh.exists()  # another process may be writing it
    assert reopened.total_bytes == 3  # only cache files count


def test_failed_write_leaves_no_temp_file(tmp_path: Path, monkeypatch: Any) -> None:
    cache = DiskCache(tmp_path, 10_000)
    cache.load_index()

    def broken_replace(src: str, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        cache.write(key(1), b"abc")
    assert list(tmp_path.rglob("*.part")) == []
    assert cache.total_bytes == 0


def test_unusable_root(tmp_path: Path) -> None:
    root = tmp_path / "file"
    root.write_bytes(b"")
    cache = DiskCache(root, 10_000)
    cache.load_index()  # logged, not raised
    assert cache.read(key(1)) is None
    with pytest.raises((NotADirectoryError, FileExistsError)):
        cache.write(key(1), b"abc")
