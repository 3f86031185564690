"""JSON answers -> typed records, tolerant of what the API does not promise.

Rules (ARCHITECTURE.md, the API client):
- extra fields are ignored; `count` is informative only;
- `status` and `voting` strings are kept verbatim, documented or not;
- a missing or null optional field is None, and so is an optional field of the wrong type;
  `createdAt` that does not parse is None; `thumbnail` is kept only when it is an http(s) URL;
- `id` must be a non-empty string; `name` and `status` must be strings when present (missing or
  null reads as ""); the top level must be an object and the listing a list of objects.
  Anything else is a `ProtocolError` whose message names the field.

Every function here raises nothing but `ProtocolError`, whatever JSON value it is given.
"""

from __future__ import annotations

import gc
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import cast

import msgspec

from .errors import ProtocolError
from .fast_listing import decode_images, utc
from .records import AiModel, Image, Preset, Product, Scenery, ShootReceipt

JsonObject = dict[str, object]

#: Bodies larger than this are decoded in a worker thread, off the GUI event loop.
BIG_BODY_BYTES = 256 * 1024

_UNEXPECTED = "The Qamera service sent an unexpected answer"
_MAX_ERROR_TEXT = 500
_MAX_TIMESTAMP = 64


def _kind(value: object) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _wrong(where: str, expected: str, value: object) -> ProtocolError:
    return ProtocolError(f"{_UNEXPECTED}: '{where}' should be {expected}, not {_kind(value)}.")


def decode_json(body: bytes | bytearray | str) -> object:
    """The JSON value of a body, or ProtocolError."""
    try:
        return cast(object, json.loads(body))
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, too deep
        raise ProtocolError(f"{_UNEXPECTED}: it is not valid JSON.") from None


def parse_body[T](body: bytes | bytearray | str, parse: Callable[[object], T]) -> T:
    """Decode a body and build records from it in one call (so it can run in a worker thread).

    Image listings first try the msgspec fast path (`fast_listing.decode_images`); when it
    refuses, and for the other listings, they are decoded item by item (`decode_listing`). Either
    way a worker thread never holds the GIL for long, so the GUI thread keeps running while
    100,000 images parse.
    """
    if parse is parse_images and isinstance(body, bytes | bytearray):
        with gc_paused(len(body) >= GC_PAUSE_FROM_BYTES):
            images = decode_images(body, _HTTP_URL)
        if images is not None:
            return cast(T, images)
    streaming = _STREAMING.get(parse)
    if streaming is not None:
        key, parse_item = streaming
        return cast(T, decode_listing(body, key, parse_item))
    return parse(decode_json(body))


_JSON = json.JSONDecoder()
GC_PAUSE_FROM_BYTES = 1 << 20
_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = True


@contextmanager
def gc_paused(pause: bool = True) -> Iterator[None]:
    """No cyclic garbage collection while building a large listing.

    A full collection over ~100,000 fresh records takes 60-100 ms, and whichever thread runs it
    holds the GIL for that long: the GUI thread freezes. So the collector is paused while they are
    built, and the survivors are then moved to the permanent generation (`gc.freeze()`), which
    later collections skip. The records hold no reference cycles (reference counting frees them
    when a newer listing replaces them), so nothing is lost; the one cost is that a reference
    cycle that was alive at that moment and dies later waits for `gc.unfreeze()`.
    Nested and concurrent pauses nest; the last one out freezes and re-enables.
    """
    global _gc_pauses, _gc_was_enabled
    if not pause:
        yield
        return
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0:
                gc.freeze()
                if _gc_was_enabled:
                    gc.enable()


_WS = re.compile(r"[ \t\n\r]*")


class _Malformed(Exception):
    pass


def _expect(text: str, i: int, char: str) -> int:
    i = _WS.match(text, i).end()  # type: ignore[union-attr]  # always matches
    if text[i : i + 1] != char:
        raise _Malformed
    return i + 1


def decode_listing[T](
    body: bytes | bytearray | str, key: str, parse_item: Callable[[object, str], T]
) -> list[T]:
    """`{"<key>": [item, ...], ...}` -> records, one item at a time (json.JSONDecoder.raw_decode).

    Same answers as `parse(decode_json(body))` for every input, valid or not: on anything unusual
    it falls back to the whole-body decode so the errors are the same.
    """
    with gc_paused(len(body) >= GC_PAUSE_FROM_BYTES):
        return _decode_listing(body, key, parse_item)


