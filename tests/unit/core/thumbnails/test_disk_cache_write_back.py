"""DiskCache's write-back buffer: `write()` keeps the bytes in memory, `flush()` writes the files.

Real files under tmp_path, real threads; a few tests wrap `_write_file` to interleave a flush with
an eviction, a discard or a rewrite at a known point.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qamera_desktop.core.thumbnails import ThumbnailKey
from qamera_desktop.core.thumbnails.disk_cache import DiskCache, cache_name

BIG = 10_000_000  # a cap or a buffer that nothing in these tests reaches
WAIT = 10.0  # seconds a test thread waits for an event before the test fails


def key(n: int) -> ThumbnailKey:
    return ThumbnailKey(f"https://cdn.test/{n}.jpg", 256)


def payload(n: int, size: int = 100) -> bytes:
    """`size` bytes that differ from key to key."""
    return (f"#{n}:".encode() + bytes([n % 251]) * size)[:size]


def cache_files(root: Path) -> set[str]:
    return {p.name for p in root.rglob("*") if p.is_file()}


def temp_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.name.startswith(".tmp-") or p.suffix == ".part")


def keys_in_other_folders(avoid: str, count: int, start: int = 1) -> list[ThumbnailKey]:
    """Keys whose subfolder (first two hex digits of the name) is not `avoid`."""
    found: list[ThumbnailKey] = []
    n = start
    while len(found) < count:
        if cache_name(key(n))[:2] != avoid:
            found.append(key(n))
        n += 1
    return found


def rescanned(root: Path) -> DiskCache:
    fresh = DiskCache(root, BIG)
    fresh.load_index()
    return fresh


class Gate:
    """Wraps a cache's `_write_file`: the write of `target` waits for `proceed`, before the file
    is written (when="before") or after it is in place (when="after"). Counts every write."""

    def __init__(self, cache: DiskCache, target: ThumbnailKey, when: str) -> None:
        self.cache = cache
        self.target = cache_name(target)
        self.when = when
        self.reached = threading.Event()
        self.proceed = threading.Event()
        self.done = threading.Event()
        self.writes: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._real = cache._write_file
        self._held = False

    def __call__(self, name: str, data: bytes) -> None:
        with self._lock:
            self.writes[name] += 1
            hold = name == self.target and not self._held
            self._held = self._held or hold
        if hold and self.when == "before":
            self.reached.set()
            assert self.proceed.wait(WAIT)
        self._real(name, data)
        if hold and self.when == "after":
            self.reached.set()
            assert self.proceed.wait(WAIT)
        if hold:
            self.done.set()


@pytest.fixture
def flush_in_thread() -> Iterator[Callable[[DiskCache], threading.Thread]]:
    """Start `cache.flush()` in a thread; its errors fail the test at teardown."""
    threads: list[threading.Thread] = []
    errors: list[BaseException] = []

    def start(cache: DiskCache) -> threading.Thread:
        def run() -> None:
            try:
                cache.flush()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=run, name="test-flush")
        thread.start()
        threads.append(thread)
        return thread

    yield start
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


# ===================================================================================== writes
def test_buffered_write_makes_no_file_but_is_contained_read_and_counted(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=1000)
    cache.write(key(1), b"abc")
    cache.write(key(2), b"hello")

    assert cache_files(tmp_path) == set()
    assert not cache.path_for(key(1)).exists()
    assert cache.contains(key(1))
    assert cache.contains(key(2))
    assert cache.read(key(1)) == b"abc"
    assert cache.read(key(2)) == b"hello"
    assert cache.total_bytes == 8
    assert cache.pending_bytes == 8
    assert cache_files(tmp_path) == set()  # reading did not write either
    assert not rescanned(tmp_path).contains(key(1))


def test_flush_writes_the_exact_bytes_under_the_expected_paths(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=BIG)
    for n in range(20):
        cache.write(key(n), payload(n, 50 + n))

    assert cache.flush() == 20

    assert cache.pending_bytes == 0
    assert cache_files(tmp_path) == {cache_name(key(n)) for n in range(20)}
    for n in range(20):
        path = cache.path_for(key(n))
        assert path == tmp_path / cache_name(key(n))[:2] / cache_name(key(n))
        assert path.read_bytes() == payload(n, 50 + n)
        assert cache.read(key(n)) == payload(n, 50 + n)  # from the file now
    assert temp_files(tmp_path) == []
    assert cache.total_bytes == sum(50 + n for n in range(20))
    assert cache.flush() == 0  # nothing left to write


def test_flush_asks_should_stop_before_each_file(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=BIG)
    for n in range(5):
        cache.write(key(n), payload(n))
    asked: list[int] = []

    def stop_after_two() -> bool:
        asked.append(len(cache_files(tmp_path)))  # how many files were there when asked
        return len(asked) > 2

    assert cache.flush(stop_after_two) == 2
    assert asked == [0, 1, 2]  # once before each file, then the "stop"
    assert cache_files(tmp_path) == {cache_name(key(0)), cache_name(key(1))}  # oldest first
    assert cache.pending_bytes == 300

    assert cache.flush(lambda: True) == 0  # stopped before the first file
    assert cache.pending_bytes == 300
    assert cache.flush() == 3
    assert cache_files(tmp_path) == {cache_name(key(n)) for n in range(5)}
    assert cache.pending_bytes == 0


def test_overflow_writes_the_oldest_entries_and_stays_under_the_bound(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=250)
    cache.write(key(1), payload(1))
    cache.write(key(2), payload(2))
    assert cache_files(tmp_path) == set()
    assert cache.pending_bytes == 200

    cache.write(key(3), payload(3))  # 300 > 250: the oldest goes to disk
    assert cache_files(tmp_path) == {cache_name(key(1))}
    assert cache.path_for(key(1)).read_bytes() == payload(1)
    assert cache.pending_bytes == 200

    assert cache.read(key(2)) == payload(2)  # reading does not change the write order
    cache.write(key(4), payload(4))
    assert cache_files(tmp_path) == {cache_name(key(1)), cache_name(key(2))}
    assert cache.pending_bytes == 200
    assert cache.total_bytes == 400
    assert all(cache.read(key(n)) == payload(n) for n in (1, 2, 3, 4))

    cache.write(key(5), payload(5, 240))  # 440: two files to get back under 250
    assert cache_files(tmp_path) == {cache_name(key(n)) for n in (1, 2, 3, 4)}
    assert cache.pending_bytes == 240


def test_a_buffer_exactly_full_does_not_overflow(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=200)
    cache.write(key(1), payload(1))
    cache.write(key(2), payload(2))
    assert cache.pending_bytes == 200
    assert cache_files(tmp_path) == set()


def test_data_larger_than_the_buffer_is_written_at_once(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=100)
    cache.write(key(1), payload(1, 40))
    cache.write(key(2), payload(2, 101))

    assert cache_files(tmp_path) == {cache_name(key(2))}
    assert cache.path_for(key(2)).read_bytes() == payload(2, 101)
    assert cache.pending_bytes == 40  # the small one still waits
    assert cache.total_bytes == 141
    cache.write(key(3), payload(3, 100))  # exactly the buffer's size: it waits too
    assert cache_files(tmp_path) == {cache_name(key(2)), cache_name(key(1))}  # 140 > 100
    assert cache.pending_bytes == 100


def test_a_waiting_entry_rewritten_larger_than_the_buffer_goes_to_disk(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=100)
    cache.write(key(1), payload(1, 50))
    cache.write(key(1), payload(7, 150))
    assert cache.pending_bytes == 0
    assert cache.total_bytes == 150
    assert cache.path_for(key(1)).read_bytes() == payload(7, 150)
    assert cache.flush() == 0  # the old bytes are not written over the new file
    assert cache.path_for(key(1)).read_bytes() == payload(7, 150)
    assert cache.read(key(1)) == payload(7, 150)


def test_no_buffer_writes_every_file_at_once(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG)  # write_back_bytes=0, the default
    assert cache.write_back_bytes == 0
    for n in range(5):
        cache.write(key(n), payload(n))
        assert cache.path_for(key(n)).read_bytes() == payload(n)
    assert cache.pending_bytes == 0
    assert cache.total_bytes == 500
    assert cache.flush() == 0
    assert rescanned(tmp_path).total_bytes == 500


def test_rewriting_a_waiting_key_replaces_its_bytes(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=1000)
    cache.write(key(1), payload(1, 100))
    cache.write(key(2), payload(2, 100))
    cache.write(key(1), payload(9, 30))

    assert cache.pending_bytes == 130  # not 230
    assert cache.total_bytes == 130
    assert cache.read(key(1)) == payload(9, 30)
    assert cache.flush() == 2  # one file per key
    assert cache.path_for(key(1)).read_bytes() == payload(9, 30)
    assert cache.pending_bytes == 0
    assert rescanned(tmp_path).total_bytes == 130


def test_rewriting_a_written_key_into_the_buffer(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=1000)
    cache.write(key(1), payload(1))
    cache.flush()
    cache.write(key(1), payload(5, 60))
    assert cache.read(key(1)) == payload(5, 60)  # the buffer wins over the older file
    assert cache.total_bytes == 60
    assert cache.pending_bytes == 60
    assert cache.flush() == 1
    assert cache.path_for(key(1)).read_bytes() == payload(5, 60)


# ===================================================================================== eviction
def test_a_waiting_entry_evicted_is_never_written(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 250, write_back_bytes=BIG)
    for n in (1, 2, 3):  # 300 > 250: evict down to 225, the least recently used first
        cache.write(key(n), payload(n))

    assert not cache.contains(key(1))
    assert cache.read(key(1)) is None
    assert cache.total_bytes == 200
    assert cache.pending_bytes == 200
    assert cache.flush() == 2
    assert cache_files(tmp_path) == {cache_name(key(2)), cache_name(key(3))}
    assert cache.total_bytes == 200


def test_reading_a_waiting_entry_makes_it_the_most_recently_used(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 350, write_back_bytes=BIG)
    for n in (1, 2, 3):
        cache.write(key(n), payload(n))
    assert cache.read(key(1)) == payload(1)
    cache.write(key(4), payload(4))  # 400 > 350: down to 315, so one goes: 2, not 1

    assert cache.contains(key(1))
    assert not cache.contains(key(2))
    assert cache.pending_bytes == 300
    assert cache.flush() == 3
    assert cache_files(tmp_path) == {cache_name(key(n)) for n in (1, 3, 4)}


def test_discarding_a_waiting_entry(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=BIG)
    cache.write(key(1), payload(1))
    cache.write(key(2), payload(2, 70))
    cache.discard(key(1))

    assert not cache.contains(key(1))
    assert cache.read(key(1)) is None
    assert cache.pending_bytes == 70
    assert cache.total_bytes == 70
    assert cache.flush() == 1
    assert cache_files(tmp_path) == {cache_name(key(2))}


# ===================================================================================== restart
def test_a_waiting_entry_reaches_a_new_cache_only_after_flush(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=BIG)
    cache.write(key(1), payload(1))
    cache.write(key(2), payload(2, 30))

    before = rescanned(tmp_path)
    assert not before.contains(key(1))
    assert before.read(key(1)) is None
    assert before.total_bytes == 0

    cache.flush()
    after = rescanned(tmp_path)
    assert after.contains(key(1))
    assert after.contains(key(2))
    assert after.total_bytes == 130
    assert after.read(key(1)) == payload(1)
    assert after.read(key(2)) == payload(2, 30)


# ===================================================================================== errors
def test_a_blocked_folder_drops_only_its_entry(tmp_path: Path) -> None:
    """The bad key's subfolder is a file: its write fails, the others wait for the next flush."""
    bad = key(0)
    folder = cache_name(bad)[:2]
    others = keys_in_other_folders(folder, 4)
    cache = DiskCache(tmp_path, BIG, write_back_bytes=BIG)
    cache.write(bad, payload(0))  # the oldest: flushed first
    for n, k in enumerate(others, start=1):
        cache.write(k, payload(n))
    (tmp_path / folder).write_bytes(b"in the way")

    with pytest.raises((FileExistsError, NotADirectoryError)):
        cache.flush()

    assert not cache.contains(bad)
    assert cache.read(bad) is None
    assert cache.pending_bytes == 400
    assert cache.total_bytes == 400
    assert all(cache.contains(k) for k in others)
    assert cache.flush() == 4
    for n, k in enumerate(others, start=1):
        assert cache.path_for(k).read_bytes() == payload(n)
    assert temp_files(tmp_path) == []
    assert cache.pending_bytes == 0


