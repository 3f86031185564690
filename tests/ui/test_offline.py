"""Offline, and back: with the sandbox stopped the window says so (never "Connected"), keeps the
images it shows and the review keys working; once a sandbox serves the same folder on the same port
again, the window finds it by itself (no key pressed, no restart): connected, the listing fresh,
the same image current, the New shoot pickers loaded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from PySide6.QtCore import Qt

from qamera_desktop.api.errors import NetworkError
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.background_tasks import BackgroundTasks
from qamera_desktop.core.refresh_backoff import RefreshBackoff
from qamera_desktop.sandbox import SandboxHandle, start_sandbox
from qamera_desktop.ui.catalogue_picker import CataloguePicker, PickerItem
from qamera_desktop.ui.catalogue_picker import LoadState as PickerState
from tests.sandbox_fixtures import TEST_CONFIG, api_client
from tests.ui.helpers import App, products_of, settled

Restart = Callable[[SandboxHandle], SandboxHandle]


@pytest.fixture
def restart() -> Iterator[Restart]:
    """Start a sandbox on the folder and port of one that was stopped (stopped after the test)."""
    started: list[SandboxHandle] = []

    def again(stopped: SandboxHandle) -> SandboxHandle:
        port = urlsplit(stopped.base_url).port
        assert port is not None
        handle = start_sandbox(stopped.data_dir, TEST_CONFIG, port=port)
        started.append(handle)
        return handle

    yield again
    for handle in started:
        handle.stop()


# When the sandbox is stopped under the client, the HTTP pool can drop a dead keep-alive
# connection without closing its socket, and the garbage collector then warns (seen once in 8
# full runs, only in this module, which stops servers under live clients). Only that warning, of
# a socket, is let through here; every other unraisable exception still fails these tests.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <socket\.socket:pytest.PytestUnraisableExceptionWarning"
)


def label(app: App) -> str:
    return app.window.connection_label.text()


def quick_to_retry(app: App) -> App:
    """The window's retries of the listing at the app's pace of 3 s to 30 s, made shorter."""
    app.window.backoff = RefreshBackoff(first=0.05, maximum=0.2)
    return app


def go_offline(qtbot: Any, app: App, server: SandboxHandle) -> None:
    """Stop the server under the window; its next listing fails."""
    server.stop()
    app.window.refresh()
    qtbot.waitUntil(lambda: app.library.state.error is not None, timeout=15_000)


def add_image(handle: SandboxHandle) -> set[str]:
    """A new shoot of one image on the server, made by someone else: the ids it created."""
    product = products_of(handle)[0]["id"]
    with api_client(handle.base_url, handle.demo_key) as http:
        answer = http.post(
            "/api/external/image-picker/register-ideas",
            json=ShootRequest(product, count=1).to_body(),
        )
        answer.raise_for_status()
        created: list[str] = answer.json()["createdRecordIds"]
    return set(created)


def choose_row(app: App, row: int) -> str:
    window = app.window
    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(row))
    image_id = window.browser.current_id()
    assert image_id is not None
    return image_id


def wait_recovered(qtbot, app, new: list[str]) -> None:
    """Until the window says connected again and shows the images added meanwhile."""
    qtbot.waitUntil(
        lambda: (
            label(app) == "Connected · Demo sandbox"
            and all(app.library.get(i) is not None for i in new)
        ),
        timeout=30_000,
    )


def test_a_picker_that_cannot_reach_the_server_says_so_and_the_return_is_found_by_itself(
    qtbot: Any, make_app: Any, sandbox_factory: Any, restart: Restart
) -> None:
    server = sandbox_factory()
    app = quick_to_retry(make_app(handle=server))
    window = app.window
    assert not app.library.has_unfinished  # nothing would refresh the listing by itself
    assert label(app) == "Connected · Demo sandbox"
    chosen = choose_row(app, 3)
    shown = window.model.rowCount()

    server.stop()
    dialog = window.open_new_shoot()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.model.load_state is PickerState.FAILED, timeout=15_000)
    # the picker's failure is the window's news too: the label no longer says connected, and
    # the listing is tried (and fails) so that the grid keeps its images and says why
    qtbot.waitUntil(
        lambda: label(app).startswith("Offline · showing the listing of "), timeout=15_000
    )
    qtbot.waitUntil(lambda: app.library.state.error is not None, timeout=15_000)
    assert window.model.rowCount() == shown
    assert window.browser.current_id() == chosen

    again = restart(server)
    new = add_image(again)
    # no key pressed: the window finds the server again by itself
    wait_recovered(qtbot, app, new)
    assert window.model.rowCount() == shown + len(new)
    assert window.browser.current_id() == chosen  # the same image, in its new row
    qtbot.waitUntil(lambda: dialog.model.load_state is PickerState.READY, timeout=15_000)
    assert "Could not" not in dialog.model.message()
    # the listing asked again at once may still be on its way: let it end before the teardown
    qtbot.waitUntil(lambda: settled(app) and not any(p.loading for p in dialog.pickers()))


def test_the_review_keys_work_while_offline(
    qtbot: Any, make_app: Any, sandbox_factory: Any
) -> None:
    server = sandbox_factory()
    app = quick_to_retry(make_app(handle=server))
    window = app.window
    chosen = choose_row(app, 0)
    go_offline(qtbot, app, server)

    qtbot.keyClick(window.grid, Qt.Key.Key_P)  # pick
    qtbot.waitUntil(lambda: app.library.review(chosen).flag.value == "pick", timeout=5_000)
    database = app.services.database
    assert database is not None
    stored = database.query("SELECT flag FROM reviews WHERE image_id = ?", (chosen,))
    assert [row["flag"] for row in stored] == ["pick"]  # committed, with no server


def test_a_picker_trying_again_keeps_saying_why_with_retry_not_loading(
    qtbot: Any, arun: Any
) -> None:
    """Offline, each load of the client takes its retries (15 s): the picker said "Loading…" for
    most of the time. The failure now stays, with Retry, until a load works."""
    attempts: list[asyncio.Future[list[PickerItem]]] = []

    async def load(_all: bool) -> list[PickerItem]:
        if not attempts:
            attempts.append(asyncio.get_running_loop().create_future())
            raise NetworkError(
                "Could not reach the Qamera service (ConnectError: connection refused)."
            )
        attempts.append(asyncio.get_running_loop().create_future())
        return await attempts[-1]  # the client still trying

    tasks = BackgroundTasks(lambda _what, _exc: None)
    picker = CataloguePicker("AI model", tasks, load)
    qtbot.addWidget(picker)
    picker.show()
    picker.reload()
    qtbot.waitUntil(lambda: picker.failed)
    failure = "Could not reach Qamera (connection refused)."
    assert picker.message().startswith(failure)
    picker.retry.click()  # or its own timer: the same reload
    qtbot.waitUntil(lambda: len(attempts) == 2)
    assert picker.loading
    assert picker.message() == f"{failure} Trying again…"
    assert picker.retry.isVisible()
    attempts[-1].set_result([PickerItem("m1", "Mia")])
    qtbot.waitUntil(lambda: picker.load_state is PickerState.READY)
    assert not picker.retry.isVisible()
    assert "Could not" not in picker.message()
    picker.stop()
    arun(tasks.cancel_all())


def test_a_window_opened_offline_shows_the_kept_listing_then_recovers_by_itself(
    qtbot: Any, make_app: Any, sandbox_factory: Any, restart: Restart, arun: Any, tmp_path: Any
) -> None:
    server = sandbox_factory()
    database, settings = tmp_path / "profile.sqlite3", tmp_path / "profile-settings.json"
    first = make_app(handle=server, database_path=database, settings_path=settings)
    chosen = choose_row(first, 5)
    assert first.services.listings is not None
    arun(first.services.listings.flush())  # the listing kept
    first.window.close()  # the choice saved, as at quitting
    server.stop()

    # the next start, the server still away: the kept listing at once, offline said
    app = quick_to_retry(
        make_app(handle=server, database_path=database, settings_path=settings, wait_loaded=False)
    )
    window = app.window
    qtbot.waitUntil(lambda: window.model.rowCount() == 40, timeout=15_000)
    qtbot.waitUntil(
        lambda: label(app).startswith("Offline · showing the listing of "), timeout=15_000
    )
    assert window.browser.current_id() == chosen
    # the review keys work, their decisions stored
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_X)  # reject
    qtbot.waitUntil(lambda: app.library.review(chosen).flag.value == "reject", timeout=5_000)
    assert app.services.database is not None
    rows = app.services.database.query("SELECT flag FROM reviews WHERE image_id = ?", (chosen,))
    assert [row["flag"] for row in rows] == ["reject"]
    current = window.browser.current_id()  # the next one, with auto-advance

    again = restart(server)
    new = add_image(again)
    wait_recovered(qtbot, app, new)
    assert window.model.rowCount() == 40 + len(new)
    assert window.browser.current_id() == current
    assert app.library.review(chosen).flag.value == "reject"


def test_thumbnails_that_failed_offline_load_when_the_server_is_back(
    qtbot: Any, make_app: Any, sandbox_factory: Any, restart: Restart
) -> None:
    server = sandbox_factory()
    app = quick_to_retry(make_app(handle=server))
    window = app.window
    go_offline(qtbot, app, server)

    def states() -> set[str]:
        size = window.grid.request_size()
        images = (window.model.image_at(row) for row in window.grid.visible_rows())
        urls = [i.thumbnail for i in images if i is not None and i.is_done and i.thumbnail]
        return {window.loader.state(url, size) for url in urls}

    # a larger size while offline: the thumbnails at that size cannot be downloaded
    window.size_slider.setValue(window.size_slider.value() + 64)
    qtbot.waitUntil(lambda: states() == {"failed"}, timeout=15_000)

    restart(server)
    # no key pressed: once the server answers again, the broken thumbnails load
    qtbot.waitUntil(lambda: states() == {"ready"}, timeout=30_000)
    qtbot.waitUntil(lambda: settled(app))
