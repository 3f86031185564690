"""The connection check: the key and the address as typed, then the test itself against the real
sandbox (good key, bad key, the read-only key; a closed port, a self-signed certificate, https to
a plain http port, a path with no API), and through httpx.MockTransport only the faults a real
server cannot produce on demand (DNS, timeouts, a web page, wrong shapes, 403 on the listing,
429, 5xx, a redirect). Every message is checked for what it says, and for no secret in it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qamera_desktop.api import ApiKey, ForbiddenError, QameraClient, RateBudget, ShootRequest
from qamera_desktop.core.connection_check import (
    CheckResult,
    Outcome,
    check_connection,
    classify,
    key_problem,
    url_problem,
)
from qamera_desktop.sandbox import READONLY_API_KEY, SandboxHandle
from tests.sandbox_fixtures import api_client, make_sandbox_fixtures
from tests.unit.core.thumbnails.certs import self_signed

sandbox_factory, sandbox = make_sandbox_fixtures()

SECRET = "Xy7-check-secret-Q9"
TYPED = ApiKey(f"mk_live_typed.{SECRET}")
MOCK_URL = "https://qamera.example.com"


async def no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


def check(arun: Any, base_url: str, key: ApiKey = TYPED, **kwargs: Any) -> CheckResult:
    kwargs.setdefault("rate_budget", RateBudget())
    kwargs.setdefault("retry_sleep", no_wait)
    result: CheckResult = arun(check_connection(base_url, key, **kwargs))
    assert SECRET not in result.message
    assert key.reveal() not in result.message
    return result


def mock(reply: httpx.Response | Exception | Callable[[httpx.Request], Any]) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        result: httpx.Response = reply(request)
        return result

    return httpx.MockTransport(handle)


# -- as typed -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", "Paste your API key (mk_live_<id>.<secret>)."),
        ("mk_li", "Keep typing: a key looks like mk_live_<id>.<secret>."),
        ("sk_live_abc.def", "A Qamera API key starts with mk_live_."),
        ("mk_test_abc.def", "A Qamera API key starts with mk_live_."),
        ("mk_live_abc", "The key needs a dot between its id and its secret"),
        ("mk_live_.def", "The id between mk_live_ and the dot is missing."),
        ("mk_live_ab/c.def", "The id before the dot may hold only letters, digits, _ and -."),
        ("mk_live_abc.", "The secret after the dot is missing."),
        ("mk_live_abc. def", "The key contains spaces or characters that cannot be in a key."),
        ("mk_live_abc.dé", "The key contains spaces or characters that cannot be in a key."),
        ("mk_live_abc123.secret456", None),
        ("  mk_live_demo.sandbox\n", None),  # pasted with a line break
        ("mk_live_a-b_C9.x+y/z=", None),
    ],
)
def test_the_key_as_typed(typed, problem):
    found = key_problem(typed)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)
        assert "def" not in found  # the sentence never quotes what was typed


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("https://app.qamera.ai", None),
        ("https://qamera.example.com:8443/base/", None),
        ("http://127.0.0.1:8765", None),
        ("http://127.9.9.9", None),
        ("http://[::1]:8000", None),
        ("http://localhost:8000", None),
        ("http://app.qamera.ai", "must use https://"),
        ("http://192.168.1.10", "must use https://"),
        ("app.qamera.ai", "must start with https://"),
        ("", "empty"),
    ],
)
def test_the_address_as_typed(typed, problem):
    found = url_problem(typed)
    assert found is None if problem is None else problem in (found or "")


# -- against the real sandbox ---------------------------------------------------------------
def test_a_good_key_connects_and_counts_the_products(arun, sandbox: SandboxHandle):
    with api_client(sandbox.base_url, sandbox.demo_key) as http:
        products = http.get("/api/external/products").json()["products"]
    result = check(arun, sandbox.base_url, ApiKey(sandbox.demo_key))
    assert result.ok
    assert result.outcome is Outcome.CONNECTED
    assert result.product_count == len(products) > 0
    host = sandbox.base_url.removeprefix("http://")
    assert result.message.startswith(f"Connected to {host}: the key works")
    assert "cost credits" in result.message  # says what was not tested, and why


def test_a_bad_key_is_named_as_such_with_the_server_reference(arun, sandbox):
    result = check(arun, sandbox.base_url)
    assert result.outcome is Outcome.BAD_KEY
    assert "refused this key (401: “Invalid API key”)" in result.message
    assert result.correlation_id
    assert result.message.endswith(f"Reference for support: {result.correlation_id}.")


def test_the_read_only_key_connects_and_its_403_at_the_first_shoot_is_classified(arun, sandbox):
    """The read-only key may list products, so the check passes; only the POST that starts a
    shoot needs the scope it lacks, and the check never sends that POST (it costs credits). The
    sandbox's real 403 for that POST is classified as a missing scope, naming it."""
    result = check(arun, sandbox.base_url, ApiKey(READONLY_API_KEY))
    assert result.outcome is Outcome.CONNECTED

    async def first_shoot() -> ForbiddenError:
        async with QameraClient(
            sandbox.base_url, READONLY_API_KEY, rate_budget=RateBudget()
        ) as client:
            products = await client.list_products()
            try:
                await client.register_ideas(ShootRequest(product_id=products[0].id, count=1))
            except ForbiddenError as error:
                return error
        raise AssertionError("the read-only key started a shoot")

    error = arun(first_shoot())
    assert error.status == 403
    refused = classify(error, sandbox.base_url)
    assert refused.outcome is Outcome.MISSING_SCOPE
    assert (
        "accepted the key, but the key lacks a permission (403: “Missing required scope: "
        "'content.register'”)"
    ) in refused.message
    assert refused.correlation_id == error.correlation_id


