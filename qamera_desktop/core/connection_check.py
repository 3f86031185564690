"""Before an account is saved: is what the designer typed a key and a server address, and does
the pair work? Each answer says exactly what failed, in the designer's words.

- `key_problem` / `url_problem` check the text as it is typed (the key's `mk_live_<id>.<secret>`
  form, `api/api_key.py`; the address's https-except-loopback rule, `api/base_url.py`).
- `check_connection` asks the server for `GET /api/external/products` through the app's own
  `QameraClient` (the same TLS verification, headers and error hierarchy as every later request)
  and classifies the outcome (`Outcome`).

What the check proves, and what it does not: a good answer means the server is a Qamera server,
the key is valid and has the read scope (`content.read`) that browsing needs. Whether the key may
also start shoots (`content.register`, which the sandbox's read-only key lacks) is not tested: the
only request that needs that scope is the POST that starts a shoot, and it costs credits, so the
check never sends it. The app learns it at the first shoot: a 403 there, which `classify` words
as it does a 403 of the check (the server's text names the missing scope).

Retries: GETs are retried on network errors, 429 and 5xx as everywhere, but with waits of at most
`RETRY_WAIT_CAP` s, and the whole check has a deadline, so a designer never waits long for a
verdict (a Cancel in the dialog stops it at once).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

import httpx

from qamera_desktop.api import (
    ApiError,
    ApiKey,
    AuthError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    QameraClient,
    RateBudget,
    RateLimitedError,
    ServerError,
)
from qamera_desktop.api.api_key import key_form_problem
from qamera_desktop.api.base_url import normalize_base_url
from qamera_desktop.api.timing import Sleep
from qamera_desktop.core.redaction import redact

CHECK_TIMEOUT: Final = httpx.Timeout(15.0, connect=8.0)
CHECK_DEADLINE: Final = 25.0
RETRY_WAIT_CAP: Final = 0.25
NEEDED_SCOPES: Final = "content.read and content.register"
"""Browsing needs the first, starting shoots the second."""


class Outcome(StrEnum):
    CONNECTED = "connected"
    INVALID_INPUT = "invalid input"  # the key or the address, refused before anything is sent
    BAD_KEY = "bad key"  # 401
    MISSING_SCOPE = "missing scope"  # 403
    TLS = "TLS"  # the certificate is not trusted, or no TLS handshake at all
    UNKNOWN_HOST = "unknown host"  # DNS
    TIMEOUT = "timeout"
    REFUSED = "connection refused"
    NOT_QAMERA = "not a Qamera server"  # 404, a redirect, a web page, a body of the wrong shape
    RATE_LIMITED = "rate limited"  # 429
    SERVER_ERROR = "server error"  # 5xx
    NETWORK = "network error"  # any other failure to get an answer


@dataclass(frozen=True, slots=True)
class CheckResult:
    outcome: Outcome
    message: str  # what happened, for the designer; never holds the key
    correlation_id: str | None = None  # of the server's answer, for support
    product_count: int | None = None  # when connected

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.CONNECTED


def key_problem(text: str) -> str | None:
    """Why the typed key is not one, or None (see `api.api_key.key_form_problem`)."""
    return key_form_problem(text)


def url_problem(text: str) -> str | None:
    """Why the typed server address is refused, or None (see `api.base_url`)."""
    try:
        normalize_base_url(text)
    except ValueError as exc:
        return str(exc)
    return None


def _where(base_url: str) -> str:
    """The host (and port, when one is given) as the designer typed it: "app.qamera.ai"."""
    return urlsplit(base_url).netloc or base_url


async def _short_wait(seconds: float) -> None:
    await asyncio.sleep(min(seconds, RETRY_WAIT_CAP))


async def check_connection(
    base_url: str,
    key: ApiKey,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    http_timeout: httpx.Timeout = CHECK_TIMEOUT,
    deadline: float = CHECK_DEADLINE,
    retry_sleep: Sleep = _short_wait,
    rate_budget: RateBudget | None = None,
) -> CheckResult:
    """List the products of `key` on `base_url` once, and say how it went.

    `transport` replaces the network (tests: `httpx.MockTransport` for faults a real server
    cannot produce on demand); `rate_budget` defaults to the key's shared budget, as the app's
    own client uses. Cancelling the task stops the request at once.
    """
    problem = url_problem(base_url)
    if problem is not None:
        return CheckResult(Outcome.INVALID_INPUT, problem)
    client = QameraClient(
        base_url,
        key.reveal(),
        transport=transport,
        timeout=http_timeout,
        sleep=retry_sleep,
        rate_budget=rate_budget,
    )
    where = _where(client.base_url)
    try:
        async with asyncio.timeout(deadline), client:
            products = await client.list_products()
    except TimeoutError:
        return _result(Outcome.TIMEOUT, f"{where} did not answer within {deadline:g} seconds.")
    except ApiError as error:
        return classify(error, client.base_url)
    return CheckResult(
        Outcome.CONNECTED,
        f"Connected to {where}: the key works and can read the catalogue "
        f"({_count(len(products), 'product')}). Whether it may start shoots shows at the first "
        "shoot: testing that would cost credits.",
        product_count=len(products),
    )


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _result(outcome: Outcome, message: str, correlation_id: str | None = None) -> CheckResult:
    if correlation_id:
        message = f"{message} Reference for support: {correlation_id}."
    return CheckResult(outcome, redact(message), correlation_id)


def _server_said(error: ApiError) -> str:
    """': "<the server's text>"' when the server gave one, else nothing."""
    text = (error.server_message or "").strip().rstrip(".")
    return f": “{text}”" if text else ""


