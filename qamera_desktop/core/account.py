"""An opaque, stable name for "this key on this server", safe to store (it is a hash, not a key).

The local database keys shoots and the New shoot dialog's memory by it, so it must stay the same
from one run to the next for the same account:

- `account_id(base_url, key)` for a Qamera server at a fixed address;
- `sandbox_account_id(data_dir, key)` for the app's own demo sandbox, which listens on a free
  loopback port chosen at each start: the port is left out and the sandbox is known by the folder
  that holds its data (the same folder: the same demo account, the same shoots).
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def account_id(base_url: str, api_key: str) -> str:
    return f"acct_{_digest(f'{base_url.rstrip("/")}|{api_key}')}"


def sandbox_account_id(data_dir: str | Path, api_key: str) -> str:
    """The account of `api_key` on the sandbox whose data folder is `data_dir`, whatever its URL.

    The folder is taken as an absolute path with links resolved, so spelling it differently from
    one run to the next ("~/x", "./x") does not change the id. A hash: neither the key nor the
    folder can be read back from it.
    """
    folder = Path(data_dir).expanduser().resolve()
    return f"acct_sandbox_{_digest(f'sandbox|{folder}|{api_key}')}"
