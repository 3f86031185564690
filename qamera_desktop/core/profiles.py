"""Profiles: the accounts the app knows (a name, a server, a kind), and where each keeps its data.

There is always the built-in demo sandbox (`DEMO_PROFILE`); the designer adds accounts. Each
profile has a random id (`p_` + 16 hex digits) given when it is made and never derived from its
key: it names the profile's keyring entry (`core/key_store.py`) and its folders, so neither says
anything about the key, and a new key for the same profile keeps its history.

The list lives in `profiles.json` in the app's data folder, written atomically. Reading forgives
a hand-edited or older file as `core/settings.py` does: unknown fields are ignored, an entry that
is not valid (no name, a refused URL, an id that could not be a folder name) is skipped, and a
last-used id that names nothing falls back to the demo.

Each profile's data stays apart (`profile_paths`): an account's database (review state, shoot
history) under `<data dir>/profiles/<id>/`, its thumbnail and image caches under
`<cache dir>/profiles/<id>/` (the platform's cache folder, as `core/app_paths.py` keeps caches;
inside the data folder with --data-dir). The demo sandbox keeps the folders the app used before
profiles existed (`<data dir>/library.sqlite3`, `<data dir>/sandbox/`, `<cache dir>/thumbnails/`),
so nothing moves on an update and `qamera-desktop export --demo` finds the same decisions.
Removing a profile deletes its key, and its data only when asked.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import shutil
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from qamera_desktop.api.base_url import DEFAULT_BASE_URL, normalize_base_url
from qamera_desktop.core.app_paths import AppPaths, ProfilePaths
from qamera_desktop.core.export.files import write_atomically

if TYPE_CHECKING:  # the keyring is imported only where keys are read, after the first paint
    from qamera_desktop.core.key_store import KeyStore

log = logging.getLogger(__name__)

PROFILES_FILE_NAME: Final = "profiles.json"
PROFILES_DIR_NAME: Final = "profiles"
DEMO_PROFILE_ID: Final = "demo"
NAME_MAX: Final = 80
_ID = re.compile(r"[a-z0-9_]{1,40}")  # a folder name and a keyring user name on every OS


class ProfileKind(StrEnum):
    SANDBOX = "sandbox"  # the app's own demo server, on a loopback port (the last run's when free)
    ACCOUNT = "account"  # a Qamera server (app.qamera.ai, self-hosted, a standalone sandbox)


@dataclass(frozen=True, slots=True)
class Profile:
    """An account the app knows: the demo sandbox or a connected Qamera account."""

    id: str
    name: str
    kind: ProfileKind
    base_url: str | None  # None for the demo sandbox, whose port can change from run to run

    @property
    def is_demo(self) -> bool:
        return self.kind is ProfileKind.SANDBOX


DEMO_PROFILE: Final = Profile(DEMO_PROFILE_ID, "Demo sandbox", ProfileKind.SANDBOX, None)


def profile_paths(app_paths: AppPaths, profile_id: str) -> ProfilePaths:
    """Where the profile `profile_id` keeps its data (nothing is created: `ensure()` does)."""
    if not _ID.fullmatch(profile_id):
        raise ValueError("Not a profile id.")  # never a path outside the profiles folder
    if profile_id == DEMO_PROFILE_ID:
        return ProfilePaths(data_dir=app_paths.data_dir, cache_dir=app_paths.cache_dir)
    return ProfilePaths(
        data_dir=app_paths.data_dir / PROFILES_DIR_NAME / profile_id,
        cache_dir=app_paths.cache_dir / PROFILES_DIR_NAME / profile_id,
    )


def new_profile_id() -> str:
    """A fresh random id: nothing about the key, the server or the name can be read from it."""
    return f"p_{secrets.token_hex(8)}"


def clean_name(name: object) -> str:
    """The name as kept: surrounding and repeated whitespace dropped; ValueError when empty or
    too long."""
    cleaned = " ".join(name.split()) if isinstance(name, str) else ""
    if not cleaned:
        raise ValueError("Give the profile a name.")
    if len(cleaned) > NAME_MAX:
        raise ValueError(f"The name is too long (at most {NAME_MAX} characters).")
    return cleaned


@dataclass(frozen=True, slots=True)
class ProfileBook:
    """The accounts (the demo not included) in the order they were added, and the last used."""

    accounts: tuple[Profile, ...] = ()
    last_used: str = DEMO_PROFILE_ID

    @property
    def profiles(self) -> tuple[Profile, ...]:
        return (DEMO_PROFILE, *self.accounts)

    def find(self, profile_id: str) -> Profile | None:
        return next((p for p in self.profiles if p.id == profile_id), None)

    def to_json(self) -> dict[str, object]:
        return {
            "last_used": self.last_used,
            "profiles": [
                {"id": p.id, "name": p.name, "kind": p.kind.value, "base_url": p.base_url}
                for p in self.accounts
            ],
        }

    @classmethod
    def from_json(cls, raw: object) -> ProfileBook:
        if not isinstance(raw, dict):
            return cls()
        accounts: list[Profile] = []
        entries = raw.get("profiles")
        for entry in entries if isinstance(entries, list) else []:
            profile = _account_from_json(entry)
            if profile is not None and all(p.id != profile.id for p in accounts):
                accounts.append(profile)
        last = raw.get("last_used")
        known = last == DEMO_PROFILE_ID or any(p.id == last for p in accounts)
        return cls(tuple(accounts), last if isinstance(last, str) and known else DEMO_PROFILE_ID)


def _account_from_json(entry: object) -> Profile | None:
    """An account entry of the file, or None (logged) when it is not a valid one."""
    if not isinstance(entry, dict):
        return None
    profile_id, name, url = entry.get("id"), entry.get("name"), entry.get("base_url")
    try:
        if entry.get("kind", ProfileKind.ACCOUNT.value) != ProfileKind.ACCOUNT.value:
            raise ValueError("only accounts are stored")
        if not isinstance(profile_id, str) or not _ID.fullmatch(profile_id):
            raise ValueError("bad id")
        if profile_id == DEMO_PROFILE_ID or not isinstance(url, str):
            raise ValueError("bad id or URL")
        return Profile(profile_id, clean_name(name), ProfileKind.ACCOUNT, normalize_base_url(url))
    except ValueError as exc:
        log.warning("a profile entry of the profiles file is skipped (%s)", exc)
        return None


class ProfileStore:
    """The profiles file: read once, and again before each change; every change written at once.

    Changes raise ValueError with a sentence for the designer when refused (an empty or taken
    name, a refused URL, the demo touched, an unknown id).
    """

    def __init__(self, app_paths: AppPaths) -> None:
        self.app_paths = app_paths
        self.path = app_paths.data_dir / PROFILES_FILE_NAME
        self._book = self._read()

    @property
    def book(self) -> ProfileBook:
        return self._book

    @property
    def profiles(self) -> tuple[Profile, ...]:
        """The demo sandbox first, then the accounts in the order they were added."""
        return self._book.profiles

    def get(self, profile_id: str) -> Profile:
        profile = self._book.find(profile_id)
        if profile is None:
            raise ValueError("There is no such profile (it may have been removed).")
        return profile

    @property
    def last_used(self) -> Profile:
        return self.get(self._book.last_used)

    def find_by_url(self, base_url: str) -> Profile | None:
        """The account at `base_url` (the last used one when several are), or None: the profile
        to open for `--api-url` with $QAMERA_API_KEY. ValueError for a refused address."""
        url = normalize_base_url(base_url)
        matches = [p for p in self._book.accounts if p.base_url == url]
        return next((p for p in matches if p.id == self._book.last_used), None) or next(
            iter(matches), None
        )

    def name_problem(self, name: str, *, but: str | None = None) -> str | None:
        """Why `name` cannot name a profile (empty, too long, taken by another than `but`), in
        a sentence for the designer; None when it can."""
        try:
            _refuse_taken_name(self._book, clean_name(name), but=but)
        except ValueError as exc:
            return str(exc)
        return None

    def paths(self, profile_id: str) -> ProfilePaths:
        """The folders of `profile_id` (see `profile_paths`)."""
        return profile_paths(self.app_paths, profile_id)

    # -- changes ------------------------------------------------------------------------------
    def add(self, name: str, base_url: str) -> Profile:
        """A new account profile (not yet the last used: `set_last_used` once connected)."""
        book = self._read()
        profile = Profile(
            new_profile_id(), clean_name(name), ProfileKind.ACCOUNT, normalize_base_url(base_url)
        )
        _refuse_taken_name(book, profile.name)
        self._write(replace(book, accounts=(*book.accounts, profile)))
        return profile

    def update(
        self, profile_id: str, *, name: str | None = None, base_url: str | None = None
    ) -> Profile:
        """Rename an account, or move it to another address (its data and key stay)."""
        book = self._read()
        old = _account(book, profile_id)
        new = old
        if name is not None:
            new = replace(new, name=clean_name(name))
            _refuse_taken_name(book, new.name, but=profile_id)
        if base_url is not None:
            new = replace(new, base_url=normalize_base_url(base_url))
        accounts = tuple(new if p.id == profile_id else p for p in book.accounts)
        self._write(replace(book, accounts=accounts))
        return new

    def set_last_used(self, profile_id: str) -> None:
        book = self._read()
        if book.find(profile_id) is None:
            raise ValueError("There is no such profile (it may have been removed).")
        if book.last_used != profile_id:
            self._write(replace(book, last_used=profile_id))

    def remove(self, profile_id: str, *, keys: KeyStore, delete_data: bool) -> None:
        """Forget an account: its key is deleted from the keyring (and the key file, and this
        session); its folders (database, cache) only with `delete_data`, which the window asks
        the designer first. Close the profile's database before deleting its data."""
        book = self._read()
        _account(book, profile_id)
        keys.delete(profile_id)
        accounts = tuple(p for p in book.accounts if p.id != profile_id)
        last = DEMO_PROFILE_ID if book.last_used == profile_id else book.last_used
        self._write(ProfileBook(accounts, last))
        if delete_data:
            paths = self.paths(profile_id)
            for folder in (paths.data_dir, paths.cache_dir):
                shutil.rmtree(folder, ignore_errors=True)

    # -- the file -----------------------------------------------------------------------------
    def _read(self) -> ProfileBook:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ProfileBook()
        except OSError as exc:
            log.warning("cannot read the profiles file %s: %s", self.path, exc)
            return ProfileBook()
        try:
            return ProfileBook.from_json(json.loads(text))
        except ValueError:
            log.warning("the profiles file %s is not valid JSON; only the demo is known", self.path)
            return ProfileBook()

    def _write(self, book: ProfileBook) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(book.to_json(), indent=2).encode())
        self._book = book


