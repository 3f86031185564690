"""Everything about shoots in the main window: the Shoots panel in its dock (and its show/hide
action), the New shoot dialog, submitting, following each shoot (its changes, its new images, its
end with a tray message), cancelling the tracking and checking a shoot that may exist.

The shoot service (core/shoot_service.py) does the work; this puts it on screen. It talks to the
window only through the status bar, the dock area and the window as the dialogs' parent."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSystemTrayIcon

from qamera_desktop.api.records import Image, Product
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.background_tasks import BackgroundTasks
from qamera_desktop.core.image_library import ImageLibrary
from qamera_desktop.core.shoot_service import ShootService
from qamera_desktop.core.shoots import Shoot, ShootState
from qamera_desktop.ui.new_shoot_dialog import Catalogue, NewShootDialog
from qamera_desktop.ui.shoots_panel import ShootsPanel
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader


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
    ) -> None:
        super().__init__(window)
        self._window = window
        self._library = library
        self._loader = loader
        self._tasks = tasks
        self._products = products
        self._client: Catalogue | None = None
        self.service: ShootService | None = None
        self.dialog: NewShootDialog | None = None
        self.tray: QSystemTrayIcon | None = None

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

    @property
    def available(self) -> bool:
        return self._client is not None and self.service is not None

    def set_client(self, client: Catalogue) -> None:
        """The account's catalogue, for the New shoot dialog's pickers."""
        self._client = client
        self.availableChanged.emit(self.available)

    def attach(self, service: ShootService) -> None:
        """Follow this account's shoots: the remembered ones are listed (the panel shows when
        there are any), and finished shoots are announced in the system tray where there is one."""
        self.service = service
        self.panel.set_shoots(service.shoots())
        if service.shoots():
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
        if self.tray is not None and self.tray.supportsMessages():
            self.tray.showMessage(title, text, self._window.windowIcon(), 10_000)
        self.panel.update_shoot(shoot)

    def product_name(self, product_id: str, known: str | None = None) -> str:
        if known:
            return known
        product = next((p for p in self._products.products if p.id == product_id), None)
        return product.name if product is not None else product_id

    # -- the user asks -----------------------------------------------------------------------
    def open_new_shoot(self, initial: ShootRequest | None = None) -> NewShootDialog | None:
        """The New shoot dialog (filled with `initial`), or the one already open, raised."""
        if self._client is None or self.service is None:
            return None
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        dialog = NewShootDialog(
            self._client,
            self.submit,
            products=self._products.products,
            product_id=self._products.product_id(),
            initial=initial,
            credits_per_image=self.service.credits_per_image_estimate(),
            loader=self._loader,
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

    def _check_uncertain(self, local_id: str) -> None:
        if self.service is not None:
            self._tasks.start(self.service.check_uncertain(local_id), "Checking the listing")

    def _say(self, text: str, timeout_ms: int) -> None:
        self._window.statusBar().showMessage(text, timeout_ms)
