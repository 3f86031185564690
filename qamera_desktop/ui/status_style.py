"""How an image's state looks and reads: its status (one label and one colour per progress state;
a badge only when it says something) and the Qamera voting on it (approved, rejected, or whatever
other value the server sends, shown as it comes)."""

from __future__ import annotations

from enum import StrEnum

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
REJECTED_COLOUR = QColor("#5c5f66")
OTHER_VOTE_COLOUR = QColor("#7048e8")
KNOWN = {"DONE", "FAILED", "QUEUED", "PROCESSING", "IN_PROGRESS", "PENDING"}


def status_label(status: str, progress: Progress) -> str:
    """Known statuses get a friendly word; unknown ones are shown as they come."""
    if status.strip().upper() in KNOWN or not status.strip():
        return _LABELS[progress]
    return _readable(status)


def status_colour(progress: Progress) -> QColor:
    return QColor(_COLOURS[progress])


def shows_status_badge(progress: Progress) -> bool:
    """A tile shows its status only when it says something: queued, in progress (which includes
    any status the app does not know) or failed. A done image needs no badge."""
    return progress is not Progress.DONE


def status_tip(status: str, progress: Progress) -> str:
    """The status badge's tooltip: the friendly word, and the server's own when it differs."""
    label = status_label(status, progress)
    raw = status.strip()
    if not raw or raw.upper() == label.upper():
        return f"Status: {label}"
    return f"Status: {label} ({raw})"


class Vote(StrEnum):
    """What Qamera's voting says of an image."""

    NONE = "none"  # not voted
    APPROVED = "approved"
    REJECTED = "rejected"
    OTHER = "other"  # a value the app does not know: shown as it comes


def vote_of(voting: str | None) -> Vote:
    value = (voting or "").strip().upper()
    if not value:
        return Vote.NONE
    if value == "APPROVED":
        return Vote.APPROVED
    if value == "REJECTED":
        return Vote.REJECTED
    return Vote.OTHER


def voting_text(voting: str | None) -> str:
    """The voting in a sentence: "Approved on Qamera", "Not voted on Qamera"..."""
    vote = vote_of(voting)
    if vote is Vote.NONE:
        return "Not voted on Qamera"
    if vote is Vote.OTHER:
        return f"Voting on Qamera: {_readable(voting or '')}"
    return f"{vote.value.capitalize()} on Qamera"


def voting_label(voting: str | None) -> str:
    """The short word of the voting badge for a value the app does not know."""
    return _readable(voting or "")


def voting_colour(voting: str | None) -> QColor:
    vote = vote_of(voting)
    if vote is Vote.APPROVED:
        return QColor(APPROVED_COLOUR)
    if vote is Vote.REJECTED:
        return QColor(REJECTED_COLOUR)
    return QColor(OTHER_VOTE_COLOUR)


def _readable(value: str) -> str:
    """ "NEEDS_REVIEW" -> "Needs review"."""
    return value.strip().replace("_", " ").capitalize()
