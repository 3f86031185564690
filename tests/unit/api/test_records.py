"""Status classification of records (what shoot tracking relies on)."""

from __future__ import annotations

import pytest

from qamera_desktop.api import Image, Progress, classify_status


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("DONE", Progress.DONE),
        (" done ", Progress.DONE),
        ("FAILED", Progress.FAILED),
        ("generation_error", Progress.FAILED),
        (None, Progress.QUEUED),
        ("", Progress.QUEUED),
        ("QUEUED", Progress.QUEUED),
        ("pending", Progress.QUEUED),
        ("PROCESSING", Progress.IN_PROGRESS),
        ("SOMETHING_NEW", Progress.IN_PROGRESS),
    ],
)
def test_classify_status(status, expected):
    assert classify_status(status) is expected


def test_image_properties():
    done = Image("a", "A", None, "DONE", None, voting="approved")
    failed = Image("b", "B", None, "FAILED", None)
    running = Image("c", "C", None, "PROCESSING", None, voting="REJECTED")
    assert (done.is_done, done.is_failed, done.is_finished, done.is_approved) == (
        True,
        False,
        True,
        True,
    )
    assert (failed.is_done, failed.is_failed, failed.is_finished, failed.is_approved) == (
        False,
        True,
        True,
        False,
    )
    assert running.progress is Progress.IN_PROGRESS
    assert not running.is_finished
    assert not running.is_approved
