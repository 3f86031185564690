"""The key store: the keyring (through an in-memory backend), the no-keyring path (keyring's own
fail backend), the owner-only file, the environment's override, and no key in any log line."""

from __future__ import annotations

import logging
import os
import stat
import sys
from pathlib import Path

import pytest
from keyring.errors import KeyringLocked

from qamera_desktop.api import ApiKey
from qamera_desktop.core import key_store as key_store_module
from qamera_desktop.core.key_store import (
    KEY_FILE_NAME,
    SERVICE,
    KeyPlace,
    KeyStore,
    write_owner_only,
)
from qamera_desktop.core.redaction import redact

SECRET = "s3cr3t-Tr4ce-77"
KEY = ApiKey(f"mk_live_kstest.{SECRET}")
OTHER = ApiKey("mk_live_other.Zz9-second-secret")
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- a working keyring -----------------------------------------------------------------------
def test_the_key_goes_to_the_keyring_under_the_profile_id(memory_keyring, tmp_path):
    store = KeyStore(tmp_path, environ={})
    assert store.keyring_state().works
    saved = store.save("p_0123456789abcdef", KEY)
    assert saved.place is KeyPlace.KEYRING
    assert saved.problem is None
    assert memory_keyring.entries == {(SERVICE, "p_0123456789abcdef"): KEY.reveal()}
    assert not (tmp_path / KEY_FILE_NAME).exists()
    # another run of the app finds it there
    loaded = KeyStore(tmp_path, environ={}).load("p_0123456789abcdef")
    assert loaded is not None
    assert (loaded.key, loaded.place) == (KEY, KeyPlace.KEYRING)
    assert KeyStore(tmp_path, environ={}).load("p_another") is None


def test_delete_removes_the_keyring_entry(memory_keyring, tmp_path):
    store = KeyStore(tmp_path, environ={})
    store.save("p_a", KEY)
    store.save("p_b", OTHER)
    store.delete("p_a")
    assert memory_keyring.entries == {(SERVICE, "p_b"): OTHER.reveal()}
    assert store.load("p_a") is None
    store.delete("p_a")  # nothing left to delete: no error


def test_the_environment_overrides_every_stored_key(memory_keyring, tmp_path):
    KeyStore(tmp_path, environ={}).save("p_a", KEY)
    store = KeyStore(tmp_path, environ={"QAMERA_API_KEY": f"  {OTHER.reveal()}\n"})
    loaded = store.load("p_a")
    assert loaded is not None
    assert (loaded.key, loaded.place) == (OTHER, KeyPlace.ENVIRONMENT)
    assert store.load("p_without_key") == loaded
    assert KeyStore(tmp_path, environ={"QAMERA_API_KEY": "   "}).load("p_a").key == KEY


def test_a_keyring_that_fails_on_use_is_reported_and_the_key_kept_for_the_session(
    memory_keyring, tmp_path, caplog, monkeypatch
):
    def refuse(service: str, username: str, password: str) -> None:
        raise KeyringLocked(f"cannot store {password} for {username}")  # a leaky backend

    monkeypatch.setattr(memory_keyring, "set_password", refuse)
    store = KeyStore(tmp_path, environ={})
    with caplog.at_level(logging.DEBUG):
        saved = store.save("p_a", KEY)
    assert saved.place is KeyPlace.SESSION
    assert saved.problem == "The keyring did not work (KeyringLocked)."
    state = store.keyring_state()
    assert (state.works, state.problem) == (False, saved.problem)
    loaded = store.load("p_a")
    assert loaded is not None
    assert loaded.place is KeyPlace.SESSION
    assert "KeyringLocked" in caplog.text
    assert SECRET not in caplog.text


def test_adopting_the_old_entry_keyed_by_url(memory_keyring, tmp_path):
    memory_keyring.entries[(SERVICE, "https://app.qamera.ai")] = KEY.reveal()
    store = KeyStore(tmp_path, environ={})
    assert store.legacy_key("https://qamera.example.com") is None
    assert store.legacy_key("https://app.qamera.ai") == KEY
    assert store.adopt_legacy_entry("p_a", "https://app.qamera.ai")
    assert memory_keyring.entries == {(SERVICE, "p_a"): KEY.reveal()}
    assert not store.adopt_legacy_entry("p_b", "https://app.qamera.ai")


# -- no keyring --------------------------------------------------------------------------------
def test_without_a_keyring_the_state_says_so_and_the_key_lives_for_this_session(
    no_keyring, tmp_path
):
    store = KeyStore(tmp_path, environ={})
    state = store.keyring_state()
    assert not state.works
    assert state.problem == "This computer has no working keyring (no password store found)."
    saved = store.save("p_a", KEY)
    assert (saved.place, saved.problem) == (KeyPlace.SESSION, state.problem)
    loaded = store.load("p_a")
    assert loaded is not None
    assert (loaded.key, loaded.place) == (KEY, KeyPlace.SESSION)
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere
    assert KeyStore(tmp_path, environ={}).load("p_a") is None  # the next run has no key
    store.delete("p_a")
    assert store.load("p_a") is None


