"""The msgspec fast path gives exactly the tolerant path's records, or refuses (None)."""

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qamera_desktop.api import fast_listing
from qamera_desktop.api.errors import ProtocolError
from qamera_desktop.api.fast_listing import decode_images, plainly_valid_urls
from qamera_desktop.api.parsing import (
    _HTTP_URL,
    decode_listing,
    parse_body,
    parse_image,
    parse_images,
)

TIMES = [
    "2026-03-20T16:00:00.000Z",
    "2026-03-20T16:00:00Z",
    "2026-03-20T18:00:00+02:00",
    "2026-03-20T16:00:00",  # no offset: UTC
    "2026-03-20t16:00:00.123456789z",
    "2026-03-20",  # ISO 8601 but not RFC 3339: the tolerant path reads it
    "0001-01-01T00:00:00+01:00",  # overflows when moved to UTC
    "nope",
]
URLS = [
    "http://127.0.0.1:8000/cdn/a.jpg",
    "https://cdn.example.com/b.jpg?size=256",
    "HTTPS://CDN.EXAMPLE.COM/c.jpg",
    "http://[::1]:8000/d.jpg",
    "https://cdn.example.com/e f.jpg",
    "https://cdn.example.com/[x].jpg",
    "https://",
    "ftp://cdn.example.com/g.jpg",
    "",
]
tricky_text = st.text(alphabet=st.sampled_from('ab }{,[]":\\\n\té'), max_size=12)
items = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "rec_1", "", "x}, {y"]) | tricky_text},
    optional={
        "name": tricky_text | st.none() | st.integers(),
        "status": st.sampled_from(["DONE", "QUEUED", "FAILED", "weird", None]),
        "thumbnail": st.sampled_from([*URLS, None, 5]),
        "createdAt": st.sampled_from([*TIMES, None]),
        "voting": st.sampled_from(["APPROVED", None, True]),
        "extra": st.lists(st.dictionaries(tricky_text, tricky_text, max_size=2), max_size=3),
    },
)
listings = st.fixed_dictionaries(
    {"images": st.lists(items, max_size=8)}, optional={"count": st.integers(0, 10**6)}
)


def tolerant(body: bytes):
    try:
        return ("ok", decode_listing(body, "images", parse_image))
    except ProtocolError as exc:
        return ("error", str(exc))


def fast(body: bytes):
    try:
        return ("ok", parse_body(body, parse_images))
    except ProtocolError as exc:
        return ("error", str(exc))


@given(listings, st.sampled_from([None, 0, 2]), st.sampled_from([8, 64, 1 << 20]))
@settings(max_examples=300)
def test_the_fast_path_agrees_with_the_tolerant_one(listing, indent, slice_bytes):
    body = json.dumps(listing, indent=indent, ensure_ascii=False).encode()
    saved = fast_listing.SLICE_BYTES
    fast_listing.SLICE_BYTES = slice_bytes  # small slices: many cuts, some inside strings
    try:
        assert fast(body) == tolerant(body)
        decoded = decode_images(body, _HTTP_URL)
        if decoded is not None:
            assert ("ok", decoded) == tolerant(body)
    finally:
        fast_listing.SLICE_BYTES = saved


