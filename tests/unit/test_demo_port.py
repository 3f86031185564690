"""The demo sandbox starts on the port it had last time (app.py `_start_demo`): its images' URLs
name the port, and the thumbnail disk cache is keyed by URL, so a new port every start meant every
thumbnail downloaded again. When that port is taken by another program, or the file that remembers
it is missing or unreadable, the sandbox starts on any free port and the file names that one.

Real sandboxes on loopback (each stopped by the test), a real socket holding a port."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qamera_desktop.app import DEMO_PORT_FILE_NAME, _start_demo
from qamera_desktop.sandbox import DEMO_API_KEY, SandboxHandle
from tests.sandbox_fixtures import api_client, list_images

StartDemo = Callable[[], SandboxHandle]


@pytest.fixture
def sandbox_dir(tmp_path: Path) -> Path:
    return tmp_path / "sandbox"


@pytest.fixture
def start_demo(sandbox_dir: Path) -> Iterator[StartDemo]:
    """`_start_demo` on `sandbox_dir`, fast as the tests' sandboxes; every one stopped after."""
    started: list[SandboxHandle] = []

    def start() -> SandboxHandle:
        sandbox_dir.mkdir(exist_ok=True)
        started.append(_start_demo(sandbox_dir, True))
        return started[-1]

    yield start
    for handle in started:
        handle.stop()


def remembered(sandbox_dir: Path) -> str:
    return (sandbox_dir / DEMO_PORT_FILE_NAME).read_text(encoding="ascii")


def serves_on(sandbox: SandboxHandle, port: int) -> bool:
    """The sandbox answers the API at 127.0.0.1:`port` (its images' URLs name that port)."""
    with api_client(f"http://127.0.0.1:{port}", DEMO_API_KEY) as client:
        images = list_images(client)
    return sandbox.base_url == f"http://127.0.0.1:{port}" and all(
        f"127.0.0.1:{port}/" in image["thumbnail"] for image in images
    )


@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_a_restart_takes_the_port_of_last_time(sandbox_dir: Path, start_demo: StartDemo) -> None:
    first = start_demo()
    port = first.port
    assert remembered(sandbox_dir) == str(port)
    assert serves_on(first, port)
    first.stop()

    again = start_demo()
    assert again.port == port
    assert serves_on(again, port)
    assert remembered(sandbox_dir) == str(port)


def test_a_port_taken_by_another_program_gives_another_one_which_is_remembered(
    sandbox_dir: Path, start_demo: StartDemo, held_port: int
) -> None:
    sandbox_dir.mkdir()
    (sandbox_dir / DEMO_PORT_FILE_NAME).write_text(str(held_port), encoding="ascii")
    sandbox = start_demo()
    port = sandbox.port
    assert port != held_port
    assert serves_on(sandbox, port)
    assert remembered(sandbox_dir) == str(port)
    sandbox.stop()
    assert start_demo().port == port  # the new one is the port of next time


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("not a port\n", id="garbage"),
        pytest.param("\x00\xff", id="binary"),
        pytest.param("0", id="zero"),
    ],
)
def test_a_missing_or_unreadable_port_file_starts_on_any_port(
    content: str | None, sandbox_dir: Path, start_demo: StartDemo
) -> None:
    if content is not None:
        sandbox_dir.mkdir()
        (sandbox_dir / DEMO_PORT_FILE_NAME).write_bytes(content.encode("latin-1"))
    sandbox = start_demo()
    assert sandbox.port > 0
    assert serves_on(sandbox, sandbox.port)
    assert remembered(sandbox_dir) == str(sandbox.port)
