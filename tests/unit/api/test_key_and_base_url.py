"""base_url rules, and the key never leaking into a repr, an error or a log line."""

from __future__ import annotations

import logging
import pickle

import httpx
import pytest

from qamera_desktop.api import ApiError, ApiKey, QameraClient, ShootRequest

from .helpers import (
    DOC_KEY,
    DOC_SECRET,
    RECEIPT,
    TEST_KEY,
    FakeTime,
    Recorder,
    fail,
    make_client,
    ok,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://app.qamera.ai", "https://app.qamera.ai"),
        ("https://app.qamera.ai/", "https://app.qamera.ai"),
        ("https://app.qamera.ai//", "https://app.qamera.ai"),
        ("  https://qamera.example.com:8443/base/  ", "https://qamera.example.com:8443/base"),
        ("HTTPS://App.Qamera.AI", "https://app.qamera.ai"),
        ("http://localhost:8123", "http://localhost:8123"),
        ("http://LOCALHOST/", "http://localhost"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("http://127.45.6.7", "http://127.45.6.7"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
    ],
)
def test_accepted_base_urls(url, expected):
    assert QameraClient(url, TEST_KEY).base_url == expected


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://app.qamera.ai", "must use https://"),
        ("http://192.168.1.10:8000", "must use https://"),
        ("http://localhost.evil.test", "must use https://"),
        ("http://128.0.0.1", "must use https://"),
        ("http://[::2]", "must use https://"),
        ("ftp://app.qamera.ai", "must start with https://"),
        ("app.qamera.ai", "must start with https://"),
        ("https://", "no host"),
        ("https:///path", "no host"),
        ("", "empty"),
        ("   ", "empty"),
        ("https://user:pw@app.qamera.ai", "user name or password"),
        ("https://app.qamera.ai/?x=1", "query or a fragment"),
        ("https://app.qamera.ai/#top", "query or a fragment"),
        ("https://[::1", "not a valid URL"),
    ],
)
def test_refused_base_urls(url, fragment):
    with pytest.raises(ValueError, match=fragment):
        QameraClient(url, TEST_KEY)


@pytest.mark.parametrize("key", ["", "   ", "\n"])
def test_empty_key_is_refused(key):
    with pytest.raises(ValueError, match="empty"):
        QameraClient("https://app.qamera.ai", key)


@pytest.mark.parametrize(
    "key", ["mk_live_abc.sec ret", "mk_live_abc.secret\nX-Evil: 1", "mk_live_é.x"]
)
def test_malformed_key_is_refused_without_echoing_it(key):
    with pytest.raises(ValueError, match="not allowed") as caught:
        QameraClient("https://app.qamera.ai", key)
    assert "sec" not in str(caught.value)


def test_key_must_be_a_string():
    with pytest.raises(TypeError):
        ApiKey(b"mk_live_abc123.secret456")  # type: ignore[arg-type]


def test_repr_masks_the_key():
    client = QameraClient("https://app.qamera.ai", DOC_KEY)
    text = repr(client)
    assert text == "<QameraClient https://app.qamera.ai key=mk_live_abc1…>"
    assert DOC_SECRET not in text
    assert DOC_SECRET not in str(client)
    assert DOC_SECRET not in repr(vars(client) if hasattr(client, "__dict__") else client)


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        (DOC_KEY, "mk_live_abc1…"),
        (TEST_KEY, "mk_live_t…"),
        ("short.xy", "shor…"),
        ("abcdef", "abc…"),
    ],
)
def test_api_key_masking(key, masked):
    api_key = ApiKey(key)
    assert api_key.masked == masked
    assert repr(api_key) == f"ApiKey({masked!r})"
    assert str(api_key) == masked
    assert f"{api_key}" == masked
    assert api_key.reveal() == key


def test_api_key_redacts_text_and_is_not_pickled():
    api_key = ApiKey(DOC_KEY)
    assert api_key.redact(f"bad key {DOC_KEY}, secret {DOC_SECRET}") == (
        "bad key mk_live_abc1…, secret …"
    )
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(api_key)
    short_secret = ApiKey("mk_live_abcdef.xyz")
    assert short_secret.redact("xyz and mk_live_abcdef.xyz") == "xyz and mk_live_a…"


def test_api_key_equality_and_fingerprint():
    assert ApiKey(DOC_KEY) == ApiKey(f" {DOC_KEY} ")
    assert ApiKey(DOC_KEY) != ApiKey(TEST_KEY)
    assert ApiKey(DOC_KEY) != DOC_KEY
    assert hash(ApiKey(DOC_KEY)) == hash(ApiKey(DOC_KEY))
    fingerprint = ApiKey(DOC_KEY).fingerprint
    assert DOC_SECRET not in fingerprint
    assert len(fingerprint) == 64


def test_nothing_logged_or_raised_contains_the_key(arun, caplog):
    caplog.set_level(logging.DEBUG)
    time = FakeTime()
    server = Recorder(
        ok({"products": []}, headers={"X-Correlation-Id": "cid-ok"}),
        fail(500, f"crash with {DOC_KEY}", correlation_id="cid-500"),  # retried,
        httpx.ReadTimeout(f"timed out for {DOC_KEY}"),  # retried,
        fail(401, f"Invalid API key {DOC_KEY}."),  # raised
        httpx.ReadTimeout(f"timed out for {DOC_KEY}"),  # the POST: raised
        httpx.Response(200, content=b"not json"),
        ok(RECEIPT),
    )
    errors: list[ApiError] = []

    async def scenario():
        async with make_client(server, key=DOC_KEY, time=time) as client:
            calls = [
                client.list_products,
                client.list_products,
                lambda: client.register_ideas(ShootRequest("p")),
                lambda: client.register_ideas(ShootRequest("p")),
                lambda: client.register_ideas(ShootRequest("p")),
            ]
            for call in calls:
                try:
                    await call()
                except ApiError as error:
                    errors.append(error)

    arun(scenario())
    assert len(server.requests) == 7
    assert [type(error).__name__ for error in errors] == [
        "AuthError",
        "NetworkError",
        "ProtocolError",
    ]
    assert "GET /api/external/products -> 200" in caplog.text
    assert "cid-ok" in caplog.text
    assert "GET /api/external/products -> 500" in caplog.text
    assert "POST /api/external/image-picker/register-ideas failed after" in caplog.text
    assert "retry 1 of 4" in caplog.text
    assert "retry 2 of 4" in caplog.text
    for record in caplog.records:
        assert DOC_SECRET not in record.getMessage()
        assert "x-api-key" not in record.getMessage().lower()
    assert DOC_SECRET not in caplog.text
    for error in errors:
        assert DOC_SECRET not in str(error)
        assert DOC_SECRET not in repr(error)
        assert DOC_SECRET not in " ".join(map(str, error.args))
    # every request did carry the key
    assert all(request.headers["X-Api-Key"] == DOC_KEY for request in server.requests)
