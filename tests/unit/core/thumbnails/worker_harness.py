"""A real thumbnail worker process started by hand on a socket pair (no pipeline), and the
WorkerConfig the tests start workers with."""

from __future__ import annotations

import contextlib
import mmap
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from qamera_desktop.core.thumbnails.pixel_ring import create_ring, read_pixels
from qamera_desktop.core.thumbnails.process_pipeline import worker_command
from qamera_desktop.core.thumbnails.worker_protocol import (
    HEADER,
    Failed,
    FromWorker,
    Progress,
    Ready,
    ToWorker,
    WorkerConfig,
    frame,
    frame_length,
    from_worker_decoder,
)

WAIT_MS = 15_000
WAIT_S = WAIT_MS / 1000

KeyTuple = tuple[str, int]


def worker_config(cache_dir: str | Path, **overrides: Any) -> WorkerConfig:
    """The tests' WorkerConfig: one shard, two connections, one decode thread, roomy limits and
    no pixel ring; `overrides` replace fields by name."""
    config = WorkerConfig(
        cache_dir=str(cache_dir),
        shard=0,
        shards=1,
        max_connections=2,
        decode_workers=1,
        disk_cache_bytes=10**8,
        write_back_bytes=10**7,
        max_download_bytes=10**7,
        max_pixels=10**8,
        timeout=10.0,
    )
    return msgspec.structs.replace(config, **overrides)


class WorkerProcess:
    """A real worker started by hand on a socket pair, with a pixel ring of `ring_bytes` (0: none),
    spoken to with blocking reads; remembers how the frames came in (a list per recv)."""

    def __init__(
        self,
        cache_dir: Path,
        stderr: Path,
        *,
        ring_bytes: int = 0,
        max_connections: int = 2,
        foreign_ring_fd: int | None = None,
    ) -> None:
        self.sock, theirs = socket.socketpair()
        self.stderr_path = stderr
        self.ring: mmap.mmap | None = None
        self._pending = bytearray()
        fds = [theirs.fileno()]
        ring_fd = -1
        made = create_ring(ring_bytes) if ring_bytes > 0 else None
        if ring_bytes > 0:
            assert made is not None
        if made is not None:
            ring_fd, self.ring = made
            fds.append(ring_fd)
        if foreign_ring_fd is not None:
            ring_fd, ring_bytes = foreign_ring_fd, 4096
            fds.append(foreign_ring_fd)
        config = worker_config(
            cache_dir, max_connections=max_connections, ring_fd=ring_fd, ring_bytes=ring_bytes
        )
        try:
            with stderr.open("wb") as err:
                self.proc = subprocess.Popen(
                    [*worker_command(), str(theirs.fileno()), msgspec.json.encode(config).decode()],
                    pass_fds=fds,
                    stdin=subprocess.DEVNULL,
                    stderr=err,
                )
        except BaseException:
            self.sock.close()
            if self.ring is not None:
                self.ring.close()
            raise
        finally:
            theirs.close()
            if made is not None:
                os.close(made[0])  # the mapping keeps the memory
        self.sock.settimeout(WAIT_S)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def send(self, message: ToWorker) -> None:
        self.sock.sendall(frame(message))

    def _recv(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("the worker closed the socket")
        self._pending += chunk

    def _whole_frames(self) -> list[FromWorker]:
        messages: list[FromWorker] = []
        while len(self._pending) >= HEADER.size:
            length = frame_length(self._pending[: HEADER.size])
            if len(self._pending) < HEADER.size + length:
                break
            body = bytes(self._pending[HEADER.size : HEADER.size + length])
            del self._pending[: HEADER.size + length]
            messages.append(from_worker_decoder.decode(body))
        return messages

    def receive(self) -> FromWorker:
        """The next message (reads as much as it takes)."""
        while True:
            messages = self._whole_frames()
            if messages:
                # put back what came after the first one
                self._pending[:0] = b"".join(frame(m) for m in messages[1:])
                return messages[0]
            self._recv()

    def recv_batch(self) -> list[FromWorker]:
        """The whole frames that one recv brought (or an earlier recv, not yet handed out)."""
        messages = self._whole_frames()
        if messages:
            return messages
        self._recv()
        return self._whole_frames()

    def pixels(self, ready: Ready) -> bytes:
        if ready.ring_offset < 0:
            return ready.data
        assert self.ring is not None
        assert ready.data == b""
        return read_pixels(self.ring, ready.ring_offset, ready.width * ready.height * 3)

    def results(self, count: int) -> dict[KeyTuple, tuple[Ready | Failed, bytes]]:
        """The next `count` results by key, each with its pixels copied out at once."""
        found: dict[KeyTuple, tuple[Ready | Failed, bytes]] = {}
        while len(found) < count:
            message = self.receive()
            if isinstance(message, Ready):
                assert message.key not in found
                found[message.key] = (message, self.pixels(message))
            elif isinstance(message, Failed):
                found[message.key] = (message, b"")
        return found

    def started(self) -> None:
        message = self.receive()
        assert isinstance(message, Progress)  # "started"

    def close(self) -> None:
        self.sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        if self.ring is not None:
            self.ring.close()


def worker_starter(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """For a fixture to `yield from`: starts workers (options as WorkerProcess takes them), each
    with its own cache and stderr file below `tmp_path`, and closes them all afterwards."""
    with contextlib.ExitStack() as stack:
        started = 0

        def start(**options: Any) -> WorkerProcess:
            nonlocal started
            cache, err = tmp_path / f"cache{started}", tmp_path / f"worker{started}.err"
            started += 1
            worker = WorkerProcess(cache, err, **options)
            stack.callback(worker.close)
            return worker

        yield start