def test_a_failed_rename_drops_that_entry_and_the_rest_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=BIG)
    for n in range(5):
        cache.write(key(n), payload(n))
    real_replace = os.replace
    calls: list[str] = []

    def replace_failing_once(src: str, dst: str) -> None:
        calls.append(os.path.basename(dst))
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_failing_once)
    with pytest.raises(OSError, match="No space"):
        cache.flush()

    assert calls == [cache_name(key(n)) for n in range(3)]  # oldest first
    assert cache_files(tmp_path) == {cache_name(key(0)), cache_name(key(1))}
    assert temp_files(tmp_path) == []
    assert not cache.contains(key(2))
    assert cache.pending_bytes == 200
    assert cache.total_bytes == 400

    assert cache.flush() == 2
    assert cache_files(tmp_path) == {cache_name(key(n)) for n in (0, 1, 3, 4)}
    assert cache.pending_bytes == 0
    assert rescanned(tmp_path).total_bytes == 400


def test_an_overflow_write_that_fails_raises_and_keeps_the_new_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=150)
    cache.write(key(1), payload(1))

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        cache.write(key(2), payload(2))  # 200 > 150: the write of key 1 fails

    assert not cache.contains(key(1))
    assert cache.read(key(2)) == payload(2)
    assert cache.pending_bytes == 100
    assert cache.total_bytes == 100
    assert temp_files(tmp_path) == []


