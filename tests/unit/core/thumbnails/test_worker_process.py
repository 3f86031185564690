"""ThumbnailProcess: the pipeline in a real worker process, against a real HTTP server on loopback;
the framing; and what happens when the worker cannot start, dies, or talks nonsense."""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qamera_desktop.core.thumbnails import DecodedThumbnail, ThumbnailKey, worker_process
from qamera_desktop.core.thumbnails.worker_process import (
    ThumbnailProcess,
    read_message,
    write_message,
)

from .conftest import Batches, ImageServer, until
from .images import jpeg


@pytest.fixture
def make_process(tmp_path: Path) -> Iterator[Callable[..., tuple[ThumbnailProcess, Batches]]]:
    made: list[ThumbnailProcess] = []

    def make(**options: object) -> tuple[ThumbnailProcess, Batches]:
        batches = Batches()
        process = ThumbnailProcess(tmp_path / "cache", deliver=batches, **options)
        made.append(process)
        return process, batches

    yield make
    for process in made:
        process.close()


def test_messages_round_trip_and_a_cut_off_one_is_the_end() -> None:
    stream = io.BytesIO()
    key = ThumbnailKey("https://cdn.example/a.jpg", 64)
    write_message(stream, [key])
    write_message(stream, [(key, "HTTP 404")])
    whole = stream.getvalue()
    stream.seek(0)
    assert read_message(stream) == [key]
    assert read_message(stream) == [(key, "HTTP 404")]
    assert read_message(stream) is None
    assert read_message(io.BytesIO(whole[:-1])) == [key]  # the first is whole
    cut = io.BytesIO(whole[:-1])
    read_message(cut)
    assert read_message(cut) is None


def test_thumbnails_load_in_another_process_and_it_stops_on_close(
    server: ImageServer, make_process: Callable[..., tuple[ThumbnailProcess, Batches]]
) -> None:
    keys = [ThumbnailKey(server.add(f"/{n}.jpg", jpeg(120, 80)), 64) for n in range(8)]
    missing = ThumbnailKey(server.url("/missing.jpg"), 64)
    process, batches = make_process()
    pid = process.pid
    assert pid is not None
    assert pid != os.getpid()
    process.want([*keys, missing])
    got = batches.wait_for(*keys, missing)
    assert all(isinstance(got[k], DecodedThumbnail) for k in keys)
    assert got[missing] == "HTTP 404"
    assert len(batches.threads) == 1
    assert threading.get_ident() not in batches.threads  # delivered on the reader thread

    server.add("/missing.jpg", jpeg(64, 64))
    process.want([missing])  # wanted again: tried again
    until(lambda: isinstance(batches.results().get(missing), DecodedThumbnail))

    started = time.monotonic()
    process.close()
    assert time.monotonic() - started < 5
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, and reaped
    process.want(keys)  # ignored once closed
    process.close()  # idempotent


def test_a_worker_that_cannot_start_leaves_the_loading_to_the_app(
    server: ImageServer,
    make_process: Callable[..., tuple[ThumbnailProcess, Batches]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(worker_process, "worker_command", lambda: ["/nonexistent/qamera"])
    key = ThumbnailKey(server.add("/a.jpg", jpeg(64, 64)), 32)
    process, batches = make_process()
    assert process.pid is None
    process.want([key])
    assert isinstance(batches.wait_for(key)[key], DecodedThumbnail)
    assert "could not start" in caplog.text


def test_a_worker_that_talks_nonsense_is_replaced_by_loading_in_the_app(
    server: ImageServer,
    make_process: Callable[..., tuple[ThumbnailProcess, Batches]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    nonsense = "import sys; sys.stdout.write('not a frame'); sys.stdout.flush()"
    monkeypatch.setattr(worker_process, "worker_command", lambda: [sys.executable, "-c", nonsense])
    key = ThumbnailKey(server.add("/a.jpg", jpeg(64, 64)), 32)
    process, batches = make_process()
    process.want([key])
    assert isinstance(batches.wait_for(key)[key], DecodedThumbnail)
    until(lambda: process.pid is None)
    assert "The thumbnail worker ended" in caplog.text


def test_the_worker_never_gets_the_api_key(
    make_process: Callable[..., tuple[ThumbnailProcess, Batches]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tell = (
        "import os, sys; from qamera_desktop.core.thumbnails.worker_process import write_message;"
        " write_message(sys.stdout.buffer, [('key', os.environ.get('QAMERA_API_KEY'))]);"
        " sys.stdin.read()"
    )
    monkeypatch.setattr(worker_process, "worker_command", lambda: [sys.executable, "-c", tell])
    monkeypatch.setenv("QAMERA_API_KEY", "mk_live_demo.sandbox")
    _, batches = make_process()
    until(lambda: bool(batches.batches))
    assert batches.batches[0] == [("key", None)]
