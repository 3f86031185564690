"""Render the app icon `resources/icons/app.svg` into the files each OS wants (`make icons`).

- `app-<N>.png` for N in PNG_SIZES: the Linux hicolor theme (the .deb) and the tarball;
- `app.ico` (16-256 px): the Windows executable, its installer and its Start-menu entry;
- `app.icns` (16-1024 px): the macOS `.app` bundle.

The outputs are committed next to app.svg, so that a package build needs no generator; run this
again after changing app.svg. Qt's own SVG renderer draws every size from the vector (small sizes
stay crisp); Pillow writes the containers, each size from its own rendering.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SOURCE = ICONS / "app.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render(renderer: QSvgRenderer, size: int) -> Image.Image:
    """The SVG drawn at size x size pixels, as an RGBA Pillow image."""
    image = QImage(size, size, QImage.Format.Format_RGBA8888)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return Image.frombytes("RGBA", (size, size), bytes(image.constBits()))


def make_icons(out_dir: Path = ICONS) -> list[Path]:
    """Write every icon file into out_dir; return their paths."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise ValueError(f"{SOURCE} is not a valid SVG")
    sizes = sorted(set(PNG_SIZES) | set(ICO_SIZES) | set(ICNS_SIZES))
    images = {size: render(renderer, size) for size in sizes}
    del app
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in PNG_SIZES:
        path = out_dir / f"app-{size}.png"
        images[size].save(path, optimize=True)
        written.append(path)
    largest_ico = images[max(ICO_SIZES)]
    largest_ico.save(
        out_dir / "app.ico",
        sizes=[(s, s) for s in ICO_SIZES],
        append_images=[images[s] for s in ICO_SIZES if s != max(ICO_SIZES)],
    )
    largest_icns = images[max(ICNS_SIZES)]
    largest_icns.save(
        out_dir / "app.icns",
        append_images=[images[s] for s in ICNS_SIZES if s != max(ICNS_SIZES)],
    )
    written += [out_dir / "app.ico", out_dir / "app.icns"]
    return written


if __name__ == "__main__":
    for written_path in make_icons(Path(sys.argv[1]) if len(sys.argv) > 1 else ICONS):
        print(written_path)
