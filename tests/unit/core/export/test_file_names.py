"""File names of exported images: valid on Windows, macOS and Linux, unique per image id, stable
from one export to the next; extensions from the bytes, the Content-Type or the URL."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from qamera_desktop.core.export.file_names import (
    MAX_NAME_BYTES,
    file_stem,
    is_reserved_on_windows,
    safe_file_name,
    truncate_utf8,
)
from qamera_desktop.core.export.formats import extension_for, sniff

WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{d}" for p in ("COM", "LPT") for d in "0123456789¹²³"
}


def assert_valid_everywhere(file_name: str) -> None:
    """The rules of Windows (the strictest), Linux and macOS for one path component."""
    assert file_name, "empty"
    assert WINDOWS_FORBIDDEN.search(file_name) is None, file_name
    assert file_name not in (".", "..")
    assert not file_name.startswith((".", " ", "-")), file_name
    assert not file_name.endswith((".", " ")), file_name
    assert file_name.split(".", 1)[0].rstrip(" ").upper() not in WINDOWS_DEVICES, file_name
    assert len(file_name.encode("utf-8")) <= MAX_NAME_BYTES <= 255
    assert len(file_name.encode("utf-16-le")) // 2 <= 255  # NTFS counts UTF-16 units
    assert all(unicodedata.category(c) not in ("Cc", "Cs", "Zl", "Zp") for c in file_name)
    assert Path(file_name).name == file_name  # one component: no directory part at all


HOSTILE = [
    ("../x", "img_1"),
    ("..", "img_2"),
    ("../../etc/passwd", "img_3"),
    ("/etc/passwd", "img_4"),
    ("C:\\Windows\\system32", "img_5"),
    ("CON", "img_6"),
    ("aux.txt", "img_7"),
    ("LPT1", "img_8"),
    ("nul .tar.gz", "img_9"),
    ("COM¹", "img_10"),
    ("name with trailing dots...", "img_11"),
    ("   spaces around   ", "img_12"),
    ('what? <a|b> "quoted" *star*: yes', "img_13"),
    ("line\nbreak\ttab\x00nul\x7fdel", "img_14"),
    ("invoice\u202egpj.exe", "img_15"),  # right-to-left override: "invoiceexe.jpg" on screen
    ("zero\u200bwidth\ufeffbom", "img_16"),
    ("-rf", "img_17"),
    (".hidden", "img_18"),
    ("🎉 Launch 👩‍👩‍👧 Mug", "img_19"),
    ("ж" * 300, "img_20"),
    ("🎉" * 300, "img_21"),
    ("名前" * 150, "img_22"),
    ("e\u0301" * 200, "img_23"),  # decomposed accents: NFC makes them one character each
    ("", "img_24"),
    ("....", "img_25"),
    ("\x00\x01", "img_26"),
    ("ok", "CON"),  # a hostile id
    ("", "aux"),
    ("", "../../id"),
    ("", "a" * 300),
    ("lone \ud800 surrogate", "img_27"),
]


@pytest.mark.parametrize(("name", "image_id"), HOSTILE)
@pytest.mark.parametrize("extension", [".jpg", ".png", ".webp", "jpeg", ".weird extension!"])
def test_hostile_names_give_a_name_valid_on_every_os(
    name: str, image_id: str, extension: str
) -> None:
    file_name = safe_file_name(name, image_id, extension)
    assert_valid_everywhere(file_name)
    assert file_name.startswith(file_stem(name, image_id))


def test_a_plain_name_reads_as_itself_with_the_id() -> None:
    assert (
        safe_file_name("Fashion Shoot - White T-Shirt", "img_b6d6ae2a79dd", ".jpg")
        == "Fashion Shoot - White T-Shirt__img_b6d6ae2a79dd.jpg"
    )


def test_traversal_and_separators_stay_inside_the_folder(tmp_path: Path) -> None:
    for name in ("../x", "../../etc/passwd", "/etc/passwd", "a/../../b", "C:\\x\\..\\y"):
        target = (tmp_path / safe_file_name(name, "img_1", ".jpg")).resolve()
        assert target.parent == tmp_path.resolve()
    assert safe_file_name("../x", "img_1", ".jpg") == "_x__img_1.jpg"
    assert safe_file_name("/etc/passwd", "img_1", ".jpg") == "_etc_passwd__img_1.jpg"


def test_windows_device_names_are_defused() -> None:
    assert safe_file_name("", "CON", ".jpg") == "_CON.jpg"
    assert safe_file_name("aux.txt", "img_1", ".jpg") == "_aux.txt__img_1.jpg"
    assert safe_file_name("CON", "img_1", ".jpg") == "CON__img_1.jpg"  # "CON__img_1" is no device
    for name in ("CON", "con.txt", "Lpt1.tar.gz", "nul .x", "COM³"):
        assert is_reserved_on_windows(name), name
    for name in ("CONSOLE", "icon", "com10", "LPT", "x.con"):
        assert not is_reserved_on_windows(name), name


def test_direction_marks_and_control_characters_are_removed_but_emoji_sequences_kept() -> None:
    assert safe_file_name("invoice\u202egpj.exe", "i", ".jpg") == "invoicegpj.exe__i.jpg"
    assert safe_file_name("a\nb\tc\x00d", "i", ".jpg") == "a b cd__i.jpg"
    family = "👩\u200d👩\u200d👧"  # one emoji drawn from three, joined by ZWJ
    assert safe_file_name(family, "i", ".jpg") == f"{family}__i.jpg"


def test_the_length_cap_counts_utf8_bytes_and_never_cuts_a_character() -> None:
    for char in ("a", "ж", "名", "🎉"):
        name = char * 300
        file_name = safe_file_name(name, "img_1", ".jpg")
        assert len(file_name.encode("utf-8")) <= MAX_NAME_BYTES
        stem = file_name.removesuffix("__img_1.jpg")
        assert set(stem) == {char}, "cut inside a character, or lost"
        assert len(stem.encode()) > MAX_NAME_BYTES - 30  # the room is used, not wasted
    assert truncate_utf8("ж" * 10, 5) == "жж"  # 5 bytes hold two 2-byte characters, not 2.5
    assert truncate_utf8("🎉🎉", 7) == "🎉"
    assert truncate_utf8("short", 100) == "short"


def test_same_name_different_images_different_files() -> None:
    a = safe_file_name("Stoneware Mug", "img_a", ".jpg")
    b = safe_file_name("Stoneware Mug", "img_b", ".jpg")
    assert a != b
    # ids that clean to the same text still give two files (a hash of the id as it was)
    assert safe_file_name("x", "a/b", ".jpg") != safe_file_name("x", "a_b", ".jpg")
    assert safe_file_name("x", "a:b", ".jpg") != safe_file_name("x", "a?b", ".jpg")
    # long names cut to the same prefix stay apart by their ids
    long_name = "ж" * 300
    assert safe_file_name(long_name, "img_a", ".jpg") != safe_file_name(long_name, "img_b", ".jpg")


def test_the_same_image_gets_the_same_name_every_time_whatever_the_extension() -> None:
    first = safe_file_name("Mug / Blue", "img_1", ".jpg")
    assert safe_file_name("Mug / Blue", "img_1", ".jpg") == first
    long_name = "ж" * 300
    stems = {safe_file_name(long_name, "img_1", ext).rsplit(".", 1)[0] for ext in (".jpg", ".webp")}
    assert len(stems) == 1  # so an earlier export's file is found whatever its format


def test_an_empty_name_is_just_the_id() -> None:
    assert safe_file_name("", "img_42", ".png") == "img_42.png"
    assert safe_file_name("   ...  ", "img_42", ".png") == "img_42.png"


def test_extensions_are_cleaned() -> None:
    assert safe_file_name("x", "i", "PNG") == "x__i.png"
    assert safe_file_name("x", "i", ".weird extension!") == "x__i.jpg"
    assert safe_file_name("x", "i", "") == "x__i.jpg"


JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def test_extension_from_the_bytes_then_the_content_type_then_the_url() -> None:
    # what the bytes are wins over what the server says
    assert extension_for("image/png", "https://cdn/x.png", JPEG_HEAD) == ".jpg"
    assert extension_for("image/webp; charset=binary", "https://cdn/x.jpg") == ".webp"
    assert extension_for("application/octet-stream", "https://cdn/a/b.PNG?v=2") == ".png"
    assert extension_for(None, "https://cdn/a/b.jpeg") == ".jpg"
    assert extension_for(None, "https://cdn/a/b") == ".jpg"  # the fallback
    assert extension_for("text/html", None, b"<!doctype html>") == ".jpg"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (JPEG_HEAD, ".jpg"),
        (PNG_HEAD, ".png"),
        (b"GIF89a\x01\x00", ".gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ".webp"),
        (b"II*\x00\x08\x00\x00\x00", ".tif"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", ".avif"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", ".heic"),
    ],
)
def test_formats_are_recognised_by_their_first_bytes(head: bytes, expected: str) -> None:
    assert sniff(head) is not None
    assert extension_for(None, None, head) == expected


@pytest.mark.parametrize(
    "head", [b"", b"<!DOCTYPE html><html>", b'{"error": "nope"}', b"\xff\xd8", b"RIFF1234WAVE"]
)
def test_bodies_that_are_no_image_are_not_recognised(head: bytes) -> None:
    assert sniff(head) is None
