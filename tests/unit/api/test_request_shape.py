"""Each call sends exactly the documented method, path, query, headers and body."""

from __future__ import annotations

import json
import ssl

import httpx
import pytest

from qamera_desktop import __version__
from qamera_desktop.api import QameraClient, ShootRequest, ValidationError
from qamera_desktop.api.client import DEFAULT_TIMEOUT

from .helpers import DOC_KEY, IMAGE_ITEM, RECEIPT, TEST_KEY, Recorder, make_client, ok

SEED_BODY = {
    "config": {
        "product": {"id": "prod_abc123"},
        "model": {"id": "model_xyz"},
        "scenery": {"id": "scenery_001"},
        "industry": "fashion",
        "suggestions": "Outdoor urban setting, natural lighting",
    },
    "count": 10,
}


def test_seed_image_picker_example(arun):
    server = Recorder(ok({"images": [IMAGE_ITEM], "count": 1}))

    async def scenario():
        async with make_client(server, key=DOC_KEY, base_url="https://app.qamera.ai") as client:
            return await client.list_images("approved", product_id="prod_abc123")

    images = arun(scenario())
    request = server.last
    assert request.method == "GET"
    assert str(request.url) == (
        "https://app.qamera.ai/api/external/image-picker?statusFilter=approved&productId=prod_abc123"
    )
    assert request.headers["X-Api-Key"] == DOC_KEY
    assert request.content == b""
    assert [image.id for image in images] == ["img_abc123"]


def test_seed_register_ideas_example(arun):
    server = Recorder(ok(RECEIPT))
    shoot = ShootRequest(
        product_id="prod_abc123",
        model_id="model_xyz",
        scenery_id="scenery_001",
        industry="fashion",
        suggestions="Outdoor urban setting, natural lighting",
        count=10,
    )

    async def scenario():
        async with make_client(server, key=DOC_KEY, base_url="https://app.qamera.ai") as client:
            return await client.register_ideas(shoot)

    receipt = arun(scenario())
    request = server.last
    assert request.method == "POST"
    assert str(request.url) == "https://app.qamera.ai/api/external/image-picker/register-ideas"
    assert request.headers["X-Api-Key"] == DOC_KEY
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == SEED_BODY
    assert list(json.loads(request.content)["config"]) == list(SEED_BODY["config"])  # same order
    assert receipt.created_record_ids == ("img_001", "img_002", "img_003")
    assert receipt.batch_id == "batch_abc123"
    assert receipt.order_id == "order_xyz789"
    assert receipt.reservation_id == "res_def456"
    assert receipt.credits_reserved == 30


@pytest.mark.parametrize(
    ("call", "path", "query", "payload"),
    [
        (
            lambda c: c.list_images(),
            "/api/external/image-picker",
            "statusFilter=all",
            {"images": []},
        ),
        (
            lambda c: c.list_images("approved"),
            "/api/external/image-picker",
            "statusFilter=approved",
            {"images": []},
        ),
        (
            lambda c: c.list_images(product_id="p 1&x"),
            "/api/external/image-picker",
            "statusFilter=all&productId=p+1%26x",
            {"images": []},
        ),
        (lambda c: c.list_products(), "/api/external/products", "", {"products": []}),
        (lambda c: c.list_models(), "/api/external/models", "statusFilter=all", {"models": []}),
        (
            lambda c: c.list_models("approved"),
            "/api/external/models",
            "statusFilter=approved",
            {"models": []},
        ),
        (
            lambda c: c.list_sceneries(),
            "/api/external/sceneries",
            "statusFilter=all",
            {"sceneries": []},
        ),
        (
            lambda c: c.list_sceneries("approved"),
            "/api/external/sceneries",
            "statusFilter=approved",
            {"sceneries": []},
        ),
        (lambda c: c.list_presets(), "/api/external/presets", "", {"presets": []}),
        (
            lambda c: c.list_presets(max_records=5),
            "/api/external/presets",
            "maxRecords=5",
            {"presets": []},
        ),
    ],
)
def test_get_endpoints(arun, call, path, query, payload):
    server = Recorder(ok(payload))

    async def scenario():
        async with make_client(server) as client:
            return await call(client)

    assert arun(scenario()) == []
    request = server.last
    assert len(server.requests) == 1
    assert request.method == "GET"
    assert request.url.path == path
    assert request.url.query.decode() == query
    assert request.headers["X-Api-Key"] == TEST_KEY
    assert request.headers["User-Agent"] == f"qamera-desktop/{__version__}"
    assert request.headers["Accept"] == "application/json"
    assert "content-type" not in request.headers
    assert request.content == b""


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.list_images("ALL"),
        lambda c: c.list_images("pending"),
        lambda c: c.list_models(""),
        lambda c: c.list_sceneries("approved "),
        lambda c: c.list_images(product_id=""),
        lambda c: c.list_images(product_id="   "),
        lambda c: c.list_presets(max_records=0),
        lambda c: c.list_presets(max_records=True),
        lambda c: c.list_presets(max_records="5"),
    ],
)
def test_bad_arguments_raise_value_error_before_sending(arun, call):
    server = Recorder(ok({}))

    async def scenario():
        async with make_client(server) as client:
            with pytest.raises(ValueError, match=r"status_filter|product_id|max_records"):
                await call(client)

    arun(scenario())
    assert server.requests == []


def test_invalid_shoot_is_not_sent(arun):
    server = Recorder(ok(RECEIPT))
    client = make_client(server)

    async def scenario():
        async with client:
            await client.register_ideas(ShootRequest(product_id="  ", count=21))

    with pytest.raises(ValidationError) as caught:
        arun(scenario())
    assert "product" in str(caught.value)
    assert server.requests == []
    assert client.rate_budget.in_use() == 0


def test_base_url_path_prefix_and_trailing_slashes(arun):
    server = Recorder(ok({"products": []}))

    async def scenario():
        async with make_client(server, base_url="https://host.test/qamera///") as client:
            await client.list_products()

    arun(scenario())
    assert str(server.last.url) == "https://host.test/qamera/api/external/products"


def test_closed_client_refuses_requests(arun):
    server = Recorder(ok({"products": []}))
    client = make_client(server)

    async def scenario():
        async with client:
            pass
        assert client.closed
        await client.list_products()

    with pytest.raises(RuntimeError, match="closed"):
        arun(scenario())
    assert server.requests == []
    assert "closed" in repr(client)


def test_http_client_settings():
    client = QameraClient("https://api.qamera.test/", TEST_KEY)
    http = client._http
    assert http.timeout == DEFAULT_TIMEOUT
    assert http.timeout.connect is not None
    assert http.timeout.read is not None
    assert not http.follow_redirects
    assert client.base_url == "https://api.qamera.test"
    pool = http._transport._pool  # the default transport verifies TLS
    assert pool._ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert pool._max_connections == 6


def test_timeout_may_be_a_number():
    client = QameraClient("https://api.qamera.test", TEST_KEY, timeout=5.0)
    assert client._http.timeout == httpx.Timeout(5.0)


@pytest.mark.parametrize("size", [0, -1])
def test_max_body_bytes_must_be_positive(size):
    with pytest.raises(ValueError, match="max_body_bytes"):
        QameraClient("https://api.qamera.test", TEST_KEY, max_body_bytes=size)


def test_max_body_bytes_must_be_an_int():
    with pytest.raises(TypeError, match="max_body_bytes"):
        QameraClient("https://api.qamera.test", TEST_KEY, max_body_bytes=1.5)  # type: ignore[arg-type]
