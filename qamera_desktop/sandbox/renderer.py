"""Product-shot JPEGs drawn with Pillow: the sandbox's stand-in for Qamera's generated images.

A shot is the product's silhouette in its colour, shaded by a key light, standing (or worn by a
faceless model) on the scenery's softly blurred backdrop, with a contact shadow, a vignette, film
grain and a small caption. Everything random comes from `random.Random(record_id)`, so a record id
always gives the same bytes. The output is a 4:5 portrait, 512 px on the long side.

All functions are pure and thread-safe (the server calls them from a thread pool).
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from qamera_desktop.sandbox import shapes

RGB = tuple[int, int, int]

THUMB_SIZE = (410, 512)
"""Width and height of every JPEG the sandbox serves."""
JPEG_QUALITY = 86
_SS = 2  # supersampling factor for crisp edges
_BG_SCALE = 4  # the backdrop is drawn at 1/4 size, blurred and enlarged: a shallow depth of field

SCENERY_STYLES = ("studio", "urban", "beach", "loft", "forest")


@dataclass(frozen=True, slots=True)
class ProductLook:
    name: str
    shape: str  # one of shapes.PRODUCT_SHAPES
    color: str  # "#rrggbb"


@dataclass(frozen=True, slots=True)
class SceneryLook:
    name: str
    style: str  # one of SCENERY_STYLES


@dataclass(frozen=True, slots=True)
class ModelLook:
    name: str
    skin: str  # "#rrggbb"
    hair: str  # "#rrggbb"
    long_hair: bool = False


@dataclass(frozen=True, slots=True)
class ShotSpec:
    """Everything a finished image shows."""

    record_id: str
    product: ProductLook
    scenery: SceneryLook | None = None
    model: ModelLook | None = None
    caption: str = ""


@dataclass(frozen=True, slots=True)
class _Palette:
    top: RGB
    horizon: RGB
    floor_far: RGB
    floor_near: RGB
    accents: tuple[RGB, ...]


_PALETTES: dict[str, _Palette] = {
    "studio": _Palette((238, 236, 232), (221, 218, 213), (226, 223, 218), (200, 196, 190), ()),
    "urban": _Palette(
        (40, 46, 68),
        (168, 112, 98),
        (92, 88, 92),
        (44, 44, 50),
        ((255, 196, 120), (255, 146, 92), (150, 186, 255), (255, 226, 170)),
    ),
    "beach": _Palette(
        (104, 166, 216), (238, 218, 196), (232, 210, 170), (206, 178, 136), ((64, 136, 168),)
    ),
    "loft": _Palette(
        (236, 233, 228), (214, 209, 202), (156, 116, 84), (112, 80, 56), ((186, 182, 176),)
    ),
    "forest": _Palette(
        (56, 88, 58),
        (150, 170, 108),
        (88, 98, 56),
        (48, 58, 34),
        ((226, 236, 160), (255, 242, 196), (120, 160, 80)),
    ),
}


def hex_rgb(value: str) -> RGB:
    v = value.lstrip("#")
    return (int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16))


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _scale(c: RGB, f: float) -> RGB:
    return (min(255, round(c[0] * f)), min(255, round(c[1] * f)), min(255, round(c[2] * f)))


def _vgradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


@cache
def _vignette(size: tuple[int, int]) -> Image.Image:
    """An RGB multiplier: white in the middle, smoothly darker towards the corners."""
    big = (int(size[0] * 1.45), int(size[1] * 1.45))
    radial = Image.radial_gradient("L").resize(big, Image.Resampling.BILINEAR)
    left, top = (big[0] - size[0]) // 2, (big[1] - size[1]) // 2
    radial = radial.crop((left, top, left + size[0], top + size[1]))
    curve = radial.point([255 - round(80 * (v / 255) ** 2.2) for v in range(256)])
    return Image.merge("RGB", [curve] * 3)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _backdrop(
    rng: random.Random, style: str, size: tuple[int, int], horizon: float
) -> tuple[Image.Image, float]:
    """The scenery lit by a soft key light, drawn small, blurred and enlarged to `size`.

    Returns the image and the key light's horizontal position (0..1)."""
    pal = _PALETTES.get(style, _PALETTES["studio"])
    w, h = size[0] // _BG_SCALE, size[1] // _BG_SCALE
    hy = int(h * horizon)
    img = Image.new("RGB", (w, h))
    img.paste(_vgradient((w, hy), pal.top, pal.horizon), (0, 0))
    img.paste(_vgradient((w, h - hy), pal.floor_far, pal.floor_near), (0, hy))
    draw = ImageDraw.Draw(img)
    if style == "urban":
        for _ in range(4):  # building blocks against the dusk sky
            x = rng.uniform(-0.1, 1.0) * w
            bw, bh = rng.uniform(0.15, 0.35) * w, rng.uniform(0.25, 0.6) * hy
            draw.rectangle((x, hy - bh, x + bw, hy), fill=_mix(pal.top, pal.horizon, 0.25))
        for _ in range(22):  # city lights, out of focus
            x, y = rng.uniform(0, w), rng.uniform(0.2 * hy, hy * 1.05)
            r = rng.uniform(1.5, 4.5)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice(pal.accents))
        draw.line((0, hy + (h - hy) * 0.35, w, hy + (h - hy) * 0.3), fill=(70, 70, 78), width=1)
    elif style == "beach":
        draw.rectangle((0, hy - h * 0.05, w, hy), fill=pal.accents[0])
        sun_x = rng.uniform(0.15, 0.85) * w
        draw.ellipse((sun_x - 9, hy * 0.35 - 9, sun_x + 9, hy * 0.35 + 9), fill=(255, 246, 224))
    elif style == "loft":
        for _ in range(5):  # marble veins
            pts = [(rng.uniform(0, w), rng.uniform(0, hy)) for _ in range(4)]
            draw.line(pts, fill=pal.accents[0], width=1, joint="curve")
        for i in range(1, 7):  # floor boards converging to the back
            x = i * w / 7
            draw.line((w / 2 + (x - w / 2) * 0.45, hy, x, h), fill=_scale(pal.floor_near, 0.82))
        draw.rectangle((w * 0.62, hy * 0.18, w * 0.9, hy * 0.8), fill=(246, 244, 238))  # window
    elif style == "forest":
        for _ in range(7):  # trunks
            x = rng.uniform(0, w)
            tw = rng.uniform(3, 9)
            draw.rectangle((x, 0, x + tw, hy + 2), fill=(44, 52, 36))
        for _ in range(26):  # light through leaves
            x, y = rng.uniform(0, w), rng.uniform(0, hy * 0.9)
            r = rng.uniform(1.5, 4.0)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice(pal.accents))
    else:  # studio: a seamless paper sweep
        img = _vgradient((w, h), pal.top, pal.floor_near)
    img = img.filter(ImageFilter.GaussianBlur(1.6 if style != "studio" else 4))
    light_x = rng.choice((0.2, 0.8)) + rng.uniform(-0.1, 0.1)
    glow = Image.new("L", (w, h), 0)
    r = w * 0.8
    cx, cy = w * light_x, h * 0.22
    ImageDraw.Draw(glow).ellipse((cx - r, cy - r, cx + r, cy + r), fill=95)
    glow = glow.filter(ImageFilter.GaussianBlur(w * 0.3))
    img.paste((255, 250, 240), (0, 0), glow)
    return img.resize(size, Image.Resampling.BICUBIC), light_x


