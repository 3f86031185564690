"""DiskCache shards: worker processes share one cache folder without touching each other's files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qamera_desktop.core.thumbnails import ThumbnailKey
from qamera_desktop.core.thumbnails.disk_cache import DiskCache, cache_name, shard_of


def key(n: int) -> ThumbnailKey:
    return ThumbnailKey(f"https://cdn.test/{n}.jpg", 256)


def keys_of_shard(shard: int, shards: int, count: int) -> list[ThumbnailKey]:
    found: list[ThumbnailKey] = []
    n = 0
    while len(found) < count:
        if shard_of(key(n), shards) == shard:
            found.append(key(n))
        n += 1
    return found


def test_shard_is_the_subdirectory_number_modulo_the_count() -> None:
    for n in range(300):
        k = key(n)
        for shards in (1, 2, 3, 7):
            expected = int(cache_name(k)[:2], 16) % shards
            assert shard_of(k, shards) == expected
            assert shard_of(ThumbnailKey(k.url, k.size), shards) == expected  # stable
    assert {shard_of(key(n), 1) for n in range(50)} == {0}


def test_shards_split_the_keys_roughly_evenly() -> None:
    counts = [0, 0]
    for n in range(1000):
        counts[shard_of(key(n), 2)] += 1
    assert min(counts) > 400


def test_shard_of_depends_on_the_size_too() -> None:
    """Two sizes of one image are two cache files, possibly in different shards."""
    sizes = {shard_of(ThumbnailKey("https://cdn.test/a.jpg", size), 2) for size in range(64)}
    assert sizes == {0, 1}


def test_shard_is_a_fixed_set_of_subdirectories(tmp_path: Path) -> None:
    """The subdirectory a key lands in is in its shard's set, whatever the writer's shard was."""
    for shard in (0, 1):
        cache = DiskCache(tmp_path, 10**6, shard=(shard, 2))
        for k in keys_of_shard(shard, 2, 10):
            assert int(cache.path_for(k).parent.name, 16) % 2 == shard


def write_both(tmp_path: Path) -> tuple[list[ThumbnailKey], list[ThumbnailKey]]:
    """Five 100-byte files per shard, written by each shard's own cache."""
    evens, odds = keys_of_shard(0, 2, 5), keys_of_shard(1, 2, 5)
    even_cache = DiskCache(tmp_path, 10**6, shard=(0, 2))
    odd_cache = DiskCache(tmp_path, 10**6, shard=(1, 2))
    for k in evens:
        even_cache.write(k, b"e" * 100)
    for k in odds:
        odd_cache.write(k, b"o" * 100)
    return evens, odds


def test_a_fresh_scan_sees_only_its_own_shard(tmp_path: Path) -> None:
    evens, odds = write_both(tmp_path)
    even_cache = DiskCache(tmp_path, 10**6, shard=(0, 2))
    odd_cache = DiskCache(tmp_path, 10**6, shard=(1, 2))
    whole = DiskCache(tmp_path, 10**6)

    assert all(even_cache.contains(k) for k in evens)
    assert not any(even_cache.contains(k) for k in odds)
    assert all(odd_cache.contains(k) for k in odds)
    assert not any(odd_cache.contains(k) for k in evens)
    assert even_cache.total_bytes == odd_cache.total_bytes == 500
    assert whole.contains(evens[0])
    assert whole.contains(odds[0])
    assert whole.total_bytes == 1000  # the unsharded cache is the same layout


def test_a_stray_directory_belongs_to_no_shard(tmp_path: Path) -> None:
    write_both(tmp_path)
    stray = tmp_path / "zz"
    stray.mkdir()
    (stray / f"zz{'0' * 62}.jpg").write_bytes(b"x" * 100)
    (tmp_path / "abc").mkdir()  # three characters: not a cache subdirectory
    even_cache = DiskCache(tmp_path, 10**6, shard=(0, 2))
    odd_cache = DiskCache(tmp_path, 10**6, shard=(1, 2))
    even_cache.load_index()
    odd_cache.load_index()
    assert even_cache.total_bytes == odd_cache.total_bytes == 500


def test_eviction_in_one_shard_never_deletes_the_others_files(tmp_path: Path) -> None:
    evens, odds = write_both(tmp_path)
    odd_files = {k: DiskCache(tmp_path, 1).path_for(k) for k in odds}

    small_even = DiskCache(tmp_path, 250, shard=(0, 2))  # 500 bytes on disk: evicts at once
    assert small_even.total_bytes == 0  # nothing scanned before first use
    small_even.load_index()
    assert small_even.total_bytes <= 225  # down to the low water mark of its own cap
    assert all(path.exists() for path in odd_files.values())
    assert sum(small_even.path_for(k).exists() for k in evens) == 2

    for n, k in enumerate(keys_of_shard(0, 2, 12)[5:]):  # writes over the cap, again and again
        small_even.write(k, bytes([n]) * 100)
        assert all(path.exists() for path in odd_files.values())

    odd_cache = DiskCache(tmp_path, 10**6, shard=(1, 2))
    assert odd_cache.total_bytes == 0
    assert all(odd_cache.read(k) == b"o" * 100 for k in odds)
    assert odd_cache.total_bytes == 500


def test_stale_temporary_files_are_cleaned_only_in_ones_own_shard(tmp_path: Path) -> None:
    evens, odds = write_both(tmp_path)
    caches = {s: DiskCache(tmp_path, 10**6, shard=(s, 2)) for s in (0, 1)}
    temps = {}
    for shard, k in ((0, evens[0]), (1, odds[0])):
        folder = caches[shard].path_for(k).parent
        temp = folder / ".tmp-1-2-3.part"
        temp.write_bytes(b"partial")
        os.utime(temp, (1_000_000, 1_000_000))  # decades old: left by a crash
        temps[shard] = temp
    caches[0].load_index()
    assert not temps[0].exists()
    assert temps[1].exists()


@pytest.mark.parametrize("shard", [(2, 2), (-1, 2), (0, 0), (3, 1)])
def test_invalid_shard_is_refused(tmp_path: Path, shard: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="invalid disk cache shard"):
        DiskCache(tmp_path, 10**6, shard=shard)
    assert list(tmp_path.iterdir()) == []  # refused before touching the folder
