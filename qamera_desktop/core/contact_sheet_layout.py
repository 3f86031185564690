"""Where everything goes on the pages of a contact sheet: plain arithmetic in points (1/72 in).

A page has a header (title, account, date, counts), a grid of cells and a footer (page n of m).
Each cell is an image box and a caption of `CAPTION_LINES` lines under it (name, id, stars and
label, product). The columns (2 to 6) set the cells' width; as many rows as fit with at least a
square image box, then the boxes grow to fill the page (up to a 4:5 portrait, the shape of most
generated shots), so that no page is left half empty below its last row.

`image_pixels` is the size an image is decoded to: the box at `PRINT_DPI`, enough for a sharp
print and small enough that 500 images decode in seconds and a page never holds much memory.
Qt-free: the painter (ui/contact_sheet.py) asks, the tests check the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

POINTS_PER_INCH: Final = 72.0
PAGE_SIZES: Final[dict[str, tuple[float, float]]] = {
    "A4": (595.28, 841.89),  # 210 x 297 mm
    "Letter": (612.0, 792.0),  # 8.5 x 11 in
}
DEFAULT_PAGE: Final = "A4"
MIN_COLUMNS: Final = 2
MAX_COLUMNS: Final = 6
DEFAULT_COLUMNS: Final = 4

MARGIN: Final = 36.0  # half an inch: inside what every printer prints
HEADER_HEIGHT: Final = 46.0
FOOTER_HEIGHT: Final = 16.0
GUTTER: Final = 12.0  # between cells, both ways
CAPTION_GAP: Final = 4.0  # between an image box and its caption
CAPTION_LINES: Final = 4
MAX_PORTRAIT: Final = 1.25  # an image box is at most this much taller than wide (4:5)
PRINT_DPI: Final = 200


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True, slots=True)
class Cell:
    image: Box
    caption: Box


@dataclass(frozen=True, slots=True)
class SheetLayout:
    """The geometry of every page of one contact sheet (see the module docstring)."""

    page: str
    columns: int
    width: float
    height: float
    cell_width: float
    image_height: float
    caption_font: float  # points
    rows: int

    @classmethod
    def create(cls, page: str = DEFAULT_PAGE, columns: int = DEFAULT_COLUMNS) -> SheetLayout:
        """The layout of `page` ("A4" or "Letter"; anything else is A4) with `columns` images
        per row (clamped to 2..6)."""
        page = page if page in PAGE_SIZES else DEFAULT_PAGE
        columns = min(max(columns, MIN_COLUMNS), MAX_COLUMNS)
        width, height = PAGE_SIZES[page]
        cell_width = (width - 2 * MARGIN - (columns - 1) * GUTTER) / columns
        caption_font = 8.0 if columns <= 3 else 7.0 if columns <= 4 else 6.0
        caption = CAPTION_GAP + CAPTION_LINES * line_height(caption_font)
        grid_height = height - 2 * MARGIN - HEADER_HEIGHT - FOOTER_HEIGHT
        # as many rows as fit with square boxes, then the boxes as tall as the rows allow
        rows = max(1, math.floor((grid_height + GUTTER) / (cell_width + caption + GUTTER)))
        room = (grid_height + GUTTER) / rows - GUTTER - caption
        image_height = min(room, cell_width * MAX_PORTRAIT)
        return cls(page, columns, width, height, cell_width, image_height, caption_font, rows)

    @property
    def per_page(self) -> int:
        return self.rows * self.columns

    @property
    def caption_height(self) -> float:
        return CAPTION_LINES * line_height(self.caption_font)

    @property
    def header(self) -> Box:
        return Box(MARGIN, MARGIN, self.width - 2 * MARGIN, HEADER_HEIGHT)

    @property
    def footer(self) -> Box:
        return Box(
            MARGIN, self.height - MARGIN - FOOTER_HEIGHT, self.width - 2 * MARGIN, FOOTER_HEIGHT
        )

    def page_count(self, images: int) -> int:
        """Pages for `images` images (one page, with its header, even for none)."""
        return max(1, math.ceil(images / self.per_page))

    def cell(self, slot: int) -> Cell:
        """The cell of the `slot`-th image of a page (row by row, left to right)."""
        if not 0 <= slot < self.per_page:
            raise IndexError(f"slot {slot} is not on a page of {self.per_page}")
        row, column = divmod(slot, self.columns)
        pitch = self.image_height + CAPTION_GAP + self.caption_height + GUTTER
        x = MARGIN + column * (self.cell_width + GUTTER)
        y = MARGIN + HEADER_HEIGHT + row * pitch
        image = Box(x, y, self.cell_width, self.image_height)
        caption = Box(x, image.bottom + CAPTION_GAP, self.cell_width, self.caption_height)
        return Cell(image, caption)

    def image_pixels(self, dpi: int = PRINT_DPI) -> tuple[int, int]:
        """The pixel size an image is decoded to so that it fills its box at `dpi`."""
        scale = dpi / POINTS_PER_INCH
        return round(self.cell_width * scale), round(self.image_height * scale)

    def pages[T](self, items: Sequence[T]) -> Iterator[Sequence[T]]:
        """`items` a page at a time (one empty page for none)."""
        for page in range(self.page_count(len(items))):
            yield items[page * self.per_page : (page + 1) * self.per_page]


def line_height(font_points: float) -> float:
    """The height of a caption line set in `font_points`."""
    return round(font_points * 1.4, 2)


def fit(width: int, height: int, box: Box) -> Box:
    """An image of `width` x `height` scaled to fit inside `box`, centred, its aspect kept."""
    if width <= 0 or height <= 0:
        return box
    scale = min(box.width / width, box.height / height)
    w, h = width * scale, height * scale
    return Box(box.x + (box.width - w) / 2, box.y + (box.height - h) / 2, w, h)
