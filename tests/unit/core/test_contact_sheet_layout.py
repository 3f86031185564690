"""The contact sheet's page arithmetic: every cell on the page and inside its margins, none
overlapping, as many per page as the rows hold, images decoded at the size they print at."""

from __future__ import annotations

import itertools

import pytest

from qamera_desktop.core.contact_sheet_layout import (
    FOOTER_HEIGHT,
    HEADER_HEIGHT,
    MARGIN,
    MAX_COLUMNS,
    MAX_PORTRAIT,
    MIN_COLUMNS,
    PAGE_SIZES,
    Box,
    SheetLayout,
    fit,
)

LAYOUTS = [
    SheetLayout.create(page, columns)
    for page in PAGE_SIZES
    for columns in range(MIN_COLUMNS, MAX_COLUMNS + 1)
]


def overlap(a: Box, b: Box) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.bottom and b.y < a.bottom


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: f"{layout.page}-{layout.columns}")
def test_cells_fill_the_grid_inside_the_margins_without_overlapping(layout: SheetLayout) -> None:
    cells = [layout.cell(slot) for slot in range(layout.per_page)]
    top = MARGIN + HEADER_HEIGHT
    bottom = layout.height - MARGIN - FOOTER_HEIGHT
    for cell in cells:
        for box in (cell.image, cell.caption):
            assert box.x >= MARGIN - 1e-6
            assert box.x + box.width <= layout.width - MARGIN + 1e-6
            assert top - 1e-6 <= box.y
            assert box.bottom <= bottom + 1e-6
        assert cell.caption.y >= cell.image.bottom
    boxes = [box for cell in cells for box in (cell.image, cell.caption)]
    assert not any(overlap(a, b) for a, b in itertools.combinations(boxes, 2))
    # the image boxes are at least square and at most 4:5
    assert layout.cell_width <= layout.image_height + 1e-6
    assert layout.image_height <= layout.cell_width * MAX_PORTRAIT + 1e-6
    # no room left for one more row of square boxes
    last = cells[-1]
    assert bottom - (last.caption.bottom) < layout.cell_width + layout.caption_height


def test_the_page_sizes_in_points_and_the_columns_clamped() -> None:
    a4, letter = SheetLayout.create("A4", 4), SheetLayout.create("Letter", 4)
    assert (round(a4.width), round(a4.height)) == (595, 842)
    assert (letter.width, letter.height) == (612, 792)
    assert SheetLayout.create("Tabloid", 4).page == "A4"
    assert SheetLayout.create("A4", 1).columns == MIN_COLUMNS
    assert SheetLayout.create("A4", 9).columns == MAX_COLUMNS
    assert (
        SheetLayout.create("A4", 4).cell(5).image.x == SheetLayout.create("A4", 4).cell(1).image.x
    )
    with pytest.raises(IndexError):
        a4.cell(a4.per_page)


def test_pages_split_the_items_in_order() -> None:
    layout = SheetLayout.create("A4", 4)
    items = list(range(2 * layout.per_page + 3))
    pages = list(layout.pages(items))
    assert layout.page_count(len(items)) == len(pages) == 3
    assert [n for page in pages for n in page] == items
    assert [len(page) for page in pages] == [layout.per_page, layout.per_page, 3]
    assert list(layout.pages([])) == [[]]  # one page with its header, even for nothing
    assert layout.page_count(0) == 1


def test_images_are_decoded_at_their_print_size() -> None:
    layout = SheetLayout.create("A4", 4)
    width, height = layout.image_pixels(dpi=200)
    assert width == round(layout.cell_width * 200 / 72)
    assert height == round(layout.image_height * 200 / 72)
    assert layout.image_pixels(dpi=100)[0] == round(layout.cell_width * 100 / 72)


def test_fit_keeps_the_aspect_and_centres() -> None:
    box = Box(10, 20, 100, 200)
    wide = fit(400, 200, box)
    assert (wide.width, wide.height) == (100, 50)
    assert (wide.x, wide.y) == (10, 20 + 75)
    tall = fit(410, 512, Box(0, 0, 100, 100))
    assert tall.height == 100
    assert tall.width == pytest.approx(100 * 410 / 512)
    assert tall.x == pytest.approx((100 - tall.width) / 2)
    assert fit(0, 0, box) == box
