"""Where each profile's API key is kept: the OS keyring, as a password manager would.

- The keyring (`keyring` package, service `qamera-desktop`, user name = the profile id) is the
  one place a key is stored. The profile id is random (`core/profiles.py`), never derived from
  the key, so the keyring entry names nothing secret.
- Where no keyring works (`keyring.get_keyring()` is the fail or null backend, a call raises, or
  `QAMERA_NO_KEYRING` turns it off), `keyring_state()` says so in a sentence the UI can show, and
  `save()` keeps the key in memory for this session only, unless the designer explicitly chose
  the file store: one JSON file in the app's data folder, created owner-only (0600) from its
  first byte (`os.open(..., 0o600)` of a new file, then renamed into place), never readable by
  others even for an instant.
- `QAMERA_API_KEY` in the environment overrides whatever is stored, for scripting.

Nothing here logs, prints or raises with a key in it: keys travel as `ApiKey` (which never
prints), failures are logged by type and profile id only, and every key loaded or saved is
registered with `core/redaction.py`, so that no log record can carry it. The keyring may block
(a D-Bus round trip, an unlock prompt): call these methods from a worker thread
(`asyncio.to_thread`), as the app does for all keyring access.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

import keyring
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
from keyring.backend import KeyringBackend

from qamera_desktop.api.api_key import ApiKey
from qamera_desktop.core.key_env import API_KEY_ENV
from qamera_desktop.core.redaction import remember_key

log = logging.getLogger(__name__)

SERVICE: Final = "qamera-desktop"
NO_KEYRING_ENV: Final = "QAMERA_NO_KEYRING"
KEY_FILE_NAME: Final = "api-keys.json"
OWNER_ONLY: Final = 0o600


class KeyPlace(StrEnum):
    """Where a key is kept."""

    KEYRING = "keyring"
    FILE = "file"  # the owner-only file, chosen explicitly where no keyring works
    SESSION = "session"  # memory only: gone when the app quits
    ENVIRONMENT = "environment"  # $QAMERA_API_KEY, never stored by the app


FALLBACKS: Final = (KeyPlace.SESSION, KeyPlace.FILE)
"""What the designer may choose where no keyring works."""


@dataclass(frozen=True, slots=True)
class KeyringState:
    """Whether the OS keyring works, and if not, why, in a sentence for the designer."""

    works: bool
    backend: str  # the backend's name ("SecretService Keyring"), for the diagnostics
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class SavedKey:
    """Where `save()` put the key; `problem` says why it is not in the keyring, when it is not."""

    place: KeyPlace
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class LoadedKey:
    key: ApiKey
    place: KeyPlace


def _backend_name(backend: KeyringBackend) -> str:
    name = getattr(backend, "name", None)
    return name if isinstance(name, str) and name else type(backend).__name__


def _usable(backend: KeyringBackend) -> bool:
    """False for the backends keyring falls back to when it found none that works."""
    if isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring):
        return False
    try:
        return float(backend.priority) > 0
    except Exception:  # a backend whose priority itself fails is not one to trust
        return False


class KeyStore:
    """The keys of every profile. `data_dir` holds the owner-only file, when one is chosen."""

    def __init__(self, data_dir: Path, *, environ: Mapping[str, str] = os.environ) -> None:
        self.key_file = data_dir / KEY_FILE_NAME
        self._environ = environ
        self._session: dict[str, ApiKey] = {}
        self._broken: str | None = None  # why the keyring failed during this run, if it did
        self._lock = threading.Lock()  # the file's read-modify-write

    # -- the keyring's state -----------------------------------------------------------------
    def keyring_state(self) -> KeyringState:
        """Whether keys can go to the keyring now (no call is made: see the module docstring)."""
        if self._environ.get(NO_KEYRING_ENV, "").strip().lower() in ("1", "true", "yes"):
            return KeyringState(False, "off", f"The keyring is turned off ({NO_KEYRING_ENV}).")
        backend = keyring.get_keyring()
        name = _backend_name(backend)
        if not _usable(backend):
            return KeyringState(
                False, name, "This computer has no working keyring (no password store found)."
            )
        if self._broken is not None:
            return KeyringState(False, name, self._broken)
        return KeyringState(True, name)

    def _keyring_failed(self, doing: str, exc: Exception) -> str:
        """Remember (for this run) and log that the keyring failed; the sentence for the UI."""
        kind = type(exc).__name__
        log.warning("the keyring failed while %s (%s)", doing, kind)  # never the text: a backend
        self._broken = f"The keyring did not work ({kind})."  # may put anything in it
        return self._broken

    # -- keys -----------------------------------------------------------------------------
    def environment_key(self) -> ApiKey | None:
        """$QAMERA_API_KEY, when set (it overrides every stored key)."""
        value = self._environ.get(API_KEY_ENV, "").strip()
        if not value:
            return None
        try:
            key = ApiKey(value)
        except ValueError:
            log.warning("%s is set but is not a usable key; it is ignored", API_KEY_ENV)
            return None
        remember_key(key)
        return key

    def load(self, profile_id: str) -> LoadedKey | None:
        """The key of `profile_id`: the environment's first, then the keyring, the file, this
        session's memory; None when there is none."""
        from_env = self.environment_key()
        if from_env is not None:
            return LoadedKey(from_env, KeyPlace.ENVIRONMENT)
        found = self._from_keyring(profile_id)
        if found is not None:
            return LoadedKey(found, KeyPlace.KEYRING)
        found = self._read_file().get(profile_id)
        if found is not None:
            return LoadedKey(found, KeyPlace.FILE)
        found = self._session.get(profile_id)
        return LoadedKey(found, KeyPlace.SESSION) if found is not None else None

    def save(
        self, profile_id: str, key: ApiKey, *, fallback: KeyPlace = KeyPlace.SESSION
    ) -> SavedKey:
        """Keep `key` for `profile_id`: in the keyring when it works, else in `fallback` (this
        session only, or the owner-only file when the designer chose it). The key is removed
        from the other places, so it lives in one only."""
        if fallback not in FALLBACKS:
            raise ValueError(f"fallback must be one of {[p.value for p in FALLBACKS]}")
        remember_key(key)
        state = self.keyring_state()
        problem = state.problem
        if state.works:
            try:
                keyring.set_password(SERVICE, profile_id, key.reveal())
            except Exception as exc:
                problem = self._keyring_failed("storing a key", exc)
            else:
                self._session.pop(profile_id, None)
                self._remove_from_file(profile_id)
                return SavedKey(KeyPlace.KEYRING)
        if fallback is KeyPlace.FILE:
            self._write_file({**self._read_file(), profile_id: key})
            self._session.pop(profile_id, None)
        else:
            self._session[profile_id] = key
            self._remove_from_file(profile_id)
        return SavedKey(fallback, problem)

    def delete(self, profile_id: str) -> None:
        """Remove the key of `profile_id` from every place the app keeps keys (not from the
        environment, which the app does not own)."""
        self._session.pop(profile_id, None)
        self._remove_from_file(profile_id)
        if not self.keyring_state().works:
            return
        try:
            keyring.delete_password(SERVICE, profile_id)
        except keyring.errors.PasswordDeleteError:
            pass  # there was none
        except Exception as exc:
            self._keyring_failed("deleting a key", exc)

    def legacy_key(self, api_url: str) -> ApiKey | None:
        """The key the app's first versions kept for `api_url` (their keyring user name was the
        URL), if there is one: to make a profile for it (`adopt_legacy_entry`)."""
        return self._from_keyring(api_url)

    def adopt_legacy_entry(self, profile_id: str, api_url: str) -> bool:
        """Move the old entry of `api_url` to `profile_id`. True when there was one to move."""
        key = self.legacy_key(api_url)
        if key is None:
            return False
        if self.save(profile_id, key).place is KeyPlace.KEYRING:
            try:
                keyring.delete_password(SERVICE, api_url)
            except Exception as exc:
                log.info("the old key entry was not removed (%s)", type(exc).__name__)
        return True

    def _from_keyring(self, user_name: str) -> ApiKey | None:
        """The key of `user_name` (a profile id, or an old entry's URL) in the keyring."""
        if not self.keyring_state().works:
            return None
        try:
            value = keyring.get_password(SERVICE, user_name)
        except Exception as exc:
            self._keyring_failed("reading a key", exc)
            return None
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            key = ApiKey(value)
        except ValueError:
            log.warning("the keyring entry %s is not a usable key", user_name)
            return None
        remember_key(key)
        return key

    # -- the owner-only file ------------------------------------------------------------------
    def _read_file(self) -> dict[str, ApiKey]:
        try:
            _tighten(self.key_file)
            raw = json.loads(self.key_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("the key file %s cannot be read (%s)", self.key_file, type(exc).__name__)
            return {}
        entries = raw.get("keys") if isinstance(raw, dict) else None
        keys: dict[str, ApiKey] = {}
        for profile_id, value in (entries or {}).items():
            try:
                keys[profile_id] = ApiKey(value)
            except (TypeError, ValueError):
                log.warning("the key file's entry of profile %s is not a usable key", profile_id)
                continue
            remember_key(keys[profile_id])
        return keys

    def _write_file(self, keys: Mapping[str, ApiKey]) -> None:
        with self._lock:
            if not keys:
                self.key_file.unlink(missing_ok=True)
                return
            body = {"keys": {profile_id: key.reveal() for profile_id, key in keys.items()}}
            write_owner_only(self.key_file, json.dumps(body, indent=2).encode())

    def _remove_from_file(self, profile_id: str) -> None:
        if not self.key_file.exists():
            return
        keys = self._read_file()
        if keys.pop(profile_id, None) is not None:
            self._write_file(keys)


def write_owner_only(path: Path, data: bytes) -> None:
    """Write `path` complete or not at all, readable and writable by its owner only from the
    first byte: a new `.part` file is created with mode 0600 (O_EXCL: never an old file with
    other permissions), flushed to disk, then renamed over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(part, flags, OWNER_ONLY)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _tighten(path: Path) -> None:
    """A key file that became readable by others (a copy, a chmod) is made owner-only again,
    with a warning: the key may have been seen. POSIX only (Windows: the user's profile ACL)."""
    if sys.platform == "win32":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("the key file %s was readable by others (%o); made owner-only", path, mode)
        path.chmod(OWNER_ONLY)
