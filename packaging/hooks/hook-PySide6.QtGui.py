# PyInstaller hook for PySide6.QtGui, used instead of PyInstaller's own (packaging/hooks is the
# spec's hookspath, which comes first): the same collection, but only the Qt plugins the app uses.
#
# PyInstaller's hook takes every plugin of QtGui's plugin types, and through their links whole
# stacks the app never loads: the GTK theme brings GTK, GDK, cairo and pango (~15 MB), Wayland its
# client libraries, eglfs, linuxfb and vnc the embedded-device stacks. Filtering here, before the
# dependency analysis, leaves those libraries out with their plugins.
#
# Plugin types not named below (e.g. macOS's platforms/darwin) are kept whole.

from pathlib import PurePosixPath

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

KEPT_PLUGINS = {
    # xcb on X11 (a Wayland session runs it through XWayland), the native ones on Windows and
    # macOS, offscreen for `--self-test` on a machine without a display
    "platforms": {"qxcb", "qwindows", "qcocoa", "qoffscreen"},
    # the app's icons are SVG (resources/icons); images come decoded from Pillow, but QImage
    # reading a downloaded JPEG, WebP or GIF should keep working
    "iconengines": {"qsvgicon"},
    "imageformats": {"qsvg", "qjpeg", "qwebp", "qgif", "qico"},
    # dead keys and compose sequences; ibus for input methods (CJK names in the search field)
    "platforminputcontexts": {
        "composeplatforminputcontextplugin",
        "ibusplatforminputcontextplugin",
    },
    # Qt's built-in GNOME/KDE themes are enough; the GTK3 one would bring GTK itself
    "platformthemes": set(),
    # GL for the xcb plugin: the app draws with the raster engine (no QOpenGLWidget, no Quick)
    "xcbglintegrations": set(),
    # evdev/tuio input and EGL devices: embedded Linux without a window system
    "generic": set(),
    "egldeviceintegrations": set(),
    "wayland-decoration-client": set(),
    "wayland-graphics-integration-client": set(),
    "wayland-shell-integration": set(),
}


def _plugin(path: str) -> tuple[str, str] | None:
    """("platforms", "qxcb") for ".../plugins/platforms/libqxcb.so"; None for a non-plugin."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if "plugins" not in parts[:-1]:
        return None
    kind = "/".join(parts[parts.index("plugins") + 1 : -1])
    stem = parts[-1].split(".")[0]
    return kind, stem[3:] if stem.startswith("lib") else stem


def _kept(source: str, destination: str) -> bool:
    file_name = source.replace("\\", "/").rsplit("/", 1)[-1]
    plugin = _plugin(f"{destination}/{file_name}")
    if plugin is None:
        return True
    kind, name = plugin
    return kind not in KEPT_PLUGINS or name in KEPT_PLUGINS[kind]


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(source, destination) for source, destination in binaries if _kept(source, destination)]
