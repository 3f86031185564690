"""register-ideas over HTTP: validation, ids, the receipt, the queue and the credit ledger."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from qamera_desktop.sandbox import EXAMPLE_API_KEY, SandboxHandle
from tests.sandbox_fixtures import API, all_finished, api_client, list_images, statuses, wait_until

REGISTER = f"{API}/image-picker/register-ideas"
PRODUCT = "prod_wtee01"


def _shoot(**config: Any) -> dict[str, Any]:
    return {"config": {"product": {"id": PRODUCT}, **config}}


def _register(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(REGISTER, json=body)
    assert response.status_code == 200, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


def _wait_finished(client: httpx.Client, ids: list[str], product: str = PRODUCT) -> dict[str, str]:
    return wait_until(lambda: all_finished(client, ids, product), timeout=30, what="the shoot")


BAD_BODIES: list[tuple[object, str]] = [
    ({}, "'config.product.id' is required."),
    ({"count": 2}, "'config.product.id' is required."),
    ({"config": {}}, "'config.product.id' is required."),
    ({"config": None}, "'config' must be an object."),
    ({"config": []}, "'config' must be an object."),
    ({"config": {"product": {}}}, "'config.product.id' is required."),
    ({"config": {"product": "prod_wtee01"}}, "'config.product' must be an object with an 'id'."),
    ({"config": {"product": {"id": 7}}}, "'config.product.id' must be a string."),
    ({"config": {"product": {"id": None}}}, "'config.product.id' must be a string."),
    ({"config": {"product": {"id": ""}}}, "'config.product.id' must not be empty."),
    (_shoot(model={}), "'config.model.id' is required."),
    (_shoot(model=None), "'config.model' must be an object with an 'id'."),
    (_shoot(scenery={"id": 1}), "'config.scenery.id' must be a string."),
    (_shoot(preset={"id": ["x"]}), "'config.preset.id' must be a string."),
    (_shoot(industry=5), "'config.industry' must be a string."),
    (_shoot(suggestions={"text": "x"}), "'config.suggestions' must be a string."),
    (_shoot(suggestions="x" * 2001), "'config.suggestions' must be at most 2000 characters."),
    ({**_shoot(), "count": 0}, "'count' must be between 1 and 20."),
    ({**_shoot(), "count": 21}, "'count' must be between 1 and 20."),
    ({**_shoot(), "count": -3}, "'count' must be between 1 and 20."),
    ({**_shoot(), "count": "3"}, "'count' must be an integer."),
    ({**_shoot(), "count": 2.5}, "'count' must be an integer."),
    ({**_shoot(), "count": True}, "'count' must be an integer."),
    ({**_shoot(), "count": None}, "'count' must be an integer."),
    ([], "the request body must be a JSON object."),
    ("prod_wtee01", "the request body must be a JSON object."),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_invalid_bodies_are_400_and_reserve_nothing(
    sandbox: SandboxHandle, client: httpx.Client, body: object, message: str
) -> None:
    response = client.post(REGISTER, json=body)
    assert response.status_code == 400
    assert response.json() == {"error": f"Validation failed: {message}"}
    assert sandbox.ledger().account("acct_demo").reserved == 0


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b'{"config": {"product": {"id": "prod_wtee01"}}', "application/json", "not valid JSON"),
        (b"", "application/json", "not valid JSON"),
        (b'{"config": {"product": {"id": "p"}}, "count": NaN}', "application/json", "not valid"),
        (b"\xff\xfe\x00", "application/json", "not valid JSON"),
        (b'{"config": {"product": {"id": "prod_wtee01"}}}', "text/plain", "Content-Type"),
        (b'{"config": {"product": {"id": "prod_wtee01"}}}', None, "Content-Type"),
        (
            b'{"config": {"product": {"id": "x"}}, "pad": "' + b"x" * 70_000 + b'"}',
            "application/json",
            "at most 65536 bytes",
        ),
    ],
)
def test_malformed_json_and_content_type_are_400(
    sandbox: SandboxHandle,
    client: httpx.Client,
    content: bytes,
    content_type: str | None,
    message: str,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(REGISTER, content=content, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"].startswith("Validation failed:")
    assert message in response.json()["error"]
    assert sandbox.ledger().account("acct_demo").reserved == 0


def test_json_charset_and_float_count_are_accepted(client: httpx.Client) -> None:
    body = json.dumps({**_shoot(), "count": 2.0}).encode()
    response = client.post(
        REGISTER, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 200
    assert response.json()["creditsReserved"] == 6


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"product": {"id": "prod_nope"}}, "Product not found."),
        ({"product": {"id": "prod_abc123"}}, "Product not found."),  # the example account's
        ({"product": {"id": PRODUCT}, "model": {"id": "model_xyz"}}, "Model not found."),
        ({"product": {"id": PRODUCT}, "scenery": {"id": "scenery_nope"}}, "Scenery not found."),
        ({"product": {"id": PRODUCT}, "preset": {"id": "preset_001"}}, "Preset not found."),
    ],
)
def test_unknown_ids_are_404(
    sandbox: SandboxHandle, client: httpx.Client, config: dict[str, Any], message: str
) -> None:
    before = len(list_images(client))
    response = client.post(REGISTER, json={"config": config, "count": 2})
    assert response.status_code == 404
    assert response.json() == {"error": message}
    assert len(list_images(client)) == before
    assert sandbox.ledger().account("acct_demo").reserved == 0


def test_receipt_and_queued_images_appear_at_once(
    sandbox_factory: Callable[..., SandboxHandle],
) -> None:
    sandbox = sandbox_factory(processing_seconds=30, worker_concurrency=2)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        receipt = _register(
            client,
            _shoot(
                model={"id": "model_ava"},
                scenery={"id": "scenery_beach"},
                preset={"id": "preset_editorial"},
                industry="fashion",
                suggestions="Golden hour",
            ),
        )
        assert set(receipt) == {
            "createdRecordIds",
            "batchId",
            "orderId",
            "reservationId",
            "creditsReserved",
        }
        ids = receipt["createdRecordIds"]
        assert len(ids) == len(set(ids)) == 10  # count defaults to 10
        assert receipt["creditsReserved"] == 30  # 3 credits an image
        assert receipt["batchId"].startswith("batch_")
        assert receipt["orderId"].startswith("order_")
        assert receipt["reservationId"].startswith("res_")
        listed = {im["id"]: im for im in list_images(client, productId=PRODUCT)}
        assert set(ids) <= set(listed)
        mine = [listed[i] for i in ids]
        assert {im["status"] for im in mine} <= {"QUEUED", "PROCESSING"}
        assert sum(im["status"] == "QUEUED" for im in mine) >= 8
        assert {im["name"] for im in mine} == {"Fashion Shoot - White T-Shirt"}
        assert all(im["voting"] is None for im in mine)
        placeholder = httpx.get(mine[0]["thumbnail"])
        assert placeholder.status_code == 200
        assert placeholder.headers["cache-control"] == "no-cache"
    account = sandbox.ledger().account("acct_demo")
    assert (account.balance, account.reserved) == (500 - 30, 30)


def test_images_go_queued_processing_done(
    sandbox_factory: Callable[..., SandboxHandle],
) -> None:
    sandbox = sandbox_factory(processing_seconds=0.4, worker_concurrency=2)
    seen: dict[str, set[str]] = {}
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        ids = _register(client, {**_shoot(), "count": 4})["createdRecordIds"]

        def record() -> bool:
            now = statuses(client, ids, PRODUCT)
            for image_id, status in now.items():
                seen.setdefault(image_id, set()).add(status)
            return len(now) == len(ids) and set(now.values()) == {"DONE"}

        wait_until(record, timeout=20, interval=0.05, what="the shoot to finish")
        done_thumb = httpx.get(f"{sandbox.base_url}/cdn/images/{ids[0]}.jpg")
    assert all(s <= {"QUEUED", "PROCESSING", "DONE"} and "DONE" in s for s in seen.values())
    assert any("QUEUED" in s for s in seen.values())
    assert any("PROCESSING" in s for s in seen.values())
    assert done_thumb.headers["cache-control"].startswith("public")
    assert done_thumb.headers["etag"] == f'"{ids[0]}-v1"'


def test_success_consumes_the_reservation(client: httpx.Client, sandbox: SandboxHandle) -> None:
    receipt = _register(client, {**_shoot(), "count": 5})
    final = _wait_finished(client, receipt["createdRecordIds"])
    assert set(final.values()) == {"DONE"}
    ledger = sandbox.ledger()
    account = ledger.account("acct_demo")
    assert (account.balance, account.reserved, account.consumed, account.refunded) == (
        485,
        15,
        15,
        0,
    )
    (reservation,) = ledger.reservations
    assert reservation.reservation_id == receipt["reservationId"]
    assert (reservation.consumed, reservation.refunded, reservation.pending) == (15, 0, 0)
    assert ledger.balanced


def test_failure_refunds_the_reservation(sandbox_factory: Callable[..., SandboxHandle]) -> None:
    sandbox = sandbox_factory(failure_rate=1.0)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        receipt = _register(client, {**_shoot(), "count": 7})
        final = _wait_finished(client, receipt["createdRecordIds"])
        assert set(final.values()) == {"FAILED"}
        failed = httpx.get(f"{sandbox.base_url}/cdn/images/{receipt['createdRecordIds'][0]}.jpg")
        assert failed.headers["etag"] == '"failed-v1"'
    ledger = sandbox.ledger()
    account = ledger.account("acct_demo")
    assert (account.balance, account.reserved, account.consumed, account.refunded) == (
        500,
        21,
        0,
        21,
    )
    assert ledger.balanced


def test_mixed_outcomes_balance_at_every_moment(
    sandbox_factory: Callable[..., SandboxHandle],
) -> None:
    sandbox = sandbox_factory(failure_rate=0.5, processing_seconds=0.05, worker_concurrency=3)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        receipts = [_register(client, {**_shoot(), "count": 20}) for _ in range(2)]
        ids = [i for r in receipts for i in r["createdRecordIds"]]
        snapshots = 0

        def balanced_until_done() -> dict[str, str] | None:
            nonlocal snapshots
            ledger = sandbox.ledger()
            snapshots += 1
            assert ledger.balanced, ledger
            return all_finished(client, ids, PRODUCT)

        final = wait_until(balanced_until_done, timeout=60, interval=0.01, what="both shoots")
    done = sum(s == "DONE" for s in final.values())
    failed = sum(s == "FAILED" for s in final.values())
    assert done + failed == 40
    assert done > 0
    assert failed > 0
    account = sandbox.ledger().account("acct_demo")
    assert account.consumed == 3 * done
    assert account.refunded == 3 * failed
    assert account.balance == 500 - 3 * done
    assert snapshots > 3


def test_402_at_the_boundary(sandbox_factory: Callable[..., SandboxHandle]) -> None:
    sandbox = sandbox_factory(credits=30, processing_seconds=60)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        over = client.post(REGISTER, json={**_shoot(), "count": 11})
        assert over.status_code == 402
        assert over.json() == {"error": "Insufficient credits. Required: 33, available: 30."}
        exact = client.post(REGISTER, json={**_shoot(), "count": 10})
        assert exact.status_code == 200
        assert exact.json()["creditsReserved"] == 30
        one_more = client.post(REGISTER, json={**_shoot(), "count": 1})
        assert one_more.status_code == 402
        assert one_more.json() == {"error": "Insufficient credits. Required: 3, available: 0."}
        assert len(list_images(client, productId=PRODUCT)) == 10 + 7  # 7 from the demo history
    with api_client(sandbox.base_url, EXAMPLE_API_KEY) as other:  # another account's balance
        assert (
            other.post(
                REGISTER, json={"config": {"product": {"id": "prod_abc123"}}, "count": 10}
            ).status_code
            == 200
        )


def test_refunds_can_be_spent_again(sandbox_factory: Callable[..., SandboxHandle]) -> None:
    sandbox = sandbox_factory(credits=12, failure_rate=1.0)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        first = _register(client, {**_shoot(), "count": 4})
        assert client.post(REGISTER, json={**_shoot(), "count": 1}).status_code == 402
        _wait_finished(client, first["createdRecordIds"])
        sandbox.reconfigure(failure_rate=0.0)
        second = _register(client, {**_shoot(), "count": 4})
        _wait_finished(client, second["createdRecordIds"])
    account = sandbox.ledger().account("acct_demo")
    assert (account.balance, account.consumed, account.refunded) == (0, 12, 12)