def test_a_closed_port_is_a_refused_connection(arun):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = check(arun, f"http://127.0.0.1:{port}")
    assert result.outcome is Outcome.REFUSED
    assert result.message == (
        f"127.0.0.1:{port} refused the connection: no server listens there. Check the address "
        "and the port."
    )


@pytest.fixture
def tls_port(tmp_path: Path) -> Iterator[int]:
    """A TLS server on loopback with a self-signed certificate (the handshake is all it does)."""
    _, context = self_signed(tmp_path)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            # the client refuses the certificate: the handshake fails, as expected
            with conn, contextlib.suppress(ssl.SSLError, OSError):
                context.wrap_socket(conn, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    yield port
    stop.set()
    socket.create_connection(("127.0.0.1", port)).close()  # wakes accept() up
    listener.close()
    thread.join(timeout=5)


def test_an_untrusted_certificate_is_a_tls_failure(arun, tls_port):
    result = check(arun, f"https://127.0.0.1:{tls_port}")
    assert result.outcome is Outcome.TLS
    assert "certificate is not trusted (self-signed certificate)" in result.message


def test_https_to_a_plain_http_port_says_it_does_not_speak_https(arun, sandbox):
    result = check(arun, sandbox.base_url.replace("http://", "https://"))
    assert result.outcome is Outcome.TLS
    assert "it does not speak https there" in result.message


def test_an_address_with_no_api_is_not_a_qamera_server(arun, sandbox):
    result = check(arun, f"{sandbox.base_url}/somewhere/else", ApiKey(sandbox.demo_key))
    assert result.outcome is Outcome.NOT_QAMERA
    assert "there is no Qamera API at this address: 404" in result.message


def test_a_refused_address_is_not_sent_anywhere(arun):
    requests: list[httpx.Request] = []
    result = check(arun, "http://qamera.example.com", transport=mock(requests.append))
    assert result.outcome is Outcome.INVALID_INPUT
    assert "must use https://" in result.message
    assert requests == []


# -- faults a real server cannot produce on demand ---------------------------------------------
def connect_error(text: str) -> httpx.ConnectError:
    return httpx.ConnectError(text)


@pytest.mark.parametrize(
    ("fault", "outcome", "words"),
    [
        # the texts are those of real failures (Linux as seen here, macOS, Windows, no DNS)
        (
            connect_error("[Errno -2] Name or service not known"),
            Outcome.UNKNOWN_HOST,
            "The server name qamera.example.com was not found.",
        ),
        (
            connect_error("[Errno 8] nodename nor servname provided, or not known"),
            Outcome.UNKNOWN_HOST,
            "was not found",
        ),
        (connect_error("[Errno 11001] getaddrinfo failed"), Outcome.UNKNOWN_HOST, "not found"),
        (
            connect_error("[Errno -3] Temporary failure in name resolution"),
            Outcome.UNKNOWN_HOST,
            "not found",
        ),
        (
            connect_error(
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local "
                "issuer certificate (_ssl.c:1000)"
            ),
            Outcome.TLS,
            "its certificate is not trusted (unable to get local issuer certificate)",
        ),
        (
            connect_error(
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has "
                "expired (_ssl.c:1000)"
            ),
            Outcome.TLS,
            "(certificate has expired)",
        ),
        (
            connect_error("[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version"),
            Outcome.TLS,
            "The secure connection to qamera.example.com failed",
        ),
        (
            httpx.ConnectTimeout("timed out"),
            Outcome.TIMEOUT,
            "qamera.example.com did not answer in time (no answer to the connection).",
        ),
        (
            httpx.ReadTimeout("timed out"),
            Outcome.TIMEOUT,
            "did not answer in time (connected, but no answer came)",
        ),
        (
            connect_error("[Errno 101] Network is unreachable"),
            Outcome.NETWORK,
            "Could not reach qamera.example.com (ConnectError: [Errno 101] Network is "
            "unreachable).",
        ),
    ],
)
def test_network_faults_say_exactly_what_failed(arun, fault, outcome, words):
    result = check(arun, MOCK_URL, transport=mock(fault))
    assert result.outcome is outcome
    assert words in result.message
    assert result.correlation_id is None


def test_a_server_that_never_answers_hits_the_deadline(arun):
    async def hang(_request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    result = check(arun, MOCK_URL, transport=httpx.MockTransport(hang), deadline=0.2)
    assert result.outcome is Outcome.TIMEOUT
    assert result.message == "qamera.example.com did not answer within 0.2 seconds."


def test_cancelling_stops_the_check(arun):
    arrived = asyncio.Event()

    async def hang(_request: httpx.Request) -> httpx.Response:
        arrived.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def start_then_cancel() -> bool:
        task = asyncio.ensure_future(
            check_connection(
                MOCK_URL, TYPED, transport=httpx.MockTransport(hang), rate_budget=RateBudget()
            )
        )
        await arrived.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return task.cancelled()

    assert arun(start_then_cancel())


HTML = "<!doctype html><html><head><title>Welcome</title></head><body>Hi</body></html>"


@pytest.mark.parametrize(
    ("reply", "outcome", "words"),
    [
        (
            httpx.Response(200, text=HTML, headers={"content-type": "text/html"}),
            Outcome.NOT_QAMERA,
            "a web page or data of another shape instead of the product list",
        ),
        (httpx.Response(200, json={"items": []}), Outcome.NOT_QAMERA, "not as a Qamera server"),
        (httpx.Response(200, json=[1, 2]), Outcome.NOT_QAMERA, "not as a Qamera server"),
        (httpx.Response(404, text=HTML), Outcome.NOT_QAMERA, "no Qamera API at this address"),
        (
            httpx.Response(301, headers={"location": "https://elsewhere.example/"}),
            Outcome.NOT_QAMERA,
            "answered HTTP 301, which a Qamera server does not for this request",
        ),
        (
            httpx.Response(403, json={"error": "Missing required scope: 'content.read'."}),
            Outcome.MISSING_SCOPE,
            "accepted the key, but the key lacks a permission (403: “Missing required scope: "
            "'content.read'”). Ask your Qamera admin for a key with the scopes content.read and "
            "content.register.",
        ),
        (
            httpx.Response(429, json={"error": "Rate limit exceeded"}),
            Outcome.RATE_LIMITED,
            "is limiting the requests of this key (429)",
        ),
        (
            httpx.Response(503, text=HTML),
            Outcome.SERVER_ERROR,
            "had an internal error (HTTP 503)",
        ),
    ],
)
def test_answers_of_the_wrong_kind(arun, reply, outcome, words):
    result = check(arun, MOCK_URL, transport=mock(reply))
    assert result.outcome is outcome
    assert words in result.message


def test_a_server_that_echoes_the_key_does_not_put_it_in_the_message(arun):
    reply = httpx.Response(
        401,
        json={"error": f"Invalid API key {TYPED.reveal()}"},
        headers={"x-correlation-id": "corr-42"},
    )
    result = check(arun, MOCK_URL, transport=mock(reply))  # check() asserts no secret
    assert result.outcome is Outcome.BAD_KEY
    assert result.correlation_id == "corr-42"
    assert "Invalid API key mk_live_type…" in result.message
