"""Locate files of the top-level `resources/` folder installed, editable, or frozen.

The wheel ships `resources/` as `qamera_desktop/resources` (hatch force-include) and PyInstaller
puts it at the same place; an editable install reads it from the checkout.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def resources_root() -> Path:
    # the package's own folder (importlib.resources says the same for a package on disk, which
    # every install and PyInstaller's bundle is, at ~8 ms of imports at start)
    packaged = Path(__file__).parent / "resources"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "resources"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("Qamera Desktop resources are missing from this installation.")


def resource_path(*parts: str) -> Path:
    """Absolute path of a shipped resource, e.g. `resource_path("icons", "refresh.svg")`."""
    path = resources_root().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"Missing resource: {'/'.join(parts)}")
    return path
