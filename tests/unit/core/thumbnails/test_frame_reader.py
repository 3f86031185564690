"""The app's frame reader (process_pipeline._FrameReader), driven the way asyncio drives it:
get_buffer(), bytes copied in, buffer_updated(n), with a stand-in transport."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Iterable

import pytest

from qamera_desktop.core.thumbnails.process_pipeline import _LARGE_FRAME, _STAGING, _FrameReader
from qamera_desktop.core.thumbnails.worker_protocol import HEADER, MAX_FRAME


class FakeTransport(asyncio.Transport):
    """Only what the reader asks of its transport."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False
        self.aborted = 0

    def is_closing(self) -> bool:
        return self.closing

    def abort(self) -> None:
        self.aborted += 1
        self.closing = True

    def close(self) -> None:
        self.closing = True


class Harness:
    """A reader connected to a FakeTransport, recording the frames and the loss it reports."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.kinds: list[type] = []
        self.lost = 0
        self.transport = FakeTransport()
        self.reader = _FrameReader(self.on_frame, self.on_lost)
        self.reader.connection_made(self.transport)
        self.reads = 0

    def on_frame(self, body: bytearray) -> None:
        self.kinds.append(type(body))
        self.frames.append(bytes(body))

    def on_lost(self) -> None:
        self.lost += 1

    def read(self, data: bytes | memoryview) -> int:
        """One read of the socket: as much of `data` as the reader's buffer takes; the count."""
        buffer = self.reader.get_buffer(-1)
        assert len(buffer) > 0  # asyncio refuses an empty buffer: the stream would stall
        n = min(len(buffer), len(data))
        buffer[:n] = data[:n]
        self.reads += 1
        self.reader.buffer_updated(n)
        return n

    def feed(self, data: bytes, chunks: Iterable[int] = ()) -> None:
        """Deliver `data`, reads of at most the sizes in `chunks` (then as much as fits)."""
        view = memoryview(data)
        sizes = iter(chunks)
        while view:
            limit = next(sizes, len(view))
            taken = self.read(view[:limit])
            view = view[taken:]


def framed(*bodies: bytes) -> bytes:
    return b"".join(HEADER.pack(len(body)) + body for body in bodies)