def _decode_listing[T](
    body: bytes | bytearray | str, key: str, parse_item: Callable[[object, str], T]
) -> list[T]:
    try:
        text = body.decode("utf-8") if isinstance(body, bytes | bytearray) else body
        result: list[T] | None = None
        i = _expect(text, 0, "{")
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        if text[i : i + 1] == "}":
            raise _Malformed  # no members: let the slow path say what is missing
        while True:
            name, i = _JSON.raw_decode(text, _WS.match(text, i).end())  # type: ignore[union-attr]
            if not isinstance(name, str):
                raise _Malformed
            i = _WS.match(text, _expect(text, i, ":")).end()  # type: ignore[union-attr]
            if name == key and text[i : i + 1] == "[":
                result, i = _decode_items(text, i + 1, key, parse_item)
            else:
                if name == key:
                    raise _Malformed  # not a list: the slow path names the error
                _, i = _JSON.raw_decode(text, i)
            i = _WS.match(text, i).end()  # type: ignore[union-attr]
            if text[i : i + 1] == ",":
                i += 1
                continue
            i = _expect(text, i, "}")
            break
        if _WS.match(text, i).end() != len(text) or result is None:  # type: ignore[union-attr]
            raise _Malformed
        return result
    except (_Malformed, ProtocolError, ValueError, RecursionError, IndexError):
        # the whole-body decode gives the exact error (with the item's index) or the same result
        return _listing(decode_json(body), key, parse_item)


def _decode_items[T](
    text: str, i: int, key: str, parse_item: Callable[[object, str], T]
) -> tuple[list[T], int]:
    items: list[T] = []
    i = _WS.match(text, i).end()  # type: ignore[union-attr]
    if text[i : i + 1] == "]":
        return items, i + 1
    while True:
        value, i = _JSON.raw_decode(text, i)
        items.append(parse_item(value, key))
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        char = text[i : i + 1]
        if char == ",":
            i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        elif char == "]":
            return items, i + 1
        else:
            raise _Malformed


# ---------------------------------------------------------------------------------------------
# fields


def _object(value: object, where: str) -> JsonObject:
    if not isinstance(value, dict):
        raise _wrong(where, "an object", value)
    return cast(JsonObject, value)


