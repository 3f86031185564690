"""The PyInstaller spec leaves modules out of the frozen app by name: none of them may be one the
app imports, or the frozen app alone would fail (with ImportError, on the path that imports it).
Read from the source, so that a new import of, say, QtPrintSupport fails here at once."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.packaging.conftest import ROOT

SPEC = ROOT / "packaging" / "qamera-desktop.spec"


def spec_list(name: str) -> list[str]:
    """A list of module names assigned in the spec, e.g. QT_EXCLUDES."""
    for node in ast.parse(SPEC.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return [str(v) for v in value]
    raise LookupError(f"{name} is not in {SPEC}")


def imported_modules(package: Path) -> dict[str, set[str]]:
    """Every absolute module name imported in the package's sources, with the files importing it
    (`from PySide6.QtGui import X` counts as PySide6.QtGui, `import a.b` as a.b)."""
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_no_excluded_module_is_imported_by_the_app() -> None:
    imported = imported_modules(ROOT / "qamera_desktop")
    excluded = spec_list("QT_EXCLUDES") + spec_list("PY_EXCLUDES")
    clashes = {
        name: files
        for name, files in imported.items()
        if any(name == x or name.startswith(f"{x}.") for x in excluded)
    }
    assert not clashes, f"the frozen app would miss these modules: {clashes}"


def test_the_app_imports_qt_modules_the_spec_keeps() -> None:
    """The check above sees the app's Qt imports at all (QtCore, QtGui, QtWidgets)."""
    qt = {name for name in imported_modules(ROOT / "qamera_desktop") if name.startswith("PySide6.")}
    assert {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets"} <= qt
    assert "PySide6.QtGui" not in spec_list("QT_EXCLUDES")
