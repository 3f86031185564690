"""The thumbnail pipeline in one worker process, so that its work never holds the GUI's GIL.

Why a process: on a thread of the app's own process (ThumbnailThread), downloading with httpx and
decoding with Pillow take turns with the GUI thread on one GIL. Measured side by side while the
grid filled 1,000 thumbnails (`make bench`, 2 cores): the GUI thread's longest stall was 23-141 ms
on a thread (median ~60 ms, over the 34 ms of two frames) and ~20 ms with the work in a process.

The worker is the app itself started with `WORKER_FLAG` (frozen or not, on every OS). It runs a
ThumbnailThread; plain framing over its stdin and stdout: each message is a 4-byte marker, a
4-byte little-endian length and a pickle (the app and its own worker, never anything else). In:
its configuration, then each wanted list; the end of its input tells it to stop. Out: one batch
of results per message, as ThumbnailThread delivers them. The app reads them on a thread of its
own and hands each batch to `deliver` there.

A worker takes ~0.2 s to start (an interpreter, Pillow, httpx), which would come after the app's
own start. So the app starts one at once (`start_spare_worker()`, before its own imports), and
the first ThumbnailProcess takes it: the worker is ready, configured by its first message, when
the first thumbnails are wanted. The worker imports what it needs before it reads that message.

If the worker cannot start or dies, its wanted keys load in this process instead (ThumbnailThread):
thumbnails keep coming, only the GUI stalls come back. That is logged once.

The worker logs into a rotating file of its own beside the app's (`WORKER_LOG_FILE_NAME` in the
folder the app logs into, `active_log_folder()`, passed in its config), through the same redaction
filter (`core/log_setup.py`); it gets no API key to leak (`API_KEY_ENV` is taken out of its
environment). Its stderr is the app's, or /dev/null where the app has none (a windowed app on
Windows, whose missing standard handle Popen could not pass on).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Final

from qamera_desktop import THUMBNAIL_WORKER_FLAG as WORKER_FLAG

from ..key_env import API_KEY_ENV
from ..log_setup import (
    WORKER_LOG_FILE_NAME,
    active_log_folder,
    configure_console_logging,
    configure_logging,
)
from .records import ThumbnailKey
from .thumbnail_thread import CLOSE_SECONDS, Deliver, ThumbnailThread

log = logging.getLogger(__name__)

_HEADER: Final = struct.Struct("<4sI")
_MAGIC: Final = b"QDTW"
"""Starts every frame: bytes that are not a frame (a stray write to the pipe) are an error to
the reader (which then loads in the app), never a length to wait for."""


def write_message(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(_MAGIC, len(data)))
    stream.write(data)
    stream.flush()


def read_message(stream: IO[bytes]) -> Any:
    """The next message, or None at the end of the stream (or a cut-off message); ValueError
    for bytes that are not a frame."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    magic, size = _HEADER.unpack(header)
    if magic != _MAGIC:
        raise ValueError(f"not a frame of the thumbnail worker: {header!r}")
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)  # noqa: S301 - our own worker, over its own pipe


_spare: list[subprocess.Popen[bytes]] = []
"""The worker started ahead by `start_spare_worker()`, until a ThumbnailProcess takes it."""


def start_spare_worker() -> None:
    """Start a worker now, for the first ThumbnailProcess to take (see the module's docstring).
    A spare no process takes ends with the app: its input closes before any configuration."""
    if _spare:
        return
    try:
        _spare.append(_spawn())
    except OSError as exc:  # the ThumbnailProcess will try again, and say so if it fails
        log.debug("No spare thumbnail worker: %s", exc)