def classify(error: ApiError, base_url: str) -> CheckResult:
    """The outcome of a failed check, with the sentence that says exactly what failed."""
    where = _where(base_url)
    cid = error.correlation_id
    said = _server_said(error)
    match error:
        case AuthError():
            return _result(
                Outcome.BAD_KEY,
                f"{where} refused this key (401{said}). Check that the whole key was copied, "
                "and that it was not revoked.",
                cid,
            )
        case ForbiddenError():
            return _result(
                Outcome.MISSING_SCOPE,
                f"{where} accepted the key, but the key lacks a permission (403{said}). Ask your "
                f"Qamera admin for a key with the scopes {NEEDED_SCOPES}.",
                cid,
            )
        case NotFoundError() | ProtocolError():
            return _result(
                Outcome.NOT_QAMERA,
                f"{where} answered, but not as a Qamera server does ({_not_qamera(error)}). "
                "Check the address.",
                cid,
            )
        case RateLimitedError():
            return _result(
                Outcome.RATE_LIMITED,
                f"{where} is limiting the requests of this key (429). Wait a minute, then test "
                "again.",
                cid,
            )
        case ServerError():
            return _result(
                Outcome.SERVER_ERROR,
                f"{where} had an internal error (HTTP {error.status}{said}). Try again in a "
                "moment.",
                cid,
            )
        case NetworkError():
            outcome, reason = network_failure(error)
            return _result(outcome, _network_sentence(outcome, reason, base_url), cid)
    status = f"HTTP {error.status}" if error.status is not None else "an unexpected answer"
    return _result(
        Outcome.NOT_QAMERA,
        f"{where} answered {status}{said}, which a Qamera server does not for this request. "
        "Check the address.",
        cid,
    )


def _not_qamera(error: ApiError) -> str:
    if isinstance(error, NotFoundError):
        return "there is no Qamera API at this address: 404"
    return "a web page or data of another shape instead of the product list"


# -- network failures ---------------------------------------------------------------------------
# The client puts the kind of httpx failure and its text at the end of a NetworkError's message:
# "Could not reach the Qamera service (ConnectError: [Errno -2] Name or service not known)."
_DETAIL = re.compile(r"\((?P<kind>[A-Za-z]+)(?::\s*(?P<text>.*))?\)\.?\s*$", re.DOTALL)
_TIMEOUTS = {
    "ConnectTimeout": "no answer to the connection",
    "ReadTimeout": "connected, but no answer came",
    "WriteTimeout": "the request could not be sent",
    "PoolTimeout": "too many requests at once",
}
_NAME_NOT_FOUND = (
    "name or service not known",  # Linux
    "nodename nor servname",  # macOS
    "getaddrinfo",  # Windows
    "no address associated",
    "name resolution",  # "Temporary failure in name resolution": no DNS at all
)
_REFUSED = ("refused", "all connection attempts failed", "errno 111", "errno 61", "10061")
_CERTIFICATE = re.compile(r"certificate verify failed:\s*(?P<why>[^(]+)", re.IGNORECASE)
_NOT_TLS = "the answer was not TLS"
_SSL_REASON = re.compile(r"\[SSL(?::\s*[A-Z_]+)?\]\s*(?P<why>[^(]+)")


def network_failure(error: NetworkError) -> tuple[Outcome, str]:
    """The kind of network failure (TLS, unknown host, timeout, refused, or other) and its
    reason in a few words, from the detail the client put in the error."""
    match = _DETAIL.search(error.message)
    kind = match.group("kind") if match else ""
    text = (match.group("text") or "").strip() if match else ""
    lowered = text.lower()
    if kind in _TIMEOUTS:
        return Outcome.TIMEOUT, _TIMEOUTS[kind]
    certificate = _CERTIFICATE.search(text)
    if certificate:
        return Outcome.TLS, certificate.group("why").strip()
    if "wrong version number" in lowered or "record layer failure" in lowered:
        return Outcome.TLS, _NOT_TLS  # an https request to a plain http port
    if "ssl" in lowered or "tls" in lowered:
        reason = _SSL_REASON.search(text)
        return Outcome.TLS, (reason.group("why") if reason else text).strip().lower()
    if any(marker in lowered for marker in _NAME_NOT_FOUND):
        return Outcome.UNKNOWN_HOST, text
    if kind == "ConnectError" and any(marker in lowered for marker in _REFUSED):
        return Outcome.REFUSED, text
    return Outcome.NETWORK, f"{kind}: {text}" if kind and text else (kind or text or "no answer")


def _network_sentence(outcome: Outcome, reason: str, base_url: str) -> str:
    where = _where(base_url)
    match outcome:
        case Outcome.TLS if reason.startswith(_NOT_TLS):
            return (
                f"No secure connection to {where}: it does not speak https there ({reason}). "
                "Check the address (a server of this computer may use http://)."
            )
        case Outcome.TLS:
            return (
                f"The secure connection to {where} failed: its certificate is not trusted "
                f"({reason}). A self-hosted server needs a certificate this computer trusts."
            )
        case Outcome.UNKNOWN_HOST:
            host = urlsplit(base_url).hostname or where
            return f"The server name {host} was not found. Check the address for typos."
        case Outcome.TIMEOUT:
            return f"{where} did not answer in time ({reason}). Check the address and the network."
        case Outcome.REFUSED:
            return (
                f"{where} refused the connection: no server listens there. Check the address and "
                "the port."
            )
    return f"Could not reach {where} ({reason}). Check the network and the address."
