"""Worker frames in batches, pixels through the shared ring, small JPEGs decoded on the loop,
the worker's allocator settings, and the messages that carry all that."""

from __future__ import annotations

import ctypes
import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from PIL import Image

from qamera_desktop import memory
from qamera_desktop.core.thumbnails import DecodedThumbnail, ThumbnailKey
from qamera_desktop.core.thumbnails import pipeline as pipeline_module
from qamera_desktop.core.thumbnails import process_pipeline as process_module
from qamera_desktop.core.thumbnails.decode import decode_thumbnail, quick_to_decode
from qamera_desktop.core.thumbnails.disk_cache import shard_of
from qamera_desktop.core.thumbnails.pixel_ring import RING_BYTES
from qamera_desktop.core.thumbnails.process_pipeline import ProcessPipeline
from qamera_desktop.core.thumbnails.worker import INLINE_DECODE_BYTES
from qamera_desktop.core.thumbnails.worker_protocol import (
    HEADER,
    Close,
    Consumed,
    Failed,
    ForgetFailures,
    FromWorker,
    Progress,
    Ready,
    ToWorker,
    Want,
    WorkerConfig,
    frame,
    frame_length,
    from_worker_decoder,
    to_worker_decoder,
)

from .conftest import ImageServer, PipelineFactory, Sink, closing_factory
from .images import encode, jpeg
from .worker_harness import WAIT_MS, WAIT_S, KeyTuple, WorkerProcess, worker_config, worker_starter

pytestmark = pytest.mark.skipif(os.name != "posix", reason="worker processes need POSIX")
needs_memfd = pytest.mark.skipif(
    not hasattr(os, "memfd_create"), reason="the shared pixel ring is Linux only"
)

ProcessFactory = Callable[..., tuple[ProcessPipeline, Sink]]


@pytest.fixture
def make_processes(tmp_path: Path, arun: Any) -> Iterator[ProcessFactory]:
    yield from closing_factory(ProcessPipeline, tmp_path, arun)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Poll `condition` off the Qt loop (for workers spoken to with blocking reads)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    return encode(Image.new("RGB", (width, height), color), "PNG")


def noisy_jpeg(width: int, height: int, seed: int) -> bytes:
    """A JPEG of noise: large for its pixel count."""
    noise = random.Random(seed).randbytes(width * height * 3)
    return encode(Image.frombytes("RGB", (width, height), noise), "JPEG", quality=95)


def distinct_jpeg(n: int, width: int = 64, height: int = 64) -> bytes:
    """A JPEG that differs from the others by `n` (mixed-up pixels would show)."""
    return jpeg(width, height, color=((n * 53) % 256, (n * 97 + 40) % 256, (n * 31 + 90) % 256))


# ==================================================================================== by hand
@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    yield from worker_starter(tmp_path)


def serve_images(
    server: ImageServer, prefix: str, count: int, size: int = 64
) -> dict[KeyTuple, bytes]:
    """`count` distinct square JPEGs of `size` px, wanted at thumbnail size `size` (not scaled)."""
    served: dict[KeyTuple, bytes] = {}
    for n in range(count):
        body = distinct_jpeg(n + 7 * len(prefix), size, size)
        served[(server.add(f"/{prefix}{n}.jpg", body), size)] = body
    return served


def expected_pixels(body: bytes, size: int) -> bytes:
    return decode_thumbnail(body, size).data


# ==================================================================================== (a) pipeline
def shard_keys(
    server: ImageServer, per_shard: int, size: int, image: tuple[int, int]
) -> tuple[list[ThumbnailKey], dict[ThumbnailKey, bytes]]:
    """`per_shard` keys for each of two shards, with distinct JPEGs of `image` px."""
    counts = [0, 0]
    keys: list[ThumbnailKey] = []
    bodies: dict[ThumbnailKey, bytes] = {}
    n = 0
    while min(counts) < per_shard:
        key = ThumbnailKey(server.url(f"/s{n}.jpg"), size)
        shard = shard_of(key, 2)
        if counts[shard] < per_shard:
            bodies[key] = distinct_jpeg(n, *image)
            server.add(f"/s{n}.jpg", bodies[key])
            keys.append(key)
            counts[shard] += 1
        n += 1
    return keys, bodies


