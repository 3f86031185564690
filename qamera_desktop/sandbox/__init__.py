"""A Qamera-compatible API server that ships with the app: demo data, credits, a job queue, a worker
that renders product shots with Pillow, thumbnails over HTTP, rate limit and fault knobs.

    from qamera_desktop.sandbox import SandboxConfig, start_sandbox

    with start_sandbox(data_dir, SandboxConfig(fast=True)) as sandbox:
        ...  # talk HTTP to sandbox.base_url with sandbox.demo_key

`python -m qamera_desktop.sandbox --help` runs it on its own. Qt-free, and independent of the API
client (`qamera_desktop.api`): it is the other side of the wire.
"""

from qamera_desktop.sandbox.config import (
    DEMO_API_KEY,
    EXAMPLE_API_KEY,
    READONLY_API_KEY,
    SandboxConfig,
)
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
