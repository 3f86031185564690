"""Network faults, answers that are not the documented shape, and answers that are too big."""

from __future__ import annotations

import gzip
import json
import threading

import httpx
import pytest

from qamera_desktop.api import NetworkError, ProtocolError, ShootRequest
from qamera_desktop.api import client as client_module
from qamera_desktop.api.parsing import BIG_BODY_BYTES

from .helpers import IMAGE_ITEM, RECEIPT, Recorder, TrackedStream, make_client, ok

SENT = [
    httpx.ReadTimeout("timed out"),
    httpx.ReadError("Connection reset by peer"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    httpx.CloseError("close failed"),
    httpx.TransportError("something new"),  # unknown kinds count as sent: the safe side
]
NOT_SENT = [
    httpx.ConnectError("[Errno 111] Connection refused"),
    httpx.ConnectTimeout("timed out"),
    httpx.PoolTimeout("no connection available"),
    httpx.WriteError("Broken pipe"),
    httpx.WriteTimeout("timed out"),
]


async def _register(server: Recorder, **kwargs):
    async with make_client(server, **kwargs) as client:
        return await client.register_ideas(ShootRequest("prod_1"))


async def _list(server: Recorder, **kwargs):
    async with make_client(server, **kwargs) as client:
        return await client.list_images()


@pytest.mark.parametrize("fault", SENT, ids=lambda e: type(e).__name__)
def test_post_failure_after_sending_may_have_created_the_job(arun, fault):
    server = Recorder(fault)
    with pytest.raises(NetworkError) as caught:
        arun(_register(server))
    error = caught.value
    assert error.request_sent is True
    assert error.status is None
    assert "may have been carried out" in str(error)
    assert len(server.requests) == 1
    # the error does not chain to the httpx exception (which holds the request and its headers)
    assert error.__cause__ is None
    assert error.__context__ is None


@pytest.mark.parametrize("fault", NOT_SENT, ids=lambda e: type(e).__name__)
def test_post_failure_before_sending(arun, fault):
    server = Recorder(fault)
    with pytest.raises(NetworkError) as caught:
        arun(_register(server))
    assert caught.value.request_sent is False
    assert str(caught.value).startswith("Could not reach the Qamera service")
    assert type(fault).__name__ in str(caught.value)
    assert len(server.requests) == 1


@pytest.mark.parametrize("fault", [*SENT, *NOT_SENT], ids=lambda e: type(e).__name__)
def test_get_network_failures_are_retried_then_raised(arun, fault):
    server = Recorder(fault)
    with pytest.raises(NetworkError):
        arun(_list(server))
    assert len(server.requests) == 5


def test_read_error_in_the_middle_of_the_body(arun):
    stream = TrackedStream([b'{"createdRecordIds": ['], error=httpx.ReadError("reset"))
    server = Recorder(lambda request: httpx.Response(200, content=stream))
    with pytest.raises(NetworkError) as caught:
        arun(_register(server))
    assert caught.value.request_sent is True


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"not json at all", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"images": [', "not valid JSON"),
        (b"\xff\xfe\xfd", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),  # too deep for the decoder
        (b"[]", "'(top level)' should be an object, not a list"),
        (b"null", "'(top level)' should be an object, not null"),
        (b'{"count": 1}', "'images' is missing"),
        (b'{"images": {"id": "x"}}', "'images' should be a list, not an object"),
        (b'{"images": null}', "'images' should be a list, not null"),
        (b'{"images": ["img_1"]}', "'images[0]' should be an object, not a string"),
        (b'{"images": [{"id": 7}]}', "'images[0].id' should be a non-empty string, not a number"),
        (b'{"images": [{"name": "x"}]}', "'images[0].id' should be a non-empty string, not null"),
        (b'{"images": [{"id": ""}]}', "'images[0].id' should be a non-empty string, not a string"),
        (
            b'{"images": [{"id": "a"}, {"id": "b", "status": 3}]}',
            "'images[1].status' should be a string, not a number",
        ),
        (b'{"images": [{"id": "a", "name": ["x"]}]}', "'images[0].name' should be a string"),
    ],
)
def test_malformed_listing_is_a_protocol_error(arun, content, fragment):
    server = Recorder(httpx.Response(200, content=content, headers={"X-Correlation-Id": "c-9"}))
    with pytest.raises(ProtocolError) as caught:
        arun(_list(server))
    assert fragment in str(caught.value)
    assert caught.value.status == 200
    assert caught.value.correlation_id == "c-9"
    assert len(server.requests) == 1  # not retried: the same answer would come back


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({}, "'createdRecordIds' is missing"),
        ({"createdRecordIds": "img_1"}, "'createdRecordIds' should be a list, not a string"),
        ({"createdRecordIds": ["a", None]}, "'createdRecordIds[1]' should be a non-empty string"),
    ],
)
def test_malformed_receipt_is_a_protocol_error(arun, data, fragment):
    server = Recorder(ok(data))
    with pytest.raises(ProtocolError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        arun(_register(server))


def test_tolerant_listing(arun):
    items = [
        {**IMAGE_ITEM, "extra": {"nested": [1, 2]}, "status": "PROCESSING", "voting": "REJECTED"},
        {"id": "img_2", "createdAt": "yesterday", "thumbnail": "javascript:alert(1)", "voting": 5},
        {"id": "img_3", "name": None, "status": None, "thumbnail": "ftp://cdn.test/x.jpg"},
    ]
    server = Recorder(ok({"images": items, "count": 99, "next": None}))
    first, second, third = arun(_list(server))
    assert first.status == "PROCESSING"
    assert first.voting == "REJECTED"
    assert first.thumbnail == IMAGE_ITEM["thumbnail"]
    assert first.created_at is not None
    assert first.created_at.isoformat() == "2026-03-20T16:00:00+00:00"
    assert second.name == ""
    assert second.status == ""
    assert second.created_at is None
    assert second.thumbnail is None
    assert second.voting is None
    assert third.thumbnail is None


def test_oversize_by_content_length_is_refused_without_reading(arun):
    stream = TrackedStream([b"{}"])
    server = Recorder(
        lambda request: httpx.Response(200, headers={"Content-Length": "1000000"}, content=stream)
    )
    with pytest.raises(ProtocolError, match="larger than 1000 bytes") as caught:
        arun(_list(server, max_body_bytes=1000))
    assert stream.pulled == 0
    assert caught.value.status == 200
    assert len(server.requests) == 1


def test_oversize_streamed_body_stops_at_the_limit(arun):
    stream = TrackedStream([b" " * 1024] * 1000)  # 1 MB of spaces, chunked, no Content-Length
    server = Recorder(lambda request: httpx.Response(200, content=stream))
    with pytest.raises(ProtocolError, match="larger than 4096 bytes"):
        arun(_list(server, max_body_bytes=4096))
    assert stream.pulled == 5  # four chunks fit; the fifth crossed the limit and reading stopped


def test_oversize_post_answer_is_a_protocol_error(arun):
    stream = TrackedStream([b" " * 1024] * 10)
    server = Recorder(lambda request: httpx.Response(200, content=stream))
    with pytest.raises(ProtocolError):
        arun(_register(server, max_body_bytes=2048))


def test_body_exactly_at_the_limit_is_read(arun):
    body = json.dumps({"images": []}).encode()
    padded = body + b" " * (100 - len(body))
    stream = TrackedStream([padded[:50], padded[50:]])
    server = Recorder(lambda request: httpx.Response(200, content=stream))
    assert arun(_list(server, max_body_bytes=100)) == []


def test_bad_content_encoding_is_a_protocol_error(arun):
    stream = TrackedStream([b"definitely not gzip"])
    server = Recorder(
        lambda request: httpx.Response(200, content=stream, headers={"Content-Encoding": "gzip"})
    )
    with pytest.raises(ProtocolError, match="could not be decoded"):
        arun(_list(server))


def test_gzip_answer_is_decoded(arun):
    body = gzip.compress(json.dumps({"images": [IMAGE_ITEM]}).encode())
    server = Recorder(httpx.Response(200, content=body, headers={"Content-Encoding": "gzip"}))
    assert [image.id for image in arun(_list(server))] == ["img_abc123"]


def test_big_listing_is_parsed_in_a_worker_thread(arun, monkeypatch):
    items = [{**IMAGE_ITEM, "id": f"img_{n}"} for n in range(2000)]
    content = json.dumps({"images": items}).encode()
    assert len(content) > BIG_BODY_BYTES
    threads = []
    real_parse_body = client_module.parse_body

    def spy(body, parse):
        threads.append(threading.current_thread())
        return real_parse_body(body, parse)

    monkeypatch.setattr(client_module, "parse_body", spy)
    server = Recorder(httpx.Response(200, content=content))
    images = arun(_list(server))
    assert [image.id for image in images] == [f"img_{n}" for n in range(2000)]
    assert len(threads) == 1
    assert threads[0] is not threading.main_thread()

    small = Recorder(ok({"images": items[:3]}))
    assert len(arun(_list(small))) == 3
    assert threads[1] is threading.main_thread()  # small answers are parsed inline


def test_big_malformed_listing_is_a_protocol_error_from_the_thread(arun):
    items = [{**IMAGE_ITEM, "id": f"img_{n}"} for n in range(2000)] + [{"id": 5}]
    server = Recorder(ok({"images": items}, headers={"X-Correlation-Id": "big-1"}))
    with pytest.raises(ProtocolError, match=r"'images\[2000\].id'") as caught:
        arun(_list(server))
    assert caught.value.correlation_id == "big-1"


def test_receipt_keeps_correlation_id_and_tolerates_odd_optional_fields(arun):
    data = {**RECEIPT, "batchId": 12, "creditsReserved": "thirty", "orderId": None}
    server = Recorder(ok(data, headers={"X-Correlation-Id": "post-1"}))
    receipt = arun(_register(server))
    assert receipt.correlation_id == "post-1"
    assert receipt.batch_id is None
    assert receipt.order_id is None
    assert receipt.credits_reserved is None
    assert receipt.reservation_id == "res_def456"


def test_network_error_without_text_names_the_failure(arun):
    server = Recorder(httpx.ConnectTimeout(""))
    with pytest.raises(NetworkError) as caught:
        arun(_register(server))
    assert str(caught.value) == "Could not reach the Qamera service (ConnectTimeout)."