def _account(book: ProfileBook, profile_id: str) -> Profile:
    if profile_id == DEMO_PROFILE_ID:
        raise ValueError("The demo sandbox is built in: it cannot be renamed or removed.")
    profile = book.find(profile_id)
    if profile is None:
        raise ValueError("There is no such profile (it may have been removed).")
    return profile


def _refuse_taken_name(book: ProfileBook, name: str, but: str | None = None) -> None:
    if any(p.name.casefold() == name.casefold() and p.id != but for p in book.profiles):
        raise ValueError(f"There is already a profile named “{name}”.")


def choose_profile(
    store: ProfileStore, *, demo: bool, api_url: str | None, environment_key: bool
) -> Profile | None:
    """The profile a launch opens: the demo with `demo`; with $QAMERA_API_KEY set, the account
    at `api_url` (or the default server), made on the spot when there is none (for scripts);
    with `api_url` alone, the account there, or None when there is none (the app then offers
    to connect one); else the last used. ValueError for a refused `api_url`."""
    if demo:
        return DEMO_PROFILE
    if environment_key or api_url:
        url = normalize_base_url(api_url or DEFAULT_BASE_URL)
        found = store.find_by_url(url)
        if found is not None or not environment_key:
            return found
        host = urlsplit(url).hostname or url
        name, n = host, 2
        while store.name_problem(name) is not None:
            name, n = f"{host} ({n})", n + 1
        return store.add(name, url)
    return store.last_used
