"""The parsers: tolerant of what is not promised, and never raising anything but ProtocolError."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qamera_desktop.api import AiModel, Image, Preset, Product, ProtocolError, Scenery
from qamera_desktop.api.parsing import (
    decode_json,
    error_text,
    http_url_or_none,
    parse_ai_models,
    parse_body,
    parse_images,
    parse_presets,
    parse_products,
    parse_receipt,
    parse_sceneries,
    parse_timestamp,
)

LISTINGS = [
    ("images", parse_images, Image),
    ("products", parse_products, Product),
    ("models", parse_ai_models, AiModel),
    ("sceneries", parse_sceneries, Scenery),
    ("presets", parse_presets, Preset),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=10,
)
field_values = json_values | st.sampled_from(
    [
        "DONE",
        "UPLOADED",
        "APPROVED",
        "2026-03-20T16:00:00.000Z",
        "https://cdn.example.com/x.jpg",
        "http://[bad",
        "0001-01-01T00:00:00+01:00",
        10**400,
    ]
)
ITEM_FIELDS = [
    "id",
    "name",
    "thumbnail",
    "status",
    "voting",
    "createdAt",
    "guidelines",
    "quantityGuidelines",
    "qualityGuidelines",
]
items = (
    st.fixed_dictionaries({}, optional={name: field_values for name in ITEM_FIELDS}) | json_values
)


# -- unit ---------------------------------------------------------------------------------------


def test_documented_image_item():
    data = {
        "images": [
            {
                "id": "img_abc123",
                "name": "Fashion Shoot - White T-Shirt",
                "thumbnail": "https://cdn.example.com/images/thumb_abc123.jpg",
                "status": "DONE",
                "voting": "APPROVED",
                "createdAt": "2026-03-20T16:00:00.000Z",
            }
        ],
        "count": 1,
    }
    (image,) = parse_images(data)
    assert image == Image(
        id="img_abc123",
        name="Fashion Shoot - White T-Shirt",
        thumbnail="https://cdn.example.com/images/thumb_abc123.jpg",
        status="DONE",
        created_at=datetime(2026, 3, 20, 16, 0, tzinfo=UTC),
        voting="APPROVED",
    )
    assert image.is_done
    assert image.is_approved


def test_products_models_sceneries():
    item = {"id": "x", "name": "X", "status": "UPLOADED", "thumbnail": "https://c.test/x.png"}
    assert parse_products({"products": [item]}) == [
        Product("x", "X", "https://c.test/x.png", "UPLOADED", None)
    ]
    assert parse_ai_models({"models": [{**item, "voting": "NOT_VOTED"}]})[0].voting == "NOT_VOTED"
    assert parse_sceneries({"sceneries": [item]})[0].status == "UPLOADED"


def test_presets():
    data = {
        "presets": [
            {
                "id": "pre_1",
                "name": "Summer",
                "guidelines": "Bright",
                "quantityGuidelines": "Ten",
                "qualityGuidelines": None,
                "createdAt": "2026-01-02T03:04:05Z",
                "other": 1,
            },
            {"id": "pre_2"},
        ],
        "count": 5,
    }
    first, second = parse_presets(data)
    assert first == Preset(
        "pre_1",
        "Summer",
        guidelines="Bright",
        quantity_guidelines="Ten",
        quality_guidelines=None,
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert second == Preset("pre_2", "")


def test_non_json_python_values_are_named_too():
    with pytest.raises(ProtocolError, match="should be an object, not tuple"):
        parse_images(("images",))


def test_wrong_listing_key_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="'products' is missing"):
        parse_products({"images": []})


def test_receipt():
    receipt = parse_receipt(
        {"createdRecordIds": ["a", "b"], "creditsReserved": 2.5, "batchId": "b1", "x": 1}
    )
    assert receipt.created_record_ids == ("a", "b")
    assert receipt.credits_reserved == 2.5
    assert receipt.batch_id == "b1"
    assert receipt.order_id is None
    assert parse_receipt({"createdRecordIds": [], "creditsReserved": True}).credits_reserved is None
    assert (
        parse_receipt({"createdRecordIds": [], "creditsReserved": 10**400}).credits_reserved is None
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-20T16:00:00.000Z", datetime(2026, 3, 20, 16, tzinfo=UTC)),
        ("2026-03-20T16:00:00Z", datetime(2026, 3, 20, 16, tzinfo=UTC)),
        ("2026-03-20T18:00:00.000+02:00", datetime(2026, 3, 20, 16, tzinfo=UTC)),
        ("2026-03-20T16:00:00", datetime(2026, 3, 20, 16, tzinfo=UTC)),  # no offset: UTC
        ("2026-03-20", datetime(2026, 3, 20, tzinfo=UTC)),
        ("yesterday", None),
        ("2026-13-45T00:00:00Z", None),
        ("0001-01-01T00:00:00+01:00", None),  # would overflow when moved to UTC
        ("", None),
        ("2026-03-20T16:00:00.000Z" + " " * 100, None),
        (1711000000, None),
        (None, None),
        (["2026-03-20"], None),
    ],
)
def test_timestamps(value, expected):
    parsed = parse_timestamp(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None
        assert parsed.utcoffset() == timedelta(0)


def test_timestamp_is_aware_even_for_other_offsets():
    parsed = parse_timestamp("2026-03-20T16:00:00-05:00")
    assert parsed == datetime(2026, 3, 20, 16, tzinfo=timezone(timedelta(hours=-5)))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://cdn.example.com/a.jpg", "https://cdn.example.com/a.jpg"),
        ("http://127.0.0.1:8000/t/1.png", "http://127.0.0.1:8000/t/1.png"),
        ("HTTPS://CDN.EXAMPLE.COM/a.jpg", "HTTPS://CDN.EXAMPLE.COM/a.jpg"),
        ("file:///etc/passwd", None),
        ("javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("//cdn.example.com/a.jpg", None),
        ("/relative/a.jpg", None),
        ("https://", None),
        ("https://cdn.example.com/a b.jpg", None),
        ("https://cdn.example.com/a\n.jpg", None),
        ("http://[::1", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_thumbnail_urls(value, expected):
    assert http_url_or_none(value) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"error": "Product not found."}', "Product not found."),
        ('{"error": "Texte accentué."}', "Texte accentué."),
        (b'{"error": "   "}', None),
        (b"{}", None),
        (b"[1]", None),
        (b"nope", None),
    ],
)
def test_error_text(body, expected):
    assert error_text(body) == expected


def test_decode_json_accepts_bytearray_and_str():
    assert decode_json(bytearray(b'{"a": 1}')) == {"a": 1}
    assert parse_body('{"images": []}', parse_images) == []


# -- properties ---------------------------------------------------------------------------------


def _records_or_protocol_error(parse, data, record_type):
    try:
        records = parse(data)
    except ProtocolError as error:
        message = str(error)
        assert message.startswith("The Qamera service sent an unexpected answer")
        return None
    assert isinstance(records, list)
    assert all(isinstance(record, record_type) for record in records)
    return records


@settings(max_examples=100, deadline=None)
@given(data=json_values)
def test_any_json_value_gives_records_or_protocol_error(data):
    for _, parse, record_type in LISTINGS:
        _records_or_protocol_error(parse, data, record_type)
    with contextlib.suppress(ProtocolError):
        parse_receipt(data)


@settings(max_examples=100, deadline=None)
@given(listing=st.lists(items, max_size=4), extra=json_values)
def test_items_with_random_field_types(listing, extra):
    for key, parse, record_type in LISTINGS:
        records = _records_or_protocol_error(
            parse, {key: listing, "count": extra, "extra": extra}, record_type
        )
        if records is not None:
            assert [record.id for record in records] == [item["id"] for item in listing]
            for record in records:
                assert isinstance(record.id, str)
                assert record.id
                assert isinstance(record.name, str)
                created_at = record.created_at
                assert created_at is None or created_at.tzinfo is not None
                thumbnail = getattr(record, "thumbnail", None)
                assert thumbnail is None or thumbnail.lower().startswith("http")


@settings(max_examples=100, deadline=None)
@given(
    receipt=st.fixed_dictionaries(
        {},
        optional={
            name: field_values | st.lists(field_values, max_size=3)
            for name in [
                "createdRecordIds",
                "batchId",
                "orderId",
                "reservationId",
                "creditsReserved",
            ]
        },
    )
)
def test_receipts_with_random_field_types(receipt):
    try:
        parsed = parse_receipt(receipt)
    except ProtocolError:
        return
    assert all(isinstance(record_id, str) and record_id for record_id in parsed.created_record_ids)
    assert parsed.credits_reserved is None or isinstance(parsed.credits_reserved, float)


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_bytes_give_records_or_protocol_error(body):
    for _, parse, record_type in LISTINGS:
        try:
            records = parse_body(body, parse)
        except ProtocolError:
            continue
        assert all(isinstance(record, record_type) for record in records)
    assert error_text(body) is None or isinstance(error_text(body), str)


@given(
    listing=st.lists(
        st.fixed_dictionaries(
            {
                "id": st.text(min_size=1, max_size=10),
                "name": st.text(max_size=10),
                "status": st.sampled_from(["DONE", "QUEUED", "PROCESSING", "FAILED", "weird"]),
            },
            optional={"voting": st.none() | st.text(max_size=8)},
        ),
        max_size=10,
    )
)
def test_well_formed_listings_always_parse(listing):
    images = parse_images({"images": listing, "count": len(listing)})
    assert [(i.id, i.name, i.status, i.voting) for i in images] == [
        (item["id"], item["name"], item["status"], item.get("voting")) for item in listing
    ]
