"""An in-memory keyring backend for the tests of the key store and the profiles.

`use_keyring(backend)` installs a backend with `keyring.set_keyring` (the keyring package's own
switch) and gives back the one that was there, so that a test never touches the developer's
keyring and leaves the process as it found it.
"""

from __future__ import annotations

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A working keyring that keeps its entries in a dict: (service, user name) -> password."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such entry")


def use_keyring(backend: KeyringBackend) -> KeyringBackend:
    """Install `backend`; return the one it replaces."""
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    return previous
