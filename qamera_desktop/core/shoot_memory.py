"""What the New shoot dialog remembers of an account, in the local database.

- the choices last used with each product (industry, AI model, scenery, preset), so that a new
  shoot of that product starts from them; for products shot before this was kept, the latest
  shoot of the product stands in;
- the credit balance a 402 answer last stated ("available: 11"), the only balance the API tells;
- the credits per image, estimated from the account's receipts (kept with the shoots).

Keyed by the account id (`core.account.account_id`: a hash, never the key). Qt-free. Reading never
raises: a database error is logged and reads as "nothing remembered"; a failed write is logged too.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from qamera_desktop.api.errors import ValidationError
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.database import Database
from qamera_desktop.core.shoot_store import ShootStore, utc_now

log = logging.getLogger(__name__)

_AVAILABLE = re.compile(r"\bavailable\s*:?\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def available_credits(message: str | None) -> float | None:
    """The balance a 402 answer states, e.g. 11 from "Insufficient credits. Required: 15,
    available: 11."; None when the text states none."""
    if not message:
        return None
    match = _AVAILABLE.search(message)
    return float(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class ProductChoices:
    """The optional fields of a shoot as last used with one product (None: left empty)."""

    industry: str | None = None
    model_id: str | None = None
    scenery_id: str | None = None
    preset_id: str | None = None

    @classmethod
    def of(cls, request: ShootRequest) -> ProductChoices:
        request = request.validate()
        return cls(request.industry, request.model_id, request.scenery_id, request.preset_id)


NOTHING_CHOSEN = ProductChoices()


@dataclass(frozen=True, slots=True)
class KnownBalance:
    available: float
    seen_at: datetime
    """When Qamera stated it (UTC)."""


def _time_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class ShootMemory:
    """One account's memory in `database`. Use it on the event-loop thread (as the database)."""

    def __init__(
        self, database: Database, account: str, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        if not account:
            raise ValueError("account must be a non-empty string")
        self._db = database
        self._shoots = ShootStore(database)
        self._account = account
        self._now = clock

    @property
    def account(self) -> str:
        return self._account

    # -- choices per product -----------------------------------------------------------------
    def choices(self, product_id: str) -> ProductChoices | None:
        """What was last used with this product; None when it was never shot (or on error)."""
        try:
            rows = self._db.query(
                "SELECT industry, model_id, scenery_id, preset_id FROM product_choices"
                " WHERE account = ? AND product_id = ?",
                (self._account, product_id),
            )
            if rows:
                row = rows[0]
                return ProductChoices(
                    row["industry"], row["model_id"], row["scenery_id"], row["preset_id"]
                )
            request = self._shoots.last_request(self._account, product_id)
        except sqlite3.Error:
            log.exception("Could not read the choices remembered for product %s", product_id)
            return None
        return ProductChoices.of(request) if request is not None else None

    def remember(self, request: ShootRequest) -> None:
        """Keep the choices of a shoot that was submitted, as its product's latest."""
        try:
            request = request.validate()
        except ValidationError:  # an invalid request was never submitted: nothing to remember
            log.warning("Not remembering the choices of an invalid request")
            return
        choices = ProductChoices.of(request)
        try:
            self._db.execute(
                "INSERT INTO product_choices"
                " (account, product_id, industry, model_id, scenery_id, preset_id, used_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (account, product_id) DO UPDATE SET"
                " industry = excluded.industry, model_id = excluded.model_id,"
                " scenery_id = excluded.scenery_id, preset_id = excluded.preset_id,"
                " used_at = excluded.used_at",
                (
                    self._account,
                    request.product_id,
                    choices.industry,
                    choices.model_id,
                    choices.scenery_id,
                    choices.preset_id,
                    _time_text(self._now()),
                ),
            )
        except sqlite3.Error:
            log.exception("Could not remember the choices for product %s", request.product_id)

    # -- credits -----------------------------------------------------------------------------
    def credits_per_image(self) -> float | None:
        """Estimated from the account's receipts; None before the first one (or on error)."""
        try:
            return self._shoots.credits_per_image(self._account)
        except sqlite3.Error:
            log.exception("Could not read the receipts of the account")
            return None

    def balance(self) -> KnownBalance | None:
        """The balance a 402 answer last stated; None when none ever did (or on error)."""
        try:
            rows = self._db.query(
                "SELECT available, seen_at FROM credit_balances WHERE account = ?",
                (self._account,),
            )
            if not rows:
                return None
            seen = datetime.fromisoformat(rows[0]["seen_at"])
            return KnownBalance(float(rows[0]["available"]), seen)
        except (sqlite3.Error, ValueError, TypeError):
            log.exception("Could not read the last known balance of the account")
            return None

    def remember_balance(self, available: float) -> KnownBalance:
        """Keep the balance a 402 answer stated (now); returned even if it could not be stored."""
        known = KnownBalance(float(available), self._now())
        try:
            self._db.execute(
                "INSERT INTO credit_balances (account, available, seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT (account) DO UPDATE SET"
                " available = excluded.available, seen_at = excluded.seen_at",
                (self._account, known.available, _time_text(known.seen_at)),
            )
        except sqlite3.Error:
            log.exception("Could not store the balance of the account")
        return known
