"""What a launch of the app was asked for, and the names and defaults the command line documents.

Its own module, below both the command line (cli.py, which builds LaunchOptions) and the app
(app.py and ui/app_controller.py, which use them): neither imports the other for these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qamera_desktop.core.key_env import API_KEY_ENV

__all__ = ["API_KEY_ENV", "API_URL_ENV", "DEFAULT_API_URL", "LaunchOptions"]

API_URL_ENV = "QAMERA_API_URL"
DEFAULT_API_URL = "https://app.qamera.ai"


@dataclass(frozen=True)
class LaunchOptions:
    """What the command line asked for. The API key is read from the environment, never argv."""

    demo: bool
    api_url: str | None
    data_dir: Path | None
    self_test: bool
    screenshot: Path | None
    sandbox_fast: bool
