"""The Linux installers as a designer gets them: `make package` builds the .deb and the tarball;
the .deb, unpacked as dpkg would install it, has a valid menu entry, its icons, a command on PATH,
control fields that name every library it takes from the system, and the installed app passes
its self-test with its thumbnail worker process, and writes only to the user's folders."""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from qamera_desktop import __version__
from tests.packaging.conftest import (
    NAME,
    check_frozen,
    linux_build,
    system_libraries,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

INSTALL_DIR = Path("opt") / NAME
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def control_fields(deb: Path) -> dict[str, str]:
    text = subprocess.run(
        ["dpkg-deb", "--field", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith(" ") and fields:
            last = next(reversed(fields))
            fields[last] += "\n" + line
        else:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def needed_libraries(path: Path) -> set[str]:
    dynamic = subprocess.run(
        ["readelf", "--dynamic", "--wide", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic))


# -- the package --------------------------------------------------------------------------------
def test_control_file_names_the_package_its_version_and_every_system_library(
    linux_packages: dict[str, Path],
) -> None:
    fields = control_fields(linux_packages["deb"])
    assert fields["Package"] == NAME
    assert fields["Version"] == __version__
    assert fields["Architecture"] == linux_build.debian_architecture()
    assert fields["Section"] == "graphics"
    assert int(fields["Installed-Size"]) > 50_000  # KiB: the whole app, not an empty shell
    assert fields["Description"].startswith("Review and run Qamera AI product photo shoots\n ")
    depends = [d.strip() for d in fields["Depends"].split(",")]
    without_versions = {d.split(" (")[0] for d in depends}
    for needed in system_libraries.depends():
        assert needed in without_versions
    # the C and C++ runtimes at least as new as the bundle's binaries' symbol versions
    assert any(re.fullmatch(r"libc6 \(>= 2\.\d+\)", d) for d in depends), depends
    assert any(d.startswith("libstdc++6") for d in depends), depends


def test_installs_under_opt_with_a_command_on_path(installed_root: Path) -> None:
    executable = installed_root / INSTALL_DIR / NAME
    assert executable.is_file()
    assert os.access(executable, os.X_OK)
    command = installed_root / "usr" / "bin" / NAME
    assert command.is_symlink()
    assert os.readlink(command) == f"/{INSTALL_DIR}/{NAME}"
    # every path is where dpkg expects one: nothing outside /opt/qamera-desktop and /usr
    assert {p.name for p in installed_root.iterdir()} == {"opt", "usr"}
    assert (installed_root / "usr" / "share" / "doc" / NAME / "copyright").is_file()


def test_menu_entry_starts_the_command_with_the_themed_icon(installed_root: Path) -> None:
    desktop = installed_root / "usr" / "share" / "applications" / f"{NAME}.desktop"
    entry = dict(line.split("=", 1) for line in desktop.read_text().splitlines() if "=" in line)
    assert entry["Exec"] == NAME  # the symlink in /usr/bin
    assert entry["Icon"] == NAME
    assert entry["Name"] == "Qamera Desktop"
    # GNOME groups the window under this entry by the window's WM_CLASS instance (argv[0])
    assert entry["StartupWMClass"] == NAME
    hicolor = installed_root / "usr" / "share" / "icons" / "hicolor"
    for size in ICON_SIZES:
        with Image.open(hicolor / f"{size}x{size}" / "apps" / f"{NAME}.png") as icon:
            assert icon.size == (size, size)
            assert icon.mode == "RGBA"
    assert (hicolor / "scalable" / "apps" / f"{NAME}.svg").read_text().startswith("<svg")


def test_menu_entry_is_valid(installed_root: Path, desktop_file_validate: str) -> None:
    desktop = installed_root / "usr" / "share" / "applications" / f"{NAME}.desktop"
    result = subprocess.run([desktop_file_validate, str(desktop)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""  # no warnings or hints either


def test_every_library_is_bundled_or_comes_from_a_dependency(installed_root: Path) -> None:
    """What a bundled binary links is either in the bundle or provided by a package the .deb
    depends on; and the bundle carries none of the system's own libraries."""
    app = installed_root / INSTALL_DIR
    bundled = {p.name for p in app.rglob("*") if ".so" in p.name}
    missing: dict[str, set[str]] = {}
    for path in linux_build.elf_files(app):
        for library in needed_libraries(path) - bundled:
            if not system_libraries.left_out(library):
                missing.setdefault(library, set()).add(str(path.relative_to(app)))
    assert not missing, f"neither bundled nor in Depends: {missing}"
    assert not {name for name in bundled if system_libraries.left_out(name)}


def test_depends_name_the_packages_that_provide_the_libraries_here() -> None:
    """Each soname of the list belongs, on this Debian machine, to one of the packages named for it
    (checked for those installed here: the e2e set-up installs the xcb ones)."""
    patterns = [f"*/{soname}" for soname in system_libraries.PROVIDED_BY_SYSTEM]
    found = subprocess.run(["dpkg-query", "--search", *patterns], capture_output=True, text=True)
    owners: dict[str, set[str]] = {}
    for line in found.stdout.splitlines():
        packages, _, path = line.partition(": ")
        for package in packages.split(", "):
            owners.setdefault(Path(path).name, set()).add(package.split(":")[0])
    checked = 0
    for soname, alternatives in system_libraries.PROVIDED_BY_SYSTEM.items():
        if soname in owners:
            named = {p.strip() for p in alternatives.split("|")}
            assert owners[soname] & named, f"{soname} comes from {owners[soname]}, not {named}"
            checked += 1
    assert checked >= 20


def test_tarball_holds_the_app_and_its_readme(linux_packages: dict[str, Path]) -> None:
    top = f"{NAME}-{__version__}"
    with tarfile.open(linux_packages["tarball"]) as tar:
        members = {m.name: m for m in tar.getmembers()}
        readme = tar.extractfile(members[f"{top}/README.txt"])
        assert readme is not None
        text = readme.read().decode()
    assert all(name == top or name.startswith(f"{top}/") for name in members)
    executable = members[f"{top}/{NAME}"]
    assert executable.isfile()
    assert executable.mode & 0o111
    assert {m.uid for m in members.values()} == {0}
    assert f"./{NAME}" in text
    assert "libxcb-cursor0" in text  # what to install when a library is missing


# -- the installed app --------------------------------------------------------------------------
def designer_env(home: Path, **changes: str) -> dict[str, str]:
    """A designer's session with its own home: the user folders are the XDG defaults under it."""
    env: dict[str, str] = check_frozen.app_env(HOME=str(home), XDG_RUNTIME_DIR=str(home), **changes)
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "QAMERA_DATA_DIR"):
        env.pop(name, None)
    home.mkdir(parents=True, exist_ok=True)
    return env


def test_installed_app_passes_self_test_with_its_thumbnail_worker(
    installed_root: Path, tmp_path: Path
) -> None:
    executable = installed_root / INSTALL_DIR / NAME
    env = designer_env(tmp_path / "home", QT_QPA_PLATFORM="offscreen")
    run = check_frozen.run_app([str(executable), "--self-test"], env)
    assert check_frozen.self_test_problems(run, executable) == [], run.stderr[-3000:]
    # the frozen app started itself as its worker (sys.frozen: no "-m qamera_desktop")
    assert run.workers
    assert run.workers[0][:2] == [str(executable), "--thumbnail-worker"]


def test_installed_app_writes_only_to_the_users_folders(
    installed_root: Path, tmp_path: Path, xvfb_display: str
) -> None:
    """Started like from the menu (X11 through the system's xcb libraries, no --data-dir): the
    library, settings and sandbox go to ~/.local/share, thumbnails to ~/.cache, nothing into the
    installation."""
    app_dir = installed_root / INSTALL_DIR
    before = check_frozen.file_states(app_dir)
    home = tmp_path / "home"
    env = designer_env(
        home, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb", QAMERA_STARTUP_TRACE="exit"
    )
    run = check_frozen.run_app([str(app_dir / NAME), "--demo"], env)
    data = home / ".local" / "share" / NAME
    assert check_frozen.user_data_problems(run, data, before, app_dir) == []
    assert run.workers
    assert (data / "sandbox").is_dir()
    assert any((home / ".cache" / NAME / "thumbnails").rglob("*"))
    assert {p.name for p in home.iterdir()} <= {".local", ".cache", ".config"}


def test_installed_app_exports_headless(installed_root: Path, tmp_path: Path) -> None:
    """`qamera-desktop export` (no window, no Qt) through the installed command: every finished
    image of a fresh demo sandbox, and the manifest."""
    executable = installed_root / INSTALL_DIR / NAME
    assert check_frozen.export_problems(executable, tmp_path) == []
