"""Light or dark: the theme chosen in Preferences (core/settings.py's `Theme`), applied to the
whole application with Qt's own means.

Where the platform can switch (Qt 6.8+ on Windows, macOS and the GNOME and KDE themes),
`QStyleHints.setColorScheme` asks it to, and the native style draws itself light or dark. Where it
cannot (the generic X11 theme, as under Xvfb or a bare window manager: the scheme stays Unknown),
the app uses the Fusion style with a palette of its own, dark or light. "Follow the system" gives
the platform its scheme, style and palette back.

Every colour of the app's own drawing comes from the palette (the grid's cells: ui/image_delegate.py
keys its look on `QPalette.cacheKey()`), or from `is_dark()` for the few that need a tone of their
own on either background (the demo banner, error text). Widgets that set such a colour at build
time set it again on `QEvent.PaletteChange`.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from qamera_desktop.core.settings import Theme

FALLBACK_STYLE: Final = "Fusion"
_SCHEMES: Final = {Theme.LIGHT: Qt.ColorScheme.Light, Theme.DARK: Qt.ColorScheme.Dark}

Role = QPalette.ColorRole
Group = QPalette.ColorGroup

DARK_COLOURS: Final[dict[QPalette.ColorRole, str]] = {
    Role.Window: "#2b2b2b",
    Role.WindowText: "#e8e8e8",
    Role.Base: "#1f1f1f",
    Role.AlternateBase: "#333333",  # the grid's thumbnail backdrop
    Role.ToolTipBase: "#3c3c3c",
    Role.ToolTipText: "#e8e8e8",
    Role.PlaceholderText: "#8f8f8f",
    Role.Text: "#e8e8e8",
    Role.Button: "#363636",
    Role.ButtonText: "#e8e8e8",
    Role.BrightText: "#ff6b6b",
    Role.Light: "#4d4d4d",
    Role.Midlight: "#404040",
    Role.Mid: "#4a4a4a",  # the lines between the bars (style sheets' palette(mid))
    Role.Dark: "#1a1a1a",
    Role.Shadow: "#0d0d0d",
    Role.Highlight: "#3d7fd6",
    Role.HighlightedText: "#ffffff",
    Role.Link: "#74b3ff",
    Role.LinkVisited: "#b59cf0",
    Role.Accent: "#3d7fd6",
}
DARK_DISABLED: Final[dict[QPalette.ColorRole, str]] = {
    Role.WindowText: "#7c7c7c",
    Role.Text: "#7c7c7c",
    Role.ButtonText: "#7c7c7c",
    Role.Highlight: "#4a4a4a",
    Role.HighlightedText: "#a0a0a0",
}
LIGHT_BUTTON: Final = "#efefef"  # Fusion's own light window colour, from which Qt derives the rest


class _Platform:
    """The style the platform gave the app, taken the first time a theme is applied (a switch
    back to the system's look restores it)."""

    style: str | None = None
    changed = False  # whether a theme was applied: the system's look needs undoing only then


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in DARK_COLOURS.items():
        palette.setColor(role, QColor(colour))
    for role, colour in DARK_DISABLED.items():
        palette.setColor(Group.Disabled, role, QColor(colour))
    return palette


def light_palette() -> QPalette:
    return QPalette(QColor(LIGHT_BUTTON))


def apply_theme(theme: Theme, app: QApplication | None = None) -> bool:
    """Make the app look `theme`. True when the platform itself switched (native look), False
    when the app's own Fusion palette stands in (or for the system's own look)."""
    app = app or _application()
    if _Platform.style is None:
        _Platform.style = app.style().name()
    hints = QGuiApplication.styleHints()
    wanted = _SCHEMES.get(theme)
    if wanted is None:
        if not _Platform.changed:
            return False  # the app starts as the platform made it
        hints.unsetColorScheme()
        _set_style(app, _Platform.style)
        app.setPalette(QPalette())  # the platform's own palette again
        return False
    _Platform.changed = True
    hints.setColorScheme(wanted)
    if hints.colorScheme() == wanted:
        _set_style(app, _Platform.style)
        app.setPalette(QPalette())
        return True
    _set_style(app, FALLBACK_STYLE)
    app.setPalette(dark_palette() if theme is Theme.DARK else light_palette())
    return False


def is_dark(palette: QPalette) -> bool:
    """Whether `palette` draws light text on a dark window."""
    return palette.color(Role.Window).lightness() < palette.color(Role.WindowText).lightness()


def banner_style(palette: QPalette) -> str:
    """The demo banner's style sheet: a warm note that reads on the window, light or dark."""
    if is_dark(palette):
        background, text, border = "#3d3110", "#ffe399", "#6b5417"
    else:
        background, text, border = "#fff4d6", "#5c3c00", "#f0d48a"
    return (
        f"#banner {{ background: {background}; color: {text}; padding: 6px 10px;"
        f" border-bottom: 1px solid {border}; }}"
    )


def error_colour(palette: QPalette) -> str:
    """Red text that reads on the window: darker on light, lighter on dark (4.5:1 or more)."""
    return "#ff8080" if is_dark(palette) else "#c92a2a"


def _set_style(app: QApplication, name: str) -> None:
    if app.style().name().lower() != name.lower():
        app.setStyle(name)


def _application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("no QApplication")
    return app
