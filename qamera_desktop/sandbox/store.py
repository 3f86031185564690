"""The sandbox's state in one SQLite database (WAL): catalogue, images, job queue and ledger.

The queries live here (the schema in `schema.py`, first-start filling in `seeding.py`). Every
change that matters to money or to the queue is one transaction (`BEGIN IMMEDIATE` ... `COMMIT`),
so killing the process at any instant leaves either the state before or the state after: no
registered image and no credit is ever lost.

The ledger is append-only: GRANT (starting balance), RESERVE (at registration), then per image
exactly one CONSUME (done) or REFUND (failed) of `price_per_image`. A unique index on the image id
makes a second settlement of one image impossible. The invariant, per reservation, at every moment:

    reserved == consumed + refunded + price_per_image * (images still QUEUED or PROCESSING)

and per account: balance == granted - reserved + refunded.

Connections are per thread (the server reads in a thread pool while the worker writes).
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from qamera_desktop.sandbox import catalogue, seeding
from qamera_desktop.sandbox.ledger import AccountLedger, LedgerReport, ReservationLedger
from qamera_desktop.sandbox.renderer import ModelLook, ProductLook, SceneryLook, ShotSpec
from qamera_desktop.sandbox.schema import DB_FILENAME, DONE, FAILED, SCHEMA, iso_ms
from qamera_desktop.sandbox.validation import ShootRequest

__all__ = [
    "DB_FILENAME",
    "InsufficientCredits",
    "LedgerReport",
    "NotFound",
    "Principal",
    "Receipt",
    "Store",
    "new_id",
    "read_ledger",
]


_ITEM_IDS = "abcdefghijklmnopqrstuvwxyz0123456789"

# The image-picker body in one query: the subquery feeds group_concat in listing order (newest
# first, id as the tie-break; SQLite keeps a subquery's order in the aggregate) and the items are
# pre-serialised in generated columns, so 100,000 items cost one index scan and a string join.
_IMAGES_SELECT = (
    "SELECT group_concat(json_head || :base || json_tail, ','), count(*) FROM ("
    "SELECT json_head, json_tail FROM images WHERE account_id = :account"
)
_IMAGES_ORDER = " ORDER BY created_at DESC, id DESC)"
_IMAGES_SQL = {
    (False, False): _IMAGES_SELECT + _IMAGES_ORDER,
    (True, False): _IMAGES_SELECT + " AND product_id = :product" + _IMAGES_ORDER,
    (False, True): _IMAGES_SELECT + " AND voting = 'APPROVED'" + _IMAGES_ORDER,
    (True, True): _IMAGES_SELECT
    + " AND product_id = :product AND voting = 'APPROVED'"
    + _IMAGES_ORDER,
}


class NotFound(Exception):
    """A referenced resource does not exist for the account; `kind` is e.g. "Product"."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"{kind} not found.")
        self.kind = kind


