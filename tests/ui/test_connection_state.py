"""The status bar shows the connection as it was last measured: connected only after a request went
through; after a failure what went wrong, kept (no timeout) until the next success; the window
keeps trying by itself while the server cannot be reached, and says connected again once it can."""

from __future__ import annotations

import socket
from datetime import datetime

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QStatusBar

from qamera_desktop.api.errors import AuthError, NetworkError
from qamera_desktop.core.image_library import LoadState
from qamera_desktop.core.refresh_backoff import RefreshBackoff
from qamera_desktop.ui.connection_status import ConnectionStatus, Link
from tests.ui.helpers import LISTING, press, settled


def message_has_a_timeout(window) -> bool:
    """QStatusBar runs a timer of its own while a message shown with a timeout is up."""
    return any(timer.isActive() for timer in window.statusBar().findChildren(QTimer))


def label(window) -> str:
    return window.connection_label.text()


def test_connected_is_said_only_after_a_request_went_through(qtbot, make_app):
    app = make_app(wait_loaded=False)
    window = app.window
    assert label(window) == "Demo sandbox"  # right after attaching: nothing measured yet
    qtbot.waitUntil(lambda: settled(app))
    assert label(window) == "Connected · Demo sandbox"
    assert "answered" in window.connection_label.toolTip()


def test_a_stopped_server_is_said_until_it_answers_again(qtbot, make_app, sandbox_factory):
    server = sandbox_factory()
    app = make_app(handle=server)
    window = app.window
    window.backoff = RefreshBackoff(first=0.05, maximum=0.2)  # the app's 3 s to 30 s, shorter
    assert label(window).startswith("Connected")

    server.stop()
    window.grid.setFocus()
    press(qtbot, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: app.library.state.load is LoadState.ERROR, timeout=10_000)
    # offline, said with the time of the listing still shown
    listed = app.library.listed_at
    assert listed is not None
    assert label(window) == f"Offline · showing the listing of {listed.astimezone():%H:%M}"
    assert "Could not reach the Qamera service" in window.connection_label.toolTip()
    assert "Demo sandbox" in window.connection_label.toolTip()
    status = window.statusBar().currentMessage()
    assert status.startswith("Could not refresh: Could not reach the Qamera service")
    assert "F5" in status
    assert not message_has_a_timeout(window)  # it stays until the next success
    # the images already shown stay, and the window keeps trying by itself
    assert window.model.rowCount() == 40
    refreshes: list[LoadState] = []
    window.model.stateChanged.connect(
        lambda state: refreshes.append(state.load) if state.refreshing else None
    )
    qtbot.waitUntil(lambda: len(refreshes) >= 2, timeout=10_000)
    qtbot.waitUntil(lambda: settled(app), timeout=10_000)
    assert label(window).startswith("Offline · showing the listing of ")
    assert window.statusBar().currentMessage() == status
    assert not message_has_a_timeout(window)


def test_server_errors_are_said_until_the_next_success_then_connected_again(
    qtbot, make_app, sandbox
):
    app = make_app()
    window = app.window
    window.backoff = RefreshBackoff(first=0.05, maximum=0.2)
    sandbox.reconfigure(error_rate=1.0)
    window.grid.setFocus()
    press(qtbot, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: app.library.state.load is LoadState.ERROR, timeout=10_000)
    assert label(window) == "The server has a problem — retrying · Demo sandbox"
    assert "Internal server error" in window.statusBar().currentMessage()
    assert not message_has_a_timeout(window)

    before = sandbox.stats().count(*LISTING)
    sandbox.reconfigure(error_rate=0.0)
    # no key pressed: the window's own retry finds the server well again
    qtbot.waitUntil(lambda: label(window) == "Connected · Demo sandbox", timeout=10_000)
    assert sandbox.stats().count(*LISTING) > before
    assert window.statusBar().currentMessage() == ""
    assert window.connection_label.styleSheet() == ""


