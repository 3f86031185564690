"""What the New shoot dialog remembers per account (core/shoot_memory.py), the receipts estimate
(core/shoot_store.py) and the schema migration that added the memory's tables."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qamera_desktop.api.records import ShootReceipt
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.account import account_id
from qamera_desktop.core.database import SCHEMA_VERSION, Database
from qamera_desktop.core.shoot_memory import (
    KnownBalance,
    ProductChoices,
    ShootMemory,
    available_credits,
)
from qamera_desktop.core.shoot_store import ShootStore, shoot_to_row
from qamera_desktop.core.shoots import Shoot, ShootState

T0 = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
KEY = "mk_live_abc123.secret456"
ACCOUNT = account_id("https://app.qamera.ai", KEY)
OTHER = account_id("https://app.qamera.ai", "mk_live_other.key789")

# The schema as version 1 of the app created it, frozen here (not read from MIGRATIONS[0]), so
# that the migration is tested against what is really on the designers' disks.
SCHEMA_V1 = """
CREATE TABLE shoots (
    local_id            TEXT PRIMARY KEY,
    account             TEXT NOT NULL,
    product_id          TEXT NOT NULL,
    product_name        TEXT,
    request_json        TEXT NOT NULL,
    state               TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    submitted_at        TEXT,
    finished_at         TEXT,
    created_record_ids  TEXT,
    batch_id            TEXT,
    order_id            TEXT,
    reservation_id      TEXT,
    credits_reserved    REAL,
    correlation_id      TEXT,
    found_record_ids    TEXT,
    statuses_json       TEXT NOT NULL DEFAULT '{}',
    done_count          INTEGER NOT NULL DEFAULT 0,
    failed_count        INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    updated_at          TEXT NOT NULL
);
CREATE INDEX shoots_by_account ON shoots (account, created_at);
PRAGMA user_version = 1;
"""


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def shoot(
    local_id: str,
    request: ShootRequest,
    *,
    account: str = ACCOUNT,
    minutes: int = 0,
    state: ShootState = ShootState.FINISHED,
    credits: float | None = None,
    images: int = 0,
) -> Shoot:
    receipt = None
    if images:
        ids = tuple(f"{local_id}-img{i}" for i in range(images))
        receipt = ShootReceipt(ids, "batch", "order", "res", credits)
    return Shoot(
        local_id=local_id,
        account=account,
        request=request,
        product_name=None,
        state=state,
        created_at=T0 + timedelta(minutes=minutes),
        receipt=receipt,
        submitted_at=T0 + timedelta(minutes=minutes) if receipt else None,
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "app.sqlite3")
    yield database
    database.close()


# -- choices per product ---------------------------------------------------------------------
def test_choices_are_remembered_per_product_and_per_account(db: Database) -> None:
    memory = ShootMemory(db, ACCOUNT)
    assert memory.choices("prod_vase04") is None
    memory.remember(
        ShootRequest("prod_vase04", "model_ava", "scenery_loft", "preset_editorial", "home decor")
    )
    memory.remember(ShootRequest("prod_run03", industry="footwear", count=2))
    assert memory.choices("prod_vase04") == ProductChoices(
        "home decor", "model_ava", "scenery_loft", "preset_editorial"
    )
    assert memory.choices("prod_run03") == ProductChoices(industry="footwear")
    assert ShootMemory(db, OTHER).choices("prod_vase04") is None  # another key, another account

    # the latest use wins, "none" included
    memory.remember(ShootRequest("prod_vase04", scenery_id="scenery_studio", industry="  "))
    assert memory.choices("prod_vase04") == ProductChoices(scenery_id="scenery_studio")


def test_the_api_key_is_never_stored(db: Database) -> None:
    memory = ShootMemory(db, ACCOUNT)
    memory.remember(ShootRequest("prod_vase04", industry="home decor"))
    memory.remember_balance(11)
    db.close()  # the last connection: the write-ahead log is folded into the file
    raw = b"".join(p.read_bytes() for p in Path(db.path).parent.iterdir() if p.is_file())
    assert KEY.encode() not in raw
    assert ACCOUNT.encode() in raw


def test_products_shot_before_the_memory_existed_use_their_latest_shoot(db: Database) -> None:
    store = ShootStore(db)
    store.save(shoot("old", ShootRequest("prod_tote02", "model_malik", industry="bags")))
    store.save(shoot("newer", ShootRequest("prod_tote02", scenery_id="scenery_loft"), minutes=5))
    refused = ShootRequest("prod_tote02", industry="refused")
    store.save(shoot("refused", refused, minutes=9, state=ShootState.REJECTED))
    store.save(shoot("other account", ShootRequest("prod_tote02", industry="x"), account=OTHER))
    memory = ShootMemory(db, ACCOUNT)
    assert memory.choices("prod_tote02") == ProductChoices(scenery_id="scenery_loft")
    memory.remember(ShootRequest("prod_tote02", industry="leather goods"))
    assert memory.choices("prod_tote02") == ProductChoices(industry="leather goods")


def test_an_invalid_request_is_not_remembered(db: Database, caplog) -> None:
    memory = ShootMemory(db, ACCOUNT)
    with caplog.at_level(logging.WARNING):
        memory.remember(ShootRequest("   "))
    assert db.query("SELECT count(*) FROM product_choices")[0][0] == 0
    assert "invalid request" in caplog.text


# -- credits ---------------------------------------------------------------------------------
def test_credits_per_image_come_from_the_stored_receipts_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite3"
    with Database(path) as db:
        memory = ShootMemory(db, ACCOUNT)
        assert memory.credits_per_image() is None
        store = ShootStore(db)
        store.save(shoot("a", ShootRequest("prod_1", count=2), credits=6, images=2))
        store.save(shoot("b", ShootRequest("prod_1", count=4), minutes=1, credits=16, images=4))
        store.save(
            shoot("no receipt", ShootRequest("prod_1"), minutes=2, state=ShootState.REJECTED)
        )
        no_credits = shoot("no credits", ShootRequest("prod_1"), minutes=3, images=3)
        store.save(no_credits)
        other = shoot("x", ShootRequest("prod_1", count=1), account=OTHER, credits=50, images=1)
        store.save(other)
    with Database(path) as db:  # a restart
        assert ShootMemory(db, ACCOUNT).credits_per_image() == pytest.approx(22 / 6)
        assert ShootMemory(db, OTHER).credits_per_image() == 50


def test_the_estimate_follows_the_latest_receipts(db: Database) -> None:
    store = ShootStore(db)
    for n in range(30):  # an old price of 1 per image, then 3 for the latest twenty shoots
        price = 1 if n < 10 else 3
        store.save(
            shoot(f"s{n}", ShootRequest("prod_1", count=2), minutes=n, credits=2 * price, images=2)
        )
    assert store.credits_per_image(ACCOUNT) == 3
    assert store.credits_per_image(ACCOUNT, recent=30) == pytest.approx(140 / 60)


def test_an_unreadable_receipt_is_skipped(db: Database, caplog) -> None:
    store = ShootStore(db)
    store.save(shoot("good", ShootRequest("prod_1", count=2), credits=6, images=2))
    store.save(shoot("bad", ShootRequest("prod_1", count=2), minutes=1, credits=6, images=2))
    db.execute("UPDATE shoots SET created_record_ids = 'not json' WHERE local_id = 'bad'")
    with caplog.at_level(logging.ERROR):
        assert ShootMemory(db, ACCOUNT).credits_per_image() == 3
    assert "bad" in caplog.text


@pytest.mark.parametrize(
    ("message", "available"),
    [
        ("Insufficient credits. Required: 15, available: 11.", 11),
        ("insufficient credits (required 6; Available: 2.5)", 2.5),
        ("Not enough credits for this shoot.", None),
        (None, None),
    ],
)
def test_the_balance_a_402_states(message: str | None, available: float | None) -> None:
    assert available_credits(message) == available


def test_the_last_known_balance_is_kept_across_restarts(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "app.sqlite3"
    with Database(path) as db:
        memory = ShootMemory(db, ACCOUNT, clock=clock)
        assert memory.balance() is None
        assert memory.remember_balance(11) == KnownBalance(11, T0)
        clock.now = T0 + timedelta(hours=1)
        memory.remember_balance(5)
    with Database(path) as db:
        assert ShootMemory(db, ACCOUNT).balance() == KnownBalance(5, T0 + timedelta(hours=1))
        assert ShootMemory(db, OTHER).balance() is None


def test_database_errors_are_logged_not_raised(db: Database, caplog) -> None:
    memory = ShootMemory(db, ACCOUNT)
    db.execute("DROP TABLE product_choices")
    db.execute("DROP TABLE credit_balances")
    with caplog.at_level(logging.ERROR):
        memory.remember(ShootRequest("prod_1", industry="x"))
        assert memory.choices("prod_1") is None
        assert memory.balance() is None
        assert memory.remember_balance(3).available == 3
    assert caplog.text.count("no such table") >= 3


def test_an_account_is_required(db: Database) -> None:
    with pytest.raises(ValueError, match="account"):
        ShootMemory(db, "")


# -- the migration ---------------------------------------------------------------------------
def test_a_database_of_the_old_schema_opens_migrated_with_its_shoots(tmp_path: Path) -> None:
    path = tmp_path / "qamera.sqlite3"
    old = shoot(
        "old-1",
        ShootRequest("prod_vase04", "model_ava", industry="home decor", count=2),
        credits=6,
        images=2,
    )
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA_V1)
    row = shoot_to_row(old)
    names = ", ".join(row)
    marks = ", ".join(f":{name}" for name in row)
    connection.execute(f"INSERT INTO shoots ({names}) VALUES ({marks})", row)  # noqa: S608
    connection.commit()
    connection.close()

    with Database(path) as db:
        assert db.schema_version == SCHEMA_VERSION >= 2
        tables = {r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"shoots", "product_choices", "credit_balances"} <= tables
        assert [s.local_id for s in ShootStore(db).load(ACCOUNT)] == ["old-1"]
        memory = ShootMemory(db, ACCOUNT)
        assert memory.credits_per_image() == 3
        assert memory.choices("prod_vase04") == ProductChoices("home decor", "model_ava")
        memory.remember(ShootRequest("prod_vase04", industry="vases"))
        memory.remember_balance(11)
    with Database(path) as db:  # opened again: not migrated twice, everything still there
        assert db.schema_version == SCHEMA_VERSION
        memory = ShootMemory(db, ACCOUNT)
        assert memory.choices("prod_vase04") == ProductChoices("vases")
        assert memory.balance() is not None
        stored = db.query("SELECT request_json FROM shoots WHERE local_id = 'old-1'")
        assert json.loads(stored[0][0])["config"]["industry"] == "home decor"


def test_the_replace_helper_keeps_shoot_fields(db: Database) -> None:
    """A shoot saved again with its receipt (as the service does) counts once in the estimate."""
    store = ShootStore(db)
    first = shoot("s", ShootRequest("prod_1", count=2), credits=6, images=2)
    store.save(first)
    store.save(replace(first, statuses={"s-img0": "DONE"}))
    assert store.credits_per_image(ACCOUNT) == 3
