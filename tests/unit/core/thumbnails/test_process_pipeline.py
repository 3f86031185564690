"""ProcessPipeline over real loopback HTTP with real worker processes: sharding, restarts, close."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytestqt.exceptions import TimeoutError as QtTimeoutError

from qamera_desktop.core.thumbnails import PipelineStats, ThumbnailKey, ThumbnailPipeline
from qamera_desktop.core.thumbnails import process_pipeline as process_module
from qamera_desktop.core.thumbnails.disk_cache import cache_name, shard_of
from qamera_desktop.core.thumbnails.process_pipeline import (
    WORKER_STOPPED,
    ProcessPipeline,
    open_pipeline,
    processes_supported,
    worker_command,
)
from qamera_desktop.core.thumbnails.worker_protocol import (
    HEADER,
    MAX_FRAME,
    Close,
    Failed,
    Progress,
    Ready,
    Want,
    frame,
)

from .conftest import ImageServer, Sink, closing_factory
from .images import jpeg
from .worker_harness import WAIT_MS, WorkerProcess

pytestmark = pytest.mark.skipif(os.name != "posix", reason="worker processes need POSIX")

ProcessFactory = Callable[..., tuple[ProcessPipeline, Sink]]


@pytest.fixture
def make_processes(tmp_path: Path, arun: Any) -> Iterator[ProcessFactory]:
    yield from closing_factory(ProcessPipeline, tmp_path, arun)


def is_gone(pid: int) -> bool:
    """Whether no process (not even a zombie child) has this id any more."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def serve_shards(
    server: ImageServer, per_shard: int, size: tuple[int, int] = (160, 120), shards: int = 2
) -> list[list[ThumbnailKey]]:
    """`per_shard` keys (thumbnail size 64) for each shard, in request order."""
    found: list[list[ThumbnailKey]] = [[] for _ in range(shards)]
    n = 0
    while min(len(keys) for keys in found) < per_shard:
        key = ThumbnailKey(server.url(f"/img{n}.jpg"), 64)
        shard = shard_of(key, shards)
        if len(found[shard]) < per_shard:
            server.add(f"/img{n}.jpg", jpeg(*size, color=(n * 13 % 256, 100, 50)))
            found[shard].append(key)
        n += 1
    return found


def path_of(key: ThumbnailKey) -> str:
    return "/" + key.url.split("/", 3)[3]


def settle_stats(
    pipeline: ProcessPipeline, qtbot: Any, timeout: int = WAIT_MS, **expected: int
) -> None:
    """Wait until the workers' last reported counters match (they arrive as messages)."""

    def matches() -> bool:
        stats = pipeline.stats()
        return all(getattr(stats, name) == value for name, value in expected.items())

    try:
        qtbot.waitUntil(matches, timeout=timeout)
    except QtTimeoutError:
        pytest.fail(f"stats never matched {expected}: {pipeline.stats()}")


# ==================================================================================== loading
def test_loads_with_the_right_dimensions_on_the_loop_thread(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any, tmp_path: Path, arun: Any
) -> None:
    wide = ThumbnailKey(server.add("/wide.jpg", jpeg(800, 400)), 128)
    tall = ThumbnailKey(server.add("/tall.jpg", jpeg(300, 600)), 128)
    small = ThumbnailKey(server.add("/small.jpg", jpeg(60, 40)), 128)
    more = [key for shard in serve_shards(server, 3) for key in shard]
    keys = [wide, tall, small, *more]
    pipeline, sink = make_processes()

    pipeline.want(keys)
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)

    assert sink.failed == {}
    assert (sink.ready[wide].width, sink.ready[wide].height) == (128, 64)
    assert (sink.ready[tall].width, sink.ready[tall].height) == (64, 128)
    assert (sink.ready[small].width, sink.ready[small].height) == (60, 40)
    assert sink.ready[wide].source_pixels == 800 * 400
    for key in more:
        thumb = sink.ready[key]
        assert (thumb.width, thumb.height) == (64, 48)
        assert len(thumb.data) == thumb.width * thumb.height * 3
    assert sink.threads == {threading.get_ident()}  # the test runs on the qasync loop's thread
    assert sorted(sink.ready_order, key=str) == sorted(keys, key=str)  # each reported once

    settle_stats(pipeline, qtbot, decoded=len(keys), in_flight=0, queued=0)
    stats = pipeline.stats()
    assert (stats.fetched, stats.decoded, stats.disk_hits, stats.failed) == (9, 9, 0, 0)  # 3 + 6
    assert stats.bytes_downloaded == sum(len(route.body) for route in server.routes.values())
    assert sum(server.hits.values()) == len(keys)

    arun(pipeline.aclose())  # the workers finish their cache writes before they exit
    cached = {p.name for p in (tmp_path / "cache").rglob("*.jpg")}
    assert cached == {cache_name(k) for k in keys}


