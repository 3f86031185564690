"""Where an image came from and how to shoot it again: the image -> shoot index, the details'
configuration block, the "Avoid: …" line from the rejects' reasons and the regenerate request;
and the library's filter to one shoot's images."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from qamera_desktop.api.records import AiModel, Image, Preset, Scenery, ShootReceipt
from qamera_desktop.api.shoot_request import MAX_COUNT, ShootRequest
from qamera_desktop.core.image_library import IdFilter, ImageLibrary
from qamera_desktop.core.review import Flag, FlagFilter, RejectReason, Review, ReviewFilter
from qamera_desktop.core.shoot_lineage import (
    avoid_direction,
    catalogue_names,
    config_text,
    regenerate_request,
    shoot_index,
)
from qamera_desktop.core.shoots import Shoot, ShootState

T0 = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
R = RejectReason


def shoot(ids: tuple[str, ...], local_id: str = "s1", minutes: int = 0, **request: object) -> Shoot:
    return Shoot(
        local_id=local_id,
        account="acct",
        request=ShootRequest("prod_1", count=len(ids) or 1, **request),  # type: ignore[arg-type]
        product_name="Stoneware Mug",
        state=ShootState.FINISHED,
        created_at=T0 + timedelta(minutes=minutes),
        receipt=ShootReceipt(ids, "batch_1", "order_1", "res_1", 3.0 * len(ids)),
    )


def reject(*reasons: RejectReason) -> Review:
    return Review(Flag.REJECT, reasons=reasons)


def test_the_index_maps_each_created_image_to_its_shoot_newer_winning() -> None:
    old = shoot(("a", "b"), "old")
    new = shoot(("b", "c"), "new", minutes=5)
    index = shoot_index([new, old])
    assert {i: s.local_id for i, s in index.items()} == {"a": "old", "b": "new", "c": "new"}
    assert shoot_index([]) == {}


def test_the_configuration_block_names_every_part_the_request_has() -> None:
    full = shoot(
        ("a", "b", "c"),
        model_id="model_ava",
        scenery_id="scn_loft",
        preset_id="pre_soft",
        industry="Homeware",
        suggestions="on a wooden table",
    )
    date = full.created_at.astimezone().strftime("%Y-%m-%d")
    assert config_text(full) == (
        f"Shoot: Stoneware Mug, 3 images, {date}; model model_ava; scenery scn_loft; "
        "preset pre_soft; industry Homeware; direction: on a wooden table"
    )
    bare = replace(shoot(("a",)), product_name=None)
    assert config_text(bare) == f"Shoot: prod_1, 1 image, {date}"


def test_the_configuration_block_shows_names_where_known_and_ids_elsewhere() -> None:
    full = shoot(
        ("a", "b"),
        model_id="model_ava",
        scenery_id="scn_loft",
        preset_id="pre_soft",
        industry="Homeware",
    )
    date = full.created_at.astimezone().strftime("%Y-%m-%d")
    names = {"model_ava": "Ava", "scn_loft": "Marble kitchen", "pre_soft": "Soft daylight"}
    assert config_text(full, names) == (
        f"Shoot: Stoneware Mug, 2 images, {date}; model Ava; scenery Marble kitchen; "
        "preset Soft daylight; industry Homeware"
    )
    # a name not in the catalogue (deleted since, or not loaded yet): its id
    assert config_text(full, {"model_ava": "Ava"}) == (
        f"Shoot: Stoneware Mug, 2 images, {date}; model Ava; scenery scn_loft; "
        "preset pre_soft; industry Homeware"
    )
    assert config_text(full, {}) == config_text(full)
    # the industry is the request's own words, never looked up
    assert "industry Homeware" in config_text(full, {"Homeware": "something else"})


def test_catalogue_names_map_the_ids_of_models_sceneries_and_presets() -> None:
    models = [
        AiModel("model_ava", "Ava", None, "DONE", T0),
        AiModel("model_x", "", None, "DONE", T0),
    ]
    sceneries = [Scenery("scn_loft", "Marble kitchen", None, "DONE", T0)]
    presets = [Preset("pre_soft", "Soft daylight")]
    assert catalogue_names(models, sceneries, presets) == {
        "model_ava": "Ava",
        "scn_loft": "Marble kitchen",
        "pre_soft": "Soft daylight",
    }  # a record without a name is left out: its id is shown
    assert catalogue_names() == {}


def test_avoid_names_the_most_frequent_reasons_first() -> None:
    reasons = [R.WRONG_VIEW, R.GARBLED_TEXT, R.GARBLED_TEXT, R.LIGHTING, R.OTHER, R.OTHER]
    assert avoid_direction(reasons) == (
        "Avoid: garbled text or logo on the product; wrong side or view; lighting."
    )
    assert avoid_direction([]) == ""
    assert avoid_direction([R.OTHER]) == ""  # nothing to tell the generator


def test_regenerate_asks_for_as_many_images_as_rejects_with_the_avoid_line() -> None:
    s = shoot(("a", "b", "c", "d", "e"), suggestions="on a wooden table")
    reviews = {
        "a": reject(R.WRONG_VIEW),
        "b": reject(R.GARBLED_TEXT, R.WRONG_VIEW),
        "c": reject(R.GARBLED_TEXT),
        "d": Review(Flag.PICK),
        "zz": reject(R.ANATOMY),  # another shoot's
    }
    request = regenerate_request(s, reviews)
    assert request is not None
    assert request.count == 3
    assert request.product_id == "prod_1"
    assert request.suggestions == (
        "on a wooden table\nAvoid: wrong side or view; garbled text or logo on the product."
    )
    assert request.validate() == request


def test_regenerate_without_reasons_or_rejects() -> None:
    s = shoot(("a", "b"))
    plain = regenerate_request(s, {"a": reject()})
    assert plain is not None
    assert (plain.count, plain.suggestions) == (1, None)
    assert regenerate_request(s, {"a": Review(Flag.PICK)}) is None
    many = shoot(tuple(f"i{n}" for n in range(25)))
    capped = regenerate_request(many, {f"i{n}": reject() for n in range(25)})
    assert capped is not None
    assert capped.count == MAX_COUNT


class _Account:
    """An account's server, as the library sees it (never asked here)."""

    async def list_images(self, *, status_filter: str, product_id: str | None) -> list[Image]:
        raise AssertionError("not asked in this test")


