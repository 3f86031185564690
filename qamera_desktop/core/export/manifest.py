"""`manifest.csv` and `manifest.json`: one row per image of an export, whatever became of it.

Each row says what the image is (id, name, product, Qamera's status and voting, when it was
made, its URL), what the designer decided (flag, stars, label, reject reasons), where its file is
(relative to the export folder; empty when it failed or was never reached) and why it failed,
and, for an image this app generated, the shoot that made it (batch id and configuration).

The JSON keeps types (numbers, lists, null); the CSV has the same columns as text, UTF-8 with a
byte order mark (so that Excel reads the names right), and text that a spreadsheet would run as
a formula (starting with =, +, -, @) prefixed with an apostrophe. Both files are written
atomically: a reader sees the previous manifest or the new one, never half of one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Final

from qamera_desktop.core.export.files import write_atomically
from qamera_desktop.core.export.records import ExportItem
from qamera_desktop.core.review import Label

MANIFEST_CSV: Final = "manifest.csv"
MANIFEST_JSON: Final = "manifest.json"
MANIFEST_VERSION: Final = 1

type Cell = str | int | list[str] | None


class Outcome(StrEnum):
    WRITTEN = "written"
    SKIPPED = "skipped"  # already complete in the folder
    FAILED = "failed"
    NOT_REACHED = "not reached"  # the export was cancelled before it got to this image


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    item: ExportItem
    outcome: Outcome
    file: Path | None = None  # the image file, for WRITTEN and SKIPPED
    sidecar: Path | None = None  # its XMP sidecar, when the format cannot hold XMP
    reason: str = ""  # why it FAILED


COLUMNS: Final = (
    "id",
    "name",
    "productId",
    "productName",
    "status",
    "voting",
    "flag",
    "rating",
    "label",
    "rejectReasons",
    "createdAt",
    "sourceUrl",
    "outcome",
    "file",
    "xmpSidecar",
    "failureReason",
    "shootBatchId",
    "shootProductId",
    "shootModelId",
    "shootSceneryId",
    "shootPresetId",
    "shootIndustry",
    "shootSuggestions",
    "shootCount",
)


def _relative(path: Path | None, folder: Path) -> str:
    if path is None:
        return ""
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.as_posix()


def row_of(entry: ManifestEntry, folder: Path) -> dict[str, Cell]:
    """The manifest row of one image, typed as in the JSON (see COLUMNS for the order)."""
    item = entry.item
    image, review, product, shoot = item.image, item.review, item.product, item.shoot
    request = shoot.request if shoot is not None else None
    receipt = shoot.receipt if shoot is not None else None
    return {
        "id": image.id,
        "name": image.name,
        "productId": product.id if product else None,
        "productName": product.name if product else None,
        "status": image.status,
        "voting": image.voting,
        "flag": review.flag.value,
        "rating": review.rating,
        "label": None if review.label is Label.NONE else review.label.value,
        "rejectReasons": [reason.value for reason in review.reasons],
        "createdAt": image.created_at.isoformat() if image.created_at else None,
        "sourceUrl": image.thumbnail,
        "outcome": entry.outcome.value,
        "file": _relative(entry.file, folder),
        "xmpSidecar": _relative(entry.sidecar, folder),
        "failureReason": entry.reason,
        "shootBatchId": receipt.batch_id if receipt else None,
        "shootProductId": request.product_id if request else None,
        "shootModelId": request.model_id if request else None,
        "shootSceneryId": request.scenery_id if request else None,
        "shootPresetId": request.preset_id if request else None,
        "shootIndustry": request.industry if request else None,
        "shootSuggestions": request.suggestions if request else None,
        "shootCount": request.count if request else None,
    }


_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Cell) -> str:
    """A cell as CSV text: lists joined with "; ", None empty, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = "; ".join(value) if isinstance(value, list) else value
    return "'" + text if text.startswith(_FORMULA_START) else text


def counts(entries: Sequence[ManifestEntry]) -> dict[str, int]:
    tally = {outcome.value: 0 for outcome in Outcome}
    for entry in entries:
        tally[entry.outcome.value] += 1
    return {"images": len(entries), **tally}


def write_manifest(
    folder: Path,
    entries: Sequence[ManifestEntry],
    *,
    exported_at: datetime,
    cancelled: bool,
) -> tuple[Path, Path]:
    """Write both manifests into `folder` (blocking); their paths (csv, json)."""
    rows = [row_of(entry, folder) for entry in entries]
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([csv_text(row[column]) for column in COLUMNS] for row in rows)
    csv_path, json_path = folder / MANIFEST_CSV, folder / MANIFEST_JSON
    # a lone surrogate (JSON allows "\ud800" in a name) has no UTF-8: "?" in the CSV, and in
    # the JSON its own escape, which backslashreplace writes exactly as JSON spells it
    write_atomically(csv_path, out.getvalue().encode("utf-8-sig", errors="replace"))
    document = {
        "version": MANIFEST_VERSION,
        "exportedAt": exported_at.isoformat(),
        "cancelled": cancelled,
        "counts": counts(entries),
        "images": rows,
    }
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    write_atomically(json_path, text.encode("utf-8", errors="backslashreplace"))
    return csv_path, json_path
