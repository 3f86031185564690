"""Helpers of the widget tests: sandbox clients, the `App` bundle, keyboard and pixel tools."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox, QWidget

from qamera_desktop.api import QameraClient, RateBudget
from qamera_desktop.core.database import Database
from qamera_desktop.core.image_library import ImageLibrary, LoadState
from qamera_desktop.core.settings import SettingsStore
from qamera_desktop.core.shoot_service import ShootService
from qamera_desktop.core.shoots import Shoot, ShootState
from qamera_desktop.launch_options import DEFAULT_API_URL, LaunchOptions
from qamera_desktop.sandbox import DEMO_API_KEY, SandboxHandle
from qamera_desktop.ui.app_controller import AppController, DemoStarter
from qamera_desktop.ui.grid_geometry import CELL_MARGIN
from qamera_desktop.ui.main_window import MainWindow
from qamera_desktop.ui.services import AppServices
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader
from tests.sandbox_fixtures import api_client, list_images

RETRY_SLEEP_CAP = 0.02
LISTING = ("GET", "/api/external/image-picker")


async def quick_sleep(seconds: float) -> None:
    """The retry sleep of test clients: same attempts, shorter waits."""
    await asyncio.sleep(min(seconds, RETRY_SLEEP_CAP))


def make_client(base_url: str, key: str, **kwargs: Any) -> QameraClient:
    kwargs.setdefault("rate_budget", RateBudget())
    kwargs.setdefault("sleep", quick_sleep)
    return QameraClient(base_url, key, **kwargs)


@dataclass
class App:
    """One running window and the services behind it (built by `qamera_desktop.ui.services`)."""

    services: AppServices
    base_url: str
    key: str
    changes: list[Shoot] = field(default_factory=list)
    finished: list[Shoot] = field(default_factory=list)
    after_change: list[Callable[[Shoot], None]] = field(default_factory=list)
    """Called after the window has shown each change of a shoot."""

    @property
    def window(self) -> MainWindow:
        return self.services.window

    @property
    def library(self) -> ImageLibrary:
        return self.services.library

    @property
    def loader(self) -> ThumbnailLoader:
        return self.services.loader

    @property
    def settings_store(self) -> SettingsStore:
        return self.services.settings_store

    @property
    def client(self) -> QameraClient:
        assert self.services.client is not None, "not connected"
        return self.services.client

    @property
    def service(self) -> ShootService:
        assert self.services.shoots is not None, "not connected"
        return self.services.shoots

    @property
    def database(self) -> Database:
        assert self.services.database is not None, "not connected"
        return self.services.database

    def settings_json(self) -> dict[str, Any]:
        """The settings file once the window's changes have reached it: they are written
        debounced (ui/settings_writer.py), so this waits for the write, as a reader would."""
        writer = self.window.settings_writer
        for _ in range(500):
            if not writer.pending:
                break
            QTest.qWait(10)
        assert not writer.pending, "the window's settings were not written within 5 s"
        data: dict[str, Any] = json.loads(self.settings_store.path.read_text())
        return data

    def model_ids(self) -> list[str]:
        return [image.id for image in self.window.model.images()]

    def model_names(self) -> list[str]:
        return [image.name for image in self.window.model.images()]


MakeApp = Callable[..., App]


def settled(app: App) -> bool:
    """The listing of the current filter arrived (or failed) and no refresh is in flight."""
    state = app.library.state
    return state.load in (LoadState.READY, LoadState.ERROR) and not state.refreshing


def wait_listed(qtbot: Any, app: App, timeout: int = 15_000, products: bool = True) -> None:
    """Wait until products are in the filter and the listing of the current filter arrived."""
    window = app.window
    if products:
        qtbot.waitUntil(lambda: bool(window.filters.products), timeout=timeout)
    qtbot.waitUntil(lambda: settled(app), timeout=timeout)


def shoot_state(app: App, local_id: str) -> ShootState | None:
    shoot = app.service.get(local_id)
    return shoot.state if shoot is not None else None


def wait_finished(qtbot: Any, app: App, local_id: str, timeout: int = 15_000) -> None:
    """Wait until the shoot service says this shoot is FINISHED."""
    qtbot.waitUntil(lambda: shoot_state(app, local_id) is ShootState.FINISHED, timeout=timeout)


def statuses_in_grid(app: App, ids: Iterable[str]) -> list[str | None]:
    """The status each of `ids` has in the window's library (None: not there)."""
    return [image.status if (image := app.library.get(i)) else None for i in ids]


