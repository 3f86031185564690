"""The shared pixel ring: where RingWriter puts pixels, when it refuses, and reading them back."""

from __future__ import annotations

import mmap
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest

from qamera_desktop.core.thumbnails import pixel_ring
from qamera_desktop.core.thumbnails.pixel_ring import (
    RING_BYTES,
    RingWriter,
    create_ring,
    open_ring,
    read_pixels,
)

needs_memfd = pytest.mark.skipif(
    not hasattr(os, "memfd_create"), reason="shared memory files are Linux only"
)


def anonymous(size: int) -> mmap.mmap:
    """A private mapping to write a ring into (RingWriter does not care where it lives)."""
    return mmap.mmap(-1, size)


@pytest.fixture
def ring_of() -> Iterator[Callable[[int], mmap.mmap]]:
    made: list[mmap.mmap] = []

    def make(size: int) -> mmap.mmap:
        ring = anonymous(size)
        made.append(ring)
        return ring

    yield make
    for ring in made:
        ring.close()


def fd_is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


# ==================================================================================== RingWriter
def test_puts_go_one_after_another_with_growing_end_positions(
    ring_of: Callable[[int], mmap.mmap],
) -> None:
    ring = ring_of(100)
    writer = RingWriter(ring)
    assert writer.put(b"a" * 10) == (0, 10)
    assert writer.put(b"b" * 25) == (10, 35)
    assert writer.put(b"c" * 5) == (35, 40)
    assert ring[0:40] == b"a" * 10 + b"b" * 25 + b"c" * 5
    assert ring[40:100] == bytes(60)  # nothing written past the last piece


def test_data_of_exactly_the_ring_size_fits_an_empty_ring(
    ring_of: Callable[[int], mmap.mmap],
) -> None:
    ring = ring_of(64)
    writer = RingWriter(ring)
    data = bytes(range(64))
    assert writer.put(data) == (0, 64)
    assert ring[:] == data
    assert writer.put(b"x") is None  # full until released


def test_data_that_would_wrap_skips_the_tail_and_starts_at_offset_zero(
    ring_of: Callable[[int], mmap.mmap],
) -> None:
    ring = ring_of(100)
    writer = RingWriter(ring)
    assert writer.put(b"a" * 60) == (0, 60)
    writer.release(60)
    # 60 more would run from 60 to 120: the 40 bytes at the end are skipped instead
    assert writer.put(b"b" * 60) == (0, 160)
    assert ring[0:60] == b"b" * 60
    assert ring[60:100] == bytes(40)  # the skipped tail is left alone
    # the next piece follows on from position 160 (offset 60)
    writer.release(160)
    assert writer.put(b"c" * 40) == (60, 200)
    assert ring[60:100] == b"c" * 40


def test_a_piece_that_ends_exactly_at_the_end_of_the_ring_does_not_skip(
    ring_of: Callable[[int], mmap.mmap],
) -> None:
    ring = ring_of(100)
    writer = RingWriter(ring)
    assert writer.put(b"a" * 70) == (0, 70)
    assert writer.put(b"b" * 30) == (70, 100)
    writer.release(100)
    assert writer.put(b"c" * 10) == (0, 110)  # position 100 is offset 0: nothing skipped


def test_a_full_ring_refuses_until_the_app_releases(ring_of: Callable[[int], mmap.mmap]) -> None:
    ring = ring_of(100)
    writer = RingWriter(ring)
    assert writer.put(b"a" * 40) == (0, 40)
    assert writer.put(b"b" * 40) == (40, 80)
    assert writer.put(b"c" * 40) is None  # would skip to 100 and end at 140: past 0 + 100
    assert writer.put(b"c" * 40) is None  # refusing changes nothing
    assert ring[0:80] == b"a" * 40 + b"b" * 40  # unread pixels are not overwritten
    assert writer.put(b"d" * 20) == (80, 100)  # what still fits goes in
    assert writer.put(b"e") is None

    writer.release(40)  # the first piece was copied out
    assert writer.put(b"c" * 40) == (0, 140)
    assert ring[0:40] == b"c" * 40
    assert ring[40:100] == b"b" * 40 + b"d" * 20
    assert writer.put(b"f") is None  # 140 + 1 - 40 > 100


def test_release_is_clamped_to_what_was_written(ring_of: Callable[[int], mmap.mmap]) -> None:
    ring = ring_of(100)
    writer = RingWriter(ring)
    assert writer.put(b"a" * 40) == (0, 40)
    writer.release(10**9)  # a corrupt or stale Consumed cannot give back more than was written
    assert writer.put(b"b" * 60) == (40, 100)
    assert writer.put(b"c" * 40) == (0, 140)
    # Released stands at 40 (not 10**9): the ring holds 100 unread bytes and refuses more
    assert writer.put(b"d") is None
    assert ring[40:100] == b"b" * 60


