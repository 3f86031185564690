"""The fast path for image listings: msgspec decodes the usual shape in C, a slice at a time.

`GET /image-picker` answers `{"images": [item, ...], "count": n}`. For 100,000 images that is
~20 MB of JSON; the tolerant item-by-item path (`parsing.decode_listing`) takes ~0.8 s there,
this one ~0.1 s. It gives exactly the same records, or refuses (None) and the tolerant path
decides: anything unusual (another top-level shape, an item with a field of the wrong type, a
null id, a timestamp msgspec cannot read, text that is not UTF-8) goes that way.

Why slices: msgspec holds the GIL for a whole call, and a GUI thread waiting 50 ms for it misses
three frames. The items array is cut at `}, {` boundaries into slices of about `SLICE_BYTES`;
each slice is decoded as a JSON array of its own. A cut that falls inside a string or inside a
nested value makes that slice invalid JSON (a slice starts at a true item boundary, so its text
ends inside the string or with unclosed brackets), so a wrong cut can only cause a refusal, never
a different answer. When every slice decodes, the body is exactly `head + slices joined by
commas + tail`: a valid JSON object whose images are the slices' items.

One known difference, on purpose: an integer of more than 4,300 digits in a field the app does
not read is skipped here, while Python's json module refuses it (CPython's cap on int parsing,
not a JSON rule). Everything else that module refuses, this path refuses too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from operator import attrgetter
from os.path import commonprefix
from typing import Annotated

import msgspec

from .records import Image

#: Slices this big decode in ~1 ms each, so the GIL changes hands often; they also stay under
#: the allocator's mmap threshold (memory.py), so their buffers are reused, not mapped each time.
SLICE_BYTES = 96 * 1024

_WS = rb"[ \t\n\r]*"
_HEAD = re.compile(rb"\A" + _WS + rb"\{" + _WS + rb'"images"' + _WS + rb":" + _WS + rb"\[")
_TAIL = re.compile(
    rb"\]"
    + _WS
    + rb"(?:,"
    + _WS
    + rb'"count"'
    + _WS
    + rb":"
    + _WS
    + rb"-?[0-9]{1,18}"
    + _WS
    + rb")?\}"
    + _WS
    + rb"\Z"
)
_TAIL_WINDOW = 128
_CUT = re.compile(rb"\}" + _WS + rb"," + _WS + rb"\{")


class _WireImage(msgspec.Struct, gc=False, rename={"created_at": "createdAt"}):
    """One item as it travels. Unknown fields are skipped; a wrong type (a null name or status
    included: the tolerant path reads those as "") refuses the fast path."""

    id: Annotated[str, msgspec.Meta(min_length=1)]
    name: str = ""
    thumbnail: str | None = None
    status: str = ""
    created_at: datetime | None = None
    voting: str | None = None


_SLICE = msgspec.json.Decoder(list[_WireImage])


def decode_images(body: bytes | bytearray, valid_url: re.Pattern[str]) -> list[Image] | None:
    """The images of a listing body, or None when the fast path cannot vouch for the answer.

    `valid_url` fully matches one thumbnail URL that records keep (other strings become None).
    """
    head = _HEAD.match(body)
    tail = _TAIL.search(body, max(0, len(body) - _TAIL_WINDOW))
    if head is None or tail is None or tail.start() < head.end():
        return None
    view = memoryview(body)
    images: list[Image] = []
    try:
        for start, end in _slices(body, head.end(), tail.start()):
            piece = view[start:end]
            str(piece, "utf-8")  # msgspec does not check the text of the fields it skips
            images.extend(_records(_SLICE.decode(b"".join((b"[", piece, b"]"))), valid_url))
    except (
        msgspec.DecodeError,
        msgspec.ValidationError,
        UnicodeError,
        OverflowError,
        RecursionError,  # nesting deeper than msgspec goes: the tolerant path names the error
    ):
        return None
    return images


def _slices(body: bytes | bytearray, start: int, end: int) -> list[tuple[int, int]]:
    """Cut body[start:end] at `}, {` after every SLICE_BYTES; each cut is checked by decoding."""
    slices: list[tuple[int, int]] = []
    while end - start > SLICE_BYTES:
        cut = _CUT.search(body, start + SLICE_BYTES, end)
        if cut is None:
            break
        slices.append((start, cut.start() + 1))
        start = cut.end() - 1
    if body[start:end].strip(b" \t\n\r"):
        slices.append((start, end))
    return slices


def _records(wires: list[_WireImage], valid_url: re.Pattern[str]) -> list[Image]:
    """The rules of `parsing.parse_image`, applied to a whole slice with C-level passes; a Python
    loop runs only when a slice holds something to fix (a time zone other than UTC, a thumbnail
    that is not a URL)."""
    try:
        zones = set(map(_ZONE, wires))
    except AttributeError:  # some created_at is None
        zones = set(map(_ZONE_OF, filter(None, map(_CREATED, wires))))
    if zones - {UTC}:
        for w in wires:
            if w.created_at is not None:
                w.created_at = utc(w.created_at)
    thumbnails = list(map(_THUMBNAIL, wires))
    urls = list(filter(None, thumbnails))
    if len(urls) + thumbnails.count(None) != len(wires) or not plainly_valid_urls(urls):
        for w in wires:
            if w.thumbnail is not None and not valid_url.fullmatch(w.thumbnail):
                w.thumbnail = None
    return msgspec.convert(wires, list[Image], from_attributes=True)


_CREATED = attrgetter("created_at")
_ZONE = attrgetter("created_at.tzinfo")
_ZONE_OF = attrgetter("tzinfo")
_THUMBNAIL = attrgetter("thumbnail")
# An http(s) origin and the first character after it: scheme, a non-empty plain authority.
_ORIGIN = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7f/?#\[\]]+[/?#]")
# bytes a URL never holds (the newline is the separator of the joined list, counted apart)
_FORBIDDEN = bytes(range(0x00, 0x0A)) + bytes(range(0x0B, 0x21)) + b"\x7f[]"


def plainly_valid_urls(urls: list[str]) -> bool:
    """True only when every string is a URL that `parsing._HTTP_URL` fully matches.

    Sufficient, not necessary: all of them share one prefix that holds a whole http(s) origin
    (`http://host:port/`), and none holds whitespace, a control character or a bracket. The
    common prefix of a list is that of its min and max, so the checks are a few C-level passes,
    ~20x faster than a regex per URL. False means "not sure": check each URL with the regex.
    """
    if not urls:
        return True
    shared = commonprefix([min(urls), max(urls)])  # noqa: RUF071 (a string prefix, not a path)
    if _ORIGIN.match(shared) is None:
        return False
    raw = "\n".join(urls).encode("utf-8", "surrogatepass")  # others only add bytes >= 0x80
    return raw.count(b"\n") == len(urls) - 1 and len(raw.translate(None, _FORBIDDEN)) == len(raw)


def utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
