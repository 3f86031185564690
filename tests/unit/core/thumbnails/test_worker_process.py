"""ThumbnailProcess: the pipeline in a real worker process, against a real HTTP server on loopback;
the framing; what happens when the worker cannot start, dies, or talks nonsense; what it is given
(no key, the app's log folder, a stderr even where the app has none) and where it logs; the spare
worker started ahead (taken by the first process, or ending cleanly when never taken) and the
worker's configuration, its first message."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from qamera_desktop.core.log_setup import LOG_FILE_NAME, WORKER_LOG_FILE_NAME, configure_logging
from qamera_desktop.core.thumbnails import worker_process
from qamera_desktop.core.thumbnails.records import DecodedThumbnail, ThumbnailKey
from qamera_desktop.core.thumbnails.worker_process import (
    ThumbnailProcess,
    read_message,
    start_spare_worker,
    worker_command,
    write_message,
)
from qamera_desktop.sandbox import SandboxHandle
from tests.sandbox_fixtures import api_client, list_images, make_sandbox_fixtures

from .conftest import Batches, ImageServer, until
from .images import jpeg

sandbox_factory, sandbox = make_sandbox_fixtures()


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


def test_bytes_that_are_not_a_frame_are_an_error_not_a_length_to_wait_for() -> None:
    stream = io.BytesIO(b"a stray print\n")
    with pytest.raises(ValueError, match="not a frame"):
        read_message(stream)


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
    told: object = batches.batches[0]  # what the stand-in worker wrote, not thumbnails
    assert told == [("key", None)]


def test_the_worker_logs_into_a_file_of_its_own_beside_the_apps_redacted(
    server: ImageServer,
    make_process: Callable[..., tuple[ThumbnailProcess, Batches]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A failed thumbnail is logged by the worker (at DEBUG: the level asked for here); its URL
    holds something shaped like a key, which the worker's redaction filter masks."""
    monkeypatch.setenv("QAMERA_LOG_LEVEL", "DEBUG")
    secret = "W0rker-never-logs-this-Zq"
    missing = ThumbnailKey(server.url(f"/mk_live_workerlog.{secret}.jpg"), 32)
    root_level = logging.getLogger().level
    logs = configure_logging(tmp_path / "logs", console=False)
    try:
        process, batches = make_process()
        worker_pid = process.pid
        process.want([missing])
        assert batches.wait_for(missing)[missing] == "HTTP 404"
        process.close()  # the worker's file is complete once it has exited
    finally:
        logs.close()
        logging.getLogger().setLevel(root_level)
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == sorted(
        [LOG_FILE_NAME, WORKER_LOG_FILE_NAME]
    )
    text = (tmp_path / "logs" / WORKER_LOG_FILE_NAME).read_text()
    failed = [line for line in text.splitlines() if "failed: HTTP 404" in line]
    assert len(failed) == 1, text
    assert f" DEBUG {worker_pid} qamera_desktop.core.thumbnails.pipeline: Thumbnail " in failed[0]
    assert "mk_live_work" in failed[0]  # the key's id part, masked after it
    assert secret not in text
    assert secret not in (tmp_path / "logs" / LOG_FILE_NAME).read_text()


