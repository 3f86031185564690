"""The API key, held so that it cannot leak by accident.

`ApiKey` shows a masked form in `repr()` and `str()` (`mk_live_abc1…`), refuses to be pickled, and
gives the real value only through `reveal()`, which the client calls when it builds a request.
`fingerprint` identifies a key inside this process (HMAC with a per-process random salt) without
being the key or a stable hash of it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import NoReturn, final

_PROCESS_SALT = secrets.token_bytes(32)
_MASK = "…"
_SHOWN_PREFIX = 12

KEY_PREFIX = "mk_live_"
KEY_FORM = "mk_live_<id>.<secret>"
_KEY_ID = re.compile(r"[A-Za-z0-9_-]+")


def _is_visible_ascii(text: str) -> bool:
    return all("!" <= char <= "~" for char in text)


def key_form_problem(text: str) -> str | None:
    """Why `text` (as typed, surrounding whitespace ignored) is not a key of the form
    `mk_live_<id>.<secret>`, in one sentence for the designer; None when it has that form.

    The id is letters, digits, `_` and `-`; the secret is any visible ASCII. `ApiKey` itself
    stays lenient (it accepts any visible ASCII): this is the check of a key being typed in.
    The sentence never quotes the text, which may be (part of) a key.
    """
    value = text.strip()
    if not value:
        return f"Paste your API key ({KEY_FORM})."
    if not _is_visible_ascii(value):
        return "The key contains spaces or characters that cannot be in a key."
    if not value.startswith(KEY_PREFIX):
        if KEY_PREFIX.startswith(value):
            return f"Keep typing: a key looks like {KEY_FORM}."
        return f"A Qamera API key starts with {KEY_PREFIX}."
    key_id, dot, secret = value.removeprefix(KEY_PREFIX).partition(".")
    if not dot:
        return f"The key needs a dot between its id and its secret ({KEY_FORM})."
    if not key_id:
        return f"The id between {KEY_PREFIX} and the dot is missing."
    if not _KEY_ID.fullmatch(key_id):
        return "The id before the dot may hold only letters, digits, _ and -."
    if not secret:
        return "The secret after the dot is missing."
    return None


@final
class ApiKey:
    """A Qamera API key (`mk_live_<id>.<secret>`). Surrounding whitespace is dropped."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("The API key must be a string.")
        value = value.strip()
        if not value:
            raise ValueError("The API key is empty.")
        if not _is_visible_ascii(value):
            # Never echo the value: it would put (part of) the key into a message.
            raise ValueError("The API key contains characters that are not allowed.")
        self._value = value

    def reveal(self) -> str:
        """The key itself, for the request header and nothing else."""
        return self._value

    @property
    def masked(self) -> str:
        """At most 12 leading characters, never more than half the key, never the secret part."""
        public_part = self._value.split(".", 1)[0]
        shown = public_part[: min(_SHOWN_PREFIX, len(self._value) // 2)]
        return shown + _MASK

    @property
    def fingerprint(self) -> str:
        """A per-process identifier of the key (not reversible, not stable across runs)."""
        return hmac.new(_PROCESS_SALT, self._value.encode("ascii"), hashlib.sha256).hexdigest()

    def redact(self, text: str) -> str:
        """`text` with the key, and its secret part, replaced by the masked form."""
        text = text.replace(self._value, self.masked)
        _, _, secret = self._value.partition(".")
        if len(secret) >= 4:
            text = text.replace(secret, _MASK)
        return text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApiKey):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __repr__(self) -> str:
        return f"ApiKey({self.masked!r})"

    def __str__(self) -> str:
        return self.masked

    def __reduce__(self) -> NoReturn:
        raise TypeError("An API key is not pickled: it lives in the keyring and in memory only.")
