"""ShootRequest: validation, the register-ideas body, and reading a body back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qamera_desktop.api import ShootRequest, ValidationError


def test_minimal_body_leaves_every_optional_field_out():
    assert ShootRequest("prod_1").to_body() == {
        "config": {"product": {"id": "prod_1"}},
        "count": 10,
    }


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("model_id", "model_xyz", {"model": {"id": "model_xyz"}}),
        ("scenery_id", "scenery_001", {"scenery": {"id": "scenery_001"}}),
        ("preset_id", "preset_9", {"preset": {"id": "preset_9"}}),
        ("industry", "fashion", {"industry": "fashion"}),
        ("suggestions", "Outdoor, natural light", {"suggestions": "Outdoor, natural light"}),
        ("model_id", "  model_xyz \n", {"model": {"id": "model_xyz"}}),
        ("suggestions", "\t line one\nline two  ", {"suggestions": "line one\nline two"}),
    ],
)
def test_each_optional_field_is_sent_stripped_when_given(field, value, expected):
    body = ShootRequest("prod_1", **{field: value}).to_body()
    assert body["config"] == {"product": {"id": "prod_1"}, **expected}


@pytest.mark.parametrize(
    "field", ["model_id", "scenery_id", "preset_id", "industry", "suggestions"]
)
@pytest.mark.parametrize("blank", [None, "", "   ", "\n\t"])
def test_blank_optional_fields_are_left_out(field, blank):
    body = ShootRequest("prod_1", **{field: blank}).to_body()
    assert body["config"] == {"product": {"id": "prod_1"}}
    assert None not in body["config"].values()


def test_product_id_is_stripped():
    assert ShootRequest("  prod_1 ").to_body()["config"]["product"] == {"id": "prod_1"}


@pytest.mark.parametrize("count", [1, 7, 20])
def test_valid_counts(count):
    assert ShootRequest("prod_1", count=count).to_body()["count"] == count


@pytest.mark.parametrize(
    ("count", "fragment"),
    [
        (0, "from 1 to 20, not 0"),
        (21, "from 1 to 20, not 21"),
        (-5, "from 1 to 20, not -5"),
        (True, "whole number"),
        (2.5, "whole number"),
        ("10", "whole number"),
        (None, "whole number"),
    ],
)
def test_invalid_counts(count, fragment):
    with pytest.raises(ValidationError, match=fragment):
        ShootRequest("prod_1", count=count).validate()


@pytest.mark.parametrize("product_id", ["", "   ", None, 42])
def test_product_is_required(product_id):
    with pytest.raises(ValidationError, match="choose a product"):
        ShootRequest(product_id).to_body()


@pytest.mark.parametrize(
    "field", ["model_id", "scenery_id", "preset_id", "industry", "suggestions"]
)
def test_optional_fields_must_be_text(field):
    with pytest.raises(ValidationError, match="must be text"):
        ShootRequest("prod_1", **{field: 12}).validate()


def test_every_problem_is_listed_in_one_readable_message():
    with pytest.raises(ValidationError) as caught:
        ShootRequest("", model_id=3, count=99).validate()
    message = str(caught.value)
    assert message.startswith("The shoot cannot be started: ")
    assert "choose a product" in message
    assert "model id must be text" in message
    assert "not 99" in message
    assert caught.value.status is None


def test_validate_returns_the_normalized_request():
    request = ShootRequest(" p ", model_id="", scenery_id=" s ", suggestions="   ", count=3)
    assert request.validate() == ShootRequest("p", scenery_id="s", count=3)


def test_from_body_reads_the_seed_example():
    body = {
        "config": {
            "product": {"id": "prod_abc123"},
            "model": {"id": "model_xyz"},
            "scenery": {"id": "scenery_001"},
            "industry": "fashion",
            "suggestions": "Outdoor urban setting, natural lighting",
        },
        "count": 10,
    }
    request = ShootRequest.from_body(body)
    assert request == ShootRequest(
        "prod_abc123",
        model_id="model_xyz",
        scenery_id="scenery_001",
        industry="fashion",
        suggestions="Outdoor urban setting, natural lighting",
    )
    assert request.to_body() == body


def test_from_body_defaults_the_count_and_ignores_extras():
    request = ShootRequest.from_body({"config": {"product": {"id": "p"}, "x": 1}, "y": 2})
    assert request == ShootRequest("p", count=10)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([], "not a JSON object"),
        ({}, "no 'config' object"),
        ({"config": "p"}, "no 'config' object"),
        ({"config": {"product": "p"}}, "'config.product' is not an object"),
        ({"config": {"product": {"id": "p"}, "model": ["m"]}}, "'config.model' is not an object"),
        ({"config": {"product": {}}}, "choose a product"),
        ({"config": {"product": {"id": "p"}, "preset": {"id": 5}}}, "preset id must be text"),
        ({"config": {"product": {"id": "p"}}, "count": 50}, "not 50"),
        ({"config": {"product": {"id": "p"}, "industry": ["a"]}}, "industry must be text"),
    ],
)
def test_from_body_refuses_other_shapes(body, fragment):
    with pytest.raises(ValidationError, match=fragment):
        ShootRequest.from_body(body)


optional_text = st.one_of(st.none(), st.text(max_size=30))


@given(
    product_id=st.text(min_size=1, max_size=20).filter(lambda s: s.strip()),
    model_id=optional_text,
    scenery_id=optional_text,
    preset_id=optional_text,
    industry=optional_text,
    suggestions=optional_text,
    count=st.integers(min_value=1, max_value=20),
)
def test_body_round_trip(product_id, model_id, scenery_id, preset_id, industry, suggestions, count):
    request = ShootRequest(
        product_id, model_id, scenery_id, preset_id, industry, suggestions, count
    )
    body = request.to_body()
    config = body["config"]
    assert all(value not in (None, "") for value in config.values())
    assert all(
        isinstance(ref["id"], str) and ref["id"]
        for ref in (config.get(k) for k in ("product", "model", "scenery", "preset"))
        if ref
    )
    assert ShootRequest.from_body(body) == request.validate()
    assert ShootRequest.from_body(body).to_body() == body