def _spawn() -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != API_KEY_ENV}
    return subprocess.Popen(  # noqa: S603
        worker_command(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if sys.stderr is None else None,
        env=env,
    )


def _configured(
    spare: subprocess.Popen[bytes] | None, config: dict[str, Any]
) -> subprocess.Popen[bytes] | None:
    """A worker that has its configuration: the spare, else (it ended) a new one; None when
    none can start (the caller loads in the app)."""
    if spare is not None:
        if _send_config(spare, config):
            return spare
        log.info("The spare thumbnail worker had ended; starting another")
    try:
        process = _spawn()
    except OSError as exc:
        log.warning("The thumbnail worker could not start (%s); loading in the app", exc)
        return None
    if _send_config(process, config):
        return process
    log.warning("The thumbnail worker ended as it started; loading in the app")
    return None


def _send_config(process: subprocess.Popen[bytes], config: dict[str, Any]) -> bool:
    """Give `process` its configuration; False, the process ended and its pipes closed, when it
    cannot take it."""
    try:
        assert process.stdin is not None
        write_message(process.stdin, config)
    except OSError:
        _discard(process)
        return False
    return True


def _discard(process: subprocess.Popen[bytes]) -> None:
    """End a worker that is of no use, and close its pipes."""
    with contextlib.suppress(OSError):
        process.kill()
    process.wait()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def worker_command() -> list[str]:
    """How this app starts itself as a thumbnail worker."""
    if getattr(sys, "frozen", False):  # a PyInstaller build: the executable is the app
        return [sys.executable, WORKER_FLAG]
    return [sys.executable, "-m", "qamera_desktop", WORKER_FLAG]


class ThumbnailProcess:
    """ThumbnailThread's interface, with the thread in a worker process. `deliver` is called on
    this process's reader thread. Keyword arguments go to ThumbnailPipeline (plain values)."""

    def __init__(self, cache_dir: Path, *, deliver: Deliver, **pipeline_options: Any) -> None:
        self._deliver = deliver
        self._in_app = functools.partial(
            ThumbnailThread, cache_dir, deliver=deliver, **pipeline_options
        )
        self._lock = threading.Lock()
        self._wanted: list[ThumbnailKey] = []
        self._fallback: ThumbnailThread | None = None
        self._closing = False
        self._process: subprocess.Popen[bytes] | None = None
        logs = active_log_folder()
        config = {
            "cache_dir": str(cache_dir),
            "log_folder": str(logs) if logs is not None else None,
            "options": pipeline_options,
        }
        self._process = _configured(_spare.pop() if _spare else None, config)
        if self._process is None:
            self._fallback = self._in_app()
            return
        self._reader = threading.Thread(target=self._read, name="thumbnail-results", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        """The worker's process id; None while thumbnails load in this process instead."""
        with self._lock:
            if self._fallback is not None or self._process is None:
                return None
            return self._process.pid

    def want(self, keys: Sequence[ThumbnailKey]) -> None:
        with self._lock:
            if self._closing:
                return
            self._wanted = list(keys)
            if self._fallback is not None:
                self._fallback.want(self._wanted)
                return
            try:
                write_message(self._pipes()[0], self._wanted)
            except (OSError, ValueError):  # a broken pipe: the reader thread says why
                self._fall_back()

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
        if self._fallback is not None:  # none can start once closing
            self._fallback.close(timeout)
        if self._process is None:
            return
        stdin, stdout = self._pipes()
        with contextlib.suppress(OSError):
            stdin.close()  # the end of its input: the worker stops
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("The thumbnail worker did not stop in %.0f s; killed", timeout)
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout)  # it reads to the end of the worker's output first
        stdout.close()

    # -- inside --------------------------------------------------------------------------------
    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        """The worker's stdin and stdout (both pipes: never None once it started)."""
        assert self._process is not None
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        return self._process.stdin, self._process.stdout

    def _read(self) -> None:
        stdout = self._pipes()[1]
        try:
            while (batch := read_message(stdout)) is not None:
                try:
                    self._deliver(batch)
                except Exception:
                    log.exception("Thumbnail delivery raised")
        except (OSError, ValueError, pickle.UnpicklingError):
            log.exception("Unreadable message from the thumbnail worker")
        with self._lock:
            if not self._closing:
                assert self._process is not None
                log.warning(
                    "The thumbnail worker ended (exit status %s); loading in the app",
                    self._process.poll(),
                )
                self._fall_back()

    def _fall_back(self) -> None:
        """Under the lock: load the wanted keys in this process from now on."""
        if self._fallback is None:
            self._fallback = self._in_app()
            self._fallback.want(self._wanted)


def worker_main() -> int:
    """The worker process: `qamera-desktop --thumbnail-worker`, configured by its first message."""
    if hasattr(os, "nice"):
        os.nice(5)  # below the GUI: the app's window comes first on a busy machine
    # the frames go to the pipe the app reads; anything else written to stdout, by Python or
    # by a library's C code, goes to stderr instead of between the frames
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    # what the thumbnails need, imported and warmed up before waiting: a spare worker is ready
    # when taken
    from . import decode, pipeline  # noqa: F401

    decode.warm_up()

    config = read_message(sys.stdin.buffer)
    if config is None:  # a spare that the app never needed
        return 0
    _log_to(config.get("log_folder"))
    # One writer: results are delivered on the thumbnail thread only.
    deliver = functools.partial(write_message, results)
    thread = ThumbnailThread(Path(config["cache_dir"]), deliver=deliver, **config["options"])
    try:
        while (keys := read_message(sys.stdin.buffer)) is not None:
            thread.want(keys)
    finally:
        thread.close()
    return 0


def _log_to(folder: str | None) -> None:
    """The worker's logging: its own rotating file in the app's log folder (and stderr, at
    $QAMERA_LOG_LEVEL), or stderr alone when the app logs to no folder; redacted either way."""
    if folder:
        configure_logging(Path(folder), file_name=WORKER_LOG_FILE_NAME)
    else:
        configure_console_logging()
