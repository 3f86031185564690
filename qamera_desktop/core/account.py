"""An opaque, stable name for "this key on this server", safe to store (it is a hash, not a key)."""

from __future__ import annotations

import hashlib


def account_id(base_url: str, api_key: str) -> str:
    digest = hashlib.sha256(f"{base_url.rstrip('/')}|{api_key}".encode()).hexdigest()
    return f"acct_{digest[:20]}"
