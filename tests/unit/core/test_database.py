"""The local SQLite database (settings, migrations) and the shoots table round trip."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qamera_desktop.api.records import ShootReceipt
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core import database as database_module
from qamera_desktop.core.database import SCHEMA_VERSION, Database, DatabaseError, Migration
from qamera_desktop.core.shoot_store import ShootStore
from qamera_desktop.core.shoots import Shoot, ShootState

T0 = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)


def make_shoot(
    local_id: str, account: str = "acct-1", minutes: int = 0, **changes: object
) -> Shoot:
    base = Shoot(
        local_id=local_id,
        account=account,
        request=ShootRequest(
            "prod_1", model_id="model_x", industry="fashion", suggestions="Urban, dusk", count=3
        ),
        product_name="White tee",
        state=ShootState.SUBMITTING,
        created_at=T0 + timedelta(minutes=minutes),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_opens_in_wal_with_normal_sync_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "app.sqlite3"
    with Database(path) as db:
        assert path.exists()
        assert db.pragma("journal_mode") == "wal"
        assert db.pragma("synchronous") == 1  # NORMAL
        assert db.pragma("foreign_keys") == 1
        assert db.schema_version == SCHEMA_VERSION >= 1
        tables = {row[0] for row in db.query("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "shoots" in tables


def test_reopening_does_not_migrate_again_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite3"
    with Database(path) as db:
        ShootStore(db).save(make_shoot("s1"))
    with Database(path) as db:
        assert db.schema_version == SCHEMA_VERSION
        assert [s.local_id for s in ShootStore(db).load("acct-1")] == ["s1"]


def test_writes_are_committed_at_once(tmp_path: Path) -> None:
    """A second connection sees each write while the first is still open: a crash loses nothing."""
    path = tmp_path / "app.sqlite3"
    with Database(path) as db:
        ShootStore(db).save(make_shoot("s1"))
        other = sqlite3.connect(path)
        try:
            assert other.execute("SELECT local_id FROM shoots").fetchall() == [("s1",)]
        finally:
            other.close()


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    with Database(tmp_path / "app.sqlite3") as db:
        store = ShootStore(db)

        def fail_halfway() -> None:
            with db.transaction():
                store.save(make_shoot("s1"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            fail_halfway()
        assert store.load("acct-1") == []
        with db.transaction():
            store.save(make_shoot("s2"))
        assert [s.local_id for s in store.load("acct-1")] == ["s2"]


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite3"
    Database(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(DatabaseError, match="newer version"):
        Database(path)


def test_forward_migrations_run_in_order_and_a_failing_one_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.sqlite3"
    Database(path).close()  # at the current version
    extra = (
        Migration("add notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);"),
        Migration("broken", "CREATE TABLE half (id INTEGER); CREATE TABLE notes (id INTEGER);"),
    )
    monkeypatch.setattr(database_module, "MIGRATIONS", database_module.MIGRATIONS + extra)
    monkeypatch.setattr(database_module, "SCHEMA_VERSION", SCHEMA_VERSION + 2)
    with pytest.raises(DatabaseError, match=f"schema {SCHEMA_VERSION + 2}"):
        Database(path)
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "notes" in names
        assert "half" not in names  # the failed migration was rolled back as a whole
    finally:
        raw.close()


def test_every_field_of_a_shoot_round_trips(tmp_path: Path) -> None:
    full = make_shoot(
        "s1",
        state=ShootState.FINISHED,
        receipt=ShootReceipt(("img_1", "img_2", "img_3"), "b1", "o1", "r1", 9.0, "corr-1"),
        statuses={"img_1": "DONE", "img_2": "FAILED", "img_3": "DONE"},
        error="note",
        submitted_at=T0 + timedelta(seconds=1),
        finished_at=T0 + timedelta(minutes=2, microseconds=5),
    )
    adopted = make_shoot(
        "s2",
        minutes=1,
        state=ShootState.TRACKING,
        found_record_ids=("img_7", "img_8"),
        statuses={"img_7": "PROCESSING"},
        product_name=None,
    )
    with Database(tmp_path / "app.sqlite3") as db:
        store = ShootStore(db)
        store.save(full)
        store.save(adopted)
        loaded = store.load("acct-1")
        assert loaded == [adopted, full]  # newest first
        assert loaded[1].receipt is not None
        assert loaded[1].receipt.correlation_id == "corr-1"  # not part of receipt equality
        row = db.query("SELECT * FROM shoots WHERE local_id = 's1'")[0]
        assert (row["done_count"], row["failed_count"]) == (2, 1)
        assert row["product_id"] == "prod_1"
        assert row["created_at"].endswith("+00:00")


def test_save_updates_in_place(tmp_path: Path) -> None:
    with Database(tmp_path / "app.sqlite3") as db:
        store = ShootStore(db)
        s = make_shoot("s1")
        store.save(s)
        store.save(replace(s, state=ShootState.REJECTED, error="Product not found."))
        (loaded,) = store.load("acct-1")
        assert (loaded.state, loaded.error) == (ShootState.REJECTED, "Product not found.")


def test_accounts_are_kept_apart(tmp_path: Path) -> None:
    with Database(tmp_path / "app.sqlite3") as db:
        store = ShootStore(db)
        store.save(make_shoot("a1", "acct-1"))
        store.save(make_shoot("b1", "acct-2"))
        store.save(make_shoot("a2", "acct-1", minutes=5))
        assert [s.local_id for s in store.load("acct-1")] == ["a2", "a1"]
        assert [s.local_id for s in store.load("acct-2")] == ["b1"]
        assert store.load("acct-3") == []


def test_unreadable_rows_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Database(tmp_path / "app.sqlite3") as db:
        store = ShootStore(db)
        store.save(make_shoot("good"))
        store.save(make_shoot("bad-json", minutes=1))
        store.save(make_shoot("bad-state", minutes=2))
        db.execute("UPDATE shoots SET request_json = '{' WHERE local_id = 'bad-json'")
        db.execute("UPDATE shoots SET state = 'exploded' WHERE local_id = 'bad-state'")
        assert [s.local_id for s in store.load("acct-1")] == ["good"]
        assert "bad-json" in caplog.text
        assert "bad-state" in caplog.text
