"""Decode image bytes into a small RGB888 thumbnail with Pillow; encode one for the disk cache.

Runs in worker threads: Pillow releases the GIL while it decodes, so two workers nearly double
the throughput on two cores (ARCHITECTURE.md, platform facts). JPEGs are decoded with `draft()`,
which lets libjpeg scale by 1/2, 1/4 or 1/8 while decoding; that is what makes thumbnails cheap.
"""

from __future__ import annotations

import functools
import io
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

from .records import DecodedThumbnail, ThumbnailError

DEFAULT_MAX_PIXELS: Final = 40_000_000
JPEG_QUALITY: Final = 90

# The formats a CDN serves. Everything else (EPS, which runs Ghostscript, PSD, ...) is refused
# without ever reaching its plugin.
_WANTED_FORMATS: Final = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "AVIF")
_WHITE: Final = (255, 255, 255)
_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "RGBa", "PA"})
_DEEP_MODES: Final = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})


def warm_up() -> None:
    """Load Pillow's common format plugins and the JPEG codec now: the first decode of a
    process takes ~35 ms more than the next ones (0.4 ms at 192 px). The spare thumbnail worker
    calls this before it is taken, so the first screen of thumbnails does not wait for it."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), _WHITE).save(buffer, "JPEG")
    decode_thumbnail(buffer.getvalue(), 8)


def decode_thumbnail(
    data: bytes, size: int, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> DecodedThumbnail:
    """Decode `data` and scale it to fit in `size` x `size` pixels (never enlarged).

    The result is RGB888: every mode is converted (CMYK, palette, grey, 16-bit), transparency is
    composited on white and the EXIF orientation is applied. The pixel count in the header is
    checked against `max_pixels` before anything is decoded.

    Raises ThumbnailError for corrupt, truncated, non-image or oversized data, never anything else.
    """
    if size <= 0:
        raise ThumbnailError(f"invalid thumbnail size {size}")
    if not data:
        raise ThumbnailError("empty file")
    try:
        with Image.open(io.BytesIO(data), formats=_formats()) as img:
            return _decode_open_image(img, size, max_pixels)
    except ThumbnailError:
        raise
    except UnidentifiedImageError:
        raise ThumbnailError("not an image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limit (89 Mpx; the warning only when warnings are errors, as in tests).
        raise ThumbnailError("too large") from None
    except MemoryError:
        raise ThumbnailError("too large") from None
    except Exception as exc:  # plugins raise OSError, ValueError, SyntaxError, struct.error...
        text = str(exc).lower()
        if "truncated" in text or isinstance(exc, EOFError):
            raise ThumbnailError("truncated image") from None
        raise ThumbnailError("corrupt image") from None


@functools.cache
def _formats() -> tuple[str, ...]:
    """The wanted formats this Pillow build has (Image.open fails oddly on an unknown one)."""
    Image.init()
    return tuple(name for name in _WANTED_FORMATS if name in Image.OPEN)


def _decode_open_image(img: Image.Image, size: int, max_pixels: int) -> DecodedThumbnail:
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ThumbnailError("empty image")
    if width * height > max_pixels:
        raise ThumbnailError(f"too large ({width}x{height} pixels)")
    if img.format == "JPEG":
        # libjpeg scales by 1/2, 1/4 or 1/8 while decoding: no full-size pass. Asking for the
        # fitted size (256x192, not 256x256) lets a 4:3 image take the 1/4 step, not just 1/2.
        img.draft("RGB", _fitted(width, height, size))
    # Transposes only when the EXIF orientation says so (then on the drafted, already small image).
    ImageOps.exif_transpose(img, in_place=True)
    work = _resizable(img)
    work.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    rgb = _to_rgb(work)
    return DecodedThumbnail(rgb.width, rgb.height, rgb.tobytes(), source_pixels=width * height)


def _fitted(width: int, height: int, size: int) -> tuple[int, int]:
    """The size of a `width` x `height` image scaled to fit in `size` x `size` (aspect kept)."""
    if width >= height:
        return size, max(1, round(height * size / width))
    return max(1, round(width * size / height)), size


def _resizable(img: Image.Image) -> Image.Image:
    """The image in a mode that scales well: palettes, bilevel and 16/32-bit modes converted."""
    mode = img.mode
    if mode in ("P", "PA") or (mode in ("L", "RGB") and "transparency" in img.info):
        # Palettes would be scaled with nearest-neighbour; a tRNS colour key would not survive
        # filtering. RGBA carries both through.
        has_alpha = mode == "PA" or "transparency" in img.info
        return img.convert("RGBA" if has_alpha else "RGB")
    if mode == "1":
        return img.convert("L")
    if mode in _DEEP_MODES:
        return _deep_to_l(img)
    return img


def _deep_to_l(img: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and float grey to 8-bit grey, scaled rather than clipped."""
    if img.mode.startswith("I;16"):
        low, high = 0.0, 65535.0
    else:
        extrema = img.getextrema()
        low, high = float(extrema[0]), float(extrema[1])  # type: ignore[arg-type]
        if low >= 0 and high <= 255:
            low, high = 0.0, 255.0
    scale = 255.0 / (high - low) if high > low else 0.0
    return img.point(lambda v: (v - low) * scale).convert("L")


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB888; anything with an alpha channel is composited on white."""
    if img.mode == "RGB":
        return img
    if img.mode in _ALPHA_MODES:
        rgba = img.convert("RGBA") if img.mode != "RGBA" else img
        background = Image.new("RGB", rgba.size, _WHITE)
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def encode_jpeg(thumb: DecodedThumbnail, *, quality: int = JPEG_QUALITY) -> bytes:
    """The thumbnail as a JPEG, as stored in the disk cache."""
    img = Image.frombytes("RGB", (thumb.width, thumb.height), thumb.data)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()
