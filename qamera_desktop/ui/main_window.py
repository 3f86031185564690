"""The main window: filters on top, the thumbnail grid, the details panel, and the status bar."""

from __future__ import annotations

import logging
from typing import Protocol

from PySide6.QtCore import QByteArray, QModelIndex, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMainWindow,
    QSlider,
    QSplitter,
    QSystemTrayIcon,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from qamera_desktop.api.errors import ApiError
from qamera_desktop.api.records import Image, Product
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.background_tasks import BackgroundTasks
from qamera_desktop.core.image_library import ImageLibrary, LibraryState, LoadState
from qamera_desktop.core.image_query import ServerFilter, SortOrder, StatusFilter
from qamera_desktop.core.settings import THUMB_SIZE_MAX, THUMB_SIZE_MIN, Settings, SettingsStore
from qamera_desktop.core.shoot_service import ShootService
from qamera_desktop.core.shoots import Shoot, ShootState
from qamera_desktop.resources import resource_path
from qamera_desktop.ui.details_panel import DetailsPanel
from qamera_desktop.ui.image_grid_model import ImageGridModel
from qamera_desktop.ui.image_grid_view import ImageGridView
from qamera_desktop.ui.new_shoot_dialog import Catalogue, NewShootDialog
from qamera_desktop.ui.preview_dialog import PreviewDialog
from qamera_desktop.ui.shoots_panel import ShootsPanel
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

log = logging.getLogger(__name__)

AUTO_REFRESH_FIRST_MS = 3_000
AUTO_REFRESH_MAX_MS = 30_000
ICON_SIZE = 48


class CatalogueSource(Catalogue, Protocol):
    async def list_images(
        self, status_filter: str = "all", product_id: str | None = None
    ) -> list[Image]: ...


