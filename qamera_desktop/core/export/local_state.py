"""What the window decided, read without the window: an account's reviews and its shoots.

The same database file (`AppPaths.database_file`), account id and stores (`ReviewStore`,
`ShootStore`) as `ui/services.py` uses, so that an export outside the app takes exactly the
decisions the designer made in it, also while the app is running (SQLite in WAL mode: a reader
sees every committed decision).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qamera_desktop.core.database import Database
from qamera_desktop.core.review import Review
from qamera_desktop.core.review_store import ReviewStore
from qamera_desktop.core.shoot_lineage import shoot_index
from qamera_desktop.core.shoot_store import ShootStore
from qamera_desktop.core.shoots import Shoot


@dataclass(frozen=True, slots=True)
class LocalState:
    reviews: dict[str, Review]  # image id -> the designer's review (blank ones left out)
    shoots: dict[str, Shoot]  # image id -> the shoot of this app that created it
    found: bool  # False: there is no database yet (nothing was ever decided here)


def read_local_state(database_file: Path, account: str) -> LocalState:
    """The account's reviews and shoots. A missing database is not created: nothing decided.
    Raises DatabaseError for a database that cannot be read (or was written by a newer app)."""
    if not database_file.exists():
        return LocalState({}, {}, found=False)
    with Database(database_file) as database:
        reviews = ReviewStore(database, account).reviewed()
        shoots = shoot_index(ShootStore(database).load(account))
    return LocalState(reviews, shoots, found=True)
