"""The app's logging: a rotating file in the platform's log folder, the recent errors for the
diagnostics, and one redaction filter on every handler.

`configure_logging(folder)` replaces `logging.basicConfig`: it puts on the root logger a rotating
file handler (always at INFO or finer, so failed requests and their correlation ids are kept), a
stderr handler (at $QAMERA_LOG_LEVEL, WARNING by default, as before) and a `RecentErrors` ring.
The same `RedactionFilter` (`core/redaction.py`) sits on each, so no record reaches the file, the
terminal or the diagnostics with a key in its message, arguments or exception text.

Each process writes its own file in the one folder: the app `qamera-desktop.log`, its thumbnail
worker `thumbnail-worker.log` (`WORKER_LOG_FILE_NAME`; the worker learns the folder from
`active_log_folder()`, passed in its start-up config). Rotation by two processes of one file would
lose lines.

`diagnostics_text(...)` is what Help > Copy diagnostics puts on the clipboard: versions, the
profile's server, the last errors with their correlation ids, redacted once more as a whole.
Qt's versions are passed in by the caller (nothing below `ui/` imports Qt).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import re
import sys
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from qamera_desktop import __version__
from qamera_desktop.api.errors import ApiError
from qamera_desktop.core.app_paths import APP_DIR_NAME
from qamera_desktop.core.redaction import RedactionFilter, redact

LOG_FILE_NAME: Final = "qamera-desktop.log"
WORKER_LOG_FILE_NAME: Final = "thumbnail-worker.log"
LOG_LEVEL_ENV: Final = "QAMERA_LOG_LEVEL"
DATA_DIR_ENV: Final = "QAMERA_DATA_DIR"  # as core/app_paths.py reads it
MAX_BYTES: Final = 2 * 1024 * 1024
BACKUP_COUNT: Final = 4  # with the live file: at most 10 MB of logs
RECENT_ERRORS: Final = 20
# one INFO line per request: the API client logs its own (failures at WARNING, with their
# correlation ids), and the thumbnail worker makes hundreds per screen of the grid
CHATTY_LOGGERS: Final = ("httpx",)
FORMAT: Final = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"

REDACTION: Final = RedactionFilter()
"""The one redaction filter: on every handler `configure_logging` installs."""


def platform_log_folder() -> Path:
    """Where this OS keeps an app's logs: ~/Library/Logs on macOS, %LOCALAPPDATA%\\…\\Logs on
    Windows, $XDG_STATE_HOME (~/.local/state) on Linux, as the XDG spec puts logs."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
        return base / APP_DIR_NAME / "Logs"
    if sys.platform == "darwin":
        return home / "Library" / "Logs" / APP_DIR_NAME
    state = Path(os.environ.get("XDG_STATE_HOME") or home / ".local" / "state")
    return state / APP_DIR_NAME / "logs"


def log_folder(data_dir: Path | None = None) -> Path:
    """`<data dir>/logs` when a data folder was chosen (`--data-dir`, given here, or
    $QAMERA_DATA_DIR), so that one folder holds everything; else the platform's log folder."""
    chosen = data_dir or (Path(os.environ[DATA_DIR_ENV]) if os.environ.get(DATA_DIR_ENV) else None)
    if chosen is not None:
        return chosen.expanduser().resolve() / "logs"
    return platform_log_folder()


# -- the recent errors ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RecentError:
    """An error logged lately, as Help → Copy diagnostics reports it."""

    when: datetime
    what: str  # the logger, or what the caller was doing
    message: str  # redacted
    correlation_id: str | None = None


# "(reference abc-123)" is how an ApiError prints its correlation id; the client's request lines
# say "correlation id abc-123"
_CORRELATION = re.compile(r"(?:\(reference |correlation id )(?P<id>[A-Za-z0-9._:-]{2,200})")


class RecentErrors(logging.Handler):
    """The last failures, for the diagnostics: every WARNING or worse record that reaches it, and
    the failed requests the caller adds (`add_api_error`). Thread-safe."""

    def __init__(self, capacity: int = RECENT_ERRORS) -> None:
        super().__init__(logging.WARNING)
        self._entries: deque[RecentError] = deque(maxlen=capacity)
        self._entries_lock = threading.Lock()
        self.addFilter(REDACTION)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        correlation_id = getattr(record, "correlation_id", None)
        if not isinstance(correlation_id, str) or not correlation_id:
            found = _CORRELATION.search(message)
            correlation_id = found.group("id") if found else None
        when = datetime.fromtimestamp(record.created, UTC)
        self._add(RecentError(when, record.name, message, correlation_id))

    def add_api_error(self, what: str, error: ApiError) -> None:
        """A failed request, with its correlation id: "Loading images", the error."""
        entry = RecentError(datetime.now(UTC), what, redact(str(error)), error.correlation_id)
        self._add(entry)

    def _add(self, entry: RecentError) -> None:
        with self._entries_lock:
            self._entries.append(entry)

    def entries(self) -> list[RecentError]:
        """Oldest first."""
        with self._entries_lock:
            return list(self._entries)


