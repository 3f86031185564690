"""Where the app keeps its files, per platform, overridable with --data-dir / $QAMERA_DATA_DIR."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

APP_DIR_NAME = "qamera-desktop"


def _platform_data_home() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _platform_cache_home() -> Path:
    if sys.platform == "win32":
        return _platform_data_home()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


@dataclass(frozen=True, slots=True)
class ProfilePaths:
    """The folders and files of one profile (core/profiles.py): its database, the demo sandbox's
    own data, its thumbnails."""

    data_dir: Path
    cache_dir: Path

    @property
    def database_file(self) -> Path:
        return self.data_dir / "library.sqlite3"

    @property
    def sandbox_dir(self) -> Path:
        """The demo sandbox's own data (its server's database and rendered images)."""
        return self.data_dir / "sandbox"

    @property
    def thumbnail_cache_dir(self) -> Path:
        return self.cache_dir / "thumbnails"

    def ensure(self) -> None:
        for path in (self.data_dir, self.cache_dir, self.thumbnail_cache_dir):
            path.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True, slots=True)
class AppPaths(ProfilePaths):
    """The app's folders, which are also the demo profile's (it keeps the folders the app used
    before profiles), and the settings shared by every profile."""

    @classmethod
    def resolve(cls, data_dir: Path | None = None) -> AppPaths:
        """`data_dir` (or $QAMERA_DATA_DIR) puts everything, the cache too, under one folder."""
        chosen = data_dir or (
            Path(os.environ["QAMERA_DATA_DIR"]) if os.environ.get("QAMERA_DATA_DIR") else None
        )
        if chosen is not None:
            root = chosen.expanduser().resolve()
            return cls(data_dir=root, cache_dir=root / "cache")
        return cls(
            data_dir=_platform_data_home() / APP_DIR_NAME,
            cache_dir=_platform_cache_home() / APP_DIR_NAME,
        )

    @property
    def settings_file(self) -> Path:
        return self.data_dir / "settings.json"