def _region(box: shapes.Box, size: tuple[int, int], margin: float) -> tuple[int, int, int, int]:
    """Integer bounds of `box` grown by `margin` (a fraction of its size), clipped to the canvas."""
    left, top, right, bottom = box
    mx, my = (right - left) * margin, (bottom - top) * margin
    return (
        max(0, int(left - mx)),
        max(0, int(top - my)),
        min(size[0], int(right + mx) + 1),
        min(size[1], int(bottom + my) + 1),
    )


def _shift(box: shapes.Box, dx: float, dy: float) -> shapes.Box:
    return (box[0] - dx, box[1] - dy, box[2] - dx, box[3] - dy)


def _shade_layer(
    box: shapes.Box, size: tuple[int, int], color: RGB, light_x: float, cylindrical: bool
) -> Image.Image:
    """A `size` layer in the fill colour, graded from the lit to the shadow side of `box`."""
    left, top, right, bottom = (int(v) for v in box)
    bw, bh = max(1, right - left), max(1, bottom - top)
    lum = (color[0] * 299 + color[1] * 587 + color[2] * 114) / 255000
    light = _mix(_scale(color, 1.12), (255, 255, 255), 0.12 if lum > 0.6 else 0.06)
    dark = _scale(color, 0.58 if lum > 0.25 else 0.7)
    # cylinders: a highlight band on the lit side, fall-off round the curve
    grad = _cylinder_profile(light_x < 0.5) if cylindrical else _flat_profile(light_x < 0.5)
    mask = grad.resize((bw, bh), Image.Resampling.BILINEAR)
    layer = Image.new("RGB", size, _mix(light, dark, 0.5))
    shaded = Image.new("RGB", (bw, bh), dark)
    shaded.paste(light, (0, 0), mask)
    layer.paste(shaded, (left, top))
    return layer