# -- set-up -------------------------------------------------------------------------------------
@dataclass
class LoggingSetup:
    """What `configure_logging` installed; `close()` takes it off again (tests, the app's end)."""

    folder: Path
    file: Path
    recent: RecentErrors
    handlers: list[logging.Handler] = field(default_factory=list)

    def close(self) -> None:
        global _active
        root = logging.getLogger()
        for handler in self.handlers:
            root.removeHandler(handler)
            handler.close()
        self.handlers.clear()
        if _active is self:
            _active = None


_active: LoggingSetup | None = None  # the last one installed and not closed


def active_log_folder() -> Path | None:
    """The folder this process logs into (`configure_logging`'s, until it is closed), or None:
    what the thumbnail worker process is told, so that its own file lands beside the app's."""
    return _active.folder if _active is not None else None


def _level(value: str | int | None) -> int:
    if isinstance(value, int):
        return value
    name = (value or os.environ.get(LOG_LEVEL_ENV) or "WARNING").strip().upper()
    level = logging.getLevelNamesMapping().get(name)
    return level if level is not None else logging.WARNING


def configure_logging(
    folder: Path,
    *,
    file_name: str = LOG_FILE_NAME,
    console_level: str | int | None = None,
    max_bytes: int = MAX_BYTES,
    backup_count: int = BACKUP_COUNT,
    console: bool = True,
) -> LoggingSetup:
    """Log to `folder/file_name` (rotating), to stderr at `console_level` ($QAMERA_LOG_LEVEL,
    WARNING by default) and into a `RecentErrors` ring; every handler redacts. No stderr handler
    where there is no stderr (`sys.stderr` is None in a windowed app on Windows)."""
    global _active
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name
    stderr_level = _level(console_level)
    file_level = min(stderr_level, logging.INFO)
    formatter = logging.Formatter(FORMAT)

    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
    )
    file_handler.setLevel(file_level)
    if stderr_level >= logging.WARNING:  # unless $QAMERA_LOG_LEVEL asked for them
        file_handler.addFilter(_not_chatty)
    recent = RecentErrors()
    handlers: list[logging.Handler] = [file_handler, recent]
    stream = _stderr_handler(stderr_level) if console else None
    if stream is not None:
        handlers.append(stream)
    root = logging.getLogger()
    for handler in handlers:
        handler.addFilter(REDACTION)  # a set: RecentErrors has it already
        if handler is not recent:
            handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, file_level))
    _active = LoggingSetup(folder, path, recent, handlers)
    return _active


def _not_chatty(record: logging.LogRecord) -> bool:
    """False for the INFO and finer lines of `CHATTY_LOGGERS` (a file handler's filter)."""
    return record.levelno >= logging.WARNING or record.name.partition(".")[0] not in CHATTY_LOGGERS


def configure_console_logging(console_level: str | int | None = None) -> logging.Handler | None:
    """Log to stderr alone, at `console_level` ($QAMERA_LOG_LEVEL, WARNING by default), redacted:
    for a process with no log folder (the thumbnail worker of an app that logs to no file).
    Returns the handler installed (None where there is no stderr)."""
    stream = _stderr_handler(_level(console_level))
    if stream is None:
        return None
    stream.setFormatter(logging.Formatter(FORMAT))
    stream.addFilter(REDACTION)
    root = logging.getLogger()
    root.addHandler(stream)
    root.setLevel(min(root.level or logging.WARNING, stream.level))
    return stream


def _stderr_handler(level: int) -> logging.Handler | None:
    """A handler on stderr at `level`; None where there is no stderr (a windowed app on
    Windows has `sys.stderr` None)."""
    if sys.stderr is None:
        return None
    stream = logging.StreamHandler(sys.stderr)
    stream.setLevel(level)
    return stream


# -- diagnostics ----------------------------------------------------------------------------------
def diagnostics_text(
    *,
    toolkit: Mapping[str, str],
    profile_name: str | None,
    base_url: str | None,
    errors: Iterable[RecentError] = (),
    log_file: Path | None = None,
) -> str:
    """A plain-text report to paste into a support request: the app, `toolkit` (e.g.
    {"Qt": qVersion(), "PySide6": PySide6.__version__}), Python and OS versions, the profile and
    its server, the log file, and the last errors with their correlation ids, newest first.
    Never a key: the whole text passes `redact()` on the way out."""
    lines = [
        f"Qamera Desktop {__version__}",
        *(f"{name} {version}" for name, version in toolkit.items()),
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        f"OS {platform.platform()}",
        f"Profile: {profile_name or '(none)'}",
        f"Server: {base_url or '(none)'}",
    ]
    if log_file is not None:
        lines.append(f"Log file: {log_file}")
    recent = sorted(errors, key=lambda e: e.when, reverse=True)
    lines.append(f"Last errors ({len(recent)}):" if recent else "Last errors: none")
    for entry in recent:
        reference = f" [correlation id {entry.correlation_id}]" if entry.correlation_id else ""
        stamp = entry.when.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"  {stamp} {entry.what}: {entry.message}{reference}")
    return redact("\n".join(lines) + "\n")
