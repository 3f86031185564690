"""The app's one local SQLite database: WAL, `synchronous=NORMAL`, foreign keys, forward migrations.

Each `Database` is used from one thread only: the app's from the event-loop thread (the queries
are tiny), the stored listings' (large blobs) from a thread of their own (core/listing_store.py).
The connection is in autocommit mode: every statement outside `transaction()` is committed when it
returns, so a crash of the app loses nothing that was written. The schema version is SQLite's
`PRAGMA user_version`; `MIGRATIONS[i]` takes the database from version i to version i + 1, each in
one transaction. A database written by a newer version of the app is refused rather than damaged.

Nothing here ever stores an API key: accounts are opaque strings chosen by the caller.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

log = logging.getLogger(__name__)

type SqlValue = str | int | float | bytes | None
type Params = Sequence[SqlValue] | Mapping[str, SqlValue]


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the database's schema, run once, in order, in its own transaction."""

    description: str
    script: str
    """SQL statements separated by semicolons; run inside the migration's transaction."""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "shoots: one row per photo shoot of an account",
        """
        CREATE TABLE shoots (
            local_id            TEXT PRIMARY KEY,
            account             TEXT NOT NULL,
            product_id          TEXT NOT NULL,
            product_name        TEXT,
            request_json        TEXT NOT NULL,
            state               TEXT NOT NULL,
            created_at          TEXT NOT NULL,   -- ISO 8601, UTC
            submitted_at        TEXT,
            finished_at         TEXT,
            created_record_ids  TEXT,            -- JSON list, from the receipt
            batch_id            TEXT,
            order_id            TEXT,
            reservation_id      TEXT,
            credits_reserved    REAL,
            correlation_id      TEXT,
            found_record_ids    TEXT,            -- JSON list, adopted by the listing check
            statuses_json       TEXT NOT NULL DEFAULT '{}',  -- record id -> last seen status
            done_count          INTEGER NOT NULL DEFAULT 0,
            failed_count        INTEGER NOT NULL DEFAULT 0,
            last_error          TEXT,
            updated_at          TEXT NOT NULL
        );
        CREATE INDEX shoots_by_account ON shoots (account, created_at);
        """,
    ),
    Migration(
        "product_choices, credit_balances: what the New shoot dialog remembers per account",
        """
        CREATE TABLE product_choices (
            account             TEXT NOT NULL,
            product_id          TEXT NOT NULL,
            industry            TEXT,            -- NULL: left empty
            model_id            TEXT,            -- NULL: none
            scenery_id          TEXT,
            preset_id           TEXT,
            used_at             TEXT NOT NULL,   -- ISO 8601, UTC
            PRIMARY KEY (account, product_id)
        );
        CREATE TABLE credit_balances (
            account             TEXT PRIMARY KEY,
            available           REAL NOT NULL,   -- as a 402 answer stated it
            seen_at             TEXT NOT NULL    -- ISO 8601, UTC
        );
        """,
    ),
    Migration(
        "reviews: the designer's flag, rating, label and reject reasons per image",
        """
        CREATE TABLE reviews (
            account             TEXT NOT NULL,
            image_id            TEXT NOT NULL,
            flag                TEXT NOT NULL,   -- none | pick | reject
            rating              INTEGER NOT NULL CHECK (rating BETWEEN 0 AND 5),
            label               TEXT NOT NULL,   -- none | red | yellow | green | blue | purple
            reasons             TEXT NOT NULL,   -- reject reasons, comma-separated, in order
            changed_at          TEXT NOT NULL,   -- ISO 8601, UTC
            PRIMARY KEY (account, image_id)
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        "listings: the last listing of each server filter, shown at start and while offline",
        """
        CREATE TABLE listings (
            account             TEXT NOT NULL,
            server_filter       TEXT NOT NULL,   -- "all:" or "approved:<product id>"
            listed_at           TEXT NOT NULL,   -- ISO 8601, UTC: when the server sent it
            image_count         INTEGER NOT NULL,
            images              BLOB NOT NULL,   -- core/listing_store.py's format
            PRIMARY KEY (account, server_filter)
        );
        """,
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


class DatabaseError(RuntimeError):
    """The database cannot be used (unreadable, or written by a newer version of the app)."""


class Database:
    """One SQLite database file. `Database(path)` opens it (creating folders) and migrates it."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self._path, isolation_level=None, timeout=5.0)
        except sqlite3.Error as exc:
            raise DatabaseError(f"Cannot open the database {self._path}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        try:
            self._configure()
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    # -- lifetime ----------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    @property
    def path(self) -> Path:
        return self._path

    def __repr__(self) -> str:
        return f"<Database {self._path} schema {self.schema_version}>"

    # -- queries -----------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        row = self._conn.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    def pragma(self, name: str) -> SqlValue:
        """The value of a read-only PRAGMA (e.g. "journal_mode"), for checks and diagnostics."""
        if not name.isidentifier():
            raise ValueError(f"not a pragma name: {name!r}")
        row = self._conn.execute(f"PRAGMA {name}").fetchone()
        return None if row is None else row[0]

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement (committed at once outside `transaction()`); rows changed."""
        return self._conn.execute(sql, params).rowcount

    def query(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, params).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several statements that are committed together, or not at all."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- set-up ------------------------------------------------------------------------------
    def _configure(self) -> None:
        mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal" and str(self._path) != ":memory:":
            log.warning("SQLite refused WAL mode for %s (journal mode %s)", self._path, mode)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"The database {self._path} was written by a newer version of Qamera Desktop "
                f"(schema {version}; this version knows up to {SCHEMA_VERSION})."
            )
        for number in range(version, SCHEMA_VERSION):
            migration = MIGRATIONS[number]
            log.info("Migrating %s to schema %d: %s", self._path, number + 1, migration.description)
            # executescript runs the statements as given: BEGIN ... COMMIT makes them atomic,
            # together with the new user_version.
            try:
                self._conn.executescript(
                    f"BEGIN IMMEDIATE;\n{migration.script}\n"
                    f"PRAGMA user_version = {number + 1};\nCOMMIT;"
                )
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise DatabaseError(
                    f"Could not migrate the database {self._path} to schema {number + 1}: {exc}"
                ) from exc
