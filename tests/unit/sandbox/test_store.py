"""The store without HTTP: registration, settlement, the ledger invariant, the queue, seeding."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from qamera_desktop.sandbox.catalogue import DEMO_ACCOUNT, EXAMPLE_ACCOUNT
from qamera_desktop.sandbox.keys import DEMO_API_KEY, EXAMPLE_API_KEY, READONLY_API_KEY
from qamera_desktop.sandbox.store import InsufficientCredits, NotFound, Store, read_ledger
from qamera_desktop.sandbox.validation import ShootRequest


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path)
    assert s.initialize(credits=100)
    yield s
    s.close()


def test_keys_and_scopes(store: Store) -> None:
    example, demo, readonly = (
        store.authenticate(k) for k in (EXAMPLE_API_KEY, DEMO_API_KEY, READONLY_API_KEY)
    )
    assert example is not None
    assert example.account_id == EXAMPLE_ACCOUNT
    assert demo is not None
    assert demo.account_id == DEMO_ACCOUNT
    assert readonly is not None
    assert readonly.account_id == DEMO_ACCOUNT
    assert "content.register" in demo.scopes
    assert "content.register" not in readonly.scopes
    assert store.authenticate("mk_live_abc123.secret457") is None


def test_register_reserves_and_settles_each_image_once(store: Store) -> None:
    receipt = store.register_shoot(EXAMPLE_ACCOUNT, ShootRequest("prod_abc123", count=3), 3, "c1")
    assert receipt.credits_reserved == 9
    assert store.balance(EXAMPLE_ACCOUNT) == 91
    first = store.claim_next_image()
    assert first == receipt.created_record_ids[0]  # queue order
    assert store.image_status(first) == "PROCESSING"
    assert store.finish_image(first, succeeded=True)
    assert not store.finish_image(first, succeeded=False)  # settled already: nothing changes
    second = store.claim_next_image()
    assert second is not None
    assert store.finish_image(second, succeeded=False)
    report = store.ledger_report()
    assert report.balanced
    (reservation,) = report.reservations
    assert (
        reservation.reserved,
        reservation.consumed,
        reservation.refunded,
        reservation.pending,
    ) == (9, 3, 3, 3)
    assert store.balance(EXAMPLE_ACCOUNT) == 94
    third = receipt.created_record_ids[2]
    assert store.finish_image(third, succeeded=True)  # settling a queued image is allowed too
    assert store.claim_next_image() is None
    assert store.ledger_report().reservations[0].pending == 0


def test_not_found_and_insufficient_credits_change_nothing(store: Store) -> None:
    with pytest.raises(NotFound, match="Product not found"):
        store.register_shoot(DEMO_ACCOUNT, ShootRequest("prod_abc123"), 3, "c")
    with pytest.raises(NotFound, match="Scenery not found"):
        store.register_shoot(
            DEMO_ACCOUNT, ShootRequest("prod_wtee01", scenery_id="scenery_001"), 3, "c"
        )
    with pytest.raises(InsufficientCredits) as exc:
        store.register_shoot(DEMO_ACCOUNT, ShootRequest("prod_wtee01", count=20), 6, "c")
    assert str(exc.value) == "Insufficient credits. Required: 120, available: 100."
    assert store.balance(DEMO_ACCOUNT) == 100
    assert store.pending_image_count() == 0
    assert store.ledger_report().reservations == ()


def test_interrupted_images_are_found_after_a_crash(tmp_path: Path, store: Store) -> None:
    receipt = store.register_shoot(DEMO_ACCOUNT, ShootRequest("prod_run03", count=2), 3, "c")
    claimed = store.claim_next_image()
    store.close()  # the process "dies" here
    reopened = Store.open(tmp_path)
    reopened.initialize(credits=100)
    assert reopened.interrupted_images() == [claimed]
    assert reopened.pending_image_count() == 2
    assert read_ledger(tmp_path).balanced
    assert set(receipt.created_record_ids) == {claimed, reopened.claim_next_image()}
    reopened.close()


def test_listing_json_is_ordered_and_escaped(store: Store) -> None:
    body = json.loads(
        store.images_json(
            DEMO_ACCOUNT, approved_only=False, product_id=None, thumb_base="http://h/cdn/images/"
        )
    )
    images = body["images"]
    assert body["count"] == len(images) == 40
    keys = [(im["createdAt"], im["id"]) for im in images]
    assert keys == sorted(keys, reverse=True)
    assert images[0]["thumbnail"] == f"http://h/cdn/images/{images[0]['id']}.jpg"
    receipt = store.register_shoot(
        DEMO_ACCOUNT, ShootRequest("prod_vase04", industry='home "deco" \\ déco', count=1), 3, "c"
    )
    newest = json.loads(
        store.images_json(
            DEMO_ACCOUNT, approved_only=False, product_id="prod_vase04", thumb_base="x/"
        )
    )["images"][0]
    assert newest["id"] == receipt.created_record_ids[0]
    assert newest["name"] == 'Home "Deco" \\ Déco Shoot - Ceramic Vase'
    assert newest["status"] == "QUEUED"
    assert newest["voting"] is None
    empty = store.images_json(
        EXAMPLE_ACCOUNT, approved_only=True, product_id="none", thumb_base="x/"
    )
    assert json.loads(empty) == {"images": [], "count": 0}


def test_scale_images_are_topped_up_not_duplicated(store: Store) -> None:
    assert store.ensure_scale_images(500) == 500
    assert store.ensure_scale_images(500) == 0
    assert store.ensure_scale_images(600) == 100
    body = json.loads(
        store.images_json(DEMO_ACCOUNT, approved_only=False, product_id=None, thumb_base="x/")
    )
    assert body["count"] == 640
    assert len({im["id"] for im in body["images"]}) == 640
    spec = store.shot_spec(body["images"][-1]["id"])
    assert spec is not None
    assert spec.product.name