class MainWindow(QMainWindow):
    def __init__(
        self,
        library: ImageLibrary,
        loader: ThumbnailLoader,
        settings_store: SettingsStore,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.loader = loader
        self._settings_store = settings_store
        self.settings = settings_store.load()
        self.tasks = BackgroundTasks(self._task_failed)
        self._client: CatalogueSource | None = None
        self._products: list[Product] = []
        self._auto_refresh_ms = AUTO_REFRESH_FIRST_MS
        self._last_revision = -1

        self.setWindowTitle("Qamera Desktop")
        self.setWindowIcon(QIcon(str(resource_path("icons", "app.svg"))))
        self.resize(1280, 820)

        self.model = ImageGridModel(library, self)
        self.grid = ImageGridView(self.model, loader)
        self.details = DetailsPanel(loader)
        self.preview = PreviewDialog(loader, self)

        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setStyleSheet(
            "#banner { background: #fff4d6; color: #5c3c00; padding: 6px 10px;"
            " border-bottom: 1px solid #f0d48a; }"
        )
        self.banner.hide()

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.grid)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([920, 340])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

        self.shoots_panel = ShootsPanel()
        self.shoots_dock = QDockWidget("Shoots", self)
        self.shoots_dock.setObjectName("shootsDock")
        self.shoots_dock.setWidget(self.shoots_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.shoots_dock)
        self.resizeDocks([self.shoots_dock], [180], Qt.Orientation.Vertical)
        self.shoots_dock.hide()
        self.shoot_service: ShootService | None = None
        self.new_shoot_dialog: NewShootDialog | None = None
        self.tray: QSystemTrayIcon | None = None

        self._build_toolbar()
        self.count_label = QLabel()
        self.connection_label = QLabel("Not connected")
        self.statusBar().addPermanentWidget(self.count_label)
        self.statusBar().addPermanentWidget(self.connection_label)

        self.auto_refresh = QTimer(self)
        self.auto_refresh.setSingleShot(True)
        self.auto_refresh.timeout.connect(self.refresh)

        self.model.stateChanged.connect(self._on_state)
        self.model.countChanged.connect(self._on_count)
        self.model.modelReset.connect(self._on_model_reset)
        self.model.dataChanged.connect(self._on_data_changed)
        self.grid.selectionModel().currentChanged.connect(self._on_current)
        self.grid.previewRequested.connect(self._open_preview)
        self.grid.zoomRequested.connect(self.size_slider.setValue)
        self.details.openRequested.connect(self._open_current)
        self.preview.stepRequested.connect(self._step_preview)
        self.shoots_panel.runAgainRequested.connect(
            lambda shoot: self.open_new_shoot(initial=shoot.request)
        )
        self.shoots_panel.submitAgainRequested.connect(
            lambda shoot: self.open_new_shoot(initial=shoot.request)
        )
        self.shoots_panel.cancelRequested.connect(self._cancel_tracking)
        self.shoots_panel.checkRequested.connect(self._check_uncertain)
        loader.ready.connect(self._on_icons_ready)

        self._apply_settings(self.settings)
        self._on_state(library.state)
        self._on_count(self.model.rowCount())

    # -- building ----------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        bar = QToolBar("Filters")
        bar.setObjectName("filters")
        bar.setMovable(False)
        self.addToolBar(bar)

        self.product_combo = QComboBox()
        self.product_combo.setAccessibleName("Product filter")
        self.product_combo.setMinimumWidth(220)
        self.product_combo.setIconSize(self.product_combo.iconSize() * 1.5)
        self.product_combo.addItem("All products", None)
        self.product_combo.currentIndexChanged.connect(self._filters_changed)

        self.status_combo = QComboBox()
        self.status_combo.setAccessibleName("Status filter")
        self.status_combo.addItem("All", StatusFilter.ALL.value)
        self.status_combo.addItem("Approved", StatusFilter.APPROVED.value)
        self.status_combo.currentIndexChanged.connect(self._filters_changed)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search names (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search")
        self.search.setMaximumWidth(260)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)
        self._search_timer.timeout.connect(lambda: self.library.set_search(self.search.text()))
        self.search.textChanged.connect(lambda _t: self._search_timer.start())

        self.sort_combo = QComboBox()
        self.sort_combo.setAccessibleName("Sort order")
        for order in SortOrder:
            self.sort_combo.addItem(order.label, order.value)
        self.sort_combo.currentIndexChanged.connect(self._sort_changed)

        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setAccessibleName("Thumbnail size")
        self.size_slider.setRange(THUMB_SIZE_MIN, THUMB_SIZE_MAX)
        self.size_slider.setSingleStep(16)
        self.size_slider.setPageStep(32)
        self.size_slider.setFixedWidth(140)
        self.size_slider.valueChanged.connect(self._size_changed)

        self.new_shoot_action = QAction("New shoot…", self)
        self.new_shoot_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_shoot_action.setToolTip("Start a new photo shoot (Ctrl+N)")
        self.new_shoot_action.setEnabled(False)
        self.new_shoot_action.triggered.connect(lambda: self.open_new_shoot())

        self.refresh_action = QAction("Refresh", self)
        self.refresh_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.refresh_action.setShortcuts([QKeySequence("F5"), QKeySequence("Ctrl+R")])
        self.refresh_action.setToolTip("Reload the images (F5)")
        self.refresh_action.triggered.connect(self._refresh_clicked)

        find = QAction("Find", self)
        find.setShortcut(QKeySequence("Ctrl+F"))
        find.triggered.connect(self._focus_search)
        zoom_in = QAction("Larger thumbnails", self)
        zoom_in.setShortcuts([QKeySequence("Ctrl++"), QKeySequence("Ctrl+=")])
        zoom_in.triggered.connect(lambda: self.size_slider.setValue(self.size_slider.value() + 32))
        zoom_out = QAction("Smaller thumbnails", self)
        zoom_out.setShortcut(QKeySequence("Ctrl+-"))
        zoom_out.triggered.connect(lambda: self.size_slider.setValue(self.size_slider.value() - 32))
        focus_grid = QAction("Go to the grid", self)
        focus_grid.setShortcut(QKeySequence("Ctrl+G"))
        focus_grid.triggered.connect(self.grid.setFocus)
        for action in (find, zoom_in, zoom_out, focus_grid):
            self.addAction(action)

        bar.addWidget(QLabel(" Product "))
        bar.addWidget(self.product_combo)
        bar.addWidget(QLabel("  Status "))
        bar.addWidget(self.status_combo)
        bar.addSeparator()
        bar.addWidget(self.search)
        bar.addWidget(QLabel("  Sort "))
        bar.addWidget(self.sort_combo)
        bar.addWidget(QLabel("  Size "))
        bar.addWidget(self.size_slider)
        bar.addSeparator()
        bar.addAction(self.refresh_action)
        bar.addAction(self.new_shoot_action)
        self.shoots_dock.toggleViewAction().setShortcut(QKeySequence("Ctrl+Shift+S"))
        bar.addAction(self.shoots_dock.toggleViewAction())
        self.toolbar = bar

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _apply_settings(self, s: Settings) -> None:
        # signals blocked: the change handlers would save the product filter as "All products"
        # before the products (and so the remembered one) are loaded
        for combo in (self.status_combo, self.sort_combo):
            combo.blockSignals(True)
        self.status_combo.setCurrentIndex(max(0, self.status_combo.findData(s.status_filter)))
        self.sort_combo.setCurrentIndex(max(0, self.sort_combo.findData(s.sort)))
        for combo in (self.status_combo, self.sort_combo):
            combo.blockSignals(False)
        self.size_slider.setValue(s.thumb_size)
        self.grid.setThumbSize(s.thumb_size)
        if s.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(s.window_geometry.encode()))
        self.library.set_sort(SortOrder(self.sort_combo.currentData()))
        self.library.set_filter(self._current_filter())

    # -- connection --------------------------------------------------------------------------
    def attach(self, client: CatalogueSource, description: str, *, demo: bool) -> None:
        """Use this account: load its products and the images of the remembered filter."""
        self._client = client
        self.library.set_source(client)
        # the remembered product is queried at once, before the product list has arrived
        self.library.set_filter(
            ServerFilter(self.settings.product_id, self._current_filter().status)
        )
        self.new_shoot_action.setEnabled(self.shoot_service is not None)
        self.connection_label.setText(description)
        if demo:
            self.banner.setText(
                "<b>Demo sandbox</b> — no account needed: everything here is generated on this "
                "computer. To use your Qamera account, set <code>QAMERA_API_KEY</code> "
                "(and <code>--api-url</code> for a self-hosted server) and start the app again."
            )
            self.banner.show()
        else:
            self.banner.hide()
        self.tasks.start(self.load_products(), "Loading products")
        self.refresh()

    async def load_products(self) -> None:
        if self._client is None:
            return
        try:
            products = await self._client.list_products()
        except ApiError as exc:
            self.statusBar().showMessage(f"Could not load products: {exc}", 10_000)
            return
        self._products = sorted(products, key=lambda p: p.name.casefold())
        remembered = self.settings.product_id
        self.product_combo.blockSignals(True)
        self.product_combo.clear()
        self.product_combo.addItem("All products", None)
        for product in self._products:
            self.product_combo.addItem(product.name, product.id)
            self.product_combo.setItemData(
                self.product_combo.count() - 1, product.id, Qt.ItemDataRole.ToolTipRole
            )
        index = self.product_combo.findData(remembered) if remembered else 0
        self.product_combo.setCurrentIndex(max(0, index))
        self.product_combo.blockSignals(False)
        if (remembered and index < 0) or self._current_filter() != self.library.server_filter:
            # the remembered product is gone (show all), or it is shown now: query it
            self._filters_changed()
        self.loader.set_wanted("icons", [p.thumbnail for p in self._products], ICON_SIZE)
        self._on_icons_ready([])

    @property
    def products(self) -> list[Product]:
        return list(self._products)

    # -- shoots ------------------------------------------------------------------------------
    def attach_shoots(self, service: ShootService) -> None:
        self.shoot_service = service
        self.shoots_panel.set_shoots(service.shoots())
        if service.shoots():
            self.shoots_dock.show()
        self.new_shoot_action.setEnabled(self._client is not None)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.windowIcon(), self)
            self.tray.setToolTip("Qamera Desktop")
            self.tray.show()

    def shoot_changed(self, shoot: Shoot) -> None:
        self.shoots_panel.update_shoot(shoot)

    def shoot_images(self, product_id: str, images: list[Image]) -> None:
        self.library.upsert_for_product(product_id, images)

    def shoot_finished(self, shoot: Shoot) -> None:
        text = shoot.summary()
        title = f"Shoot finished: {self.product_name(shoot.request.product_id, shoot.product_name)}"
        self.statusBar().showMessage(f"{title}. {text}", 20_000)
        if self.tray is not None and self.tray.supportsMessages():
            self.tray.showMessage(title, text, self.windowIcon(), 10_000)
        self.shoots_panel.update_shoot(shoot)

    def product_name(self, product_id: str, known: str | None = None) -> str:
        if known:
            return known
        product = next((p for p in self._products if p.id == product_id), None)
        return product.name if product is not None else product_id

    def open_new_shoot(self, initial: ShootRequest | None = None) -> NewShootDialog | None:
        if self._client is None or self.shoot_service is None:
            return None
        if self.new_shoot_dialog is not None and self.new_shoot_dialog.isVisible():
            self.new_shoot_dialog.raise_()
            self.new_shoot_dialog.activateWindow()
            return self.new_shoot_dialog
        dialog = NewShootDialog(
            self._client,
            self.submit_shoot,
            products=self._products,
            product_id=self.product_combo.currentData(),
            initial=initial,
            credits_per_image=self.shoot_service.credits_per_image_estimate(),
            loader=self.loader,
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self._new_shoot_closed(dialog))
        self.new_shoot_dialog = dialog
        dialog.open()
        return dialog

    def _new_shoot_closed(self, dialog: NewShootDialog) -> None:
        # WA_DeleteOnClose deletes the C++ dialog soon: forget it, or the next open_new_shoot()
        # would call isVisible() on a deleted object (RuntimeError) and never open a dialog again
        if self.new_shoot_dialog is dialog:
            self.new_shoot_dialog = None
        self.tasks.start(dialog.aclose(), "Closing the dialog")

    async def submit_shoot(self, request: ShootRequest, product_name: str | None) -> None:
        if self.shoot_service is None:
            return
        shoot = await self.shoot_service.submit(request, product_name)
        self.shoots_dock.show()
        self.shoots_panel.update_shoot(shoot)
        if shoot.state is ShootState.UNCERTAIN:
            self.statusBar().showMessage(
                "The shoot may have been created (the connection dropped after sending). "
                "See the Shoots panel before submitting again.",
                30_000,
            )
        elif shoot.receipt is not None and shoot.receipt.credits_reserved is not None:
            self.statusBar().showMessage(
                f"Shoot submitted: {shoot.total} images, "
                f"{shoot.receipt.credits_reserved:g} credits reserved.",
                15_000,
            )
        else:
            self.statusBar().showMessage(f"Shoot submitted: {shoot.total} images.", 15_000)

    def _cancel_tracking(self, local_id: str) -> None:
        if self.shoot_service is not None:
            self.shoot_service.cancel(local_id)
            self.statusBar().showMessage(
                "Tracking cancelled. Qamera keeps processing the shoot; its images still "
                "appear in the grid on refresh.",
                15_000,
            )

    def _check_uncertain(self, local_id: str) -> None:
        if self.shoot_service is not None:
            self.tasks.start(self.shoot_service.check_uncertain(local_id), "Checking the listing")

    # -- refreshing --------------------------------------------------------------------------
    def refresh(self) -> None:
        if self._client is not None:
            self.auto_refresh.stop()
            self.tasks.start(self._refresh(), "Loading images")

    def _refresh_clicked(self) -> None:
        self.loader.retry_failed()
        self._auto_refresh_ms = AUTO_REFRESH_FIRST_MS
        self.refresh()

    async def _refresh(self) -> None:
        await self.library.refresh()
        await self.library.settled()
        # poll sooner while things change, back off while nothing does
        if self.library.revision != self._last_revision:
            self._auto_refresh_ms = AUTO_REFRESH_FIRST_MS
        else:
            self._auto_refresh_ms = min(AUTO_REFRESH_MAX_MS, self._auto_refresh_ms * 2)
        self._last_revision = self.library.revision
        if self.library.has_unfinished:
            self.auto_refresh.start(self._auto_refresh_ms)

    # -- filters -----------------------------------------------------------------------------
    def _current_filter(self) -> ServerFilter:
        return ServerFilter(
            product_id=self.product_combo.currentData(),
            status=StatusFilter(self.status_combo.currentData() or StatusFilter.ALL.value),
        )

    def _filters_changed(self) -> None:
        server_filter = self._current_filter()
        self._save(product_id=server_filter.product_id, status_filter=server_filter.status.value)
        if self.library.set_filter(server_filter):
            self._last_revision = -1
            self.refresh()

    def _sort_changed(self) -> None:
        order = SortOrder(self.sort_combo.currentData())
        self._save(sort=order.value)
        self.library.set_sort(order)

    def _size_changed(self, value: int) -> None:
        self.grid.setThumbSize(value)
        self._save(thumb_size=self.grid.thumb_size)

    def _save(self, **changes: object) -> None:
        self.settings = self.settings.with_changes(**changes)
        try:
            self._settings_store.save(self.settings)
        except OSError as exc:
            self.statusBar().showMessage(f"Could not save settings: {exc}", 8_000)

    # -- reacting ----------------------------------------------------------------------------
    def _on_state(self, state: LibraryState) -> None:
        empty = self.model.rowCount() == 0
        if state.load is LoadState.ERROR:
            text = f"Could not load images.\n{state.error}\n\nPress F5 to try again."
            self.grid.show_message(text if empty else None)
            self.statusBar().showMessage(
                f"Could not refresh: {state.error} Press F5 to try again.", 15_000
            )
        elif state.load in (LoadState.LOADING, LoadState.IDLE) and empty:
            self.grid.show_message("Loading images…" if self._client else "Connecting…")
        elif empty:
            searching = bool(self.library.search.strip())
            self.grid.show_message(
                "No image matches this search."
                if searching
                else "No images for this filter yet.\nChoose another product or status, "
                "or start a new shoot."
            )
        else:
            self.grid.show_message(None)
            if state.load is LoadState.READY and not self.grid.currentIndex().isValid():
                # a current item from the start, so that the arrows work at once
                self.grid.setCurrentIndex(self.model.index(0))

    def _on_count(self, count: int) -> None:
        total = self.library.total
        self.count_label.setText(
            f"{count:,} images" if count == total else f"{count:,} of {total:,} images"
        )
        self._on_state(self.library.state)

    def _on_data_changed(self, first: QModelIndex, last: QModelIndex, _roles: object) -> None:
        """The current image changed (it finished, was renamed...): show it as it is now."""
        current = self.grid.currentIndex()
        if current.isValid() and first.row() <= current.row() <= last.row():
            image = self.model.image_at(current.row())
            if image is not None and image != self.details.image:
                self.details.show_image(image)

    def _on_model_reset(self) -> None:
        self.details.show_image(None)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.details.show_image(self.model.image_at(current.row()) if current.isValid() else None)

    def _open_current(self) -> None:
        self._open_preview(self.grid.currentIndex())

    def _open_preview(self, index: QModelIndex) -> None:
        image = self.model.image_at(index.row()) if index.isValid() else None
        if image is None:
            return
        self.preview.show_image(image)
        self.preview.open()

    def _step_preview(self, step: int) -> None:
        row = self.grid.currentIndex().row() + step
        if 0 <= row < self.model.rowCount():
            self.grid.setCurrentIndex(self.model.index(row))
            self._open_preview(self.model.index(row))

    def _on_icons_ready(self, _urls: list[str]) -> None:
        for i in range(1, self.product_combo.count()):
            product_id = self.product_combo.itemData(i)
            product = next((p for p in self._products if p.id == product_id), None)
            if product is None:
                continue
            pixmap = self.loader.pixmap(product.thumbnail, ICON_SIZE)
            if pixmap is not None and self.product_combo.itemIcon(i).isNull():
                self.product_combo.setItemIcon(i, QIcon(pixmap))

    def _task_failed(self, what: str, exc: BaseException) -> None:
        self.statusBar().showMessage(f"{what} failed: {exc}", 15_000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save(window_geometry=bytes(self.saveGeometry().toBase64().data()).decode())
        super().closeEvent(event)
