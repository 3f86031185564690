"""The thumbnail worker protocol: every message survives framing, corrupt streams are refused."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from qamera_desktop.core.thumbnails.records import PipelineStats
from qamera_desktop.core.thumbnails.worker_protocol import (
    HEADER,
    MAX_FRAME,
    Close,
    Failed,
    ForgetFailures,
    Progress,
    Ready,
    Want,
    WorkerConfig,
    frame,
    frame_length,
    from_worker_decoder,
    to_worker_decoder,
)

from .worker_harness import worker_config

TO_WORKER: list[Any] = [
    Want([("https://cdn.test/a.jpg", 256), ("https://cdn.test/b.jpg?sig=x%20y", 128)]),
    Want([]),
    ForgetFailures(None),
    ForgetFailures([("https://cdn.test/a.jpg", 256)]),
    ForgetFailures([]),
    Close(),
]

FROM_WORKER: list[Any] = [
    Ready(("https://cdn.test/a.jpg", 4), 4, 2, 640 * 320, bytes(range(24))),
    Ready(("https://cdn.test/ünïcode.jpg", 1), 1, 1, 0, b"\x00\xff\x80"),
    Failed(("https://cdn.test/missing.jpg", 64), "HTTP 404"),
    Failed(("", 0), ""),
    Progress(PipelineStats()),
    Progress(PipelineStats(1, 2, 3, 4, 5, 6, 7, 8)),
]


def split(data: bytes) -> tuple[int, bytes]:
    """The announced length and the body of one frame (checked to be exactly one frame)."""
    length = frame_length(data[: HEADER.size])
    body = data[HEADER.size :]
    assert len(body) == length
    return length, body


@pytest.mark.parametrize("message", TO_WORKER, ids=lambda m: type(m).__name__)
def test_messages_to_the_worker_round_trip(message: Any) -> None:
    _, body = split(frame(message))
    decoded = to_worker_decoder.decode(body)
    assert type(decoded) is type(message)
    assert decoded == message


@pytest.mark.parametrize("message", FROM_WORKER, ids=lambda m: type(m).__name__)
def test_messages_from_the_worker_round_trip(message: Any) -> None:
    _, body = split(frame(message))
    decoded = from_worker_decoder.decode(body)
    assert type(decoded) is type(message)
    assert decoded == message


def test_keys_come_back_as_tuples() -> None:
    """ThumbnailKey(*key) and dict lookups by (url, size) rely on tuples, not lists."""
    want = to_worker_decoder.decode(split(frame(Want([("u", 1)])))[1])
    assert isinstance(want, Want)
    assert want.keys == [("u", 1)]
    assert isinstance(want.keys[0], tuple)
    ready = from_worker_decoder.decode(split(frame(FROM_WORKER[0]))[1])
    assert isinstance(ready, Ready)
    assert isinstance(ready.key, tuple)
    assert isinstance(ready.data, bytes)


def test_counters_arrive_field_by_field() -> None:
    counters = PipelineStats(
        fetched=1,
        decoded=2,
        disk_hits=3,
        failed=4,
        cancelled=5,
        bytes_downloaded=6,
        in_flight=7,
        queued=8,
    )
    decoded = from_worker_decoder.decode(split(frame(Progress(counters)))[1])
    assert isinstance(decoded, Progress)
    assert decoded.counters == counters  # the pipeline's own PipelineStats, by field name


def test_a_big_thumbnail_fits_in_one_frame() -> None:
    data = b"\x7f" * (1024 * 768 * 3)
    message = Ready(("https://cdn.test/big.jpg", 1024), 1024, 768, 4000 * 3000, data)
    length, body = split(frame(message))
    assert length > len(data)
    decoded = from_worker_decoder.decode(body)
    assert isinstance(decoded, Ready)
    assert decoded.data == data


def test_header_is_four_bytes_little_endian() -> None:
    data = frame(Close())
    assert HEADER.size == 4
    assert int.from_bytes(data[:4], "little") == len(data) - 4
    assert frame_length(bytearray(data[:4])) == len(data) - 4
    assert frame_length(memoryview(data)[:4]) == len(data) - 4


def test_frame_length_accepts_max_frame_and_refuses_more() -> None:
    assert frame_length(HEADER.pack(MAX_FRAME)) == MAX_FRAME
    assert frame_length(HEADER.pack(0)) == 0
    with pytest.raises(ValueError, match=str(MAX_FRAME + 1)):
        frame_length(HEADER.pack(MAX_FRAME + 1))
    with pytest.raises(ValueError, match="frame"):
        frame_length(b"\xff\xff\xff\xff")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xc1",  # a byte msgpack never uses
        b"\x92\x01\x02",  # a valid array, not a tagged message
        msgspec.msgpack.encode({"type": "Nonsense"}),
        msgspec.msgpack.encode({"type": "Want", "keys": "not a list"}),
        frame(Want([("u", 1)]))[HEADER.size : -1],  # cut short
    ],
)
def test_corrupt_body_raises_decode_error(body: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        to_worker_decoder.decode(body)
    with pytest.raises(msgspec.DecodeError):
        from_worker_decoder.decode(body)


def test_each_side_refuses_the_other_sides_messages() -> None:
    with pytest.raises(msgspec.DecodeError):
        to_worker_decoder.decode(split(frame(Failed(("u", 1), "x")))[1])
    with pytest.raises(msgspec.DecodeError):
        from_worker_decoder.decode(split(frame(Want([("u", 1)])))[1])


def test_ready_with_a_wrongly_typed_field_is_refused() -> None:
    fields = {"key": ["u", 1], "width": "4", "height": 2, "source_pixels": 0, "data": b""}
    body = msgspec.msgpack.encode({"type": "Ready", **fields})
    with pytest.raises(msgspec.ValidationError):
        from_worker_decoder.decode(body)


def test_worker_config_json_round_trip() -> None:
    config = worker_config(
        "/tmp/cache dir/ü",
        shard=1,
        shards=2,
        max_connections=3,
        disk_cache_bytes=256 * 2**20,
        write_back_bytes=16 * 2**20,
        max_download_bytes=20 * 2**20,
        max_pixels=50_000_000,
        timeout=15.0,
    )
    text = msgspec.json.encode(config).decode()
    assert msgspec.json.decode(text, type=WorkerConfig) == config
    assert msgspec.json.decode(text)["cache_dir"] == "/tmp/cache dir/ü"


def test_worker_config_with_a_missing_field_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="max_pixels"):
        msgspec.json.decode(
            b'{"cache_dir": "/c", "shard": 0, "shards": 1, "max_connections": 1,'
            b' "decode_workers": 1, "disk_cache_bytes": 1, "write_back_bytes": 1,'
            b' "max_download_bytes": 1,'
            b' "timeout": 1.0}',
            type=WorkerConfig,
        )
