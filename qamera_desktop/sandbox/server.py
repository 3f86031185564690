"""Running the sandbox: uvicorn in a background thread, behind a small handle.

    with start_sandbox(tmp_path, SandboxConfig(fast=True)) as sandbox:
        httpx.get(f"{sandbox.base_url}/api/external/products",
                  headers={"X-Api-Key": sandbox.demo_key})

The socket is bound before uvicorn starts (port 0 picks a free port), and `start_sandbox` returns
once uvicorn reports that it is serving, so the first request never races the start-up.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from qamera_desktop.sandbox.app import Runtime, build_app
from qamera_desktop.sandbox.cdn import ThumbnailCache
from qamera_desktop.sandbox.config import ConfigHolder, SandboxConfig
from qamera_desktop.sandbox.keys import DEMO_API_KEY
from qamera_desktop.sandbox.ratelimit import SlidingWindowLimiter
from qamera_desktop.sandbox.stats import SandboxStats, StatsRecorder
from qamera_desktop.sandbox.store import LedgerReport, Store
from qamera_desktop.sandbox.worker import Worker

log = logging.getLogger(__name__)

STARTUP_TIMEOUT = 60.0
SHUTDOWN_TIMEOUT = 15.0


class SandboxError(RuntimeError):
    """The sandbox could not start."""


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then; without it
    # every response waits ~40 ms for a delayed ACK (Nagle), even on loopback.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # Only on Linux, where it means "the port of a server that just stopped may be taken again":
    # on Windows it lets two servers share a port, and on macOS it lets this loopback address be
    # bound while another program listens on the port's wildcard address (the demo asks for the
    # port of its last run)
    if sys.platform.startswith("linux"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class SandboxHandle:
    """A sandbox serving in a background thread. Stop it with `stop()` or a `with` block."""

    def __init__(
        self,
        data_dir: Path,
        runtime: Runtime,
        server: uvicorn.Server,
        sock: socket.socket,
        executor: ThreadPoolExecutor,
    ) -> None:
        self.data_dir = data_dir
        self.base_url = _base_url(sock)
        self.port: int = sock.getsockname()[1]
        """The port it listens on (the system's choice when it was started with port 0)."""
        self.demo_key = DEMO_API_KEY
        self._runtime = runtime
        self._server = server
        self._sock = sock
        self._executor = executor
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._stop_lock = threading.Lock()
        self._stopped = False

    # life cycle

    def _serve(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # SystemExit from a failed start-up, too
            self._error = exc
        finally:
            self._sock.close()
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._runtime.store.close()

    def _start(self, timeout: float) -> None:
        self._thread = threading.Thread(target=self._serve, name="qamera-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise SandboxError(f"the sandbox did not start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise SandboxError("the sandbox did not start in time")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and wait for the thread; unfinished images resume at the next start."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self._server.should_exit = True
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(SHUTDOWN_TIMEOUT)
            if thread.is_alive():  # pragma: no cover - a handler that never returns
                self._server.force_exit = True
                thread.join(SHUTDOWN_TIMEOUT)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopped

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # knobs and observations

    @property
    def config(self) -> SandboxConfig:
        return self._runtime.config.current

    def reconfigure(self, **changes: Any) -> SandboxConfig:
        """Change fault knobs while running: error_rate, latency_ms, failure_rate,
        processing_seconds (also leaves fast mode), fast, rate_limit (resets the window)."""
        config = self._runtime.config.reconfigure(**changes)
        if "rate_limit" in changes:
            self._runtime.limiter.reset()
        return config

    def stats(self) -> SandboxStats:
        return self._runtime.stats.snapshot()

    def reset_stats(self) -> None:
        self._runtime.stats.reset()

    def ledger(self) -> LedgerReport:
        """The credit ledger of all accounts (balances, reservations, the invariant)."""
        return self._runtime.store.ledger_report()

    def __repr__(self) -> str:
        return f"SandboxHandle({self.base_url!r}, data_dir={str(self.data_dir)!r})"


def create_runtime(data_dir: Path, config: SandboxConfig) -> tuple[Runtime, ThreadPoolExecutor]:
    """Open (and on first use seed) the data directory; build what the app and the worker share."""
    store = Store.open(data_dir)
    try:
        store.initialize(config.credits, config.seed_images, config.extra_demo_keys)
    except BaseException:
        store.close()
        raise
    executor = ThreadPoolExecutor(config.render_threads, thread_name_prefix="sandbox-render")
    holder = ConfigHolder(config)
    thumbnails = ThumbnailCache(data_dir, store, executor)
    runtime = Runtime(
        config=holder,
        store=store,
        limiter=SlidingWindowLimiter(
            config.rate_limit_per_minute, config.rate_limit_window_seconds
        ),
        stats=StatsRecorder(),
        thumbnails=thumbnails,
        worker=Worker(store, holder, thumbnails, executor),
    )
    return runtime, executor


def start_sandbox(
    data_dir: Path,
    config: SandboxConfig = SandboxConfig(),  # noqa: B008 - frozen, so a shared default is safe
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = STARTUP_TIMEOUT,
) -> SandboxHandle:
    """Start a sandbox on `host:port` (0: any free port) in a daemon thread; return once it
    listens."""
    runtime, executor = create_runtime(Path(data_dir), config)
    try:
        sock = _bind(host, port)
    except OSError:
        executor.shutdown(wait=False)
        runtime.store.close()
        raise
    uv_config = uvicorn.Config(
        build_app(runtime),
        log_config=None,  # leave the host application's logging alone
        log_level="warning",
        access_log=False,
        lifespan="on",
        loop="asyncio",
        # uvicorn's C parser (httptools, a dependency): less CPU per request than h11, which
        # matters in demo mode, where the sandbox shares the machine (or the process) with the app
        http="httptools",
        ws="none",
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    handle = SandboxHandle(Path(data_dir), runtime, uvicorn.Server(uv_config), sock, executor)
    handle._start(startup_timeout)
    log.info("Qamera sandbox serving %s from %s", handle.base_url, data_dir)
    return handle
