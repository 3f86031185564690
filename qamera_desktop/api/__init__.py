"""The Qamera HTTP client: typed records, one error hierarchy, retries, one rate budget per key.

Qt-free: nothing here imports Qt or the rest of the app (checked by import-linter).

`QameraClient` (and with it httpx, ~40-100 ms to import) is loaded when first asked for: the
window imports the records and errors from here and is on screen before the client is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .api_key import ApiKey
from .errors import (
    ApiError,
    AuthError,
    ForbiddenError,
    InsufficientCreditsError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    ValidationError,
    error_for_status,
)
from .rate_budget import RateBudget, forget_shared_budgets, shared_budget
from .records import (
    AiModel,
    Image,
    Preset,
    Product,
    Progress,
    Scenery,
    ShootReceipt,
    classify_status,
)
from .shoot_request import ShootRequest

if TYPE_CHECKING:
    from .client import QameraClient

__all__ = [
    "AiModel",
    "ApiError",
    "ApiKey",
    "AuthError",
    "ForbiddenError",
    "Image",
    "InsufficientCreditsError",
    "NetworkError",
    "NotFoundError",
    "Preset",
    "Product",
    "Progress",
    "ProtocolError",
    "QameraClient",
    "RateBudget",
    "RateLimitedError",
    "Scenery",
    "ServerError",
    "ShootReceipt",
    "ShootRequest",
    "ValidationError",
    "classify_status",
    "error_for_status",
    "forget_shared_budgets",
    "shared_budget",
]


def __getattr__(name: str) -> Any:  # PEP 562: the client module on first use only
    if name == "QameraClient":
        from .client import QameraClient

        return QameraClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