def body(length: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(length)


# ==================================================================================== small frames
def test_several_small_frames_in_one_read_all_come_out_in_order() -> None:
    bodies = [b"first", b"second frame", b"3", body(5000, 1), b"last"]
    harness = Harness()
    assert harness.read(framed(*bodies)) == len(framed(*bodies))
    assert harness.frames == bodies
    assert harness.reads == 1
    assert all(kind is bytearray for kind in harness.kinds)  # what the decoder is given


def test_a_zero_length_frame_is_passed_on_as_empty() -> None:
    harness = Harness()
    harness.feed(framed(b"", b"after", b""))
    assert harness.frames == [b"", b"after", b""]


def test_a_frame_of_exactly_large_frame_bytes_is_still_read_through_the_staging_buffer() -> None:
    data = body(_LARGE_FRAME, 2)
    harness = Harness()
    harness.feed(framed(data, b"x"), chunks=[1000] * 1000)
    assert harness.frames == [data, b"x"]


SPLIT_BODIES = [b"", b"abc", body(300, 3), b"\x00\x01", body(1, 4)]


def test_frames_split_at_any_byte_arrive_whole() -> None:
    """Every cut: inside a header, between header and body, inside a body, between frames."""
    stream = framed(*SPLIT_BODIES)
    for cut in range(1, len(stream)):
        harness = Harness()
        harness.feed(stream, chunks=[cut])
        assert harness.reads == 2
        assert harness.frames == SPLIT_BODIES, f"cut at byte {cut}"


def test_frames_arriving_one_byte_at_a_time_arrive_whole() -> None:
    bodies = [body(n, n) for n in (0, 1, 2, 3, 4, 5, 200, 1000)]
    stream = framed(*bodies)
    harness = Harness()
    harness.feed(stream, chunks=[1] * len(stream))
    assert harness.frames == bodies
    assert harness.reads == len(stream)


def test_nothing_is_handed_on_before_a_frame_is_whole() -> None:
    data = body(100, 5)
    stream = framed(data)
    harness = Harness()
    for n in range(len(stream) - 1):
        harness.read(stream[n : n + 1])
        assert harness.frames == []
    harness.read(stream[-1:])
    assert harness.frames == [data]


# ==================================================================================== large frames
@pytest.mark.parametrize(
    "length",
    [_LARGE_FRAME + 1, _STAGING - HEADER.size, _STAGING, _STAGING + 1, 3 * _STAGING + 17, 2**21],
)
@pytest.mark.parametrize("chunk", [4, 4096, 65_536, 1 << 30], ids=lambda c: f"reads-of-{c}")
def test_a_large_frame_delivered_in_pieces_arrives_whole(length: int, chunk: int) -> None:
    data = body(length, length)
    stream = framed(data)
    harness = Harness()
    harness.feed(stream, chunks=itertools.repeat(chunk))
    assert len(harness.frames) == 1
    assert harness.frames[0] == data


def test_a_large_frame_arriving_one_byte_at_a_time_arrives_whole() -> None:
    data = body(_LARGE_FRAME + 1, 14)
    stream = framed(data, b"next")
    harness = Harness()
    harness.feed(stream, chunks=[1] * len(stream))
    assert harness.frames == [data, b"next"]


def test_a_large_frame_is_read_into_its_own_buffer() -> None:
    """After the first read, the rest of a large body goes straight into the frame's buffer."""
    length = 4 * _STAGING
    data = body(length, 6)
    harness = Harness()
    harness.read(framed(data)[:1000])  # the header and the start of the body
    buffer = harness.reader.get_buffer(-1)
    assert len(buffer) == length - (1000 - HEADER.size)  # exactly the rest of the body
    harness.feed(framed(data)[1000:])
    assert harness.frames == [data]
    assert harness.reads == 2  # the whole rest in one read


@pytest.mark.parametrize("prefix", [0, 1, 3, 4, 5, 1000])
def test_small_frames_before_and_after_a_large_one(prefix: int) -> None:
    """Small frames, a large one starting mid-read, then small ones again: all in order."""
    large = body(_LARGE_FRAME * 3, 7)
    before = [body(prefix, 8), b"b"]
    after = [b"after", body(10_000, 9), b""]
    harness = Harness()
    harness.feed(framed(*before, large, *after))
    assert harness.frames == [*before, large, *after]


def test_a_small_frame_after_a_large_one_in_the_same_write() -> None:
    large = body(_STAGING * 2, 10)
    stream = framed(large, b"tiny", b"tinier")
    for chunk in (7, 1000, 65_536, len(stream)):
        harness = Harness()
        harness.feed(stream, chunks=itertools.repeat(chunk))
        assert harness.frames == [large, b"tiny", b"tinier"], chunk


def test_frames_handed_on_are_not_changed_by_later_reads() -> None:
    """The reader reuses its staging buffer: a frame kept by the receiver must be a copy."""
    kept: list[bytearray] = []
    reader = _FrameReader(kept.append, lambda: None)
    reader.connection_made(FakeTransport())
    first = body(1000, 11)
    for data in (framed(first), framed(body(1000, 12)), framed(body(_STAGING - 100, 13))):
        buffer = reader.get_buffer(-1)
        buffer[: len(data)] = data
        reader.buffer_updated(len(data))
    assert bytes(kept[0]) == first


# ==================================================================================== corrupt
def test_a_header_announcing_more_than_max_frame_aborts_and_nothing_after_is_delivered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness = Harness()
    stream = framed(b"before") + HEADER.pack(MAX_FRAME + 1) + framed(b"after", b"more")
    with caplog.at_level(logging.ERROR, logger="qamera_desktop.core.thumbnails"):
        harness.read(stream)
    assert harness.frames == [b"before"]
    assert harness.transport.aborted == 1
    assert any("stream is corrupt" in r.message for r in caplog.records)
    # a read that was already under way when it aborted hands on nothing either
    harness.read(framed(b"late"))
    assert harness.frames == [b"before"]
    assert harness.transport.aborted == 1


def test_a_header_of_exactly_max_frame_is_not_corrupt() -> None:
    harness = Harness()
    harness.read(HEADER.pack(MAX_FRAME) + b"start")
    assert harness.transport.aborted == 0
    # it is read into a buffer of its own, the size announced
    assert len(harness.reader.get_buffer(-1)) == MAX_FRAME - len(b"start")


def test_a_corrupt_header_split_across_reads_aborts() -> None:
    harness = Harness()
    header = HEADER.pack(2**32 - 1)
    harness.feed(framed(b"ok") + header + b"junk", chunks=[3, 3, 2, 1, 100])
    assert harness.frames == [b"ok"]
    assert harness.transport.aborted == 1


def test_frames_are_not_handed_on_once_the_transport_is_closing() -> None:
    """A receiver that refuses a frame (unreadable: it aborts) gets no more from that read."""
    harness = Harness()

    def refuse_second(body: bytearray) -> None:
        harness.frames.append(bytes(body))
        if len(harness.frames) == 2:
            harness.transport.abort()

    harness.reader = _FrameReader(refuse_second, harness.on_lost)
    harness.reader.connection_made(harness.transport)
    harness.read(framed(b"1", b"2", b"3", b"4"))
    assert harness.frames == [b"1", b"2"]


def test_connection_lost_is_reported() -> None:
    harness = Harness()
    harness.reader.connection_lost(None)
    assert harness.lost == 1
    harness.reader.connection_lost(ConnectionResetError())
    assert harness.lost == 2


# ==================================================================================== many frames
def random_sizes(rng: random.Random, count: int) -> list[int]:
    sizes = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.93:
            sizes.append(rng.randrange(0, 3000))  # Progress, Failed, Ready with ring pixels
        elif roll < 0.99:
            sizes.append(rng.randrange(3000, _LARGE_FRAME + 1))  # inline pixels, small
        else:
            sizes.append(rng.randrange(_LARGE_FRAME + 1, 3 * _STAGING))  # inline, large
    sizes[:4] = [0, _LARGE_FRAME, _LARGE_FRAME + 1, _STAGING]  # the edges, for sure
    return sizes


def test_ten_thousand_random_frames_in_random_reads_arrive_byte_for_byte() -> None:
    rng = random.Random(20_261_201)
    sizes = random_sizes(rng, 10_000)
    bodies = [rng.randbytes(size) for size in sizes]
    stream = framed(*bodies)
    assert len(stream) > 100 * _STAGING  # the staging buffer is reused many times over

    def reads() -> Iterable[int]:
        while True:
            roll = rng.random()
            if roll < 0.1:
                yield rng.randrange(1, 8)  # a header cut up
            elif roll < 0.9:
                yield rng.randrange(1, 70_000)
            else:
                yield 1 << 30  # everything the buffer takes

    harness = Harness()
    harness.feed(stream, chunks=reads())
    assert len(harness.frames) == len(bodies)
    for n, (got, sent) in enumerate(zip(harness.frames, bodies, strict=True)):
        assert got == sent, f"frame {n} of {len(sent)} bytes differs"
    assert harness.transport.aborted == 0
    assert harness.reads < len(stream) // 100  # many frames per read, not a read per frame
