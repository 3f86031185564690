"""The values an export passes around: what to export, how far it got, how it ended.

Kept apart from the engine (exporter.py, which re-exports them) so that the manifest can describe
them without importing the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from qamera_desktop.api.records import Image, Product
from qamera_desktop.core.review import Review
from qamera_desktop.core.shoots import Shoot


class ExportScope(StrEnum):
    """Which of the listed images an export takes (see `exporter.select_images`)."""

    PICKS = "picks"
    REJECTS = "rejects"
    REVIEWED = "reviewed"  # a flag, stars or a label: anything decided
    ALL = "all"


@dataclass(frozen=True, slots=True)
class ExportItem:
    """One image to export, with what the manifest and the XMP say about it."""

    image: Image
    review: Review
    product: Product | None = None  # None: not known (the listing does not say)
    shoot: Shoot | None = None  # the shoot of this app that created it, if any


@dataclass(frozen=True, slots=True)
class ExportProgress:
    """How far an export is. `done` counts every item dealt with: written, skipped or failed."""

    done: int
    total: int
    failed: int
    skipped: int  # already complete in the folder from an earlier export
    bytes_written: int
    last: str  # the name of the image dealt with last ("" before the first)

    @property
    def written(self) -> int:
        return self.done - self.failed - self.skipped


@dataclass(frozen=True, slots=True)
class ExportFailure:
    item: ExportItem
    reason: str  # readable: "HTTP 404", "not an image (served as text/html)", "timed out"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """How an export ended. `written` and `skipped` are image files (sidecars not listed);
    items an export never reached (cancelled) are in none of the three."""

    folder: Path
    written: tuple[Path, ...]
    skipped: tuple[Path, ...]  # complete from an earlier export: left as they were
    failures: tuple[ExportFailure, ...]
    cancelled: bool
    manifest_csv: Path
    manifest_json: Path

    @property
    def ok(self) -> bool:
        """Every item is in the folder: nothing failed, nothing left out by a cancel."""
        return not self.failures and not self.cancelled
