"""`QameraClient`: the one async HTTP client of the Qamera external API.

One `httpx.AsyncClient` per client (TLS verified, explicit timeouts, bounded connections, no
redirects: a redirect would carry the key elsewhere). Every attempt takes a slot of the key's
`RateBudget`; GETs are retried on 429 / 5xx / network failures, POSTs never. Answers are read as a
stream with a size cap, then decoded into records (in a worker thread when they are big).

The key is sent as `X-Api-Key` and appears nowhere else: not in a repr, a log line or an error.
Errors are built outside `except` blocks so they do not chain to httpx exceptions (which hold the
request and its headers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Self

import httpx

from qamera_desktop import __version__

from .api_key import ApiKey
from .base_url import normalize_base_url
from .errors import ApiError, NetworkError, ProtocolError, error_for_status
from .parsing import (
    BIG_BODY_BYTES,
    error_text,
    parse_ai_models,
    parse_body,
    parse_images,
    parse_presets,
    parse_products,
    parse_receipt,
    parse_sceneries,
)
from .rate_budget import RateBudget, shared_budget
from .records import AiModel, Image, Preset, Product, Scenery, ShootReceipt
from .retry import with_retries
from .shoot_request import ShootRequest
from .timing import Clock, Jitter, Sleep

USER_AGENT = f"qamera-desktop/{__version__}"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=6, max_keepalive_connections=6, keepalive_expiry=30)
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
#: Error answers are read only this far: their text is all we want from them.
ERROR_BODY_LIMIT = 64 * 1024
STATUS_FILTERS = ("all", "approved")
CORRELATION_HEADERS = ("x-correlation-id", "x-request-id")

IMAGES_PATH = "/api/external/image-picker"
REGISTER_PATH = "/api/external/image-picker/register-ideas"
PRODUCTS_PATH = "/api/external/products"
MODELS_PATH = "/api/external/models"
SCENERIES_PATH = "/api/external/sceneries"
PRESETS_PATH = "/api/external/presets"

logger = logging.getLogger("qamera_desktop.api")

# Big answers are decoded here, off the event loop. A pool of our own rather than the loop's default
# executor (`asyncio.to_thread`): under qasync that is a QThreadExecutor that nobody shuts down,
# and its QThreads abort the process at exit ("QThread: Destroyed while thread is still running").
# Plain threads are joined at exit; idle ones cost nothing.
_PARSE_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qamera-api-parse")

# httpx failures that surely happened before the server could act on the request. Any other
# (ReadTimeout, ReadError, RemoteProtocolError, CloseError, kinds unknown today) counts as sent:
# for a POST that means "the job may exist", the safe side.
_BEFORE_SENDING: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes | bytearray
    correlation_id: str | None


def _network_error(
    exc: httpx.TransportError, key: ApiKey, *, response_started: bool
) -> NetworkError:
    """A NetworkError for an httpx failure, with the kind of failure and its text (redacted)."""
    sent = response_started or not isinstance(exc, _BEFORE_SENDING)
    text = key.redact(str(exc).strip())
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if sent:
        message = (
            "The connection to the Qamera service failed after the request was sent, so it may "
            f"have been carried out ({detail})."
        )
    else:
        message = f"Could not reach the Qamera service ({detail})."
    return NetworkError(message, request_sent=sent)


def _correlation_id(headers: httpx.Headers, key: ApiKey) -> str | None:
    """The response's correlation id (header names are case-insensitive), cleaned."""
    for name in CORRELATION_HEADERS:
        value = "".join(char for char in headers.get(name, "") if char.isprintable()).strip()
        if value:
            return key.redact(value[:200])
    return None


