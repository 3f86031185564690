"""How an image status looks: one label and one colour per progress state."""

from __future__ import annotations

from PySide6.QtGui import QColor

from qamera_desktop.api.records import Progress

_LABELS = {
    Progress.QUEUED: "Queued",
    Progress.IN_PROGRESS: "In progress",
    Progress.DONE: "Done",
    Progress.FAILED: "Failed",
}
_COLOURS = {
    Progress.QUEUED: QColor("#6c757d"),
    Progress.IN_PROGRESS: QColor("#1c7ed6"),
    Progress.DONE: QColor("#2f9e44"),
    Progress.FAILED: QColor("#e03131"),
}
APPROVED_COLOUR = QColor("#f08c00")
KNOWN = {"DONE", "FAILED", "QUEUED", "PROCESSING", "IN_PROGRESS", "PENDING"}


def status_label(status: str, progress: Progress) -> str:
    """Known statuses get a friendly word; unknown ones are shown as they come."""
    if status.strip().upper() in KNOWN or not status.strip():
        return _LABELS[progress]
    return status.strip().replace("_", " ").capitalize()


def status_colour(progress: Progress) -> QColor:
    return QColor(_COLOURS[progress])
