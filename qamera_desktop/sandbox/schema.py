"""The sandbox database's schema and conventions (SQLite, WAL).

Tables: accounts and their API keys; the catalogue (products, models, sceneries, presets); images;
reservations and the append-only ledger; jobs, the durable queue (one row per registered shoot).
Timestamps are stored as ISO 8601 text with milliseconds and Z, which sorts chronologically.
"""

from __future__ import annotations

from datetime import UTC, datetime

DB_FILENAME = "sandbox.sqlite3"
SCHEMA_VERSION = "1"

QUEUED, PROCESSING, DONE, FAILED = "QUEUED", "PROCESSING", "DONE", "FAILED"


def iso_ms(moment: datetime) -> str:
    """`2026-03-20T16:00:00.000Z`: ISO 8601, UTC, milliseconds."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    credits INTEGER NOT NULL CHECK (credits >= 0)
);
CREATE TABLE IF NOT EXISTS api_keys (
    key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    label TEXT NOT NULL,
    scopes TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    shape TEXT NOT NULL,
    color TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'UPLOADED',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    skin TEXT NOT NULL,
    hair TEXT NOT NULL,
    long_hair INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'DONE',
    voting TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sceneries (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    style TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'DONE',
    voting TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS presets (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    guidelines TEXT NOT NULL,
    quantity_guidelines TEXT NOT NULL,
    quality_guidelines TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    batch_id TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL,
    price_per_image INTEGER NOT NULL CHECK (price_per_image > 0),
    image_count INTEGER NOT NULL CHECK (image_count > 0),
    amount INTEGER NOT NULL CHECK (amount = price_per_image * image_count),
    created_at TEXT NOT NULL
);
-- the durable queue: one row per registered shoot, DONE when none of its images is unfinished
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    reservation_id TEXT NOT NULL REFERENCES reservations(id),
    product_id TEXT NOT NULL,
    model_id TEXT,
    scenery_id TEXT,
    preset_id TEXT,
    industry TEXT,
    suggestions TEXT,
    correlation_id TEXT,
    state TEXT NOT NULL CHECK (state IN ('QUEUED', 'DONE')),
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    product_id TEXT NOT NULL,
    model_id TEXT,
    scenery_id TEXT,
    batch_id TEXT,
    reservation_id TEXT REFERENCES reservations(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    voting TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    scale_index INTEGER UNIQUE,
    -- the listing item, pre-serialised around its thumbnail base URL (which depends on the Host)
    json_head TEXT GENERATED ALWAYS AS (
        '{"id":' || json_quote(id) || ',"name":' || json_quote(name) || ',"thumbnail":"'
    ) STORED,
    json_tail TEXT GENERATED ALWAYS AS (
        id || '.jpg","status":' || json_quote(status) || ',"voting":' || json_quote(voting)
        || ',"createdAt":' || json_quote(created_at) || '}'
    ) STORED
);
CREATE INDEX IF NOT EXISTS images_listing
    ON images (account_id, created_at DESC, id DESC, voting, json_head, json_tail);
CREATE INDEX IF NOT EXISTS images_by_product
    ON images (account_id, product_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS images_by_status ON images (status);
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL CHECK (kind IN ('GRANT', 'RESERVE', 'CONSUME', 'REFUND')),
    amount INTEGER NOT NULL CHECK (amount >= 0),
    reservation_id TEXT REFERENCES reservations(id),
    image_id TEXT REFERENCES images(id),
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ledger_settles_an_image_once
    ON ledger (image_id) WHERE image_id IS NOT NULL;
"""
