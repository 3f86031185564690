"""The Linux packages, built once for the module by `make package` (which reuses dist/ when it is
newer than the sources), unpacked into a scratch root as dpkg would install them."""

from __future__ import annotations

import fcntl
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from qamera_desktop import __version__
from tests.e2e.conftest import xvfb_display  # noqa: F401  (the X server of the e2e tests)

ROOT = Path(__file__).resolve().parents[2]
NAME = "qamera-desktop"
BUILD_TIMEOUT_S = 900


def packaging_module(relative_path: str) -> ModuleType:
    """A module of packaging/ by its path: packaging/ is no Python package (its name would
    shadow the `packaging` distribution)."""
    path = ROOT / "packaging" / relative_path
    spec = importlib.util.spec_from_file_location(f"qamera_packaging_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


system_libraries = packaging_module("linux/system_libraries.py")


def deb_architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="session")
def linux_packages() -> dict[str, Path]:
    """{"deb": ..., "tarball": ...} in dist/, built by `make package` when the sources changed.
    A lock keeps two test runs in this checkout from building into dist/ at once."""
    if not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None:
        pytest.skip("the .deb is built on Debian or Ubuntu (dpkg-deb)")
    (ROOT / "build").mkdir(exist_ok=True)
    with (ROOT / "build" / ".package.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            ["make", "--no-print-directory", "package"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
        )
    assert result.returncode == 0, (
        f"make package failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    machine = subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip()
    return {
        "deb": ROOT / "dist" / f"{NAME}_{__version__}_{deb_architecture()}.deb",
        "tarball": ROOT / "dist" / f"{NAME}-{__version__}-linux-{machine}.tar.gz",
    }


@pytest.fixture(scope="session")
def installed_root(
    linux_packages: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The .deb's files unpacked under a scratch root, as dpkg would lay them out under /."""
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg-deb", "-x", str(linux_packages["deb"]), str(root)], check=True)
    return root
