"""The composition root: builds the app's services and main window and wires them together.

In three steps, so that the window is on screen before anything slow happens, and the account's
own images before its server answers:

1. `build_services(...)` makes the settings store, the image library, the thumbnail loader and the
   main window (not shown yet: the caller shows it and lets it paint);
2. `AppServices.open_local(...)`, once the account is known, opens its data on this computer
   (database, reviews, kept listings); the app shows the listing kept from last time at once;
3. `AppServices.connect(...)` makes the API client and the shoot service and attaches them to the
   window, which then asks the server.

The app (ui/app_controller.py) and the widget tests (tests/ui/conftest.py) both build through here;
the tests only pass faster timings and a client factory of their own as parameters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qamera_desktop.core.database import Database
from qamera_desktop.core.image_library import ImageLibrary
from qamera_desktop.core.listing_store import ListingStore
from qamera_desktop.core.review_store import ReviewStore
from qamera_desktop.core.settings import SettingsStore
from qamera_desktop.core.shoot_service import ShootService
from qamera_desktop.core.shoots import Shoot
from qamera_desktop.ui.connection_status import MeasuredCatalogue, Reconnect
from qamera_desktop.ui.main_window import MainWindow
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

if TYPE_CHECKING:
    from qamera_desktop.api.client import QameraClient
    from qamera_desktop.ui.catalogue_picker import CataloguePicker

log = logging.getLogger(__name__)

CLOSE_STEP_SECONDS = 5.0
"""How long each service may take to close when the app quits (see AppServices.aclose)."""

ClientFactory = Callable[[str, str], "QameraClient"]
"""(base_url, api_key) -> a client; raises ValueError for a refused URL or a malformed key."""

ShootListener = Callable[[Shoot], None]


def make_client(base_url: str, api_key: str) -> QameraClient:
    """The app's client. Its module (and httpx) is imported here, once the window is up."""
    from qamera_desktop.api.client import QameraClient

    return QameraClient(base_url, api_key)


@dataclass(frozen=True)
class ShootPolling:
    """How often the shoot service polls the listings of products with shoots in flight.
    The defaults are the app's (ShootService's own); tests poll faster."""

    min_interval: float = 2.0
    max_interval: float = 20.0
    requests_per_minute: float = 40.0


@dataclass(frozen=True)
class Tuning:
    """What the widget tests change for speed. The defaults are production's."""

    make_client: ClientFactory = make_client
    polling: ShootPolling = field(default_factory=ShootPolling)


