"""The review as XMP: a packet that XMP readers parse, embedded in a JPEG's header without
touching a byte of the compressed image, or written beside other formats as a sidecar."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from qamera_desktop.core.export.xmp import (
    XMP_HEADER,
    NotAJpegError,
    embed_in_jpeg,
    sidecar_path,
    xmp_packet,
)
from qamera_desktop.core.review import Flag, Label, RejectReason, Review

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def photo(**save: object) -> bytes:
    """A small real JPEG with some detail (so its scan data is not trivial)."""
    image = Image.linear_gradient("L").resize((96, 64)).convert("RGB")
    image.paste((200, 40, 40), (10, 10, 40, 30))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def exif_bytes() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Qamera test camera"  # Make
    return exif.tobytes()


def read_xmp(packet: bytes) -> dict[str, str | None]:
    """The fields of a packet, read with a plain XML parser (as exiftool-style readers do)."""
    root = ET.fromstring(packet)  # noqa: S314 - our own packet, not untrusted input
    assert root.tag == "{adobe:ns:meta/}xmpmeta"
    description = root.find("rdf:RDF/rdf:Description", NS)
    assert description is not None
    title = description.find("dc:title/rdf:Alt/rdf:li", NS)
    if title is not None:
        assert title.get(XML_LANG) == "x-default"

    def text(path: str) -> str | None:
        element = description.find(path, NS)
        return None if element is None else element.text

    return {
        "rating": text("xmp:Rating"),
        "label": text("xmp:Label"),
        "title": None if title is None else title.text,
        "identifier": text("dc:identifier"),
    }


def scan_data(jpeg: bytes) -> bytes:
    """Everything from the first start-of-scan marker on (these test images have no embedded
    thumbnail, whose own markers would come first)."""
    return jpeg[jpeg.index(b"\xff\xda") :]


def app_segments(jpeg: bytes) -> list[tuple[str, bytes]]:
    with Image.open(io.BytesIO(jpeg)) as image:
        return list(image.applist)  # type: ignore[attr-defined]


PICK = Review(Flag.PICK, rating=4, label=Label.BLUE)


def test_the_packet_says_rating_label_title_and_id() -> None:
    fields = read_xmp(xmp_packet("img_123", "Stoneware Mug", PICK))
    assert fields == {
        "rating": "4",
        "label": "Blue",
        "title": "Stoneware Mug",
        "identifier": "img_123",
    }


@pytest.mark.parametrize(
    ("review", "rating", "label"),
    [
        (Review(), "0", None),
        (Review(rating=5), "5", None),
        (Review(Flag.REJECT, rating=3, reasons=(RejectReason.ANATOMY,)), "-1", None),
        (Review(label=Label.RED), "0", "Red"),
        (Review(label=Label.YELLOW), "0", "Yellow"),
        (Review(label=Label.GREEN), "0", "Green"),
        (Review(label=Label.PURPLE), "0", "Purple"),
    ],
)
def test_rejects_are_minus_one_and_labels_are_named(
    review: Review, rating: str, label: str | None
) -> None:
    fields = read_xmp(xmp_packet("i", "n", review))
    assert fields["rating"] == rating
    assert fields["label"] == label


def test_names_are_escaped_and_characters_xml_cannot_hold_are_dropped() -> None:
    name = 'Tom & Jerry\'s <Mug> "x" ]]> \x00\x07 \ud800 🎉 ж'
    fields = read_xmp(xmp_packet("id<&>", name, PICK))
    assert fields["title"] == 'Tom & Jerry\'s <Mug> "x" ]]>   🎉 ж'
    assert fields["identifier"] == "id<&>"


def test_an_empty_name_has_no_title() -> None:
    assert read_xmp(xmp_packet("img_1", "", PICK))["title"] is None


def test_embedded_after_jfif_with_the_scan_data_unchanged() -> None:
    original = photo()
    packet = xmp_packet("img_1", "Mug", PICK)
    out = embed_in_jpeg(original, packet)
    assert scan_data(out) == scan_data(original)  # byte for byte from SOS to EOI
    segments = app_segments(out)
    assert [marker for marker, _ in segments] == ["APP0", "APP1"]
    assert segments[0][1].startswith(b"JFIF")
    assert segments[1][1] == XMP_HEADER + packet
    with Image.open(io.BytesIO(out)) as image, Image.open(io.BytesIO(original)) as before:
        assert image.info["xmp"] == packet  # Pillow finds it where readers look for it
        assert image.tobytes() == before.tobytes()  # and the pixels are the same


def test_embedded_after_exif_and_before_other_segments() -> None:
    icc = b"\x00" * 200  # an ICC "profile": only its place in the file matters here
    original = photo(exif=exif_bytes(), icc_profile=icc)
    out = embed_in_jpeg(original, xmp_packet("img_1", "Mug", PICK))
    assert scan_data(out) == scan_data(original)
    markers = [(marker, data[:4]) for marker, data in app_segments(out)]
    assert markers[:3] == [("APP0", b"JFIF"), ("APP1", b"Exif"), ("APP1", b"http")]
    assert ("APP2", b"ICC_") in markers[3:]  # the profile kept, after the XMP
    with Image.open(io.BytesIO(out)) as image:
        assert image.getexif()[0x010F] == "Qamera test camera"


def test_an_existing_xmp_is_replaced_not_duplicated() -> None:
    old = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><old/></x:xmpmeta>'
    original = photo(xmp=old)
    assert any(data == XMP_HEADER + old for _, data in app_segments(original))
    packet = xmp_packet("img_1", "Mug", Review(Flag.REJECT))
    out = embed_in_jpeg(original, packet)
    xmp_segments = [data for _, data in app_segments(out) if data.startswith(XMP_HEADER)]
    assert xmp_segments == [XMP_HEADER + packet]
    assert scan_data(out) == scan_data(original)
    # and again: embedding into an exported file keeps one packet, the newest
    again = embed_in_jpeg(out, xmp_packet("img_1", "Mug", PICK))
    xmp_segments = [data for _, data in app_segments(again) if data.startswith(XMP_HEADER)]
    assert len(xmp_segments) == 1
    assert read_xmp(xmp_segments[0][len(XMP_HEADER) :])["rating"] == "4"


def test_a_progressive_jpeg_keeps_every_scan() -> None:
    original = photo(progressive=True)
    assert original.count(b"\xff\xda") > 1  # several scans
    out = embed_in_jpeg(original, xmp_packet("img_1", "Mug", PICK))
    assert scan_data(out) == scan_data(original)


def test_pillow_getxmp_reads_it() -> None:
    pytest.importorskip("defusedxml", reason="Pillow's getxmp() needs defusedxml")
    out = embed_in_jpeg(photo(), xmp_packet("img_9", "Mug & Co", PICK))
    with Image.open(io.BytesIO(out)) as image:
        description = image.getxmp()["xmpmeta"]["RDF"]["Description"]
    assert description["Rating"] == "4"
    assert description["Label"] == "Blue"
    assert description["identifier"] == "img_9"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a JPEG"),
        (b"<!doctype html><p>Not found</p>", "not a JPEG"),
        (b"", "not a JPEG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "cut short"),  # a header cut off
        (b"\xff\xd8\xff\xd9", "no image data"),  # SOI, EOI
        (b"\xff\xd8junk", "no marker"),
    ],
)
def test_what_is_not_a_readable_jpeg_is_refused_clearly(data: bytes, why: str) -> None:
    with pytest.raises(NotAJpegError, match=why):
        embed_in_jpeg(data, xmp_packet("i", "n", PICK))


def test_a_sidecar_is_named_after_the_file_and_holds_the_packet(tmp_path: Path) -> None:
    image_file = tmp_path / "Mug__img_1.png"
    assert sidecar_path(image_file) == tmp_path / "Mug__img_1.xmp"
    assert sidecar_path(tmp_path / "a.b__img_2.webp") == tmp_path / "a.b__img_2.xmp"
    packet = xmp_packet("img_1", "Mug", PICK)
    sidecar_path(image_file).write_bytes(packet)
    assert read_xmp(sidecar_path(image_file).read_bytes())["rating"] == "4"
