"""The Qamera HTTP client: typed records, one error hierarchy, retries, one rate budget per key.

Qt-free: nothing here imports Qt or the rest of the app (checked by import-linter).
"""

from .api_key import ApiKey
from .client import QameraClient
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