@pytest.mark.parametrize("app_stderr", ["present", "none"])
def test_the_worker_gets_a_stderr_even_where_the_app_has_none(
    app_stderr: str,
    make_process: Callable[..., tuple[ThumbnailProcess, Batches]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A windowed app on Windows has no stderr (`sys.stderr` is None): Popen could not pass on a
    handle that is not there, so the worker gets /dev/null instead; else the app's own."""
    tell = (
        "import os, sys; from qamera_desktop.core.thumbnails.worker_process import write_message;"
        " null = os.path.samestat(os.fstat(2), os.stat(os.devnull));"
        " write_message(sys.stdout.buffer, [('stderr is null', null)]); sys.stdin.read()"
    )
    monkeypatch.setattr(worker_process, "worker_command", lambda: [sys.executable, "-c", tell])
    if app_stderr == "none":
        monkeypatch.setattr(sys, "stderr", None)
    process, batches = make_process()
    until(lambda: bool(batches.batches))
    monkeypatch.undo()
    assert process.pid is not None
    told: object = batches.batches[0]  # what the stand-in worker wrote, not thumbnails
    assert told == [("stderr is null", app_stderr == "none")]


# -- the spare worker, and the configuration as the first message -----------------------------
@pytest.fixture
def spare() -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """`start_spare_worker()`, and the spare it started (still the module's until taken). A spare
    no test took is ended after the test, as the app's is: its input closes."""

    def start() -> subprocess.Popen[bytes]:
        start_spare_worker()
        (started,) = worker_process._spare  # the one spare the next ThumbnailProcess takes
        return started

    yield start
    while worker_process._spare:
        left = worker_process._spare.pop()
        assert left.stdin is not None
        assert left.stdout is not None
        left.stdin.close()
        left.wait(10)
        left.stdout.close()


def test_a_spare_worker_is_taken_by_the_next_process_and_loads_the_sandboxs_thumbnails(
    spare: Callable[[], subprocess.Popen[bytes]],
    make_process: Callable[..., tuple[ThumbnailProcess, Batches]],
    sandbox: SandboxHandle,
    tmp_path: Path,
) -> None:
    started = spare()
    start_spare_worker()  # one spare at a time
    assert worker_process._spare == [started]
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        urls = [image["thumbnail"] for image in list_images(client)[:6]]
    keys = [ThumbnailKey(url, 64) for url in urls]
    assert len(keys) == 6

    process, batches = make_process()
    assert process.pid == started.pid  # the spare, not a worker started now
    assert worker_process._spare == []
    process.want(keys)
    got = batches.wait_for(*keys)
    assert all(isinstance(got[k], DecodedThumbnail) for k in keys), got
    assert all(
        max(t.width, t.height) == 64 for t in got.values() if isinstance(t, DecodedThumbnail)
    )
    assert len([f for f in (tmp_path / "cache").rglob("*") if f.is_file()]) >= len(keys)

    second, _ = make_process()  # the spare is gone: the next process starts its own worker
    assert second.pid not in (None, started.pid, os.getpid())
    process.close()
    assert started.poll() == 0


def test_a_spare_that_ended_is_replaced_by_a_new_worker_not_by_loading_in_the_app(
    spare: Callable[[], subprocess.Popen[bytes]],
    make_process: Callable[..., tuple[ThumbnailProcess, Batches]],
    sandbox: SandboxHandle,
) -> None:
    started = spare()
    started.kill()
    started.wait(10)
    process, batches = make_process()
    assert process.pid not in (None, started.pid)  # a worker of its own, in another process
    assert started.stdin is not None
    assert started.stdin.closed
    assert started.stdout is not None
    assert started.stdout.closed
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        key = ThumbnailKey(list_images(client)[0]["thumbnail"], 64)
    process.want([key])
    assert isinstance(batches.wait_for(key)[key], DecodedThumbnail)


def test_a_spare_never_taken_ends_cleanly_when_its_input_closes(
    spare: Callable[[], subprocess.Popen[bytes]],
) -> None:
    """The app ends without having needed the spare: the worker's input ends before any
    configuration, and it exits 0 without a word on its output."""
    started = spare()
    worker_process._spare.clear()  # the app's end, in place of a ThumbnailProcess taking it
    assert started.stdin is not None
    assert started.stdout is not None
    started.stdin.close()
    assert started.wait(15) == 0
    assert started.stdout.read() == b""
    started.stdout.close()


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc (Linux)")
def test_a_spare_has_pillow_loaded_before_it_is_configured(
    spare: Callable[[], subprocess.Popen[bytes]],
) -> None:
    """What the thumbnails need is imported while the spare waits for its configuration, so
    that it is ready when taken: Pillow's C library is mapped into it, with nothing sent."""
    started = spare()
    maps = Path(f"/proc/{started.pid}/maps")
    until(lambda: "PIL/_imaging" in maps.read_text())
    assert started.poll() is None  # still waiting for its first message


def _read_into(batches: Batches, stream: IO[bytes]) -> threading.Thread:
    def read() -> None:
        while (batch := read_message(stream)) is not None:
            batches(batch)

    reader = threading.Thread(target=read, name="test-worker-output", daemon=True)
    reader.start()
    return reader


def test_the_worker_is_configured_by_its_first_message(server: ImageServer, tmp_path: Path) -> None:
    """`qamera-desktop --thumbnail-worker` with nothing on its command line: its cache folder,
    log folder and pipeline options come in its first message; then the wanted lists."""
    small = ThumbnailKey(server.add("/small.jpg", jpeg(16, 16)), 64)
    big = ThumbnailKey(server.add("/big.jpg", jpeg(300, 300)), 64)
    big_size = len(server.routes["/big.jpg"].body)
    cache, logs = tmp_path / "worker-cache", tmp_path / "worker-logs"
    worker = subprocess.Popen(worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert worker.stdin is not None
    assert worker.stdout is not None
    batches = Batches()
    reader = _read_into(batches, worker.stdout)
    try:
        config = {
            "cache_dir": str(cache),
            "log_folder": str(logs),
            "options": {"max_download_bytes": 1000},
        }
        write_message(worker.stdin, config)
        write_message(worker.stdin, [small, big])
        got = batches.wait_for(small, big)
        assert isinstance(got[small], DecodedThumbnail)
        assert got[big] == f"download too large ({big_size} bytes)"  # the option applies
    finally:
        worker.stdin.close()  # the end of its input: it stops
        code = worker.wait(15)
        reader.join(15)
        worker.stdout.close()
    assert code == 0
    assert [f.name for f in cache.rglob("*") if f.is_file()] != []  # its cache folder
    assert (logs / WORKER_LOG_FILE_NAME).is_file()  # its log folder
