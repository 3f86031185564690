"""DiskCache: file layout, LRU order by mtime (across restarts), the byte cap, atomic writes,
clean-up. Real files under tmp_path, real threads."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from qamera_desktop.core.thumbnails.disk_cache import DiskCache, cache_name
from qamera_desktop.core.thumbnails.records import ThumbnailKey


def key(n: int) -> ThumbnailKey:
    return ThumbnailKey(f"https://cdn.test/{n}.jpg", 256)


def leftovers(root: Path) -> list[Path]:
    """Temporary files a write left behind."""
    return [p for p in root.rglob("*") if p.name.startswith(".tmp-")]


def used(cache: DiskCache, ages: dict[int, float]) -> None:
    """Set each key's last use to `age` seconds ago (the file system's clock is too coarse to
    order writes made within a few milliseconds)."""
    now = time.time()
    for n, age in ages.items():
        os.utime(cache.path_for(key(n)), (now - age, now - age))


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
    assert not cache.contains(key(1))
    cache.write(key(1), b"abc")
    cache.write(key(1), b"abcdef")  # a rewrite replaces the file
    assert cache.read(key(1)) == b"abcdef"
    assert cache.contains(key(1))
    assert [p.name for p in (tmp_path / "new").rglob("*")] == [
        cache.path_for(key(1)).parent.name,
        cache_name(key(1)),
    ]  # no temporary file left behind
    if os.name == "posix":
        assert stat.S_IMODE(cache.path_for(key(1)).stat().st_mode) == 0o600  # the user's only


def test_passing_the_cap_evicts_the_least_recently_used_down_to_ninety_percent(
    tmp_path: Path,
) -> None:
    cache = DiskCache(tmp_path, 350)
    for n in (1, 2, 3):
        cache.write(key(n), b"x" * 100)
    used(cache, {1: 30, 2: 20, 3: 10})
    assert cache.read(key(1)) is not None  # 1 is now the most recently used
    cache.write(key(4), b"x" * 100)  # 400 > 350: evict down to 315

    assert not cache.contains(key(2))
    assert all(cache.contains(key(n)) for n in (1, 3, 4))
    assert cache.total_bytes == 300


def test_the_trim_at_start_counts_and_evicts_in_the_order_of_last_use(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10_000)
    for n in (1, 2, 3, 4):
        cache.write(key(n), b"x" * 100)
    used(cache, {3: 400, 1: 300, 4: 200, 2: 100})

    counted = DiskCache(tmp_path, 10_000)
    counted.trim()
    assert counted.total_bytes == 400
    reopened = DiskCache(tmp_path, 250)
    reopened.trim()
    assert reopened.total_bytes == 200
    assert [reopened.contains(key(n)) for n in (1, 2, 3, 4)] == [False, True, False, True]


def test_a_hit_bumps_the_mtime(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10_000)
    cache.write(key(1), b"data")
    used(cache, {1: 10**6})
    cache.read(key(1))
    assert cache.path_for(key(1)).stat().st_mtime > time.time() - 60


def test_discard_and_a_vanished_file(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10_000)
    cache.write(key(1), b"abc")
    cache.write(key(2), b"abc")
    cache.discard(key(1))
    cache.discard(key(3))  # absent: nothing to do
    cache.path_for(key(2)).unlink()
    assert not cache.contains(key(1))
    assert cache.read(key(2)) is None


def test_the_scan_removes_stale_temporary_files_and_ignores_strangers(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 10)
    cache.write(key(1), b"abc")
    folder = cache.path_for(key(1)).parent
    stale, fresh = folder / ".tmp-crashed", folder / ".tmp-writing"
    for path in (stale, fresh, folder / "notes.txt", tmp_path / "stray.jpg"):
        path.write_bytes(b"not a cache file, and more than the cap")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))

    cache.trim()
    assert not stale.exists()  # left by a crash: removed
    assert fresh.exists()  # another process may be writing it
    assert (folder / "notes.txt").exists()
    assert (tmp_path / "stray.jpg").exists()
    assert cache.total_bytes == 3  # only cache files count, and they are under the cap


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: Any) -> None:
    cache = DiskCache(tmp_path, 10_000)

    def no_space(src: str, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OSError, match="No space"):
        cache.write(key(1), b"abc")
    assert leftovers(tmp_path) == []
    assert not cache.contains(key(1))


def test_folders_deleted_behind_the_caches_back_are_made_again(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache", 10_000)
    cache.write(key(1), b"one")
    shutil.rmtree(tmp_path / "cache")
    cache.write(key(1), b"again")
    assert cache.read(key(1)) == b"again"


def test_an_unusable_root_reads_nothing_and_refuses_writes(tmp_path: Path) -> None:
    root = tmp_path / "file"
    root.write_bytes(b"")
    cache = DiskCache(root, 10_000)
    cache.trim()
    assert cache.read(key(1)) is None
    with pytest.raises((NotADirectoryError, FileExistsError)):
        cache.write(key(1), b"abc")


def test_concurrent_writers_leave_only_whole_cache_files(tmp_path: Path) -> None:
    """Four threads released together, 60 writes each, half of them into shared folders, with a
    cap that makes them trim while others write."""
    cache = DiskCache(tmp_path, 20_000)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            barrier.wait(30)
            for i in range(60):
                n = worker * 60 + i
                cache.write(key(n), bytes([n % 251]) * (100 + n % 37))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert leftovers(tmp_path) == []
    cache.trim()  # a file written during another thread's scan may wait for the next one
    on_disk = sum(p.stat().st_size for p in tmp_path.rglob("*.jpg"))
    assert 0 < on_disk == cache.total_bytes <= 20_000
    for n in range(240):  # what is there is whole
        data = cache.read(key(n))
        assert data is None or data == bytes([n % 251]) * (100 + n % 37)
