"""Shoots <-> rows of the `shoots` table of the local database.

Times are stored as ISO 8601 text in UTC, id lists and statuses as JSON. A row that cannot be read
back (hand-edited, or from a broken build) is logged and skipped, never fatal.

Each shoot's receipt is kept in its row (the credits reserved and the ids of the images created), so
the credits per image of an account can be estimated from them at any time, across restarts.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

from qamera_desktop.api.errors import ValidationError
from qamera_desktop.api.records import ShootReceipt
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.database import Database
from qamera_desktop.core.shoots import Shoot, ShootState

log = logging.getLogger(__name__)

RECENT_RECEIPTS = 20
"""How many of an account's latest receipts the credits-per-image estimate is taken from (a price
change shows in the estimate once it has been paid a few times)."""

#: States of a shoot whose request was sent and not refused: the choices in it were "used".
_USED_STATES = tuple(
    state.value
    for state in (
        ShootState.UNCERTAIN,
        ShootState.TRACKING,
        ShootState.FINISHED,
        ShootState.CANCELLED,
    )
)

_COLUMNS = (
    "local_id",
    "account",
    "product_id",
    "product_name",
    "request_json",
    "state",
    "created_at",
    "submitted_at",
    "finished_at",
    "created_record_ids",
    "batch_id",
    "order_id",
    "reservation_id",
    "credits_reserved",
    "correlation_id",
    "found_record_ids",
    "statuses_json",
    "done_count",
    "failed_count",
    "last_error",
    "updated_at",
)
# Built from the constant column names above, never from data (values are bound parameters).
_UPSERT = (
    f"INSERT INTO shoots ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)}) "
    "ON CONFLICT (local_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c not in ("local_id", "account"))
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _time_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _time_value(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _id_list(text: object) -> tuple[str, ...] | None:
    if text is None:
        return None
    value = json.loads(str(text))
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise ValueError("an id list is not a JSON list of strings")
    return tuple(value)


def shoot_to_row(shoot: Shoot) -> dict[str, str | int | float | None]:
    receipt = shoot.receipt
    return {
        "local_id": shoot.local_id,
        "account": shoot.account,
        "product_id": shoot.product_id,
        "product_name": shoot.product_name,
        "request_json": json.dumps(shoot.request.to_body(), sort_keys=True),
        "state": shoot.state.value,
        "created_at": _time_text(shoot.created_at),
        "submitted_at": _time_text(shoot.submitted_at),
        "finished_at": _time_text(shoot.finished_at),
        "created_record_ids": (
            json.dumps(list(receipt.created_record_ids)) if receipt is not None else None
        ),
        "batch_id": receipt.batch_id if receipt else None,
        "order_id": receipt.order_id if receipt else None,
        "reservation_id": receipt.reservation_id if receipt else None,
        "credits_reserved": receipt.credits_reserved if receipt else None,
        "correlation_id": receipt.correlation_id if receipt else None,
        "found_record_ids": (
            json.dumps(list(shoot.found_record_ids)) if shoot.found_record_ids else None
        ),
        "statuses_json": json.dumps(dict(shoot.statuses), sort_keys=True),
        "done_count": shoot.done,
        "failed_count": shoot.failed,
        "last_error": shoot.error,
        "updated_at": _time_text(utc_now()),
    }


def shoot_from_row(row: sqlite3.Row) -> Shoot:
    """Raises ValueError (or ValidationError) when the row does not make a shoot."""
    body = json.loads(row["request_json"])
    request = ShootRequest.from_body(body)
    receipt: ShootReceipt | None = None
    created = _id_list(row["created_record_ids"])
    if created is not None:
        credits = row["credits_reserved"]
        receipt = ShootReceipt(
            created_record_ids=created,
            batch_id=row["batch_id"],
            order_id=row["order_id"],
            reservation_id=row["reservation_id"],
            credits_reserved=float(credits) if credits is not None else None,
            correlation_id=row["correlation_id"],
        )
    statuses = json.loads(row["statuses_json"] or "{}")
    if not isinstance(statuses, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in statuses.items()
    ):
        raise ValueError("statuses_json is not an object of strings")
    created_at = _time_value(row["created_at"])
    if created_at is None:
        raise ValueError("created_at is missing")
    return Shoot(
        local_id=row["local_id"],
        account=row["account"],
        request=request,
        product_name=row["product_name"],
        state=ShootState(row["state"]),
        created_at=created_at,
        receipt=receipt,
        statuses=statuses,
        error=row["last_error"],
        finished_at=_time_value(row["finished_at"]),
        submitted_at=_time_value(row["submitted_at"]),
        found_record_ids=_id_list(row["found_record_ids"]) or (),
    )


class ShootStore:
    """The shoots of every account in one database; each write is committed at once."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @property
    def database(self) -> Database:
        return self._db

    def save(self, shoot: Shoot) -> None:
        """Insert or update (by local id). The account of an existing row never changes."""
        self._db.execute(_UPSERT, shoot_to_row(shoot))

    def delete(self, local_ids: Iterable[str]) -> int:
        """Remove these shoots (all or none); the number of rows removed."""
        removed = 0
        with self._db.transaction():
            for local_id in local_ids:
                removed += self._db.execute("DELETE FROM shoots WHERE local_id = ?", (local_id,))
        return removed

    def load(self, account: str) -> list[Shoot]:
        """The account's shoots, newest first; unreadable rows are logged and skipped."""
        rows = self._db.query(
            "SELECT * FROM shoots WHERE account = ? ORDER BY created_at DESC, rowid DESC",
            (account,),
        )
        shoots: list[Shoot] = []
        for row in rows:
            try:
                shoots.append(shoot_from_row(row))
            except (ValueError, TypeError, KeyError, ValidationError) as exc:
                log.error("Skipping unreadable shoot %s: %s", row["local_id"], exc)
        return shoots

    def credits_per_image(self, account: str, recent: int = RECENT_RECEIPTS) -> float | None:
        """Credits reserved per created image over the account's `recent` latest receipts;
        None before its first receipt (or when no receipt stated its credits)."""
        rows = self._db.query(
            "SELECT local_id, credits_reserved, created_record_ids FROM shoots"
            " WHERE account = ? AND credits_reserved IS NOT NULL"
            " AND created_record_ids IS NOT NULL"
            " ORDER BY coalesce(submitted_at, created_at) DESC, rowid DESC LIMIT ?",
            (account, recent),
        )
        credits = 0.0
        images = 0
        for row in rows:
            try:
                ids = _id_list(row["created_record_ids"]) or ()
                reserved = float(row["credits_reserved"])
            except (ValueError, TypeError) as exc:
                log.error("Skipping the unreadable receipt of shoot %s: %s", row["local_id"], exc)
                continue
            if ids:
                credits += reserved
                images += len(ids)
        return credits / images if images else None

    def last_request(self, account: str, product_id: str) -> ShootRequest | None:
        """The request of the account's latest shoot of this product that was sent and not
        refused; None when there is none (unreadable rows are skipped)."""
        marks = ", ".join("?" for _ in _USED_STATES)
        rows = self._db.query(
            "SELECT local_id, request_json FROM shoots"  # noqa: S608 - placeholders only
            f" WHERE account = ? AND product_id = ? AND state IN ({marks})"
            " ORDER BY created_at DESC, rowid DESC LIMIT 5",
            (account, product_id, *_USED_STATES),
        )
        for row in rows:
            try:
                return ShootRequest.from_body(json.loads(row["request_json"]))
            except (ValueError, TypeError, ValidationError) as exc:
                log.error("Skipping the unreadable request of shoot %s: %s", row["local_id"], exc)
        return None
