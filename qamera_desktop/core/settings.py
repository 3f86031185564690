"""Preferences that survive a restart, kept as a small JSON file. Never holds the API key.

Unknown keys are ignored and wrong types fall back to defaults, so a hand-edited or older file never
stops the app from starting. Writes are atomic (temporary file + rename).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Self

log = logging.getLogger(__name__)

THUMB_SIZE_MIN = 96
THUMB_SIZE_MAX = 384
THUMB_SIZE_DEFAULT = 192


@dataclass(frozen=True, slots=True)
class Settings:
    api_url: str | None = None  # None: the default Qamera URL
    product_id: str | None = None  # product filter; None is "All products"
    status_filter: str = "all"
    sort: str = "newest"
    thumb_size: int = THUMB_SIZE_DEFAULT
    show_details: bool = True
    selected_image_id: str | None = None  # the image last made current, made current again
    auto_advance: bool = True  # after a decision on one image, the next one becomes current
    review_flag: str = "all"  # the review filter (core/review.py: FlagFilter, min rating, label)
    review_min_rating: int = 0
    review_label: str | None = None
    export_folder: str | None = None  # the folder of the last export
    export_scope: str = "picks"  # what the last export took: picks, selection or filter
    contact_sheet_page: str = "A4"  # or "Letter"
    contact_sheet_columns: int = 4  # images per row, 2 to 6
    window_geometry: str | None = None  # base64 of QWidget.saveGeometry()
    window_state: str | None = None

    def with_changes(self, **changes: Any) -> Self:
        return replace(self, **changes)

    @classmethod
    def from_json(cls, raw: object) -> Settings:
        if not isinstance(raw, dict):
            return cls()
        defaults = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            default = getattr(defaults, f.name)
            value = raw.get(f.name, default)
            values[f.name] = value if _same_kind(value, default) else default
        values["thumb_size"] = min(max(values["thumb_size"], THUMB_SIZE_MIN), THUMB_SIZE_MAX)
        return cls(**values)


def _same_kind(value: object, default: object) -> bool:
    """Fields are `str | None` (default None), bool, int or str."""
    if default is None:
        return value is None or isinstance(value, str)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


class SettingsStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Settings:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Settings()
        except OSError as exc:
            log.warning("cannot read settings %s: %s", self.path, exc)
            return Settings()
        try:
            return Settings.from_json(json.loads(text))
        except ValueError:
            log.warning("settings file %s is not valid JSON; using defaults", self.path)
            return Settings()

    def save(self, settings: Settings) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(asdict(settings), f, indent=2, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