def test_release_never_goes_backwards(ring_of: Callable[[int], mmap.mmap]) -> None:
    ring = ring_of(100)
    writer = RingWriter(ring)
    assert writer.put(b"a" * 50) == (0, 50)
    assert writer.put(b"b" * 50) == (50, 100)
    writer.release(100)
    writer.release(20)  # an older Consumed arriving late: ignored
    writer.release(0)
    assert writer.put(b"c" * 100) == (0, 200)


def test_release_before_anything_was_written_changes_nothing(
    ring_of: Callable[[int], mmap.mmap],
) -> None:
    ring = ring_of(100)
    writer = RingWriter(ring)
    writer.release(500)  # clamped to 0
    assert writer.put(b"a" * 100) == (0, 100)
    assert writer.put(b"b") is None


@pytest.mark.parametrize("length", [0, 101, 10_000])
def test_empty_or_oversized_data_is_refused(
    ring_of: Callable[[int], mmap.mmap], length: int
) -> None:
    ring = ring_of(100)
    writer = RingWriter(ring)
    assert writer.put(b"z" * length) is None
    assert ring[:] == bytes(100)
    assert writer.put(b"a" * 100) == (0, 100)  # the refusal used no room


def test_positions_only_grow_and_offsets_are_positions_modulo_the_size(
    ring_of: Callable[[int], mmap.mmap],
) -> None:
    size = 1000
    ring = ring_of(size)
    writer = RingWriter(ring)
    last_end = 0
    for n in range(500):
        length = 1 + (n * 37) % 300
        data = bytes([n % 256]) * length
        placed = writer.put(data)
        assert placed is not None
        offset, end = placed
        assert end > last_end
        assert offset + length <= size  # never wraps
        assert offset == (end - length) % size
        # either it follows on, or the tail was skipped and it starts the next turn at 0
        assert end - length == last_end or (offset == 0 and end - length > last_end)
        assert read_pixels(ring, offset, length) == data
        writer.release(end)
        last_end = end
    assert last_end > 50 * size  # went round many times


# ==================================================================================== read_pixels
def test_read_pixels_returns_a_copy_of_the_piece(ring_of: Callable[[int], mmap.mmap]) -> None:
    ring = ring_of(32)
    ring[:] = bytes(range(32))
    pixels = read_pixels(ring, 5, 10)
    assert type(pixels) is bytes
    assert pixels == bytes(range(5, 15))
    assert read_pixels(ring, 0, 32) == bytes(range(32))
    assert read_pixels(ring, 31, 1) == b"\x1f"
    ring[5:15] = b"\xff" * 10  # the worker writes there again later
    assert pixels == bytes(range(5, 15))


@pytest.mark.parametrize(
    ("offset", "length"),
    [
        (-1, 3),  # before the ring
        (-40, 10),
        (0, 0),  # nothing
        (3, -3),
        (30, 3),  # runs past the end
        (32, 1),  # starts at the end
        (100, 1),  # far outside
        (0, 33),  # longer than the ring
    ],
)
def test_read_pixels_refuses_pieces_outside_the_ring(
    ring_of: Callable[[int], mmap.mmap], offset: int, length: int
) -> None:
    ring = ring_of(32)
    with pytest.raises(ValueError, match="not inside a ring of 32"):
        read_pixels(ring, offset, length)


# ==================================================================================== create/open
@needs_memfd
def test_create_ring_makes_a_close_on_exec_descriptor_and_a_mapping_of_that_size() -> None:
    made = create_ring(8192)
    assert made is not None
    fd, ring = made
    try:
        assert not os.get_inheritable(fd)  # only a child given it with pass_fds gets it
        assert len(ring) == 8192
        assert os.fstat(fd).st_size == 8192
        ring[100:105] = b"hello"
        assert os.pread(fd, 5, 100) == b"hello"  # the mapping is the file's memory, shared
    finally:
        ring.close()
        os.close(fd)


@needs_memfd
def test_create_ring_defaults_to_ring_bytes() -> None:
    made = create_ring()
    assert made is not None
    fd, ring = made
    try:
        assert len(ring) == RING_BYTES == 4 * 2**20
    finally:
        ring.close()
        os.close(fd)


@pytest.mark.parametrize("size", [0, -1])
def test_create_ring_of_no_size_is_none(size: int) -> None:
    assert create_ring(size) is None


