"""pyproject.toml declares what the code imports, and the lock files in requirements/ (which
`make run`, `make test` and `make package` install from) pin every declared package, with hashes,
at a version that pyproject.toml allows: a dependency changed without `make lock` fails here."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
SELF = canonicalize_name(PROJECT["name"])
PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?: ; (?P<marker>[^\\]+?))? \\$"
)
HASH = re.compile(r"^\s+--hash=sha256:[0-9a-f]{64}")


def requirements(*extras: str) -> list[Requirement]:
    """The project's requirements with these extras, the project's own extras expanded."""
    found = [Requirement(text) for text in PROJECT["dependencies"]]
    for extra in extras:
        for text in PROJECT["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == SELF:
                found += requirements(*requirement.extras)
            else:
                found.append(requirement)
    return found


def read_lock(name: str) -> dict[str, str]:
    """name -> pinned version; every pin must carry at least one sha256 hash."""
    lines = (ROOT / "requirements" / name).read_text().splitlines()
    pins: dict[str, str] = {}
    for i, line in enumerate(lines):
        if not line or line[0] in " #":
            continue
        match = PIN.match(line)
        assert match, f"{name}:{i + 1}: not a hashed pin: {line!r}"
        assert i + 1 < len(lines), f"{name}:{i + 1}: no hash"
        assert HASH.match(lines[i + 1]), f"{name}:{i + 1}: no hash"
        pins[canonicalize_name(match["name"])] = match["version"]
    return pins


LOCKS = {
    "run.lock": (),
    "dev.lock": ("dev",),
    "package.lock": ("package",),
}


@pytest.mark.parametrize(("lock", "extras"), LOCKS.items())
def test_every_declared_package_is_locked_at_an_allowed_version(
    lock: str, extras: tuple[str, ...]
) -> None:
    pins = read_lock(lock)
    build_requires = [Requirement(text) for text in PYPROJECT["build-system"]["requires"]]
    for requirement in [*requirements(*extras), *build_requires]:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements/{lock}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements/{lock} pins {name}=={pins[name]}, pyproject.toml asks {requirement}: "
            "run `make lock`"
        )


def test_the_locks_agree_on_every_package_they_share() -> None:
    run, dev, package = (read_lock(name) for name in LOCKS)
    for other in (dev, package):
        assert {name: other[name] for name in run} == run


def third_party_imports(package: Path) -> set[str]:
    """Top-level names of the modules imported anywhere in `package`, except its own and stdlib."""
    names: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.partition(".")[0])
    return names - set(sys.stdlib_module_names) - {package.name, "__future__"}


@pytest.mark.parametrize(
    ("package", "extras"), [("qamera_desktop", ()), ("tests", ("dev",))], ids=["app", "tests"]
)
def test_every_package_imported_is_declared(package: str, extras: tuple[str, ...]) -> None:
    declared = {canonicalize_name(r.name) for r in requirements(*extras)}
    providers = importlib.metadata.packages_distributions()
    for module in sorted(third_party_imports(ROOT / package) - {"qamera_desktop"}):
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        assert dists, f"{package} imports {module}, which no installed package provides"
        assert dists & declared, f"{package} imports {module} ({dists}): not declared"
