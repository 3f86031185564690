"""DiskCache.write: a temporary `.tmp-<pid>-<thread>-<n>.part` file created exclusively in the
key's subfolder, renamed into place; the subfolders it knows exist; what a failed write leaves.

Real files under tmp_path, real threads.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from qamera_desktop.core.thumbnails import ThumbnailKey
from qamera_desktop.core.thumbnails.disk_cache import DiskCache, cache_name

THREADS = 4
PER_THREAD = 60


def key(n: int) -> ThumbnailKey:
    return ThumbnailKey(f"https://cdn.test/{n}.jpg", 256)


def payload(n: int) -> bytes:
    return bytes([n % 251]) * (100 + n % 37) + f"#{n}".encode()


def temp_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.name.startswith(".tmp-") or p.suffix == ".part")


def rescanned_total(root: Path) -> int:
    """What a new DiskCache on `root` counts after scanning it."""
    fresh = DiskCache(root, 10_000_000)
    fresh.load_index()
    return fresh.total_bytes


def same_folder_keys(count: int) -> list[ThumbnailKey]:
    """Keys whose files share one subfolder (the first two hex digits of their names)."""
    first = key(0)
    prefix = cache_name(first)[:2]
    found = [first]
    n = 1
    while len(found) < count:
        if cache_name(key(n))[:2] == prefix:
            found.append(key(n))
        n += 1
    return found


def run_together(work: Callable[[int], None]) -> list[BaseException]:
    """Run work(0) .. work(THREADS - 1) in threads released at the same moment; their errors."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            barrier.wait(30)
            work(number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_many_writes_leave_only_the_cache_files(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    cache = DiskCache(root, 10_000_000)
    for n in range(300):
        cache.write(key(n), payload(n))
    for n in range(0, 300, 3):  # rewrites replace the file in place
        cache.write(key(n), payload(n + 1000))

    assert temp_files(root) == []
    files = {p.name for p in root.rglob("*") if p.is_file()}
    assert files == {cache_name(key(n)) for n in range(300)}
    for n in range(300):
        expected = payload(n + 1000) if n % 3 == 0 else payload(n)
        assert cache.path_for(key(n)).read_bytes() == expected
    assert all(p.parent.name == p.name[:2] for p in root.rglob("*.jpg"))
    expected_total = sum(len(payload(n + 1000) if n % 3 == 0 else payload(n)) for n in range(300))
    assert cache.total_bytes == expected_total
    assert rescanned_total(root) == expected_total


def test_concurrent_writers_of_different_keys(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    cache = DiskCache(root, 10_000_000)
    cache.load_index()

    def writer(worker: int) -> None:
        for i in range(PER_THREAD):
            n = worker * PER_THREAD + i
            cache.write(key(n), payload(n))

    assert run_together(writer) == []
    keys = range(THREADS * PER_THREAD)
    assert temp_files(root) == []
    assert {p.name for p in root.rglob("*.jpg")} == {cache_name(key(n)) for n in keys}
    for n in keys:
        assert cache.path_for(key(n)).read_bytes() == payload(n)
        assert cache.contains(key(n))
    total = sum(len(payload(n)) for n in keys)
    assert cache.total_bytes == total
    assert rescanned_total(root) == total


def test_concurrent_writers_sharing_a_subfolder(tmp_path: Path) -> None:
    """Every thread's first write may find the subfolder missing; they all create it."""
    root = tmp_path / "cache"
    keys = same_folder_keys(THREADS * 5)
    cache = DiskCache(root, 10_000_000)

    def writer(worker: int) -> None:
        for i in range(worker, len(keys), THREADS):
            cache.write(keys[i], payload(i))

    assert run_together(writer) == []
    assert temp_files(root) == []
    assert len(list(root.iterdir())) == 1
    for i, k in enumerate(keys):
        assert cache.path_for(k).read_bytes() == payload(i)
    assert cache.total_bytes == sum(len(payload(i)) for i in range(len(keys)))


def test_a_subfolder_deleted_behind_the_caches_back_is_made_again(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    first, second, third = same_folder_keys(3)
    cache = DiskCache(root, 10_000_000)
    cache.write(first, b"first")
    folder = cache.path_for(first).parent
    shutil.rmtree(folder)

    failures = 0
    for attempt in range(2):
        try:
            cache.write(second, b"second")
        except OSError:
            failures += 1
            assert attempt == 0  # fails once at most
        else:
            break
    assert failures <= 1
    assert cache.path_for(second).read_bytes() == b"second"
    cache.write(third, b"third")  # and the folder stays known
    assert cache.path_for(third).read_bytes() == b"third"
    assert temp_files(root) == []
    assert cache.read(first) is None  # gone with its folder, and forgotten on the read


def test_the_whole_cache_directory_deleted_behind_its_back(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    cache = DiskCache(root, 10_000_000)
    cache.write(key(1), b"one")
    shutil.rmtree(root)

    try:
        cache.write(key(1), b"again")
    except OSError:
        cache.write(key(1), b"again")  # the second attempt works
    assert cache.path_for(key(1)).read_bytes() == b"again"
    assert cache.total_bytes == len(b"again")
    assert temp_files(root) == []


def test_a_failed_rename_leaves_no_temporary_file(tmp_path: Path) -> None:
    """os.replace fails (the final name is taken by a directory) after the data was written."""
    root = tmp_path / "cache"
    cache = DiskCache(root, 10_000_000)
    cache.write(key(1), b"one")
    blocked = key(2)
    cache.path_for(blocked).mkdir(parents=True)
    (cache.path_for(blocked) / "inside").write_bytes(b"x")

    with pytest.raises((IsADirectoryError, PermissionError)):  # PermissionError on Windows
        cache.write(blocked, b"two" * 100)

    assert temp_files(root) == []
    assert not cache.contains(blocked)
    assert cache.total_bytes == len(b"one")
    cache.write(key(3), b"three")  # the cache goes on working
    assert cache.path_for(key(3)).read_bytes() == b"three"
    assert temp_files(root) == []


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="needs POSIX permissions that apply (root ignores them)",
)
def test_a_write_into_a_read_only_subfolder_fails_and_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    root = tmp_path / "cache"
    first, second = same_folder_keys(2)
    cache = DiskCache(root, 10_000_000)
    cache.write(first, b"first")
    folder = cache.path_for(first).parent
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError):
            cache.write(second, b"second")
        assert temp_files(root) == []
        assert not cache.contains(second)
        assert cache.total_bytes == len(b"first")
    finally:
        folder.chmod(0o700)
    cache.write(second, b"second")  # writable again: the folder is still known and used
    assert cache.path_for(second).read_bytes() == b"second"
    assert temp_files(root) == []
