"""What the status bar says of the connection: only what was last measured.

Every request the window makes (the listing through `MeasuredSource`, the products) reports its
outcome here. Until the first one has, the label only names the server; after a success it says
connected; after a failure it says what went wrong (and that the window keeps trying, when it
does), and the error stays in the status bar until the next success. A state is never assumed:
"connected" is shown only after a request went through.

Every request counts, not the listing's alone: the New shoot pickers' lists report here too
(`MeasuredCatalogue`), and `Reconnect` makes the window act on what any of them learned. A picker
that cannot reach the server starts the listing's own retries (so the grid says so, and notices the
server's return within seconds: core/refresh_backoff.py); a request that goes through after a
failure refreshes the listing and reloads the pickers at once. Before, a server that went away while
nothing was unfinished left the label on "Connected", and the listing unrefreshed after its return.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from PySide6.QtWidgets import QLabel, QStatusBar

from qamera_desktop.api.errors import (
    ApiError,
    AuthError,
    ForbiddenError,
    NetworkError,
    ProtocolError,
    RateLimitedError,
    ServerError,
)
from qamera_desktop.api.records import AiModel, Image, Preset, Product, Scenery
from qamera_desktop.api.retry import is_retryable
from qamera_desktop.core.image_library import ImageLibrary, ImageSource, LoadState
from qamera_desktop.core.shoot_defaults import Catalogue
from qamera_desktop.ui.theme import error_colour

if TYPE_CHECKING:  # the New shoot dialog's, imported when a designer first opens it
    from qamera_desktop.ui.catalogue_picker import CataloguePicker

CONNECTED_PREFIX = "Connected to "


class Link(StrEnum):
    UNKNOWN = "unknown"  # nothing measured yet
    CONNECTED = "connected"  # the last request went through
    FAILED = "failed"  # the last request failed


def retried(error: ApiError) -> bool:
    """Whether the window should try again later: what the client itself retries (unreachable,
    busy, failing), and an answer of the wrong shape (a proxy's error page, a deploy midway)."""
    return is_retryable(error) or isinstance(error, ProtocolError)


def problem(error: ApiError) -> str:
    """A few words for the status bar's label."""
    if isinstance(error, NetworkError):
        return "Cannot reach the server"
    if isinstance(error, ServerError):
        return "The server has a problem"
    if isinstance(error, RateLimitedError):
        return "Too many requests"
    if isinstance(error, AuthError):
        return "API key not accepted"
    if isinstance(error, ForbiddenError):
        return "Not allowed with this API key"
    if isinstance(error, ProtocolError):
        return "Unexpected answer from the server"
    return "A request failed"


class ConnectionStatus:
    def __init__(
        self,
        label: QLabel,
        status_bar: QStatusBar,
        refresh_key: Callable[[], str],
        listing_time: Callable[[], datetime | None] = lambda: None,
    ) -> None:
        """`listing_time`: when the listing shown came from the server (ImageLibrary.listed_at),
        said while offline."""
        self._label = label
        self._bar = status_bar
        self._refresh_key = refresh_key
        self._where = ""
        self._message: str | None = None  # the error this shows in the status bar
        self.link = Link.UNKNOWN
        self.error: ApiError | None = None
        self._link_listeners: list[Callable[[Link, Link], None]] = []
        self.listing_time = listing_time

    def on_link_changed(self, listener: Callable[[Link, Link], None]) -> None:
        """Call `listener(before, now)` whenever the link changes (not on each request)."""
        self._link_listeners.append(listener)

    def _set_link(self, link: Link, error: ApiError | None) -> None:
        before = self.link
        self.link, self.error = link, error
        if link is not before:
            for listener in list(self._link_listeners):
                listener(before, link)

    def set_server(self, description: str) -> None:
        """A new server: its name (a description claiming a connection is not believed yet)."""
        where = description
        if where.startswith(CONNECTED_PREFIX):
            where = where[len(CONNECTED_PREFIX) :]
        self._where = where
        self._show(where, f"{where}: not contacted yet", failed=False)
        self._set_link(Link.UNKNOWN, None)

    def succeeded(self) -> None:
        """A request went through."""
        self._show(f"Connected · {self._where}", f"Last request answered at {_now()}", False)
        if self._message is not None and self._bar.currentMessage() == self._message:
            self._bar.clearMessage()
        if self._message is not None:
            self._bar.setToolTip("")
        self._message = None
        self._set_link(Link.CONNECTED, None)

    def failed(self, what: str, error: ApiError) -> None:
        """A request failed: say so on the label, and the error in the status bar until the
        next success (no timeout)."""
        again = retried(error)
        tip = f"{self._where}: {error}\nLast request failed at {_now()}"
        if isinstance(error, NetworkError):
            listed = self.listing_time()
            shown = f"showing the listing of {_when(listed)}" if listed else self._where
            self._show(f"Offline · {shown}", tip, True)
        else:
            short = problem(error) + (" — retrying" if again else "")
            self._show(f"{short} · {self._where}", tip, True)
        retrying = "Trying again by itself; press" if again else "Press"
        self._message = f"{what}: {error} {retrying} {self._refresh_key()} to try again now."
        self._bar.showMessage(self._message)
        self._bar.setToolTip(self._message)  # the whole of it, when the bar is too narrow
        self._set_link(Link.FAILED, error)

    def _show(self, text: str, tip: str, failed: bool) -> None:
        self._label.setText(text)
        self._label.setToolTip(tip)
        colour = error_colour(self._label.palette())  # reads on light and dark (ui/theme.py)
        self._label.setStyleSheet(f"color: {colour};" if failed else "")


class MeasuredSource:
    """The client as the library's source of images, telling `report` how each listing went
    (None: it went through)."""

    def __init__(self, client: ImageSource, report: Callable[[ApiError | None], None]) -> None:
        self._client = client
        self._report = report

    async def list_images(
        self, status_filter: str = "all", product_id: str | None = None
    ) -> list[Image]:
        try:
            images = await self._client.list_images(
                status_filter=status_filter, product_id=product_id
            )
        except ApiError as exc:
            self._report(exc)
            raise
        self._report(None)
        return images


class CatalogueSource(Catalogue, ImageSource, Protocol):
    """What the window asks of the client: the catalogue and the listing."""


class MeasuredCatalogue:
    """The client as the window's catalogue: the models, sceneries and presets (the New shoot
    pickers, the shoots' names) report how each request went to `status`, and one that goes through
    after a failure calls `answered_again`. The listing and the products pass through unmeasured:
    the window measures those itself."""

    def __init__(
        self,
        client: CatalogueSource,
        status: ConnectionStatus,
        answered_again: Callable[[], None] = lambda: None,
    ) -> None:
        self._client = client
        self._status = status
        self._answered_again = answered_again

    async def list_images(
        self, status_filter: str = "all", product_id: str | None = None
    ) -> list[Image]:
        return await self._client.list_images(status_filter=status_filter, product_id=product_id)

    async def list_products(self) -> list[Product]:
        return await self._client.list_products()

    async def list_models(self, status_filter: str = "all") -> list[AiModel]:
        return await self._measured(
            "Could not load the AI models", self._client.list_models(status_filter)
        )

    async def list_sceneries(self, status_filter: str = "all") -> list[Scenery]:
        return await self._measured(
            "Could not load the sceneries", self._client.list_sceneries(status_filter)
        )

    async def list_presets(self, max_records: int | None = None) -> list[Preset]:
        return await self._measured(
            "Could not load the presets", self._client.list_presets(max_records)
        )

    async def _measured[T](self, what: str, request: Awaitable[T]) -> T:
        try:
            value = await request
        except ApiError as exc:
            self._status.failed(what, exc)
            raise
        again = self._status.link is Link.FAILED
        self._status.succeeded()
        if again:
            self._answered_again()
        return value


class Reconnect:
    """The window acts on what any request learned of the connection.

    Lost (a request failed for a reason that may pass, while no listing is on its way): the listing
    is refreshed, so that it fails too and the window's retries start (the grid keeps its images
    and says why; the server's return is noticed within seconds). Back (any request went through
    after a failure): the New shoot pickers that failed load again. Answered again (a request of
    the catalogue went through after a failure: `answered_again`): the listing is refreshed at
    once, even if one is on its way (it may be waiting out the client's retries for seconds; the
    older answer never wins over the newer one: core/image_library.py). Back, the thumbnails that
    failed meanwhile are tried again too (`retry_thumbnails`)."""

    def __init__(
        self,
        status: ConnectionStatus,
        library: ImageLibrary,
        refresh: Callable[[], None],
        pickers: Callable[[], Iterable[CataloguePicker]],
        retry_thumbnails: Callable[[], None],
    ) -> None:
        self._status = status
        self._library = library
        self._refresh = refresh
        self._pickers = pickers
        self._retry_thumbnails = retry_thumbnails
        status.on_link_changed(self._changed)

    def answered_again(self) -> None:
        self._refresh()

    def _changed(self, before: Link, now: Link) -> None:
        if before is Link.FAILED and now is Link.CONNECTED:
            for picker in self._pickers():
                picker.retry_now()
            self._retry_thumbnails()
        error = self._status.error
        lost = now is Link.FAILED and error is not None and retried(error)
        if lost and not self._listing_on_its_way():
            self._refresh()

    def _listing_on_its_way(self) -> bool:
        state = self._library.state
        return state.refreshing or state.load is LoadState.LOADING


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S")


def _when(moment: datetime) -> str:
    """14:02 today; 5 Dec 14:02 another day (local time)."""
    local = moment.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return local.strftime("%H:%M")
    return f"{local.day} {local.strftime('%b %H:%M')}"
