"""Sizes of grid cells and of the thumbnails they request, in one place."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize

CELL_MARGIN = 6
TEXT_HEIGHT = 22
REQUEST_STEP = 64  # thumbnail request sizes are multiples of this, so zooming reuses the cache
REQUEST_MAX = 1024


def cell_size(thumb_size: int) -> QSize:
    """The grid cell for a square thumbnail area of `thumb_size` logical pixels."""
    return QSize(thumb_size + 2 * CELL_MARGIN, thumb_size + 2 * CELL_MARGIN + TEXT_HEIGHT)


def request_size(logical: int, device_pixel_ratio: float) -> int:
    """Device-pixel size to request: sharp on HiDPI, bucketed so that sizes share cache entries."""
    wanted = max(1, math.ceil(logical * max(1.0, device_pixel_ratio)))
    return min(REQUEST_MAX, math.ceil(wanted / REQUEST_STEP) * REQUEST_STEP)
