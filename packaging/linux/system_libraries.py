"""The libraries the Linux build takes from the system instead of bundling them, and the Debian
packages that provide them: one list for the spec (what it leaves out), the .deb (its Depends),
the tarball's README (what to install) and the packaging test (that nothing else is missing).

Why not bundle them: they talk to the desktop (the X server, the GL driver, fontconfig's
configuration, D-Bus), and copies from the build machine break on other releases: an old
libstdc++ in the bundle stops the system's Mesa driver from loading, an old fontconfig cannot read
a newer configuration. Every Debian and Ubuntu LTS release has them under these names; Qt's xcb
platform plugin needs the xcb ones, which a desktop install does not always carry
(libxcb-cursor0 above all).

The package names hold for Debian 12 and 13 and Ubuntu 22.04 and 24.04 (amd64). Where the 64-bit
time_t transition renamed a package (Debian 13, Ubuntu 24.04), both names are given as
alternatives.
"""

from __future__ import annotations

from typing import Final

# soname -> Debian package ("a | b" for alternatives)
PROVIDED_BY_SYSTEM: Final[dict[str, str]] = {
    # the C and C++ runtime (libc6's own libraries are never bundled by PyInstaller)
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
    # GL, which PyInstaller never bundles either: the driver belongs to the machine
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    # X11 and the xcb libraries of Qt's xcb platform plugin
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    # fonts, the GLib event loop Qt uses, and D-Bus (screen readers, input methods)
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0t64 | libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0t64 | libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}

# Libraries only the ones above link: they come with their packages and are left out too.
PULLED_IN_BY_SYSTEM: Final[frozenset[str]] = frozenset(
    {
        "libXau.so.6",
        "libXdmcp.so.6",
        "libbsd.so.0",
        "libmd.so.0",
        "libexpat.so.1",
        "libpng16.so.16",
        "libbrotlidec.so.1",
        "libbrotlicommon.so.1",
        "libpcre2-8.so.0",
        "libsystemd.so.0",
        "libcap.so.2",
        "libgcrypt.so.20",
        "libgpg-error.so.0",
        "liblz4.so.1",
    }
)

# Part of libc6 (glibc): present wherever the C library is.
GLIBC: Final[frozenset[str]] = frozenset(
    {
        "libc.so.6",
        "libm.so.6",
        "libdl.so.2",
        "libpthread.so.0",
        "librt.so.1",
        "libutil.so.1",
        "libresolv.so.2",
        "ld-linux-x86-64.so.2",
    }
)


def left_out(soname: str) -> bool:
    """True for a library the bundle must not carry (the system provides it)."""
    return soname in PROVIDED_BY_SYSTEM or soname in PULLED_IN_BY_SYSTEM or soname in GLIBC


def depends() -> list[str]:
    """The .deb's Depends entries for these libraries, each once, in a stable order."""
    return sorted(set(PROVIDED_BY_SYSTEM.values()))
