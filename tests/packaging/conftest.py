"""The Linux packages, built once a session by `make package` (its PyInstaller folder reused when
it is newer than the sources), and the .deb unpacked into a scratch root as dpkg installs it."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from qamera_desktop import __version__
from tests.e2e.conftest import _install as apt_install
from tests.e2e.conftest import xvfb_display  # noqa: F401  (the X server of the e2e tests)

ROOT = Path(__file__).resolve().parents[2]
NAME = "qamera-desktop"
BUILD_TIMEOUT_S = 900


def packaging_module(relative_path: str, name: str | None = None) -> ModuleType:
    """A module of packaging/ by its path: packaging/ is no Python package (its name would
    shadow the `packaging` distribution). `name`: the name a sibling script imports it by."""
    path = ROOT / "packaging" / relative_path
    spec = importlib.util.spec_from_file_location(name or f"qamera_packaging_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# build.py imports its sibling as `system_libraries`, as when it runs as a script
system_libraries = packaging_module("linux/system_libraries.py", name="system_libraries")
linux_build = packaging_module("linux/build.py")
check_frozen = packaging_module("check_frozen.py")


@pytest.fixture(scope="session")
def linux_packages() -> dict[str, Path]:
    """{"deb": ..., "tarball": ...}: built by `make package` into build/test-packages, from
    dist/qamera-desktop (which make rebuilds only when the sources changed), compressed for
    speed. A lock keeps two test runs in this checkout from building at once."""
    if not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None:
        pytest.skip("the .deb is built on Debian or Ubuntu (dpkg-deb)")
    out = ROOT / "build" / "test-packages"
    out.mkdir(parents=True, exist_ok=True)
    with (out / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            ["make", "--no-print-directory", "package", f"PACKAGE_OUT={out}", "PACKAGE_FAST=1"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
        )
    assert result.returncode == 0, (
        f"make package failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    build = linux_build.Build(__version__, ROOT / "dist" / NAME, out)
    return {"deb": build.deb, "tarball": build.tarball}


@pytest.fixture(scope="session")
def installed_root(
    linux_packages: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The .deb's files unpacked under a scratch root, as dpkg would lay them out under /."""
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg-deb", "-x", str(linux_packages["deb"]), str(root)], check=True)
    return root


@pytest.fixture(scope="session")
def desktop_file_validate() -> str:
    """desktop-file-validate, installed with apt-get when missing (as root, like Xvfb for the
    e2e tests); the check is skipped where it cannot be."""
    found = shutil.which("desktop-file-validate")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        apt_install(["desktop-file-utils"])
        found = shutil.which("desktop-file-validate")
    if found is None:
        pytest.skip("desktop-file-validate is missing (apt-get install desktop-file-utils)")
    return found
