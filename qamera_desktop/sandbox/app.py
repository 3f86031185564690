"""The ASGI application: Qamera's external API, the thumbnail CDN, auth, errors and fault knobs.

Request path, outermost first (`SandboxMiddleware`): a correlation id and the request statistics,
then the whole body is read, then the configured latency is waited (`latency_ms` for API requests,
`cdn_latency_ms` for the thumbnail CDN, which never gets random errors), and only then the handler
runs. Reading the body
first means a client that times out during the latency still leaves its request behind, and the
handler runs to completion whatever the client does: a timed-out POST has registered its job, as
it may have on the real service.

In a handler: the key (X-Api-Key wins over `Authorization: Bearer`) -> 401, the rate limit -> 429,
the random error rate -> 500, the scope -> 403, then input validation -> 400, then the work.
Every error body is `{"error": "..."}` and every response carries `X-Correlation-Id`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qamera_desktop.sandbox.cdn import ThumbnailCache
from qamera_desktop.sandbox.config import ConfigHolder
from qamera_desktop.sandbox.ratelimit import SlidingWindowLimiter
from qamera_desktop.sandbox.stats import StatsRecorder
from qamera_desktop.sandbox.store import (
    InsufficientCredits,
    LedgerReport,
    NotFound,
    Principal,
    Store,
)
from qamera_desktop.sandbox.validation import (
    MAX_BODY_BYTES,
    ValidationFailed,
    parse_max_records,
    parse_shoot_request,
    parse_status_filter,
)
from qamera_desktop.sandbox.worker import Worker

log = logging.getLogger(__name__)

API_PREFIX = "/api/external"
SCOPE_REGISTER = "content.register"
CORRELATION_HEADER = "X-Correlation-Id"

MSG_MISSING_KEY = "Missing API key."
MSG_INVALID_KEY = "Invalid API key."
MSG_RATE_LIMITED = "Too many requests. Please retry after a short delay."
MSG_SERVER_ERROR = "Internal server error."
MSG_SCOPE = f"Missing required scope: '{SCOPE_REGISTER}'."

# The sandbox's own generator: the module-level one belongs to the host process (and Hypothesis
# complains when a server in the same process moves it).
_faults = random.Random()

_HOST = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


class ApiError(Exception):
    """Answered as `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Runtime:
    """Everything a running sandbox shares between requests and the worker."""

    config: ConfigHolder
    store: Store
    limiter: SlidingWindowLimiter
    stats: StatsRecorder
    thumbnails: ThumbnailCache
    worker: Worker


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def api_key_of(headers: Callable[[str], str | None]) -> str | None:
    """The key a request presents: a non-empty X-Api-Key, else an `Authorization: Bearer` token."""
    key = headers("x-api-key")
    if key:
        return key.strip()
    auth = headers("authorization")
    if auth:
        scheme, _, token = auth.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


def _guard(request: Request, scope: str | None = None) -> Principal:
    runtime = _runtime(request)
    key = api_key_of(request.headers.get)
    if key is None:
        raise ApiError(401, MSG_MISSING_KEY)
    principal = runtime.store.authenticate(key)
    if principal is None:
        raise ApiError(401, MSG_INVALID_KEY)
    config = runtime.config.current
    if config.rate_limit and not runtime.limiter.acquire(key):
        raise ApiError(429, MSG_RATE_LIMITED)
    if config.error_rate > 0 and _faults.random() < config.error_rate:
        raise ApiError(500, MSG_SERVER_ERROR)
    if scope is not None and scope not in principal.scopes:
        raise ApiError(403, MSG_SCOPE)
    return principal


def _cdn_base(request: Request, kind: str) -> str:
    """`http://host:port/cdn/<kind>/`, from the Host the client used (JSON-safe by construction)."""
    host = request.headers.get("host", "")
    if not _HOST.fullmatch(host):
        server = request.scope.get("server") or ("127.0.0.1", 80)
        host = f"[{server[0]}]:{server[1]}" if ":" in str(server[0]) else f"{server[0]}:{server[1]}"
    scheme = "https" if request.url.scheme == "https" else "http"
    return f"{scheme}://{host}/cdn/{kind}/"


def _json(body: object, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
    )


# handlers


async def list_images(request: Request) -> Response:
    principal = _guard(request)
    approved = parse_status_filter(request.query_params.get("statusFilter"))
    product_id = request.query_params.get("productId") or None
    body = await run_in_threadpool(
        _runtime(request).store.images_json,
        principal.account_id,
        approved_only=approved,
        product_id=product_id,
        thumb_base=_cdn_base(request, "images"),
    )
    return Response(body, media_type="application/json")


async def register_ideas(request: Request) -> Response:
    principal = _guard(request, SCOPE_REGISTER)
    runtime = _runtime(request)
    shoot = parse_shoot_request(await request.body(), request.headers.get("content-type"))
    try:
        receipt = await run_in_threadpool(
            runtime.store.register_shoot,
            principal.account_id,
            shoot,
            runtime.config.current.price_per_image,
            request.state.correlation_id,
        )
    except NotFound as exc:
        raise ApiError(404, str(exc)) from None
    except InsufficientCredits as exc:
        raise ApiError(402, str(exc)) from None
    runtime.worker.wake()
    log.info(
        "registered %s: %d image(s), %d credits reserved",
        receipt.batch_id,
        len(receipt.created_record_ids),
        receipt.credits_reserved,
    )
    return _json(receipt.to_json())