def _required_id(obj: JsonObject, key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _wrong(f"{where}.{key}", "a non-empty string", value)
    return value


def _text(obj: JsonObject, key: str, where: str) -> str:
    """A string field the records require: missing or null reads as "", another type is an error."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _wrong(f"{where}.{key}", "a string", value)
    return value


def _optional_text(obj: JsonObject, key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def parse_timestamp(value: object) -> datetime | None:
    """ISO 8601 (`2026-03-20T16:00:00.000Z`) -> an aware datetime in UTC; anything else -> None.

    RFC 3339 is read as msgspec reads it (so the fast listing path gives the same answers); other
    ISO 8601 forms as `datetime.fromisoformat` does. A timestamp without an offset is taken as UTC.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = msgspec.convert(value, datetime)
    except (msgspec.ValidationError, UnicodeError):
        if len(value) > _MAX_TIMESTAMP:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    try:
        return utc(moment)
    except OverflowError:  # an offset that pushes it out of datetime's range
        return None


# scheme http(s), a non-empty authority, no whitespace or control characters anywhere. One regex
# instead of urlsplit: a 100,000-image listing has 100,000 of these (urlsplit cost ~2 s there).
_HOST_CHAR = r"[^\x00-\x20\x7f/?#\[\]]"
_AUTHORITY = rf"(?:{_HOST_CHAR}*\[[0-9A-Fa-f:.]+\]{_HOST_CHAR}*|{_HOST_CHAR}+)"
_HTTP_URL = re.compile(rf"[Hh][Tt][Tt][Pp][Ss]?://{_AUTHORITY}(?:[/?#][^\x00-\x20\x7f]*)?")


def http_url_or_none(value: object) -> str | None:
    """The value when it is an absolute http(s) URL with a host, else None."""
    if isinstance(value, str) and _HTTP_URL.fullmatch(value):
        return value
    return None


def _optional_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


# ---------------------------------------------------------------------------------------------
# items


def _voted_item[R: (Image, AiModel, Scenery)](cls: type[R], item: object, where: str) -> R:
    """Images, AI models and sceneries share one shape: id, name, thumbnail, status, createdAt,
    voting (positional, in the records' field order: this runs 100,000 times for a listing)."""
    obj = _object(item, where)
    return cls(
        _required_id(obj, "id", where),
        _text(obj, "name", where),
        http_url_or_none(obj.get("thumbnail")),
        _text(obj, "status", where),
        parse_timestamp(obj.get("createdAt")),
        _optional_text(obj, "voting"),
    )


def parse_image(item: object, where: str = "image") -> Image:
    return _voted_item(Image, item, where)


def parse_ai_model(item: object, where: str = "model") -> AiModel:
    return _voted_item(AiModel, item, where)


def parse_scenery(item: object, where: str = "scenery") -> Scenery:
    return _voted_item(Scenery, item, where)


def parse_product(item: object, where: str = "product") -> Product:
    obj = _object(item, where)
    return Product(
        id=_required_id(obj, "id", where),
        name=_text(obj, "name", where),
        thumbnail=http_url_or_none(obj.get("thumbnail")),
        status=_text(obj, "status", where),
        created_at=parse_timestamp(obj.get("createdAt")),
    )


def parse_preset(item: object, where: str = "preset") -> Preset:
    obj = _object(item, where)
    return Preset(
        id=_required_id(obj, "id", where),
        name=_text(obj, "name", where),
        guidelines=_optional_text(obj, "guidelines"),
        quantity_guidelines=_optional_text(obj, "quantityGuidelines"),
        quality_guidelines=_optional_text(obj, "qualityGuidelines"),
        created_at=parse_timestamp(obj.get("createdAt")),
    )


# ---------------------------------------------------------------------------------------------
# whole answers


def _listing[T](data: object, key: str, parse_item: Callable[[object, str], T]) -> list[T]:
    top = _object(data, "(top level)")
    if key not in top:
        raise ProtocolError(f"{_UNEXPECTED}: the field '{key}' is missing.")
    items = top[key]
    if not isinstance(items, list):
        raise _wrong(key, "a list", items)
    return [parse_item(item, f"{key}[{index}]") for index, item in enumerate(items)]


def parse_images(data: object) -> list[Image]:
    """`{"images": [Item], "count": n}` of GET /image-picker."""
    return _listing(data, "images", parse_image)


def parse_products(data: object) -> list[Product]:
    return _listing(data, "products", parse_product)


def parse_ai_models(data: object) -> list[AiModel]:
    return _listing(data, "models", parse_ai_model)


def parse_sceneries(data: object) -> list[Scenery]:
    return _listing(data, "sceneries", parse_scenery)


def parse_presets(data: object) -> list[Preset]:
    return _listing(data, "presets", parse_preset)


_STREAMING: dict[Callable[[object], object], tuple[str, Callable[[object, str], object]]] = {
    parse_images: ("images", parse_image),
    parse_products: ("products", parse_product),
    parse_ai_models: ("models", parse_ai_model),
    parse_sceneries: ("sceneries", parse_scenery),
    parse_presets: ("presets", parse_preset),
}


def parse_receipt(data: object) -> ShootReceipt:
    """The answer of POST /image-picker/register-ideas. `createdRecordIds` is required."""
    top = _object(data, "(top level)")
    if "createdRecordIds" not in top:
        raise ProtocolError(f"{_UNEXPECTED}: the field 'createdRecordIds' is missing.")
    raw_ids = top["createdRecordIds"]
    if not isinstance(raw_ids, list):
        raise _wrong("createdRecordIds", "a list", raw_ids)
    ids: list[str] = []
    for index, value in enumerate(raw_ids):
        if not isinstance(value, str) or not value:
            raise _wrong(f"createdRecordIds[{index}]", "a non-empty string", value)
        ids.append(value)
    return ShootReceipt(
        created_record_ids=tuple(ids),
        batch_id=_optional_text(top, "batchId"),
        order_id=_optional_text(top, "orderId"),
        reservation_id=_optional_text(top, "reservationId"),
        credits_reserved=_optional_number(top.get("creditsReserved")),
    )


def error_text(body: bytes | bytearray | str) -> str | None:
    """The text of an error body (`{"error": "..."}`), cleaned and shortened; None when absent.

    Tolerates anything: not JSON, another shape (`{"error": {"message": ...}}`,
    `{"message": ...}`), control characters, very long text.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    candidates: list[object] = [data.get("error"), data.get("message")]
    nested = data.get("error")
    if isinstance(nested, dict):
        candidates.insert(1, nested.get("message"))
    text = next((c for c in candidates if isinstance(c, str) and c.strip()), None)
    if text is None:
        return None
    printable = "".join(char if char.isprintable() else " " for char in text)
    cleaned = " ".join(printable.split())
    if len(cleaned) > _MAX_ERROR_TEXT:
        cleaned = cleaned[: _MAX_ERROR_TEXT - 1].rstrip() + "…"
    return cleaned or None
