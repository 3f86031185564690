"""Filling a new sandbox database: the demo catalogue, its history, and `--seed-images`."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from qamera_desktop.sandbox import catalogue
from qamera_desktop.sandbox.catalogue import ImageSeed
from qamera_desktop.sandbox.schema import SCHEMA_VERSION, iso_ms


def seed_catalogue(c: sqlite3.Connection, credits: int) -> None:
    """Write the demo catalogue and history and grant `credits` to each account (inside the
    caller's transaction)."""
    now = datetime.now(UTC)
    stamp = iso_ms(now)

    def ago(days: float) -> str:
        return iso_ms(now - timedelta(days=days))

    c.executemany(
        "INSERT INTO accounts (id, name, credits) VALUES (?, ?, ?)",
        [(a.id, a.name, credits) for a in catalogue.ACCOUNTS],
    )
    c.executemany(
        "INSERT INTO ledger (account_id, kind, amount, created_at) VALUES (?, 'GRANT', ?, ?)",
        [(a.id, credits, stamp) for a in catalogue.ACCOUNTS],
    )
    c.executemany(
        "INSERT INTO api_keys (key, account_id, label, scopes) VALUES (?, ?, ?, ?)",
        [(k.key, k.account_id, k.label, " ".join(k.scopes)) for k in catalogue.KEYS],
    )
    c.executemany(
        "INSERT INTO products (id, account_id, name, category, shape, color, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (p.id, p.account_id, p.name, p.category, p.shape, p.color, ago(p.age_days))
            for p in catalogue.PRODUCTS
        ],
    )
    c.executemany(
        "INSERT INTO models (id, account_id, name, skin, hair, long_hair, voting, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                m.id,
                m.account_id,
                m.name,
                m.skin,
                m.hair,
                int(m.long_hair),
                m.voting,
                ago(m.age_days),
            )
            for m in catalogue.MODELS
        ],
    )
    c.executemany(
        "INSERT INTO sceneries (id, account_id, name, style, voting, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (s.id, s.account_id, s.name, s.style, s.voting, ago(s.age_days))
            for s in catalogue.SCENERIES
        ],
    )
    c.executemany(
        "INSERT INTO presets (id, account_id, name, guidelines, quantity_guidelines,"
        " quality_guidelines, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                p.id,
                p.account_id,
                p.name,
                p.guidelines,
                p.quantity_guidelines,
                p.quality_guidelines,
                ago(p.age_days),
            )
            for p in catalogue.PRESETS
        ],
    )
    _insert_images(c, catalogue.demo_images(), now)
    c.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    c.execute("INSERT INTO meta (key, value) VALUES ('seeded_at', ?)", (stamp,))


def _insert_images(c: sqlite3.Connection, images: list[ImageSeed], now: datetime) -> None:
    rows = []
    for im in images:
        created = im.fixed_created_at or iso_ms(now - timedelta(hours=im.age_hours))
        rows.append(
            (
                im.id,
                im.account_id,
                im.product_id,
                im.model_id,
                im.scenery_id,
                im.name,
                im.status,
                im.voting,
                created,
                created,
            )
        )
    c.executemany(
        "INSERT INTO images (id, account_id, product_id, model_id, scenery_id, name,"
        " status, voting, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def add_scale_images(c: sqlite3.Connection, count: int) -> int:
    """Top the demo account up to `count` `--seed-images` images (all DONE, inside the caller's
    transaction); returns how many were added. Generated inside SQLite: 100,000 take a couple of
    seconds. Their thumbnails are rendered lazily."""
    (have,) = c.execute("SELECT count(*) FROM images WHERE scale_index IS NOT NULL").fetchone()
    if have >= count:
        return 0
    (origin,) = c.execute("SELECT value FROM meta WHERE key = 'seeded_at'").fetchone()
    c.execute("DROP TABLE IF EXISTS temp.scale_products")
    c.execute("DROP TABLE IF EXISTS temp.scale_refs")
    c.execute("CREATE TEMP TABLE scale_products (k INTEGER PRIMARY KEY, id, name, worn)")
    c.execute("CREATE TEMP TABLE scale_refs (kind, k, id, PRIMARY KEY (kind, k))")
    products = catalogue.scale_products()
    models, sceneries = catalogue.scale_models(), catalogue.scale_sceneries()
    c.executemany(
        "INSERT INTO scale_products VALUES (?, ?, ?, ?)",
        [(k, pid, name, int(worn)) for k, (pid, name, worn) in enumerate(products)],
    )
    c.executemany(
        "INSERT INTO scale_refs VALUES (?, ?, ?)",
        [("model", k, v) for k, v in enumerate(models)]
        + [("scenery", k, v) for k, v in enumerate(sceneries)],
    )
    # ids: an odd multiplier is a bijection modulo 2**48, so they never collide
    c.execute(
        """
        WITH RECURSIVE seq(i) AS (
            SELECT :first UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < :count
        )
        INSERT OR IGNORE INTO images (id, account_id, product_id, model_id, scenery_id,
            name, status, voting, created_at, finished_at, scale_index)
        SELECT 'img_' || printf('%012x', (i * :mul + :add) % 281474976710656),
            :account, p.id,
            CASE WHEN p.worn THEN (SELECT id FROM scale_refs
                WHERE kind = 'model' AND k = i % :models) END,
            (SELECT id FROM scale_refs WHERE kind = 'scenery' AND k = (i / 6) % :sceneries),
            p.name, 'DONE',
            CASE WHEN i % :approve_every = 0 THEN 'APPROVED' END,
            strftime('%Y-%m-%dT%H:%M:%fZ', :origin,
                printf('-%d seconds', :older + i * :apart)),
            strftime('%Y-%m-%dT%H:%M:%fZ', :origin,
                printf('-%d seconds', :older + i * :apart)),
            i
        FROM seq JOIN scale_products p ON p.k = i % :products
        """,
        {
            "mul": 42515134359,
            "add": 134399990401949,
            "first": have,
            "count": count,
            "account": catalogue.DEMO_ACCOUNT,
            "models": len(models),
            "sceneries": len(sceneries),
            "products": len(products),
            "approve_every": catalogue.SCALE_APPROVE_EVERY,
            "origin": origin,
            "older": catalogue.SCALE_OLDER_THAN_DAYS * 86400,
            "apart": catalogue.SCALE_SECONDS_APART,
        },
    )
    c.execute("DROP TABLE temp.scale_products")
    c.execute("DROP TABLE temp.scale_refs")
    return int(count - have)
