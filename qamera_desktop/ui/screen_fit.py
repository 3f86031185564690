"""A top-level window is never larger than the screen it opens on, and the main window is inside
it: a size saved on a larger screen, the default size at a scale factor of 2, or a dialog's own
size on a small screen would leave its edges (and its buttons) out of reach."""

from __future__ import annotations

from PySide6.QtCore import QMargins, QRect
from PySide6.QtWidgets import QWidget

FRAME_ROOM = QMargins(0, 0, 8, 32)  # a window manager's borders and title bar, roughly


def _room(window: QWidget) -> tuple[QRect, QRect]:
    """The screen's available area, and the room in it for the window without its frame (the
    frame is not known before the window is shown)."""
    available = window.screen().availableGeometry()
    return available, available.marginsRemoved(FRAME_ROOM)


def fit_size_to_screen(window: QWidget) -> None:
    """Shrink `window` to its screen's room. For a dialog: Qt places it over its parent, and on
    the screen, when it is shown (a move here would stop that)."""
    _available, room = _room(window)
    if window.width() > room.width() or window.height() > room.height():
        window.resize(window.size().boundedTo(room.size()))


def fit_to_screen(window: QWidget) -> None:
    """Shrink `window` to its screen's room and move it inside (a main window, whose place is
    its own)."""
    fit_size_to_screen(window)
    available, room = _room(window)
    geometry = window.geometry()
    if not available.contains(geometry):
        left = min(max(geometry.left(), available.left()), room.right() - geometry.width())
        top = min(max(geometry.top(), available.top()), room.bottom() - geometry.height())
        window.move(max(left, available.left()), max(top, available.top()))
