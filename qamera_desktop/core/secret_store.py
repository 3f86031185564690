"""The API key lives in the OS keyring (the `keyring` package), or in $QAMERA_API_KEY, and otherwise
only in memory. Nothing here logs, prints or raises with the key in it."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

API_KEY_ENV = "QAMERA_API_KEY"
SERVICE = "qamera-desktop"


def _keyring_enabled() -> bool:
    return os.environ.get("QAMERA_NO_KEYRING", "") not in ("1", "true", "yes")


def load_api_key(api_url: str) -> str | None:
    """The key for this API URL: the environment first, then the keyring, else None."""
    env = os.environ.get(API_KEY_ENV, "").strip()
    if env:
        return env
    if not _keyring_enabled():
        return None
    try:
        import keyring

        value = keyring.get_password(SERVICE, api_url)
    except Exception as exc:  # no backend, locked, DBus missing...
        log.info("keyring unavailable (%s); no stored API key", type(exc).__name__)
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None


def save_api_key(api_url: str, api_key: str) -> bool:
    """Store the key; False when no keyring works (the key then lives in memory only)."""
    if not _keyring_enabled():
        return False
    try:
        import keyring

        keyring.set_password(SERVICE, api_url, api_key)
    except Exception as exc:
        log.warning("could not store the API key in the keyring (%s)", type(exc).__name__)
        return False
    return True


def delete_api_key(api_url: str) -> None:
    if not _keyring_enabled():
        return
    try:
        import keyring

        keyring.delete_password(SERVICE, api_url)
    except Exception as exc:
        log.info("no API key removed from the keyring (%s)", type(exc).__name__)
