"""Everything about shoots in the main window: the Shoots panel in its dock (and its show/hide
action), the New shoot dialog (with the defaults of Preferences), submitting, following each shoot
(its changes, its new images, its end), cancelling the tracking, checking a shoot that may exist,
and clearing ended shoots from the history (after asking).

The end of a shoot is said in the status bar. With notifications on (Preferences), it is also
announced outside the window: a message from the system tray where there is one, and, while the
window is not the active one, `QApplication.alert()` (the taskbar entry flashes, the Dock icon
bounces), so that a designer working in another app hears of it.

The shoot service (core/shoot_service.py) does the work; this puts it on screen. It talks to the
window only through the status bar, the dock area and the window as the dialogs' parent.

An image's shoot is described with the names of its AI model, scenery and preset, from the
account's catalogue: loaded once per account, when the first shoot is described (three GETs, in
the shared rate budget), and again only for an id still unknown, at most every few minutes."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSystemTrayIcon,
)

from qamera_desktop.api.errors import ApiError
from qamera_desktop.api.records import Image, Product
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.background_tasks import BackgroundTasks
from qamera_desktop.core.image_library import IdFilter, ImageLibrary
from qamera_desktop.core.shoot_defaults import Catalogue, ShootDefaults
from qamera_desktop.core.shoot_lineage import catalogue_names, config_text, regenerate_request
from qamera_desktop.core.shoot_service import ShootService
from qamera_desktop.core.shoots import Shoot, ShootState
from qamera_desktop.ui.actions import ActionId, default_key_text
from qamera_desktop.ui.shoots_panel import ShootsPanel
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

if TYPE_CHECKING:  # the dialog is imported when a designer first opens it
    from qamera_desktop.ui.new_shoot_dialog import NewShootDialog

log = logging.getLogger(__name__)

SHOOT_CHIP_STYLE = (
    "#shootChip { border: 1px solid palette(highlight); border-radius: 10px; padding: 2px 10px; }"
)
PRESETS_NAMED = 100  # the most presets the API lists at once (maxRecords)
NAMES_AGAIN_AFTER_S = 300.0  # an id still unknown after a load: load again at most this often
NAMES_RETRY_AFTER_S = 60.0  # after a failed load


class ProductChoice(Protocol):
    """The products known and the one chosen in the filter (the dialog's first choice)."""

    @property
    def products(self) -> list[Product]: ...

    def product_id(self) -> str | None: ...


class ShootsController(QObject):
    availableChanged = QtSignal(bool)  # whether a new shoot can be started (client and service)

    def __init__(
        self,
        window: QMainWindow,
        library: ImageLibrary,
        loader: ThumbnailLoader,
        tasks: BackgroundTasks,
        products: ProductChoice,
        *,
        notify: Callable[[], bool] = lambda: True,
        defaults: Callable[[], ShootDefaults] = ShootDefaults,
    ) -> None:
        """`notify`: whether the end of a shoot is announced outside the window (Preferences);
        `defaults`: the New shoot dialog's industry and count when nothing else gives them."""
        super().__init__(window)
        self._window = window
        self._library = library
        self._loader = loader
        self._tasks = tasks
        self._products = products
        self._notify = notify
        self._defaults = defaults
        self._client: Catalogue | None = None
        self.service: ShootService | None = None
        self.dialog: NewShootDialog | None = None
        self.clear_box: QMessageBox | None = None
        self.tray: QSystemTrayIcon | None = None
        self._sandbox_price: float | None = None
        # the account's catalogue names (id -> name) for the shoots' descriptions
        self._names: dict[str, str] = {}
        self._names_loading = False
        self._names_not_before = 0.0  # time.monotonic() before which no load starts
        self._names_refresh: list[Callable[[], None]] = []  # to call when they arrive

        self.panel = ShootsPanel()
        self.dock = QDockWidget("Shoots", window)
        self.dock.setObjectName("shootsDock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        window.resizeDocks([self.dock], [180], Qt.Orientation.Vertical)
        self.dock.hide()

        self.panel.runAgainRequested.connect(lambda s: self.open_new_shoot(initial=s.request))
        self.panel.submitAgainRequested.connect(lambda s: self.open_new_shoot(initial=s.request))
        self.panel.cancelRequested.connect(self._cancel_tracking)
        self.panel.checkRequested.connect(self._check_uncertain)
        self.panel.newShootRequested.connect(self.open_new_shoot)
        self.panel.clearRequested.connect(self.ask_to_clear)
        self.panel.filterRequested.connect(self.filter_to_shoot)
        self.panel.regenerateRequested.connect(self.regenerate_rejects)

        # "Shoot: Stoneware Mug, 3 images ✕": the grid shows one shoot's images; a click clears
        self.shoot_chip = QPushButton()
        self.shoot_chip.setObjectName("shootChip")
        self.shoot_chip.setStyleSheet(SHOOT_CHIP_STYLE)
        self.shoot_chip.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.shoot_chip.clicked.connect(self.clear_shoot_filter)
        self.shoot_chip.hide()
        self.availableChanged.connect(self.panel.set_new_shoot_available)
        self.show_keys()

    def show_keys(self, key_text: Callable[[ActionId], str] = default_key_text) -> None:
        """Texts that name a key say the ones bound now (`ActionSet.key_text`; the defaults)."""
        self.panel.set_new_shoot_keys(key_text(ActionId.NEW_SHOOT))
        clear = key_text(ActionId.CLEAR_SHOOT_FILTER)
        press = f"click or press {clear} in the grid" if clear else "click"
        self.shoot_chip.setToolTip(f"Only this shoot's images: {press} to show every image")

    @property
    def available(self) -> bool:
        return self._client is not None and self.service is not None

    def set_client(self, client: Catalogue) -> None:
        """The account's catalogue, for the New shoot dialog's pickers and the names in the
        shoots' descriptions (another account's are forgotten)."""
        self._client = client
        self._names = {}
        self._names_loading = False
        self._names_not_before = 0.0
        self._names_refresh = []
        self.availableChanged.emit(self.available)

    def attach(
        self, service: ShootService, *, sandbox_price_per_image: float | None = None
    ) -> None:
        """Follow this account's shoots: the remembered ones are listed (the panel shows by
        itself when one is still in flight; the history of ended ones waits for Ctrl+Shift+S),
        and finished shoots are announced in the system tray where there is one.

        `sandbox_price_per_image`: on the demo sandbox, its price (the New shoot dialog's
        estimate before the first receipt); None for a real account, whose price is not published.
        """
        self.service = service
        self._sandbox_price = sandbox_price_per_image
        self.clear_shoot_filter()  # a shoot of the account before
        shoots = service.shoots()
        self.panel.set_shoots(shoots)
        if any(shoot.is_active for shoot in shoots):
            self.dock.show()
        self.availableChanged.emit(self.available)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self._window.windowIcon(), self)
            self.tray.setToolTip("Qamera Desktop")
            self.tray.show()

    # -- the shoot service reports -----------------------------------------------------------
    def shoot_changed(self, shoot: Shoot) -> None:
        self.panel.update_shoot(shoot)

    def shoot_images(self, product_id: str, images: list[Image]) -> None:
        self._library.upsert_for_product(product_id, images)

    def shoot_finished(self, shoot: Shoot) -> None:
        text = shoot.summary()
        title = f"Shoot finished: {self.product_name(shoot.request.product_id, shoot.product_name)}"
        self._say(f"{title}. {text}", 20_000)
        self.panel.update_shoot(shoot)
        if not self._notify():
            return
        if self.tray is not None and self.tray.supportsMessages():
            self.tray.showMessage(title, text, self._window.windowIcon(), 10_000)
        if not self._window.isActiveWindow():
            QApplication.alert(self._window)

    def product_name(self, product_id: str, known: str | None = None) -> str:
        if known:
            return known
        product = next((p for p in self._products.products if p.id == product_id), None)
        return product.name if product is not None else product_id

    # -- made for AI shoots: an image's shoot ------------------------------------------------
    def shoot_text_of(self, image_id: str, refresh: Callable[[], None] | None = None) -> str | None:
        """The configuration of the shoot that made `image_id` (None: not one of this app's),
        with the names of its model, scenery and preset as far as they are known. When one is
        not, the catalogue's names are loaded, and `refresh` is called once they have arrived
        (to ask again)."""
        shoot = self.service.shoot_of(image_id) if self.service is not None else None
        if shoot is None:
            return None
        name = self.product_name(shoot.request.product_id, shoot.product_name)
        request = shoot.request
        ids = (request.model_id, request.scenery_id, request.preset_id)
        if any(i is not None and i not in self._names for i in ids):
            if refresh is not None and refresh not in self._names_refresh:
                self._names_refresh.append(refresh)
            self._load_names()
        return config_text(replace(shoot, product_name=name), self._names)

    def _load_names(self) -> None:
        client = self._client
        if client is None or self._names_loading or time.monotonic() < self._names_not_before:
            return
        self._names_loading = True
        self._tasks.start(self._fetch_names(client), "Loading the names of models and sceneries")

    async def _fetch_names(self, client: Catalogue) -> None:
        """The names of the account's models, sceneries and presets; on a failure the shoots
        keep showing ids (and the load is tried again a minute later at the earliest)."""
        try:
            models, sceneries, presets = await asyncio.gather(
                client.list_models(), client.list_sceneries(), client.list_presets(PRESETS_NAMED)
            )
        except ApiError as exc:
            if client is self._client:
                self._names_loading = False
                self._names_not_before = time.monotonic() + NAMES_RETRY_AFTER_S
                self._names_refresh = []
            log.warning("Could not load the catalogue's names: %s", exc)
            return
        if client is not self._client:
            return  # another account since
        self._names = catalogue_names(models, sceneries, presets)
        self._names_loading = False
        self._names_not_before = time.monotonic() + NAMES_AGAIN_AFTER_S
        refresh, self._names_refresh = self._names_refresh, []
        for again in refresh:
            again()

    def filter_to_shoot(self, shoot: Shoot) -> None:
        """Show only the images of `shoot` in the grid, with a chip that clears it."""
        name = self.product_name(shoot.request.product_id, shoot.product_name)
        count = len(shoot.record_ids)
        label = f"{name}, {count} image" + ("" if count == 1 else "s")
        self._library.set_id_filter(IdFilter(frozenset(shoot.record_ids), label))
        self.shoot_chip.setText(f"Shoot: {label}  ✕")
        self.shoot_chip.setAccessibleName(f"Only the shoot {label}: clear")
        self.shoot_chip.show()

    def clear_shoot_filter(self) -> None:
        self._library.set_id_filter(None)
        self.shoot_chip.hide()

    def more_like_this(self, image_id: str | None) -> NewShootDialog | None:
        """New shoot filled with the configuration that made `image_id` (as Run again does)."""
        shoot = self._shoot_of_image(image_id)
        if shoot is None:
            return None
        return self.open_new_shoot(initial=shoot.request)

    def regenerate_rejects_of_image(self, image_id: str | None) -> NewShootDialog | None:
        shoot = self._shoot_of_image(image_id)
        return self.regenerate_rejects(shoot) if shoot is not None else None

    def regenerate_rejects(self, shoot: Shoot) -> NewShootDialog | None:
        """New shoot filled with the shoot's configuration, for as many images as it has
        rejects, their reasons appended to the suggestions ("Avoid: …")."""
        reviews = {image_id: self._library.review(image_id) for image_id in shoot.record_ids}
        request = regenerate_request(shoot, reviews)
        if request is None:
            self._say("No rejects in this shoot: nothing to regenerate.", 10_000)
            return None
        return self.open_new_shoot(initial=request)

    def _shoot_of_image(self, image_id: str | None) -> Shoot | None:
        if image_id is None or self.service is None:
            return None
        shoot = self.service.shoot_of(image_id)
        if shoot is None:
            self._say(
                "This image was not made by a shoot of this app: its shoot is unknown.", 10_000
            )
        return shoot

    # -- the user asks -----------------------------------------------------------------------
    def open_new_shoot(self, initial: ShootRequest | None = None) -> NewShootDialog | None:
        """The New shoot dialog (filled with `initial`), or the one already open, raised."""
        if self._client is None or self.service is None:
            return None
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        from qamera_desktop.core.shoot_memory import ShootMemory
        from qamera_desktop.ui.new_shoot_dialog import NewShootDialog

        dialog = NewShootDialog(
            self._client,
            self.submit,
            products=self._products.products,
            product_id=self._products.product_id(),
            initial=initial,
            loader=self._loader,
            memory=ShootMemory(self.service.database, self.service.account),
            sandbox_price_per_image=self._sandbox_price,
            defaults=self._defaults(),
            parent=self._window,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self._dialog_closed(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _dialog_closed(self, dialog: NewShootDialog) -> None:
        # WA_DeleteOnClose deletes the C++ dialog soon: forget it, or the next open_new_shoot()
        # would call isVisible() on a deleted object (RuntimeError) and never open a dialog again
        if self.dialog is dialog:
            self.dialog = None
        self._tasks.start(dialog.aclose(), "Closing the dialog")

    async def submit(self, request: ShootRequest, product_name: str | None) -> None:
        if self.service is None:
            return
        shoot = await self.service.submit(request, product_name)
        self.dock.show()
        self.panel.update_shoot(shoot)
        if shoot.state is ShootState.UNCERTAIN:
            self._say(
                "The shoot may have been created (the connection dropped after sending). "
                "See the Shoots panel before submitting again.",
                30_000,
            )
        elif shoot.receipt is not None and shoot.receipt.credits_reserved is not None:
            self._say(
                f"Shoot submitted: {shoot.total} images, "
                f"{shoot.receipt.credits_reserved:g} credits reserved.",
                15_000,
            )
        else:
            self._say(f"Shoot submitted: {shoot.total} images.", 15_000)

    def _cancel_tracking(self, local_id: str) -> None:
        if self.service is not None:
            self.service.cancel(local_id)
            self._say(
                "Tracking cancelled. Qamera keeps processing the shoot; its images still "
                "appear in the grid on refresh.",
                15_000,
            )

    def ask_to_clear(self, older_than: timedelta | None) -> QMessageBox | None:
        """Ask before clearing the ended shoots older than `older_than` (None: all of them) from
        the history; the question box (None when there is nothing to clear)."""
        if self.service is None:
            return None
        ids = [shoot.local_id for shoot in self.service.clearable(older_than)]
        count = len(ids)
        age = "" if older_than is None else f" that ended more than {_age(older_than)} ago"
        if count == 0:
            when = "has ended" if older_than is None else f"ended more than {_age(older_than)} ago"
            self._say(f"Nothing to clear: no shoot in the list {when}.", 10_000)
            return None
        if self.clear_box is not None:
            self.clear_box.close()
        shoots = "1 finished shoot" if count == 1 else f"{count} finished shoots"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Clear finished shoots",
            f"Clear {shoots}{age} from the list?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self._window,
        )
        box.setInformativeText(
            "Their images stay in Qamera and in the grid. Shoots still in progress are kept."
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText("Clear")
        box.finished.connect(lambda _r: self._clear_answered(box, box.clickedButton() is yes, ids))
        self.clear_box = box
        box.open()
        return box

    def _clear_answered(self, box: QMessageBox, confirmed: bool, ids: list[str]) -> None:
        if self.clear_box is box:
            self.clear_box = None
        if not confirmed or self.service is None:
            return
        try:  # the shoots asked about (the service keeps any that got busy since)
            cleared = self.service.forget(ids)
        except sqlite3.Error:
            log.exception("Clearing finished shoots failed")
            self._say("Could not clear the finished shoots: the local database refused.", 15_000)
            return
        self.panel.remove_shoots(cleared)
        shoots = "1 finished shoot" if len(cleared) == 1 else f"{len(cleared)} finished shoots"
        self._say(f"Cleared {shoots} from the list.", 10_000)

    def _check_uncertain(self, local_id: str) -> None:
        if self.service is not None:
            self._tasks.start(self.service.check_uncertain(local_id), "Checking the listing")

    def _say(self, text: str, timeout_ms: int) -> None:
        self._window.statusBar().showMessage(text, timeout_ms)


def _age(age: timedelta) -> str:
    days = age.days
    if days >= 1 and age == timedelta(days=days):
        return "1 day" if days == 1 else f"{days} days"
    hours = max(1, round(age.total_seconds() / 3600))
    return "1 hour" if hours == 1 else f"{hours} hours"