def test_wait_started_returns_once_both_workers_are_up(
    make_processes: ProcessFactory, arun: Any
) -> None:
    pipeline, _ = make_processes()
    assert len(pipeline.worker_pids) == 2
    assert len(set(pipeline.worker_pids)) == 2
    arun(pipeline.wait_started(), timeout=15)
    assert all(not is_gone(pid) for pid in pipeline.worker_pids)
    assert pipeline.stats() == PipelineStats()  # the "started" report: zeros


@pytest.mark.parametrize(
    ("path", "body", "options", "reason"),
    [
        ("/missing.jpg", None, {}, "HTTP 404"),
        ("/gone.jpg", b"nope", {"status": 503, "content_type": "text/plain"}, "HTTP 503"),
        ("/page", b"<html>login</html>", {"content_type": "text/html"}, "not an image"),
    ],
)
def test_failures_are_reported_with_a_readable_reason(
    server: ImageServer,
    make_processes: ProcessFactory,
    qtbot: Any,
    path: str,
    body: bytes | None,
    options: dict[str, Any],
    reason: str,
) -> None:
    url = server.url(path) if body is None else server.add(path, body, **options)
    bad = ThumbnailKey(url, 64)
    good = ThumbnailKey(server.add("/good.jpg", jpeg(100, 100)), 64)
    pipeline, sink = make_processes()
    pipeline.want([bad, good])
    qtbot.waitUntil(sink.settled(bad, good), timeout=WAIT_MS)
    assert sink.failed == {bad: reason}
    assert set(sink.ready) == {good}
    assert sink.threads == {threading.get_ident()}
    settle_stats(pipeline, qtbot, failed=1, decoded=1, in_flight=0, queued=0)


def test_failed_keys_wait_for_forget_failures(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any
) -> None:
    late = ThumbnailKey(server.add("/late.jpg", b"", status=404, content_type="text/plain"), 64)
    later = ThumbnailKey(server.add("/later.jpg", b"", status=404, content_type="text/plain"), 64)
    pipeline, sink = make_processes()
    pipeline.want([late, later])
    qtbot.waitUntil(sink.settled(late, later), timeout=WAIT_MS)
    assert sink.failed == {late: "HTTP 404", later: "HTTP 404"}
    server.add("/late.jpg", jpeg(100, 100))  # the images exist now
    server.add("/later.jpg", jpeg(100, 100))

    other = ThumbnailKey(server.add("/other.jpg", jpeg(100, 100)), 64)
    pipeline.want([late, later, other])  # no automatic retry
    qtbot.waitUntil(sink.settled(other), timeout=WAIT_MS)
    settle_stats(pipeline, qtbot, decoded=1, in_flight=0, queued=0)
    assert server.hits["/late.jpg"] == server.hits["/later.jpg"] == 1

    pipeline.forget_failures([other])  # not a failed one: still nothing
    pipeline.want([late, later])
    qtbot.wait(300)
    assert server.hits["/late.jpg"] == server.hits["/later.jpg"] == 1

    pipeline.forget_failures([late])  # this one only
    pipeline.want([late, later])
    qtbot.waitUntil(lambda: late in sink.ready, timeout=WAIT_MS)
    assert server.hits["/late.jpg"] == 2
    assert server.hits["/later.jpg"] == 1

    pipeline.forget_failures()  # the user pressed refresh
    pipeline.want([later])
    qtbot.waitUntil(lambda: later in sink.ready, timeout=WAIT_MS)
    assert server.hits["/later.jpg"] == 2


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/a.jpg", "unsupported URL scheme (ftp)"),
        ("file:///etc/passwd", "unsupported URL scheme (file)"),
        ("/relative/path.jpg", "unsupported URL scheme (none)"),
        ("http:///no-host.jpg", "invalid URL (no host)"),
    ],
)
def test_unusable_urls_fail_like_in_process(
    server: ImageServer,
    make_processes: ProcessFactory,
    qtbot: Any,
    arun: Any,
    tmp_path: Path,
    url: str,
    reason: str,
) -> None:
    key = ThumbnailKey(url, 64)
    pipeline, sink = make_processes()
    pipeline.want([key])
    assert sink.failed == {}  # never reported from inside want()
    qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {key: reason}
    assert server.log == []

    in_process = Sink()
    reference = ThumbnailPipeline(
        tmp_path / "other", on_ready=in_process.on_ready, on_failed=in_process.on_failed
    )
    try:
        reference.want([key])
        qtbot.waitUntil(in_process.settled(key), timeout=WAIT_MS)
    finally:
        arun(reference.aclose())
    assert in_process.failed == sink.failed


