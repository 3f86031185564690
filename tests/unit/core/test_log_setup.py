"""Logging: every record redacted on its way to the file, the terminal and the recent errors (a
key in the message, in the arguments, in an exception, in a header), the file rotating, the
folder chosen per platform or under the data folder, the folder told to the thumbnail worker,
httpx's line per request kept out of the file, no stderr handler where there is no stderr, and the
diagnostics text."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from qamera_desktop.api import ApiKey, AuthError, NetworkError
from qamera_desktop.core.log_setup import (
    LOG_FILE_NAME,
    LoggingSetup,
    RecentError,
    RecentErrors,
    active_log_folder,
    configure_console_logging,
    configure_logging,
    diagnostics_text,
    log_folder,
    platform_log_folder,
)
from qamera_desktop.core.redaction import redact, remember_key

SECRET = "Lg9-never-in-a-log-Zq"
KEY = f"mk_live_logtest.{SECRET}"
log = logging.getLogger("qamera_desktop.test_log_setup")


@contextlib.contextmanager
def logging_to(folder: Path, **options: Any) -> Iterator[LoggingSetup]:
    """`configure_logging` for the duration of a test (made inside the test, so that its stderr
    handler writes to the test's captured stderr)."""
    root = logging.getLogger()
    level = root.level
    setup = configure_logging(folder, **options)
    try:
        yield setup
    finally:
        setup.close()
        root.setLevel(level)


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[LoggingSetup]:
    with logging_to(tmp_path / "logs", console=False) as setup:
        yield setup


def written(setup: LoggingSetup) -> str:
    for handler in setup.handlers:
        handler.flush()
    return "".join(p.read_text() for p in sorted(setup.folder.iterdir()))


def test_a_key_in_the_message_or_its_arguments_is_redacted(tmp_path, capsys):
    with logging_to(tmp_path / "logs", console_level="WARNING") as logs:
        log.info("connecting with %s", KEY)
        log.info("dict arguments: %(key)s", {"key": KEY})
        log.warning(f"in the message itself: {KEY}")
        log.error("a header dump: %r", {"X-Api-Key": "opaque-token-value", "Accept": "json"})
        log.error("Authorization: Bearer opaque-bearer-value")
        text = written(logs)
    assert SECRET not in text
    assert "opaque-token-value" not in text
    assert "opaque-bearer-value" not in text
    assert "connecting with mk_live_logt…" in text
    assert "dict arguments: mk_live_logt…" in text
    assert "{'X-Api-Key': '[redacted]', 'Accept': 'json'}" in text
    assert "Authorization: Bearer [redacted]" in text
    stderr = capsys.readouterr().err
    assert "in the message itself: mk_live_logt…" in stderr  # the terminal gets warnings
    assert "connecting with" not in stderr  # and not the INFO lines, which go to the file
    assert SECRET not in stderr


def test_a_key_in_an_exception_is_redacted_from_the_traceback(logs):
    def fail() -> None:
        raise RuntimeError(f"request failed with headers {{'x-api-key': '{KEY}'}}")

    try:
        fail()
    except RuntimeError:
        log.exception("the request failed")
    log.error("and as exc_info", exc_info=ValueError(f"bad key {KEY}"))
    log.warning("with the stack", stack_info=True, extra={"unused": KEY})
    text = written(logs)
    assert "Traceback (most recent call last):" in text
    assert "RuntimeError: request failed with headers {'x-api-key': '[redacted]'}" in text
    assert "ValueError: bad key mk_live_logt…" in text
    assert "Stack (most recent call last):" in text
    assert SECRET not in text


def test_a_remembered_key_of_any_form_is_redacted(logs):
    odd = ApiKey("odd-form-key-Wk5RmT2pLx")  # no mk_live_ shape to recognise
    remember_key(odd)
    log.info("the key %s works", odd.reveal())
    text = written(logs)
    assert "odd-form-key-Wk5RmT2pLx" not in text
    assert "the key odd-form-ke… works" in text


def test_the_file_rotates_and_every_file_is_redacted(tmp_path):
    with logging_to(tmp_path / "logs", max_bytes=2_000, backup_count=2, console=False) as setup:
        for n in range(200):
            log.info("line %d of many, key %s", n, KEY)
        text = written(setup)
    names = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert names == [LOG_FILE_NAME, f"{LOG_FILE_NAME}.1", f"{LOG_FILE_NAME}.2"]
    assert all((tmp_path / "logs" / name).stat().st_size <= 2_000 for name in names)
    assert "line 199 of many" in text
    assert "line 0 of many" not in text  # rotated away: at most three files are kept
    assert SECRET not in text


def test_the_active_log_folder_is_the_open_setups(tmp_path: Path) -> None:
    assert active_log_folder() is None
    with logging_to(tmp_path / "logs", console=False):
        assert active_log_folder() == tmp_path / "logs"
    assert active_log_folder() is None


@pytest.mark.parametrize(("asked", "kept"), [(None, False), ("WARNING", False), ("INFO", True)])
def test_httpx_lines_per_request_stay_out_of_the_file_unless_asked_for(
    tmp_path: Path, asked: str | None, kept: bool
) -> None:
    httpx_log = logging.getLogger("httpx")
    with logging_to(tmp_path / "logs", console=False, console_level=asked) as setup:
        httpx_log.info('HTTP Request: GET http://127.0.0.1/a "HTTP/1.1 200 OK"')
        httpx_log.warning("a warning of httpx")
        log.info("our own line")
        text = written(setup)
    assert ("HTTP Request: GET" in text) is kept
    assert "a warning of httpx" in text
    assert "our own line" in text


def test_no_stderr_handler_where_there_is_no_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A windowed app on Windows has `sys.stderr` None: the file still gets everything."""
    monkeypatch.setattr(sys, "stderr", None)
    with logging_to(tmp_path / "logs") as setup:
        assert not [h for h in setup.handlers if type(h) is logging.StreamHandler]
        log.warning("a warning with key %s", KEY)
        text = written(setup)
    assert "a warning with key mk_live_logt…" in text
    assert configure_console_logging() is None


def test_console_only_logging_redacts(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    level = root.level
    handler = configure_console_logging("INFO")
    assert handler is not None
    try:
        log.info("a worker's line with key %s", KEY)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "a worker's line with key mk_live_logt…" in err
    assert SECRET not in err


def test_recent_errors_keep_the_failures_with_their_correlation_ids(logs):
    log.info("not an error")
    log.warning("Loading images failed: The service broke (reference corr-111)")
    log.error("a failed request", extra={"correlation_id": "corr-222"})
    log.error("no id here, but a key %s", KEY)
    logs.recent.add_api_error(
        "Connection test", AuthError("Invalid API key", status=401, correlation_id="corr-333")
    )
    entries = logs.recent.entries()
    assert [e.correlation_id for e in entries] == ["corr-111", "corr-222", None, "corr-333"]
    assert entries[0].message == "Loading images failed: The service broke (reference corr-111)"
    assert entries[0].what == "qamera_desktop.test_log_setup"
    assert entries[3].what == "Connection test"
    assert all(SECRET not in e.message for e in entries)


def test_the_ring_keeps_only_the_last_ones():
    ring = RecentErrors(capacity=3)
    for n in range(5):
        ring.add_api_error(f"request {n}", NetworkError(f"failed {n}"))
    assert [e.what for e in ring.entries()] == ["request 2", "request 3", "request 4"]


def test_the_log_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("QAMERA_DATA_DIR", raising=False)
    assert log_folder(tmp_path / "data") == (tmp_path / "data" / "logs").resolve()
    assert log_folder(None) == platform_log_folder()
    monkeypatch.setenv("QAMERA_DATA_DIR", str(tmp_path / "env"))
    assert log_folder(None) == (tmp_path / "env" / "logs").resolve()
    assert log_folder(tmp_path / "data") == (tmp_path / "data" / "logs").resolve()


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG layout")
def test_the_linux_log_folder_follows_xdg_state_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert platform_log_folder() == tmp_path / "state" / "qamera-desktop" / "logs"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert platform_log_folder() == Path.home() / ".local" / "state" / "qamera-desktop" / "logs"


def test_the_diagnostics(tmp_path):
    now = datetime.now(UTC)
    errors = [
        RecentError(now - timedelta(minutes=5), "qamera_desktop.api", "older failure", "c-old"),
        RecentError(now, "Loading images", f"newest failure with {KEY}", "c-new"),
        RecentError(now - timedelta(minutes=1), "qamera_desktop.ui", "no reference", None),
    ]
    text = diagnostics_text(
        toolkit={"Qt": "6.12.0", "PySide6": "6.12.0"},
        profile_name="Studio",
        base_url="https://app.qamera.ai",
        errors=errors,
        log_file=tmp_path / "qamera-desktop.log",
    )
    lines = text.splitlines()
    assert lines[0].startswith("Qamera Desktop ")
    assert lines[1:3] == ["Qt 6.12.0", "PySide6 6.12.0"]
    assert lines[3].startswith(f"Python {sys.version.split()[0]} ")
    assert lines[4].startswith("OS ")
    assert "Profile: Studio" in lines
    assert "Server: https://app.qamera.ai" in lines
    assert f"Log file: {tmp_path / 'qamera-desktop.log'}" in lines
    assert lines[lines.index("Last errors (3):") + 1 :] == [
        f"  {errors[1].when.astimezone():%Y-%m-%d %H:%M:%S} Loading images: newest failure "
        "with mk_live_logt… [correlation id c-new]",
        f"  {errors[2].when.astimezone():%Y-%m-%d %H:%M:%S} qamera_desktop.ui: no reference",
        f"  {errors[0].when.astimezone():%Y-%m-%d %H:%M:%S} qamera_desktop.api: older failure "
        "[correlation id c-old]",
    ]
    assert SECRET not in text


def test_diagnostics_without_a_profile_or_errors():
    text = diagnostics_text(toolkit={}, profile_name=None, base_url=None)
    assert "Profile: (none)" in text
    assert "Server: (none)" in text
    assert text.endswith("Last errors: none\n")


def test_redact_is_idempotent_and_leaves_other_text_alone():
    text = f"GET /api/external/products X-Api-Key: {KEY} -> 200 in 12 ms"
    once = redact(text)
    assert once == "GET /api/external/products X-Api-Key: [redacted] -> 200 in 12 ms"
    assert redact(once) == once
    assert redact("nothing secret (reference abc-1)") == "nothing secret (reference abc-1)"
