"""Image bytes for the thumbnail tests, generated with Pillow (no files in the repository)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def jpeg(
    width: int, height: int, color: tuple[int, int, int] = (200, 120, 40), **params: object
) -> bytes:
    """A JPEG with a gradient over `color`, so it is not trivially compressible."""
    gradient = Image.linear_gradient("L").resize((width, height))
    base = Image.new("RGB", (width, height), color)
    img = Image.composite(base, Image.new("RGB", (width, height), (0, 0, 0)), gradient)
    return encode(img, "JPEG", quality=90, **params)


def two_halves(
    width: int, height: int, left: tuple[int, ...], right: tuple[int, ...], mode: str = "RGB"
) -> Image.Image:
    img = Image.new(mode, (width, height), left)
    img.paste(Image.new(mode, (width - width // 2, height), right), (width // 2, 0))
    return img


def exif_rotated_jpeg(orientation: int = 6) -> bytes:
    """400x200 stored: red left half, blue right half; EXIF says how to turn it for display."""
    img = two_halves(400, 200, RED, BLUE)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(img, "JPEG", quality=95, exif=exif.tobytes())


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` pixels, with a few bytes of image data."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
