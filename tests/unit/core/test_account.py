"""Account ids: stable for the same account, different for others, never holding the key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from qamera_desktop.core.account import account_id, sandbox_account_id

KEY = "mk_live_demo.sandbox"


def test_account_id_is_unchanged_for_stored_shoots() -> None:
    """Shoots already stored under an id must keep being found: the formula may not change."""
    digest = hashlib.sha256(b"https://app.qamera.ai|mk_live_abc123.secret456").hexdigest()
    assert account_id("https://app.qamera.ai/", "mk_live_abc123.secret456") == f"acct_{digest[:20]}"


def test_a_sandbox_on_another_port_is_the_same_account_when_its_data_folder_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data" / "sandbox"
    data.mkdir(parents=True)
    # the demo sandbox listens on a free port chosen at each start: the URL-based id changes
    assert account_id("http://127.0.0.1:41001", KEY) != account_id("http://127.0.0.1:41002", KEY)
    stable = sandbox_account_id(data, KEY)
    assert stable.startswith("acct_sandbox_")
    monkeypatch.chdir(tmp_path)
    assert sandbox_account_id(Path("data/sandbox"), KEY) == stable  # spelled another way
    assert sandbox_account_id(str(data / ".." / "sandbox"), KEY) == stable
    link = tmp_path / "link"
    link.symlink_to(data)
    assert sandbox_account_id(link, KEY) == stable

    other = tmp_path / "other"
    other.mkdir()
    assert sandbox_account_id(other, KEY) != stable  # another sandbox, other shoots
    assert sandbox_account_id(data, "mk_live_abc123.secret456") != stable  # another account


@pytest.mark.parametrize("make", [account_id, sandbox_account_id])
def test_an_id_never_holds_the_key(make: object, tmp_path: Path) -> None:
    key = "mk_live_abc123.secret456"
    first = make(str(tmp_path), key)  # type: ignore[operator]
    assert isinstance(first, str)
    for part in (key, "secret456", "abc123", "mk_live"):
        assert part not in first
    assert str(tmp_path) not in first
