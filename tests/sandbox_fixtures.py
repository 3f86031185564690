"""Reusable pieces for tests that talk to the real sandbox over loopback HTTP.

In a conftest.py:

    from tests.sandbox_fixtures import make_sandbox_fixtures
    sandbox_factory, sandbox = make_sandbox_fixtures()  # or e.g. (failure_rate=0.1)

`sandbox` is a fresh sandbox per test (its own temporary data directory, fast processing, no worker
failures, no rate limit unless asked); `sandbox_factory(**overrides)` starts more, or differently
configured ones (`sandbox_factory(rate_limit=True)`, `sandbox_factory(data_dir=same_dir)`), and
stops them all after the test. `api_client()` gives a synchronous httpx client with the key set,
`wait_until()` polls with a deadline instead of sleeping, `SandboxProcess` runs
`python -m qamera_desktop.sandbox` as a child process.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from qamera_desktop.sandbox import SandboxConfig, SandboxHandle, start_sandbox

TEST_CONFIG = SandboxConfig(fast=True, failure_rate=0.0, rate_limit=False)
"""Sandboxes for tests: ~0.05 s per image, nothing fails, no rate limit (each test turns knobs)."""

API = "/api/external"


def make_sandbox_fixtures(
    **defaults: Any,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Return (`sandbox_factory`, `sandbox`) fixtures whose config is TEST_CONFIG + `defaults`."""
    base = replace(TEST_CONFIG, **defaults)

    @pytest.fixture
    def sandbox_factory(
        tmp_path_factory: pytest.TempPathFactory,
    ) -> Iterator[Callable[..., SandboxHandle]]:
        started: list[SandboxHandle] = []

        def start(data_dir: Path | None = None, **overrides: Any) -> SandboxHandle:
            if "processing_seconds" in overrides:  # an explicit processing time leaves fast mode
                overrides.setdefault("fast", False)
            directory = data_dir or tmp_path_factory.mktemp("sandbox")
            handle = start_sandbox(directory, replace(base, **overrides))
            started.append(handle)
            return handle

        yield start
        for handle in reversed(started):
            handle.stop()

    @pytest.fixture
    def sandbox(sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
        return sandbox_factory()

    return sandbox_factory, sandbox


def api_client(base_url: str, key: str | None, timeout: float = 15.0) -> httpx.Client:
    """A client for the sandbox at `base_url` sending `key` as X-Api-Key (none if None)."""
    headers = {"X-Api-Key": key} if key is not None else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout)


def wait_until[T](
    predicate: Callable[[], T | None], timeout: float = 15.0, interval: float = 0.02, what: str = ""
) -> T:
    """Poll `predicate` until it returns something truthy (returned); fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or predicate!r}")
        time.sleep(interval)


def list_images(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}/image-picker", params=params)
    response.raise_for_status()
    images: list[dict[str, Any]] = response.json()["images"]
    return images


def statuses(client: httpx.Client, ids: list[str], product_id: str) -> dict[str, str]:
    """Status of each of `ids`, read the way the app does: the listing filtered by product."""
    by_id = {im["id"]: im["status"] for im in list_images(client, productId=product_id)}
    return {i: by_id[i] for i in ids if i in by_id}


def all_finished(client: httpx.Client, ids: list[str], product_id: str) -> dict[str, str] | None:
    now = statuses(client, ids, product_id)
    if len(now) == len(ids) and all(s in ("DONE", "FAILED") for s in now.values()):
        return now
    return None


_FIRST_LINE = re.compile(r"(http://\S+) with demo key (\S+)")


class SandboxProcess:
    """`python -m qamera_desktop.sandbox` in a child process, for kill -9 and command line tests."""

    def __init__(
        self, data_dir: Path, *args: str, startup_timeout: float = 60.0, nice: int = 0
    ) -> None:
        """`nice`: run it below the other processes (POSIX), as a server on another machine
        would be: for benchmarks of the window on a machine with few cores."""
        self.stderr_path = data_dir.with_name(data_dir.name + ".stderr.log")
        self._stderr = self.stderr_path.open("a")
        niced = ["nice", "-n", str(nice)] if nice and shutil.which("nice") else []
        self.proc = subprocess.Popen(
            [
                *niced,
                sys.executable,
                "-m",
                "qamera_desktop.sandbox",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.first_line = self._read_first_line(startup_timeout)
        match = _FIRST_LINE.search(self.first_line)
        if match is None:
            self.kill()
            pytest.fail(f"unexpected first line from the sandbox: {self.first_line!r}")
        self.base_url, self.demo_key = match.group(1), match.group(2)

    def _read_first_line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        result: list[str] = []
        reader = threading.Thread(
            target=lambda: result.append(self.proc.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(timeout)
        if not result or not result[0]:
            self.kill()
            pytest.fail(f"the sandbox printed no first line in {timeout} s:\n{self.stderr()}")
        return result[0]

    def stderr(self) -> str:
        """What the child wrote to stderr so far."""
        return self.stderr_path.read_text()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as if the machine had pulled the plug on the process."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._close_pipes()

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self._close_pipes()
        return code

    def _close_pipes(self) -> None:
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.kill()
        else:
            self._close_pipes()
