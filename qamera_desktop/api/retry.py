"""Retry with backoff: 1, 2, 4, 8 s plus up to 0.5 s of jitter, for what is worth retrying.

Worth retrying: 429, 5xx and network failures. Only idempotent requests (GET) are retried: the
caller decides with `retry=`; a POST runs exactly once (a lost answer may hide a created job).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from .errors import ApiError, NetworkError, RateLimitedError, ServerError
from .timing import Jitter, Sleep

RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
MAX_JITTER = 0.5

logger = logging.getLogger("qamera_desktop.api")


def is_retryable(error: ApiError) -> bool:
    """429, 5xx and network failures may succeed a moment later."""
    return isinstance(error, RateLimitedError | ServerError | NetworkError)


def retry_delay(retry_number: int, jitter: Jitter) -> float:
    """Seconds before retry number `retry_number` (1-based): the base delay plus 0..0.5 s."""
    base = RETRY_DELAYS[retry_number - 1]
    return base + min(max(jitter(0.0, MAX_JITTER), 0.0), MAX_JITTER)


async def with_retries[T](
    attempt: Callable[[], Awaitable[T]],
    *,
    retry: bool,
    sleep: Sleep,
    jitter: Jitter,
    what: str,
) -> T:
    """Run `attempt`; when `retry`, run it again after a retryable error, at most 4 more times.

    The last error is raised unchanged. `what` (e.g. "GET /api/external/products") is for the log.
    """
    retries = len(RETRY_DELAYS) if retry else 0
    for retry_number in range(1, retries + 2):
        try:
            return await attempt()
        except ApiError as error:
            if retry_number > retries or not is_retryable(error):
                raise
            delay = retry_delay(retry_number, jitter)
            logger.info(
                "%s failed (%s, status %s); retry %d of %d in %.1f s",
                what,
                type(error).__name__,
                error.status,
                retry_number,
                retries,
                delay,
            )
        await sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
