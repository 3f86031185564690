"""Sizes of grid cells and of the thumbnails they request, in one place."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize

CELL_MARGIN = 6
TEXT_HEIGHT = 22
REQUEST_STEP = 64  # thumbnail request sizes are multiples of this, so zooming reuses the cache
REQUEST_MAX = 1024
WRAP_SLACK = 1


def cell_size(thumb_size: int) -> QSize:
    """The grid cell for a square thumbnail area of `thumb_size` logical pixels."""
    return QSize(thumb_size + 2 * CELL_MARGIN, thumb_size + 2 * CELL_MARGIN + TEXT_HEIGHT)


def fit_cell(thumb_size: int, layout_width: int) -> QSize:
    """The grid cell for `thumb_size` in a row `layout_width` wide: as many whole cells as fit
    (at least one), widened to share the spare width so that the row is filled."""
    cell = cell_size(thumb_size)
    columns = columns_in(layout_width, cell.width())
    cell.setWidth(max(cell.width(), (layout_width - WRAP_SLACK) // columns))
    return cell


def columns_in(layout_width: int, cell_width: int) -> int:
    """How many cells of `cell_width` fit in a row of `layout_width`: a cell may not reach the
    row's last pixel (QListView's own rule, kept so that the view's arithmetic lays the grid out
    as QListView did: ui/image_grid_view.py)."""
    return max(1, (layout_width - WRAP_SLACK) // max(1, cell_width))


def request_size(logical: int, device_pixel_ratio: float) -> int:
    """Device-pixel size to request: sharp on HiDPI, bucketed so that sizes share cache entries."""
    wanted = max(1, math.ceil(logical * max(1.0, device_pixel_ratio)))
    return min(REQUEST_MAX, math.ceil(wanted / REQUEST_STEP) * REQUEST_STEP)