def test_callback_exceptions_are_logged_not_raised(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any, caplog: Any
) -> None:
    good = ThumbnailKey(server.add("/a.jpg", jpeg(100, 100)), 32)
    bad = ThumbnailKey(server.url("/missing.jpg"), 32)
    seen: list[ThumbnailKey] = []

    def on_ready(key: ThumbnailKey, thumb: Any) -> None:
        seen.append(key)
        raise ValueError("UI bug")

    def on_failed(key: ThumbnailKey, reason: str) -> None:
        seen.append(key)
        raise ValueError("UI bug")

    pipeline, _ = make_processes(on_ready=on_ready, on_failed=on_failed)
    with caplog.at_level("ERROR", logger="qamera_desktop.core.thumbnails"):
        pipeline.want([good, bad])
        qtbot.waitUntil(lambda: len(seen) == 2, timeout=WAIT_MS)
    assert set(seen) == {good, bad}
    assert sum("callback raised" in r.message for r in caplog.records) == 2
    ok = ThumbnailKey(server.add("/b.jpg", jpeg(100, 100)), 32)
    pipeline.want([ok])  # the links still work after the callbacks raised
    qtbot.waitUntil(lambda: ok in seen, timeout=WAIT_MS)


def test_unwanted_keys_are_cancelled_in_the_worker(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any
) -> None:
    [[first, *queued], _] = serve_shards(server, 3)
    _, gate = server.gate(path_of(first), server.routes[path_of(first)].body)
    pipeline, sink = make_processes(max_connections=2)  # one download at a time per worker
    pipeline.want([first, *queued])
    qtbot.waitUntil(lambda: server.hits[path_of(first)] == 1, timeout=WAIT_MS)

    other = ThumbnailKey(server.add("/other.jpg", jpeg(90, 90)), 64)
    pipeline.want([other])
    qtbot.waitUntil(sink.settled(other), timeout=WAIT_MS)
    gate.set()  # the server now answers the cancelled request: nobody is listening
    qtbot.wait(300)
    assert set(sink.ready) == {other}
    assert sink.failed == {}
    assert all(server.hits[path_of(k)] == 0 for k in queued)


def test_stats_while_loading(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any
) -> None:
    """As ThumbnailPipeline's test_stats_while_loading: the gauges show the work in progress."""
    [evens, _] = serve_shards(server, 3)
    gates = [server.gate(path_of(k), server.routes[path_of(k)].body)[1] for k in evens]
    pipeline, sink = make_processes(max_connections=2)  # one download at a time per worker
    pipeline.want(evens)
    try:
        qtbot.waitUntil(lambda: len(server.log) == 1, timeout=WAIT_MS)
        settle_stats(pipeline, qtbot, timeout=2000, in_flight=1, queued=2)
    finally:
        for gate in gates:
            gate.set()
    qtbot.waitUntil(sink.settled(*evens), timeout=WAIT_MS)


def test_stats_catch_up_after_a_want_that_only_cancels(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any
) -> None:
    [[fast, first, *queued], _] = serve_shards(server, 4)
    _, gate = server.gate(path_of(first), server.routes[path_of(first)].body)
    pipeline, sink = make_processes(max_connections=2)  # one download at a time per worker
    pipeline.want([fast, first, *queued])
    try:
        qtbot.waitUntil(sink.settled(fast), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: server.hits[path_of(first)] == 1, timeout=WAIT_MS)
        # reported with `fast`: `first` downloading, two queued
        settle_stats(pipeline, qtbot, decoded=1, in_flight=1, queued=2)
        pipeline.want([])  # the user scrolled away: everything is cancelled
        # as ThumbnailPipeline does: (0, 0) and cancelled == 3, once the worker has reported
        settle_stats(pipeline, qtbot, timeout=2000, cancelled=3, in_flight=0, queued=0)
    finally:
        gate.set()


# ==================================================================================== sharding
def test_each_worker_loads_its_own_shard(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any, arun: Any
) -> None:
    """Shard k goes to worker k: stopping one worker holds back exactly its keys."""
    evens, odds = serve_shards(server, 4)
    pipeline, sink = make_processes()
    arun(pipeline.wait_started(), timeout=15)
    even_pid, odd_pid = pipeline.worker_pids
    os.kill(odd_pid, signal.SIGSTOP)
    try:
        pipeline.want([*odds, *evens])
        qtbot.waitUntil(sink.settled(*evens), timeout=WAIT_MS)
        qtbot.wait(200)
        assert not any(key in sink.ready or key in sink.failed for key in odds)
        assert all(server.hits[path_of(key)] == 0 for key in odds)
    finally:
        os.kill(odd_pid, signal.SIGCONT)
    qtbot.waitUntil(sink.settled(*odds), timeout=WAIT_MS)
    assert sink.failed == {}
    assert pipeline.worker_pids == [even_pid, odd_pid]  # stopped is not dead: no restart


def test_connections_are_divided_and_each_worker_keeps_the_order(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any
) -> None:
    evens, odds = serve_shards(server, 3)
    gates = {}
    for key in (*evens, *odds):
        _, gates[key] = server.gate(path_of(key), server.routes[path_of(key)].body)
    pipeline, sink = make_processes(max_connections=2)
    wanted = [odds[0], evens[0], odds[1], evens[1], odds[2], evens[2]]
    pipeline.want(wanted)
    qtbot.waitUntil(lambda: len(server.log) == 2, timeout=WAIT_MS)
    qtbot.wait(200)
    assert sorted(server.paths()) == sorted([path_of(evens[0]), path_of(odds[0])])
    for key in wanted:  # the gates open in the wanted order: each worker follows it
        gates[key].set()
        qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.ready_order == wanted
    evens_order = [p for p in server.paths() if p in {path_of(k) for k in evens}]
    assert evens_order == [path_of(k) for k in evens]


