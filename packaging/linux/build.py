"""Turn PyInstaller's Linux folder into what designers download: a portable .tar.gz and a .deb.

`make package` runs PyInstaller, then this:

    python packaging/linux/build.py --version 0.1.0 --onedir dist/qamera-desktop --out dist [--fast]

- strips the debug information a locally built CPython carries (~40 MB of the folder);
- `qamera-desktop-<version>-linux-<arch>.tar.gz`: the folder as `qamera-desktop-<version>/` with
  a README.txt (how to start it, what to install first);
- `qamera-desktop_<version>_<arch>.deb`: the folder under /opt/qamera-desktop, a `qamera-desktop`
  command in /usr/bin, the menu entry, the icon in the hicolor theme, and Depends on the desktop
  libraries the build leaves to the system (system_libraries.py) and on the C and C++ runtimes as
  new as the bundle's binaries need (read from their symbol versions).
"""

# ruff: noqa: S603, S607 - a build script: it runs the system's binutils and dpkg by name
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import system_libraries

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ICONS = ROOT / "resources" / "icons"
NAME = "qamera-desktop"
INSTALL_DIR = Path("opt") / NAME
DESKTOP_FILE = HERE / f"{NAME}.desktop"
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ELF_MAGIC = b"\x7fELF"

DESCRIPTION = """\
Review and run Qamera AI product photo shoots
 Qamera Desktop browses and reviews the images of Qamera AI product photo shoots
 in a fast thumbnail grid (pick, reject, stars, labels, by keyboard), starts new
 shoots and follows each batch until every image is done. It includes a demo
 sandbox, so it runs with no account and no network."""

# GLIBCXX_3.4.N -> the GCC release whose libstdc++6 first has it (Debian versions its package so)
GLIBCXX_GCC = {25: "8", 26: "9", 27: "9.1", 28: "10", 29: "11", 30: "12", 31: "13", 32: "13.2"}
GLIBCXX_GCC.update({33: "14", 34: "15"})


def elf_files(root: Path) -> Iterator[Path]:
    """Every ELF binary under root (the executable, libraries, extension modules, plugins)."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == ELF_MAGIC:
                    yield path


def _readelf(option: str, path: Path) -> str:
    return subprocess.run(
        ["readelf", option, "--wide", str(path)], capture_output=True, text=True, check=True
    ).stdout


def strip_debug_info(root: Path) -> int:
    """`strip --strip-debug` the binaries that carry debug sections; bytes saved. Only those: the
    wheels' libraries are stripped already, and rewriting them (patchelf'ed by auditwheel) would
    risk breaking them for nothing."""
    saved = 0
    for path in elf_files(root):
        if " .debug_info " not in _readelf("--section-headers", path):
            continue
        before = path.stat().st_size
        subprocess.run(["strip", "--strip-debug", str(path)], check=True)
        saved += before - path.stat().st_size
    return saved


def newest_needed(root: Path) -> dict[str, tuple[int, ...]]:
    """The newest GLIBC_x.y and GLIBCXX_x.y.z symbol versions that the binaries under root need."""
    pattern = re.compile(r"Name: (GLIBC|GLIBCXX)_([0-9.]+)")
    newest: dict[str, tuple[int, ...]] = {}
    for path in elf_files(root):
        for match in pattern.finditer(_readelf("--version-info", path)):
            version = tuple(int(n) for n in match.group(2).split("."))
            newest[match.group(1)] = max(version, newest.get(match.group(1), version))
    return newest


def runtime_depends(root: Path) -> list[str]:
    """libc6 and libstdc++6 at least as new as the bundle's symbol versions require."""
    newest = newest_needed(root)
    depends = []
    if "GLIBC" in newest:
        depends.append("libc6 (>= {})".format(".".join(map(str, newest["GLIBC"]))))
    glibcxx = newest.get("GLIBCXX", ())
    gcc = GLIBCXX_GCC.get(glibcxx[-1]) if glibcxx[:2] == (3, 4) else None
    depends.append(f"libstdc++6 (>= {gcc})" if gcc else "libstdc++6")
    return depends


def debian_architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


@dataclass(frozen=True)
class Build:
    """One run of this script: what it builds from what, and where."""

    version: str
    onedir: Path
    out_dir: Path
    # for the packaging test: the .deb uncompressed and the tarball at gzip level 1, which
    # takes seconds instead of the minute of xz; what they hold is the same
    fast: bool = False
    deb_arch: str = field(default_factory=debian_architecture)
    machine: str = field(default_factory=lambda: os.uname().machine)

    @property
    def deb(self) -> Path:
        return self.out_dir / f"{NAME}_{self.version}_{self.deb_arch}.deb"

    @property
    def tarball(self) -> Path:
        return self.out_dir / f"{NAME}-{self.version}-linux-{self.machine}.tar.gz"


