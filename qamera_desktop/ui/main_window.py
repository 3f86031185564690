"""The main window: assembles the rooms and connects them. The filter bar on top (ui/filter_bar.py);
the grid, the details, the loupe and compare (ui/image_browser.py); the Shoots panel and everything
else about shoots (ui/shoots_controller.py); the designer's decisions (ui/review_controller.py)
with auto-advance, the count line and the reason chips; getting images out
(ui/export_controller.py); the keyboard actions, built from one table (ui/actions.py), and the
menus built from them (ui/menus.py); the status bar; Preferences (ui/preferences_dialog.py). What
lives here joins them: the account, the listing's refreshes (when to refresh by itself:
core/refresh_backoff.py) and the settings, written debounced (ui/settings_writer.py), with the
window's own state (geometry, the grid/details splitter, the Shoots dock) saved at close and
restored at start."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QSize, Qt, QTimer
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence, QMoveEvent, QResizeEvent
from PySide6.QtWidgets import QDialog, QLabel, QMainWindow, QVBoxLayout, QWidget

from qamera_desktop.api.errors import ApiError
from qamera_desktop.core.background_tasks import BackgroundTasks
from qamera_desktop.core.image_library import ImageLibrary, LibraryState, LoadState
from qamera_desktop.core.image_query import ServerFilter, SortOrder
from qamera_desktop.core.refresh_backoff import RefreshBackoff
from qamera_desktop.core.review import ReviewFilter
from qamera_desktop.core.review_store import ReviewStore
from qamera_desktop.core.settings import Settings, SettingsStore
from qamera_desktop.core.shoot_defaults import ShootDefaults
from qamera_desktop.resources import resource_path
from qamera_desktop.ui.account_actions import CONNECT_TEXT, AccountActions
from qamera_desktop.ui.actions import ActionId, ActionSet, Context, custom_keys
from qamera_desktop.ui.connection_status import (
    CatalogueSource,
    ConnectionStatus,
    Link,
    MeasuredSource,
    retried,
)
from qamera_desktop.ui.export_controller import ExportController
from qamera_desktop.ui.filter_bar import FilterBar
from qamera_desktop.ui.image_browser import ImageBrowser
from qamera_desktop.ui.image_grid_view import ZOOM_STEP
from qamera_desktop.ui.menus import build_menus
from qamera_desktop.ui.review_controller import ReviewController
from qamera_desktop.ui.screen_fit import fit_to_screen
from qamera_desktop.ui.settings_writer import SettingsWriter
from qamera_desktop.ui.shoots_controller import ShootsController
from qamera_desktop.ui.theme import banner_style
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

if TYPE_CHECKING:  # the dialogs are imported when a designer first opens them
    from qamera_desktop.ui.compare_dialog import CompareDialog
    from qamera_desktop.ui.new_shoot_dialog import NewShootDialog
    from qamera_desktop.ui.preferences_dialog import PreferencesDialog
    from qamera_desktop.ui.preview_dialog import PreviewDialog
    from qamera_desktop.ui.shortcuts_dialog import ShortcutsDialog

log = logging.getLogger(__name__)

DEMO_BANNER = (
    "<b>Demo sandbox</b> — no account needed: everything here is generated on this computer. "
    f"<a href='connect'>{CONNECT_TEXT}</a>"
)


DEFAULT_SIZE = QSize(1280, 820)
SAVE_CHOSEN_MS = 500


class MainWindow(QMainWindow):
    closed = QtSignal()  # the window was closed (the app ends with it: ui/app_controller.py)

    def __init__(
        self,
        library: ImageLibrary,
        loader: ThumbnailLoader,
        settings_store: SettingsStore,
        parent: QWidget | None = None,
        *,
        settings: Settings | None = None,
        thumbnail_cache_dir: Path | None = None,
    ) -> None:
        """`settings`: as just read from `settings_store` (else read here);
        `thumbnail_cache_dir`: the loader's disk cache, which Preferences measures, trims to its
        limit and clears (None: Preferences says it cannot)."""
        super().__init__(parent)
        self.library = library
        self.loader = loader
        self.thumbnail_cache_dir = thumbnail_cache_dir
        self.settings_writer = SettingsWriter(
            settings_store, failed=self._save_failed, initial=settings, parent=self
        )
        self._closing = False
        self.tasks = BackgroundTasks(self._task_failed)
        self._client: CatalogueSource | None = None
        self.backoff = RefreshBackoff()
        self.setWindowTitle("Qamera Desktop")
        self.setWindowIcon(QIcon(str(resource_path("icons", "app.svg"))))
        self.resize(DEFAULT_SIZE)

        self.browser = ImageBrowser(library, loader)
        self.filters = FilterBar(loader)
        self.shoots = ShootsController(
            self,
            library,
            loader,
            self.tasks,
            self.filters,
            notify=lambda: self.settings.notifications,
            defaults=self._new_shoot_defaults,
        )
        self.banner = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.banner.setObjectName("banner")
        self.banner.setStyleSheet(banner_style(self.palette()))
        self.banner.hide()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.filters)
        layout.addWidget(self.filters.review_row)
        layout.addWidget(self.banner)
        layout.addWidget(self.browser, 1)
        self.setCentralWidget(central)
        self.reviews = ReviewController(
            library,
            self.browser,
            self.statusBar(),
            reason_home=layout,  # the reason chips under the grid
            auto_advance=self.settings.auto_advance,
            save_auto_advance=lambda on: self._save(auto_advance=on),
            parent=self,
        )
        self.reason_bar, self.review_line = self.reviews.reason_bar, self.reviews.review_line
        self.auto_advance_action = self.reviews.auto_advance_action
        self.exports = ExportController(library, self.browser, self.statusBar(), parent=self)
        self.filters.review_row_layout.addWidget(self.review_line, 1)
        # made for AI shoots: the chip of the filter to one shoot, the image's shoot in the details
        self.filters.review_row_layout.addWidget(self.shoots.shoot_chip)
        self.browser.details.shoot_text_of = self.shoots.shoot_text_of
        self.count_label = self.browser.count_label
        self.connection_label = QLabel("Connecting…")  # until an account is attached
        self.statusBar().addPermanentWidget(self.count_label)
        self.statusBar().addPermanentWidget(self.connection_label)
        self.connection = ConnectionStatus(
            self.connection_label,
            self.statusBar(),
            lambda: self.keys.key_text(ActionId.REFRESH),
            listing_time=lambda: self.library.listed_at,
        )
        self._products_state = "none"  # "loading", "loaded"

        # the rooms' parts under the names the app (app_controller.py, services.py) and tests use
        self.model, self.grid = self.browser.model, self.browser.grid
        self.details = self.browser.details
        self.attach_shoots = self.shoots.attach
        self.shoot_changed = self.shoots.shoot_changed
        self.shoot_images = self.shoots.shoot_images
        self.shoot_finished = self.shoots.shoot_finished
        self.submit_shoot = self.shoots.submit
        self.open_new_shoot = self.shoots.open_new_shoot
        self.shoots_panel, self.shoots_dock = self.shoots.panel, self.shoots.dock
        self.product_combo = self.filters.product_combo
        self.status_combo = self.filters.status_combo
        self.search, self.sort_combo = self.filters.search, self.filters.sort_combo
        self.size_slider = self.filters.size_slider

        self.keys = ActionSet(
            {Context.WINDOW: self, **self.browser.action_hosts()},
            {
                ActionId.FIND: self.filters.focus_search,
                ActionId.FOCUS_GRID: self.grid.setFocus,
                ActionId.ZOOM_IN: lambda: self._zoom(+ZOOM_STEP),
                ActionId.ZOOM_OUT: lambda: self._zoom(-ZOOM_STEP),
                ActionId.REFRESH: self._refresh_clicked,
                ActionId.NEW_SHOOT: self.shoots.open_new_shoot,
                ActionId.SHORTCUTS: self.show_shortcuts,
                ActionId.HELP: self.show_shortcuts,  # the sheet starts with how the app works
                # -- the loupe and compare; the review keys --
                **self.browser.key_handlers(say=lambda text: self.statusBar().showMessage(text)),
                **self.reviews.key_handlers(),
                # -- made for AI shoots --
                ActionId.MORE_LIKE_THIS: lambda: self.shoots.more_like_this(
                    self.browser.current_id()
                ),
                ActionId.REGENERATE_REJECTS: lambda: self.shoots.regenerate_rejects_of_image(
                    self.browser.current_id()
                ),
                ActionId.CLEAR_SHOOT_FILTER: self.shoots.clear_shoot_filter,
                # -- getting images out --
                ActionId.EXPORT: self.exports.export,
                ActionId.CONTACT_SHEET: self.exports.contact_sheet,
                ActionId.COPY_IDS: self.exports.copy_ids,
                ActionId.COPY_URLS: self.exports.copy_urls,
                # -- the app --
                ActionId.CLOSE_WINDOW: self.close,
                ActionId.QUIT: self.close,  # the app ends with its window (app_controller.py)
                ActionId.PREFERENCES: self.show_preferences,
            },
            adopt={ActionId.TOGGLE_SHOOTS: self.shoots.dock.toggleViewAction()},
        )
        self.browser.reviewWindowMade.connect(self.keys.host)
        # Review → Undo and Redo are greyed when there is nothing to undo or redo
        self.reviews.historyChanged.connect(self._history_changed)
        self._history_changed(False, False)
        self.refresh_action = self.keys[ActionId.REFRESH]
        self.new_shoot_action = self.keys[ActionId.NEW_SHOOT]
        toggle_shoots = self.keys[ActionId.TOGGLE_SHOOTS]
        self.filters.add_actions([self.refresh_action, self.new_shoot_action, toggle_shoots])
        self.new_shoot_action.setEnabled(False)  # until there is an account and a shoot service
        self.details.open_button.setToolTip(self.keys[ActionId.OPEN_PREVIEW].toolTip())
        self.details.moreLikeThisRequested.connect(self.keys[ActionId.MORE_LIKE_THIS].trigger)
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self.preferences_dialog: PreferencesDialog | None = None
        self._apply_saved_keys()
        self.keys.on_keys_changed(self._keys_changed)
        menus = build_menus(self.menuBar(), self.keys, self.auto_advance_action)
        self.file_menu, self.edit_menu, self.review_menu = menus.file, menus.edit, menus.review
        self.view_menu, self.shoot_menu, self.help_menu = menus.view, menus.shoot, menus.help
        quit_action = self.keys[ActionId.QUIT]
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.accounts = AccountActions(self, self.statusBar())
        self.accounts.install(self.file_menu, self.help_menu, quit_action)
        self.statusBar().addPermanentWidget(self.accounts.status_button)
        self.banner.linkActivated.connect(lambda _link: self.accounts.connect_action.trigger())

        self.auto_refresh = QTimer(self)
        self.auto_refresh.setSingleShot(True)
        self.auto_refresh.timeout.connect(self.refresh)
        self.filters.filterChanged.connect(self._filter_changed)
        self.filters.searchChanged.connect(library.set_search)
        self.filters.reviewFilterChanged.connect(self._review_filter_changed)
        self.filters.sortChanged.connect(self._sort_changed)
        self.filters.thumbSizeChanged.connect(self._size_changed)
        self.grid.zoomRequested.connect(self.filters.set_thumb_size)
        self.shoots.availableChanged.connect(self.new_shoot_action.setEnabled)
        self.model.stateChanged.connect(self._on_state)
        self.model.countChanged.connect(self._on_count)
        # the chosen image is saved once the keys stop moving it (and at the latest on closing)
        self._save_chosen = QTimer(self)
        self._save_chosen.setSingleShot(True)
        self._save_chosen.setInterval(SAVE_CHOSEN_MS)
        self._save_chosen.timeout.connect(self._save_chosen_image)
        self.browser.chosenChanged.connect(lambda _id: self._save_chosen.start())
        self.browser.choose(self.settings.selected_image_id)

        self.filters.apply(self.settings)
        self.grid.setThumbSize(self.filters.thumb_size())
        self._restore_window_state(self.settings)
        fit_to_screen(self)
        # the window's state is saved as it changes too, so that a kill keeps it
        self.browser.splitterMoved.connect(lambda _pos, _index: self._state_changed())
        dock = self.shoots.dock
        dock.visibilityChanged.connect(lambda _visible: self._state_changed())
        dock.dockLocationChanged.connect(lambda _area: self._state_changed())
        dock.topLevelChanged.connect(lambda _floating: self._state_changed())
        library.set_sort(self.filters.sort_order())
        # the remembered product at once, before the product list has arrived: its kept listing
        # is the one shown while the account's server is reached
        library.set_filter(self.filters.server_filter())
        self._on_count(self.model.rowCount())
        # the keys review from the start: arrows move in the grid, P picks (not the first
        # control of the filter bar, which Qt would choose)
        self.grid.setFocus()

    @property
    def preview(self) -> PreviewDialog:
        """The loupe (built the first time it is needed)."""
        return self.browser.preview

    @property
    def compare(self) -> CompareDialog:
        """Compare (built the first time it is needed)."""
        return self.browser.compare

    def attach_reviews(self, store: ReviewStore) -> None:
        """Use this account's reviews: the grid shows them, the keys decide."""
        self.reviews.attach(store)

    def show_shortcuts(self) -> None:
        """The cheat sheet of every key (opened, never exec'd), with the keys bound now."""
        from qamera_desktop.ui.shortcuts_dialog import ShortcutsDialog, shortcuts_html

        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self.keys, self)
        else:
            self.shortcuts_dialog.text.setText(shortcuts_html(self.keys))
        self.shortcuts_dialog.open()

    # -- Preferences -------------------------------------------------------------------------
    def show_preferences(self) -> PreferencesDialog:
        """Preferences (opened, never exec'd); the one already open, raised."""
        from qamera_desktop.ui.preferences_dialog import PreferencesDialog

        dialog = self.preferences_dialog
        if dialog is None:
            dialog = self.preferences_dialog = PreferencesDialog(
                self.settings,
                self._save,
                self.keys,
                self.thumbnail_cache_dir,
                self.tasks,
                parent=self,
            )
            # its choices are written with the next batch (not each keystroke of a field), and
            # at once when it closes: a window opened next (another account) reads the file
            dialog.finished.connect(lambda _result: self.settings_writer.flush())
        if dialog.isVisible():
            dialog.raise_()
            dialog.activateWindow()
        else:
            dialog.open()
        return dialog

    def _new_shoot_defaults(self) -> ShootDefaults:
        return ShootDefaults(self.settings.new_shoot_industry, self.settings.new_shoot_count)

    def _apply_saved_keys(self) -> None:
        """The keys the designer chose in Preferences, where they still fit this version's
        table (a clash keeps that action's default, and is logged)."""
        usable, skipped = custom_keys(self.settings.shortcuts, self.keys.table())
        for problem in skipped:
            log.warning("A saved keyboard shortcut is not used: %s", problem)
        for action_id, keys in usable.items():
            self.keys.set_keys(action_id, [QKeySequence(k) for k in keys])
        self.shoots.show_keys(self.keys.key_text)

    def _history_changed(self, can_undo: bool, can_redo: bool) -> None:
        self.keys[ActionId.UNDO].setEnabled(can_undo)
        self.keys[ActionId.REDO].setEnabled(can_redo)

    def _keys_changed(self) -> None:
        """Texts that name a key follow a rebinding."""
        self.shoots.show_keys(self.keys.key_text)
        self.details.open_button.setToolTip(self.keys[ActionId.OPEN_PREVIEW].toolTip())

    def _review_filter_changed(self, review_filter: ReviewFilter) -> None:
        self.library.set_review_filter(review_filter)
        self.reviews.show_counts()
        self._save(**self.filters.review_settings())

    @property
    def new_shoot_dialog(self) -> NewShootDialog | None:
        return self.shoots.dialog

    # -- connection --------------------------------------------------------------------------
    def attach(self, client: CatalogueSource, description: str, *, demo: bool) -> None:
        """Use this account: load its products and the images of the remembered filter."""
        self._client = client
        self.connection.set_server(description)
        self.library.set_source(MeasuredSource(client, self._listing_measured))
        # thumbnails that failed before the server was reached (the demo's sandbox starts after
        # its kept images are shown) are asked for again
        self.loader.retry_failed()
        self.shoots.set_client(client)
        self.show_demo_banner(demo)
        self._start_loading_products()
        self.refresh()

    def show_demo_banner(self, demo: bool) -> None:
        """Say that this is the demo sandbox (shown from the start of a demo window, so that
        the grid does not move down once the sandbox answers)."""
        self.banner.setText(DEMO_BANNER)
        self.banner.setVisible(demo)

    def _listing_measured(self, error: ApiError | None) -> None:
        """A listing went through (None) or failed: the connection as it is now."""
        if error is not None:
            self.connection.failed("Could not refresh", error)
            return
        self.connection.succeeded()
        if self._products_state == "none":  # they failed before: the server answers again
            self._start_loading_products()

    def _start_loading_products(self) -> None:
        self._products_state = "loading"
        self.tasks.start(self.load_products(), "Loading products")

    async def load_products(self) -> None:
        if self._client is None:
            return
        try:
            products = await self._client.list_products()
        except ApiError as exc:
            self._products_state = "none"
            self.connection.failed("Could not load products", exc)
            if retried(exc) and not self.auto_refresh.isActive():
                # the next listing that goes through loads them again (_listing_measured)
                self.auto_refresh.start(round(self.backoff.delay * 1000))
            return
        self._products_state = "loaded"
        self.connection.succeeded()
        remembered = self.settings.product_id
        self.filters.set_products(products, remembered)
        chosen = self.filters.server_filter()
        if (remembered and chosen.product_id != remembered) or chosen != self.library.server_filter:
            # the remembered product is gone (show all), or it is shown now: query it
            self._filter_changed(chosen)

    # -- refreshing --------------------------------------------------------------------------
    def refresh(self) -> None:
        if self._client is not None:
            self.auto_refresh.stop()
            self.tasks.start(self._refresh(), "Loading images")

    def _refresh_clicked(self) -> None:
        self.loader.retry_failed()
        self.backoff.user_refreshed()
        self.refresh()

    async def _refresh(self) -> None:
        await self.library.refresh()
        await self.library.settled()
        failed = self.library.state.load is LoadState.ERROR
        # while the server cannot be reached (or fails), keep trying, less and less often
        error = self.connection.error
        unreachable = failed and error is not None and retried(error)
        delay = self.backoff.next_delay(
            self.library.revision,
            failed=failed,
            unfinished=self.library.has_unfinished or unreachable,
        )
        if delay is not None:
            self.auto_refresh.start(round(delay * 1000))

    # -- what the filter bar says ------------------------------------------------------------
    def _filter_changed(self, server_filter: ServerFilter) -> None:
        self._save(product_id=server_filter.product_id, status_filter=server_filter.status.value)
        if self.library.set_filter(server_filter):
            self.backoff.query_changed()
            self.refresh()

    def _sort_changed(self, order: SortOrder) -> None:
        self._save(sort=order.value)
        self.library.set_sort(order)

    def _size_changed(self, value: int) -> None:
        self.grid.setThumbSize(value)
        self._save(thumb_size=self.grid.thumb_size)

    def _save_chosen_image(self) -> None:
        self._save_chosen.stop()
        if self.browser.chosen_id != self.settings.selected_image_id:
            self._save(selected_image_id=self.browser.chosen_id)

    def _zoom(self, step: int) -> None:
        self.filters.set_thumb_size(self.filters.thumb_size() + step)

    @property
    def settings(self) -> Settings:
        """The settings as they are now (some perhaps not on disk yet: `_save`)."""
        return self.settings_writer.settings

    def _save(self, **changes: object) -> None:
        """Change settings now; they reach the disk with the next batch (ui/settings_writer.py)
        and at close."""
        self.settings_writer.change(**changes)

    def _save_failed(self, exc: OSError) -> None:
        self.statusBar().showMessage(f"Could not save settings: {exc}", 8_000)

    # -- the window's own state --------------------------------------------------------------
    def _restore_window_state(self, settings: Settings) -> None:
        """Geometry, the grid/details splitter and the Shoots dock (visible, where, how tall),
        as they were at the last close."""
        if settings.window_geometry:
            self.restoreGeometry(_bytes(settings.window_geometry))
        if settings.splitter_state:
            self.browser.restoreState(_bytes(settings.splitter_state))
        if settings.window_state:
            self.restoreState(_bytes(settings.window_state))

    def _state_changed(self) -> None:
        """Moved, resized, the splitter dragged, the dock shown, hidden or moved: saved with the
        next batch. Not while the window is hidden or closing (its dock hides with it)."""
        if self.isVisible() and not self._closing:
            self._save(**self._window_state())

    def moveEvent(self, event: QMoveEvent) -> None:
        super().moveEvent(event)
        self._state_changed()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._state_changed()

    def _window_state(self) -> dict[str, str]:
        return {
            "window_geometry": _base64(self.saveGeometry()),
            "splitter_state": _base64(self.browser.saveState()),
            "window_state": _base64(self.saveState()),
        }

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # light or dark (ui/theme.py)
            self.banner.setStyleSheet(banner_style(self.palette()))
        super().changeEvent(event)

    # -- the listing's state -----------------------------------------------------------------
    def _on_state(self, state: LibraryState) -> None:
        key = self.keys.key_text(ActionId.REFRESH)
        error = self.connection.error if self.connection.link is Link.FAILED else None
        self.browser.show_state(
            state,
            connected=self._client is not None,
            refresh_key=key,
            problem=str(error) if error is not None else None,
        )
        if state.load is LoadState.ERROR and self.connection.link is not Link.FAILED:
            # not the connection (ConnectionStatus says that): the listing could not be shown
            self.statusBar().showMessage(
                f"Could not refresh: {state.error} Press {key} to try again."
            )

    def _on_count(self, count: int) -> None:
        self.browser.show_count(count)
        self.reviews.show_counts()
        self._on_state(self.library.state)

    def _task_failed(self, what: str, exc: BaseException) -> None:
        self.statusBar().showMessage(f"{what} failed: {exc}", 15_000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_chosen_image()
        self._save(**self._window_state())
        self.settings_writer.flush()
        self._closing = True
        super().closeEvent(event)
        if event.isAccepted():
            for dialog in self.findChildren(QDialog):  # a dialog left open ends with its window
                dialog.close()
            self.closed.emit()
        else:
            self._closing = False


def _base64(data: QByteArray) -> str:
    return bytes(data.toBase64().data()).decode()


def _bytes(text: str) -> QByteArray:
    return QByteArray.fromBase64(text.encode())