def test_the_disk_cache_is_shared_across_pipelines(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any, arun: Any, tmp_path: Path
) -> None:
    evens, odds = serve_shards(server, 3, size=(400, 300))
    keys = [*evens, *odds]
    first, sink1 = make_processes()
    first.want(keys)
    qtbot.waitUntil(sink1.settled(*keys), timeout=WAIT_MS)
    arun(first.aclose())
    requests_before = len(server.log)
    subdirs = {p.parent.name for p in (tmp_path / "cache").rglob("*.jpg")}
    assert {int(name, 16) % 2 for name in subdirs} == {0, 1}  # both workers wrote their files

    second, sink2 = make_processes()
    second.want(keys)
    qtbot.waitUntil(sink2.settled(*keys), timeout=WAIT_MS)
    assert len(server.log) == requests_before  # zero HTTP requests
    for key in keys:
        assert (sink2.ready[key].width, sink2.ready[key].height) == (64, 48)
    settle_stats(second, qtbot, disk_hits=len(keys), in_flight=0, queued=0)
    stats = second.stats()
    assert (stats.disk_hits, stats.fetched, stats.decoded, stats.failed) == (6, 0, 6, 0)


def test_an_in_process_pipeline_reads_the_workers_cache(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any, arun: Any, tmp_path: Path
) -> None:
    """One layout: the fallback pipeline (no processes) finds what the workers cached."""
    keys = [key for shard in serve_shards(server, 2) for key in shard]
    pipeline, sink = make_processes()
    pipeline.want(keys)
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
    arun(pipeline.aclose())
    requests_before = len(server.log)

    in_process = Sink()
    reference = ThumbnailPipeline(
        tmp_path / "cache", on_ready=in_process.on_ready, on_failed=in_process.on_failed
    )
    try:
        reference.want(keys)
        qtbot.waitUntil(in_process.settled(*keys), timeout=WAIT_MS)
        assert reference.stats().disk_hits == len(keys)
    finally:
        arun(reference.aclose())
    assert len(server.log) == requests_before


# ==================================================================================== restarts
def test_a_killed_worker_is_restarted_and_its_keys_still_load(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any, arun: Any, caplog: Any
) -> None:
    evens, odds = serve_shards(server, 3)
    _, gate = server.gate(path_of(odds[0]), server.routes[path_of(odds[0])].body)
    pipeline, sink = make_processes(max_connections=2)
    with caplog.at_level("WARNING", logger="qamera_desktop.core.thumbnails"):
        pipeline.want([*odds, *evens])
        qtbot.waitUntil(lambda: server.hits[path_of(odds[0])] == 1, timeout=WAIT_MS)
        even_pid, odd_pid = pipeline.worker_pids

        os.kill(odd_pid, signal.SIGKILL)
        qtbot.waitUntil(lambda: pipeline.worker_pids[1] != odd_pid, timeout=WAIT_MS)
        assert pipeline.worker_pids[0] == even_pid
        # the new worker is given the keys again and asks for the first one again
        qtbot.waitUntil(lambda: server.hits[path_of(odds[0])] == 2, timeout=WAIT_MS)
        gate.set()
        qtbot.waitUntil(sink.settled(*odds, *evens), timeout=WAIT_MS)

    assert sink.failed == {}
    assert sink.ready_order.count(odds[0]) == 1
    assert any("starting it again" in r.message for r in caplog.records)
    settle_stats(pipeline, qtbot, decoded=6, in_flight=0, queued=0)
    assert pipeline.stats().fetched == 6  # the killed download never completed
    new_pid = pipeline.worker_pids[1]
    arun(pipeline.aclose())
    assert is_gone(odd_pid)  # the dead one was reaped too, no zombie left
    assert is_gone(new_pid)
    assert is_gone(even_pid)


def test_a_worker_killed_while_idle_is_restarted(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any, arun: Any
) -> None:
    evens, odds = serve_shards(server, 2)
    pipeline, sink = make_processes()
    arun(pipeline.wait_started(), timeout=15)
    _, odd_pid = pipeline.worker_pids
    os.kill(odd_pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: pipeline.worker_pids[1] != odd_pid, timeout=WAIT_MS)
    pipeline.want([*odds, *evens])
    qtbot.waitUntil(sink.settled(*odds, *evens), timeout=WAIT_MS)
    assert sink.failed == {}


def test_a_worker_killed_before_it_was_connected_is_restarted(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any
) -> None:
    """Killed between construction and the first want(): noticed when the socket connects."""
    evens, odds = serve_shards(server, 2)
    pipeline, sink = make_processes()
    _, odd_pid = pipeline.worker_pids
    os.kill(odd_pid, signal.SIGKILL)
    os.waitid(os.P_PID, odd_pid, os.WEXITED | os.WNOWAIT)  # dead (not reaped: Popen does that)
    pipeline.want([*odds, *evens])
    qtbot.waitUntil(sink.settled(*odds, *evens), timeout=WAIT_MS)
    assert sink.failed == {}
    assert pipeline.worker_pids[1] != odd_pid