def expected_listing(handle: SandboxHandle, key: str | None = None, **params: str) -> list[dict]:
    """The sandbox's own answer, read with a plain synchronous HTTP client."""
    with api_client(handle.base_url, key or handle.demo_key) as http:
        return list_images(http, **params)


def products_of(handle: SandboxHandle, key: str | None = None) -> list[dict]:
    with api_client(handle.base_url, key or handle.demo_key) as http:
        response = http.get("/api/external/products")
        response.raise_for_status()
        products: list[dict] = response.json()["products"]
        return products


def choose(qtbot: Any, combo: QComboBox, text: str) -> None:
    """Pick `text` in a non-editable combo box as a person does: type its first letters (the
    combo's keyboard search jumps straight to it), or else step to it with the arrow keys."""
    index = combo.findText(text)
    assert index >= 0, f"{text!r} is not among {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setFocus()
    for char in text:
        if combo.currentIndex() == index or char == " ":  # Space would open the popup
            break
        qtbot.keyClick(combo, char)
    for _ in range(combo.count()):
        if combo.currentIndex() == index:
            break
        key = Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up
        qtbot.keyClick(combo, key)
    assert combo.currentText() == text


def click(
    qtbot: Any,
    widget: QWidget,
    pos: QPoint | None = None,
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """A left click at `pos` (the centre when None), with a modifier key held."""
    point = pos if pos is not None else widget.rect().center()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, modifier, point)


def focus_widget() -> QWidget | None:
    return QApplication.focusWidget()


def active_window() -> QWidget | None:
    return QApplication.activeWindow()


def press(
    qtbot: Any, key: Qt.Key | str, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    """Press a key where the keyboard focus is (else on the active window), as a person does."""
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert target is not None, "nothing has the keyboard focus"
    qtbot.keyClick(target, key, modifier)


def thumb_rect(cell: QRect, side: int) -> QRect:
    """Where the delegate paints the thumbnail inside a grid cell (see image_delegate.paint)."""
    left = cell.x() + max(CELL_MARGIN, (cell.width() - side) // 2)
    return QRect(left, cell.y() + CELL_MARGIN, side, side)


def pixels(image: QImage, rect: QRect) -> Counter[int]:
    """How often each RGB colour occurs inside `rect` of `image`."""
    img = image.convertToFormat(QImage.Format.Format_RGB32)
    rect = rect.intersected(img.rect())
    found: Counter[int] = Counter()
    for y in range(rect.top(), rect.bottom() + 1):
        for x in range(rect.left(), rect.right() + 1):
            found[img.pixel(x, y) & 0xFFFFFF] += 1
    return found


def near(colour: int, hex_colour: str, tolerance: int = 12) -> bool:
    """`colour` (0xRRGGBB) is within `tolerance` per channel of `hex_colour` ("#rrggbb")."""
    want = int(hex_colour.lstrip("#"), 16)
    return all(
        abs(((colour >> shift) & 0xFF) - ((want >> shift) & 0xFF)) <= tolerance
        for shift in (16, 8, 0)
    )


def count_near(found: Counter[int], hex_colour: str, tolerance: int = 12) -> int:
    return sum(n for colour, n in found.items() if near(colour, hex_colour, tolerance))


def open_by_key_in_grid(
    app: App, qtbot: Any, key: Qt.Key, dialog_of: Callable[[], QWidget | None]
) -> QWidget:
    """Ctrl+`key` in the grid of the active window; the dialog it opened (`dialog_of`), once it
    is the active window: the keys then go where a person's would."""
    app.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is app.window)
    app.window.grid.setFocus()
    qtbot.keyClick(app.window.grid, key, Qt.KeyboardModifier.ControlModifier)
    dialog = dialog_of()
    assert dialog is not None
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    return dialog


def app_controller(
    data: Path, start_demo: DemoStarter, painted: Callable[[], None] | None = None
) -> AppController:
    """The app's controller on the folder `data`, as `qamera-desktop` runs it with no option
    (the demo sandbox unless an account is kept), with the test's way to start the sandbox (and
    what to call once its first window has painted)."""
    options = LaunchOptions(
        demo=False,
        api_url=None,
        data_dir=data,
        self_test=False,
        screenshot=None,
        sandbox_fast=True,
    )
    return AppController(
        options,
        data_dir=data,
        default_api_url=DEFAULT_API_URL,
        start_demo=start_demo,
        demo_key=DEMO_API_KEY,
        painted=painted,
    )