# ===================================================================================== threads
def test_concurrent_flushes_write_every_entry_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads, count = 4, 200
    cache = DiskCache(tmp_path, BIG, write_back_bytes=BIG)
    for n in range(count):
        cache.write(key(n), payload(n, 64 + n % 50))
    writes: Counter[str] = Counter()
    lock = threading.Lock()
    real_write_file = cache._write_file

    def counting_write_file(name: str, data: bytes) -> None:
        with lock:
            writes[name] += 1
        real_write_file(name, data)

    monkeypatch.setattr(cache, "_write_file", counting_write_file)
    barrier = threading.Barrier(threads)
    results: list[int] = []
    errors: list[BaseException] = []

    def flusher() -> None:
        try:
            barrier.wait(WAIT)
            written = cache.flush()
            with lock:
                results.append(written)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=flusher) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert not any(worker.is_alive() for worker in workers)

    assert errors == []
    assert sum(results) == count
    assert len(results) == threads
    assert writes == Counter({cache_name(key(n)): 1 for n in range(count)})
    assert temp_files(tmp_path) == []
    assert cache_files(tmp_path) == {cache_name(key(n)) for n in range(count)}
    for n in range(count):
        assert cache.path_for(key(n)).read_bytes() == payload(n, 64 + n % 50)
    assert cache.pending_bytes == 0
    assert rescanned(tmp_path).total_bytes == cache.total_bytes