async def list_products(request: Request) -> Response:
    principal = _guard(request)
    rows = await run_in_threadpool(_runtime(request).store.products, principal.account_id)
    base = _cdn_base(request, "products")
    items = [
        {"id": i, "name": n, "thumbnail": f"{base}{i}.jpg", "status": s, "createdAt": c}
        for i, n, s, c in rows
    ]
    return _json({"products": items, "count": len(items)})


async def _list_voted(request: Request, kind: str) -> Response:
    principal = _guard(request)
    approved = parse_status_filter(request.query_params.get("statusFilter"))
    store = _runtime(request).store
    fetch = store.models if kind == "models" else store.sceneries
    rows = await run_in_threadpool(fetch, principal.account_id, approved)
    base = _cdn_base(request, kind)
    items = [
        {
            "id": i,
            "name": n,
            "thumbnail": f"{base}{i}.jpg",
            "status": s,
            "voting": v,
            "createdAt": c,
        }
        for i, n, s, v, c in rows
    ]
    return _json({kind: items, "count": len(items)})


async def list_models(request: Request) -> Response:
    return await _list_voted(request, "models")


async def list_sceneries(request: Request) -> Response:
    return await _list_voted(request, "sceneries")


async def list_presets(request: Request) -> Response:
    principal = _guard(request)
    limit = parse_max_records(request.query_params.get("maxRecords"))
    rows = await run_in_threadpool(_runtime(request).store.presets, principal.account_id, limit)
    items = [
        {
            "id": i,
            "name": n,
            "guidelines": g,
            "quantityGuidelines": qn,
            "qualityGuidelines": ql,
            "createdAt": c,
        }
        for i, n, g, qn, ql, c in rows
    ]
    return _json({"presets": items, "count": len(items)})


async def thumbnail(request: Request) -> Response:
    kind = request.path_params["kind"]
    name: str = request.path_params["name"]
    if not name.endswith(".jpg"):
        raise ApiError(404, "Not found.")
    thumb = await _runtime(request).thumbnails.get(kind, name[: -len(".jpg")])
    if thumb is None:
        raise ApiError(404, "Not found.")
    headers = {"ETag": thumb.etag, "Cache-Control": thumb.cache_control}
    if thumb.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(thumb.data, media_type="image/jpeg", headers=headers)


async def ledger(request: Request) -> Response:
    """Debug endpoint of the sandbox (not part of Qamera's API): the key's account's ledger."""
    key = api_key_of(request.headers.get)
    runtime = _runtime(request)
    principal = runtime.store.authenticate(key) if key else None
    if principal is None:
        raise ApiError(401, MSG_INVALID_KEY)
    report = await run_in_threadpool(runtime.store.ledger_report)
    mine = LedgerReport(
        (report.account(principal.account_id),),
        tuple(r for r in report.reservations if r.account_id == principal.account_id),
        report.unsettled_finished_images,
    )
    return _json(mine.to_json())


# errors


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _json({"error": exc.message}, exc.status)


async def _validation_error(request: Request, exc: Exception) -> Response:
    return _json({"error": str(exc)}, 400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "Not found.", 405: "Method not allowed."}
    response = _json({"error": messages.get(exc.status_code, exc.detail)}, exc.status_code)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return _json({"error": MSG_SERVER_ERROR}, 500)


class SandboxMiddleware:
    """Correlation id, statistics, body first, then latency; see the module docstring."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        correlation_id = str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        is_api = path.startswith(API_PREFIX + "/")
        key = api_key_of(headers.get) if is_api else None
        self.runtime.stats.request(scope["method"], path, key, arrived)

        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES:  # the validator refuses it; stop reading
                break
        config = self.runtime.config.current
        latency = config.latency_ms if is_api else config.cdn_latency_ms
        if latency > 0:
            await asyncio.sleep(latency / 1000)

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (CORRELATION_HEADER.lower().encode(), correlation_id.encode()),
                ]
                self.runtime.stats.response(message["status"])
            await send(message)

        try:
            await self.app(scope, replay, send_with_id)
        except Exception:
            if not started:
                raise
            # Starlette re-raises after answering 500; it was logged by _server_error


def build_app(runtime: Runtime) -> ASGIApp:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await runtime.worker.start()
        try:
            yield
        finally:
            await runtime.worker.stop()

    api = API_PREFIX
    routes = [
        Route(f"{api}/image-picker", list_images, methods=["GET"]),
        Route(f"{api}/image-picker/register-ideas", register_ideas, methods=["POST"]),
        Route(f"{api}/products", list_products, methods=["GET"]),
        Route(f"{api}/models", list_models, methods=["GET"]),
        Route(f"{api}/sceneries", list_sceneries, methods=["GET"]),
        Route(f"{api}/presets", list_presets, methods=["GET"]),
        Route("/cdn/{kind}/{name}", thumbnail, methods=["GET"]),
        Route("/__sandbox/ledger", ledger, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            ValidationFailed: _validation_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.runtime = runtime
    return SandboxMiddleware(app, runtime)
