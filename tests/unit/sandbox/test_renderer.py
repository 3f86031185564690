"""The renderer: deterministic per record id, the promised size, every shape and scenery."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageStat

from qamera_desktop.sandbox import renderer
from qamera_desktop.sandbox.renderer import ModelLook, ProductLook, SceneryLook, ShotSpec
from qamera_desktop.sandbox.shapes import PRODUCT_SHAPES

MODEL = ModelLook("Ava", "#e0b9a0", "#3a2a20", long_hair=True)


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image


def test_same_id_same_bytes_other_id_other_picture() -> None:
    spec = ShotSpec("img_one", ProductLook("Tote", "tote", "#8b5a2b"), SceneryLook("Loft", "loft"))
    first = renderer.render_shot(spec)
    assert renderer.render_shot(spec) == first
    other = renderer.render_shot(ShotSpec("img_two", spec.product, spec.scenery))
    assert other != first


@pytest.mark.parametrize("shape", PRODUCT_SHAPES)
@pytest.mark.parametrize("style", renderer.SCENERY_STYLES)
def test_every_shape_on_every_scenery(shape: str, style: str) -> None:
    spec = ShotSpec(
        f"img_{shape}_{style}",
        ProductLook(shape.title(), shape, "#3d5a80"),
        SceneryLook(style.title(), style),
        MODEL if shape in ("tshirt", "tote") else None,
    )
    image = _open(renderer.render_shot(spec))
    assert image.size == renderer.THUMB_SIZE == (410, 512)
    assert image.mode == "RGB"
    assert max(ImageStat.Stat(image).stddev) > 8  # a picture, not a flat fill


def test_the_product_colour_shows() -> None:
    red = ProductLook("Shoe", "shoe", "#e8503a")
    spec = ShotSpec("img_red", red, SceneryLook("Studio", "studio"))
    r, g, b = _open(renderer.render_shot(spec)).convert("RGB").resize((1, 1)).getpixel((0, 0))  # type: ignore[misc]
    assert r > g + 10
    assert r > b + 10


def test_no_scenery_and_unknown_shape_still_render() -> None:
    spec = ShotSpec("img_x", ProductLook("Thing", "teapot", "#123456"))
    assert _open(renderer.render_shot(spec)).size == (410, 512)


def test_catalogue_thumbnails_and_placeholders() -> None:
    for data in (
        renderer.render_product_thumb("prod_1", ProductLook("Vase", "vase", "#7fa39a")),
        renderer.render_model_thumb("model_1", MODEL),
        renderer.render_scenery_thumb("scenery_1", SceneryLook("Beach", "beach")),
        renderer.render_placeholder("pending"),
        renderer.render_placeholder("failed"),
    ):
        assert _open(data).size == (410, 512)
    assert renderer.render_placeholder("pending") != renderer.render_placeholder("failed")