@cache
def _cylinder_profile(lit_left: bool) -> Image.Image:
    centre = 0.3 if lit_left else 0.7
    grad = Image.new("L", (256, 1))
    grad.putdata(
        [
            max(0, 255 - int(abs(i / 255 - centre) * 255 * (1.9 if i / 255 > centre else 2.6)))
            for i in range(256)
        ]
    )
    return grad


@cache
def _flat_profile(lit_left: bool) -> Image.Image:
    grad = Image.linear_gradient("L").rotate(90 if lit_left else -90)
    return ImageChops.multiply(grad, Image.linear_gradient("L").point(lambda v: 255 - v // 3))


def _paste_shape(
    canvas: Image.Image,
    rng: random.Random,
    shape: str,
    box: shapes.Box,
    color: RGB,
    light_x: float,
    folds: bool,
) -> None:
    """Draw a shaded, detailed product outline onto `canvas` (only its region is touched)."""
    reg = _region(box, canvas.size, 0.14)
    size = (reg[2] - reg[0], reg[3] - reg[1])
    local = _shift(box, reg[0], reg[1])
    mask = Image.new("L", size, 0)
    shapes.draw_shape(mask, shape, local)
    layer = _shade_layer(local, size, color, light_x, shape in shapes.CYLINDRICAL_SHAPES)
    bw = box[2] - box[0]
    if folds:  # soft creases, drawn at half size
        half = (max(1, size[0] // 2), max(1, size[1] // 2))
        crease = Image.new("L", half, 0)
        cdraw = ImageDraw.Draw(crease)
        half_box = (local[0] / 2, local[1] / 2, local[2] / 2, local[3] / 2)
        for _ in range(4):
            x = rng.uniform(0.3, 0.7)
            pts = [(x + rng.uniform(-0.08, 0.08), y) for y in (0.45, 0.65, 0.85, 0.98)]
            cdraw.line(
                shapes.map_points(pts, half_box),
                fill=90,
                width=max(1, int(bw * 0.01)),
                joint="curve",
            )
        crease = crease.filter(ImageFilter.GaussianBlur(bw * 0.008)).resize(
            size, Image.Resampling.BILINEAR
        )
        layer.paste(_scale(color, 0.72), (0, 0), crease)
    draw = ImageDraw.Draw(layer)
    for detail in shapes.details(shape):
        if detail.tone < 1:
            tone = _scale(color, detail.tone)
        else:
            tone = _mix(color, (250, 250, 248), min(1.0, detail.tone - 1))
        draw.line(
            shapes.detail_points(detail, local),
            fill=tone,
            width=max(1, int(bw * detail.width)),
            joint="curve",
        )
    canvas.paste(layer, reg[:2], mask)


def _shadow(
    canvas: Image.Image, centre_x: float, floor_y: float, width: float, depth: float
) -> None:
    """A soft contact shadow: an ellipse on the floor, blurred."""
    box = (
        centre_x - width / 2,
        floor_y - width * 0.09,
        centre_x + width / 2,
        floor_y + width * 0.09,
    )
    reg = _region(box, canvas.size, 0.35)
    size = (reg[2] - reg[0], reg[3] - reg[1])
    if size[0] < 4 or size[1] < 4:
        return
    small = Image.new("L", (max(1, size[0] // 4), max(1, size[1] // 4)), 0)
    local = _shift(box, reg[0], reg[1])
    ImageDraw.Draw(small).ellipse(tuple(v / 4 for v in local), fill=int(200 * depth))
    small = small.filter(ImageFilter.GaussianBlur(max(1.0, width / 4 * 0.08)))
    canvas.paste((18, 16, 14), reg, small.resize(size, Image.Resampling.BILINEAR))


def _finish(img: Image.Image, rng: random.Random, caption: str, tag: str) -> bytes:
    """Downsample, vignette, grain, caption, encode."""
    img = img.reduce(_SS) if img.size != THUMB_SIZE else img
    img = ImageChops.multiply(img, _vignette(img.size))
    amp = 6
    noise = Image.frombytes("L", img.size, rng.randbytes(img.size[0] * img.size[1]))
    noise = noise.point([v * 2 * amp // 255 for v in range(256)]).convert("RGB")
    img = ImageChops.add(img, noise, 1.0, -amp)
    if caption or tag:
        _caption(img, caption, tag)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _caption(img: Image.Image, caption: str, tag: str) -> None:
    w, h = img.size
    strip = Image.new("L", (1, 48))
    strip.putdata([int(150 * (i / 47) ** 1.5) for i in range(48)])
    img.paste((10, 10, 12), (0, h - 48, w, h), strip.resize((w, 48)))
    draw = ImageDraw.Draw(img)
    draw.text((14, h - 22), caption, fill=(246, 244, 240), font=_font(12))
    if tag:
        small = _font(10)
        tw = draw.textlength(tag, font=small)
        draw.text((w - 14 - tw, h - 20), tag, fill=(200, 198, 194), font=small)


_TROUSERS: tuple[RGB, ...] = ((52, 54, 62), (196, 184, 160), (38, 58, 92), (90, 88, 84))
_PLAIN_TOPS: tuple[RGB, ...] = ((236, 232, 224), (40, 40, 44), (150, 146, 140))


def render_shot(spec: ShotSpec) -> bytes:
    """The finished image of a record: a JPEG of THUMB_SIZE."""
    rng = random.Random(spec.record_id)
    size = (THUMB_SIZE[0] * _SS, THUMB_SIZE[1] * _SS)
    w, h = size
    style = spec.scenery.style if spec.scenery else rng.choice(SCENERY_STYLES)
    horizon = rng.uniform(0.56, 0.66)
    canvas, light_x = _backdrop(rng, style, size, horizon)
    color = hex_rgb(spec.product.color)
    shape = spec.product.shape if spec.product.shape in shapes.OUTLINES else "tote"
    floor_y = h * (horizon + (1 - horizon) * rng.uniform(0.55, 0.75))
    cx = w * rng.uniform(0.45, 0.55)
    worn = shape in shapes.GARMENT_SHAPES
    if spec.model is not None and (worn or shape == "tote"):
        fig_w = w * rng.uniform(0.70, 0.78)
        fig = (cx - fig_w / 2, h * 0.12, cx + fig_w / 2, h * 1.02)
        _shadow(canvas, cx, h * 1.0, fig_w * 0.9, 0.5)
        tl, tt, tr, _tb = shapes.figure_torso(fig)
        top_shape = shape if worn else "tshirt"
        top_box = (tl, tt, tr, tt + (tr - tl) / shapes.ASPECT[top_shape])
        _paste_figure(canvas, rng, spec.model, fig, light_x, top_box[3] - (tr - tl) * 0.03)
        if worn:
            _paste_shape(canvas, rng, shape, top_box, color, light_x, folds=True)
        else:  # a plain top, and the bag over the forearm
            _paste_shape(canvas, rng, "tshirt", top_box, rng.choice(_PLAIN_TOPS), light_x, True)
            bw = fig_w * 0.42
            bx = cx + fig_w * (0.34 if light_x > 0.5 else -0.34)
            box = (bx - bw / 2, h * 0.55, bx + bw / 2, h * 0.55 + bw / shapes.ASPECT["tote"])
            _paste_shape(canvas, rng, shape, box, color, light_x, folds=False)
    else:
        aspect = shapes.ASPECT[shape]
        bw = w * shapes.STANDALONE_WIDTH[shape] * rng.uniform(0.92, 1.06)
        bh = bw / aspect
        lift = bh * 0.08 if worn else 0.0
        box = (cx - bw / 2, floor_y - bh - lift, cx + bw / 2, floor_y - lift)
        _shadow(canvas, cx, floor_y, bw * 1.05, 0.75 if lift == 0 else 0.45)
        _paste_shape(canvas, rng, shape, box, color, light_x, folds=worn)
    scene = spec.scenery.name if spec.scenery else style.title()
    caption = spec.caption or f"{spec.product.name} · {scene}"
    return _finish(canvas, rng, caption, spec.record_id[-6:])


def _paste_part(
    canvas: Image.Image,
    area: shapes.Box,
    draw: Callable[[Image.Image, float, float], None],
    color: RGB,
    shade_box: shapes.Box,
    light_x: float,
) -> None:
    """Shade and paste one part of the figure; only `area` of the canvas is touched. `draw` fills
    the part's mask, given the offset of `area` to subtract from absolute coordinates."""
    reg = _region(area, canvas.size, 0.0)
    size = (reg[2] - reg[0], reg[3] - reg[1])
    if size[0] < 1 or size[1] < 1:
        return
    mask = Image.new("L", size, 0)
    draw(mask, reg[0], reg[1])
    layer = _shade_layer(_shift(shade_box, reg[0], reg[1]), size, color, light_x, True)
    canvas.paste(layer, reg[:2], mask)


def _paste_figure(
    canvas: Image.Image,
    rng: random.Random,
    model: ModelLook,
    box: shapes.Box,
    light_x: float,
    waist_y: float,
) -> None:
    """The model: hair behind, body, hair cap, and trousers from `waist_y` down."""
    head = shapes.figure_head(box)
    hl, ht, hr, hb = head
    hw, hh = hr - hl, hb - ht
    hair_area = (hl - hw * 0.15, ht - hh * 0.1, hr + hw * 0.15, hb + hh * 0.8)
    hair = hex_rgb(model.hair)

    def back_hair(mask: Image.Image, dx: float, dy: float) -> None:
        shapes.draw_hair(mask, _shift(head, dx, dy), model.long_hair, back=True)

    def cap(mask: Image.Image, dx: float, dy: float) -> None:
        shapes.draw_hair(mask, _shift(head, dx, dy), model.long_hair, back=False)

    def body(mask: Image.Image, dx: float, dy: float) -> None:
        shapes.draw_figure(mask, _shift(box, dx, dy))

    def hips(mask: Image.Image, dx: float, dy: float) -> None:
        shapes.draw_hips(mask, _shift(box, dx, dy), waist_y - dy)

    if model.long_hair:
        _paste_part(canvas, hair_area, back_hair, hair, head, light_x)
    _paste_part(canvas, box, body, hex_rgb(model.skin), box, light_x)
    _paste_part(canvas, hair_area, cap, hair, head, light_x)
    trousers = (box[0], waist_y, box[2], box[3])
    _paste_part(canvas, trousers, hips, rng.choice(_TROUSERS), box, light_x)


def render_product_thumb(record_id: str, product: ProductLook) -> bytes:
    """A packshot: the product alone on a studio sweep."""
    return render_shot(
        ShotSpec(record_id, product, SceneryLook("Studio", "studio"), None, product.name)
    )


def render_model_thumb(record_id: str, model: ModelLook) -> bytes:
    """The AI model in a plain studio portrait."""
    rng = random.Random(record_id)
    size = (THUMB_SIZE[0] * _SS, THUMB_SIZE[1] * _SS)
    w, h = size
    canvas, light_x = _backdrop(rng, "studio", size, 0.7)
    fig_w = w * 0.95
    box = (w / 2 - fig_w / 2, h * 0.1, w / 2 + fig_w / 2, h * 1.05)
    tl, tt, tr, _tb = shapes.figure_torso(box)
    top = (tl, tt, tr, tt + (tr - tl) / shapes.ASPECT["tshirt"])
    _paste_figure(canvas, rng, model, box, light_x, top[3] - (tr - tl) * 0.03)
    _paste_shape(canvas, rng, "tshirt", top, (208, 204, 198), light_x, folds=False)
    return _finish(canvas, rng, model.name, "")


def render_scenery_thumb(record_id: str, scenery: SceneryLook) -> bytes:
    rng = random.Random(record_id)
    size = (THUMB_SIZE[0] * _SS, THUMB_SIZE[1] * _SS)
    canvas, _ = _backdrop(rng, scenery.style, size, rng.uniform(0.56, 0.66))
    return _finish(canvas, rng, scenery.name, "")


@cache
def render_placeholder(state: str) -> bytes:
    """A neutral image for records not finished (`pending`) or never to be (`failed`)."""
    rng = random.Random(f"placeholder-{state}")
    w, h = THUMB_SIZE
    img = _vgradient(THUMB_SIZE, (232, 231, 228), (212, 210, 206))
    draw = ImageDraw.Draw(img)
    cx, cy, r = w / 2, h / 2 - 16, 30
    if state == "failed":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(176, 120, 112), width=4)
        draw.line((cx - 12, cy - 12, cx + 12, cy + 12), fill=(176, 120, 112), width=4)
        draw.line((cx - 12, cy + 12, cx + 12, cy - 12), fill=(176, 120, 112), width=4)
        label = "Generation failed"
    else:
        draw.arc((cx - r, cy - r, cx + r, cy + r), 0, 360, fill=(196, 194, 190), width=4)
        draw.arc((cx - r, cy - r, cx + r, cy + r), 300, 30, fill=(140, 138, 134), width=4)
        label = "Rendering…"
    font = _font(14)
    tw = draw.textlength(label, font=font)
    draw.text((cx - tw / 2, cy + r + 18), label, fill=(120, 118, 114), font=font)
    return _finish(img, rng, "", "")