def test_the_keyring_can_be_turned_off(memory_keyring, tmp_path):
    store = KeyStore(tmp_path, environ={"QAMERA_NO_KEYRING": "1"})
    assert not store.keyring_state().works
    assert store.save("p_a", KEY).place is KeyPlace.SESSION
    assert memory_keyring.entries == {}


@posix_only
def test_the_file_store_when_chosen_is_owner_only_and_survives_a_restart(no_keyring, tmp_path):
    store = KeyStore(tmp_path, environ={})
    saved = store.save("p_a", KEY, fallback=KeyPlace.FILE)
    assert saved.place is KeyPlace.FILE
    key_file = tmp_path / KEY_FILE_NAME
    assert mode(key_file) == 0o600
    loaded = KeyStore(tmp_path, environ={}).load("p_a")
    assert loaded is not None
    assert (loaded.key, loaded.place) == (KEY, KeyPlace.FILE)
    store.save("p_b", OTHER, fallback=KeyPlace.FILE)
    store.delete("p_a")
    assert KeyStore(tmp_path, environ={}).load("p_a") is None
    assert KeyStore(tmp_path, environ={}).load("p_b").key == OTHER
    store.save("p_b", OTHER)  # for this session only now: out of the file, which goes away
    assert not key_file.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


@posix_only
def test_the_key_file_is_never_readable_by_others_even_before_its_rename(
    no_keyring, tmp_path, monkeypatch
):
    """Under a umask that lets everyone read, the file still appears owner-only: it is created
    0600 (not chmod-ed afterwards), so it is never readable by others, not even as `.part`."""
    seen: list[tuple[str, int]] = []
    real_replace = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        seen.append((Path(src).name, mode(Path(src))))
        real_replace(src, dst)

    monkeypatch.setattr(key_store_module.os, "replace", replace)
    old_umask = os.umask(0)
    try:
        (tmp_path / (KEY_FILE_NAME + ".part")).write_text("left over, world-readable")
        os.chmod(tmp_path / (KEY_FILE_NAME + ".part"), 0o666)  # noqa: S103 - the point
        KeyStore(tmp_path, environ={}).save("p_a", KEY, fallback=KeyPlace.FILE)
    finally:
        os.umask(old_umask)
    assert seen == [(KEY_FILE_NAME + ".part", 0o600)]
    assert mode(tmp_path / KEY_FILE_NAME) == 0o600


@posix_only
def test_a_key_file_made_readable_by_others_is_tightened_with_a_warning(
    no_keyring, tmp_path, caplog
):
    KeyStore(tmp_path, environ={}).save("p_a", KEY, fallback=KeyPlace.FILE)
    key_file = tmp_path / KEY_FILE_NAME
    key_file.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        loaded = KeyStore(tmp_path, environ={}).load("p_a")
    assert loaded is not None
    assert loaded.key == KEY
    assert mode(key_file) == 0o600
    assert "was readable by others" in caplog.text
    assert SECRET not in caplog.text


def test_a_damaged_key_file_is_no_key_and_no_crash(no_keyring, tmp_path, caplog):
    key_file = tmp_path / KEY_FILE_NAME
    write_owner_only(key_file, b"{not json " + SECRET.encode())
    with caplog.at_level(logging.WARNING):
        assert KeyStore(tmp_path, environ={}).load("p_a") is None
    write_owner_only(key_file, b'{"keys": {"p_a": 42, "p_b": "mk_live_b.fine"}}')
    store = KeyStore(tmp_path, environ={})
    assert store.load("p_a") is None
    assert store.load("p_b").key == ApiKey("mk_live_b.fine")
    assert SECRET not in caplog.text


def test_only_session_or_file_can_be_chosen_as_fallback(no_keyring, tmp_path):
    with pytest.raises(ValueError, match="fallback"):
        KeyStore(tmp_path, environ={}).save("p_a", KEY, fallback=KeyPlace.KEYRING)


def test_every_key_loaded_or_saved_is_redacted_from_logs(memory_keyring, tmp_path):
    odd = ApiKey("an-odd-key-form-1234567")  # not mk_live_-shaped: only known keys catch it
    store = KeyStore(tmp_path, environ={"QAMERA_API_KEY": odd.reveal()})
    assert store.load("p_a") is not None
    assert odd.reveal() not in redact(f"header {odd.reveal()} seen")