def dependency_line(root: Path) -> str:
    runtime = runtime_depends(root)
    names = {entry.split()[0] for entry in runtime}
    return ", ".join(runtime + [d for d in system_libraries.depends() if d not in names])


def _normalize(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def readme_text(build: Build) -> str:
    packages = " ".join(d.split(" | ")[-1] for d in system_libraries.depends())
    return f"""Qamera Desktop {build.version} for Linux ({build.machine}), portable folder.

Start it with ./{NAME} in this folder (or double-click it in the file manager).
No installation is needed; the app keeps its data in ~/.local/share/{NAME}
and ~/.cache/{NAME}, never in this folder.

It uses the desktop's own X11, xcb, font and GL libraries. A desktop install of
Debian 12+ or Ubuntu 22.04+ has most of them; if the app does not start, install
the rest (Debian and Ubuntu; on Debian 13 and Ubuntu 24.04 use libglib2.0-0t64):

  sudo apt install {packages}

On Debian and Ubuntu the .deb package installs all of that by itself, and adds the
app to the menu: sudo apt install ./{build.deb.name}
"""


def make_tarball(build: Build) -> Path:
    """The folder as qamera-desktop-<version>/, with a README.txt, owned by root."""
    top = f"{NAME}-{build.version}"
    readme = build.out_dir / f".{NAME}-README.txt"
    readme.write_text(readme_text(build), encoding="utf-8")
    try:
        with tarfile.open(build.tarball, "w:gz", compresslevel=1 if build.fast else 6) as tar:
            tar.add(build.onedir, arcname=top, filter=_normalize)
            tar.add(readme, arcname=f"{top}/README.txt", filter=_normalize)
    finally:
        readme.unlink()
    return build.tarball


def _install(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _normalize_modes(root: Path) -> None:
    """755 for directories and executables, 644 for the rest: what dpkg and lintian expect,
    whatever the umask of the build."""
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        if path.is_dir() or path.stat().st_mode & 0o111:
            path.chmod(0o755)
        else:
            path.chmod(0o644)


def _installed_size_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir())
    return (total + 1023) // 1024


def _lay_out(build: Build, root: Path) -> None:
    """The files of the package under root, as dpkg installs them under /."""
    shutil.copytree(build.onedir, root / INSTALL_DIR, symlinks=True)
    command = root / "usr" / "bin" / NAME
    command.parent.mkdir(parents=True)
    command.symlink_to(Path("/") / INSTALL_DIR / NAME)
    share = root / "usr" / "share"
    _install(DESKTOP_FILE, share / "applications" / f"{NAME}.desktop")
    for size in HICOLOR_SIZES:
        _install(ICONS / f"app-{size}.png", share / f"icons/hicolor/{size}x{size}/apps/{NAME}.png")
    _install(ICONS / "app.svg", share / f"icons/hicolor/scalable/apps/{NAME}.svg")
    doc = share / "doc" / NAME
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: qamera-desktop\nSource: https://app.qamera.ai\n\n"
        "Files: *\nCopyright: Qamera AI\nLicense: MIT\n",
        encoding="utf-8",
    )
    _normalize_modes(root)


def _control(build: Build, root: Path) -> str:
    fields = {
        "Package": NAME,
        "Version": build.version,
        "Architecture": build.deb_arch,
        "Maintainer": "Qamera AI <support@qamera.ai>",
        "Installed-Size": str(_installed_size_kib(root)),
        "Depends": dependency_line(root / INSTALL_DIR),
        "Section": "graphics",
        "Priority": "optional",
        "Homepage": "https://app.qamera.ai",
        "Description": DESCRIPTION,
    }
    return "".join(f"{k}: {v}\n" for k, v in fields.items())


def make_deb(build: Build) -> Path:
    """The .deb, built by dpkg-deb from a staging root next to it (removed afterwards)."""
    with tempfile.TemporaryDirectory(dir=build.out_dir, prefix=".deb-root-") as staging:
        root = Path(staging)
        root.chmod(0o755)
        _lay_out(build, root)
        control = root / "DEBIAN" / "control"
        control.parent.mkdir(mode=0o755)
        control.write_text(_control(build, root), encoding="utf-8")
        compression = ["-Znone"] if build.fast else ["-Zxz", "-z6"]
        subprocess.run(
            ["dpkg-deb", "--build", "--root-owner-group", *compression, staging, str(build.deb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return build.deb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, help="the app's version (packaging/version.py)")
    parser.add_argument("--onedir", type=Path, default=ROOT / "dist" / NAME)
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument(
        "--fast",
        action="store_true",
        help="compress for speed (the packaging test): the .deb uncompressed, gzip level 1",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    build = Build(args.version, args.onedir, args.out, fast=args.fast)
    saved = strip_debug_info(build.onedir)
    print(f"stripped debug information: {saved / 2**20:.1f} MB")
    print(make_tarball(build))
    print(make_deb(build))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
