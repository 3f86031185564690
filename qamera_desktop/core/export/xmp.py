"""The designer's decision as XMP: inside a JPEG (an APP1 segment) or beside any other file.

Lightroom, Bridge, Capture One, darktable and exiftool read `xmp:Rating` (-1 for a reject, else
the 0-5 stars) and `xmp:Label` (the colour label by name); `dc:title` and `dc:identifier` carry
the image's name and Qamera id, so that a file found later can be traced back.

`embed_in_jpeg` never re-encodes: it rewrites only the header segments (before the first SOS
marker) and copies the compressed image data that follows byte for byte. Formats other than JPEG
get a sidecar, `<file stem>.xmp`, as Adobe's applications write and read them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

from qamera_desktop.core.review import Flag, Label, Review

XMP_HEADER: Final = b"http://ns.adobe.com/xap/1.0/\x00"
"""The identifier that starts the payload of an APP1 segment holding an XMP packet."""

EXTENDED_XMP_HEADER: Final = b"http://ns.adobe.com/xmp/extension/\x00"
EXIF_HEADER: Final = b"Exif\x00\x00"

MAX_SEGMENT_PAYLOAD: Final = 0xFFFF - 2
"""A segment's length field counts itself: 65,533 bytes of payload at most."""

MAX_TITLE_CHARS: Final = 2000
"""Longer names are cut in the packet, so that it always fits one APP1 segment."""

REJECTED_RATING: Final = -1
"""What Adobe's applications write as the rating of a rejected photo."""

LABEL_NAMES: Final[dict[Label, str]] = {
    Label.RED: "Red",
    Label.YELLOW: "Yellow",
    Label.GREEN: "Green",
    Label.BLUE: "Blue",
    Label.PURPLE: "Purple",
}
"""Lightroom's default label set: a label is matched by this text."""

_SOI: Final = b"\xff\xd8"
_APP0: Final = 0xE0
_APP1: Final = 0xE1
_SOS: Final = 0xDA
_EOI: Final = 0xD9
_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length field
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class NotAJpegError(ValueError):
    """The bytes are not a JPEG whose header can be read."""


def rating_of(review: Review) -> int:
    """`xmp:Rating`: -1 for a reject (whatever its stars), else the stars (0: unrated)."""
    return REJECTED_RATING if review.flag is Flag.REJECT else review.rating


def _text(value: str) -> str:
    """XML character data: escaped, without the characters XML 1.0 cannot hold."""
    return escape(_NOT_XML.sub("", value))


def xmp_packet(image_id: str, name: str, review: Review) -> bytes:
    """A complete XMP packet (UTF-8) for one image and the designer's review of it."""
    title = name[:MAX_TITLE_CHARS]
    label = LABEL_NAMES.get(review.label)
    lines = [
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>',
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
        '  <rdf:Description rdf:about=""',
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
        '    xmlns:dc="http://purl.org/dc/elements/1.1/">',
        f"   <xmp:Rating>{rating_of(review)}</xmp:Rating>",
    ]
    if label is not None:
        lines.append(f"   <xmp:Label>{label}</xmp:Label>")
    if title:
        lines += [
            "   <dc:title>",
            "    <rdf:Alt>",
            f'     <rdf:li xml:lang="x-default">{_text(title)}</rdf:li>',
            "    </rdf:Alt>",
            "   </dc:title>",
        ]
    lines += [
        f"   <dc:identifier>{_text(image_id)}</dc:identifier>",
        "  </rdf:Description>",
        " </rdf:RDF>",
        "</x:xmpmeta>",
        '<?xpacket end="w"?>',
    ]
    return "\n".join(lines).encode("utf-8")


def _segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """The header segments of a JPEG as (marker, whole segment bytes), and where SOS starts."""
    if not data.startswith(_SOI):
        raise NotAJpegError("not a JPEG (no start-of-image marker)")
    segments: list[tuple[int, bytes]] = []
    pos = len(_SOI)
    while True:
        start = pos
        if pos >= len(data) or data[pos] != 0xFF:
            raise NotAJpegError(f"damaged JPEG header (no marker at byte {pos})")
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes before a marker
            pos += 1
        if pos >= len(data):
            raise NotAJpegError("damaged JPEG header (ends inside a marker)")
        marker = data[pos]
        pos += 1
        if marker == _SOS:
            return segments, start
        if marker == _EOI:
            raise NotAJpegError("damaged JPEG (no image data before its end marker)")
        if marker in _STANDALONE:
            segments.append((marker, data[start:pos]))
            continue
        if pos + 2 > len(data):
            raise NotAJpegError("damaged JPEG header (a segment is cut short)")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > len(data):
            raise NotAJpegError("damaged JPEG header (a segment is cut short)")
        pos += length
        segments.append((marker, data[start:pos]))


def _payload(segment: bytes) -> bytes:
    return segment[4:]  # after FF, the marker and the 2-byte length


def _is_xmp(marker: int, segment: bytes) -> bool:
    return marker == _APP1 and _payload(segment).startswith((XMP_HEADER, EXTENDED_XMP_HEADER))


def app1_segment(packet: bytes) -> bytes:
    """The APP1 segment that holds `packet`; ValueError when it does not fit one segment."""
    payload = XMP_HEADER + packet
    if len(payload) > MAX_SEGMENT_PAYLOAD:
        raise ValueError(f"an XMP packet of {len(packet)} bytes does not fit one JPEG segment")
    return b"\xff" + bytes([_APP1]) + (len(payload) + 2).to_bytes(2, "big") + payload


def embed_in_jpeg(data: bytes, packet: bytes) -> bytes:
    """`data` (a JPEG) with `packet` as its XMP: after SOI and the JFIF (APP0) and Exif (APP1)
    segments that lead the file, in place of any XMP it had (extended XMP included). Every byte
    from the start of scan on is the original's. NotAJpegError for anything else."""
    segments, scan_start = _segments(data)
    lead = 0
    while lead < len(segments) and (
        segments[lead][0] == _APP0
        or (segments[lead][0] == _APP1 and _payload(segments[lead][1]).startswith(EXIF_HEADER))
    ):
        lead += 1
    kept_after = [seg for marker, seg in segments[lead:] if not _is_xmp(marker, seg)]
    head = [_SOI, *(seg for _, seg in segments[:lead]), app1_segment(packet), *kept_after]
    return b"".join(head) + data[scan_start:]


def sidecar_path(image_file: Path) -> Path:
    """Where the XMP of a file that cannot hold it goes: "name__id.png" -> "name__id.xmp"."""
    return image_file.with_suffix(".xmp")