@dataclass
class AppServices:
    """Everything `build_services` made; `open_local` adds the database, reviews and kept
    listings, `connect` the client and the shoot service."""

    settings_store: SettingsStore
    library: ImageLibrary
    loader: ThumbnailLoader
    window: MainWindow
    tuning: Tuning = field(default_factory=Tuning)
    originals_dir: Path | None = None
    """The cache of the images' own files (drags, contact sheets), a folder per account inside."""
    account: str | None = None
    """The account's name in the local database (set by `open_local`)."""
    client: QameraClient | None = None
    database: Database | None = None
    shoots: ShootService | None = None
    reviews: ReviewStore | None = None
    listings: ListingStore | None = None

    def open_local(self, database_file: Path, account: str) -> None:
        """The account's data on this computer, before its server is reached: the database,
        the designer's reviews, and the listings kept from last time (`library.show_kept()`
        shows the filter's at once; the first refresh shows it too, while its request runs).

        `account` names the account in the local database (`core/account.py`: `account_id`
        of the URL and key; the demo sandbox's `sandbox_account_id`, stable whatever its port).
        """
        if self.database is not None:
            raise RuntimeError("already opened")
        self.database = Database(database_file)
        self.account = account
        # the designer's picks and rejects of this account, before any listing is shown
        self.reviews = ReviewStore(self.database, account)
        self.window.attach_reviews(self.reviews)
        # the last listing of each filter, kept: shown at once at start and while offline
        self.listings = ListingStore(database_file, account)
        self.library.set_listing_cache(self.listings)

    def connect(
        self,
        api_url: str,
        api_key: str,
        *,
        description: str,
        demo: bool,
        sandbox_price_per_image: float | None = None,
        on_change: Sequence[ShootListener] = (),
        on_finished: Sequence[ShootListener] = (),
    ) -> QameraClient:
        """Reach the account opened by `open_local` on its server: the client, the shoot
        service, the window's listing and pickers.

        `sandbox_price_per_image` is the sandbox's own price, for estimates before any receipt
        (None for a real account, whose price is only known from receipts).
        `on_change` and `on_finished` are called after the window has shown each change or end
        of a shoot. Raises ValueError (before anything is made) for a refused URL or key.
        """
        if self.database is None or self.account is None:
            raise RuntimeError("open_local first")
        if self.client is not None:
            raise RuntimeError("already connected")
        client = self.client = self.tuning.make_client(api_url, api_key)
        window = self.window
        polling = self.tuning.polling
        self.shoots = ShootService(
            client,
            self.database,
            self.account,
            on_change=_then(window.shoot_changed, on_change),
            on_images=window.shoot_images,
            on_finished=_then(window.shoot_finished, on_finished),
            min_interval=polling.min_interval,
            max_interval=polling.max_interval,
            requests_per_minute=polling.requests_per_minute,
        )
        # start() loads the account's remembered shoots: before attach_shoots(), so that the
        # Shoots panel lists them (and shows itself) from the start, not only once one changes
        self.shoots.start()
        window.attach_shoots(self.shoots, sandbox_price_per_image=sandbox_price_per_image)
        # every request the window makes tells the status bar how the connection is, and the
        # window acts on it (a picker that cannot reach the server starts the listing's retries)
        reconnect = Reconnect(
            window.connection,
            self.library,
            window.refresh,
            self._pickers,
            self.loader.retry_failed,
        )
        catalogue = MeasuredCatalogue(client, window.connection, reconnect.answered_again)
        window.attach(catalogue, description, demo=demo)
        if self.originals_dir is not None:
            window.exports.attach(client, description, self.originals_dir / self.account)
        return client

    def _pickers(self) -> list[CataloguePicker]:
        """The pickers of the New shoot dialog, when it is open."""
        dialog = self.window.new_shoot_dialog
        return dialog.pickers() if dialog is not None else []

    async def aclose(self, step_seconds: float = CLOSE_STEP_SECONDS) -> None:
        """Stop tracking, cancel the window's tasks, close the loader, the client, the database.

        Each step gets `step_seconds`: one that hangs (a connection that never says it closed)
        is logged and left behind, so that quitting never leaves a process without a window.
        """
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        # first: a running export or contact sheet stops, its files complete or absent
        steps.append(("exports", self.window.exports.aclose))
        if self.shoots is not None:
            steps.append(("shoot tracking", self.shoots.aclose))
        steps.append(("the window's tasks", self.window.tasks.cancel_all))
        steps.append(("the thumbnail loader", self.loader.aclose))
        if self.client is not None:
            steps.append(("the API client", self.client.aclose))
        if self.listings is not None:
            steps.append(("the kept listings", self.listings.aclose))
        for what, step in steps:
            try:
                await asyncio.wait_for(step(), step_seconds)
            except TimeoutError:
                log.warning("Closing %s took over %.0f s; going on without it", what, step_seconds)
            except Exception:
                log.exception("Closing %s failed", what)
        if self.database is not None:
            self.database.close()


def build_services(
    settings_file: Path, thumbnail_cache_dir: Path, *, tuning: Tuning | None = None
) -> AppServices:
    """The settings store, image library, thumbnail loader and main window (not shown yet).
    The images' own files are cached beside the thumbnails ("originals"). The thumbnail cache
    holds as much as Preferences allows (Preferences trims the folder itself when lowered)."""
    settings_store = SettingsStore(settings_file)
    library = ImageLibrary()
    settings = settings_store.load()  # read once: the window's writer starts from it
    cache_bytes = settings.thumbnail_cache_mb * 2**20
    loader = ThumbnailLoader(thumbnail_cache_dir, disk_cache_bytes=cache_bytes)
    window = MainWindow(
        library,
        loader,
        settings_store,
        settings=settings,
        thumbnail_cache_dir=thumbnail_cache_dir,
    )
    originals = thumbnail_cache_dir.parent / "originals"
    return AppServices(settings_store, library, loader, window, tuning or Tuning(), originals)


def _then(first: ShootListener, listeners: Sequence[ShootListener]) -> ShootListener:
    if not listeners:
        return first
    after = tuple(listeners)

    def call_all(shoot: Shoot) -> None:
        first(shoot)
        for listener in after:
            listener(shoot)

    return call_all