def test_products_that_could_not_load_at_start_load_once_the_server_answers(
    qtbot, make_app, sandbox
):
    sandbox.reconfigure(error_rate=1.0)
    app = make_app(wait_loaded=False)
    window = app.window
    window.backoff = RefreshBackoff(first=0.05, maximum=0.2)
    qtbot.waitUntil(lambda: app.library.state.load is LoadState.ERROR, timeout=10_000)
    qtbot.waitUntil(lambda: window.tasks.running <= 1, timeout=10_000)  # products gave up too
    assert label(window).startswith("The server has a problem")
    assert window.product_combo.count() == 1
    assert not message_has_a_timeout(window)

    sandbox.reconfigure(error_rate=0.0)
    qtbot.waitUntil(lambda: bool(window.filters.products), timeout=10_000)
    qtbot.waitUntil(lambda: settled(app) and window.model.rowCount() == 40, timeout=10_000)
    assert label(window) == "Connected · Demo sandbox"
    assert window.statusBar().currentMessage() == ""


def test_offline_says_the_day_of_a_listing_from_another_day(qtbot):
    bar = QStatusBar()
    qtbot.addWidget(bar)
    shown = QLabel()
    status = ConnectionStatus(shown, bar, lambda: "F5")
    status.set_server("https://app.qamera.ai")
    status.listing_time = lambda: datetime(2026, 12, 5, 14, 2).astimezone()
    status.failed("Could not refresh", NetworkError("Could not reach the Qamera service (x)."))
    assert shown.text() == "Offline · showing the listing of 5 Dec 14:02"
    assert status.link is Link.FAILED
    # an answer that is not a network failure is no "offline"
    status.failed("Could not refresh", AuthError())
    assert shown.text() == "API key not accepted · https://app.qamera.ai"


def test_a_description_that_claims_a_connection_is_not_believed_before_a_request(qtbot):
    bar = QStatusBar()
    qtbot.addWidget(bar)
    shown = QLabel()
    status = ConnectionStatus(shown, bar, lambda: "F5")
    status.set_server("Connected to https://app.qamera.ai")  # what the app describes a key with
    assert shown.text() == "https://app.qamera.ai"
    assert status.link is Link.UNKNOWN
    status.failed("Could not load products", AuthError())
    assert shown.text() == "API key not accepted · https://app.qamera.ai"  # no retrying: no use
    assert bar.currentMessage() == (
        "Could not load products: The API key was not accepted. Check it in Settings. "
        "Press F5 to try again now."
    )
    status.succeeded()
    assert shown.text() == "Connected · https://app.qamera.ai"
    assert bar.currentMessage() == ""


def test_products_failing_alone_are_retried_as_the_label_says(qtbot, make_app, sandbox, arun):
    app = make_app()
    window = app.window
    window.backoff = RefreshBackoff(first=0.05, maximum=0.2)
    assert not app.library.has_unfinished  # nothing would refresh by itself
    real = app.client.list_products
    calls = []

    async def unreachable_once():
        calls.append(1)
        if len(calls) == 1:
            raise NetworkError("Could not reach the Qamera service (ConnectError: refused).")
        return await real()

    app.client.list_products = unreachable_once  # the listing still goes through
    products = ("GET", "/api/external/products")
    before = sandbox.stats().count(*products)
    links: list[Link] = []
    window.connection.on_link_changed(lambda _before, now: links.append(now))
    arun(window.load_products())
    assert links[0] is Link.FAILED  # said at once (the listing tried next may already be back)
    # it does retry: the next listing that goes through loads the products again
    qtbot.waitUntil(lambda: sandbox.stats().count(*products) == before + 1, timeout=10_000)
    qtbot.waitUntil(lambda: label(window) == "Connected · Demo sandbox")
    assert len(calls) == 2
    assert window.statusBar().currentMessage() == ""


def test_while_the_first_listing_is_retried_the_grid_says_why_not_loading(qtbot, make_app):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = unused.getsockname()[1]
        app = make_app(base_url=f"http://127.0.0.1:{port}", wait_loaded=False)
        window = app.window
        window.backoff = RefreshBackoff(first=0.05, maximum=0.2)
        seen: list[tuple[LoadState, str | None]] = []
        window.model.stateChanged.connect(
            lambda state: seen.append((state.load, window.grid.message_text()))
        )
        qtbot.waitUntil(
            lambda: [load for load, _ in seen].count(LoadState.ERROR) >= 3, timeout=10_000
        )
    first_error = next(i for i, (load, _) in enumerate(seen) if load is LoadState.ERROR)
    retries = [text for load, text in seen[first_error:] if load is LoadState.LOADING]
    assert retries, "the window did not try again by itself"
    for text in retries:
        assert text is not None
        assert text.startswith("Could not load images.\nCould not reach the Qamera service")
        assert "Trying again" in text
    assert label(window) == "Offline · Demo sandbox"  # no listing to show
