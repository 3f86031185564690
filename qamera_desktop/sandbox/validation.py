"""Strict parsing of request input: the register-ideas body and the list endpoints' query strings.

Every violation raises `ValidationFailed` whose message is the 400 body's `error` text, in the
style of Qamera's API (`Validation failed: 'config.product.id' is required.`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_COUNT = 20
DEFAULT_COUNT = 10
MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_RECORDS = 20
MAX_MAX_RECORDS = 100
MAX_TEXT = 2000
STATUS_FILTERS = ("all", "approved")


class ValidationFailed(Exception):
    """Bad input: answered with 400 and `str(self)` as the error text."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Validation failed: {detail}")


@dataclass(frozen=True, slots=True)
class ShootRequest:
    """A validated register-ideas body."""

    product_id: str
    model_id: str | None = None
    scenery_id: str | None = None
    preset_id: str | None = None
    industry: str | None = None
    suggestions: str | None = None
    count: int = DEFAULT_COUNT


def _is_json_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _reference(container: Mapping[str, Any], key: str, path: str, required: bool) -> str | None:
    """`{"id": "..."}` under `key`: the id, None when absent and optional."""
    if key not in container:
        if required:
            raise ValidationFailed(f"'{path}.id' is required.")
        return None
    ref = container[key]
    if not isinstance(ref, dict):
        raise ValidationFailed(f"'{path}' must be an object with an 'id'.")
    if "id" not in ref:
        raise ValidationFailed(f"'{path}.id' is required.")
    value = ref["id"]
    if not isinstance(value, str):
        raise ValidationFailed(f"'{path}.id' must be a string.")
    if not value:
        raise ValidationFailed(f"'{path}.id' must not be empty.")
    return value


def _text(container: Mapping[str, Any], key: str, path: str) -> str | None:
    if key not in container:
        return None
    value = container[key]
    if not isinstance(value, str):
        raise ValidationFailed(f"'{path}' must be a string.")
    if len(value) > MAX_TEXT:
        raise ValidationFailed(f"'{path}' must be at most {MAX_TEXT} characters.")
    return value


def _count(body: Mapping[str, Any]) -> int:
    if "count" not in body:
        return DEFAULT_COUNT
    value = body["count"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationFailed("'count' must be an integer.")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValidationFailed("'count' must be an integer.")
        value = int(value)
    if not 1 <= value <= MAX_COUNT:
        raise ValidationFailed(f"'count' must be between 1 and {MAX_COUNT}.")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_shoot_request(raw: bytes, content_type: str | None) -> ShootRequest:
    """Validate a register-ideas body: shape and types only (the store checks the ids)."""
    if not _is_json_type(content_type):
        raise ValidationFailed("Content-Type must be application/json.")
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationFailed(f"the request body must be at most {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ValidationFailed("the request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ValidationFailed("the request body must be a JSON object.")
    if "config" not in body:
        raise ValidationFailed("'config.product.id' is required.")
    config = body["config"]
    if not isinstance(config, dict):
        raise ValidationFailed("'config' must be an object.")
    product_id = _reference(config, "product", "config.product", required=True)
    assert product_id is not None
    return ShootRequest(
        product_id=product_id,
        model_id=_reference(config, "model", "config.model", required=False),
        scenery_id=_reference(config, "scenery", "config.scenery", required=False),
        preset_id=_reference(config, "preset", "config.preset", required=False),
        industry=_text(config, "industry", "config.industry"),
        suggestions=_text(config, "suggestions", "config.suggestions"),
        count=_count(body),
    )


def parse_status_filter(value: str | None) -> bool:
    """`statusFilter`: True for approved only. Absent means all."""
    if value is None or value == "all":
        return False
    if value == "approved":
        return True
    raise ValidationFailed("'statusFilter' must be 'all' or 'approved'.")


def parse_max_records(value: str | None) -> int:
    if value is None:
        return DEFAULT_MAX_RECORDS
    if not (value.isascii() and value.isdigit()):
        raise ValidationFailed("'maxRecords' must be an integer.")
    number = int(value)
    if not 1 <= number <= MAX_MAX_RECORDS:
        raise ValidationFailed(f"'maxRecords' must be between 1 and {MAX_MAX_RECORDS}.")
    return number