def fake_worker(stream: bytes) -> str:
    """A stand-in worker (python -c) that says it started, writes `stream` on its socket, then
    waits for EOF."""
    stream = frame(Progress(PipelineStats())) + stream
    return (
        "import socket, sys\n"
        "sock = socket.socket(fileno=int(sys.argv[1]))\n"
        f"sock.sendall(bytes.fromhex({stream.hex()!r}))\n"
        "while sock.recv(65536):\n"
        "    pass\n"
    )


@pytest.mark.parametrize(
    ("stream", "logged"),
    [
        (HEADER.pack(MAX_FRAME + 1), "stream is corrupt"),
        (HEADER.pack(3) + b"\xc1\xc1\xc1", "unreadable message"),
        (frame(Want([("u", 1)])), "unreadable message"),  # the app's message, not a worker's
    ],
    ids=["too-large", "garbage", "wrong-direction"],
)
def test_a_corrupt_stream_from_a_worker_restarts_it(
    server: ImageServer,
    make_processes: ProcessFactory,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: Any,
    stream: bytes,
    logged: str,
) -> None:
    """The app stops reading a corrupt worker (allocating nothing), restarts it, then gives up."""
    monkeypatch.setattr(process_module, "MAX_RESTARTS", 1)
    key = ThumbnailKey(server.add("/a.jpg", jpeg(100, 100)), 64)
    with caplog.at_level("WARNING", logger="qamera_desktop.core.thumbnails"):
        pipeline, sink = make_processes(
            processes=1, command=[sys.executable, "-c", fake_worker(stream)]
        )
        pipeline.want([key])
        qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {key: WORKER_STOPPED}
    assert server.log == []
    messages = [r.message for r in caplog.records]
    assert sum(logged in m for m in messages) == 2  # the first worker and its one restart
    assert any("starting it again" in m for m in messages)
    assert any("giving up" in m for m in messages)


@pytest.mark.parametrize("max_restarts", [0, 1])
def test_a_worker_that_dies_too_often_fails_its_keys(
    server: ImageServer,
    make_processes: ProcessFactory,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: Any,
    max_restarts: int,
) -> None:
    monkeypatch.setattr(process_module, "MAX_RESTARTS", max_restarts)
    evens, odds = serve_shards(server, 3)
    _, gate = server.gate(path_of(odds[0]), server.routes[path_of(odds[0])].body)
    pipeline, sink = make_processes(max_connections=2)
    pipeline.want([odds[0], odds[1]])
    with caplog.at_level("WARNING", logger="qamera_desktop.core.thumbnails"):
        for kill in range(max_restarts + 1):
            qtbot.waitUntil(lambda n=kill: server.hits[path_of(odds[0])] == n + 1, timeout=WAIT_MS)
            pid = pipeline.worker_pids[1]
            os.kill(pid, signal.SIGKILL)
            if kill < max_restarts:
                qtbot.waitUntil(lambda p=pid: pipeline.worker_pids[1] != p, timeout=WAIT_MS)
        qtbot.waitUntil(sink.settled(odds[0], odds[1]), timeout=WAIT_MS)
    gate.set()

    assert sink.failed == {odds[0]: WORKER_STOPPED, odds[1]: WORKER_STOPPED}
    assert sink.threads == {threading.get_ident()}
    assert len(pipeline.worker_pids) == 1  # only the even worker runs
    assert any("giving up" in r.message for r in caplog.records)

    # its other keys fail too, on the next loop turn; the other shard still loads
    pipeline.want([odds[2], *evens])
    assert odds[2] not in sink.failed
    qtbot.waitUntil(sink.settled(odds[2], *evens), timeout=WAIT_MS)
    assert sink.failed[odds[2]] == WORKER_STOPPED
    assert all(key in sink.ready for key in evens)
    pipeline.forget_failures()
    del sink.failed[odds[2]]
    pipeline.want([odds[2]])  # forgetting does not bring the worker back
    qtbot.waitUntil(sink.settled(odds[2]), timeout=WAIT_MS)
    assert sink.failed[odds[2]] == WORKER_STOPPED
    assert server.hits[path_of(odds[2])] == 0


