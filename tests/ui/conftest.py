"""Widget tests against the real sandbox: a main window built by the app's own composition root.

`make_app(...)` builds through `qamera_desktop.ui.services` as the app does (`build_services`, then
`connect`: QameraClient over loopback HTTP, ThumbnailLoader with a disk cache in tmp_path, a SQLite
Database file, ShootService, MainWindow on a SettingsStore), shows the window before connecting
and (by default) waits for the first listing. Everything it made is closed at teardown.

Deliberate deviations from production, passed in as `Tuning`, for speed only:
- each client gets its own `RateBudget()`, so tests do not share the process-wide 60-a-minute
  budget of the demo key (the sandbox's own rate limit is off unless a test turns it on);
- GET retries wait at most `RETRY_SLEEP_CAP` s instead of 1, 2, 4, 8 s (the attempts still happen);
- shoot tracking polls every 0.1 s to 1 s instead of every 2 s to 20 s, at up to 600 a minute.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qamera_desktop.api import QameraClient
from qamera_desktop.core.account import account_id
from qamera_desktop.core.shoots import Shoot
from qamera_desktop.sandbox import SandboxHandle
from qamera_desktop.ui.services import ShootPolling, Tuning, build_services
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader
from tests.sandbox_fixtures import make_sandbox_fixtures
from tests.ui.helpers import App, MakeApp, make_client, wait_listed

sandbox_factory, sandbox = make_sandbox_fixtures()


@pytest.fixture
def make_app(
    qtbot: Any, arun: Any, tmp_path: Path, request: Any, sandbox_factory: Any
) -> Iterator[MakeApp]:
    # sandbox_factory is set up first so that every sandbox stops after the app's teardown
    made: list[App] = []

    def make(
        *,
        handle: SandboxHandle | None = None,
        base_url: str | None = None,
        key: str | None = None,
        settings_path: Path | None = None,
        database_path: Path | None = None,
        account: str | None = None,
        wait_loaded: bool = True,
        min_interval: float = 0.1,
        max_interval: float = 1.0,
    ) -> App:
        server = handle or request.getfixturevalue("sandbox")  # started only when used
        url = base_url or server.base_url
        api_key = key or server.demo_key
        n = len(made)
        tuning = Tuning(
            make_client=make_client,
            polling=ShootPolling(min_interval, max_interval, requests_per_minute=600.0),
        )
        services = build_services(
            settings_path or tmp_path / f"settings-{n}.json",
            tmp_path / f"thumbs-{n}",
            tuning=tuning,
        )
        window = services.window
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        app = App(services, url, api_key)
        made.append(app)

        def after_change(shoot: Shoot) -> None:
            for listener in app.after_change:
                listener(shoot)

        services.open_local(
            database_path or tmp_path / f"qamera-{n}.sqlite3", account or account_id(url, api_key)
        )
        services.connect(
            url,
            api_key,
            description="Demo sandbox",
            demo=True,
            sandbox_price_per_image=server.config.price_per_image,
            on_change=[app.changes.append, after_change],
            on_finished=[app.finished.append],
        )
        if wait_loaded:
            wait_listed(qtbot, app)
        return app

    yield make

    for app in reversed(made):
        dialog = app.window.new_shoot_dialog
        if dialog is not None:
            with contextlib.suppress(RuntimeError):  # already deleted (WA_DeleteOnClose)
                arun(dialog.aclose())
        arun(app.services.aclose())
    made.clear()
    # Collect reference cycles holding Qt objects now, on the GUI thread: left to chance, the
    # collector may run in a worker thread and delete a widget there (a segfault).
    gc.collect()


@pytest.fixture
def client(sandbox: SandboxHandle, arun: Any) -> Iterator[QameraClient]:
    """A QameraClient of the sandbox's demo account."""
    api = make_client(sandbox.base_url, sandbox.demo_key)
    yield api
    arun(api.aclose())


@pytest.fixture
def loader(tmp_path: Path, arun: Any) -> Iterator[ThumbnailLoader]:
    """A thumbnail loader with its own disk cache."""
    thumbnails = ThumbnailLoader(tmp_path / "loader-cache")
    yield thumbnails
    arun(thumbnails.aclose())
