"""Every documented status maps to its error class, with the server's text and correlation id."""

from __future__ import annotations

import httpx
import pytest

from qamera_desktop.api import (
    ApiError,
    AuthError,
    ForbiddenError,
    InsufficientCreditsError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ShootRequest,
    ValidationError,
)

from .helpers import DOC_KEY, DOC_SECRET, RECEIPT, Recorder, fail, make_client

STATUSES = [
    (400, ValidationError, "Validation failed: 'productId' is required."),
    (401, AuthError, "Invalid API key."),
    (402, InsufficientCreditsError, "Insufficient credits. Required: 5, available: 2."),
    (403, ForbiddenError, "Missing required scope: 'content.register'."),
    (404, NotFoundError, "Product not found."),
    (429, RateLimitedError, "Too many requests. Please retry after a short delay."),
    (500, ServerError, "Internal server error."),
    (503, ServerError, "Service unavailable."),
]
RETRIED = {429, 500, 503}


async def _register(server: Recorder, **kwargs):
    async with make_client(server, key=DOC_KEY, **kwargs) as client:
        return await client.register_ideas(ShootRequest("prod_abc123"))


async def _list(server: Recorder, **kwargs):
    async with make_client(server, key=DOC_KEY, **kwargs) as client:
        return await client.list_images()


@pytest.mark.parametrize(("status", "error_class", "text"), STATUSES)
def test_post_error_status(arun, status, error_class, text):
    server = Recorder(fail(status, text, correlation_id="corr-42"))
    with pytest.raises(error_class) as caught:
        arun(_register(server))
    error = caught.value
    assert type(error) is error_class
    assert error.status == status
    assert error.server_message == text
    assert error.correlation_id == "corr-42"
    assert str(error) == f"{text} (reference corr-42)"
    assert DOC_SECRET not in str(error)
    assert DOC_SECRET not in repr(error)
    assert len(server.requests) == 1  # a POST is never retried


@pytest.mark.parametrize(("status", "error_class", "text"), STATUSES)
def test_get_error_status(arun, status, error_class, text):
    server = Recorder(fail(status, text, correlation_id="corr-7"))
    with pytest.raises(error_class) as caught:
        arun(_list(server))
    assert caught.value.status == status
    assert caught.value.server_message == text
    assert caught.value.correlation_id == "corr-7"
    assert len(server.requests) == (5 if status in RETRIED else 1)


def test_correlation_header_lookup_is_case_insensitive(arun):
    server = Recorder(
        httpx.Response(404, json={"error": "Gone."}, headers={"x-CORRELATION-id": "abc"})
    )
    with pytest.raises(NotFoundError) as caught:
        arun(_register(server))
    assert caught.value.correlation_id == "abc"


def test_request_id_header_is_a_fallback_correlation_id(arun):
    server = Recorder(
        httpx.Response(401, json={"error": "Invalid API key."}, headers={"X-Request-Id": "r-1"})
    )
    with pytest.raises(AuthError) as caught:
        arun(_register(server))
    assert caught.value.correlation_id == "r-1"


def test_no_correlation_id_and_no_text_gives_the_default_message(arun):
    server = Recorder(httpx.Response(402, json={}))
    with pytest.raises(InsufficientCreditsError) as caught:
        arun(_register(server))
    error = caught.value
    assert error.correlation_id is None
    assert error.server_message is None
    assert str(error) == InsufficientCreditsError.default_message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", None),
        (b"", None),
        (b'"just a string"', None),
        (b'{"error": 42}', None),
        (b'{"error": null, "message": "Fallback text."}', "Fallback text."),
        (b'{"error": {"message": "Nested text.", "code": 7}}', "Nested text."),
        (b'{"error": "  two\\n lines\\u0007 here  "}', "two lines here"),
        (b"\xff\xfe\x00garbage", None),
        (b"[" * 5000, None),
    ],
)
def test_odd_error_bodies_are_tolerated(arun, content, expected):
    server = Recorder(httpx.Response(403, content=content))
    with pytest.raises(ForbiddenError) as caught:
        arun(_register(server))
    assert caught.value.server_message == expected
    assert str(caught.value) == (expected or ForbiddenError.default_message)


def test_long_error_text_is_shortened(arun):
    server = Recorder(fail(400, "x" * 5000))
    with pytest.raises(ValidationError) as caught:
        arun(_register(server))
    assert caught.value.server_message is not None
    assert len(caught.value.server_message) == 500
    assert caught.value.server_message.endswith("…")


def test_huge_error_body_is_not_read(arun):
    server = Recorder(httpx.Response(400, content=b'{"error": "' + b"y" * 200_000 + b'"}'))
    with pytest.raises(ValidationError) as caught:
        arun(_register(server))
    assert caught.value.server_message is None
    assert caught.value.status == 400


def test_unknown_status_is_a_plain_api_error(arun):
    server = Recorder(httpx.Response(418, json={}))
    with pytest.raises(ApiError) as caught:
        arun(_register(server))
    assert type(caught.value) is ApiError
    assert caught.value.status == 418
    assert "418" in str(caught.value)


def test_redirect_is_not_followed(arun):
    server = Recorder(httpx.Response(302, headers={"Location": "https://elsewhere.test/steal"}))
    with pytest.raises(ApiError) as caught:
        arun(_list(server))
    assert caught.value.status == 302
    assert len(server.requests) == 1
    assert all(request.url.host == "api.qamera.test" for request in server.requests)


def test_server_echoing_the_key_is_redacted(arun):
    server = Recorder(fail(401, f"Invalid API key: {DOC_KEY}", correlation_id=f"id-{DOC_KEY}"))
    with pytest.raises(AuthError) as caught:
        arun(_register(server))
    error = caught.value
    for text in (str(error), repr(error), error.server_message or "", error.correlation_id or ""):
        assert DOC_SECRET not in text
        assert DOC_KEY not in text
    assert "Invalid API key: mk_live_abc1…" in str(error)


def test_success_with_2xx_other_than_200(arun):
    server = Recorder(httpx.Response(201, json=RECEIPT))
    receipt = arun(_register(server))
    assert receipt.batch_id == "batch_abc123"