def test_a_worker_that_cannot_start_hands_its_shard_to_this_process(
    server: ImageServer,
    make_processes: ProcessFactory,
    qtbot: Any,
    arun: Any,
    caplog: Any,
    tmp_path: Path,
) -> None:
    """A command that exits at once (a broken install): tried twice, then the shard loads in
    this process, with the same disk cache shard, and wait_started() does not hang."""
    key = ThumbnailKey(server.add("/a.jpg", jpeg(100, 100)), 64)
    with caplog.at_level("WARNING", logger="qamera_desktop.core.thumbnails"):
        pipeline, sink = make_processes(
            processes=1, command=[sys.executable, "-c", "raise SystemExit(3)"]
        )
        pipeline.want([key])
        arun(pipeline.wait_started(), timeout=15)
        qtbot.waitUntil(lambda: pipeline.worker_pids == [], timeout=WAIT_MS)
        qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
    assert sink.failed == {}
    assert sink.ready[key].width == 64
    assert server.paths() == ["/a.jpg"]
    assert sum("starting it again" in r.message for r in caplog.records) == 1
    assert any("loading in this process" in r.message for r in caplog.records)
    qtbot.waitUntil(lambda: pipeline.stats().decoded == 1, timeout=WAIT_MS)
    arun(pipeline.aclose())
    assert cache_name(key) in {p.name for p in (tmp_path / "cache").rglob("*.jpg")}


# ==================================================================================== closing
def test_aclose_stops_every_worker_and_is_idempotent(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any, arun: Any
) -> None:
    keys = [key for shard in serve_shards(server, 2) for key in shard]
    pipeline, sink = make_processes()
    pipeline.want(keys)
    qtbot.waitUntil(sink.settled(*keys), timeout=WAIT_MS)
    pids = pipeline.worker_pids
    assert len(pids) == 2

    started = time.monotonic()
    arun(pipeline.aclose())
    assert time.monotonic() - started < process_module._EXIT_WAIT  # they exited when told
    assert all(is_gone(pid) for pid in pids)
    arun(pipeline.aclose())  # again: nothing to do, no error
    assert all(is_gone(pid) for pid in pids)


def test_aclose_before_any_use_stops_the_workers(make_processes: ProcessFactory, arun: Any) -> None:
    pipeline, _ = make_processes()
    pids = pipeline.worker_pids
    started = time.monotonic()
    arun(pipeline.aclose())  # never connected: Close goes over the plain socket
    assert time.monotonic() - started < process_module._EXIT_WAIT
    assert all(is_gone(pid) for pid in pids)


def test_aclose_while_loading_stops_the_workers(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any, arun: Any
) -> None:
    evens, odds = serve_shards(server, 1)
    _, gate_even = server.gate(path_of(evens[0]), server.routes[path_of(evens[0])].body)
    _, gate_odd = server.gate(path_of(odds[0]), server.routes[path_of(odds[0])].body)
    pipeline, sink = make_processes()
    pipeline.want([evens[0], odds[0]])
    qtbot.waitUntil(lambda: len(server.log) == 2, timeout=WAIT_MS)
    pids = pipeline.worker_pids
    started = time.monotonic()
    arun(pipeline.aclose())
    assert time.monotonic() - started < process_module._EXIT_WAIT  # downloads are cancelled
    assert all(is_gone(pid) for pid in pids)
    gate_even.set()
    gate_odd.set()
    qtbot.wait(200)
    assert sink.ready == {}
    assert sink.failed == {}


def test_a_stuck_worker_is_killed_at_close(
    make_processes: ProcessFactory, arun: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process_module, "_EXIT_WAIT", 0.5)
    pipeline, _ = make_processes()
    arun(pipeline.wait_started(), timeout=15)
    pids = pipeline.worker_pids
    os.kill(pids[0], signal.SIGSTOP)  # cannot read Close
    started = time.monotonic()
    arun(pipeline.aclose())
    assert time.monotonic() - started >= 0.45  # it was given its chance first
    assert all(is_gone(pid) for pid in pids)


def test_want_after_aclose_does_nothing(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any, arun: Any
) -> None:
    key = ThumbnailKey(server.add("/a.jpg", jpeg(100, 100)), 64)
    bad = ThumbnailKey("ftp://127.0.0.1/a.jpg", 64)
    pipeline, sink = make_processes()
    arun(pipeline.aclose())
    pipeline.want([key, bad])
    pipeline.forget_failures()
    pipeline.forget_failures([key])
    qtbot.wait(300)
    assert sink.ready == {}
    assert sink.failed == {}
    assert server.log == []


def test_constructor_checks_its_limits(tmp_path: Path) -> None:
    def noop(*args: Any) -> None:
        pass

    invalid: list[dict[str, Any]] = [
        {"processes": 0},
        {"processes": 3, "max_connections": 2},
        {"decode_workers": 0},
    ]
    for options in invalid:
        with pytest.raises(ValueError, match="at least one process"):
            ProcessPipeline(tmp_path, on_ready=noop, on_failed=noop, **options)


def test_a_missing_worker_executable_raises_oserror(tmp_path: Path) -> None:
    def noop(*args: Any) -> None:
        pass

    with pytest.raises(OSError):  # noqa: PT011 (whichever OSError the platform gives)
        ProcessPipeline(tmp_path, on_ready=noop, on_failed=noop, command=["/nonexistent/python"])


# ==================================================================================== factory
def test_open_pipeline_uses_processes_by_default(tmp_path: Path, arun: Any) -> None:
    assert processes_supported()
    sink = Sink()
    pipeline = open_pipeline(tmp_path, on_ready=sink.on_ready, on_failed=sink.on_failed)
    try:
        assert isinstance(pipeline, ProcessPipeline)
        assert len(pipeline.worker_pids) == 2
    finally:
        arun(pipeline.aclose())


