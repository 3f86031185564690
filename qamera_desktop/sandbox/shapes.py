"""Outlines of the things the renderer draws: garments, bags, shoes, homeware and a faceless figure.

Every shape is described in a unit box (0..1 on both axes, y down) and drawn into an "L" mask of any
box, so the renderer can shade it, cast its shadow and place it without knowing what it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # left, top, right, bottom

PRODUCT_SHAPES = ("tshirt", "hoodie", "jacket", "tote", "shoe", "vase", "mug")
GARMENT_SHAPES = frozenset({"tshirt", "hoodie", "jacket"})
CYLINDRICAL_SHAPES = frozenset({"vase", "mug"})

# width of each product relative to the picture when it stands alone (a mug is smaller than a coat)
STANDALONE_WIDTH: dict[str, float] = {
    "tshirt": 0.62,
    "hoodie": 0.58,
    "jacket": 0.58,
    "tote": 0.52,
    "shoe": 0.74,
    "vase": 0.34,
    "mug": 0.40,
}

# width / height of each shape's natural bounding box
ASPECT: dict[str, float] = {
    "tshirt": 1.05,
    "hoodie": 0.95,
    "jacket": 0.95,
    "tote": 0.85,
    "shoe": 2.1,
    "vase": 0.62,
    "mug": 1.2,
}


@dataclass(frozen=True, slots=True)
class Detail:
    """A line drawn over a shape (seams, zips, laces), darker (<1) or lighter (>1) than the fill."""

    points: tuple[Point, ...]
    width: float  # relative to the box width
    tone: float


def map_points(points: Sequence[Point], box: Box) -> list[Point]:
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    return [(left + x * w, top + y * h) for x, y in points]


def _arc(
    cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 12
) -> list[Point]:
    return [
        (cx + rx * math.cos(a0 + (a1 - a0) * i / n), cy + ry * math.sin(a0 + (a1 - a0) * i / n))
        for i in range(n + 1)
    ]


def _tshirt() -> list[Point]:
    collar = _arc(0.5, 0.02, 0.12, 0.08, 0.0, math.pi)
    return [
        (0.62, 0.02),
        (0.82, 0.08),
        (1.0, 0.30),
        (0.88, 0.42),
        (0.79, 0.34),
        (0.80, 1.0),
        (0.20, 1.0),
        (0.21, 0.34),
        (0.12, 0.42),
        (0.0, 0.30),
        (0.18, 0.08),
        (0.38, 0.02),
        *collar[::-1][1:-1][::-1],
    ]


def _long_sleeved(neck_depth: float) -> list[Point]:
    collar = _arc(0.5, 0.03, 0.11, neck_depth, 0.0, math.pi)
    return [
        (0.61, 0.03),
        (0.80, 0.08),
        (0.93, 0.30),
        (1.0, 0.86),
        (0.86, 0.88),
        (0.79, 0.40),
        (0.80, 1.0),
        (0.20, 1.0),
        (0.21, 0.40),
        (0.14, 0.88),
        (0.0, 0.86),
        (0.07, 0.30),
        (0.20, 0.08),
        (0.39, 0.03),
        *collar[::-1][1:-1][::-1],
    ]


def _tote() -> list[Point]:
    return [(0.08, 0.34), (0.92, 0.34), (0.97, 1.0), (0.03, 1.0)]


def _shoe() -> list[Point]:
    return [
        (0.02, 0.86),
        (0.03, 0.40),
        (0.10, 0.22),
        (0.30, 0.30),
        (0.40, 0.12),
        (0.50, 0.08),
        (0.58, 0.30),
        (0.78, 0.46),
        (0.95, 0.58),
        (1.0, 0.74),
        (0.98, 0.86),
        (0.60, 1.0),
        (0.05, 1.0),
    ]


def _vase() -> list[Point]:
    def radius(y: float) -> float:
        belly = 0.46 * math.sin(math.pi * min(1.0, (y - 0.18) / 0.86)) if y > 0.18 else 0.0
        return max(0.16 + (0.06 if y < 0.06 else 0.0), belly)

    steps = [i / 40 for i in range(41)]
    right = [(0.5 + radius(y), y) for y in steps]
    left = [(0.5 - radius(y), y) for y in reversed(steps)]
    return right + left


def _mug() -> list[Point]:
    return [(0.04, 0.04), (0.76, 0.04), (0.76, 0.92), (0.70, 1.0), (0.10, 1.0), (0.04, 0.92)]


OUTLINES: dict[str, Callable[[], list[Point]]] = {
    "tshirt": _tshirt,
    "hoodie": lambda: _long_sleeved(0.10),
    "jacket": lambda: _long_sleeved(0.16),
    "tote": _tote,
    "shoe": _shoe,
    "vase": _vase,
    "mug": _mug,
}


def draw_shape(mask: Image.Image, shape: str, box: Box) -> None:
    """Fill `shape` into the "L" `mask` (255 inside) within `box`."""
    draw = ImageDraw.Draw(mask)
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    draw.polygon(map_points(OUTLINES[shape](), box), fill=255)
    if shape == "hoodie":
        draw.ellipse(_box_in(box, 0.32, -0.10, 0.68, 0.12), fill=255)
    elif shape == "tote":
        for x0, x1 in ((0.22, 0.44), (0.56, 0.78)):
            draw.arc(
                _box_in(box, x0, 0.0, x1, 0.68), 180, 360, fill=255, width=max(2, int(w * 0.045))
            )
    elif shape == "mug":
        ring = _box_in(box, 0.62, 0.22, 1.0, 0.72)
        draw.ellipse(ring, outline=255, width=max(2, int(w * 0.075)))
    elif shape == "shoe":
        draw.rounded_rectangle(
            (left, top + h * 0.84, right - w * 0.01, bottom), radius=h * 0.07, fill=255
        )


def _box_in(box: Box, x0: float, y0: float, x1: float, y1: float) -> Box:
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    return (left + x0 * w, top + y0 * h, left + x1 * w, top + y1 * h)


def details(shape: str) -> list[Detail]:
    """Seams, openings and trims of a shape, in its unit box."""
    if shape == "tshirt":
        return [
            Detail(tuple(_arc(0.5, 0.02, 0.12, 0.08, 0.0, math.pi)), 0.018, 0.78),
            Detail(((0.21, 0.34), (0.18, 0.09)), 0.008, 0.85),
            Detail(((0.79, 0.34), (0.82, 0.09)), 0.008, 0.85),
            Detail(((0.21, 0.97), (0.79, 0.97)), 0.008, 0.86),
        ]
    if shape in ("jacket", "hoodie"):
        lines = [
            Detail(((0.5, 0.14 if shape == "jacket" else 0.12), (0.5, 1.0)), 0.012, 0.7),
            Detail(((0.21, 0.40), (0.20, 0.09)), 0.008, 0.8),
            Detail(((0.79, 0.40), (0.80, 0.09)), 0.008, 0.8),
            Detail(((0.20, 0.93), (0.80, 0.93)), 0.02, 0.82),
            Detail(((0.02, 0.80), (0.15, 0.82)), 0.02, 0.82),
            Detail(((0.85, 0.82), (0.98, 0.80)), 0.02, 0.82),
        ]
        if shape == "jacket":
            lines += [
                Detail(((0.39, 0.03), (0.44, 0.30), (0.5, 0.16)), 0.012, 0.72),
                Detail(((0.61, 0.03), (0.56, 0.30), (0.5, 0.16)), 0.012, 0.72),
                Detail(((0.27, 0.46), (0.41, 0.46), (0.41, 0.56), (0.27, 0.56)), 0.008, 0.75),
                Detail(((0.59, 0.46), (0.73, 0.46), (0.73, 0.56), (0.59, 0.56)), 0.008, 0.75),
            ]
        else:
            lines.append(Detail(((0.30, 0.62), (0.70, 0.62)), 0.01, 0.78))
        return lines
    if shape == "tote":
        return [
            Detail(((0.08, 0.40), (0.92, 0.40)), 0.008, 0.75),
            Detail(((0.26, 0.34), (0.24, 0.55)), 0.014, 0.7),
            Detail(((0.74, 0.34), (0.76, 0.55)), 0.014, 0.7),
        ]
    if shape == "shoe":
        laces = [
            Detail(
                ((0.36 + i * 0.05, 0.30 + i * 0.035), (0.46 + i * 0.05, 0.26 + i * 0.04)),
                0.012,
                1.35,
            )
            for i in range(4)
        ]
        return [
            Detail(((0.03, 0.84), (0.98, 0.84)), 0.02, 1.6),
            Detail(((0.14, 0.66), (0.45, 0.58), (0.80, 0.66)), 0.03, 1.4),
            *laces,
        ]
    if shape == "vase":
        return [Detail(((0.34, 0.05), (0.66, 0.05)), 0.02, 0.6)]
    if shape == "mug":
        return [Detail(((0.04, 0.06), (0.76, 0.06)), 0.03, 0.7)]
    return []


def detail_points(detail: Detail, box: Box) -> list[Point]:
    return map_points(detail.points, box)


_BODY = ((0.22, 0.30), (0.40, 0.24), (0.60, 0.24), (0.78, 0.30), (0.72, 1.0), (0.28, 1.0))


def figure_head(box: Box) -> Box:
    return _box_in(box, 0.40, 0.0, 0.60, 0.20)


def figure_torso(box: Box) -> Box:
    """Where a garment goes on the figure in `box`."""
    return _box_in(box, 0.10, 0.245, 0.90, 1.0)


def draw_figure(mask: Image.Image, box: Box) -> None:
    """A faceless standing figure from the hips up within `box`."""
    draw = ImageDraw.Draw(mask)
    w = box[2] - box[0]
    draw.ellipse(figure_head(box), fill=255)
    draw.rectangle(_box_in(box, 0.46, 0.16, 0.54, 0.27), fill=255)
    draw.polygon(map_points(_BODY, box), fill=255)
    arm = max(2, int(w * 0.11))
    for pts in (
        ((0.24, 0.31), (0.16, 0.62), (0.20, 0.92)),
        ((0.76, 0.31), (0.84, 0.62), (0.80, 0.92)),
    ):
        draw.line(map_points(pts, box), fill=255, width=arm, joint="curve")


def draw_hips(mask: Image.Image, box: Box, from_y: float) -> None:
    """The figure's body below `from_y` (absolute), where trousers go."""
    top, bottom = box[1], box[3]
    t = max(0.0, min(1.0, (from_y - top) / (bottom - top)))
    (lx0, ly0), (lx1, ly1) = _BODY[0], _BODY[5]
    (rx0, ry0), (rx1, ry1) = _BODY[3], _BODY[4]
    lx = lx0 + (lx1 - lx0) * (t - ly0) / (ly1 - ly0)
    rx = rx0 + (rx1 - rx0) * (t - ry0) / (ry1 - ry0)
    pts = [(lx - 0.01, t), (rx + 0.01, t), (rx1 + 0.01, 1.0), (lx1 - 0.01, 1.0)]
    ImageDraw.Draw(mask).polygon(map_points(pts, box), fill=255)


def draw_hair(mask: Image.Image, head: Box, long_hair: bool, back: bool) -> None:
    """Hair of a head: the part behind the figure (`back`) or the cap over the head."""
    draw = ImageDraw.Draw(mask)
    left, top, right, bottom = head
    w, h = right - left, bottom - top
    if back:
        if long_hair:
            draw.rounded_rectangle(
                (left - w * 0.08, top + h * 0.1, right + w * 0.08, bottom + h * 0.75),
                radius=w * 0.35,
                fill=255,
            )
        return
    draw.chord(
        (left - w * 0.05, top - h * 0.06, right + w * 0.05, top + h * 0.62), 180, 360, fill=255
    )