def img(i: int) -> Image:
    return Image(
        id=f"img_{i:02d}",
        name=f"Shot {i}",
        thumbnail=None,
        status="DONE",
        created_at=T0 + timedelta(minutes=i),
    )


def test_the_library_shows_only_a_shoots_images_beside_search_and_review_filter() -> None:
    library = ImageLibrary()
    library.replace_listing(library.server_filter, [img(i) for i in range(6)])
    every = [i.id for i in library.images]
    assert len(every) == 6
    library.set_id_filter(IdFilter(frozenset({"img_01", "img_03", "img_04"}), "Mug"))
    assert [i.id for i in library.images] == ["img_04", "img_03", "img_01"]
    assert library.id_filter is not None
    assert library.id_filter.label == "Mug"
    library.set_search("Shot 3")
    assert [i.id for i in library.images] == ["img_03"]
    library.set_search("")
    library.set_reviews({"img_01": Review(Flag.REJECT)})
    library.set_review_filter(ReviewFilter(FlagFilter.REJECTS))
    assert [i.id for i in library.images] == ["img_01"]
    # a decision on an image outside the shoot does not bring it in
    library.update_reviews({"img_05": Review(Flag.REJECT)})
    assert [i.id for i in library.images] == ["img_01"]
    library.set_review_filter(ReviewFilter())
    library.set_id_filter(None)
    assert [i.id for i in library.images] == every
    library.set_source(_Account())
    library.set_id_filter(IdFilter(frozenset({"img_01"}), "Mug"))
    library.set_source(_Account())  # another account: not its shoot
    assert library.id_filter is None