def test_open_pipeline_with_a_transport_stays_in_process(tmp_path: Path, arun: Any) -> None:
    sink = Sink()
    transport = httpx.MockTransport(lambda request: httpx.Response(404))
    pipeline = open_pipeline(
        tmp_path, on_ready=sink.on_ready, on_failed=sink.on_failed, transport=transport
    )
    try:
        assert isinstance(pipeline, ThumbnailPipeline)
    finally:
        arun(pipeline.aclose())


@pytest.mark.parametrize(("value", "processes"), [("0", False), ("1", True), ("", True)])
def test_the_environment_can_turn_processes_off(
    tmp_path: Path, arun: Any, monkeypatch: pytest.MonkeyPatch, value: str, processes: bool
) -> None:
    monkeypatch.setenv("QAMERA_THUMBNAIL_PROCESSES", value)
    assert processes_supported() is processes
    sink = Sink()
    pipeline = open_pipeline(tmp_path, on_ready=sink.on_ready, on_failed=sink.on_failed)
    try:
        assert isinstance(pipeline, ProcessPipeline) is processes
        assert isinstance(pipeline, ThumbnailPipeline) is not processes
    finally:
        arun(pipeline.aclose())


def test_open_pipeline_falls_back_when_workers_cannot_start(
    server: ImageServer,
    tmp_path: Path,
    qtbot: Any,
    arun: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: Any,
) -> None:
    monkeypatch.setattr(process_module, "worker_command", lambda: ["/nonexistent/python"])
    sink = Sink()
    with caplog.at_level("WARNING", logger="qamera_desktop.core.thumbnails"):
        pipeline = open_pipeline(tmp_path, on_ready=sink.on_ready, on_failed=sink.on_failed)
    try:
        assert isinstance(pipeline, ThumbnailPipeline)
        assert any("loading in-process" in r.message for r in caplog.records)
        key = ThumbnailKey(server.add("/a.jpg", jpeg(100, 100)), 64)
        pipeline.want([key])  # and the fallback works
        qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
        assert key in sink.ready
    finally:
        arun(pipeline.aclose())


def test_worker_command_runs_this_package() -> None:
    command = worker_command()
    assert command[0] == sys.executable
    assert command[-1] == "--thumbnail-worker"
    assert command[1:3] == ["-m", "qamera_desktop"]


# ==================================================================================== command line
def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qamera_desktop", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


@pytest.mark.parametrize(
    "args",
    [(), ("x",), ("x", "{}"), ("3",), ("3", "{}", "extra")],
    ids=["nothing", "not-a-fd", "fd-not-a-number", "no-config", "too-many"],
)
def test_worker_flag_with_wrong_arguments_prints_usage(args: tuple[str, ...]) -> None:
    result = run_cli("--thumbnail-worker", *args)
    assert result.returncode == 2
    assert "usage: qamera-desktop --thumbnail-worker FD CONFIG_JSON" in result.stderr
    assert result.stdout == ""


def test_worker_flag_with_an_incomplete_config_says_so() -> None:
    result = run_cli("--thumbnail-worker", "3", '{"cache_dir": "/c"}')
    assert result.returncode == 2
    assert "invalid thumbnail worker configuration" in result.stderr
    assert "Traceback" not in result.stderr


def test_worker_flag_with_malformed_json_says_so() -> None:
    result = run_cli("--thumbnail-worker", "3", "not json")
    assert "Traceback" not in result.stderr
    assert result.returncode == 2


