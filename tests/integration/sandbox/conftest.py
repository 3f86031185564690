"""A fresh sandbox per test: temporary data directory, fast processing, no worker failures, no
rate limit (tests about those turn them on with `sandbox_factory(...)`)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from qamera_desktop.sandbox import EXAMPLE_API_KEY, SandboxHandle
from tests.sandbox_fixtures import api_client, make_sandbox_fixtures

sandbox_factory, sandbox = make_sandbox_fixtures()


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    """Demo key."""
    with api_client(sandbox.base_url, sandbox.demo_key) as c:
        yield c


@pytest.fixture
def example_client(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    """The documentation's example key (catalogue with prod_abc123, model_xyz, scenery_001)."""
    with api_client(sandbox.base_url, EXAMPLE_API_KEY) as c:
        yield c
