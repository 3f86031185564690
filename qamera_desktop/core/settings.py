"""Preferences that survive a restart, kept as a small JSON file. Never holds the API key.

Unknown keys are ignored and wrong types fall back to defaults, so a hand-edited or older file never
stops the app from starting. Writes are atomic and durable (`core/export/files.write_atomically`:
a temporary file, fsync'd, renamed over the old one), so a kill at any moment leaves the last
complete file, never half of one. The window writes them debounced (ui/settings_writer.py): at
most every few hundred milliseconds, and at once when it closes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Self

from qamera_desktop.api.shoot_request import DEFAULT_COUNT, MAX_COUNT, MIN_COUNT
from qamera_desktop.core.export.files import write_atomically

log = logging.getLogger(__name__)

THUMB_SIZE_MIN = 96
THUMB_SIZE_MAX = 384
THUMB_SIZE_DEFAULT = 192
CACHE_MB_MIN: Final = 64
CACHE_MB_MAX: Final = 16_384
CACHE_MB_DEFAULT: Final = 512  # the thumbnail pipeline's own default (core/thumbnails/pipeline.py)

type Shortcuts = Mapping[str, tuple[str, ...]]
"""Keys the designer chose, per action id (ui/actions.py), in Qt's portable text; an action not
named keeps its default keys, one named with no key has none."""


class Theme(StrEnum):
    SYSTEM = "system"  # follow the operating system's light or dark mode
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the app remembers between runs (settings.json), with its defaults."""

    api_url: str | None = None  # None: the default Qamera URL
    product_id: str | None = None  # product filter; None is "All products"
    status_filter: str = "all"
    sort: str = "newest"
    thumb_size: int = THUMB_SIZE_DEFAULT
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
    window_state: str | None = None  # base64 of QMainWindow.saveState(): the Shoots dock
    splitter_state: str | None = None  # base64 of the grid/details QSplitter.saveState()
    # -- Preferences (ui/preferences_dialog.py) --
    theme: str = Theme.SYSTEM.value
    notifications: bool = True  # say when a shoot finishes while the window is not in front
    thumbnail_cache_mb: int = CACHE_MB_DEFAULT  # the thumbnail disk cache's limit
    new_shoot_industry: str | None = None  # the New shoot dialog's industry when nothing else
    new_shoot_count: int = DEFAULT_COUNT  # and its number of images
    shortcuts: Shortcuts = field(default_factory=dict)

    def with_changes(self, **changes: Any) -> Self:
        return replace(self, **changes)

    @property
    def theme_choice(self) -> Theme:
        return Theme(self.theme)

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
        values["thumb_size"] = _clamp(values["thumb_size"], THUMB_SIZE_MIN, THUMB_SIZE_MAX)
        values["thumbnail_cache_mb"] = _clamp(
            values["thumbnail_cache_mb"], CACHE_MB_MIN, CACHE_MB_MAX
        )
        values["new_shoot_count"] = _clamp(values["new_shoot_count"], MIN_COUNT, MAX_COUNT)
        if values["theme"] not in set(Theme):
            values["theme"] = defaults.theme
        values["shortcuts"] = _shortcuts(raw.get("shortcuts"))
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["shortcuts"] = {k: list(v) for k, v in sorted(self.shortcuts.items())}
        return values


def _clamp(value: int, low: int, high: int) -> int:
    return min(max(value, low), high)


def _same_kind(value: object, default: object) -> bool:
    """Fields are `str | None` (default None), bool, int or str (the shortcuts' mapping is read
    by `_shortcuts`)."""
    if default is None:
        return value is None or isinstance(value, str)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def _shortcuts(raw: object) -> dict[str, tuple[str, ...]]:
    """The mapping as written: action id -> a list of key texts; anything else is skipped (whether
    the ids and keys mean something is the window's business: ui/actions.py)."""
    if not isinstance(raw, dict):
        return {}
    return {
        action_id: tuple(keys)
        for action_id, keys in raw.items()
        if isinstance(action_id, str)
        and isinstance(keys, list)
        and all(isinstance(k, str) and k for k in keys)
    }


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
        """Write `settings` whole: the old file stays until the new one is complete on disk."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(settings.to_json(), indent=2, sort_keys=True)
        write_atomically(self.path, text.encode("utf-8"))