def test_worker_flag_does_not_import_qt() -> None:
    code = (
        "import sys\n"
        "from qamera_desktop.cli import main\n"
        "rc = main(['--thumbnail-worker', 'x'])\n"
        "print(rc, sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'qasync')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2 []"


def test_help_does_not_mention_the_worker_flag() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "--demo" in result.stdout  # it is the real help
    assert "thumbnail-worker" not in result.stdout
    assert "thumbnail-worker" not in result.stderr


# ==================================================================================== the worker
@pytest.fixture
def worker(tmp_path: Path) -> Iterator[WorkerProcess]:
    proc = WorkerProcess(tmp_path / "cache", stderr=tmp_path / "worker.err")
    yield proc
    proc.close()


def test_worker_speaks_the_protocol(server: ImageServer, worker: WorkerProcess) -> None:
    started = worker.receive()
    assert isinstance(started, Progress)  # "started", with zero counters
    assert started.counters.fetched == started.counters.queued == 0

    good = (server.add("/a.jpg", jpeg(200, 100)), 64)
    bad = (server.url("/missing.jpg"), 64)
    worker.send(Want([good, bad]))
    results: dict[tuple[str, int], Any] = {}
    last_progress = None  # the counters sent after the latest result
    while len(results) < 2 or last_progress is None or last_progress.counters.in_flight:
        message = worker.receive()
        if isinstance(message, Progress):
            last_progress = message
        else:
            assert isinstance(message, Ready | Failed)
            results[message.key] = message
            last_progress = None
    ready, failed = results[good], results[bad]
    assert isinstance(ready, Ready)
    assert (ready.width, ready.height, ready.source_pixels) == (64, 32, 200 * 100)
    assert len(ready.data) == 64 * 32 * 3
    assert isinstance(failed, Failed)
    assert failed.reason == "HTTP 404"
    assert last_progress is not None
    assert last_progress.counters.fetched == 1
    assert last_progress.counters.failed == 1

    worker.send(Close())
    assert worker.proc.wait(timeout=10) == 0
    assert worker.stderr == ""


def test_worker_ignores_sigint_and_exits_at_end_of_stream(
    server: ImageServer, worker: WorkerProcess
) -> None:
    assert isinstance(worker.receive(), Progress)
    os.kill(worker.proc.pid, signal.SIGINT)  # Ctrl+C in the terminal reaches the whole group
    key = (server.add("/a.jpg", jpeg(100, 100)), 32)
    worker.send(Want([key]))
    message = worker.receive()
    while isinstance(message, Progress):
        message = worker.receive()
    assert isinstance(message, Ready)
    assert worker.proc.poll() is None

    worker.sock.shutdown(socket.SHUT_WR)  # the app went away
    assert worker.proc.wait(timeout=10) == 0


def test_worker_stops_at_a_frame_too_large(worker: WorkerProcess) -> None:
    assert isinstance(worker.receive(), Progress)
    worker.sock.sendall(HEADER.pack(MAX_FRAME + 1))  # a corrupt stream: nothing is allocated
    assert worker.proc.wait(timeout=10) != 0  # it stops (the app starts a fresh one)
    assert f"frame of {MAX_FRAME + 1} bytes" in worker.stderr
    with pytest.raises((EOFError, ConnectionError)):
        worker.receive()


def test_workers_run_below_the_app_s_priority(make_processes: ProcessFactory, arun: Any) -> None:
    from qamera_desktop.core.thumbnails import worker as worker_module

    pipeline, _ = make_processes()
    arun(pipeline.wait_started())  # past the worker's os.nice()
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    expected = min(19, mine + worker_module.NICENESS)
    assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in pipeline.worker_pids] == [
        expected,
        expected,
    ]


def test_restarts_long_ago_do_not_count(
    server: ImageServer, make_processes: ProcessFactory, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MAX_RESTARTS counts within RESTART_WINDOW: a worker that dies now and then is always
    started again, and its keys load."""
    monkeypatch.setattr(process_module, "MAX_RESTARTS", 1)
    monkeypatch.setattr(process_module, "RESTART_WINDOW", 0.0)
    _, odds = serve_shards(server, 3)
    pipeline, sink = make_processes()
    for key in odds:  # three deaths, each after a healthy load: more than MAX_RESTARTS
        pipeline.want([key])
        qtbot.waitUntil(sink.settled(key), timeout=WAIT_MS)
        pid = pipeline.worker_pids[1]
        os.kill(pid, signal.SIGKILL)
        qtbot.waitUntil(
            lambda p=pid: len(pipeline.worker_pids) == 2 and pipeline.worker_pids[1] != p,
            timeout=WAIT_MS,
        )
    assert sink.failed == {}
    assert set(sink.ready) == set(odds)


def test_a_caller_giving_up_on_wait_started_does_not_break_it(
    make_processes: ProcessFactory, arun: Any
) -> None:
    pipeline, _ = make_processes()

    async def impatient() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(pipeline.wait_started(), 0.0001)

    arun(impatient())
    arun(pipeline.wait_started(), timeout=15)  # still works, not CancelledError


def test_closing_before_the_workers_read_anything_does_not_block(
    server: ImageServer, make_processes: ProcessFactory, arun: Any
) -> None:
    """A worker that never reads, and a large want() queued for it: aclose() does not wait on
    the socket (it closes it; the end of the stream stops a real worker)."""
    never_reads = "import time\nwhile True:\n    time.sleep(1)\n"
    pipeline, _ = make_processes(processes=1, command=[sys.executable, "-c", never_reads])
    pipeline.want([ThumbnailKey(server.url(f"/{n}-{'x' * 200}.jpg"), 64) for n in range(30_000)])
    started = time.monotonic()
    arun(pipeline.aclose(), timeout=30)
    assert time.monotonic() - started < process_module._EXIT_WAIT + 2  # then it is killed
    assert pipeline.worker_pids == [] or all(is_gone(pid) for pid in pipeline.worker_pids)


def test_workers_do_not_get_the_account_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from qamera_desktop.core.secret_store import API_KEY_ENV

    monkeypatch.setenv(API_KEY_ENV, "mk_live_abc123.secret456")
    monkeypatch.setenv("QAMERA_SOMETHING_ELSE", "kept")
    env = process_module.worker_environment()
    assert API_KEY_ENV not in env
    assert env["QAMERA_SOMETHING_ELSE"] == "kept"
    assert env["PATH"] == os.environ["PATH"]