def sandbox_like(n: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"img_{i:05d}",
            "name": f"Linen shirt {i}",
            "thumbnail": f"http://127.0.0.1:8000/cdn/thumbs/img_{i:05d}.jpg" if i % 7 else None,
            "status": ["DONE", "QUEUED", "PROCESSING", "FAILED"][i % 4],
            "createdAt": f"2026-03-{1 + i % 28:02d}T16:00:{i % 60:02d}.000Z",
            "voting": "APPROVED" if i % 3 == 0 else None,
            "productId": "prod_1",
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("indent", [None, 2])
def test_usual_listings_take_the_fast_path_in_many_slices(monkeypatch, indent):
    monkeypatch.setattr(fast_listing, "SLICE_BYTES", 1024)
    body = json.dumps({"images": sandbox_like(500), "count": 500}, indent=indent).encode()
    images = decode_images(body, _HTTP_URL)
    assert images is not None
    assert images == decode_listing(body, "images", parse_image)
    assert images[1].thumbnail == "http://127.0.0.1:8000/cdn/thumbs/img_00001.jpg"
    assert images[0].thumbnail is None
    assert images[0].created_at == datetime(2026, 3, 1, 16, 0, 0, tzinfo=UTC)
    assert images[3].voting == "APPROVED"


def test_offsets_and_naive_times_become_utc():
    listing = {
        "images": [
            {"id": "a", "createdAt": "2026-03-20T18:00:00+02:00"},
            {"id": "b", "createdAt": "2026-03-20T16:00:00"},
            {"id": "c"},
        ]
    }
    images = decode_images(json.dumps(listing).encode(), _HTTP_URL)
    assert images is not None
    assert [i.created_at for i in images] == [
        datetime(2026, 3, 20, 16, tzinfo=UTC),
        datetime(2026, 3, 20, 16, tzinfo=UTC),
        None,
    ]
    assert all(i.created_at is None or i.created_at.tzinfo is UTC for i in images)


def test_thumbnails_that_are_not_urls_become_none_on_the_fast_path():
    listing = {"images": [{"id": str(n), "thumbnail": url} for n, url in enumerate(URLS)]}
    images = decode_images(json.dumps(listing).encode(), _HTTP_URL)
    assert images is not None
    assert [i.thumbnail for i in images] == [
        "http://127.0.0.1:8000/cdn/a.jpg",
        "https://cdn.example.com/b.jpg?size=256",
        "HTTPS://CDN.EXAMPLE.COM/c.jpg",
        "http://[::1]:8000/d.jpg",
        None,
        "https://cdn.example.com/[x].jpg",
        None,
        None,
        None,
    ]


@pytest.mark.parametrize(
    "body",
    [
        b'{"count": 1, "images": [{"id": "a"}]}',  # another member first
        b'{"images": [{"id": "a"}], "next": null}',  # another member after
        b'{"images": [{"id": "a"}], "images": [{"id": "b"}]}',
        b'{"images": [{"id": "a", "name": null}]}',  # the tolerant path reads ""
        b'{"images": [{"id": "a", "voting": 5}]}',  # the tolerant path reads None
        b'{"images": [{"id": ""}]}',
        b'{"images": [{"id": "a", "createdAt": "2026-03-20"}]}',
        b'{"images": [{"id": "\xff"}]}',
        b'{"images": [{"id": "a"},]}',
        b'{"images": [{"id": "a"}] ',
        b'["images"]',
        b"",
    ],
)
def test_unusual_bodies_are_refused_and_answered_by_the_tolerant_path(body):
    assert decode_images(body, _HTTP_URL) is None
    assert fast(body) == tolerant(body)


def test_a_cut_inside_a_string_is_refused_not_misread(monkeypatch):
    monkeypatch.setattr(fast_listing, "SLICE_BYTES", 4)
    body = b'{"images": [{"id": "a", "name": "x}, {\\"id\\": \\"evil"}, {"id": "b"}]}'
    assert fast_listing._slices(body, 12, len(body) - 2)[0][1] < body.index(b', {"id": "b"')
    assert decode_images(body, _HTTP_URL) is None
    assert [i.id for i in parse_body(body, parse_images)] == ["a", "b"]


def test_empty_listings():
    assert decode_images(b'{"images": []}', _HTTP_URL) == []
    assert decode_images(b' { "images" : [ \n ] , "count" : 0 } \n', _HTTP_URL) == []


url_parts = st.text(alphabet=st.sampled_from("hHtps:/?#[]@.a1 \n\x00\x7fé%"), max_size=14)


@given(
    st.lists(
        st.sampled_from(["http://", "https://", "HTTP://", "ftp://", ""]).flatmap(
            lambda scheme: url_parts.map(lambda rest: scheme + rest)
        ),
        max_size=6,
    )
)
def test_plainly_valid_urls_never_vouches_for_a_bad_one(urls):
    if plainly_valid_urls(urls):
        assert all(_HTTP_URL.fullmatch(u) for u in urls)


def test_plainly_valid_urls_accepts_a_usual_list():
    urls = [f"http://127.0.0.1:8000/cdn/thumbs/img_{i}.jpg?v=2" for i in range(100)]
    assert plainly_valid_urls(urls)
    assert not plainly_valid_urls([*urls, "http://127.0.0.1:8000/cdn/a b.jpg"])
    assert not plainly_valid_urls([*urls, "https://other.example/x.jpg"])  # no shared origin


def test_nesting_deeper_than_msgspec_goes_is_refused_not_raised():
    deep = b"[" * 2000 + b"]" * 2000
    body = b'{"images": [{"id": "a", "x": ' + deep + b"}]}"
    assert decode_images(body, _HTTP_URL) is None
    assert fast(body) == tolerant(body)


def test_text_that_is_not_utf8_in_a_skipped_field_is_refused():
    body = b'{"images": [{"id": "a", "x": "\xff\xfe"}]}'
    assert decode_images(body, _HTTP_URL) is None
    assert fast(body) == tolerant(body)
    assert fast(body)[0] == "error"
