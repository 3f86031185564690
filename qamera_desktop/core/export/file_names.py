"""File names for exported images that are valid on Windows, macOS and Linux alike.

`safe_file_name("Mug / Blue", "img_123", ".jpg")` -> "Mug _ Blue__img_123.jpg": the image's name,
cleaned, then two underscores and its id. The id makes the name unique and stable: two images
with the same name get different files, and exporting again writes the same name for the same
image, never over another image's file. An id that needed cleaning also gets a short hash of the
id as it was, so that two ids that clean alike ("a/b", "a_b") still name two files.

Cleaning, for every OS at once:
- path separators and the characters Windows forbids (`<>:"/\\|?*`) become "_"; line breaks
  and tabs become spaces;
- control characters and the invisible direction marks (U+202E makes "x<U+202E>gpj.exe" look
  like "xexe.jpg") are removed; whitespace runs become one space;
- leading dots, spaces and dashes (hidden files, "..", names read as options) and trailing dots
  and spaces (Windows drops them) are stripped;
- a name whose part before the first dot is a Windows device name (CON, PRN, AUX, NUL, COM0-9,
  LPT0-9, also with superscript digits) gets a leading "_";
- the whole name is at most `MAX_NAME_BYTES` bytes of UTF-8 (a component may have 255 bytes on
  Linux and 255 UTF-16 units on Windows, and ".part" / ".xmp" files are named after it), cut
  between characters, never inside one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Final

from qamera_desktop.core.export.formats import DEFAULT_EXTENSION

MAX_NAME_BYTES: Final = 200
ID_SEPARATOR: Final = "__"
MAX_ID_BYTES: Final = 80
MAX_EXTENSION_BYTES: Final = 11  # "." and up to 10 letters or digits

_FORBIDDEN: Final = re.compile(r'[<>:"/\\|?*]')
_WHITESPACE: Final = re.compile(r"\s+")
_EXTENSION: Final = re.compile(r"\.[a-z0-9]{1,10}")
_KEEP_FORMAT_CHARS: Final = frozenset("\u200c\u200d")  # joiners: emoji sequences, Indic scripts
_SUPERSCRIPT_DIGITS: Final = "\u00b9\u00b2\u00b3"
_RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"{port}{digit}" for port in ("COM", "LPT") for digit in "0123456789" + _SUPERSCRIPT_DIGITS}
)


def _drop_invisible(text: str) -> str:
    """`text` without control characters, lone surrogates, line and paragraph separators, and
    format characters other than the joiners (direction marks, zero-width spaces, BOMs)."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp"):
            continue
        if category == "Cf" and char not in _KEEP_FORMAT_CHARS:
            continue
        kept.append(char)
    return "".join(kept)


def clean_component(text: str) -> str:
    """`text` as a piece of a file name for every OS (possibly empty); no length cap."""
    text = unicodedata.normalize("NFC", text)
    text = _WHITESPACE.sub(" ", text)  # first: "a\nb" is two words, "a b", not "ab"
    text = _drop_invisible(text)
    text = _FORBIDDEN.sub("_", text)
    text = _WHITESPACE.sub(" ", text)  # again: removing an invisible one can join two spaces
    return text.lstrip(" .-").rstrip(" .")


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` of at most `max_bytes` UTF-8 bytes (whole characters only)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def _clean_id(image_id: str) -> str:
    cleaned = truncate_utf8(clean_component(image_id), MAX_ID_BYTES).rstrip(" .")
    if cleaned == image_id and cleaned:
        return cleaned
    digest = hashlib.sha256(image_id.encode("utf-8", errors="surrogatepass")).hexdigest()[:10]
    return f"{cleaned}-{digest}" if cleaned else digest


def _clean_extension(extension: str) -> str:
    extension = extension.strip().lower()
    if not extension.startswith("."):
        extension = "." + extension
    return extension if _EXTENSION.fullmatch(extension) else DEFAULT_EXTENSION


def is_reserved_on_windows(file_name: str) -> bool:
    """True for names Windows keeps for devices: "CON", "aux.txt", "Lpt1.tar.gz", "nul .x"."""
    return file_name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED


def file_stem(name: str, image_id: str) -> str:
    """ "<name>__<id>", cleaned for every OS, or just "<id>" when the name is empty (or nothing
    of it is left after cleaning): the file name of the image without its extension. The same
    whatever the extension, which always fits after it."""
    id_part = _clean_id(image_id)
    # the last byte: for the "_" that a name Windows reserves gets in front
    room = MAX_NAME_BYTES - MAX_EXTENSION_BYTES - len(id_part.encode()) - len(ID_SEPARATOR) - 1
    cleaned = truncate_utf8(clean_component(name), max(room, 0)).rstrip(" .")
    stem = f"{cleaned}{ID_SEPARATOR}{id_part}" if cleaned else id_part
    return "_" + stem if is_reserved_on_windows(stem) else stem


def safe_file_name(name: str, image_id: str, extension: str) -> str:
    """ "<name>__<id><extension>": the file an image is exported to (see the module docstring);
    an extension that is not "." and up to 10 letters or digits becomes `DEFAULT_EXTENSION`."""
    return file_stem(name, image_id) + _clean_extension(extension)