def _content_length(headers: httpx.Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


async def _read_capped(response: httpx.Response, limit: int) -> bytearray | None:
    """The decoded body, or None as soon as it grows past `limit` (the rest is never read)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        if len(body) + len(chunk) > limit:
            return None
        body += chunk
    return body


def _status_filter(value: str) -> str:
    if value not in STATUS_FILTERS:
        raise ValueError(f"status_filter must be 'all' or 'approved', not {value!r}")
    return value


class QameraClient:
    """Async client of the Qamera external API. Use as `async with QameraClient(...) as client:`.

    `transport` replaces the network (tests use `httpx.MockTransport`); `sleep`, `jitter` and
    `clock` drive retry delays and timings; `rate_budget` replaces the key's shared budget.
    Raises ValueError at construction for an empty or malformed key or a refused `base_url`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        sleep: Sleep = asyncio.sleep,
        jitter: Jitter = random.uniform,
        clock: Clock = time.monotonic,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        rate_budget: RateBudget | None = None,
    ) -> None:
        self._base_url = normalize_base_url(base_url)
        self._key = ApiKey(api_key)
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
            raise TypeError("max_body_bytes must be an int")
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")
        self._max_body_bytes = max_body_bytes
        self._sleep = sleep
        self._jitter = jitter
        self._clock = clock
        self._budget = rate_budget if rate_budget is not None else shared_budget(self._key)
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            transport=transport,
            timeout=timeout,
            limits=DEFAULT_LIMITS,
            verify=True,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    # -- lifetime ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections. The client cannot be used afterwards."""
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def rate_budget(self) -> RateBudget:
        return self._budget

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<QameraClient {self._base_url} key={self._key.masked}{state}>"

    # -- endpoints --------------------------------------------------------------------------

    async def list_images(
        self, status_filter: str = "all", product_id: str | None = None
    ) -> list[Image]:
        """GET /image-picker: the generated images, optionally of one product."""
        params = {"statusFilter": _status_filter(status_filter)}
        if product_id is not None:
            if not isinstance(product_id, str) or not product_id.strip():
                raise ValueError("product_id must be a non-blank string or None")
            params["productId"] = product_id.strip()
        return await self._get(IMAGES_PATH, params, parse_images)

    async def register_ideas(self, request: ShootRequest) -> ShootReceipt:
        """POST /image-picker/register-ideas, exactly once (never retried).

        Validates first (`ValidationError`, nothing sent). A `NetworkError` with
        `request_sent=True` means the job may exist: check the listing before resubmitting.
        """
        body = request.to_body()
        receipt, correlation_id = await self._call("POST", REGISTER_PATH, None, body, parse_receipt)
        return replace(receipt, correlation_id=correlation_id)

    async def list_products(self) -> list[Product]:
        return await self._get(PRODUCTS_PATH, None, parse_products)

    async def list_models(self, status_filter: str = "all") -> list[AiModel]:
        """GET /models: the AI models (mannequins)."""
        params = {"statusFilter": _status_filter(status_filter)}
        return await self._get(MODELS_PATH, params, parse_ai_models)

    async def list_sceneries(self, status_filter: str = "all") -> list[Scenery]:
        params = {"statusFilter": _status_filter(status_filter)}
        return await self._get(SCENERIES_PATH, params, parse_sceneries)

    async def list_presets(self, max_records: int | None = None) -> list[Preset]:
        """GET /presets; `maxRecords` is sent only when given (the server's default is 20)."""
        params: dict[str, str] | None = None
        if max_records is not None:
            if isinstance(max_records, bool) or not isinstance(max_records, int):
                raise ValueError("max_records must be an int or None")
            if max_records < 1:
                raise ValueError("max_records must be at least 1")
            params = {"maxRecords": str(max_records)}
        return await self._get(PRESETS_PATH, params, parse_presets)

    # -- machinery --------------------------------------------------------------------------

    async def _get[T](
        self, path: str, params: dict[str, str] | None, parse: Callable[[object], T]
    ) -> T:
        value, _ = await self._call("GET", path, params, None, parse)
        return value

    async def _call[T](
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        body: dict[str, object] | None,
        parse: Callable[[object], T],
    ) -> tuple[T, str | None]:
        if self.closed:
            raise RuntimeError("This QameraClient is closed.")

        def attempt() -> Awaitable[tuple[T, str | None]]:
            return self._attempt(method, path, params, body, parse)

        return await with_retries(
            attempt,
            retry=method == "GET",
            sleep=self._sleep,
            jitter=self._jitter,
            what=f"{method} {path}",
        )

    async def _attempt[T](
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        body: dict[str, object] | None,
        parse: Callable[[object], T],
    ) -> tuple[T, str | None]:
        slot = await self._budget.acquire()
        request = self._http.build_request(
            method, path, params=params, json=body, headers={"X-Api-Key": self._key.reveal()}
        )
        started = self._clock()
        outcome = await self._exchange(request)
        elapsed_ms = (self._clock() - started) * 1000
        # failures at WARNING, so that they reach the log file (INFO and up) with their
        # correlation id for support; answers that went through only at DEBUG
        if isinstance(outcome, NetworkError):
            if not outcome.request_sent:  # it never reached the server, which did not count it
                self._budget.release(slot)
            logger.warning(
                "%s %s failed after %.0f ms (%s)", method, path, elapsed_ms, outcome.message
            )
            raise outcome
        correlation_id = outcome.correlation_id
        logger.log(
            logging.WARNING if isinstance(outcome, ApiError) else logging.DEBUG,
            "%s %s -> %s in %.0f ms, correlation id %s",
            method,
            path,
            outcome.status,
            elapsed_ms,
            correlation_id or "-",
        )
        if isinstance(outcome, ApiError):
            raise outcome
        try:
            return await self._decode(outcome, parse), correlation_id
        except ProtocolError as error:
            logger.warning(
                "%s %s -> %s, not the documented shape (%s), correlation id %s",
                method,
                path,
                outcome.status,
                error.message,
                correlation_id or "-",
            )
            raise

    async def _exchange(self, request: httpx.Request) -> _Answer | ApiError:
        """Send one request and read its answer; every failure is returned, not raised."""
        failure: ApiError | None = None
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            failure = _network_error(exc, self._key, response_started=False)
        if failure is not None:
            return failure
        try:
            return await self._read(response)
        finally:
            with contextlib.suppress(httpx.HTTPError):
                await response.aclose()

    async def _read(self, response: httpx.Response) -> _Answer | ApiError:
        status = response.status_code
        correlation_id = _correlation_id(response.headers, self._key)
        ok = 200 <= status < 300
        limit = self._max_body_bytes if ok else ERROR_BODY_LIMIT
        declared = _content_length(response.headers)
        body: bytearray | None = None  # None: larger than the limit, not read
        failure: ApiError | None = None
        if declared is None or declared <= limit:
            try:
                body = await _read_capped(response, limit)
            except httpx.TransportError as exc:
                failure = _network_error(exc, self._key, response_started=True)
            except httpx.DecodingError:
                failure = ProtocolError(
                    "The Qamera service sent an answer that could not be decoded.",
                    status=status,
                    correlation_id=correlation_id,
                )
        if failure is not None:
            return failure
        if not ok:
            text = error_text(body) if body is not None else None
            return error_for_status(status, text and self._key.redact(text), correlation_id)
        if body is None:
            return ProtocolError(
                f"The Qamera service sent an answer larger than {limit} bytes; it was not read.",
                status=status,
                correlation_id=correlation_id,
            )
        return _Answer(status, body, correlation_id)

    async def _decode[T](self, answer: _Answer, parse: Callable[[object], T]) -> T:
        try:
            if len(answer.body) > BIG_BODY_BYTES:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(_PARSE_POOL, parse_body, answer.body, parse)
            return parse_body(answer.body, parse)
        except ProtocolError as error:
            error.status = answer.status
            error.correlation_id = answer.correlation_id
            raise
