"""What the status bar says of the connection: only what was last measured.

Every request the window makes (the listing through `MeasuredSource`, the products) reports its
outcome here. Until the first one has, the label only names the server; after a success it says
connected; after a failure it says what went wrong (and that the window keeps trying, when it
does), and the error stays in the status bar until the next success. A state is never assumed:
"connected" is shown only after a request went through.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

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
from qamera_desktop.api.records import Image
from qamera_desktop.api.retry import is_retryable
from qamera_desktop.core.image_library import ImageSource

CONNECTED_PREFIX = "Connected to "
FAILED_STYLE = "color: #c92a2a;"


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
        self, label: QLabel, status_bar: QStatusBar, refresh_key: Callable[[], str]
    ) -> None:
        self._label = label
        self._bar = status_bar
        self._refresh_key = refresh_key
        self._where = ""
        self._message: str | None = None  # the error this shows in the status bar
        self.link = Link.UNKNOWN
        self.error: ApiError | None = None

    def set_server(self, description: str) -> None:
        """A new server: its name (a description claiming a connection is not believed yet)."""
        where = description
        if where.startswith(CONNECTED_PREFIX):
            where = where[len(CONNECTED_PREFIX) :]
        self._where = where
        self.link, self.error = Link.UNKNOWN, None
        self._show(where, f"{where}: not contacted yet", failed=False)

    def succeeded(self) -> None:
        """A request went through."""
        self.link, self.error = Link.CONNECTED, None
        self._show(f"Connected · {self._where}", f"Last request answered at {_now()}", False)
        if self._message is not None and self._bar.currentMessage() == self._message:
            self._bar.clearMessage()
        if self._message is not None:
            self._bar.setToolTip("")
        self._message = None

    def failed(self, what: str, error: ApiError) -> None:
        """A request failed: say so on the label, and the error in the status bar until the
        next success (no timeout)."""
        self.link, self.error = Link.FAILED, error
        again = retried(error)
        short = problem(error) + (" — retrying" if again else "")
        self._show(f"{short} · {self._where}", f"{error}\nLast request failed at {_now()}", True)
        retrying = "Trying again by itself; press" if again else "Press"
        self._message = f"{what}: {error} {retrying} {self._refresh_key()} to try again now."
        self._bar.showMessage(self._message)
        self._bar.setToolTip(self._message)  # the whole of it, when the bar is too narrow

    def _show(self, text: str, tip: str, failed: bool) -> None:
        self._label.setText(text)
        self._label.setToolTip(tip)
        self._label.setStyleSheet(FAILED_STYLE if failed else "")


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


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S")