class InsufficientCredits(Exception):
    def __init__(self, required: int, available: int) -> None:
        super().__init__(f"Insufficient credits. Required: {required}, available: {available}.")
        self.required = required
        self.available = available


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a key belongs to and what it may do."""

    account_id: str
    label: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Receipt:
    created_record_ids: tuple[str, ...]
    batch_id: str
    order_id: str
    reservation_id: str
    credits_reserved: int

    def to_json(self) -> dict[str, object]:
        return {
            "createdRecordIds": list(self.created_record_ids),
            "batchId": self.batch_id,
            "orderId": self.order_id,
            "reservationId": self.reservation_id,
            "creditsReserved": self.credits_reserved,
        }


def _now() -> str:
    return iso_ms(datetime.now(UTC))


def new_id(prefix: str, length: int = 12) -> str:
    return prefix + "".join(secrets.choice(_ITEM_IDS) for _ in range(length))


class Store:
    """Thread-safe access to one sandbox database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        self._closed = False
        self._keys: dict[str, Principal] = {}

    @classmethod
    def open(cls, data_dir: Path) -> Store:
        data_dir.mkdir(parents=True, exist_ok=True)
        store = cls(data_dir / DB_FILENAME)
        conn = store._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
        return store

    # connections and transactions

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if self._closed:
            if conn is not None:  # this thread's connection outlived close(): close it now
                self._local.conn = None
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            raise RuntimeError("the sandbox store is closed")
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            # WAL + NORMAL: a commit survives the death of the process (kill -9); only a power
            # loss may take the last transactions back, which a demo server can afford.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            with self._lock:
                self._connections.append((threading.current_thread(), conn))
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connections of this thread and of finished threads.

        A connection another live thread may be using this very moment (a worker thread still
        inside a query while the server shuts down) is not closed under it: closing an SQLite
        connection in use by another thread crashes the process. That thread closes it itself
        on its next call, which raises, or it is closed when the thread ends.
        """
        me = threading.current_thread()
        with self._lock:
            self._closed = True
            closable = [(t, c) for t, c in self._connections if t is me or not t.is_alive()]
            self._connections = [pair for pair in self._connections if pair not in closable]
        if getattr(self._local, "conn", None) is not None:
            self._local.conn = None
        for _, conn in closable:
            with contextlib.suppress(sqlite3.Error):  # closing is best effort
                conn.close()

    # set-up

    def initialize(
        self, credits: int, seed_images: int = 0, extra_demo_keys: tuple[str, ...] = ()
    ) -> bool:
        """Seed the catalogue into a new database (atomically). Returns True if it was new.
        `extra_demo_keys` open the demo account too, for this run only (not stored)."""
        created = False
        with self._write() as c:
            if c.execute("SELECT 1 FROM meta WHERE key = 'seeded_at'").fetchone() is None:
                seeding.seed_catalogue(c, credits)
                created = True
        self.ensure_scale_images(seed_images)
        extra = Principal(
            catalogue.DEMO_ACCOUNT,
            "extra demo key",
            frozenset((catalogue.SCOPE_READ, catalogue.SCOPE_REGISTER)),
        )
        self._keys = {**self._load_keys(), **dict.fromkeys(extra_demo_keys, extra)}
        return created

    def ensure_scale_images(self, count: int) -> int:
        """Keep at least `count` `--seed-images` images in the demo account; returns how many
        were added."""
        if count <= 0:
            return 0
        with self._write() as c:
            return seeding.add_scale_images(c, count)

    def _load_keys(self) -> dict[str, Principal]:
        rows = self._conn().execute("SELECT key, account_id, label, scopes FROM api_keys")
        return {
            key: Principal(acct, label, frozenset(scopes.split()))
            for key, acct, label, scopes in rows
        }

    # auth

    def authenticate(self, key: str) -> Principal | None:
        return self._keys.get(key)

    # listings (read-only; built as JSON text for speed)

    def images_json(
        self, account_id: str, *, approved_only: bool, product_id: str | None, thumb_base: str
    ) -> str:
        """The image-picker body. `thumb_base` ends with "/" and is already JSON-safe."""
        sql = _IMAGES_SQL[(product_id is not None, approved_only)]
        params = {"account": account_id, "product": product_id, "base": thumb_base}
        items, count = self._conn().execute(sql, params).fetchone()
        return '{"images":[' + (items or "") + '],"count":' + str(count) + "}"

    def products(self, account_id: str) -> list[tuple[str, str, str, str]]:
        """(id, name, status, createdAt), newest first."""
        return (
            self._conn()
            .execute(
                "SELECT id, name, status, created_at FROM products WHERE account_id = ?"
                " ORDER BY created_at DESC, id DESC",
                (account_id,),
            )
            .fetchall()
        )

    def models(
        self, account_id: str, approved_only: bool
    ) -> list[tuple[str, str, str, str | None, str]]:
        """(id, name, status, voting, createdAt), newest first."""
        return self._voted("models", account_id, approved_only)

    def sceneries(
        self, account_id: str, approved_only: bool
    ) -> list[tuple[str, str, str, str | None, str]]:
        return self._voted("sceneries", account_id, approved_only)

    def _voted(
        self, table: str, account_id: str, approved_only: bool
    ) -> list[tuple[str, str, str, str | None, str]]:
        assert table in ("models", "sceneries")
        approved = " AND voting = 'APPROVED'" if approved_only else ""
        return (
            self._conn()
            .execute(
                f"SELECT id, name, status, voting, created_at FROM {table}"  # noqa: S608 - fixed names
                f" WHERE account_id = ?{approved} ORDER BY created_at DESC, id DESC",
                (account_id,),
            )
            .fetchall()
        )

    def presets(self, account_id: str, limit: int) -> list[tuple[str, str, str, str, str, str]]:
        """(id, name, guidelines, quantityGuidelines, qualityGuidelines, createdAt), newest
        first."""
        return (
            self._conn()
            .execute(
                "SELECT id, name, guidelines, quantity_guidelines, quality_guidelines, created_at"
                " FROM presets WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
                (account_id, limit),
            )
            .fetchall()
        )

    # registering a shoot

    def register_shoot(
        self, account_id: str, request: ShootRequest, price_per_image: int, correlation_id: str
    ) -> Receipt:
        """Check ids, reserve credits, create QUEUED images and enqueue the job: one transaction.

        Raises NotFound (a referenced id is not the account's) or InsufficientCredits."""
        with self._write() as c:
            product = c.execute(
                "SELECT name, category FROM products WHERE id = ? AND account_id = ?",
                (request.product_id, account_id),
            ).fetchone()
            if product is None:
                raise NotFound("Product")
            for kind, table, ref in (
                ("Model", "models", request.model_id),
                ("Scenery", "sceneries", request.scenery_id),
                ("Preset", "presets", request.preset_id),
            ):
                if (
                    ref is not None
                    and not c.execute(
                        f"SELECT 1 FROM {table} WHERE id = ? AND account_id = ?",  # noqa: S608
                        (ref, account_id),
                    ).fetchone()
                ):
                    raise NotFound(kind)
            required = price_per_image * request.count
            (available,) = c.execute(
                "SELECT credits FROM accounts WHERE id = ?", (account_id,)
            ).fetchone()
            if available < required:
                raise InsufficientCredits(required, available)
            now = _now()
            reservation_id, batch_id, order_id = new_id("res_"), new_id("batch_"), new_id("order_")
            c.execute(
                "UPDATE accounts SET credits = credits - ? WHERE id = ?", (required, account_id)
            )
            c.execute(
                "INSERT INTO reservations (id, account_id, batch_id, order_id, price_per_image,"
                " image_count, amount, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    reservation_id,
                    account_id,
                    batch_id,
                    order_id,
                    price_per_image,
                    request.count,
                    required,
                    now,
                ),
            )
            c.execute(
                "INSERT INTO ledger (account_id, kind, amount, reservation_id, created_at)"
                " VALUES (?, 'RESERVE', ?, ?, ?)",
                (account_id, required, reservation_id, now),
            )
            c.execute(
                "INSERT INTO jobs (batch_id, account_id, reservation_id, product_id, model_id,"
                " scenery_id, preset_id, industry, suggestions, correlation_id, state, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'QUEUED', ?)",
                (
                    batch_id,
                    account_id,
                    reservation_id,
                    request.product_id,
                    request.model_id,
                    request.scenery_id,
                    request.preset_id,
                    request.industry,
                    request.suggestions,
                    correlation_id,
                    now,
                ),
            )
            name = catalogue.image_name(_shoot_label(request.industry, product[1]), product[0])
            ids = tuple(new_id("img_") for _ in range(request.count))
            c.executemany(
                "INSERT INTO images (id, account_id, product_id, model_id, scenery_id, batch_id,"
                " reservation_id, name, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'QUEUED', ?)",
                [
                    (
                        image_id,
                        account_id,
                        request.product_id,
                        request.model_id,
                        request.scenery_id,
                        batch_id,
                        reservation_id,
                        name,
                        now,
                    )
                    for image_id in ids
                ],
            )
        return Receipt(ids, batch_id, order_id, reservation_id, required)

    # the worker's side of the queue

    def interrupted_images(self) -> list[str]:
        """Images left PROCESSING by a previous run (in queue order): the worker resumes them."""
        rows = (
            self._conn()
            .execute("SELECT id FROM images WHERE status = 'PROCESSING' ORDER BY rowid")
            .fetchall()
        )
        return [r[0] for r in rows]

    def claim_next_image(self) -> str | None:
        """Move the oldest QUEUED image to PROCESSING and return its id."""
        with self._write() as c:
            row = c.execute(
                "SELECT id FROM images WHERE status = 'QUEUED' ORDER BY rowid LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            c.execute(
                "UPDATE images SET status = 'PROCESSING', started_at = ? WHERE id = ?",
                (_now(), row[0]),
            )
            return str(row[0])

    def finish_image(self, image_id: str, succeeded: bool) -> bool:
        """Settle one image: DONE + CONSUME, or FAILED + REFUND; close the job when it was the last.

        Returns False if the image was already finished (nothing changes)."""
        with self._write() as c:
            row = c.execute(
                "SELECT i.account_id, i.batch_id, i.reservation_id, r.price_per_image"
                " FROM images i JOIN reservations r ON r.id = i.reservation_id"
                " WHERE i.id = ? AND i.status IN ('QUEUED', 'PROCESSING')",
                (image_id,),
            ).fetchone()
            if row is None:
                return False
            account_id, batch_id, reservation_id, price = row
            now = _now()
            c.execute(
                "UPDATE images SET status = ?, finished_at = ? WHERE id = ?",
                (DONE if succeeded else FAILED, now, image_id),
            )
            c.execute(
                "INSERT INTO ledger (account_id, kind, amount, reservation_id, image_id,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    account_id,
                    "CONSUME" if succeeded else "REFUND",
                    price,
                    reservation_id,
                    image_id,
                    now,
                ),
            )
            if not succeeded:
                c.execute(
                    "UPDATE accounts SET credits = credits + ? WHERE id = ?", (price, account_id)
                )
            if not c.execute(
                "SELECT 1 FROM images"
                " WHERE batch_id = ? AND status IN ('QUEUED', 'PROCESSING') LIMIT 1",
                (batch_id,),
            ).fetchone():
                c.execute(
                    "UPDATE jobs SET state = 'DONE', finished_at = ? WHERE batch_id = ?",
                    (now, batch_id),
                )
            return True

    def pending_image_count(self) -> int:
        (n,) = (
            self._conn()
            .execute("SELECT count(*) FROM images WHERE status IN ('QUEUED', 'PROCESSING')")
            .fetchone()
        )
        return int(n)

    # what thumbnails show

    def image_status(self, image_id: str) -> str | None:
        row = self._conn().execute("SELECT status FROM images WHERE id = ?", (image_id,)).fetchone()
        return None if row is None else str(row[0])

    def shot_spec(self, image_id: str) -> ShotSpec | None:
        row = (
            self._conn()
            .execute(
                "SELECT p.name, p.shape, p.color, s.name, s.style,"
                " m.name, m.skin, m.hair, m.long_hair"
                " FROM images i JOIN products p ON p.id = i.product_id"
                " LEFT JOIN sceneries s ON s.id = i.scenery_id"
                " LEFT JOIN models m ON m.id = i.model_id WHERE i.id = ?",
                (image_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        pname, shape, color, sname, style, mname, skin, hair, long_hair = row
        return ShotSpec(
            record_id=image_id,
            product=ProductLook(pname, shape, color),
            scenery=None if sname is None else SceneryLook(sname, style),
            model=None if mname is None else ModelLook(mname, skin, hair, bool(long_hair)),
        )

    def product_look(self, product_id: str) -> ProductLook | None:
        row = (
            self._conn()
            .execute("SELECT name, shape, color FROM products WHERE id = ?", (product_id,))
            .fetchone()
        )
        return None if row is None else ProductLook(*row)

    def model_look(self, model_id: str) -> ModelLook | None:
        row = (
            self._conn()
            .execute("SELECT name, skin, hair, long_hair FROM models WHERE id = ?", (model_id,))
            .fetchone()
        )
        return None if row is None else ModelLook(row[0], row[1], row[2], bool(row[3]))

    def scenery_look(self, scenery_id: str) -> SceneryLook | None:
        row = (
            self._conn()
            .execute("SELECT name, style FROM sceneries WHERE id = ?", (scenery_id,))
            .fetchone()
        )
        return None if row is None else SceneryLook(*row)

    # the ledger

    def balance(self, account_id: str) -> int:
        (credits,) = (
            self._conn()
            .execute("SELECT credits FROM accounts WHERE id = ?", (account_id,))
            .fetchone()
        )
        return int(credits)

    def ledger_report(self) -> LedgerReport:
        """A consistent snapshot of all accounts and reservations (one read transaction)."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            sums = {
                (acct, kind): total
                for acct, kind, total in conn.execute(
                    "SELECT account_id, kind, sum(amount) FROM ledger GROUP BY account_id, kind"
                )
            }
            accounts = tuple(
                AccountLedger(
                    account_id=acct,
                    balance=credits,
                    granted=sums.get((acct, "GRANT"), 0),
                    reserved=sums.get((acct, "RESERVE"), 0),
                    consumed=sums.get((acct, "CONSUME"), 0),
                    refunded=sums.get((acct, "REFUND"), 0),
                )
                for acct, credits in conn.execute("SELECT id, credits FROM accounts ORDER BY id")
            )
            reservations = tuple(
                ReservationLedger(*row)
                for row in conn.execute(
                    "SELECT r.id, r.account_id, r.price_per_image,"
                    " (SELECT coalesce(sum(amount), 0) FROM ledger l"
                    "   WHERE l.reservation_id = r.id AND kind = 'RESERVE'),"
                    " (SELECT coalesce(sum(amount), 0) FROM ledger l"
                    "   WHERE l.reservation_id = r.id AND kind = 'CONSUME'),"
                    " (SELECT coalesce(sum(amount), 0) FROM ledger l"
                    "   WHERE l.reservation_id = r.id AND kind = 'REFUND'),"
                    " r.price_per_image * (SELECT count(*) FROM images i"
                    "   WHERE i.reservation_id = r.id AND i.status IN ('QUEUED', 'PROCESSING'))"
                    " FROM reservations r ORDER BY r.created_at, r.id"
                )
            )
            (unsettled,) = conn.execute(
                "SELECT count(*) FROM images i WHERE i.reservation_id IS NOT NULL"
                " AND i.status NOT IN ('QUEUED', 'PROCESSING')"
                " AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.image_id = i.id)"
            ).fetchone()
        finally:
            conn.execute("COMMIT")
        return LedgerReport(accounts, reservations, int(unsettled))


def _shoot_label(industry: str | None, category: str) -> str:
    if industry and industry.strip():
        return industry.strip()[:40].title()
    return catalogue.SHOOT_LABELS.get(category, "Product")


def read_ledger(data_dir: Path) -> LedgerReport:
    """The ledger of a sandbox data directory, read directly from its database (for tests and the
    command line; safe while the server runs)."""
    path = data_dir / DB_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"no sandbox database in {data_dir}")
    store = Store(path)
    try:
        return store.ledger_report()
    finally:
        store.close()
