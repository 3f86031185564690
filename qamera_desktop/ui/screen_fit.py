"""A top-level window is never larger than the screen it opens on, and is inside it: a size saved
on a larger screen, the default size at a scale factor of 2, or a dialog's own size on a small
screen would leave its edges (and its buttons) out of reach."""

from __future__ import annotations

from PySide6.QtCore import QMargins
from PySide6.QtWidgets import QWidget

FRAME_ROOM = QMargins(0, 0, 8, 32)  # a window manager's borders and title bar, roughly


def fit_to_screen(window: QWidget) -> None:
    """Shrink `window` to its screen's available area (less room for the frame, which is not
    known before the window is shown) and move it inside."""
    available = window.screen().availableGeometry()
    room = available.marginsRemoved(FRAME_ROOM)
    if window.width() > room.width() or window.height() > room.height():
        window.resize(window.size().boundedTo(room.size()))
    geometry = window.geometry()
    if not available.contains(geometry):
        left = min(max(geometry.left(), available.left()), room.right() - geometry.width())
        top = min(max(geometry.top(), available.top()), room.bottom() - geometry.height())
        window.move(max(left, available.left()), max(top, available.top()))
