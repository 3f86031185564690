"""The Linux installers as a designer gets them: `make package` builds the .deb and the tarball;
the .deb, unpacked as dpkg would install it, has a valid menu entry, its icons, a command on PATH,
control fields that name every library it takes from the system, and the installed app passes
its self-test with its thumbnail worker process, and writes only to the user's folders."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from qamera_desktop import __version__
from tests.packaging.conftest import NAME, deb_architecture, system_libraries

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

INSTALL_DIR = Path("opt") / NAME
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
WORKER_FLAG = "--thumbnail-worker"


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


def elf_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    yield path


def needed_libraries(path: Path) -> set[str]:
    dynamic = subprocess.run(
        ["readelf", "--dynamic", "--wide", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic))


def frozen_env(home: Path, **extra: str) -> dict[str, str]:
    """A designer's session: their own home, no key (the demo sandbox), no keyring."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QAMERA_NO_KEYRING": "1",
        "QAMERA_LOG_LEVEL": "INFO",
        "XDG_RUNTIME_DIR": str(home),
        **extra,
    }
    home.mkdir(parents=True, exist_ok=True)
    return env


def worker_processes(parent: int) -> list[list[str]]:
    """Command lines of parent's children that are thumbnail workers (read from /proc)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = re.search(r"^PPid:\s+(\d+)", status.read_text(), re.M)
            cmdline = (status.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # it ended meanwhile
        if ppid and int(ppid.group(1)) == parent and WORKER_FLAG.encode() in cmdline:
            found.append([part.decode() for part in cmdline if part])
    return found


def run_watching_workers(
    command: list[str], env: dict[str, str], timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    """Run the app to its end; also return the thumbnail workers it started, seen in /proc."""
    seen: list[list[str]] = []
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                seen.extend(w for w in worker_processes(process.pid) if w not in seen)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            out, err = process.communicate(timeout=timeout)
        finally:
            done.set()
            watcher.join()
    return subprocess.CompletedProcess(command, process.returncode, out, err), seen


def file_states(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in root.rglob("*")
    }


# -- the package --------------------------------------------------------------------------------
def test_control_file_names_the_package_its_version_and_every_system_library(
    linux_packages: dict[str, Path],
) -> None:
    fields = control_fields(linux_packages["deb"])
    assert fields["Package"] == NAME
    assert fields["Version"] == __version__
    assert fields["Architecture"] == deb_architecture()
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


@pytest.mark.skipif(
    shutil.which("desktop-file-validate") is None,
    reason="desktop-file-validate is not installed (apt-get install desktop-file-utils)",
)
def test_menu_entry_is_valid(installed_root: Path) -> None:
    desktop = installed_root / "usr" / "share" / "applications" / f"{NAME}.desktop"
    result = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""  # no warnings or hints either


def test_every_library_is_bundled_or_comes_from_a_dependency(installed_root: Path) -> None:
    """What a bundled binary links is either in the bundle or provided by a package the .deb
    depends on; and the bundle carries none of the system's own libraries."""
    app = installed_root / INSTALL_DIR
    bundled = {p.name for p in app.rglob("*") if ".so" in p.name}
    missing: dict[str, set[str]] = {}
    for path in elf_files(app):
        for library in needed_libraries(path) - bundled:
            if not system_libraries.left_out(library):
                missing.setdefault(library, set()).add(str(path.relative_to(app)))
    assert not missing, f"neither bundled nor in Depends: {missing}"
    assert not {name for name in bundled if system_libraries.left_out(name)}


def test_depends_name_the_packages_that_provide_the_libraries_here() -> None:
    """Each soname of the list belongs, on this Debian machine, to one of the packages named for it
    (checked for those installed here: the e2e set-up installs the xcb ones)."""
    checked = 0
    for soname, packages in system_libraries.PROVIDED_BY_SYSTEM.items():
        found = subprocess.run(
            ["dpkg-query", "--search", f"*/{soname}"], capture_output=True, text=True
        )
        owners = {line.split(":")[0] for line in found.stdout.splitlines()}
        if not owners:
            continue
        alternatives = {p.strip() for p in packages.split("|")}
        assert owners & alternatives, f"{soname} comes from {owners}, not {alternatives}"
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
def test_installed_app_passes_self_test_with_its_thumbnail_worker(
    installed_root: Path, tmp_path: Path
) -> None:
    executable = installed_root / INSTALL_DIR / NAME
    env = frozen_env(tmp_path / "home", QT_QPA_PLATFORM="offscreen")
    result, workers = run_watching_workers([str(executable), "--self-test"], env)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert result.stdout.startswith("self-test ok:"), result.stdout
    # the frozen app started itself as its worker (sys.frozen: no "-m qamera_desktop")...
    assert workers, "no thumbnail worker process was seen"
    assert workers[0][:2] == [str(executable), WORKER_FLAG]
    # ...and did not fall back to loading in its own process
    assert "loading in the app" not in result.stderr


def test_installed_app_writes_only_to_the_users_folders(
    installed_root: Path, tmp_path: Path, xvfb_display: str
) -> None:
    """Started like from the menu (X11 through the system's xcb libraries, no --data-dir): the
    library, settings and sandbox go to ~/.local/share, thumbnails to ~/.cache, nothing into the
    installation."""
    app_dir = installed_root / INSTALL_DIR
    before = file_states(app_dir)
    home = tmp_path / "home"
    env = frozen_env(home, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb", QAMERA_STARTUP_TRACE="exit")
    result, workers = run_watching_workers([str(app_dir / NAME), "--demo"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trace thumbnails-painted" in result.stdout  # the window showed its first thumbnails
    assert workers
    assert file_states(app_dir) == before
    data = home / ".local" / "share" / NAME
    assert (data / "library.sqlite3").is_file()
    assert (data / "sandbox").is_dir()
    assert any((home / ".cache" / NAME / "thumbnails").rglob("*"))
    assert {p.name for p in home.iterdir()} <= {".local", ".cache", ".config"}