def test_create_ring_without_memfd_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "memfd_create", raising=False)
    assert create_ring(4096) is None


def test_create_ring_is_none_when_memfd_create_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str, flags: int = 0) -> int:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(os, "memfd_create", refuse, raising=False)
    assert create_ring(4096) is None


class Interrupted(BaseException):
    pass


def raise_no_space(*args: object) -> None:
    raise OSError(28, "No space left on device")


def raise_interrupted(*args: object) -> None:
    raise Interrupted


def record_memfds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The descriptors os.memfd_create hands out from now on, in order."""
    made: list[int] = []
    real_memfd_create = os.memfd_create

    def recording(name: str, flags: int = os.MFD_CLOEXEC) -> int:
        fd = real_memfd_create(name, flags)
        made.append(fd)
        return fd

    monkeypatch.setattr(os, "memfd_create", recording)
    return made


@needs_memfd
@pytest.mark.parametrize(
    ("target", "failure"),
    [("ftruncate", raise_no_space), ("mmap", raise_no_space)],
    ids=["ftruncate", "mmap"],
)
def test_create_ring_is_none_and_closes_its_descriptor_when_it_cannot_be_sized_or_mapped(
    monkeypatch: pytest.MonkeyPatch, target: str, failure: Callable[..., None]
) -> None:
    made = record_memfds(monkeypatch)
    if target == "ftruncate":
        monkeypatch.setattr(os, "ftruncate", failure)
    else:
        monkeypatch.setattr(pixel_ring, "mmap", SimpleNamespace(mmap=failure))
    assert create_ring(4096) is None  # the frames carry the pixels instead
    assert len(made) == 1
    assert not fd_is_open(made[0])


@needs_memfd
def test_create_ring_closes_its_descriptor_when_interrupted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = record_memfds(monkeypatch)
    monkeypatch.setattr(os, "ftruncate", raise_interrupted)
    with pytest.raises(Interrupted):
        create_ring(4096)
    assert len(made) == 1
    assert not fd_is_open(made[0])


@needs_memfd
def test_open_ring_maps_the_same_memory_and_closes_the_descriptor() -> None:
    made = create_ring(4096)
    assert made is not None
    fd, app_side = made
    worker_fd = os.dup(fd)
    try:
        worker_side = open_ring(worker_fd, 4096)
        assert not fd_is_open(worker_fd)  # the mapping keeps the memory, not the descriptor
        try:
            assert len(worker_side) == 4096
            writer = RingWriter(worker_side)
            assert writer.put(b"pixels!") == (0, 7)
            assert read_pixels(app_side, 0, 7) == b"pixels!"
        finally:
            worker_side.close()
    finally:
        app_side.close()
        os.close(fd)


def test_open_ring_closes_the_descriptor_even_when_it_cannot_map() -> None:
    read_end, write_end = os.pipe()  # a pipe cannot be mapped
    try:
        with pytest.raises((OSError, ValueError)):
            open_ring(read_end, 4096)
        assert not fd_is_open(read_end)
    finally:
        os.close(write_end)


CHILD_WRITER = """\
import sys
from qamera_desktop.core.thumbnails.pixel_ring import RingWriter, open_ring

ring = open_ring(int(sys.argv[1]), int(sys.argv[2]))
writer = RingWriter(ring)
for n in range(5):
    offset, end = writer.put(bytes([n + 1]) * 1500)
    print(offset, end)
writer.release(3000)
offset, end = writer.put(bytes(range(256)) * 4)  # skips the tail: lands at offset 0
print(offset, end)
ring.close()
"""


@needs_memfd
def test_a_ring_written_by_a_child_process_is_read_back_by_the_parent() -> None:
    made = create_ring(8192)
    assert made is not None
    fd, ring = made
    try:
        result = subprocess.run(
            [sys.executable, "-c", CHILD_WRITER, str(fd), str(len(ring))],
            pass_fds=(fd,),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        placed = [tuple(int(v) for v in line.split()) for line in result.stdout.splitlines()]
        assert placed == [
            (0, 1500),
            (1500, 3000),
            (3000, 4500),
            (4500, 6000),
            (6000, 7500),
            (0, 8192 + 1024),
        ]
        assert read_pixels(ring, 0, 1024) == bytes(range(256)) * 4
        for n in range(1, 5):  # the ones not overwritten by the last piece
            offset = placed[n][0]
            assert read_pixels(ring, offset, 1500) == bytes([n + 1]) * 1500
        assert read_pixels(ring, 1024, 476) == bytes([1]) * 476  # the rest of the first
        assert ring[7500:8192] == bytes(692)  # the skipped tail
    finally:
        ring.close()
        os.close(fd)
