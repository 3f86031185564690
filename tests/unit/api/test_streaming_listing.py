"""Listings are decoded item by item; the answer must equal the whole-body decode for any input."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qamera_desktop.api.errors import ProtocolError
from qamera_desktop.api.parsing import (
    decode_json,
    decode_listing,
    parse_body,
    parse_image,
    parse_images,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
items = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=6)},
    optional={
        "name": st.text(max_size=8) | st.none() | st.integers(),
        "status": st.sampled_from(["DONE", "QUEUED", "FAILED", "weird"]) | st.none(),
        "thumbnail": st.sampled_from(["http://h/x.jpg", "ftp://x", "http://[::1"]),
        "createdAt": st.sampled_from(["2026-03-20T16:00:00.000Z", "nope"]),
        "voting": st.sampled_from(["APPROVED", None]),
        "extra": json_values,
    },
)
listings = st.fixed_dictionaries(
    {"images": st.lists(items | json_values, max_size=5)},
    optional={"count": st.integers(), "other": json_values},
)


def whole(body: str):
    try:
        return ("ok", parse_images(decode_json(body)))
    except ProtocolError as exc:
        return ("error", str(exc))


def streamed(body: str):
    try:
        return ("ok", decode_listing(body, "images", parse_image))
    except ProtocolError as exc:
        return ("error", str(exc))


@given(listings | json_values, st.sampled_from([None, 0, 2]))
def test_streamed_equals_whole_body_decode(value, indent):
    body = json.dumps(value, indent=indent)
    assert streamed(body) == whole(body)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "{",
        '{"images": [',
        '{"images": [{"id": "a"},]}',
        '{"images": [{"id": "a"}] x',
        '{"images": {"id": "a"}}',
        '{"images": [{"id": "a"}], "images": "no"}',
        '{"images": "no", "images": [{"id": "a"}]}',
        '{"count": 1}',
        "{}",
        "[]",
        '{"images": [{"id": 5}]}',
        '{"images":[]}',
        ' \n{ "images" : [ {"id":"a"} , {"id":"b"} ] , "count" : 2 } \n',
        b"\xff\xfe",
    ],
)
def test_odd_bodies_answer_like_the_whole_body_decode(body):
    try:
        expected = ("ok", parse_images(decode_json(body)))
    except ProtocolError as exc:
        expected = ("error", str(exc))
    try:
        got = ("ok", decode_listing(body, "images", parse_image))
    except ProtocolError as exc:
        got = ("error", str(exc))
    assert got == expected


def test_parse_body_streams_listings():
    body = json.dumps({"images": [{"id": f"img_{i}", "status": "DONE"} for i in range(3)]})
    images = parse_body(body.encode(), parse_images)
    assert [i.id for i in images] == ["img_0", "img_1", "img_2"]


def test_gc_pause_nests_and_restores(monkeypatch):
    import gc
    import threading

    from qamera_desktop.api.parsing import gc_paused

    assert gc.isenabled()
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)  # overlapping, not nested: the last one out restores
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()
    with gc_paused(False):
        assert gc.isenabled()

    seen = []
    body = json.dumps({"images": [{"id": f"i{n}"} for n in range(30_000)]}).encode()
    monkeypatch.setattr("qamera_desktop.api.parsing.GC_PAUSE_FROM_BYTES", 1000)

    def item(value, where):
        seen.append(gc.isenabled())
        return parse_image(value, where)

    worker = threading.Thread(target=decode_listing, args=(body, "images", item))
    worker.start()
    worker.join()
    assert seen
    assert not any(seen)  # a big listing is built with the collector paused
    assert gc.isenabled()