def hold_a_flush(
    cache: DiskCache,
    when: str,
    monkeypatch: pytest.MonkeyPatch,
    flush_in_thread: Callable[[DiskCache], threading.Thread],
) -> tuple[Gate, threading.Thread]:
    """A flush in a thread, held while it writes key 1's file (`when`: before or after it is
    in place), until the gate's `proceed` is set."""
    gate = Gate(cache, key(1), when)
    monkeypatch.setattr(cache, "_write_file", gate)
    thread = flush_in_thread(cache)
    assert gate.reached.wait(WAIT)
    return gate, thread


def test_a_second_flush_skips_the_entry_being_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flush_in_thread: Callable[[DiskCache], threading.Thread],
) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=BIG)
    cache.write(key(1), payload(1))
    cache.write(key(2), payload(2))
    gate, _thread = hold_a_flush(cache, "before", monkeypatch, flush_in_thread)

    assert cache.flush() == 1  # key 2 only: key 1 is another flush's
    assert cache.read(key(1)) == payload(1)  # still readable while its file is written
    assert cache.pending_bytes == 100
    gate.proceed.set()
    assert gate.done.wait(WAIT)
    assert gate.writes == Counter({cache_name(key(1)): 1, cache_name(key(2)): 1})


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("how", ["evicted", "discarded"])
def test_an_entry_dropped_while_its_file_is_written_leaves_no_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flush_in_thread: Callable[[DiskCache], threading.Thread],
    how: str,
    when: str,
) -> None:
    cache = DiskCache(tmp_path, 250, write_back_bytes=BIG)
    cache.write(key(1), payload(1))
    gate, thread = hold_a_flush(cache, when, monkeypatch, flush_in_thread)

    if how == "evicted":
        cache.write(key(2), payload(2))
        cache.write(key(3), payload(3))  # 300 > 250: key 1, the least recently used, goes
    else:
        cache.discard(key(1))
    assert not cache.contains(key(1))
    gate.proceed.set()
    thread.join(WAIT)
    cache.flush()  # whatever the thread did not take

    assert not cache.path_for(key(1)).exists()  # no orphan file
    assert cache.read(key(1)) is None
    assert temp_files(tmp_path) == []
    expected = {cache_name(key(2)), cache_name(key(3))} if how == "evicted" else set()
    assert cache_files(tmp_path) == expected
    assert cache.total_bytes == 100 * len(expected)
    assert cache.pending_bytes == 0
    assert rescanned(tmp_path).total_bytes == cache.total_bytes


