"""Contract test: schemathesis fuzzes the live sandbox with the OpenAPI document written from
Qamera's API reference (resources/openapi/qamera-api.json). Every check on: no 5xx, no status,
header or body that the document does not allow, invalid input rejected, valid input accepted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from qamera_desktop.sandbox import EXAMPLE_API_KEY, SandboxConfig, SandboxHandle, start_sandbox

OPENAPI = Path(__file__).resolve().parents[3] / "resources" / "openapi" / "qamera-api.json"

schema = schemathesis.openapi.from_path(OPENAPI)
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
)


@pytest.fixture(scope="module")
def contract_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    config = SandboxConfig(fast=True, rate_limit=False, failure_rate=0.0, credits=10**9)
    with start_sandbox(tmp_path_factory.mktemp("contract"), config) as sandbox:
        yield sandbox


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_the_openapi_document(
    case: schemathesis.Case[Any], contract_sandbox: SandboxHandle
) -> None:
    case.call_and_validate(
        base_url=contract_sandbox.base_url, headers={"X-Api-Key": EXAMPLE_API_KEY}, timeout=30
    )
