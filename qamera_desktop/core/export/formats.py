"""Which image format a body is, from its first bytes, and the file extension of each format.

An exported file is named after what its bytes are: a CDN that answers an error page with
`200 OK` (HTML), or labels a JPEG `image/png`, must neither pass for an image nor give a file an
extension that viewers then refuse. The Content-Type and the URL only decide when the bytes are
of no format known here (`extension_for`).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePosixPath
from typing import Final
from urllib.parse import urlsplit

SNIFF_BYTES: Final = 32
"""How many leading bytes `sniff` needs at most."""

DEFAULT_EXTENSION: Final = ".jpg"
"""When nothing says what an image is: Qamera's images are JPEGs."""


class ImageFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    GIF = "gif"
    WEBP = "webp"
    TIFF = "tiff"
    BMP = "bmp"
    AVIF = "avif"
    HEIC = "heic"
    JXL = "jxl"


EXTENSION: Final[dict[ImageFormat, str]] = {
    ImageFormat.JPEG: ".jpg",
    ImageFormat.PNG: ".png",
    ImageFormat.GIF: ".gif",
    ImageFormat.WEBP: ".webp",
    ImageFormat.TIFF: ".tif",
    ImageFormat.BMP: ".bmp",
    ImageFormat.AVIF: ".avif",
    ImageFormat.HEIC: ".heic",
    ImageFormat.JXL: ".jxl",
}

_MEDIA_TYPES: Final[dict[str, ImageFormat]] = {
    "image/jpeg": ImageFormat.JPEG,
    "image/jpg": ImageFormat.JPEG,
    "image/pjpeg": ImageFormat.JPEG,
    "image/png": ImageFormat.PNG,
    "image/gif": ImageFormat.GIF,
    "image/webp": ImageFormat.WEBP,
    "image/tiff": ImageFormat.TIFF,
    "image/bmp": ImageFormat.BMP,
    "image/avif": ImageFormat.AVIF,
    "image/heic": ImageFormat.HEIC,
    "image/heif": ImageFormat.HEIC,
    "image/jxl": ImageFormat.JXL,
}

_SUFFIXES: Final[dict[str, ImageFormat]] = {
    ".jpg": ImageFormat.JPEG,
    ".jpeg": ImageFormat.JPEG,
    ".jpe": ImageFormat.JPEG,
    ".png": ImageFormat.PNG,
    ".gif": ImageFormat.GIF,
    ".webp": ImageFormat.WEBP,
    ".tif": ImageFormat.TIFF,
    ".tiff": ImageFormat.TIFF,
    ".bmp": ImageFormat.BMP,
    ".avif": ImageFormat.AVIF,
    ".heic": ImageFormat.HEIC,
    ".heif": ImageFormat.HEIC,
    ".jxl": ImageFormat.JXL,
}

IMAGE_EXTENSIONS: Final = frozenset(EXTENSION.values())
"""Every extension an exported image file can have."""

_HEIF_BRANDS: Final = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def sniff(head: bytes) -> ImageFormat | None:
    """The format of a body that starts with `head` (its first `SNIFF_BYTES` suffice), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return ImageFormat.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return ImageFormat.TIFF
    if head[:2] == b"BM" and len(head) >= 14:
        return ImageFormat.BMP
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return ImageFormat.JXL
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return ImageFormat.AVIF
        if brand in _HEIF_BRANDS:
            return ImageFormat.HEIC
    return None


def media_type_format(content_type: str | None) -> ImageFormat | None:
    """The format a Content-Type names ("image/png; charset=x" works too), or None."""
    if not content_type:
        return None
    return _MEDIA_TYPES.get(content_type.split(";", 1)[0].strip().lower())


def url_format(url: str | None) -> ImageFormat | None:
    """The format the URL's path ends with (".../a.JPEG?x=1" -> JPEG), or None."""
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    return _SUFFIXES.get(PurePosixPath(path).suffix.lower())


def extension_for(content_type: str | None, url: str | None = None, head: bytes = b"") -> str:
    """The file extension of an image: what its first bytes are, else what the Content-Type
    says, else the URL's suffix, else `DEFAULT_EXTENSION`."""
    found = sniff(head) or media_type_format(content_type) or url_format(url)
    return EXTENSION[found] if found is not None else DEFAULT_EXTENSION