def test_an_entry_rewritten_while_its_file_is_written_gets_the_new_bytes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flush_in_thread: Callable[[DiskCache], threading.Thread],
) -> None:
    cache = DiskCache(tmp_path, BIG, write_back_bytes=BIG)
    cache.write(key(1), payload(1))
    gate, thread = hold_a_flush(cache, "before", monkeypatch, flush_in_thread)

    cache.write(key(1), payload(8, 40))  # waits again, with the new bytes
    assert cache.read(key(1)) == payload(8, 40)
    assert cache.pending_bytes == 40
    gate.proceed.set()
    thread.join(WAIT)

    # the old bytes' file did not count for the new ones: the flush went on to write them too
    assert gate.writes == Counter({cache_name(key(1)): 2})
    assert cache.path_for(key(1)).read_bytes() == payload(8, 40)
    assert cache.read(key(1)) == payload(8, 40)
    assert cache.total_bytes == 40
    assert cache.pending_bytes == 0
    assert rescanned(tmp_path).total_bytes == 40


def test_a_write_through_waits_for_the_flush_of_older_bytes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flush_in_thread: Callable[[DiskCache], threading.Thread],
) -> None:
    """Two renames of one name never cross: the last bytes stored are the ones on disk."""
    cache = DiskCache(tmp_path, BIG, write_back_bytes=100)
    cache.write(key(1), payload(1, 50))  # waits
    gate, thread = hold_a_flush(cache, "before", monkeypatch, flush_in_thread)

    # larger than the buffer: its file is written at once, but not while the flush writes one
    writer = threading.Thread(target=cache.write, args=(key(1), payload(2, 150)))
    writer.start()
    writer.join(0.2)
    assert writer.is_alive()
    assert gate.writes[cache_name(key(1))] == 1
    gate.proceed.set()
    thread.join(WAIT)
    writer.join(WAIT)
    assert not writer.is_alive()

    assert gate.writes[cache_name(key(1))] == 2
    assert cache.total_bytes == 150
    assert cache.pending_bytes == 0
    assert cache.path_for(key(1)).read_bytes() == payload(2, 150)
    assert cache.read(key(1)) == payload(2, 150)
