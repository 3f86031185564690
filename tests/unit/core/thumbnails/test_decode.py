"""decode_thumbnail: every mode becomes RGB888 of the right size; bad input is a ThumbnailError."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, JpegImagePlugin

from qamera_desktop.core.thumbnails.decode import decode_thumbnail, encode_jpeg
from qamera_desktop.core.thumbnails.records import DecodedThumbnail, ThumbnailError

from .images import BLUE, RED, encode, exif_rotated_jpeg, jpeg, png_header_only, two_halves


def pixel(thumb: DecodedThumbnail, x: int, y: int) -> tuple[int, int, int]:
    offset = (y * thumb.width + x) * 3
    r, g, b = thumb.data[offset : offset + 3]
    return r, g, b


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def test_jpeg_is_scaled_to_the_longest_edge_as_rgb888() -> None:
    thumb = decode_thumbnail(jpeg(1024, 768), 256)
    assert (thumb.width, thumb.height) == (256, 192)
    assert len(thumb.data) == 256 * 192 * 3
    assert thumb.stride == 256 * 3


def test_portrait_jpeg_fits_the_height() -> None:
    thumb = decode_thumbnail(jpeg(600, 1200), 200)
    assert (thumb.width, thumb.height) == (100, 200)


def test_small_image_is_never_enlarged() -> None:
    thumb = decode_thumbnail(jpeg(100, 50), 256)
    assert (thumb.width, thumb.height) == (100, 50)


def test_2048px_jpeg_uses_draft_so_libjpeg_decodes_at_one_eighth(monkeypatch: Any) -> None:
    calls: list[tuple[tuple[int, int], tuple[int, int] | None]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self: Any, mode: str | None, size: tuple[int, int] | None) -> Any:
        before = self.size
        result = original(self, mode, size)
        calls.append((before, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    thumb = decode_thumbnail(jpeg(2048, 1536), 256)
    assert (thumb.width, thumb.height) == (256, 192)
    assert calls[0] == ((2048, 1536), (256, 192))  # decoded straight at 1/8 scale


def test_png_with_alpha_is_composited_on_white() -> None:
    img = two_halves(200, 100, (0, 0, 0, 0), (*RED, 255), mode="RGBA")
    thumb = decode_thumbnail(encode(img, "PNG"), 100)
    assert (thumb.width, thumb.height) == (100, 50)
    assert pixel(thumb, 10, 25) == (255, 255, 255)  # transparent black shows as white
    assert pixel(thumb, 90, 25) == RED


def test_grey_with_alpha_png() -> None:
    img = two_halves(64, 64, (0, 0), (0, 255), mode="LA")
    thumb = decode_thumbnail(encode(img, "PNG"), 32)
    assert pixel(thumb, 2, 16) == (255, 255, 255)
    assert pixel(thumb, 30, 16) == (0, 0, 0)


def test_palette_png_keeps_its_colours() -> None:
    img = two_halves(300, 300, RED, BLUE).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    thumb = decode_thumbnail(encode(img, "PNG"), 60)
    assert (thumb.width, thumb.height) == (60, 60)
    assert close_to(pixel(thumb, 5, 30), RED, 2)
    assert close_to(pixel(thumb, 55, 30), BLUE, 2)


def test_palette_png_with_transparency() -> None:
    img = Image.new("P", (80, 40), 0)
    img.putpalette([*RED, *BLUE] + [0] * 762)
    img.paste(1, (40, 0, 80, 40))
    data = encode(img, "PNG", transparency=0)  # index 0 (red) is transparent
    thumb = decode_thumbnail(data, 40)
    assert pixel(thumb, 3, 10) == (255, 255, 255)
    assert pixel(thumb, 36, 10) == BLUE


def test_gif_palette() -> None:
    img = two_halves(100, 50, RED, BLUE).convert("P")
    thumb = decode_thumbnail(encode(img, "GIF"), 50)
    assert (thumb.width, thumb.height) == (50, 25)
    assert close_to(pixel(thumb, 2, 10), RED, 2)


def test_cmyk_jpeg_becomes_rgb() -> None:
    img = Image.new("CMYK", (300, 200), (255, 0, 0, 0))  # pure cyan
    thumb = decode_thumbnail(encode(img, "JPEG", quality=95), 150)
    assert (thumb.width, thumb.height) == (150, 100)
    assert close_to(pixel(thumb, 75, 50), (0, 255, 255))


def test_16_bit_grey_png_is_scaled_not_clipped() -> None:
    img = Image.new("I;16", (100, 100), 32768)  # middle grey in 16 bits
    data = encode(img, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    thumb = decode_thumbnail(data, 50)
    assert close_to(pixel(thumb, 25, 25), (128, 128, 128), 1)


def test_32_bit_integer_tiff_is_stretched() -> None:
    img = Image.new("I", (40, 20), 0)
    img.paste(100_000, (20, 0, 40, 20))
    thumb = decode_thumbnail(encode(img, "TIFF"), 20)
    assert pixel(thumb, 1, 5) == (0, 0, 0)
    assert pixel(thumb, 18, 5) == (255, 255, 255)


def test_bilevel_png() -> None:
    img = two_halves(64, 32, (0,), (1,), mode="1")
    thumb = decode_thumbnail(encode(img, "PNG"), 32)
    assert pixel(thumb, 1, 8) == (0, 0, 0)
    assert pixel(thumb, 30, 8) == (255, 255, 255)


def test_grayscale_jpeg() -> None:
    img = Image.new("L", (200, 100), 90)
    thumb = decode_thumbnail(encode(img, "JPEG", quality=95), 100)
    r, g, b = pixel(thumb, 50, 25)
    assert r == g == b
    assert abs(r - 90) <= 2


@pytest.mark.parametrize(
    ("orientation", "size", "top", "bottom"),
    [(6, (50, 100), RED, BLUE), (8, (50, 100), BLUE, RED), (3, (100, 50), None, None)],
)
def test_exif_orientation_is_applied(
    orientation: int, size: tuple[int, int], top: Any, bottom: Any
) -> None:
    thumb = decode_thumbnail(exif_rotated_jpeg(orientation), 100)
    assert (thumb.width, thumb.height) == size
    if top is not None:
        assert close_to(pixel(thumb, 25, 5), top, 30)
        assert close_to(pixel(thumb, 25, 95), bottom, 30)
    else:  # rotated by 180: blue now on the left
        assert close_to(pixel(thumb, 5, 25), BLUE, 30)


def test_webp_and_bmp() -> None:
    img = Image.new("RGB", (120, 60), RED)
    for fmt in ("WEBP", "BMP"):
        thumb = decode_thumbnail(encode(img, fmt), 60)
        assert (thumb.width, thumb.height) == (60, 30)
        assert close_to(pixel(thumb, 30, 15), RED, 8)


def test_encode_jpeg_round_trips() -> None:
    thumb = decode_thumbnail(jpeg(640, 480), 128)
    again = decode_thumbnail(encode_jpeg(thumb), 128)
    assert (again.width, again.height) == (thumb.width, thumb.height)


# ------------------------------------------------------------------------------ refusals


def reason(data: bytes, size: int = 128, **kw: Any) -> str:
    with pytest.raises(ThumbnailError) as caught:
        decode_thumbnail(data, size, **kw)
    return str(caught.value)


def test_empty_data() -> None:
    assert reason(b"") == "empty file"


def test_html_is_not_an_image() -> None:
    assert reason(b"<!doctype html><html><body>Not found</body></html>") == "not an image"


def test_formats_outside_the_allow_list_are_not_opened() -> None:
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
    assert reason(eps) == "not an image"


def test_truncated_jpeg() -> None:
    data = jpeg(800, 600)
    assert reason(data[: len(data) // 2]) == "truncated image"


def test_truncated_png() -> None:
    data = encode(Image.effect_noise((300, 300), 50), "PNG")
    assert reason(data[: len(data) // 2]) in ("truncated image", "corrupt image")


def test_corrupt_png_checksum() -> None:
    data = bytearray(encode(Image.effect_noise((100, 100), 50), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # flip a byte of the compressed data: the CRC no longer matches
    assert reason(bytes(data)) == "corrupt image"


def test_decompression_bomb_is_refused_before_decoding(monkeypatch: Any) -> None:
    def must_not_load(self: Any) -> Any:
        raise AssertionError("decoded an oversized image")

    monkeypatch.setattr(ImageFile.ImageFile, "load", must_not_load)
    assert reason(png_header_only(50_000, 1_000)) == "too large (50000x1000 pixels)"
    assert reason(png_header_only(100, 100), max_pixels=5_000) == "too large (100x100 pixels)"


def test_header_beyond_pillows_own_limit() -> None:
    assert reason(png_header_only(30_000, 30_000)).startswith("too large")


def test_invalid_size() -> None:
    assert reason(jpeg(10, 10), size=0) == "invalid thumbnail size 0"


def test_decoded_thumbnail_checks_its_buffer() -> None:
    with pytest.raises(ValueError, match="does not match"):
        DecodedThumbnail(2, 2, b"\x00" * 11)


# ------------------------------------------------------------------------------ fuzzing

SAMPLES = [
    jpeg(64, 48),
    encode(Image.effect_noise((32, 32), 40).convert("RGBA"), "PNG"),
    encode(Image.new("P", (20, 20)), "GIF"),
    encode(Image.new("RGB", (16, 16), RED), "BMP"),
    encode(Image.new("RGB", (16, 16), BLUE), "TIFF"),
    encode(Image.new("RGB", (16, 16), BLUE), "WEBP"),
]


def check_never_raises_anything_else(data: bytes, size: int) -> None:
    try:
        thumb = decode_thumbnail(data, size)
    except ThumbnailError as exc:
        reason = str(exc)
    else:
        reason = None
        assert 0 < thumb.width <= size
        assert 0 < thumb.height <= size
        assert len(thumb.data) == thumb.width * thumb.height * 3
    assert reason is None or len(reason) > 0


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2048), size=st.integers(1, 300))
def test_random_bytes_give_a_thumbnail_or_a_thumbnail_error(data: bytes, size: int) -> None:
    check_never_raises_anything_else(data, size)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(SAMPLES),
    cut=st.integers(0, 4000),
    flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 255)), max_size=8),
    size=st.integers(1, 64),
)
def test_damaged_images_give_a_thumbnail_or_a_thumbnail_error(
    sample: bytes, cut: int, flips: list[tuple[int, int]], size: int
) -> None:
    data = bytearray(sample[: max(cut, 8)])
    for position, mask in flips:
        if data:
            data[position % len(data)] ^= mask
    check_never_raises_anything_else(bytes(data), size)


def test_32_bit_integer_within_8_bits_is_kept() -> None:
    img = Image.new("I", (10, 10), 77)
    thumb = decode_thumbnail(encode(img, "TIFF"), 10)
    assert pixel(thumb, 5, 5) == (77, 77, 77)
