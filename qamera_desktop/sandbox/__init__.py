"""A Qamera-compatible API server that ships with the app: demo data, credits, a job queue, a worker
that renders product shots with Pillow, thumbnails over HTTP, rate limit and fault knobs.

    from qamera_desktop.sandbox import SandboxConfig, start_sandbox

    with start_sandbox(data_dir, SandboxConfig(fast=True)) as sandbox:
        ...  # talk HTTP to sandbox.base_url with sandbox.demo_key

`python -m qamera_desktop.sandbox --help` runs it on its own. Qt-free, and independent of the API
client (`qamera_desktop.api`): it is the other side of the wire.

The server and its store (uvicorn, Starlette, ~70 ms to import) and its configuration load when
first asked for: the app reads the demo key from here (sandbox/keys.py) before it starts the
sandbox.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from qamera_desktop.sandbox.keys import DEMO_API_KEY, EXAMPLE_API_KEY, READONLY_API_KEY

if TYPE_CHECKING:
    from qamera_desktop.sandbox.config import SandboxConfig
    from qamera_desktop.sandbox.server import SandboxError, SandboxHandle, start_sandbox
    from qamera_desktop.sandbox.stats import SandboxStats
    from qamera_desktop.sandbox.store import LedgerReport, read_ledger

__all__ = [
    "DEMO_API_KEY",
    "EXAMPLE_API_KEY",
    "READONLY_API_KEY",
    "LedgerReport",
    "SandboxConfig",
    "SandboxError",
    "SandboxHandle",
    "SandboxStats",
    "read_ledger",
    "start_sandbox",
]

_LAZY = {
    "SandboxConfig": "config",
    "SandboxError": "server",
    "SandboxHandle": "server",
    "start_sandbox": "server",
    "SandboxStats": "stats",
    "LedgerReport": "store",
    "read_ledger": "store",
}


def __getattr__(name: str) -> Any:  # PEP 562: the server's modules on first use only
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
