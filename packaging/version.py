"""The app's version for the packaging scripts, read from `qamera_desktop/__init__.py` (the one
place it is written) without importing the app, so that any Python can print it:
`python packaging/version.py` (the release workflow and the Inno Setup script use that).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION_FILE = ROOT / "qamera_desktop" / "__init__.py"


def app_version() -> str:
    """`__version__` of qamera_desktop, e.g. "0.1.0"."""
    for node in ast.parse(VERSION_FILE.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise LookupError(f"no __version__ = '...' in {VERSION_FILE}")


def numeric_version(version: str) -> tuple[int, int, int, int]:
    """The four numbers Windows version resources and Info.plist's CFBundleVersion want:
    "1.2.3rc1" -> (1, 2, 3, 0)."""
    numbers: list[int] = []
    for part in version.split(".")[:4]:
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        numbers.append(int(digits or 0))
    while len(numbers) < 4:
        numbers.append(0)
    return numbers[0], numbers[1], numbers[2], numbers[3]


if __name__ == "__main__":
    print(app_version())
