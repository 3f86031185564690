"""The real httpx transport on the session's qasync loop, against tiny servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from qamera_desktop.api import NetworkError, QameraClient, RateBudget, ShootRequest

from .helpers import TEST_KEY, FakeTime


async def _serve(handle):
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    first, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return first.encode(), headers, body


def _client(base_url: str, **kwargs) -> QameraClient:
    time = FakeTime()
    return QameraClient(
        base_url,
        TEST_KEY,
        sleep=time.sleep,
        rate_budget=RateBudget(clock=time.clock, sleep=time.sleep),
        **kwargs,
    )


def test_real_http_round_trip(arun):
    seen = []

    async def handle(reader, writer):
        line, headers, body = await _read_request(reader)
        seen.append((line, headers, body))
        payload = json.dumps({"products": [{"id": "prod_1", "name": "Shirt"}]}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Correlation-Id: loop-1\r\n"
            b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
        )
        await writer.drain()
        writer.close()

    async def scenario():
        server, url = await _serve(handle)
        async with server, _client(url) as client:
            return await client.list_products()

    products = arun(scenario())
    assert [product.id for product in products] == ["prod_1"]
    line, headers, _ = seen[0]
    assert line == b"GET /api/external/products HTTP/1.1"
    assert headers["x-api-key"] == TEST_KEY


def test_real_read_timeout_after_sending_a_post(arun):
    received = []

    async def handle(reader, writer):
        received.append(await _read_request(reader))
        await reader.read()  # never answers; returns when the client gives up and disconnects
        writer.close()

    async def scenario():
        server, url = await _serve(handle)
        async with server, _client(url, timeout=0.2) as client:
            await client.register_ideas(ShootRequest("prod_1"))

    with pytest.raises(NetworkError) as caught:
        arun(scenario())
    assert caught.value.request_sent is True
    assert len(received) == 1
    assert json.loads(received[0][2]) == {"config": {"product": {"id": "prod_1"}}, "count": 10}


def test_real_connection_refused(arun):
    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario():
        async with _client(f"http://127.0.0.1:{port}") as client:
            await client.register_ideas(ShootRequest("prod_1"))

    with pytest.raises(NetworkError) as caught:
        arun(scenario())
    assert caught.value.request_sent is False