class PixelSpy:
    """Records what `_WorkerLink._pixels` is given and what the links send."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.readies: list[tuple[int, Ready]] = []  # (id of the link, message), in arrival order
        self.consumed: list[tuple[int, int]] = []  # (id of the link, upto)
        pixels = process_module._WorkerLink._pixels
        send = process_module._WorkerLink.send

        def spy_pixels(link: process_module._WorkerLink, message: Ready) -> bytes:
            self.readies.append((id(link), message))
            return pixels(link, message)

        def spy_send(link: process_module._WorkerLink, message: ToWorker) -> None:
            if isinstance(message, Consumed):
                self.consumed.append((id(link), message.upto))
            send(link, message)

        monkeypatch.setattr(process_module._WorkerLink, "_pixels", spy_pixels)
        monkeypatch.setattr(process_module._WorkerLink, "send", spy_send)


@needs_memfd
def test_process_pipeline_pixels_come_through_the_ring_byte_identical(
    server: ImageServer,
    make_processes: ProcessFactory,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spy = PixelSpy(monkeypatch)
    keys, bodies = shard_keys(server, per_shard=6, size=128, image=(300, 200))
    pipeline, sink = make_processes()
    pipeline.want(keys)
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)

    assert sink.failed == {}
    for key in keys:
        assert sink.ready[key] == decode_thumbnail(bodies[key], key.size), key
    # every Ready carried its pixels in the ring (6 thumbnails of 33 KB fit a 4 MB ring)
    assert len(spy.readies) == len(keys)
    assert all(message.ring_offset >= 0 and message.data == b"" for _, message in spy.readies)
    links = {link for link, _ in spy.readies}
    assert len(links) == 2  # both workers have a ring
    for link in links:  # each worker's pieces follow one another from the start of its ring
        position = 0
        for _, message in (entry for entry in spy.readies if entry[0] == link):
            length = message.width * message.height * 3
            assert (message.ring_offset, message.ring_end) == (position, position + length)
            position += length
    assert spy.consumed == []  # less than a quarter of the ring was used


@needs_memfd
def test_process_pipeline_goes_round_its_ring_with_consumed(
    server: ImageServer,
    make_processes: ProcessFactory,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More than a ring's worth of pixels, wanted five at a time (so that each Consumed reaches
    the worker before the next pixels are put): all in the ring, the ring reused, all right."""
    spy = PixelSpy(monkeypatch)
    served = serve_images(server, "round", 30, size=256)  # 196 KB each: 5.9 MB in all
    pipeline, sink = make_processes(processes=1)
    items = list(served.items())
    for start in range(0, len(items), 5):
        group = [ThumbnailKey(*key) for key, _ in items[start : start + 5]]
        pipeline.want(group)
        qtbot.waitUntil(sink.settled(*group), timeout=WAIT_MS)

    assert sink.failed == {}
    for key, body in served.items():
        assert sink.ready[ThumbnailKey(*key)].data == expected_pixels(body, 256), key
    messages = [message for _, message in spy.readies]
    assert len(messages) == 30
    assert all(message.ring_offset >= 0 for message in messages)
    ends = [message.ring_end for message in messages]
    assert ends == sorted(ends)
    assert ends[-1] > RING_BYTES  # went round: only possible after Consumed
    assert any(m.ring_offset == 0 and m.ring_end > RING_BYTES for m in messages)  # the wrap
    said = [upto for _, upto in spy.consumed]
    assert len(said) >= 5  # about every quarter of the ring
    assert said == sorted(said)
    assert all(b - a >= RING_BYTES // 4 for a, b in zip([0, *said], said, strict=False))
    assert set(said) <= set(ends)  # always the end of a piece copied out


@needs_memfd
def test_the_ring_positions_start_again_with_a_restarted_worker(
    server: ImageServer,
    make_processes: ProcessFactory,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spy = PixelSpy(monkeypatch)
    served = list(serve_images(server, "restart", 25, size=256).items())
    pipeline, sink = make_processes(processes=1)

    def load(items: list[tuple[KeyTuple, bytes]]) -> None:
        for start in range(0, len(items), 5):
            group = [ThumbnailKey(*key) for key, _ in items[start : start + 5]]
            pipeline.want(group)
            qtbot.waitUntil(sink.settled(*group), timeout=WAIT_MS)

    load(served[:10])  # 2 MB: one Consumed
    before = len(spy.readies)
    said_before = [upto for _, upto in spy.consumed]
    assert len(said_before) == 1
    (pid,) = pipeline.worker_pids
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: pipeline.worker_pids not in ([], [pid]), timeout=WAIT_MS)

    load(served[10:])  # 2.9 MB from the new worker, which starts at position 0
    after = [message for _, message in spy.readies[before:]]
    assert after[0].ring_offset == 0
    assert after[0].ring_end == 256 * 256 * 3
    assert all(message.ring_offset >= 0 for message in after)
    said_after = [upto for _, upto in spy.consumed][1:]
    # the new worker's first Consumed comes after a quarter of *its* ring, not the old one's
    assert said_after
    assert said_after[0] == min(m.ring_end for m in after if m.ring_end >= RING_BYTES // 4)
    assert sink.failed == {}
    for key, body in served:
        assert sink.ready[ThumbnailKey(*key)].data == expected_pixels(body, 256), key


# ==================================================================================== (b) (c) ring
@needs_memfd
def test_a_ring_smaller_than_a_thumbnail_sends_the_pixels_inline(
    server: ImageServer, start_worker: Callable[..., WorkerProcess]
) -> None:
    bodies = {
        (server.add("/wide.jpg", jpeg(200, 100)), 64): jpeg(200, 100),
        (server.add("/other.jpg", distinct_jpeg(3, 120, 90)), 64): distinct_jpeg(3, 120, 90),
    }
    worker = start_worker(ring_bytes=1024)  # 64 x 32 px is 6 KB
    worker.started()
    worker.send(Want(list(bodies)))
    results = worker.results(len(bodies))
    for key, body in bodies.items():
        ready, pixels = results[key]
        assert isinstance(ready, Ready)
        assert (ready.ring_offset, ready.ring_end) == (-1, 0)
        assert ready.data == pixels == expected_pixels(body, 64)
    assert worker.ring is not None
    assert worker.ring[:] == bytes(1024)  # nothing was put in it
    worker.send(Close())
    assert worker.proc.wait(timeout=10) == 0
    assert worker.stderr == ""


@needs_memfd
def test_a_full_ring_falls_back_to_inline_pixels_until_consumed(
    server: ImageServer, start_worker: Callable[..., WorkerProcess]
) -> None:
    thumb = 64 * 64 * 3  # 12288 bytes: three fit the ring exactly
    served = serve_images(server, "fill", 9)
    keys = list(served)
    worker = start_worker(ring_bytes=3 * thumb)
    worker.started()

    def check(results: dict[KeyTuple, tuple[Ready | Failed, bytes]]) -> list[Ready]:
        readies = []
        for key, (ready, pixels) in results.items():
            assert isinstance(ready, Ready)
            assert pixels == expected_pixels(served[key], 64), key
            readies.append(ready)
        return readies

    # No Consumed from the app: three go in the ring, the rest inline, and nothing hangs
    worker.send(Want(keys[:5]))
    first = check(worker.results(5))
    in_ring = sorted((r.ring_offset, r.ring_end) for r in first if r.ring_offset >= 0)
    assert in_ring == [(0, thumb), (thumb, 2 * thumb), (2 * thumb, 3 * thumb)]
    inline = [r for r in first if r.ring_offset < 0]
    assert len(inline) == 2
    assert all(len(r.data) == thumb for r in inline)

    # The first piece given back: room for one
    worker.send(Consumed(thumb))
    worker.send(Want(keys[5:7]))
    second = check(worker.results(2))
    assert sorted((r.ring_offset, r.ring_end) for r in second) == [(-1, 0), (0, 4 * thumb)]

    # Everything given back: the next two follow on from position 4 * thumb
    worker.send(Consumed(4 * thumb))
    worker.send(Want(keys[7:9]))
    third = check(worker.results(2))
    assert sorted((r.ring_offset, r.ring_end) for r in third) == [
        (thumb, 5 * thumb),
        (2 * thumb, 6 * thumb),
    ]
    worker.send(Close())
    assert worker.proc.wait(timeout=10) == 0
    assert worker.stderr == ""


@needs_memfd
def test_a_consumed_beyond_what_was_written_gives_back_no_more(
    server: ImageServer, start_worker: Callable[..., WorkerProcess]
) -> None:
    thumb = 64 * 64 * 3
    served = serve_images(server, "clamp", 5)
    keys = list(served)
    worker = start_worker(ring_bytes=2 * thumb)
    worker.started()
    worker.send(Consumed(10**12))  # before anything was written: clamped to 0
    worker.send(Want(keys[:3]))
    results = worker.results(3)
    readies = [r for r, _ in results.values() if isinstance(r, Ready)]
    assert sorted(r.ring_offset for r in readies) == [-1, 0, thumb]
    for key, (_, pixels) in results.items():
        assert pixels == expected_pixels(served[key], 64)


def test_a_ring_the_worker_cannot_map_sends_the_pixels_inline(
    server: ImageServer, start_worker: Callable[..., WorkerProcess]
) -> None:
    body = distinct_jpeg(7)
    key = (server.add("/a.jpg", body), 64)
    read_end, write_end = os.pipe()  # a descriptor that is no shared memory
    try:
        worker = start_worker(foreign_ring_fd=read_end)
    finally:
        os.close(read_end)
        os.close(write_end)
    worker.started()
    worker.send(Want([key]))
    ready, pixels = worker.results(1)[key]
    assert isinstance(ready, Ready)
    assert ready.ring_offset == -1
    assert pixels == ready.data == expected_pixels(body, 64)
    assert "Shared pixel ring not usable" in worker.stderr


# ==================================================================================== (d) batches
def test_failures_reported_together_go_out_in_one_write_with_the_counters_last(
    start_worker: Callable[..., WorkerProcess],
) -> None:
    worker = start_worker()
    worker.started()
    keys = [(f"ftp://127.0.0.1/{n}.jpg", 64) for n in range(6)]  # refused before any download
    worker.send(Want(keys))
    batch = worker.recv_batch()
    assert [type(m) for m in batch] == [Failed] * 6 + [Progress]
    assert [m.key for m in batch[:6] if isinstance(m, Failed)] == keys
    last = batch[-1]
    assert isinstance(last, Progress)
    assert last.counters.failed == 6


@needs_memfd
def test_thumbnails_ready_together_arrive_in_batches_followed_by_the_counters(
    server: ImageServer, start_worker: Callable[..., WorkerProcess]
) -> None:
    gates = []
    served: dict[KeyTuple, bytes] = {}
    for n in range(4):
        body = distinct_jpeg(n)
        url, gate = server.gate(f"/g{n}.jpg", body)
        served[(url, 64)] = body
        gates.append(gate)
    worker = start_worker(ring_bytes=1 << 20, max_connections=4)
    worker.started()
    worker.send(Want(list(served)))
    wait_for(lambda: len(server.log) == 4, "the four downloads to start")
    for gate in gates:  # the four answers at once
        gate.set()

    batches: list[list[FromWorker]] = []
    pixels: dict[KeyTuple, bytes] = {}
    while len(pixels) < 4:
        batch = worker.recv_batch()
        batches.append(batch)
        for message in batch:
            if isinstance(message, Ready):
                pixels[message.key] = worker.pixels(message)
    for key, body in served.items():
        assert pixels[key] == expected_pixels(body, 64)

    with_results = [b for b in batches if any(isinstance(m, Ready) for m in b)]
    assert max(len(batch) for batch in with_results) > 1  # one read, several frames
    for batch in with_results:
        assert isinstance(batch[-1], Progress)  # the counters follow the results they count
    last = batches[-1][-1]
    assert isinstance(last, Progress)
    assert last.counters.decoded == 4
    assert last.counters.fetched == 4


def test_a_consumed_to_a_worker_without_a_ring_is_ignored(
    server: ImageServer, start_worker: Callable[..., WorkerProcess]
) -> None:
    body = distinct_jpeg(11)
    key = (server.add("/a.jpg", body), 64)
    worker = start_worker()
    worker.started()
    worker.send(Consumed(123))
    worker.send(Want([key]))
    ready, pixels = worker.results(1)[key]
    assert isinstance(ready, Ready)
    assert ready.ring_offset == -1
    assert pixels == expected_pixels(body, 64)
    worker.send(Close())
    assert worker.proc.wait(timeout=10) == 0
    assert worker.stderr == ""


# ==================================================================================== (e) bad ring
FAKE_WORKER = """\
import socket, sys
import msgspec
from qamera_desktop.core.thumbnails.pixel_ring import open_ring
from qamera_desktop.core.thumbnails.records import PipelineStats
from qamera_desktop.core.thumbnails.worker_protocol import (
    HEADER, Close, Failed, Progress, Ready, Want, WorkerConfig, frame, frame_length,
    to_worker_decoder,
)

sock = socket.socket(fileno=int(sys.argv[1]))
config = msgspec.json.decode(sys.argv[2], type=WorkerConfig)
ring = open_ring(config.ring_fd, config.ring_bytes)
size = config.ring_bytes
stream = sock.makefile("rb")
sock.sendall(frame(Progress(PipelineStats())))
while True:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        break
    message = to_worker_decoder.decode(stream.read(frame_length(header)))
    if isinstance(message, Close):
        break
    if not isinstance(message, Want):
        continue
    out = []
    for url, thumb in message.keys:
        name = url.rsplit("/", 1)[1]
        pixels = bytes([len(name)]) * 12  # 2 x 2 px
        key = (url, thumb)
        if name.startswith("inline"):
            out.append(Ready(key, 2, 2, 4, pixels))
        elif name == "in-ring":
            ring[100:112] = pixels
            out.append(Ready(key, 2, 2, 4, b"", 100, 112))
        elif name == "past-the-end":
            out.append(Ready(key, 2, 2, 4, b"", size, size + 12))
        elif name == "across-the-end":
            out.append(Ready(key, 2, 2, 4, b"", size - 6, size + 6))
        elif name == "far-away":
            out.append(Ready(key, 2, 2, 4, b"", 2**40, 2**40 + 12))
        elif name == "short-inline":
            out.append(Ready(key, 2, 2, 4, b"12345"))
        else:
            out.append(Failed(key, "HTTP 404"))
    sock.sendall(b"".join(frame(m) for m in out) + frame(Progress(PipelineStats())))
"""


@needs_memfd
def test_pixels_said_to_be_outside_the_ring_fail_that_key_and_the_pipeline_goes_on(
    make_processes: ProcessFactory, qtbot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def key(name: str) -> ThumbnailKey:
        return ThumbnailKey(f"http://fake.test/{name}", 64)

    bad = [key("past-the-end"), key("across-the-end"), key("far-away"), key("short-inline")]
    good = [key("inline"), key("in-ring")]
    missing = key("missing")
    with caplog.at_level("WARNING", logger="qamera_desktop.core.thumbnails"):
        pipeline, sink = make_processes(processes=1, command=[sys.executable, "-c", FAKE_WORKER])
        (pid,) = pipeline.worker_pids
        pipeline.want([*bad, *good, missing])
        qtbot.waitUntil(sink.settled(*bad, *good, missing), timeout=WAIT_MS)

        assert sink.failed == {**dict.fromkeys(bad, "internal error"), missing: "HTTP 404"}
        assert sink.ready[key("inline")] == DecodedThumbnail(2, 2, bytes([6]) * 12, 4)
        assert sink.ready[key("in-ring")] == DecodedThumbnail(2, 2, bytes([7]) * 12, 4)

        # the same worker goes on loading
        later = key("inline-later")
        pipeline.want([later])
        qtbot.waitUntil(sink.settled(later), timeout=WAIT_MS)
        assert sink.ready[later] == DecodedThumbnail(2, 2, bytes([12]) * 12, 4)
    assert pipeline.worker_pids == [pid]
    assert not any("starting it again" in r.message for r in caplog.records)


# ==================================================================================== (f) inline
SMALL_JPEG = jpeg(64, 48)


@pytest.mark.parametrize(
    ("data", "limit", "expected"),
    [
        (SMALL_JPEG, len(SMALL_JPEG), True),  # at the limit
        (SMALL_JPEG, len(SMALL_JPEG) + 1, True),
        (SMALL_JPEG, len(SMALL_JPEG) - 1, False),  # over it
        (SMALL_JPEG, 0, False),  # the default: never
        (SMALL_JPEG, INLINE_DECODE_BYTES, True),
        (jpeg(1200, 900), 1000, False),
        (png(10, 10, (1, 2, 3)), 10**6, False),  # a small PNG can hold many megapixels
        (b"", 10**6, False),
        (b"\xff\xd8", 10**6, False),  # too short to be a JPEG
        (b"GIF89a", 10**6, False),
        (b"<html>not an image</html>", 10**6, False),
        (b"\xff\xd8\xff" + b"\x00" * 10, 10**6, True),  # a JPEG by its signature
    ],
    ids=[
        "jpeg-at-limit",
        "jpeg-under",
        "jpeg-over",
        "limit-zero",
        "worker-limit",
        "big-jpeg",
        "png",
        "empty",
        "short",
        "gif",
        "html",
        "signature-only",
    ],
)
def test_quick_to_decode(data: bytes, limit: int, expected: bool) -> None:
    assert quick_to_decode(data, limit) is expected


class DecodeThreads:
    """Wraps pipeline.decode_thumbnail, recording the thread each decode ran on, by image."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.threads: dict[bytes, list[threading.Thread]] = {}
        real = decode_thumbnail  # what the pipeline module imported

        def recording(data: bytes, size: int, **options: Any) -> DecodedThumbnail:
            self.threads.setdefault(data, []).append(threading.current_thread())
            return real(data, size, **options)

        monkeypatch.setattr(pipeline_module, "decode_thumbnail", recording)


@pytest.mark.parametrize("inline_decode_bytes", [100_000, 0])
def test_small_jpegs_are_decoded_on_the_loop_thread_only_when_asked(
    server: ImageServer,
    make_pipeline: PipelineFactory,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
    inline_decode_bytes: int,
) -> None:
    decodes = DecodeThreads(monkeypatch)
    small = jpeg(200, 150)
    large = noisy_jpeg(500, 400, seed=1)
    picture = png(120, 80, (10, 200, 30))
    assert len(small) <= 100_000 < len(large)
    keys = {
        ThumbnailKey(server.add("/small.jpg", small), 64): small,
        ThumbnailKey(server.add("/large.jpg", large), 64): large,
        ThumbnailKey(server.add("/picture.png", picture, content_type="image/png"), 64): picture,
    }
    pipeline, sink = make_pipeline(inline_decode_bytes=inline_decode_bytes)
    pipeline.want(list(keys))
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)

    assert sink.failed == {}
    for key, body in keys.items():
        assert sink.ready[key] == decode_thumbnail(body, 64)
    loop_thread = threading.current_thread()  # the test runs on the qasync loop's thread
    in_pool = [large, picture]
    if inline_decode_bytes:
        assert decodes.threads[small] == [loop_thread]
    else:
        in_pool.append(small)
    for body in in_pool:
        (thread,) = decodes.threads[body]
        assert thread is not loop_thread
        assert thread.name.startswith("thumbnail-decode")


def test_the_default_pipeline_never_decodes_on_the_loop_thread(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = DecodeThreads(monkeypatch)
    bodies = [jpeg(40 + n, 30 + n, color=(n * 30, 0, 0)) for n in range(4)]
    keys = [ThumbnailKey(server.add(f"/{n}.jpg", body), 64) for n, body in enumerate(bodies)]
    pipeline, sink = make_pipeline()  # the GUI thread's pipeline
    pipeline.want(keys)
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
    assert sink.failed == {}
    threads = [thread for body in bodies for thread in decodes.threads[body]]
    assert len(threads) == 4
    assert all(thread.name.startswith("thumbnail-decode") for thread in threads)
    assert threading.current_thread() not in threads


def test_a_corrupt_jpeg_decoded_on_the_loop_fails_cleanly(
    server: ImageServer, make_pipeline: PipelineFactory, qtbot: Any
) -> None:
    broken = ThumbnailKey(server.add("/broken.jpg", b"\xff\xd8\xff" + b"\x13" * 200), 64)
    cut = ThumbnailKey(server.add("/cut.jpg", jpeg(300, 200)[:600]), 64)
    good = ThumbnailKey(server.add("/good.jpg", jpeg(100, 80)), 64)
    pipeline, sink = make_pipeline(inline_decode_bytes=INLINE_DECODE_BYTES)
    pipeline.want([broken, cut, good])
    qtbot.waitUntil(sink.settled(broken, cut, good), timeout=WAIT_MS)
    assert sink.failed == {broken: "not an image", cut: "truncated image"}
    assert sink.ready[good] == decode_thumbnail(server.routes["/good.jpg"].body, 64)
    assert pipeline.stats().failed == 2


# ==================================================================================== (g) memory
class FakeMallopt:
    def __init__(self, calls: list[tuple[int, int]], result: int) -> None:
        self.calls = calls
        self.result = result
        self.argtypes: object = None
        self.restype: object = None

    def __call__(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.result


def fake_libc(monkeypatch: pytest.MonkeyPatch, result: int = 1) -> list[tuple[int, int]]:
    calls: list[tuple[int, int]] = []

    class FakeCDLL:
        def __init__(self, name: str) -> None:
            self.mallopt = FakeMallopt(calls, result)

    monkeypatch.setattr(sys, "platform", "linux")  # the modules memory.py uses
    monkeypatch.setattr(ctypes, "CDLL", FakeCDLL)
    return calls


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's malloc.h


def test_the_documented_settings() -> None:
    assert (
        memory.AllocatorSettings(mmap_threshold=128 * 1024, trim_threshold=128 * 1024) == memory.APP
    )
    assert (
        memory.AllocatorSettings(mmap_threshold=1024 * 1024, trim_threshold=8 * 1024 * 1024)
        == memory.WORKER
    )
    # a 512 px (HiDPI) thumbnail's pixels stay below the worker's mmap threshold
    assert memory.WORKER.mmap_threshold > 512 * 512 * 3
    assert memory.tune_allocator.__defaults__ == (memory.APP,)


def test_worker_settings_then_app_settings_reach_mallopt(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_libc(monkeypatch)
    assert memory.tune_allocator(memory.WORKER) is True
    assert calls == [
        (M_MMAP_THRESHOLD, 1024 * 1024),
        (M_TRIM_THRESHOLD, 8 * 1024 * 1024),
        (M_ARENA_MAX, memory.ARENA_MAX),
    ]
    calls.clear()
    assert memory.tune_allocator() is True  # back to the app's
    assert calls == [
        (M_MMAP_THRESHOLD, 128 * 1024),
        (M_TRIM_THRESHOLD, 128 * 1024),
        (M_ARENA_MAX, memory.ARENA_MAX),
    ]


def test_a_refused_setting_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_libc(monkeypatch, result=0)
    assert memory.tune_allocator(memory.WORKER) is False
    assert len(calls) == 3  # all are still tried


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")
def test_glibc_takes_the_worker_settings_and_the_app_settings_again() -> None:
    try:
        assert memory.tune_allocator(memory.WORKER) is True
    finally:
        assert memory.tune_allocator() is True  # this process is the app's again
    assert memory.tune_allocator(memory.APP) is True


TUNED_WORKER = """\
import socket, sys
import msgspec
from qamera_desktop import memory
from qamera_desktop.core.thumbnails import worker
from qamera_desktop.core.thumbnails.worker_protocol import WorkerConfig

calls = []
real = memory.tune_allocator

def spy(settings=memory.APP):
    calls.append(settings)
    return real(settings)

memory.tune_allocator = spy
mine, theirs = socket.socketpair()
mine.close()  # the app has gone: the worker stops at once
config = WorkerConfig(
    cache_dir=sys.argv[1], shard=0, shards=1, max_connections=1, decode_workers=1,
    disk_cache_bytes=10**6, write_back_bytes=10**6, max_download_bytes=10**6, max_pixels=10**6,
    timeout=1.0,
)
status = worker.main([str(theirs.fileno()), msgspec.json.encode(config).decode()])
print(status, [(s.mmap_threshold, s.trim_threshold) for s in calls])
"""


def test_a_worker_process_tunes_its_allocator_for_a_worker(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", TUNED_WORKER, str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"0 [({1024 * 1024}, {8 * 1024 * 1024})]"


# ==================================================================================== (h) protocol
def body_of(data: bytes) -> bytes:
    length = frame_length(data[: HEADER.size])
    assert len(data) == HEADER.size + length
    return data[HEADER.size :]


@pytest.mark.parametrize("upto", [0, 1, RING_BYTES, 2**40])
def test_consumed_round_trips(upto: int) -> None:
    decoded = to_worker_decoder.decode(body_of(frame(Consumed(upto))))
    assert type(decoded) is Consumed
    assert decoded == Consumed(upto)
    assert decoded.upto == upto


def test_consumed_is_no_message_from_a_worker() -> None:
    with pytest.raises(msgspec.ValidationError):
        from_worker_decoder.decode(body_of(frame(Consumed(5))))


def test_a_ready_with_ring_fields_round_trips() -> None:
    message = Ready(("https://cdn.test/a.jpg", 256), 256, 192, 4000 * 3000, b"", 12_288, 5 * 2**20)
    decoded = from_worker_decoder.decode(body_of(frame(message)))
    assert isinstance(decoded, Ready)
    assert decoded == message
    assert (decoded.ring_offset, decoded.ring_end, decoded.data) == (12_288, 5 * 2**20, b"")


def test_a_ready_without_ring_fields_says_its_pixels_are_inline() -> None:
    message = Ready(("u", 1), 1, 1, 1, b"\x01\x02\x03")
    assert (message.ring_offset, message.ring_end) == (-1, 0)
    decoded = from_worker_decoder.decode(body_of(frame(message)))
    assert decoded == message
    # a frame that leaves the fields out entirely (msgspec omits no defaults, so build one)
    raw = msgspec.msgpack.encode(
        {
            "type": "Ready",
            "key": ["u", 1],
            "width": 1,
            "height": 1,
            "source_pixels": 1,
            "data": b"\x01\x02\x03",
        }
    )
    assert from_worker_decoder.decode(raw) == message


def test_the_worker_config_carries_the_ring() -> None:
    config = worker_config(
        "/c",
        shard=1,
        shards=2,
        max_connections=3,
        disk_cache_bytes=10,
        write_back_bytes=20,
        max_download_bytes=30,
        max_pixels=40,
        timeout=1.5,
        ring_fd=7,
        ring_bytes=RING_BYTES,
    )
    decoded = msgspec.json.decode(msgspec.json.encode(config), type=WorkerConfig)
    assert decoded == config
    without_ring = msgspec.json.decode(
        msgspec.json.encode(msgspec.structs.replace(config, ring_fd=-1, ring_bytes=0)),
        type=WorkerConfig,
    )
    assert (without_ring.ring_fd, without_ring.ring_bytes) == (-1, 0)
    as_dict = msgspec.to_builtins(config)
    del as_dict["ring_fd"], as_dict["ring_bytes"]
    assert msgspec.convert(as_dict, WorkerConfig).ring_fd == -1  # an older app: no ring
    del as_dict["write_back_bytes"]
    with pytest.raises(msgspec.ValidationError, match="write_back_bytes"):
        msgspec.convert(as_dict, WorkerConfig)


def test_every_message_to_the_worker_is_still_readable() -> None:
    messages: list[ToWorker] = [Want([("u", 1)]), ForgetFailures(None), Close(), Consumed(9)]
    stream = b"".join(frame(message) for message in messages)
    decoded = []
    reader = io.BytesIO(stream)
    while header := reader.read(HEADER.size):
        decoded.append(to_worker_decoder.decode(reader.read(frame_length(header))))
    assert decoded == messages
