"""The one place that knows what a secret looks like in text, and scrubs it.

Three nets, each catching what the others may miss:

- the keys this process knows (`remember_key`: every key the key store loads or saves), replaced
  wherever they appear, whole or only their secret part, whatever their form;
- anything shaped like a Qamera key (`mk_live_<id>.<secret>`), even a key never remembered (a
  typo'd one pasted into a field, a key in a server's error text);
- the value of an `X-Api-Key` or `Authorization` header, as a request dump or a dict repr shows it.

`redact()` is for any text that leaves the process's memory: log records (through
`RedactionFilter`, see `core/log_setup.py`), the diagnostics, the clipboard. A key's id part
(before the dot) is not secret and stays partly visible, as `ApiKey.masked` shows it.
"""

from __future__ import annotations

import logging
import re
import threading

from qamera_desktop.api.api_key import ApiKey

REDACTED = "[redacted]"

# `mk_live_<id>.<secret>`: the secret stops at whitespace, quotes and brackets (the ends of a
# value in a repr, a JSON body or a sentence), so the text around it survives.
_KEY_SHAPE = re.compile(r"mk_live_[A-Za-z0-9_-]*\.(?:(?![\'\"`,;()\[\]{}<>])[!-~])+")
_HEADER_VALUE = re.compile(
    r"(?i)(?P<name>x-api-key|authorization)(?P<sep>[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<scheme>bearer\s+|basic\s+)?(?!\[redacted\])(?P<value>[^\s\"',;}\]]+)"
)

_lock = threading.Lock()
_known: dict[str, ApiKey] = {}  # by fingerprint


def remember_key(key: ApiKey) -> None:
    """From now on, `redact()` removes `key` (and its secret part) wherever it appears."""
    with _lock:
        _known[key.fingerprint] = key


def redact(text: str) -> str:
    """`text` without any known key, key-shaped secret or API key header value."""
    with _lock:
        keys = list(_known.values())
    # longest first: a key that contains another is replaced whole, not half
    for key in sorted(keys, key=lambda k: len(k.reveal()), reverse=True):
        text = key.redact(text)
    text = _KEY_SHAPE.sub(lambda match: ApiKey(match.group(0)).masked, text)
    return _HEADER_VALUE.sub(
        lambda m: f"{m.group('name')}{m.group('sep')}{m.group('scheme') or ''}{REDACTED}", text
    )


_DONE = "_qamera_redacted"


def redact_record(record: logging.LogRecord) -> None:
    """Scrub `record` in place: its message (with its arguments merged in), its exception text and
    its stack. The exception object itself is dropped (its text is kept, redacted): a later
    handler must not render it again from the original, which may hold a key."""
    if getattr(record, _DONE, False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what there is to see
        message = f"{record.msg!r} % {record.args!r}"
    record.msg = redact(message)
    record.args = ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    setattr(record, _DONE, True)


class RedactionFilter(logging.Filter):
    """A logging filter that lets every record through, redacted (`redact_record`). Put on a
    handler, it sees every record that handler writes, whichever logger it came from."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True
