"""ThumbnailProcess: the pipeline in a real worker process, against a real HTTP server on loopback;
the framing; what happens when the worker cannot start, dies, or talks nonsense; what it is given
(no key, the app's log folder, a stderr even where the app has none) and where it logs."""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qamera_desktop.core.log_setup import LOG_FILE_NAME, WORKER_LOG_FILE_NAME, configure_logging
from qamera_desktop.core.thumbnails import worker_process
from qamera_desktop.core.thumbnails.records import DecodedThumbnail, ThumbnailKey
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
    assert batches.batches[0] == [("stderr is null", app_stderr == "none")]
